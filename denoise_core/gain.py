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

The noise power ``lambda`` of every frame comes from the tracker of
:mod:`denoise_core.noise` (:class:`~denoise_core.noise.NoiseTracker`).

Against "musical noise" (isolated bins of noise that the gain lets
through), each frame's speech-band level above the noise decides how surely
the frame holds speech (:func:`_frame_presence`); ``p`` is scaled by it, so
in frames without speech every bin falls to the floor. In noise that moves
the level rises in pauses too: away from a voiced frame
(:mod:`denoise_core.voicing`) only a sound ``LOUD_OFFSET_DB`` above the noise
keeps its presence (:func:`voiced_presence`).

The floor is ``NEAR_SPEECH_DB`` (20 dB) deep within ``PAUSE_FROM_S`` of the
nearest frame with speech, before or after it, deepens to ``PAUSE_DB`` (40 dB)
at ``PAUSE_DEEP_S`` and to ``reduction_db`` at ``LONG_PAUSE_S``
(:func:`pause_floor_db`). Around words the voice masks the noise left, and a
deeper floor there took the weak sounds of speech with the noise (STOI on
real noise fell with its depth); in pauses the noise is what a listener
hears. A gap of a second or two between words may still hold a weak sound
that the presence missed, so only a longer pause goes down the whole way.
Above ``HIGH_BAND_HZ`` the voice has little energy to mask anything: there a
third-octave band falls to ``reduction_db`` beside words too, unless its own a
priori SNR rose within ``HIGH_BAND_REACH_S`` (:func:`band_floor_db`), so a
sibilant keeps its band and the hiss beside a vowel goes. A stream therefore
gates a frame only once the presence of speech ``LONG_PAUSE_S`` after it is known
(:func:`pause_lookahead`). The a priori SNR can be smoothed over frequency
before the final gain is formed, and the gain is then smoothed over time
(:func:`smooth_gain`). The gain stays between ``10 ** (-reduction_db / 20)``
and 1, so no bin is ever attenuated by more than ``reduction_db``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import NoiseTracker
from .running import running_reduce

__all__ = [
    "DD_SEGMENT_FRAMES",
    "GainParts",
    "GainState",
    "band_floor_db",
    "band_reach",
    "gain_from_parts",
    "gain_parts",
    "high_bands",
    "pause_floor_db",
    "pause_lookahead",
    "smooth_gain",
    "speech_band_bins",
    "voiced_presence",
]

#: Floor on the a priori SNR in dB.
XI_MIN_DB = -15.0
#: Weight of the previous frame's clean-speech estimate in the decision-directed rule.
DD_ALPHA = 0.97
#: A priori probability that a bin holds no speech.
SPEECH_ABSENCE_PRIOR = 0.5
#: The decision-directed recursion restarts every this many frames ...
DD_SEGMENT_FRAMES = 64
#: ... after warming up on this many frames before the restart.
DD_WARMUP_FRAMES = 16
#: A frame whose speech band stands ``PRESENCE_OFFSET_DB`` or less above the
#: noise there holds no speech; one ``PRESENCE_RANGE_DB`` higher, wholly speech.
#: The offset keeps the chance swings of noise alone (about 1 dB over the band,
#: after the mean over ``PRESENCE_AVG_FRAMES``) from opening the gate in pauses.
PRESENCE_OFFSET_DB = 1.0
PRESENCE_RANGE_DB = 3.0
#: Away from a voice (:mod:`denoise_core.voicing`), a frame counts as holding a sound to keep only
#: from this many dB above the noise (and wholly from ``PRESENCE_RANGE_DB`` more): music, a door or a
#: cough stay, the swings of moving noise go.
LOUD_OFFSET_DB = 12.0
#: The band level is a causal mean over this many frames.
PRESENCE_AVG_FRAMES = 4
#: After speech, the floor stays at its speech depth for this long (seconds,
#: at most ``DD_WARMUP_FRAMES`` frames).
PRESENCE_HOLD_S = 0.045
#: Around speech the floor is at most this deep (dB): the voice masks the noise left there, and a
#: deeper floor takes the weak sounds of speech with the noise. It deepens to ``PAUSE_DB`` from
#: ``PAUSE_FROM_S`` to ``PAUSE_DEEP_S`` away from the nearest frame with speech (before or after it;
#: presence above one half), and on to ``reduction_db`` at ``LONG_PAUSE_S``: the noise goes down only
#: where no word is near, and the whole way only in a long pause, not in a gap between words that may
#: hold a weak sound the presence missed.
NEAR_SPEECH_DB = 20.0
PAUSE_FROM_S = 0.25
PAUSE_DEEP_S = 0.5
PAUSE_DB = 40.0
LONG_PAUSE_S = 1.0
#: From this frequency (Hz) up, third-octave bands have their own floor beside words: ``reduction_db``
#: unless the band's a priori SNR (the mean over its bins, each counted at most ``_BAND_XI_CAP``)
#: rose above ``HIGH_BAND_SNR_DB`` within ``HIGH_BAND_REACH_S`` before or after, rising to the
#: frame's floor ``HIGH_BAND_RANGE_DB`` higher.
HIGH_BAND_HZ = 4000.0
HIGH_BAND_REACH_S = 0.1
HIGH_BAND_SNR_DB = 0.0
HIGH_BAND_RANGE_DB = 6.0
_BAND_XI_CAP = 1e4
#: A gain of ``x`` dB is ``exp(x * _NEPERS_PER_DB)``.
_NEPERS_PER_DB = np.float32(np.log(10.0) / 20.0)
#: Band in Hz in which a frame's level decides whether it holds speech.
SPEECH_BAND_HZ = (150.0, 4000.0)
_TINY = 1e-20

