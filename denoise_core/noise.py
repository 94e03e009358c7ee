"""Noise estimation, all of it: the profile, the survey, and following the noise through a stream.

The profile comes either from a stretch of the recording that the caller says
holds only noise, or, when the caller does not know, from the quietest stretch
of the recording (:func:`quietest_window_from_energy`, on the frame energies
of one :func:`survey` pass); :func:`measure_noise` measures it, reading only
that stretch, with a mains hum found there taken out first.

While the recording is gated, :class:`NoiseTracker` follows the noise from
that profile, frame by frame, with the unbiased MMSE estimator (Gerkmann
and Hendriks 2012): ``lambda <- a * lambda + (1 - a) * E[|N|^2 | Y]`` with
``E[|N|^2 | Y] = (1 - P) |Y|^2 + P lambda``, where ``P`` is the probability
that the bin holds speech. Noise that drifts or changes is followed; speech,
which pushes ``P`` towards 1, barely moves it. When the estimate starts far
below the noise (the quietest stretch of a recording whose noise swings),
every bin looks like speech and the tracker would hardly move: a
minimum-statistics floor (Martin 2001) is its safety net. The estimate never
falls below the least of the smoothed power over the last
``MINSTAT_WINDOW_S`` seconds, raised by ``MINSTAT_BIAS_DB`` (about the mean
of steady noise) and capped ``MINSTAT_CEILING_DB`` above the profile
(:func:`minimum_statistics`). It comes down as fast as it goes up: it never
lies more than ``MINSTAT_TOP_DB`` above those minimum statistics, so a profile
too high, or noise that has dropped, is left within the same window.

A noise sample cannot overrule the recording: a window given by the caller
is compared, band by band, with the background of the quietest stretch of
the whole recording (the stretch the automatic mode would take), and where
it lies more than ``SAMPLE_EXCESS_DB`` above it (a door, a cough, a passing
car, a word caught in the window) the profile is lowered to that background
there (:func:`hold_to_background`). The profile's ``lowered_db`` says how
far.

The module holds every part of one subject, so it is longer than most.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .errors import NoiseWindowError
from .hum import MIN_DETECT_S, Dehummed, detect_hum
from .running import running_reduce
from .source import Source
from .transform import FrameAnalyzer, StftConfig, power_of

__all__ = [
    "AUTO_WINDOW_S",
    "NoiseProfile",
    "NoiseTracker",
    "hold_to_background",
    "measure_noise",
    "minimum_statistics",
    "quietest_window_from_energy",
    "survey",
    "track_noise",
    "validate_noise_window",
    "window_frames",
]

#: Time constant in seconds of the noise tracker's recursive average.
TRACK_TIME_CONSTANT_S = 1.5
#: Speech SNR in dB assumed by the noise tracker's speech detector.
TRACK_SPEECH_SNR_DB = 15.0
#: Cap on the tracker's speech probability, so the noise estimate keeps moving.
TRACK_MAX_PRESENCE = 0.99
#: The tracked noise never rises more than this many dB above the starting
#: profile, so a steady sound well above the noise (a held tone, a sustained
#: note) is never learned as noise.
TRACK_CEILING_DB = 6.0
#: The minimum-statistics floor under the tracked noise: the least power over this many seconds ...
MINSTAT_WINDOW_S = 2.5
#: ... of the power averaged over this many tracker updates (``TRACK_DECIMATION`` frames each) ...
MINSTAT_SMOOTH_UPDATES = 4
#: ... raised by this many dB: the least of those averages lies this far below the mean of steady noise ...
MINSTAT_BIAS_DB = 4.0
#: ... and never more than this many dB above the starting profile (a sound held for seconds, such
#: as a sung note, is not taken for noise).
MINSTAT_CEILING_DB = 12.0
#: The tracked noise never lies more than this many dB above the minimum statistics (at the mean of steady
#: noise): when the noise drops, or the profile was too high, the estimate comes down within the same
#: ``MINSTAT_WINDOW_S`` in which the floor brings it up when the noise rises. The minimum statistics of
#: noise that flickers (streets, cafes) lie far below its mean, ``MINSTAT_BIAS_DB`` included (some 18 dB
#: in a VoiceBank-DEMAND clip), so a top closer than this cut the estimate of such noise below its mean.
MINSTAT_TOP_DB = 20.0
#: Frames per block of the noise tracker (see :func:`track_noise`).
TRACK_BLOCK_FRAMES = 16
#: The noise tracker updates on every this many frames (a divisor of ``DD_SEGMENT_FRAMES``).
TRACK_DECIMATION = 4

#: A noise sample more than this many dB above the recording's background in a band is lowered to it ...
SAMPLE_EXCESS_DB = 6.0
#: ... in bands about this many octaves wide ...
CHECK_BAND_OCTAVES = 1 / 3
#: ... and at least this many bins wide (the sample is short: single bins scatter by a few dB).
CHECK_BAND_MIN_BINS = 4

#: Length in seconds of the stretch the automatic mode looks for.
AUTO_WINDOW_S = 0.5

#: Frames this far (in dB) below the loudest frame count as digital silence
#: and are never taken as the noise: gating against silence would do nothing.
_SILENCE_DB = -100.0

_TINY = 1e-20


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
    lowered_db : float or None
        When the window was louder than the recording's background (more
        than ``SAMPLE_EXCESS_DB`` in some band) and the profile was lowered
        to it there: by how many dB, at most, over those bands. ``None``
        when the sample was used as measured.
    """

    power: np.ndarray
    config: StftConfig
    window_s: tuple[float, float]
    method: str
    hum_hz: float | None = None
    lowered_db: float | None = None


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


