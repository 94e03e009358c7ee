"""Pooled pictures of a spectrogram held in memory, for the figure tests.

The app never holds a whole STFT (:func:`ui.pooling.audio_spectrogram` pools it
chunk by chunk from the samples); these tests build pictures of 30-minute
recordings from a zero-copy stand-in STFT, through the same pooling.
"""

from __future__ import annotations

import numpy as np

from ui import pooling


def pool_spectrogram(
    spec: np.ndarray, config, *, gain: np.ndarray | None = None, max_columns: int = pooling.MAX_TIME_COLUMNS
) -> pooling.PooledSpectrogram:
    """The picture of ``|spec * gain|^2`` (channel mean, max-pooled to at most ``max_columns``)."""
    n_channels, n_freqs, n_frames = spec.shape

    def frame_power(f0: int, f1: int) -> np.ndarray:
        block = spec[:, :, f0:f1]
        power = block.real**2 + block.imag**2
        if gain is not None:
            power *= np.square(gain[:, :, f0:f1], dtype=np.float32)
        return power.mean(axis=0)

    return pooling._pool(frame_power, n_frames, n_channels * n_freqs, config, max_columns)
