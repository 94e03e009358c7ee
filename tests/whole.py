"""Whole-array helpers built from the engine's streaming pieces, for the tests and the benchmarks.

The engine itself only streams (:class:`~denoise_core.hum.HumRemover`,
:class:`~denoise_core.filters.HighPass`); these run a piece over a whole
array in one call, so a test can measure what it does to a signal.
"""

from __future__ import annotations

import numpy as np

from denoise_core.filters import HighPass, as_channels_first, from_channels_first
from denoise_core.hum import DEFAULT_N_HARMONICS, LEAD_IN_S, HumRemover, HumReport, _check_mode, _detect
from denoise_core.loudness import TruePeakMeter
from denoise_core.validation import validate_sr

__all__ = ["DETECT_S", "high_pass", "measured_true_peak_dbtp", "remove_hum"]

#: Seconds at the start of a recording that :func:`remove_hum` detects on, when no stretch is given.
DETECT_S = 4.0


def measured_true_peak_dbtp(y: np.ndarray, sr: float) -> float:
    """True peak of a whole recording ``(n,)`` or ``(n, channels)`` in dBTP (:class:`TruePeakMeter`)."""
    x = as_channels_first(y, sr)
    meter = TruePeakMeter(sr, x.shape[0])
    meter.push(x)
    return meter.dbtp()


def high_pass(y: np.ndarray, sr: float, cutoff_hz: int) -> np.ndarray:
    """High-pass a whole recording ``(n,)`` or ``(n, channels)`` with :class:`HighPass`; float32, aligned with ``y``."""
    x = as_channels_first(y, sr)
    hp = HighPass(sr, cutoff_hz, n_channels=x.shape[0])
    out = np.concatenate([hp.push(x), hp.finish()], axis=1)
    return from_channels_first(out, y)


def remove_hum(
    y,
    sr,
    *,
    mode: str = "auto",
    n_harmonics: int = DEFAULT_N_HARMONICS,
    detect_window_s: tuple[float, float] | None = None,
) -> tuple[np.ndarray, HumReport]:
    """Detect mains hum in a recording and remove it, in one call.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        The recording.
    sr : float
        Sample rate in Hz.
    mode : {"auto", "50", "60", "off"}
        As for :func:`detect_hum`.
    n_harmonics : int
        Most harmonic lines removed, the fundamental included.
    detect_window_s : (float, float), optional
        Start and end in seconds of the stretch to detect on, e.g. the noise
        window; by default the first :data:`DETECT_S` seconds.

    Returns
    -------
    y_out : np.ndarray [shape=y.shape, dtype=float32]
        The recording without the hum (unchanged when none was removed).
    report : HumReport
        What was found and removed.
    """
    mode = _check_mode(mode)
    sr = validate_sr(sr)
    channels, shape = as_channels_first(y, sr).astype(np.float32), np.shape(y)
    n = channels.shape[-1]
    start, stop = (0.0, DETECT_S) if detect_window_s is None else detect_window_s
    stretch = channels[:, round(max(0.0, start) * sr) : round(min(stop, n / sr) * sr)]
    status, f0, _ = _detect(stretch, sr, mode, n_harmonics)
    if f0 is None:
        return channels.reshape(shape) if len(shape) == 1 else channels.T.copy(), HumReport(mode, status)
    remover = HumRemover(sr, channels.shape[0], f0, n_harmonics=n_harmonics, lead_in=channels[:, : int(LEAD_IN_S * sr)])
    out = remover.push(channels)
    remover.finish()
    return (out[0] if len(shape) == 1 else out.T.copy()), remover.report(mode)
