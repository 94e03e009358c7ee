"""Voice engine layers and features, one at a time (denoise_core.voice.layers, .features).

Each layer is checked against onnxruntime running the same ONNX operator
(one-node graphs with random weights), on a sequence fed in two chunks, so
the carried history and states are checked too. The features are checked
against a frame-by-frame float32 transcription of upstream ``lib.rs``.
"""

from __future__ import annotations

import itertools

import numpy as np
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from denoise_core.voice.features import (
    HOP_LENGTH,
    N_FFT,
    NB_DF,
    Analysis,
    FeatureExtractor,
    Synthesis,
    erb_band_widths,
    norm_alpha,
    vorbis_taper,
)
from denoise_core.voice.layers import (
    GRU,
    causal_conv_3x3,
    causal_conv_time,
    conv_kernel_matrix,
    depthwise_conv_freq,
    depthwise_conv_transpose_freq,
    grouped_linear,
    pointwise_conv,
)

TOL = 2e-6


def run_onnx(nodes, inputs: dict, weights: dict) -> np.ndarray:
    """Run a graph of ``nodes`` on ``inputs`` (its output is named ``y``) with onnxruntime."""
    graph = helper.make_graph(
        nodes,
        "layer",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, x.shape) for name, x in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(w), name) for name, w in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 7
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["y"], inputs)[0]


def nchw(x: np.ndarray) -> np.ndarray:
    """(frames, bins, channels) to ONNX's (1, channels, frames, bins)."""
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def from_nchw(y: np.ndarray) -> np.ndarray:
    return y[0].transpose(1, 2, 0)


def causal_pad_node(frames: int) -> list:
    """A Pad of ``frames`` zero frames in front of the time axis, as the graphs pad."""
    return [helper.make_node("Pad", ["x", "pads"], ["xp"], mode="constant")], {
        "pads": np.array([0, 0, frames, 0, 0, 0, 0, 0], dtype=np.int64)
    }


def randn(rng, *shape) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def test_causal_3x3_grouped_conv_matches_onnx_in_chunks(rng):
    x, weight, bias = randn(rng, 23, 12, 2), randn(rng, 8, 1, 3, 3), randn(rng, 8)
    nodes, consts = causal_pad_node(2)
    nodes.append(helper.make_node("Conv", ["xp", "w", "b"], ["y"], group=2, kernel_shape=[3, 3], pads=[0, 1, 0, 1]))
    expected = from_nchw(run_onnx(nodes, {"x": nchw(x)}, {**consts, "w": weight, "b": bias}))
    kernel = conv_kernel_matrix(weight, 2)
    first = causal_conv_3x3(x[:9], np.zeros((2, 12, 2), np.float32), kernel, bias)
    second = causal_conv_3x3(x[9:], x[7:9], kernel, bias)
    assert np.abs(np.concatenate([first, second]) - expected).max() < TOL * 10


def test_causal_time_conv_matches_onnx_in_chunks(rng):
    x, weight = randn(rng, 17, 6, 8), randn(rng, 4, 4, 5, 1)
    nodes, consts = causal_pad_node(4)
    nodes.append(helper.make_node("Conv", ["xp", "w"], ["y"], group=2, kernel_shape=[5, 1]))
    expected = from_nchw(run_onnx(nodes, {"x": nchw(x)}, {**consts, "w": weight}))
    kernel = conv_kernel_matrix(weight, 2)
    first = causal_conv_time(x[:3], np.zeros((4, 6, 8), np.float32), kernel)
    second = causal_conv_time(x[3:], np.concatenate([np.zeros((1, 6, 8), np.float32), x[:3]]), kernel)
    assert np.abs(np.concatenate([first, second]) - expected).max() < TOL * 10


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("n_freqs", [8, 32])
def test_depthwise_conv_along_frequency_matches_onnx(rng, stride, n_freqs):
    x, weight = randn(rng, 5, n_freqs, 4), randn(rng, 4, 1, 1, 3)
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=4, kernel_shape=[1, 3], pads=[0, 1, 0, 1], strides=[1, stride])
    expected = from_nchw(run_onnx([node], {"x": nchw(x)}, {"w": weight}))
    assert np.abs(depthwise_conv_freq(x, weight, stride) - expected).max() < TOL


def test_depthwise_transposed_conv_doubles_bins_as_onnx_does(rng):
    x, weight = randn(rng, 5, 8, 4), randn(rng, 4, 1, 1, 3)
    node = helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], group=4, kernel_shape=[1, 3], pads=[0, 1, 0, 1], strides=[1, 2], output_padding=[0, 1]
    )
    expected = from_nchw(run_onnx([node], {"x": nchw(x)}, {"w": weight}))
    assert expected.shape == (5, 16, 4)
    assert np.abs(depthwise_conv_transpose_freq(x, weight) - expected).max() < TOL


def test_pointwise_conv_matches_onnx(rng):
    x, weight, bias = randn(rng, 5, 7, 6), randn(rng, 3, 6, 1, 1), randn(rng, 3)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[1, 1])
    expected = from_nchw(run_onnx([node], {"x": nchw(x)}, {"w": weight, "b": bias}))
    assert np.abs(pointwise_conv(x, conv_kernel_matrix(weight, 1), bias) - expected).max() < TOL


