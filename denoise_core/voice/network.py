"""DeepFilterNet3's three graphs (encoder, ERB decoder, DF decoder) in NumPy.

:class:`Dfn3` runs them over a chunk of frames and carries, in a
:class:`NetworkState`, everything that links one chunk to the next: the
input frames the causal convolutions look back at and the five GRU states.
Feeding a stream chunk by chunk gives what the graphs give on the whole
sequence at once (and what the reference runtime's pulsed graphs give frame
by frame), to float rounding: the graphs are causal, so frame ``t``'s outputs
depend on the features of frames ``0 .. t`` only. The lookahead (two frames)
is applied outside the network, by :mod:`denoise_core.voice.deepfilter`.

The graphs' operators are followed one by one, except that the two grouped
convolutions that feed a 1x1 convolution directly (``df_conv0`` in the
encoder, ``df_convp`` in the DF decoder) are folded into it, one matrix
product instead of two (the same linear map; only the rounding differs).

Weights come from ``dfn3.npz`` beside this module (written by
:mod:`denoise_core.voice.convert`; MIT or Apache-2.0, see the licence files
beside it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .features import NB_DF, NB_ERB
from .layers import (
    GRU,
    causal_conv_3x3,
    causal_conv_time,
    conv_kernel_matrix,
    depthwise_conv_freq,
    depthwise_conv_transpose_freq,
    grouped_linear,
    pointwise_conv,
    relu,
)

__all__ = ["DF_ORDER", "LSNR_MAX_DB", "LSNR_MIN_DB", "WEIGHTS_PATH", "Dfn3", "EncoderOutput", "NetworkState", "load_weights"]

#: The converted weights shipped with the package.
WEIGHTS_PATH = Path(__file__).resolve().parent / "dfn3.npz"
#: Complex taps of the deep filter per bin.
DF_ORDER = 5
#: Range of the encoder's local SNR estimate in dB.
LSNR_MIN_DB = -15.0
LSNR_MAX_DB = 35.0
#: Hidden size of every GRU and width of every convolution.
_HIDDEN = 256
_CONV_CH = 64
#: Frames the time convolution of the DF decoder looks back.
_DF_CONVP_LOOKBACK = 4


@lru_cache(maxsize=2)
def load_weights(path: Path = WEIGHTS_PATH) -> dict[str, np.ndarray]:
    """The network's float32 weights and settings, read once.

    Parameters
    ----------
    path : Path
        A file written by :func:`denoise_core.voice.convert.write_npz`.

    Returns
    -------
    dict of str to np.ndarray
        Keyed as :data:`denoise_core.voice.convert.WEIGHT_SOURCES` and ``config.<key>``.

    Raises
    ------
    ValueError
        If the file's settings are not DeepFilterNet3's.
    """
    with np.load(path, allow_pickle=False) as archive:
        weights = {key: archive[key] for key in archive.files}
    expected = {
        "sr": 48000, "fft_size": 960, "hop_size": 480, "nb_erb": NB_ERB, "nb_df": NB_DF, "df_order": DF_ORDER,
        "df_lookahead": 2, "conv_lookahead": 2, "norm_tau": 1, "min_nb_erb_freqs": 2,
        "lsnr_min": LSNR_MIN_DB, "lsnr_max": LSNR_MAX_DB,
    }  # fmt: skip
    for key, value in expected.items():
        if float(weights[f"config.{key}"]) != value:
            raise ValueError(f"{path}: config {key} is {float(weights[f'config.{key}'])}, expected {value}.")
    return weights


class EncoderOutput(NamedTuple):
    """The encoder's outputs for a chunk of frames (layout: frames, bins, channels)."""

    #: [shape=(n_frames, 32, 64)] first ERB convolution.
    e0: np.ndarray
    #: [shape=(n_frames, 16, 64)]
    e1: np.ndarray
    #: [shape=(n_frames, 8, 64)]
    e2: np.ndarray
    #: [shape=(n_frames, 8, 64)]
    e3: np.ndarray
    #: [shape=(n_frames, 512)] embedding after the encoder's GRU.
    emb: np.ndarray
    #: [shape=(n_frames, 96, 64)] first convolution of the complex features.
    c0: np.ndarray
    #: [shape=(n_frames,)] local SNR in dB, in [-15, 35].
    lsnr_db: np.ndarray


@dataclass
class NetworkState:
    """What carries from one chunk of frames to the next (all zeros at the start of a stream)."""

    erb_history: np.ndarray = field(default_factory=lambda: np.zeros((2, NB_ERB, 1), np.float32))
    spec_history: np.ndarray = field(default_factory=lambda: np.zeros((2, NB_DF, 2), np.float32))
    c0_history: np.ndarray = field(default_factory=lambda: np.zeros((_DF_CONVP_LOOKBACK, NB_DF, _CONV_CH), np.float32))
    enc_h: np.ndarray = field(default_factory=lambda: np.zeros(_HIDDEN, np.float32))
    erb_h: np.ndarray = field(default_factory=lambda: np.zeros((2, _HIDDEN), np.float32))
    df_h: np.ndarray = field(default_factory=lambda: np.zeros((2, _HIDDEN), np.float32))


