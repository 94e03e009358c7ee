"""Limits checked at the API boundary: the sample rate and the channel count.

Arrays are checked where they are read (:class:`denoise_core.source.ArraySource`).
"""

from __future__ import annotations

import numpy as np

from .errors import AudioInputError

__all__ = ["MAX_CHANNELS", "MAX_SR", "MIN_SR", "validate_sr"]

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