def survey(
    source: Source,
    config: StftConfig,
    need_energy: bool,
    progress: Callable[[float], None] = lambda fraction: None,
) -> tuple[np.ndarray, float, int]:
    """One pass over a recording: frame energies (for the automatic window) and the peak.

    Returns
    -------
    energy : np.ndarray [shape=(n_frames,)]
        Energy of every frame (:meth:`StftConfig.frame_energies`, averaged
        over the channels; empty unless ``need_energy``).
    peak : float
        Largest absolute sample (in the recording's own scale).
    n_read : int
        Samples per channel actually read (a compressed file may decode to
        another length than its header announces).
    """
    analyzer = FrameAnalyzer(config, source.n_channels, energies=True)
    energies, peak, n_read = [], 0.0, 0
    for block in source.blocks():
        n_read += block.shape[0]
        peak = max(peak, float(np.abs(block).max()) * source.scale)
        if need_energy:
            energies.append(analyzer.push(np.ascontiguousarray(block.T)).mean(axis=0))
        progress(n_read / max(source.n_samples, 1))
    if need_energy:
        energies.append(analyzer.finish(n_read).mean(axis=0))
    return (np.concatenate(energies) if energies else np.zeros(0)), peak, n_read


def _window_profile(source: Source, config: StftConfig, noise_window, method: str) -> NoiseProfile:
    """Noise profile of ``noise_window``, reading only that stretch."""
    n_samples = source.n_samples
    frames, window_s = window_frames(config, n_samples, noise_window)
    first, last = int(frames[0]), int(frames[-1])
    analyzer = FrameAnalyzer(config, source.n_channels, first_frame=first)
    stop = min(n_samples, last * config.hop_length - config.n_fft // 2 + config.n_fft)
    spectra = [analyzer.push(np.ascontiguousarray(b.T)) for b in source.blocks(analyzer.first_sample, stop)]
    if stop == n_samples:
        spectra.append(analyzer.finish(n_samples))
    power = power_of(np.concatenate(spectra, axis=-1)[..., frames - first])
    return NoiseProfile(power=power.mean(axis=(0, 2)).astype(np.float64), config=config, window_s=window_s, method=method)


def _find_hum(source: Source, window_s: tuple[float, float], hum: str) -> float | None:
    """The hum's fundamental in the window, widened to what the detector needs (``None``: none, or off)."""
    if hum == "off":
        return None
    sr, n = source.sr, source.n_samples
    start, stop = int(window_s[0] * sr), int(np.ceil(window_s[1] * sr))
    need = int(np.ceil(MIN_DETECT_S * sr))
    if stop - start < need:  # widen around its centre, shifted to stay inside the recording
        start = max(0, (start + stop) // 2 - need // 2)
        stop = min(n, start + need)
        start = max(0, stop - need)
    stretch = np.concatenate(list(source.blocks(start, stop)), axis=0)
    return detect_hum(stretch, sr, mode=hum)


def measure_noise(
    source: Source,
    config: StftConfig,
    noise_window: tuple[float, float] | None = None,
    energy: np.ndarray | None = None,
    hum: str = "auto",
) -> NoiseProfile:
    """Noise profile from ``noise_window``, or from the quietest stretch when it is ``None``.

    Parameters
    ----------
    source : Source
    config : StftConfig
        The transform to measure (and later gate) with.
    noise_window : (float, float), optional
        Start and end in seconds of a noise-only stretch.
    energy : np.ndarray, optional
        Frame energies from :func:`survey`, when already at hand; otherwise
        the automatic mode makes one pass over the recording for them.
    hum : {"auto", "50", "60", "off"}
        Look for a mains hum in the window (widened to half a second if
        shorter): ``"auto"`` near 50 or 60 Hz, or the base given; when one is
        found, its lines are taken out before the noise is measured, and the
        profile's ``hum_hz`` says so.

    A window given is checked against the background of the quietest
    stretch of the recording (found on the frame energies, one survey pass
    when they are not given) and lowered to it where it is louder by more
    than ``SAMPLE_EXCESS_DB`` (:func:`hold_to_background`).

    Raises
    ------
    NoiseWindowError
        If the window does not fit the recording.
    """
    if noise_window is not None:
        window, method = window_frames(config, source.n_samples, noise_window)[1], "window"
    if noise_window is None or energy is None:
        energy = survey(source, config, need_energy=True)[0] if energy is None else energy
    quietest = quietest_window_from_energy(energy, config, source.n_samples)
    if noise_window is None:
        window, method = quietest, "quietest stretch"
    hum_hz = _find_hum(source, window, hum)
    measured = source if hum_hz is None else Dehummed(source, hum_hz)
    profile = replace(_window_profile(measured, config, window, method), hum_hz=hum_hz)
    if noise_window is None or quietest == window:
        return profile
    return hold_to_background(profile, _window_profile(measured, config, quietest, "quietest stretch").power)


def _check_bands(n_freqs: int) -> np.ndarray:
    """Start bin of each band of the sample check (and ``n_freqs`` at the end): a third of an octave, at least 4 bins."""
    edges, lo = [0], 0
    while lo < n_freqs:
        lo = min(n_freqs, lo + max(CHECK_BAND_MIN_BINS, round(lo * (2**CHECK_BAND_OCTAVES - 1))))
        edges.append(lo)
    if len(edges) > 2 and edges[-1] - edges[-2] < CHECK_BAND_MIN_BINS:
        del edges[-2]  # a last band too narrow joins the one before it
    return np.asarray(edges)


def hold_to_background(profile: NoiseProfile, background: np.ndarray) -> NoiseProfile:
    """The profile, lowered to ``background`` in every band where it lies more than ``SAMPLE_EXCESS_DB`` above it.

    Parameters
    ----------
    profile : NoiseProfile
        Measured on the caller's window.
    background : np.ndarray [shape=(n_freqs,)]
        Noise power per bin of the recording's background (the quietest
        stretch), with the same transform and hum removal.

    Returns
    -------
    NoiseProfile
        ``profile`` itself when no band is too loud; otherwise a copy whose
        bins in those bands take the background's power (where it is lower),
        with ``lowered_db`` the largest excess of those bands in dB.
    """
    edges = _check_bands(profile.power.shape[0])
    sample = np.add.reduceat(profile.power, edges[:-1])
    floor = np.add.reduceat(np.asarray(background, dtype=np.float64), edges[:-1])
    excess = 10 * np.log10(np.maximum(sample, _TINY) / np.maximum(floor, _TINY))
    loud = excess > SAMPLE_EXCESS_DB
    if not loud.any():
        return profile
    in_loud = np.repeat(loud, np.diff(edges))
    power = np.where(in_loud, np.minimum(profile.power, background), profile.power)
    return replace(profile, power=power, lowered_db=round(float(excess[loud].max()), 1))


# ---------------------------------------------------------------- following the noise through a stream


@dataclass
class NoiseTracker:
    """The noise estimate of a stream, followed frame by frame, and what it carries from block to block.

    Attributes
    ----------
    noise_power : np.ndarray [shape=(n_freqs,)]
        Current noise power estimate, shared by all channels.
    profile : np.ndarray [shape=(n_freqs,)]
        The starting noise profile, which bounds the tracked estimate from
        above (``TRACK_CEILING_DB``) and caps the minimum statistics.
    minstat_updates : np.ndarray [shape=(n_freqs, MINSTAT_SMOOTH_UPDATES - 1)]
        Power of the last tracker updates (mean over their frames and the
        channels), for the smoothing of :func:`minimum_statistics` (none
        before the first frame).
    minstat_least : np.ndarray [shape=(n_freqs, j)]
        The least smoothed power of each of the last blocks of the tracker,
        a window of them less one.
    """

    noise_power: np.ndarray
    profile: np.ndarray
    minstat_updates: np.ndarray
    minstat_least: np.ndarray

    @classmethod
    def start(cls, profile: np.ndarray) -> NoiseTracker:
        """State before the first frame: the given noise profile and no history.

        The minimum statistics have no history: until ``MINSTAT_WINDOW_S``
        has passed, their floor is the least of what was heard so far
        (see :func:`minimum_statistics`).
        """
        noise = np.asarray(profile, dtype=np.float64).copy()
        empty = np.zeros((noise.shape[0], 0), np.float32)
        return cls(noise, noise.copy(), empty, empty)

    def track(self, power: np.ndarray, hop_s: float) -> np.ndarray:
        """The noise estimate of every frame of ``power`` ``(n_channels, n_freqs, n_frames)``, continuing the stream.

        Returns ``(n_freqs, n_frames)`` float32 (:func:`track_noise` above the
        :func:`minimum_statistics` floor, and below both ``TRACK_CEILING_DB``
        above the profile and ``MINSTAT_TOP_DB`` above the minimum statistics).
        """
        least = _least_power(power, self, hop_s)
        ceiling = np.maximum(self.profile, _TINY).astype(np.float32)[:, None]
        floor = np.minimum(least, ceiling * np.float32(10 ** (MINSTAT_CEILING_DB / 10)))
        # Never zero (digital silence for seconds): the gain divides by the estimate.
        top = np.minimum(ceiling * np.float32(10 ** (TRACK_CEILING_DB / 10)),
                         np.maximum(least * np.float32(10 ** (MINSTAT_TOP_DB / 10)), np.float32(_TINY)))
        track, self.noise_power = track_noise(power, self.noise_power, hop_s, top, floor)
        return track


def minimum_statistics(power: np.ndarray, state: NoiseTracker, hop_s: float) -> np.ndarray:
    """The minimum-statistics floor under the noise estimate, one value per block of the tracker.

    The power of each tracker update (the mean over its ``TRACK_DECIMATION``
    frames and the channels) is averaged over ``MINSTAT_SMOOTH_UPDATES``
    updates. The floor of a block of ``TRACK_BLOCK_FRAMES`` updates is the
    least such average over it and the blocks before it, back
    ``MINSTAT_WINDOW_S`` seconds, raised by ``MINSTAT_BIAS_DB`` and capped
    ``MINSTAT_CEILING_DB`` above the starting profile. Speech never holds a
    bin for that long, so the floor follows the noise alone, at its mean when
    the noise is steady.

    Parameters
    ----------
    power : np.ndarray [shape=(n_channels, n_freqs, n_frames)]
        Squared STFT magnitudes; the first frame must be the first of a
        block of the tracker (a multiple of ``TRACK_BLOCK_FRAMES *
        TRACK_DECIMATION`` into the stream).
    state : NoiseTracker
        Its minimum-statistics history is used and updated in place.
    hop_s : float
        Time between frames in seconds.

    Returns
    -------
    np.ndarray [shape=(n_freqs, n_blocks), dtype=float32]
        ``n_blocks = ceil(n_frames / (TRACK_BLOCK_FRAMES * TRACK_DECIMATION))``.
    """
    cap = np.maximum(state.profile, _TINY).astype(np.float32)[:, None] * np.float32(10 ** (MINSTAT_CEILING_DB / 10))
    return np.minimum(_least_power(power, state, hop_s), cap)


def _least_power(power: np.ndarray, state: NoiseTracker, hop_s: float) -> np.ndarray:
    """:func:`minimum_statistics` before its cap above the profile."""
    step, block = TRACK_DECIMATION, TRACK_BLOCK_FRAMES
    n_channels, n_freqs, n_frames = power.shape
    n_updates = -(-n_frames // step)
    n_blocks = -(-n_updates // block)
    if n_blocks == 0:
        return np.zeros((n_freqs, 0), np.float32)
    if n_updates * step > n_frames:  # the end of the stream: the last update has fewer frames
        power = np.concatenate([power, np.repeat(power[..., -1:], n_updates * step - n_frames, axis=-1)], axis=-1)
    total = power[..., 0::step].sum(axis=0)
    for k in range(1, step):
        total += power[..., k::step].sum(axis=0)
    updates = total * np.float32(1 / (step * n_channels))
    width = max(1, round(MINSTAT_WINDOW_S / (block * step * hop_s)))
    if state.minstat_updates.shape[-1] == 0:
        # The start: the first update stands for those before it, and the window holds only what
        # was heard (no value of the profile: when it came from the quietest stretch, it may lie
        # far below the noise here).
        state.minstat_updates = np.repeat(updates[:, :1], MINSTAT_SMOOTH_UPDATES - 1, axis=-1)
        state.minstat_least = np.full((n_freqs, width - 1), np.inf, np.float32)
    updates = np.concatenate([state.minstat_updates, updates], axis=-1)
    averages = running_reduce(updates, MINSTAT_SMOOTH_UPDATES) * np.float32(1 / MINSTAT_SMOOTH_UPDATES)
    state.minstat_updates = updates[:, updates.shape[-1] - (MINSTAT_SMOOTH_UPDATES - 1) :]
    if n_blocks * block > n_updates:  # the end of the stream: the last block has fewer updates
        averages = np.concatenate([averages, np.full((n_freqs, n_blocks * block - n_updates), np.inf, np.float32)], -1)
    least = np.concatenate([state.minstat_least, averages.reshape(n_freqs, n_blocks, block).min(axis=-1)], axis=-1)
    state.minstat_least = least[:, least.shape[-1] - (width - 1) :]
    return running_reduce(least, width, np.minimum) * np.float32(10 ** (MINSTAT_BIAS_DB / 10))


def track_noise(
    power: np.ndarray,
    noise_power: np.ndarray,
    hop_s: float,
    ceiling: np.ndarray,
    floor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Noise power of every frame, tracked from a starting profile.

    The estimate is updated on every ``TRACK_DECIMATION``-th frame (counted
    from the first frame given, so blocks must start at a multiple of it) and
    held in between: it moves over seconds, not frames. The speech
    probability that steers each update is computed against the noise
    estimate at the start of each block of ``TRACK_BLOCK_FRAMES`` updates;
    within a block the recursion is linear and solved for all of them at once.

    Parameters
    ----------
    power : np.ndarray [shape=(n_channels, n_freqs, n_frames)]
        Squared STFT magnitudes.
    noise_power : np.ndarray [shape=(n_freqs,)]
        Noise estimate before the first frame.
    hop_s : float
        Time between frames in seconds.
    ceiling : np.ndarray [shape=(n_freqs, n_blocks)]
        Highest value the estimate may take in each block of
        ``TRACK_BLOCK_FRAMES`` updates.
    floor : np.ndarray [shape=(n_freqs, n_blocks)]
        Lowest value the estimate may take in each block of
        ``TRACK_BLOCK_FRAMES`` updates (:func:`minimum_statistics`); it
        overrides ``ceiling``.

    Returns
    -------
    track : np.ndarray [shape=(n_freqs, n_frames), dtype=float32]
        Noise estimate used for each frame (the one before its update).
    last : np.ndarray [shape=(n_freqs,), dtype=float64]
        Estimate after the last frame, to continue a stream.
    """
    step = TRACK_DECIMATION
    n_total = power.shape[-1]
    power = power[..., ::step]
    n_channels, n_freqs, n_frames = power.shape
    xi_h1 = 10 ** (TRACK_SPEECH_SNR_DB / 10)
    rate = (1.0 - np.exp(-step * hop_s / TRACK_TIME_CONSTANT_S)) / n_channels
    noise = np.maximum(np.asarray(noise_power, dtype=np.float64), _TINY)
    track = np.empty((n_freqs, n_frames), dtype=np.float32)
    for start in range(0, n_frames, TRACK_BLOCK_FRAMES):
        block = power[:, :, start : start + TRACK_BLOCK_FRAMES]
        # 1 - P(speech | Y) = c / (1 + c), c = (1 + xi_h1) exp(-snr xi_h1 / (1 + xi_h1)).
        scale = (-xi_h1 / (1.0 + xi_h1)) / noise.astype(np.float32)
        c = np.float32(1.0 + xi_h1) * np.exp(block * scale[None, :, None])
        absence = np.maximum(c / (1.0 + c), np.float32(1.0 - TRACK_MAX_PRESENCE))
        # noise_k = m_k * noise_{k-1} + b_k, solved with running products.
        m = 1.0 - rate * absence.sum(axis=0)
        b = rate * (absence * block).sum(axis=0)
        prod = np.cumprod(m, axis=-1)
        after = prod * (noise[:, None] + np.cumsum(b / prod, axis=-1))
        k = start // TRACK_BLOCK_FRAMES
        after = np.maximum(np.minimum(after, ceiling[:, k, None]), floor[:, k, None])
        track[:, start : start + block.shape[-1]] = np.concatenate([noise[:, None], after[:, :-1]], axis=-1)
        noise = np.maximum(after[:, -1], _TINY)
    track = np.repeat(track, step, axis=-1)[:, :n_total]
    return track, noise