class Dfn3:
    """DeepFilterNet3's network.

    Parameters
    ----------
    weights : dict of str to np.ndarray, optional
        As :func:`load_weights` returns; by default the shipped weights.
    """

    def __init__(self, weights: dict[str, np.ndarray] | None = None) -> None:
        w = load_weights() if weights is None else weights
        self.weights = w
        self.enc_gru = GRU(w["enc.emb_gru.gru0.W"], w["enc.emb_gru.gru0.R"], w["enc.emb_gru.gru0.B"])
        self.erb_grus = [GRU(*(w[f"erb_dec.emb_gru.gru{i}.{m}"] for m in "WRB")) for i in range(2)]
        self.df_grus = [GRU(*(w[f"df_dec.df_gru.gru{i}.{m}"] for m in "WRB")) for i in range(2)]
        # Convolution weights as (k_time, k_freq, c_in, c_out) matrices. A grouped convolution that
        # feeds a 1x1 convolution straight away (no bias or activation between) is folded into it.
        self.kernels = {
            "enc.erb_conv0": conv_kernel_matrix(w["enc.erb_conv0.weight"], 1),
            "enc.df_conv0": conv_kernel_matrix(w["enc.df_conv0.grouped"], 2) @ self._pointwise("enc.df_conv0"),
            "df_dec.df_convp": conv_kernel_matrix(w["df_dec.df_convp.grouped"], 2) @ self._pointwise("df_dec.df_convp"),
            "erb_dec.conv0_out": conv_kernel_matrix(w["erb_dec.conv0_out.weight"], 1)[0],
        }
        for name in ("enc.erb_conv1", "enc.erb_conv2", "enc.erb_conv3", "enc.df_conv1"):
            self.kernels[name] = conv_kernel_matrix(w[f"{name}.pointwise"], 1)
        for name in ("erb_dec.convt3", "erb_dec.convt2", "erb_dec.convt1"):
            self.kernels[name] = conv_kernel_matrix(w[f"{name}.pointwise"], 1)

    def _pointwise(self, name: str) -> np.ndarray:
        """The 1x1 convolution ``name.pointwise`` as a (c_in, c_out) matrix."""
        return conv_kernel_matrix(self.weights[f"{name}.pointwise"], 1)[0, 0]

    def _sep_conv(self, x: np.ndarray, name: str, stride: int) -> np.ndarray:
        """Depthwise convolution along frequency, then 1x1 convolution with bias, then ReLU."""
        y = depthwise_conv_freq(x, self.weights[f"{name}.depthwise"], stride)
        return relu(pointwise_conv(y, self.kernels[name], self.weights[f"{name}.bias"]))

    def _skip(self, x: np.ndarray, name: str) -> np.ndarray:
        """The ERB decoder's depthwise 1x1 convolution with bias, then ReLU."""
        return relu(x * self.weights[f"{name}.weight"][:, 0, 0, 0] + self.weights[f"{name}.bias"])

    def encode(self, feat_erb: np.ndarray, feat_spec: np.ndarray, state: NetworkState) -> EncoderOutput:
        """The encoder graph (``enc.onnx``) over a chunk.

        Parameters
        ----------
        feat_erb : np.ndarray [shape=(n_frames, 32), dtype=float32]
        feat_spec : np.ndarray [shape=(n_frames, 96), dtype=complex64]
        state : NetworkState
            Updated in place.
        """
        w = self.weights
        n_frames = feat_erb.shape[0]
        x_erb = feat_erb[:, :, None]
        e0 = relu(causal_conv_3x3(x_erb, state.erb_history, self.kernels["enc.erb_conv0"], w["enc.erb_conv0.bias"]))
        state.erb_history = np.concatenate([state.erb_history, x_erb])[-2:]
        e1 = self._sep_conv(e0, "enc.erb_conv1", 2)
        e2 = self._sep_conv(e1, "enc.erb_conv2", 2)
        e3 = self._sep_conv(e2, "enc.erb_conv3", 1)

        x_spec = np.stack([feat_spec.real, feat_spec.imag], axis=-1)
        c0 = relu(causal_conv_3x3(x_spec, state.spec_history, self.kernels["enc.df_conv0"], w["enc.df_conv0.bias"]))
        state.spec_history = np.concatenate([state.spec_history, x_spec])[-2:]
        c1 = self._sep_conv(c0, "enc.df_conv1", 2)
        c_emb = relu(grouped_linear(c1.reshape(n_frames, -1), w["enc.df_fc_emb.weight"]))

        emb = e3.reshape(n_frames, -1) + c_emb
        emb = relu(grouped_linear(emb, w["enc.emb_gru.linear_in"]))
        emb = self.enc_gru(emb, state.enc_h)
        emb = relu(grouped_linear(emb, w["enc.emb_gru.linear_out"]))
        logit = emb @ w["enc.lsnr_fc.weight"][:, 0] + w["enc.lsnr_fc.bias"][0]
        lsnr = np.float32(1.0) / (np.float32(1.0) + np.exp(-logit))
        lsnr_db = lsnr * np.float32(LSNR_MAX_DB - LSNR_MIN_DB) + np.float32(LSNR_MIN_DB)
        return EncoderOutput(e0, e1, e2, e3, emb, c0, lsnr_db.astype(np.float32))

    def erb_decode(self, enc: EncoderOutput, state: NetworkState) -> np.ndarray:
        """The ERB decoder graph (``erb_dec.onnx``): gains per ERB band.

        Returns
        -------
        np.ndarray [shape=(n_frames, 32), dtype=float32]
            Gains in [0, 1] for the spectrum two frames before each frame.
        """
        w = self.weights
        n_frames = enc.emb.shape[0]
        x = relu(grouped_linear(enc.emb, w["erb_dec.emb_gru.linear_in"]))
        for gru, h in zip(self.erb_grus, state.erb_h, strict=False):
            x = gru(x, h)
        x = relu(grouped_linear(x, w["erb_dec.emb_gru.linear_out"])).reshape(n_frames, NB_ERB // 4, _CONV_CH)
        x = self._skip(enc.e3, "erb_dec.conv3p") + x
        x = self._sep_conv(x, "erb_dec.convt3", 1)
        x = self._skip(enc.e2, "erb_dec.conv2p") + x
        x = depthwise_conv_transpose_freq(x, w["erb_dec.convt2.depthwise"])
        x = relu(pointwise_conv(x, self.kernels["erb_dec.convt2"], w["erb_dec.convt2.bias"]))
        x = self._skip(enc.e1, "erb_dec.conv1p") + x
        x = depthwise_conv_transpose_freq(x, w["erb_dec.convt1.depthwise"])
        x = relu(pointwise_conv(x, self.kernels["erb_dec.convt1"], w["erb_dec.convt1.bias"]))
        x = self._skip(enc.e0, "erb_dec.conv0p") + x
        padded = np.pad(x, ((0, 0), (1, 1), (0, 0)))
        kernel = self.kernels["erb_dec.conv0_out"][..., 0]
        logit = padded[:, :-2] @ kernel[0] + padded[:, 1:-1] @ kernel[1] + padded[:, 2:] @ kernel[2]
        logit += w["erb_dec.conv0_out.bias"][0]
        return (np.float32(1.0) / (np.float32(1.0) + np.exp(-logit))).astype(np.float32)

    def df_decode(self, enc: EncoderOutput, state: NetworkState) -> np.ndarray:
        """The DF decoder graph (``df_dec.onnx``): deep-filter coefficients.

        Returns
        -------
        np.ndarray [shape=(n_frames, 96, 5), dtype=complex64]
            Taps for the spectra from four frames before each frame to the frame itself.
        """
        w = self.weights
        n_frames = enc.emb.shape[0]
        x = relu(grouped_linear(enc.emb, w["df_dec.df_gru.linear_in"]))
        for gru, h in zip(self.df_grus, state.df_h, strict=False):
            x = gru(x, h)
        x = x + grouped_linear(enc.emb, w["df_dec.df_skip.weight"])
        conv = relu(causal_conv_time(enc.c0, state.c0_history, self.kernels["df_dec.df_convp"], w["df_dec.df_convp.bias"]))
        state.c0_history = np.concatenate([state.c0_history, enc.c0])[-_DF_CONVP_LOOKBACK:]
        coefs = np.tanh(grouped_linear(x, w["df_dec.df_out.weight"])).reshape(n_frames, NB_DF, 2 * DF_ORDER)
        coefs += conv
        return coefs.reshape(n_frames, NB_DF, DF_ORDER, 2).view(np.complex64)[..., 0]

    def __call__(
        self, feat_erb: np.ndarray, feat_spec: np.ndarray, state: NetworkState
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All three graphs over a chunk.

        Parameters
        ----------
        feat_erb : np.ndarray [shape=(n_frames, 32), dtype=float32]
        feat_spec : np.ndarray [shape=(n_frames, 96), dtype=complex64]
        state : NetworkState
            Updated in place.

        Returns
        -------
        gains : np.ndarray [shape=(n_frames, 32), dtype=float32]
        coefs : np.ndarray [shape=(n_frames, 96, 5), dtype=complex64]
        lsnr_db : np.ndarray [shape=(n_frames,), dtype=float32]
        """
        enc = self.encode(feat_erb, feat_spec, state)
        return self.erb_decode(enc, state), self.df_decode(enc, state), enc.lsnr_db
