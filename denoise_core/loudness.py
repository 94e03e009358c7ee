"""Loudness and true peak (ITU-R BS.1770-4), normalisation and a true-peak limiter.

Measuring
---------
:class:`LoudnessMeter` gives the integrated loudness in LUFS: K-weighting (a
high shelf and a high-pass, derived for any sample rate the way libebur128 does,
so that at 48 kHz they are the coefficients of the standard's table), mean square
over 400 ms blocks that overlap by 75 % (a step of 100 ms), channel weights, an
absolute gate at -70 LUFS and a relative gate 10 LU below the loudness of the
blocks that passed the first. Silence, or audio shorter than one 400 ms block,
has no gated block and reads ``-inf``.

:class:`TruePeakMeter` gives the true peak in dBTP: the largest absolute value of
the signal oversampled four times with the polyphase FIR of BS.1770-4 Annex 2
(4 phases of 12 taps), together with the samples themselves.

Both are streaming: blocks ``(n_channels, n)`` are pushed in any sizes, and the
result is bit for bit the one for the whole array (the arithmetic runs on fixed
100 ms segments, see :class:`denoise_core.filters.ChunkBuffer`).

Normalizing
-----------
:meth:`LoudnessMeter.gain_to` is the gain that moves what it measured to a target
loudness; :class:`TruePeakLimiter` then keeps the 4x-oversampled peak at or below a
ceiling.
It looks ahead ``lookahead_ms`` (5 ms): the gain falls over that time before a peak,
so the peak is already down when it arrives, and rises again with a release of
``release_ms`` (150 ms, on the gain in dB) that is slow enough not to follow the
syllables of speech (no pumping). One gain is applied to every channel, so the
stereo image does not move. :mod:`denoise_core.finishing` chains them, block by block.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .errors import ParameterError
from .filters import (
    AlignedStream,
    ChunkBuffer,
    IirCascade,
    as_channels_first,
)
from .running import running_reduce
from .validation import validate_sr

__all__ = [
    "ABSOLUTE_GATE_LUFS",
    "CEILING_RANGE_DBTP",
    "LIMITER_MARGIN_DB",
    "RELATIVE_GATE_LU",
    "TARGET_RANGE_LUFS",
    "LoudnessMeter",
    "TruePeakLimiter",
    "TruePeakMeter",
    "channel_weights",
    "check_ceiling_dbtp",
    "check_target_lufs",
    "integrated_loudness",
    "k_weighting_sos",
]

#: Loudness targets accepted, in LUFS.
TARGET_RANGE_LUFS = (-40.0, -5.0)

#: True-peak ceilings accepted, in dBTP.
CEILING_RANGE_DBTP = (-12.0, 0.0)

#: Absolute gate of BS.1770-4, in LUFS.
ABSOLUTE_GATE_LUFS = -70.0

#: Relative gate of BS.1770-4, in LU below the loudness of the blocks above the absolute gate.
RELATIVE_GATE_LU = 10.0

#: Segments of 100 ms per 400 ms gating block.
_SEGMENTS_PER_BLOCK = 4

#: BS.1770-4 Annex 2: the 48-tap interpolation filter as 4 phases of 12 taps.
_TRUE_PEAK_PHASES = np.array(
    [
        [0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000,
         -0.0594482421875, 0.1373291015625, 0.9721679687500, -0.1022949218750,
         0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500],
        [-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250,
         -0.1665039062500, 0.4650878906250, 0.7797851562500, -0.2003173828125,
         0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375],
        [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000,
         -0.2003173828125, 0.7797851562500, 0.4650878906250, -0.1665039062500,
         0.0891113281250, -0.0517578125000, 0.0292968750000, -0.0291748046875],
        [-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750,
         -0.1022949218750, 0.9721679687500, 0.1373291015625, -0.0594482421875,
         0.0332031250000, -0.0196533203125, 0.0109863281250, 0.0017089843750],
    ]
)  # fmt: skip
_TAPS = _TRUE_PEAK_PHASES.shape[1]

#: Applied to window ``w`` (``w[j]`` = sample ``n - 11 + j``), gives the 4 phases for input ``n``.
_WINDOW_TO_PHASES = np.ascontiguousarray(_TRUE_PEAK_PHASES[:, ::-1].T)

#: Samples per chunk of the true-peak meter and of the limiter.
_PEAK_CHUNK = 4096

#: Headroom the limiter keeps below the ceiling, in dB, for the small error of a gain
#: that changes within the 12 taps of the interpolator.
LIMITER_MARGIN_DB = 0.1

#: Steps of :meth:`LoudnessMeter.gain_to` (the absolute gate can move with the gain).
_GAIN_STEPS = 4


def k_weighting_sos(sr: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The two biquads of the K-weighting at a sample rate.

    Parameters
    ----------
    sr : float
        Sample rate, in Hz.

    Returns
    -------
    tuple of two (b0, b1, b2, a0, a1, a2)
        The high shelf (+4 dB above ~1.7 kHz, the head) then the high-pass at ~38 Hz
        (RLB). Derived from analogue prototypes by the bilinear transform with the
        parameters libebur128 fitted to the 48 kHz table, so at 48 kHz they match
        BS.1770-4 Table 1 and 2 to about 1e-8.
    """
    k = math.tan(math.pi * 1681.974450955533 / sr)
    q = 0.7071752369554196
    vh = 10.0 ** (3.999843853973347 / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = (
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    )
    k = math.tan(math.pi * 38.13547087602444 / sr)
    q = 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    high_pass = (1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0)
    return shelf, high_pass


def channel_weights(n_channels: int) -> np.ndarray:
    """BS.1770-4 channel weights for the usual channel orders (WAV / soundfile).

    Parameters
    ----------
    n_channels : int

    Returns
    -------
    np.ndarray [shape=(n_channels,)]
        1.0 for every channel of mono to 4-channel audio. 5 channels are taken as
        L, R, C, Ls, Rs (surrounds 1.41); 6 as 5.1, L, R, C, LFE, Ls, Rs (LFE 0);
        8 as 7.1, L, R, C, LFE, Lb, Rb, Ls, Rs (LFE 0, the four surrounds 1.41).
        Other counts get 1.0 everywhere; pass weights to :class:`LoudnessMeter`
        for another layout.
    """
    layouts = {
        5: [1.0, 1.0, 1.0, 1.41, 1.41],
        6: [1.0, 1.0, 1.0, 0.0, 1.41, 1.41],
        8: [1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.41, 1.41],
    }
    return np.array(layouts.get(n_channels, [1.0] * n_channels))


class LoudnessMeter:
    """Integrated loudness (BS.1770-4), fed block by block.

    Parameters
    ----------
    sr : float
        Sample rate, in Hz (8000 to 192000).
    n_channels : int
    weights : sequence of float, optional
        One weight per channel; default :func:`channel_weights`.

    Notes
    -----
    The 100 ms step is ``round(sr / 10)`` samples and a block is four steps. Only
    complete blocks count, so the last partial block of a recording is left out.

    Examples
    --------
    >>> meter = LoudnessMeter(48000, n_channels=2)
    >>> for block in blocks:            # each (2, n), any n
    ...     meter.push(block)
    >>> meter.integrated_lufs()
    -23.0
    """

    def __init__(self, sr: float, n_channels: int = 1, *, weights: Sequence[float] | None = None) -> None:
        self.sr = validate_sr(sr)
        self.n_channels = int(n_channels)
        self.weights = channel_weights(self.n_channels) if weights is None else np.asarray(weights, dtype=float)
        if self.weights.shape != (self.n_channels,) or np.any(self.weights < 0):
            raise ParameterError(
                f"Give one weight of 0 or more per channel ({self.n_channels}), got {list(self.weights)}."
            )
        self.segment = round(self.sr / 10)
        self._chunks = ChunkBuffer(self.n_channels, self.segment)
        self._filter = IirCascade(k_weighting_sos(self.sr), n_channels=self.n_channels)
        self._energies: list[np.ndarray] = []

    def push(self, block: np.ndarray) -> None:
        """Feed samples ``(n_channels, n)``, in order."""
        for chunk in self._chunks.feed(block):
            weighted = self._filter.process(chunk)
            self._energies.append(np.einsum("cn,cn->c", weighted, weighted))

    def block_loudness(self) -> np.ndarray:
        """Loudness of every complete 400 ms block so far, in LUFS, ungated."""
        power = self._block_power()
        with np.errstate(divide="ignore"):
            return -0.691 + 10.0 * np.log10(power @ self.weights)

    def integrated_lufs(self, gain_db: float = 0.0) -> float:
        """Gated integrated loudness of everything pushed so far, in LUFS.

        Parameters
        ----------
        gain_db : float
            Measure it as if the audio had been ``gain_db`` louder (the gates
            move with it: the block powers are scaled, not the result).

        Returns
        -------
        float
            ``-inf`` when no block passes the gates: silence, audio quieter than
            -70 LUFS throughout, or shorter than 400 ms.
        """
        power = self._block_power() * 10.0 ** (gain_db / 10.0)
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10.0 * np.log10(power @ self.weights)
        above = loudness > ABSOLUTE_GATE_LUFS
        if not np.any(above):
            return -math.inf
        relative = -0.691 + 10.0 * math.log10(power[above].mean(axis=0) @ self.weights) - RELATIVE_GATE_LU
        gated = above & (loudness > relative)
        return float(-0.691 + 10.0 * math.log10(power[gated].mean(axis=0) @ self.weights))

    def gain_to(self, target_lufs: float) -> float:
        """The gain in dB that brings what was measured to ``target_lufs`` (0 for silence).

        Parameters
        ----------
        target_lufs : float
            From -40 to -5 LUFS (podcasts -16, broadcast -23, streaming -14).

        Returns
        -------
        float
            Solved on the metered block powers, so the absolute gate moves with
            the gain: :meth:`integrated_lufs` of that gain is the target, to
            rounding, unless blocks cross the gate at every step.
        """
        target = check_target_lufs(target_lufs)
        gain_db = 0.0
        for _ in range(_GAIN_STEPS):
            measured = self.integrated_lufs(gain_db)
            if measured == -math.inf:
                return 0.0
            gain_db += target - measured
        return gain_db

    def _block_power(self) -> np.ndarray:
        n_blocks = len(self._energies) - _SEGMENTS_PER_BLOCK + 1
        if n_blocks <= 0:
            return np.zeros((0, self.n_channels))
        energies = np.array(self._energies)
        sums = sum(energies[i : i + n_blocks] for i in range(_SEGMENTS_PER_BLOCK))
        return sums / (_SEGMENTS_PER_BLOCK * self.segment)


def integrated_loudness(y: np.ndarray, sr: float) -> float:
    """Integrated loudness of a whole recording (BS.1770-4), in LUFS.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, channels)]
        Audio in soundfile layout, full scale 1.0.
    sr : float
        Sample rate, in Hz.

    Returns
    -------
    float
        ``-inf`` for silence or audio shorter than 400 ms (see :class:`LoudnessMeter`).
    """
    x = as_channels_first(y, sr)
    meter = LoudnessMeter(sr, x.shape[0])
    meter.push(x)
    return meter.integrated_lufs()


def _interpolated_peaks(extended: np.ndarray) -> np.ndarray:
    """Peak per sample, linked over channels, of ``extended`` = 11 samples of history + n new.

    Returns ``(n,)``: for each new sample ``i`` (at ``extended[:, 11 + i]``), the
    largest absolute value among the four interpolated points of the Annex 2 filter
    fed up to that sample and the sample 5 places earlier. The filter's delay is 5.875
    samples, so value ``i`` covers the span from sample ``i - 6`` to ``i - 5``.
    """
    n = extended.shape[1] - (_TAPS - 1)
    windows = np.lib.stride_tricks.sliding_window_view(extended, _TAPS, axis=1)
    phases = (windows @ _WINDOW_TO_PHASES).transpose(0, 2, 1).reshape(-1, n)
    samples = extended[:, _TAPS - 7 : _TAPS - 7 + n]
    return np.abs(np.concatenate([phases, samples])).max(axis=0)


class TruePeakMeter:
    """True peak (BS.1770-4 Annex 2, 4x oversampling), fed block by block.

    Parameters
    ----------
    sr : float
        Sample rate, in Hz (8000 to 192000; the samples are oversampled 4x at every rate).
    n_channels : int
    """

    def __init__(self, sr: float, n_channels: int = 1) -> None:
        self.sr = validate_sr(sr)
        self.n_channels = int(n_channels)
        self._chunks = ChunkBuffer(self.n_channels, _PEAK_CHUNK)
        self._history = np.zeros((self.n_channels, _TAPS - 1))
        self._peak = 0.0

    def push(self, block: np.ndarray) -> None:
        """Feed samples ``(n_channels, n)``, in order."""
        for chunk in self._chunks.feed(block):
            extended = np.concatenate([self._history, chunk], axis=1)
            self._history = extended[:, -(_TAPS - 1) :]
            self._peak = max(self._peak, float(_interpolated_peaks(extended).max()))

    def true_peak(self) -> float:
        """Largest absolute value so far, oversampled, linear (1.0 is full scale).

        The samples not yet in a chunk and the filter's tail (the signal taken to end
        in silence) are included without changing the meter.
        """
        tail = np.concatenate(
            [self._history, self._chunks.remainder, np.zeros((self.n_channels, _TAPS))], axis=1
        )
        return max(self._peak, float(_interpolated_peaks(tail).max()))

    def dbtp(self) -> float:
        """:meth:`true_peak` in dBTP (``-inf`` for silence)."""
        peak = self.true_peak()
        return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def check_target_lufs(target_lufs: float) -> float:
    """Check a loudness target; return it as a float (:class:`ParameterError` if out of range)."""
    low, high = TARGET_RANGE_LUFS
    if not isinstance(target_lufs, (int, float)) or not low <= target_lufs <= high:
        raise ParameterError(f"The loudness target must be from {low:g} to {high:g} LUFS, got {target_lufs!r}.")
    return float(target_lufs)


def check_ceiling_dbtp(ceiling_dbtp: float) -> float:
    """Check a true-peak ceiling; return it as a float (:class:`ParameterError` if out of range)."""
    low, high = CEILING_RANGE_DBTP
    if not isinstance(ceiling_dbtp, (int, float)) or not low <= ceiling_dbtp <= high:
        raise ParameterError(f"The true-peak ceiling must be from {low:g} to {high:g} dBTP, got {ceiling_dbtp!r}.")
    return float(ceiling_dbtp)


class TruePeakLimiter(AlignedStream):
    """Look-ahead limiter that keeps the 4x-oversampled peak at or below a ceiling.

    Parameters
    ----------
    sr : float
        Sample rate, in Hz (8000 to 192000).
    n_channels : int
        Channels, all given one gain (linked).
    ceiling_dbtp : float
        Ceiling, in dBTP (-12 to 0). The limiter aims 0.1 dB below it.
    lookahead_ms : float
        Look-ahead and attack time, in ms (1 to 20).
    release_ms : float
        Time constant of the recovery of the gain in dB, in ms (10 to 1000).

    Attributes
    ----------
    latency : int
        ``lookahead + 12`` samples, removed internally (output sample ``i`` is input
        sample ``i`` times its gain; :meth:`finish` returns the held-back samples).
    gain_reduction_db : float
        Largest gain reduction applied so far, in dB (0 if the limiter never acted).

    Notes
    -----
    For every sample the gain needed is ``ceiling / peak``, where the peak covers the
    oversampled points next to it. The gain applied is the smallest needed over the
    look-ahead (and the 12 interpolator taps each side), released exponentially in
    dB, then averaged over the look-ahead: the average of values that are all below
    the need of a peak is below it too, so the peak is met without overshoot, and
    the gain has no corner (no click).
    """

    def __init__(
        self,
        sr: float,
        n_channels: int = 1,
        *,
        ceiling_dbtp: float = -1.0,
        lookahead_ms: float = 5.0,
        release_ms: float = 150.0,
    ) -> None:
        sr = validate_sr(sr)
        ceiling = check_ceiling_dbtp(ceiling_dbtp)
        if not 1.0 <= lookahead_ms <= 20.0:
            raise ParameterError(f"The look-ahead must be from 1 to 20 ms, got {lookahead_ms!r}.")
        if not 10.0 <= release_ms <= 1000.0:
            raise ParameterError(f"The release must be from 10 to 1000 ms, got {release_ms!r}.")
        self.ceiling_dbtp = ceiling
        self._limit = 10.0 ** ((ceiling - LIMITER_MARGIN_DB) / 20.0)
        self._lookahead = max(1, round(lookahead_ms * sr / 1000.0))
        self._release_log = -1000.0 / (release_ms * sr)
        self.latency = self._lookahead + _TAPS
        self._x_history = np.zeros((int(n_channels), self._lookahead + 2 * _TAPS - 1))
        self._gain_history = np.ones(self._lookahead)
        self._reduction_db = 0.0
        self.gain_reduction_db = 0.0
        super().__init__(int(n_channels), _PEAK_CHUNK)

    def _process(self, chunk: np.ndarray) -> np.ndarray:
        n = chunk.shape[1]
        x = np.concatenate([self._x_history, chunk], axis=1)
        self._x_history = x[:, n:]
        peaks = _interpolated_peaks(x)
        with np.errstate(divide="ignore"):
            need = np.minimum(1.0, self._limit / peaks)
        held = running_reduce(need, self._lookahead + _TAPS + 1, np.minimum)
        gain = self._release(held)
        self.gain_reduction_db = max(self.gain_reduction_db, float(-20.0 * np.log10(gain.min())))
        padded = np.concatenate([self._gain_history, gain])
        self._gain_history = padded[n:]
        sums = np.concatenate([[0.0], np.cumsum(padded)])
        smooth = np.minimum(1.0, (sums[self._lookahead + 1 :] - sums[: n]) / (self._lookahead + 1))
        return x[:, _TAPS - 1 : _TAPS - 1 + n] * smooth

    def _release(self, held: np.ndarray) -> np.ndarray:
        """Gain ``held`` with its reduction in dB let go at most exponentially (instant attack).

        The reduction follows ``d[j] = max(u[j], a d[j-1])``, solved without a loop as
        ``log d[j] = j log a + max_{k <= j} (log u[k] - k log a)``.
        """
        if self._reduction_db == 0.0 and held.min() >= 1.0:
            return held
        with np.errstate(divide="ignore"):
            reduction = -20.0 * np.log10(held)
            log_u = np.log(np.maximum(reduction, 0.0))
        steps = np.arange(held.size) * self._release_log
        carried = (math.log(self._reduction_db) if self._reduction_db > 0 else -math.inf) + self._release_log
        log_d = np.maximum(np.maximum.accumulate(log_u - steps) + steps, carried + steps)
        depth = np.exp(log_d)
        self._reduction_db = float(depth[-1])
        return 10.0 ** (-depth / 20.0)
