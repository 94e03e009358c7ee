"""Noise profile: the per-frequency noise power the gate works against.

The profile comes either from a stretch of the recording that the caller says
holds only noise, or, when the caller does not know, from the quietest stretch
of the recording (:func:`quietest_window_from_energy`). The block pipeline
(:mod:`denoise_core.stream`) measures it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import NoiseWindowError
from .transform import StftConfig

__all__ = [
    "AUTO_WINDOW_S",
    "NoiseProfile",
    "quietest_window_from_energy",
    "validate_noise_window",
    "window_frames",
]

#: Length in seconds of the stretch the automatic mode looks for.
AUTO_WINDOW_S = 0.5

#: Frames this far (in dB) below the loudest frame count as digital silence
#: and are never taken as the noise: gating against silence would do nothing.
_SILENCE_DB = -100.0


@dataclass(frozen=True)
class NoiseProfile:
    """Noise statistics per frequency bin.

    Attributes
    ----------
    power : np.ndarray [shape=(n_freqs,), dtype=float64]
        Mean noise power per STFT bin (squared magnitude of :meth:`StftConfig.stft`).
    config : StftConfig
        The transform the profile was measured with (and its sample rate):
        gating with this profile uses the same one.
    window_s : tuple of float
        Start and end in seconds of the stretch the profile was measured on.
    method : str
        ``"window"`` when the caller gave the window, ``"quietest stretch"``
        when it was found automatically.
    hum_hz : float or None
        Fundamental in Hz of the mains hum found around the window (its lines
        are taken out before the noise is measured and before gating with
        this profile), or ``None``.
    """

    power: np.ndarray
    config: StftConfig
    window_s: tuple[float, float]
    method: str
    hum_hz: float | None = None


def validate_noise_window(
    noise_window, duration_s: float, min_length_s: float
) -> tuple[float, float]:
    """Check a noise window against the recording and return it as floats.

    Parameters
    ----------
    noise_window : sequence of two numbers
        ``(start_s, end_s)`` in seconds.
    duration_s : float
        Length of the recording in seconds.
    min_length_s : float
        Shortest allowed window in seconds (one analysis frame).

    Raises
    ------
    NoiseWindowError
        If the window is not two finite numbers, is reversed or empty, lies
        outside ``[0, duration_s]`` or is shorter than ``min_length_s``.
    """
    valid = f"valid range: 0 to {duration_s:.3f} s"
    try:
        start_s, end_s = (float(v) for v in noise_window)
    except (TypeError, ValueError):
        raise NoiseWindowError(
            f"The noise window must be two numbers (start, end) in seconds, got {noise_window!r} ({valid})."
        ) from None
    if not (np.isfinite(start_s) and np.isfinite(end_s)):
        raise NoiseWindowError(f"The noise window ({start_s}, {end_s}) s is not finite ({valid}).")
    if start_s < 0:
        raise NoiseWindowError(f"The noise window starts before the recording ({start_s:.3f} s; {valid}).")
    if start_s >= end_s:
        raise NoiseWindowError(
            f"The noise window must end after it starts, got {start_s:.3f} s to {end_s:.3f} s ({valid})."
        )
    # Allow half a millisecond of slack so that a window typed as the rounded duration fits.
    if end_s > duration_s + 5e-4:
        raise NoiseWindowError(
            f"The noise window ends at {end_s:.3f} s, after the end of the recording ({valid})."
        )
    # A relative slack of 1e-9 keeps a window computed in seconds from failing by one rounding step.
    if end_s - start_s < min_length_s * (1 - 1e-9):
        raise NoiseWindowError(
            f"The noise window is {end_s - start_s:.3f} s long; it must be at least "
            f"{min_length_s:.3f} s (one analysis frame) within {valid}."
        )
    return start_s, min(end_s, duration_s)


def window_frames(config: StftConfig, n_samples: int, noise_window) -> tuple[np.ndarray, tuple[float, float]]:
    """Check a noise window and find the frames it holds.

    Parameters
    ----------
    config : StftConfig
    n_samples : int
        Length of the recording in samples.
    noise_window : (float, float)
        Start and end in seconds.

    Returns
    -------
    frames : np.ndarray of int
        Indices of the frames that lie wholly inside the window; when none
        does (a window barely one frame long), the frames centred in it.
    window_s : (float, float)
        The checked window.

    Raises
    ------
    NoiseWindowError
        See :func:`validate_noise_window`.
    """
    sr = config.sr
    duration_s = n_samples / sr
    start_s, end_s = validate_noise_window(noise_window, duration_s, min(config.win_length / sr, duration_s))
    n_frames = config.n_frames(n_samples)
    centres = np.arange(n_frames) * config.hop_length
    half = config.n_fft // 2
    lo, hi = start_s * sr, end_s * sr
    # Best: frames wholly inside the window (no sound from just outside it leaks
    # in); else frames centred in it, preferring those wholly inside the signal.
    within = (centres - half >= np.floor(lo)) & (centres + half <= np.ceil(hi))
    inside = (centres >= lo) & (centres <= hi)
    whole = inside & (centres >= half) & (centres + half <= n_samples)
    chosen = np.flatnonzero(within if within.any() else whole if whole.any() else inside)
    if chosen.size == 0:
        chosen = np.array([min(round(0.5 * (start_s + end_s) * sr / config.hop_length), n_frames - 1)])
    return chosen, (start_s, end_s)


def quietest_window_from_energy(
    energy: np.ndarray, config: StftConfig, n_samples: int, length_s: float = AUTO_WINDOW_S
) -> tuple[float, float]:
    """The stretch of about ``length_s`` seconds with the least energy.

    Parameters
    ----------
    energy : np.ndarray [shape=(n_frames,)]
        Energy of every frame of the recording: its squared STFT magnitudes
        summed over the bins (:meth:`StftConfig.frame_energies`), averaged
        over the channels.
    config : StftConfig
        The transform that framed it.
    n_samples : int
        Length of the recording in samples.
    length_s : float
        Wanted window length in seconds; shortened to a quarter of the
        recording (but at least one frame) for short recordings.

    Returns
    -------
    (float, float)
        Start and end in seconds, within the recording. Stretches of digital
        silence (over 100 dB below the loudest frame) are skipped unless the
        whole recording is silent.
    """
    sr = config.sr
    duration_s = n_samples / sr
    frame_s = config.hop_length / sr
    min_len_s = min(config.win_length / sr, duration_s)
    length_s = min(length_s, max(duration_s / 4.0, min_len_s))
    length_s = min(length_s, duration_s)
    width = max(1, round(length_s / frame_s))
    # Frames wholly inside the signal; a too-short signal keeps them all.
    n_frames = energy.shape[-1]
    half = config.n_fft // 2
    centres = np.arange(n_frames) * config.hop_length
    usable = np.flatnonzero((centres >= half) & (centres + half <= n_samples))
    if usable.size < width:
        usable = np.arange(n_frames)
    width = min(width, usable.size)
    energy = np.asarray(energy, dtype=np.float64)[usable]
    loudest = energy.max()
    if loudest <= 0:
        return 0.0, length_s
    silent = energy < loudest * 10 ** (_SILENCE_DB / 10)
    if silent.any() and not silent.all():
        # A frame within half an FFT of a silent frame holds some of that silence.
        reach = -(-config.n_fft // (2 * config.hop_length))
        silent = np.convolve(silent, np.ones(2 * reach + 1))[reach : reach + silent.size] > 0
    log_e = 10 * np.log10(np.maximum(energy, loudest * 1e-30))
    csum = np.concatenate([[0.0], np.cumsum(log_e)])
    csil = np.concatenate([[0], np.cumsum(silent)])
    means = (csum[width:] - csum[:-width]) / width
    has_silence = (csil[width:] - csil[:-width]) > 0
    if not has_silence.all():
        means = np.where(has_silence, np.inf, means)
    first = int(np.argmin(means))
    start_s = max(0.0, (usable[first] * config.hop_length) / sr - 0.5 * frame_s)
    end_s = min(duration_s, start_s + max(length_s, min_len_s))
    start_s = max(0.0, end_s - max(length_s, min_len_s))
    return float(start_s), float(end_s)