# exp(E1(v)/2) looked up by the bits of v as a float32: its exponent and the
# first _TABLE_BITS bits of its mantissa, so 2 ** _TABLE_BITS steps per octave
# (0.14 % in v; the gain is off by under 0.05 %), with no logarithm to take.
# v is clipped to [1e-10, 30]; beyond 30 the factor is within 1e-6 of 1.
_TABLE_BITS = 9
_TABLE_SHIFT = 23 - _TABLE_BITS
_V_MIN, _V_MAX = 1e-10, 30.0


def _table_index(v: np.ndarray) -> np.ndarray:
    """Bucket of each positive float32 ``v``: its bits shifted right by ``_TABLE_SHIFT``."""
    return np.right_shift(v.view(np.int32), _TABLE_SHIFT)


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


# One entry per bucket from 0 to that of 30 (about 67,000, 270 kB): each bucket's value is taken
# at its middle (the bits of its first value plus half a step), with v clipped to [1e-10, 30].
_TABLE_LAST = int(_table_index(np.array([_V_MAX], np.float32))[0])
_BUCKET_MIDDLES = (
    (np.arange(_TABLE_LAST + 1, dtype=np.int64) << _TABLE_SHIFT) + (1 << (_TABLE_SHIFT - 1))
).astype(np.int32).view(np.float32)
_HALF_EXP_E1 = np.exp(0.5 * expint_e1(np.clip(_BUCKET_MIDDLES, _V_MIN, _V_MAX))).astype(np.float32)


def _half_exp_e1(v: np.ndarray) -> np.ndarray:
    """``exp(E1(v) / 2)`` by table look-up; ``v`` must be positive (it is clipped to [1e-10, 30])."""
    return np.take(_HALF_EXP_E1, _table_index(np.ascontiguousarray(v, dtype=np.float32)), mode="clip")


def lsa_gain(xi: np.ndarray, v: np.ndarray) -> np.ndarray:
    """MMSE log-spectral-amplitude gain ``xi / (1 + xi) * exp(E1(v) / 2)``.

    Parameters
    ----------
    xi : np.ndarray
        A priori SNR (linear power ratio, > 0).
    v : np.ndarray
        ``gamma * xi / (1 + xi)``, same shape as ``xi``.
    """
    return xi / (1.0 + xi) * _half_exp_e1(v)


@dataclass
class GainState:
    """What the gain carries from one block of frames to the next.

    Attributes
    ----------
    tracker : NoiseTracker
        The noise estimate, shared by all channels, and its history.
    tail_power : np.ndarray [shape=(n_channels, n_freqs, k)]
        The last ``k <= DD_WARMUP_FRAMES`` frames seen, to warm up the
        decision-directed recursion of the next block.
    tail_noise : np.ndarray [shape=(n_freqs, k)]
        The noise estimate of those frames.
    """

    tracker: NoiseTracker
    tail_power: np.ndarray
    tail_noise: np.ndarray

    @classmethod
    def start(cls, noise_power: np.ndarray, n_channels: int) -> GainState:
        """State before the first frame: the given noise profile and no history."""
        tracker = NoiseTracker.start(noise_power)
        n_freqs = tracker.noise_power.shape[0]
        return cls(tracker, np.zeros((n_channels, n_freqs, 0), np.float32), np.zeros((n_freqs, 0), np.float32))


