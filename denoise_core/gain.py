"""Time-frequency gain: how much of each STFT bin to keep.

The gain is the optimally-modified log-spectral amplitude estimator (OM-LSA,
Cohen 2001) on top of the decision-directed a priori SNR (Ephraim and Malah
1984/1985):

* ``gamma = |Y|^2 / lambda`` is the a posteriori SNR of a bin, with
  ``lambda`` the noise power raised by the ``threshold_db`` margin;
* ``xi = alpha * |S_prev|^2 / lambda + (1 - alpha) * max(gamma - 1, 0)`` is
  the decision-directed a priori SNR, floored at ``XI_MIN_DB``; its heavy
  smoothing in noise-only bins is what suppresses musical noise;
* ``G_lsa = xi / (1 + xi) * exp(E1(v) / 2)`` with ``v = gamma * xi / (1 + xi)``
  is the MMSE log-spectral-amplitude gain;
* ``p = 1 / (1 + q / (1 - q) * (1 + xi) * exp(-v))`` is the probability that
  the bin holds speech, and the final gain ``G = G_lsa**p * G_min**(1 - p)``
  falls to ``G_min`` (the ``reduction_db`` floor) where speech is absent.

The gain is then smoothed over frequency and time (:func:`smooth_gain`) and
kept between ``G_min`` and 1, so no bin is ever attenuated by more than
``reduction_db``.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

__all__ = ["expint_e1", "lsa_gain", "spectral_gain", "smooth_gain", "XI_MIN_DB", "DD_ALPHA", "SPEECH_ABSENCE_PRIOR"]

#: Floor on the a priori SNR in dB.
XI_MIN_DB = -25.0
#: Weight of the previous frame's clean-speech estimate in the decision-directed rule.
DD_ALPHA = 0.98
#: A priori probability that a bin holds no speech.
SPEECH_ABSENCE_PRIOR = 0.5

# E1 on a log grid for the LSA gain: exp(E1(v)/2) is smooth in log v, and
# within 1e-6 of 1 beyond v = 30.
_LOG_V = np.linspace(np.log(1e-10), np.log(30.0), 2048)


def expint_e1(x: np.ndarray) -> np.ndarray:
    """Exponential integral ``E1(x)`` for ``x > 0`` (relative error below 5e-7).

    Uses the rational approximations 5.1.53 (``x <= 1``) and 5.1.56 (``x > 1``)
    of Abramowitz and Stegun.
    """
    x = np.asarray(x, dtype=np.float64)
    small = np.minimum(x, 1.0)
    e_small = (
        -np.log(small)
        - 0.57721566
        + small * (0.99999193 + small * (-0.24991055 + small * (0.05519968 + small * (-0.00976004 + small * 0.00107857))))
    )
    big = np.maximum(x, 1.0)
    num = big**4 + 8.5733287401 * big**3 + 18.0590169730 * big**2 + 8.6347608925 * big + 0.2677737343
    den = big**4 + 9.5733223454 * big**3 + 25.6329561486 * big**2 + 21.0996530827 * big + 3.9584969228
    e_big = num / den / (big * np.exp(big))
    return np.where(x <= 1.0, e_small, e_big)


_LOG_HALF_EXP_E1 = 0.5 * expint_e1(np.exp(_LOG_V))


def lsa_gain(xi: np.ndarray, v: np.ndarray) -> np.ndarray:
    """MMSE log-spectral-amplitude gain ``xi / (1 + xi) * exp(E1(v) / 2)``.

    Parameters
    ----------
    xi : np.ndarray
        A priori SNR (linear power ratio, > 0).
    v : np.ndarray
        ``gamma * xi / (1 + xi)``, same shape as ``xi``.
    """
    log_v = np.log(np.clip(v, 1e-10, 30.0))
    return xi / (1.0 + xi) * np.exp(np.interp(log_v, _LOG_V, _LOG_HALF_EXP_E1))


def spectral_gain(
    power: np.ndarray,
    noise_power: np.ndarray,
    *,
    threshold_db: float,
    reduction_db: float,
    state: Optional[np.ndarray] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """OM-LSA gain of every bin, frame by frame (before smoothing).

    Parameters
    ----------
    power : np.ndarray [shape=(n_channels, n_freqs, n_frames)]
        Squared STFT magnitudes of the noisy signal.
    noise_power : np.ndarray [shape=(n_freqs,)]
        Noise power per bin (from a :class:`~denoise_core.noise.NoiseProfile`).
    threshold_db : float
        Margin in dB added to the noise power: a bin must rise this far above
        the noise floor before it counts as signal. Higher removes more.
    reduction_db : float
        Largest attenuation in dB; the gain never goes below
        ``10 ** (-reduction_db / 20)``.
    state : np.ndarray [shape=(n_channels, n_freqs)], optional
        Clean-speech power estimate of the frame before ``power[..., 0]``
        (as returned by a previous call), to continue a stream.

    Returns
    -------
    gain : np.ndarray [shape=power.shape, dtype=float32]
        Gain between ``10 ** (-reduction_db / 20)`` and 1.
    state : np.ndarray [shape=(n_channels, n_freqs)]
        Clean-speech power estimate of the last frame.
    """
    n_channels, n_freqs, n_frames = power.shape
    lam = np.maximum(np.asarray(noise_power, dtype=np.float64) * 10 ** (threshold_db / 10), 1e-30)
    g_min = 10 ** (-reduction_db / 20)
    xi_min = 10 ** (XI_MIN_DB / 10)
    prior_ratio = SPEECH_ABSENCE_PRIOR / (1.0 - SPEECH_ABSENCE_PRIOR)
    log_g_min = np.log(g_min)
    gain = np.empty(power.shape, dtype=np.float32)
    prev = np.zeros((n_channels, n_freqs)) if state is None else np.asarray(state, dtype=np.float64)
    gamma_all = np.minimum(power / lam[:, None], 1e8)
    for t in range(n_frames):
        gamma = gamma_all[:, :, t]
        xi = DD_ALPHA * prev / lam + (1.0 - DD_ALPHA) * np.maximum(gamma - 1.0, 0.0)
        np.maximum(xi, xi_min, out=xi)
        ratio = xi / (1.0 + xi)
        v = gamma * ratio
        g_lsa = lsa_gain(xi, v)
        p = 1.0 / (1.0 + prior_ratio * (1.0 + xi) * np.exp(-np.minimum(v, 500.0)))
        g = np.exp(p * np.log(np.maximum(g_lsa, 1e-30)) + (1.0 - p) * log_g_min)
        gain[:, :, t] = np.clip(g, g_min, 1.0)
        prev = np.minimum(g_lsa, 1.0) ** 2 * gamma * lam
    return gain, prev


def _box_smooth(x: np.ndarray, half_width: int, axis: int) -> np.ndarray:
    """Moving average of width ``2 * half_width + 1`` along ``axis``, edges renormalised."""
    if half_width <= 0 or x.shape[axis] <= 1:
        return x
    x = np.moveaxis(x, axis, -1)
    n = x.shape[-1]
    csum = np.concatenate([np.zeros(x.shape[:-1] + (1,), dtype=np.float64), np.cumsum(x, axis=-1, dtype=np.float64)], axis=-1)
    idx = np.arange(n)
    lo = np.maximum(idx - half_width, 0)
    hi = np.minimum(idx + half_width + 1, n)
    out = (csum[..., hi] - csum[..., lo]) / (hi - lo)
    return np.moveaxis(out.astype(x.dtype, copy=False), -1, axis)


def smooth_gain(gain: np.ndarray, freq_bins: int, time_frames: int) -> np.ndarray:
    """Smooth a gain over frequency and time with triangular kernels.

    Parameters
    ----------
    gain : np.ndarray [shape=(..., n_freqs, n_frames)]
    freq_bins : int
        Half-width of the kernel over frequency, in bins (0 for none).
    time_frames : int
        Half-width of the kernel over time, in frames (0 for none).

    Returns
    -------
    np.ndarray
        Same shape and dtype; a triangular kernel is two box filters of half
        the width, applied in turn.
    """
    out = gain
    for axis, half in ((-2, freq_bins), (-1, time_frames)):
        box = half // 2
        if box > 0:
            out = _box_smooth(_box_smooth(out, box, axis), half - box, axis)
        elif half > 0:
            out = _box_smooth(out, half, axis)
    return out
