"""Voice engine network against onnxruntime running DeepFilterNet3's own graphs (denoise_core.voice.network).

Both run on the same features of 20 s of real noisy speech (the 48 kHz test
clip, looped); the NumPy network goes chunk by chunk as the stream runs it,
onnxruntime takes the whole sequence at once.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.voice_onnx import onnx_encoder, onnx_network
from denoise_core.voice.features import HOP_LENGTH, SR, Analysis, FeatureExtractor
from denoise_core.voice.network import Dfn3, NetworkState
from denoise_core.voice.stream import CHUNK_HOPS


@pytest.fixture(scope="module")
def features(load_data):
    y, sr = load_data("p257_089_noisy.flac")
    assert sr == SR
    y = np.resize(y, 20 * SR)
    return FeatureExtractor()(Analysis(1)(y[None])[0])


@pytest.fixture(scope="module")
def numpy_outputs(features):
    feat_erb, feat_spec = features
    network, state = Dfn3(), NetworkState()
    parts, encoded = [], []
    for start in range(0, len(feat_erb), CHUNK_HOPS):
        enc = network.encode(feat_erb[start : start + CHUNK_HOPS], feat_spec[start : start + CHUNK_HOPS], state)
        encoded.append(enc)
        parts.append((network.erb_decode(enc, state), network.df_decode(enc, state), enc.lsnr_db))
    gains, coefs, lsnr = (np.concatenate(p) for p in zip(*parts, strict=False))
    return gains, coefs, lsnr, {name: np.concatenate([getattr(e, name) for e in encoded]) for name in encoded[0]._fields}


@pytest.fixture(scope="module")
def onnx_outputs(features):
    return onnx_network(*features)


def test_twenty_seconds_of_frames(features):
    assert features[0].shape == (20 * SR // HOP_LENGTH, 32)


def test_erb_gains_match_onnxruntime(numpy_outputs, onnx_outputs):
    assert np.abs(numpy_outputs[0] - onnx_outputs[0]).max() < 1e-4


def test_deep_filter_coefficients_match_onnxruntime(numpy_outputs, onnx_outputs):
    assert np.abs(numpy_outputs[1] - onnx_outputs[1]).max() < 1e-4


def test_local_snr_matches_onnxruntime(numpy_outputs, onnx_outputs):
    assert np.abs(numpy_outputs[2] - onnx_outputs[2]).max() < 1e-3
    assert numpy_outputs[2].min() >= -15 and numpy_outputs[2].max() <= 35


@pytest.fixture(scope="module")
def onnx_encoded(features):
    return onnx_encoder(*features)


@pytest.mark.parametrize("name", ["e0", "e1", "e2", "e3", "c0", "emb"])
def test_encoder_feature_maps_match_onnxruntime(onnx_encoded, numpy_outputs, name):
    expected = onnx_encoded[name]
    assert np.abs(numpy_outputs[3][name] - expected).max() < 1e-4 * max(1.0, np.abs(expected).max())