def speech_band_bins(frequencies: np.ndarray) -> tuple[int, int]:
    """First and last-plus-one bin of ``SPEECH_BAND_HZ`` among bin centre ``frequencies`` (Hz, ascending).

    Falls back to all bins when the band holds none (very low sample rates).
    """
    lo, hi = (int(i) for i in np.searchsorted(frequencies, SPEECH_BAND_HZ))
    return (lo, hi) if hi > lo else (0, len(frequencies))


@dataclass
class GainParts:
    """What the gain of a run of frames is made of before the floor is known.

    Attributes
    ----------
    xi, v, g_lsa : np.ndarray [shape=(n_channels, n_freqs, n_frames), dtype=float32]
        A priori SNR, ``gamma * xi / (1 + xi)`` and the LSA gain of every bin.
    presence : np.ndarray [shape=(n_channels, n_frames), dtype=float32]
        How surely each frame holds speech, 0 to 1, from its level (:func:`_frame_presence`).
    loud : np.ndarray [shape=(n_channels, n_frames), dtype=float32]
        The same with the offset ``LOUD_OFFSET_DB``: a sound this far above
        the noise is kept without a voice near (:func:`voiced_presence`).
    band_snr : np.ndarray [shape=(n_channels, n_bands, n_frames), dtype=float32]
        Mean a priori SNR of each band of :func:`high_bands` (none when not asked for).
    """

    xi: np.ndarray
    v: np.ndarray
    g_lsa: np.ndarray
    presence: np.ndarray
    loud: np.ndarray
    band_snr: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.xi, self.v, self.g_lsa, self.presence, self.loud, self.band_snr

    def frames(self, start: int, stop: int | None = None) -> GainParts:
        """Frames ``start:stop``."""
        return GainParts(*(a[..., start:stop] for a in self.arrays()))

    @property
    def n_frames(self) -> int:
        return self.presence.shape[-1]


def gain_parts(
    power: np.ndarray,
    state: GainState,
    *,
    threshold_db: float,
    hop_s: float,
    freq_smooth_bins: int = 0,
    speech_bins: tuple[int, int] | None = None,
    bands: np.ndarray | None = None,
) -> GainParts:
    """The causal part of the gain of every bin, frame by frame: SNRs, LSA gain and frame presence.

    Parameters
    ----------
    power : np.ndarray [shape=(n_channels, n_freqs, n_frames)]
        Squared STFT magnitudes of the noisy signal.
    state : GainState
        Noise estimate and previous-frame speech estimate; updated in place,
        so a following call continues the stream.
    threshold_db : float
        Margin in dB added to the noise power: a bin must rise this far above
        the noise floor before it counts as signal. Higher removes more.
    hop_s : float
        Time between frames in seconds (sets the noise tracking speed and the
        hold of the frame presence).
    freq_smooth_bins : int
        Half-width in bins of the triangular smoothing of the a priori SNR
        over frequency (0 for none).
    speech_bins : (int, int), optional
        First and last-plus-one bin of the speech band, in which a frame's
        level against the noise decides whether it holds speech; all bins by
        default.
    bands : np.ndarray [dtype=int], optional
        First bin of each band (:func:`high_bands`) whose mean a priori SNR
        is wanted (``GainParts.band_snr``); none by default.
    """
    track = state.tracker.track(power, hop_s)
    # Frames before this block (up to DD_WARMUP_FRAMES) warm up the first segment.
    n_tail = state.tail_power.shape[-1]
    all_power = np.concatenate([state.tail_power, power], axis=-1)
    all_noise = np.concatenate([state.tail_noise, track], axis=-1)
    keep = min(DD_WARMUP_FRAMES, all_power.shape[-1])
    state.tail_power = all_power[..., all_power.shape[-1] - keep :].copy()
    state.tail_noise = all_noise[..., all_noise.shape[-1] - keep :].copy()

    inv_lam = np.float32(10 ** (-threshold_db / 10)) / all_noise
    # The floor keeps v = gamma * xi / (1 + xi) positive for the E1 look-up.
    gamma = np.maximum(all_power * inv_lam, np.float32(1e-10))
    xi, g_lsa = _decision_directed(all_power, gamma, inv_lam, n_tail)
    level_db = _band_level_db(all_power, all_noise, speech_bins)
    presence = _frame_presence(level_db, PRESENCE_OFFSET_DB, n_tail, hop_s)
    loud = _frame_presence(level_db, LOUD_OFFSET_DB, n_tail, hop_s)
    gamma = gamma[..., n_tail:]
    if freq_smooth_bins > 0:
        # Smoothing the a priori SNR (not the gain) over frequency removes
        # isolated noise peaks but keeps strong narrow components, such as a
        # tone or a voice harmonic, whose SNR stays high after averaging.
        xi = _triangle_smooth(np.ascontiguousarray(xi), freq_smooth_bins, -2)
        g_lsa = np.minimum(lsa_gain(xi, gamma * (xi / (1.0 + xi))), np.float32(1.0))
    return GainParts(xi, gamma * (xi / (1.0 + xi)), g_lsa, presence, loud, _band_snr(xi, bands))