def test_grouped_linear_matches_the_graphs_einsum(rng):
    x, weight = randn(rng, 9, 4 * 6), randn(rng, 4, 6, 5)
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["xg"]),
        helper.make_node("Einsum", ["xg", "w"], ["yg"], equation="btgi,gih->btgh"),
        helper.make_node("Reshape", ["yg", "flat"], ["y"]),
    ]
    weights = {"w": weight, "shape": np.array([1, 9, 4, 6], np.int64), "flat": np.array([1, 9, 20], np.int64)}
    expected = run_onnx(nodes, {"x": x[None]}, weights)[0]
    assert np.abs(grouped_linear(x, weight) - expected).max() < TOL


def test_gru_matches_onnx_gru_with_linear_before_reset_in_chunks(rng):
    n_in, hidden, n_frames = 8, 16, 30
    x = randn(rng, n_frames, n_in)
    W, R, B, h0 = 0.5 * randn(rng, 1, 3 * hidden, n_in), 0.5 * randn(rng, 1, 3 * hidden, hidden), randn(rng, 1, 6 * hidden), randn(rng, 1, 1, hidden)
    node = helper.make_node("GRU", ["x", "W", "R", "B", "", "h0"], ["y"], hidden_size=hidden, linear_before_reset=1)
    expected = run_onnx([node], {"x": x[:, None]}, {"W": W, "R": R, "B": B, "h0": h0})[:, 0, 0]
    gru, h = GRU(W, R, B), h0[0, 0].copy()
    out = np.concatenate([gru(x[:7], h), gru(x[7:], h)])
    assert np.abs(out - expected).max() < 5e-6
    assert np.array_equal(h, out[-1])


def test_erb_bands_are_deepfilternet3s():
    expected = [2] * 13 + [5, 5, 7, 7, 8, 10, 12, 13, 15, 18, 20, 24, 28, 31, 37, 42, 50, 56, 67]
    assert erb_band_widths().tolist() == expected


def test_vorbis_taper_is_power_complementary_and_alpha_is_099():
    w = vorbis_taper().astype(np.float64)
    assert np.abs(w[:HOP_LENGTH] ** 2 + w[HOP_LENGTH:] ** 2 - 1).max() < 1e-6
    assert norm_alpha() == np.float32(0.99)


def test_analysis_then_synthesis_returns_the_input_one_hop_late_in_any_chunks(rng):
    y = randn(rng, 2, 20 * HOP_LENGTH)
    analysis, synthesis = Analysis(2), Synthesis(2)
    out = np.concatenate([synthesis(analysis(y[:, : 3 * HOP_LENGTH])), synthesis(analysis(y[:, 3 * HOP_LENGTH :]))], axis=1)
    assert np.abs(out[:, HOP_LENGTH:] - y[:, :-HOP_LENGTH]).max() < 2e-6
    assert np.abs(out[:, :HOP_LENGTH]).max() < 1e-6


def reference_features(spec: np.ndarray):
    """Upstream ``feat_erb`` and ``feat_cplx``, frame by frame in float32."""
    f32, alpha = np.float32, np.float32(0.99)
    widths = erb_band_widths()
    edges = np.concatenate([[0], np.cumsum(widths)])
    mean = (f32(-60) + np.arange(32, dtype=f32) * f32(-30 / 31)).astype(f32)
    unit = (f32(0.001) + np.arange(NB_DF, dtype=f32) * f32(-0.0009 / 95)).astype(f32)
    erb_out, spec_out = [], []
    for frame in spec:
        power = (frame.real * frame.real + frame.imag * frame.imag).astype(f32)
        bands = np.array([power[a:b].sum(dtype=f32) * (f32(1) / f32(b - a)) for a, b in itertools.pairwise(edges)], f32)
        db = (np.log10(bands + f32(1e-10)) * f32(10)).astype(f32)
        mean = (db * (f32(1) - alpha) + mean * alpha).astype(f32)
        erb_out.append((db - mean) / f32(40))
        unit = (np.abs(frame[:NB_DF]) * (f32(1) - alpha) + unit * alpha).astype(f32)
        spec_out.append(frame[:NB_DF] / np.sqrt(unit))
    return np.array(erb_out), np.array(spec_out)


def test_features_match_a_frame_by_frame_transcription_of_lib_rs_in_chunks(load_data):
    y, _sr = load_data("p257_089_noisy.flac")
    spec = Analysis(1)(y[None, : 150 * HOP_LENGTH])[0]
    extractor = FeatureExtractor()
    parts = [extractor(spec[:40]), extractor(spec[40:])]
    feat_erb, feat_spec = (np.concatenate(p) for p in zip(*parts, strict=False))
    want_erb, want_spec = reference_features(spec)
    assert np.abs(feat_erb - want_erb).max() < 2e-6
    assert np.abs(feat_spec - want_spec).max() < 2e-5 * np.abs(want_spec).max()
    assert spec.shape == (150, N_FFT // 2 + 1)
