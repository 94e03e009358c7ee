"""What the gate did, in numbers a person can read, accumulated block by block."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import NoiseProfile

__all__ = ["DenoiseReport", "ReportAccumulator"]


@dataclass(frozen=True)
class DenoiseReport:
    """Summary of one denoising run.

    Attributes
    ----------
    noise_window_s : (float, float)
        Stretch in seconds the noise profile was measured on.
    noise_method : str
        ``"window"`` (given by the caller) or ``"quietest stretch"`` (found automatically).
    snr_before_db, snr_after_db : float
        Estimated signal-to-noise ratio in dB of the input and of the result,
        taking the noise profile as the noise (after gating, the noise is the
        profile times the mean squared gain of each bin). ``inf`` for a
        recording with no noise at all (digital silence), ``-inf`` when
        nothing rises above the noise.
    noise_removed_db : float
        By how many dB the estimated noise power went down.
    loudness_before_lufs, loudness_after_lufs : float or None
        Integrated loudness (ITU-R BS.1770) of the input and of the result in
        LUFS (``-inf`` for silence), measured when the loudness is normalised;
        ``None`` otherwise.
    true_peak_dbtp : float or None
        4x-oversampled peak of the normalised result in dBTP, or ``None``.
    hum_hz : float or None
        Fundamental in Hz of the mains hum removed, or ``None`` (none found, or off).
    """

    noise_window_s: tuple[float, float]
    noise_method: str
    snr_before_db: float
    snr_after_db: float
    noise_removed_db: float
    loudness_before_lufs: float | None = None
    loudness_after_lufs: float | None = None
    true_peak_dbtp: float | None = None
    hum_hz: float | None = None


def _db(x: float) -> float:
    return float(10.0 * np.log10(max(x, 1e-20)))


def _snr_db(total: float, noise: float) -> float:
    """SNR in dB of a mixture of power ``total`` holding noise of power ``noise``; -inf if nothing rises above it."""
    return _db(total - noise) - _db(noise) if total > noise else float("-inf")


class ReportAccumulator:
    """Sums over frames that give a :class:`DenoiseReport` at the end.

    Parameters
    ----------
    n_freqs : int
        Number of frequency bins.
    """

    def __init__(self, n_freqs: int) -> None:
        self._power_in = 0.0
        self._power_out = 0.0
        self._gain_sq = np.zeros(n_freqs)
        self._n_frames = 0

    def add(self, power: np.ndarray, gain: np.ndarray) -> None:
        """Add frames: ``power`` and ``gain`` of shape ``(n_channels, n_freqs, n_frames)``."""
        gain_sq = gain * gain  # products in float32, sums in float64
        n_channels = power.shape[0]
        self._power_in += float(power.sum(dtype=np.float64)) / n_channels
        self._power_out += float((power * gain_sq).sum(dtype=np.float64)) / n_channels
        self._gain_sq += gain_sq.sum(axis=2, dtype=np.float64).mean(axis=0)
        self._n_frames += power.shape[-1]

    def report(self, noise: NoiseProfile) -> DenoiseReport:
        """The report for all frames added so far."""
        noise_in = float(noise.power.sum())
        if noise_in <= 0.0 or self._n_frames == 0:
            return DenoiseReport(noise.window_s, noise.method, float("inf"), float("inf"), 0.0, hum_hz=noise.hum_hz)
        n = self._n_frames
        noise_out = float((noise.power * self._gain_sq / n).sum())
        return DenoiseReport(
            noise_window_s=noise.window_s,
            noise_method=noise.method,
            snr_before_db=_snr_db(self._power_in / n, noise_in),
            snr_after_db=_snr_db(self._power_out / n, noise_out),
            noise_removed_db=_db(noise_in) - _db(noise_out),
            hum_hz=noise.hum_hz,
        )