def high_bands(frequencies: np.ndarray) -> np.ndarray:
    """First bin of each third-octave band from ``HIGH_BAND_HZ`` up among bin centre ``frequencies`` (Hz, ascending).

    The last band runs to the last bin; there are none when the highest
    frequency lies below ``HIGH_BAND_HZ``.
    """
    edges = HIGH_BAND_HZ * 2.0 ** (np.arange(3 * np.log2(max(frequencies[-1], 1.0) / HIGH_BAND_HZ)) / 3)
    starts = np.unique(np.searchsorted(frequencies, edges))
    return starts[starts < len(frequencies)]


def band_reach(hop_s: float) -> int:
    """``HIGH_BAND_REACH_S`` in frames ``hop_s`` seconds apart."""
    return round(HIGH_BAND_REACH_S / hop_s)


def _band_snr(xi: np.ndarray, bands: np.ndarray | None) -> np.ndarray:
    """Mean of ``xi`` ``(n_channels, n_freqs, n)`` over each band (bins counted at most ``_BAND_XI_CAP``)."""
    if bands is None or not len(bands):
        return np.zeros((xi.shape[0], 0, xi.shape[-1]), np.float32)
    lo = bands[0]
    sums = np.add.reduceat(np.minimum(xi[:, lo:], np.float32(_BAND_XI_CAP)), bands - lo, axis=1)
    counts = np.diff(np.append(bands, xi.shape[1]))
    return (sums / counts[:, None].astype(np.float32)).astype(np.float32)


def band_floor_db(floor_db: np.ndarray, band_snr: np.ndarray, reduction_db: float) -> np.ndarray:
    """Depth in dB of the floor of each high band, from the frames' floor and the bands' own speech.

    Parameters
    ----------
    floor_db : np.ndarray [shape=(n_channels, n), dtype=float32]
        The frames' floor (:func:`pause_floor_db`).
    band_snr : np.ndarray [shape=(n_channels, n_bands, n)]
        Largest mean a priori SNR of each band within ``HIGH_BAND_REACH_S`` of each frame
        (``GainParts.band_snr``, then the largest nearby).
    reduction_db : float

    Returns
    -------
    np.ndarray [shape=(n_channels, n_bands, n), dtype=float32]
        ``reduction_db`` where the band held no speech, the frame's floor
        where it surely did, and between them in between.
    """
    snr_db = 10.0 * np.log10(np.maximum(band_snr, np.float32(_TINY)))
    held = np.clip((snr_db - HIGH_BAND_SNR_DB) / HIGH_BAND_RANGE_DB, 0.0, 1.0)
    frame = floor_db[:, None, :]
    return (frame + (reduction_db - frame) * (1.0 - held)).astype(np.float32)


def pause_lookahead(hop_s: float) -> int:
    """Frames of presence after a frame that :func:`pause_floor_db` needs to know (``LONG_PAUSE_S``)."""
    return int(np.ceil(LONG_PAUSE_S / hop_s))


