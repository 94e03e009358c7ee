"""Checks on audio arrays and sample rates at the API boundary."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from .errors import AudioInputError

__all__ = ["as_float_channels", "validate_sr", "MIN_SR", "MAX_SR", "MAX_CHANNELS"]

#: Lowest and highest sample rate accepted, in Hz.
MIN_SR = 8000
MAX_SR = 192000
#: Most channels accepted; a larger second axis is almost always a transposed array.
MAX_CHANNELS = 64


def validate_sr(sr) -> float:
    """Return ``sr`` as a float after checking it is a rate from 8 kHz to 192 kHz.

    Raises
    ------
    AudioInputError
        If ``sr`` is not a finite number in ``[MIN_SR, MAX_SR]`` Hz.
    """
    if isinstance(sr, bool) or not isinstance(sr, (int, float, np.integer, np.floating)):
        raise AudioInputError(f"The sample rate must be a number in Hz, got {sr!r}.")
    if not np.isfinite(sr) or not MIN_SR <= sr <= MAX_SR:
        raise AudioInputError(
            f"The sample rate is {sr!r} Hz; it must be between {MIN_SR} and {MAX_SR} Hz."
        )
    return float(sr)


def as_float_channels(y) -> Tuple[np.ndarray, Tuple[int, ...]]:
    """Audio as float32 ``(n_channels, n_samples)`` in [-1, 1] full scale.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio in soundfile's layout. Integer types are scaled to full scale
        (``uint8`` is offset by 128, as in 8-bit WAV); float types are taken
        as they are.

    Returns
    -------
    channels : np.ndarray [shape=(n_channels, n), dtype=float32]
    shape : tuple
        The input's shape, to give the result the same one.

    Raises
    ------
    AudioInputError
        If the array is empty, not 1-D or 2-D, has more than 64 channels, is
        not real numbers, or holds NaN or infinite samples.
    """
    y = np.asarray(y)
    if y.dtype == bool or not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise AudioInputError(f"Audio must be an array of real numbers, got dtype {y.dtype}.")
    if y.ndim not in (1, 2):
        raise AudioInputError(
            f"Audio must have shape (samples,) or (samples, channels), got {y.ndim} dimensions {y.shape}."
        )
    if y.shape[0] == 0 or y.size == 0:
        raise AudioInputError("The audio is empty (no samples).")
    if y.ndim == 2 and y.shape[1] > MAX_CHANNELS:
        raise AudioInputError(
            f"Audio has {y.shape[1]} channels (shape {y.shape}); at most {MAX_CHANNELS} are supported. "
            "Arrays are (samples, channels): transpose a (channels, samples) array first."
        )
    if np.issubdtype(y.dtype, np.integer):
        info = np.iinfo(y.dtype)
        offset = (int(info.max) + 1) // 2 if info.min == 0 else 0
        scale = float(int(info.max) + 1 - offset)
        data = ((y.astype(np.float64) - offset) / scale).astype(np.float32)
    else:
        data = y.astype(np.float32)
        if not np.isfinite(data).all():
            bad = int(np.flatnonzero((~np.isfinite(data.reshape(data.shape[0], -1))).any(axis=1))[0])
            raise AudioInputError(
                f"The audio holds invalid samples (NaN or infinite values), the first at sample {bad}."
            )
    channels = data.reshape(1, -1) if data.ndim == 1 else data.T
    return np.ascontiguousarray(channels), y.shape