def pause_floor_db(presence: np.ndarray, start: int, count: int, reduction_db: float, hop_s: float) -> np.ndarray:
    """Depth in dB of the floor of frames ``start:start + count`` of ``presence``.

    ``min(NEAR_SPEECH_DB, reduction_db)`` within ``PAUSE_FROM_S`` of the
    nearest frame with speech, deepening linearly to ``min(PAUSE_DB,
    reduction_db)`` at ``PAUSE_DEEP_S`` and on to ``reduction_db`` at
    ``LONG_PAUSE_S`` and beyond. ``presence`` ``(n_channels, n)`` must hold
    :func:`pause_lookahead` frames before ``start`` where there are any, and
    as many after the frames asked for (fewer only at the end of the stream).

    Returns
    -------
    np.ndarray [shape=(n_channels, count), dtype=float32]
    """
    near, pause = min(NEAR_SPEECH_DB, reduction_db), min(PAUSE_DB, reduction_db)
    n = presence.shape[-1]
    index = np.arange(n)
    speech = presence > 0.5
    before = np.maximum.accumulate(np.where(speech, index, -n - 1), axis=-1)
    after = np.minimum.accumulate(np.where(speech, index, 2 * n + 1)[..., ::-1], axis=-1)[..., ::-1]
    distance_s = np.minimum(index - before, after - index)[..., start : start + count] * hop_s
    to_pause = np.clip((distance_s - PAUSE_FROM_S) / (PAUSE_DEEP_S - PAUSE_FROM_S), 0.0, 1.0)
    to_long = np.clip((distance_s - PAUSE_DEEP_S) / (LONG_PAUSE_S - PAUSE_DEEP_S), 0.0, 1.0)
    return (near + (pause - near) * to_pause + (reduction_db - pause) * to_long).astype(np.float32)


def gain_from_parts(
    parts: GainParts,
    floor_db: np.ndarray,
    reduction_db: float,
    bands: np.ndarray | None = None,
    band_floor: np.ndarray | None = None,
) -> np.ndarray:
    """OM-LSA gain of every bin (before smoothing over time), with each frame's floor ``floor_db`` ``(n_channels, n)``.

    The bins of ``bands`` (:func:`high_bands`), when given, take their band's
    floor ``band_floor`` ``(n_channels, n_bands, n)`` (:func:`band_floor_db`) instead.

    Returns
    -------
    np.ndarray [shape=parts.xi.shape, dtype=float32]
        Gain between ``10 ** (-reduction_db / 20)`` and 1.
    """
    arrays = parts.xi, parts.v, parts.g_lsa, parts.presence
    log_floor = floor_db[:, None, :] * -_NEPERS_PER_DB
    if bands is None or not len(bands):
        return np.ascontiguousarray(_om_lsa(*arrays, log_floor, np.exp(log_floor), reduction_db))
    # The frames' floor below the bands, each band's own in it, bin by bin; the exponential is taken
    # once per band, not once per bin.
    log_floor = np.concatenate([log_floor, band_floor * -_NEPERS_PER_DB], axis=1)
    widths = np.diff([0, *bands, parts.xi.shape[1]])
    per_bin = [np.repeat(a, widths, axis=1) for a in (log_floor, np.exp(log_floor))]
    return np.ascontiguousarray(_om_lsa(*arrays, *per_bin, reduction_db))


def _band_level_db(power: np.ndarray, noise: np.ndarray, speech_bins: tuple[int, int] | None) -> np.ndarray:
    """Speech-band level of each frame above the noise there, in dB, ``(n_channels, n_frames)``.

    The band power is a causal mean over ``PRESENCE_AVG_FRAMES`` frames.
    """
    lo, hi = speech_bins if speech_bins is not None else (0, power.shape[1])
    band_power = power[:, lo:hi].sum(axis=1, dtype=np.float64)
    if PRESENCE_AVG_FRAMES > 1:
        # Causal mean over the last frames: steadier against the chance swings of noise.
        padded = np.concatenate([np.repeat(band_power[:, :1], PRESENCE_AVG_FRAMES - 1, axis=-1), band_power], axis=-1)
        band_power = np.lib.stride_tricks.sliding_window_view(padded, PRESENCE_AVG_FRAMES, axis=-1).mean(axis=-1)
    band_noise = np.maximum(noise[lo:hi].sum(axis=0, dtype=np.float64), _TINY)
    return 10.0 * np.log10(np.maximum(band_power / band_noise, _TINY))


def _frame_presence(level_db: np.ndarray, offset_db: float, n_tail: int, hop_s: float) -> np.ndarray:
    """How surely each frame holds speech, 0 to 1, shape ``(n_channels, n_frames - n_tail)``.

    It rises from 0 to 1 as the frame's speech-band level above the noise
    (:func:`_band_level_db`) climbs from ``offset_db`` to
    ``offset_db + PRESENCE_RANGE_DB``, and holds its highest value for
    ``PRESENCE_HOLD_S`` after (over the tail frames too, so the result does
    not depend on block sizes).
    """
    presence = np.clip((level_db - offset_db) / PRESENCE_RANGE_DB, 0.0, 1.0)
    hold = min(DD_WARMUP_FRAMES, round(PRESENCE_HOLD_S / hop_s))
    if hold > 0:
        padded = np.concatenate([np.zeros((*presence.shape[:-1], hold)), presence], axis=-1)
        presence = np.lib.stride_tricks.sliding_window_view(padded, hold + 1, axis=-1).max(axis=-1)
    return presence[:, n_tail:].astype(np.float32)


def voiced_presence(parts: GainParts, near_voice: np.ndarray) -> GainParts:
    """``parts`` with the presence of frames away from any voice lowered to that of a loud sound.

    The level-based presence rises in the pauses of noise that moves (babble,
    traffic); a frame that holds speech lies near a voiced one
    (:class:`~denoise_core.voicing.VoicingTracker`). Away from a voice, only
    a sound ``LOUD_OFFSET_DB`` above the noise still counts, so the gate keeps
    loud sounds of any kind.

    Parameters
    ----------
    parts : GainParts
    near_voice : np.ndarray [shape=(n_channels, parts.n_frames), dtype=bool]
    """
    presence = np.maximum(np.where(near_voice, parts.presence, np.float32(0.0)), parts.loud)
    return GainParts(parts.xi, parts.v, parts.g_lsa, presence, parts.loud, parts.band_snr)


def _decision_directed(power: np.ndarray, gamma: np.ndarray, inv_lam: np.ndarray, n_tail: int):
    """Decision-directed a priori SNR and LSA gain, in parallel segments.

    The recursion restarts from no speech at the start of every segment of
    ``DD_SEGMENT_FRAMES`` frames (counted from frame ``n_tail``) after running
    over the ``DD_WARMUP_FRAMES`` frames before it, which makes its memory
    finite and lets all segments advance together, one frame per step.

    Returns
    -------
    xi, g_lsa : np.ndarray [shape=(n_channels, n_freqs, n_frames - n_tail)]
    """
    n_channels, n_freqs, n_all = power.shape
    n_frames = n_all - n_tail
    seg, warm = DD_SEGMENT_FRAMES, DD_WARMUP_FRAMES
    n_seg = max(1, -(-n_frames // seg))
    # Frame-major, padded: warm-up frames the block lacks are silent frames,
    # which leave the recursion in its start state.
    front = warm - n_tail
    back = n_seg * seg - n_frames

    def frames_major(x):
        x = np.moveaxis(x, -1, 0)
        return np.concatenate(
            [np.zeros((front, *x.shape[1:]), np.float32), x, np.zeros((back, *x.shape[1:]), np.float32)]
        )

    power_t, gamma_t, inv_lam_t = frames_major(power), frames_major(gamma), frames_major(inv_lam)
    gamma_t[:front] = 1e-10
    gamma_t[front + n_all :] = 1e-10
    # Segment k covers padded frames [k * seg, k * seg + warm + seg).
    starts = np.arange(n_seg) * seg
    steps = np.arange(warm + seg)[:, None] + starts[None, :]
    # alpha * |S_prev|^2 / lambda = |G_prev|^2 * (alpha * |Y_prev|^2 / lambda); the factor in
    # brackets is known beforehand (at a segment's first step G_prev is 0).
    weighted = np.float32(DD_ALPHA) * power_t[steps - 1] * inv_lam_t[steps][..., None, :]
    ml_term = np.float32(1.0 - DD_ALPHA) * np.maximum(gamma_t[steps] - 1.0, 0.0)
    gamma_s = gamma_t[steps]
    xi_min, one = np.float32(10 ** (XI_MIN_DB / 10)), np.float32(1.0)
    xi_all = np.empty((warm + seg, n_seg, n_channels, n_freqs), dtype=np.float32)
    lsa_all = np.empty_like(xi_all)
    g_sq = np.zeros((n_seg, n_channels, n_freqs), dtype=np.float32)
    for t in range(warm + seg):
        xi = np.multiply(g_sq, weighted[t], out=xi_all[t])
        xi += ml_term[t]
        np.maximum(xi, xi_min, out=xi)
        ratio = xi / (xi + one)
        g_lsa = np.multiply(ratio, _half_exp_e1(gamma_s[t] * ratio), out=lsa_all[t])
        np.minimum(g_lsa, one, out=g_lsa)
        g_sq = g_lsa * g_lsa
    xi_out, lsa_out = xi_all[warm:], lsa_all[warm:]

    def back_to_bins(x):
        # (seg, n_seg, C, F) -> (C, F, n_seg * seg), cropped to the block.
        return np.moveaxis(x.reshape(seg * 1, n_seg, n_channels, n_freqs), 0, 1).reshape(
            n_seg * seg, n_channels, n_freqs
        ).transpose(1, 2, 0)[..., :n_frames]

    return back_to_bins(xi_out), back_to_bins(lsa_out)


def _om_lsa(
    xi: np.ndarray,
    v: np.ndarray,
    g_lsa: np.ndarray,
    presence: np.ndarray,
    log_floor: np.ndarray,
    floor: np.ndarray,
    reduction_db: float,
) -> np.ndarray:
    """``g_lsa ** p * G_min ** (1 - p)`` with the speech presence probability ``p``.

    ``p`` is the bin's OM-LSA speech presence probability times the frame's
    ``presence`` (see :func:`_frame_presence`): in a frame without speech every
    bin falls to the floor, so isolated noise peaks cannot come through as
    "musical noise". ``G_min`` is ``floor``, ``exp(log_floor)`` (both broadcast
    over bins, or one per bin); the result is clipped to ``[10 ** (-reduction_db / 20), 1]``.
    """
    prior_ratio = np.float32(SPEECH_ABSENCE_PRIOR / (1.0 - SPEECH_ABSENCE_PRIOR))
    p = 1.0 / (1.0 + prior_ratio * (1.0 + xi) * np.exp(-np.minimum(v, np.float32(80.0))))
    p = p * presence[:, None, :]
    log_g = np.log(np.maximum(g_lsa, floor))
    gain = np.exp(log_floor + p * (log_g - log_floor))
    g_min = np.float32(10 ** (-reduction_db / 20))
    return np.clip(gain, g_min, np.float32(1.0)).astype(np.float32, copy=False)


def _triangle_smooth(x: np.ndarray, half_width: int, axis: int) -> np.ndarray:
    """Weighted moving average with a triangular kernel of ``2 * half_width + 1`` taps.

    The kernel is two boxes of ``half_width + 1`` taps, one after the other.
    Near the edges it is cut and renormalised, so a constant stays constant.
    """
    n = x.shape[axis]
    half_width = min(half_width, n - 1)
    if half_width <= 0:
        return x
    m = half_width + 1
    moved = np.moveaxis(x, axis, -1)
    padded = np.zeros((*moved.shape[:-1], n + 2 * half_width), dtype=x.dtype)
    padded[..., half_width : half_width + n] = moved
    out = running_reduce(running_reduce(padded, m), m)
    norm = running_reduce(running_reduce(np.pad(np.ones(n), half_width), m), m)
    out /= norm.astype(x.dtype)
    return np.moveaxis(out, -1, axis)


def smooth_gain(gain: np.ndarray, time_frames: int) -> np.ndarray:
    """Smooth a gain over time with a triangular kernel (over frequency, the a priori SNR is smoothed instead).

    Parameters
    ----------
    gain : np.ndarray [shape=(..., n_freqs, n_frames)]
    time_frames : int
        Half-width of the kernel over time, in frames (0 for none).

    Returns
    -------
    np.ndarray
        Same shape and dtype; a constant gain is left unchanged.
    """
    return _triangle_smooth(gain, time_frames, -1)
