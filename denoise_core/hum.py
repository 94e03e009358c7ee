"""Mains hum: find the fundamental near 50 or 60 Hz and take its harmonic lines out.

Two pieces, both NumPy only:

* :func:`detect_hum` looks at a stretch of audio (the noise window, or the
  first seconds) and returns the precise fundamental in Hz, or ``None`` when
  no steady harmonic series near 50 or 60 Hz stands out of the background;
* :class:`HumRemover` subtracts the fundamental and its harmonics block by
  block, with no added latency: it models the hum as a sum of harmonics of a
  tracked fundamental, ``sum_k Re(c_k exp(j k phi(t)))``, and subtracts the
  model predicted from the past. After every frame of a whole number of
  periods (about 0.1 s) it measures the harmonics' phasors, follows the
  fundamental's drift with a third-order phase-locked loop and updates the
  phasors slowly, so each line gets a notch about 0.6 Hz wide that follows
  the mains frequency. Where speech covers the lines, the loop coasts and the
  phasors learn slower. Whatever the block sizes, the output is the same
  sample for sample (the model of a frame is fixed when the frame starts).

:meth:`HumRemover.report` says what was removed (:class:`HumReport`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import AudioInputError, ParameterError
from .filters import as_channels_first
from .source import Source
from .validation import validate_sr

__all__ = [
    "HUM_MODES",
    "MIN_DETECT_S",
    "Dehummed",
    "HumRemover",
    "HumReport",
    "detect_hum",
]

#: Choices of the hum switch: find it, force a nominal base (the exact
#: frequency is still measured), or leave the audio alone.
HUM_MODES = ("auto", "50", "60", "off")

#: Shortest stretch, in seconds, the detector can tell a hum from: it needs a
#: few tens of periods to resolve the lines and measure their drift.
MIN_DETECT_S = 0.5

#: Longest stretch, in seconds, the detector analyses (the start of what it is given).
MAX_DETECT_S = 8.0

#: How far the fundamental may sit from 50 or 60 Hz, in Hz (mains is held
#: within about 0.2 Hz; cheap generators and tape speed drift further).
SEARCH_HZ = 1.0

#: Line-to-background ratio, in dB (mean over harmonics), above which "auto"
#: calls a hum present. On the public speech and noise recordings and on white
#: noise, with stretches of 0.5 to 4 s, it never passed 5.7 dB; a hum 10 dB
#: below white noise (broadband RMS) reads 11.7 dB or more.
DETECT_THRESHOLD_DB = 8.0

#: Default number of harmonics removed (the fundamental counts as the first).
DEFAULT_N_HARMONICS = 20


@dataclass(frozen=True)
class HumReport:
    """What the hum remover did, in numbers a person can read.

    Attributes
    ----------
    mode : str
        The switch as set: ``"auto"``, ``"50"``, ``"60"`` or ``"off"``.
    status : str
        ``"removed"``, ``"not found"`` (auto found no hum), ``"too short"``
        (the stretch was shorter than :data:`MIN_DETECT_S`, or the recording
        shorter than one frame of the remover, 0.1 s) or ``"off"``.
    f0_hz : float or None
        The fundamental measured at the start, in Hz (``None`` unless removed).
    f0_range_hz : (float, float) or None
        Lowest and highest fundamental the tracker followed, in Hz.
    n_harmonics : int
        Number of harmonic lines removed, the fundamental included (0 unless removed).
    hum_level_dbfs : float
        RMS level of what was taken out, in dB relative to full scale
        (``-inf`` when nothing was).
    removed_db : float
        By how many dB the recording's power went down (0 when nothing was removed).
    """

    mode: str
    status: str
    f0_hz: float | None = None
    f0_range_hz: tuple[float, float] | None = None
    n_harmonics: int = 0
    hum_level_dbfs: float = float("-inf")
    removed_db: float = 0.0

    def describe(self) -> str:
        """One line for a user: what was found and removed."""
        if self.status == "removed":
            return (
                f"Hum at {self.f0_hz:.2f} Hz removed ({self.n_harmonics} lines, "
                f"{self.hum_level_dbfs:.1f} dBFS, recording {self.removed_db:.1f} dB quieter)."
            )
        if self.status == "too short":
            return f"Hum not checked: less than {MIN_DETECT_S} s of audio to detect it on."
        if self.status == "not found":
            return "No mains hum found."
        return "Hum removal is off."


def _check_mode(mode: str) -> str:
    if mode not in HUM_MODES:
        raise ParameterError(f"The hum mode is {mode!r}; it must be one of {', '.join(HUM_MODES)}.")
    return mode


def _harmonic_count(f0_hz: float, sr: float, n_harmonics: int) -> int:
    """Harmonics to remove: at most ``n_harmonics``, all below 0.45 * sr."""
    return int(max(1, min(n_harmonics, np.floor(0.45 * sr / f0_hz))))


# --------------------------------------------------------------------------- detection


def _line_spectrum(channels: np.ndarray, sr: float) -> tuple[np.ndarray, float]:
    """Power spectrum summed over channels of a Hann-windowed stretch, zero-padded 8 times; and its bin width in Hz."""
    n = channels.shape[-1]
    n_fft = 1 << int(np.ceil(np.log2(8 * n)))
    window = np.hanning(n + 2)[1:-1]
    spec = np.fft.rfft(channels.astype(np.float64) * window, n=n_fft, axis=-1)
    return (np.abs(spec) ** 2).sum(axis=0), sr / n_fft


def _harmonic_sum(power: np.ndarray, bin_hz: float, f0_grid: np.ndarray, n_harmonics: int) -> np.ndarray:
    """Sum over harmonics but the strongest of the power (linearly interpolated) at ``k * f0``, for every ``f0``.

    Leaving out the strongest keeps one loud tone that happens to sit on
    some harmonic of a wrong candidate from outweighing a series of lines.
    """
    k = np.arange(1, n_harmonics + 1)
    pos = np.outer(f0_grid, k) / bin_hz
    lo = np.floor(pos).astype(int)
    frac = pos - lo
    lines = (1 - frac) * power[lo] + frac * power[lo + 1]
    return lines.sum(axis=1) - lines.max(axis=1)


def _line_to_background_db(power: np.ndarray, bin_hz: float, f0_hz: float, n_harmonics: int) -> float:
    """How far, in dB, the harmonic lines of ``f0_hz`` stand above the spectrum between them.

    The line power of harmonic ``k`` is the largest bin within 0.5 Hz of
    ``k * f0_hz``; its background is the median of the bins from 4 Hz to
    ``f0_hz / 2`` away on both sides. The result is the mean over harmonics
    of their ratios in dB, each clipped to 0 to 30 dB, so neither one strong
    line (a held vowel) nor one deep gap decides it.
    """
    half = int(np.ceil(0.5 / bin_hz))
    inner, outer = int(np.ceil(4.0 / bin_hz)), int(np.floor(0.5 * f0_hz / bin_hz))
    ratios = np.empty(n_harmonics)
    for k in range(1, n_harmonics + 1):
        centre = round(k * f0_hz / bin_hz)
        line = float(power[centre - half : centre + half + 1].max())
        around = np.concatenate([power[centre - outer : centre - inner], power[centre + inner : centre + outer]])
        ratios[k - 1] = 10 * np.log10(max(line, 1e-30) / max(float(np.median(around)), 1e-30))
    return float(np.clip(ratios, 0.0, 30.0).mean())


def _refine_f0(power: np.ndarray, bin_hz: float, base_hz: float, n_harmonics: int) -> float:
    """The fundamental within :data:`SEARCH_HZ` of ``base_hz`` whose harmonics stand highest."""
    grid = base_hz + np.arange(-SEARCH_HZ, SEARCH_HZ + 1e-9, 0.01)
    score = _harmonic_sum(power, bin_hz, grid, n_harmonics)
    best = int(np.argmax(score))
    fine = grid[best] + np.linspace(-0.01, 0.01, 21)
    fine_score = _harmonic_sum(power, bin_hz, fine, n_harmonics)
    return float(fine[int(np.argmax(fine_score))])


def _decimated(channels: np.ndarray, sr: float) -> tuple[np.ndarray, float]:
    """The stretch averaged over blocks of ``sr // 6000`` samples, and its rate (6 to 12 kHz).

    Detection looks at the lines below about 1.3 kHz only; the block mean
    (a crude low-pass, -0.6 dB at 1.2 kHz) cuts the cost of the long FFTs.
    """
    factor = max(1, int(sr // 6000))
    n = channels.shape[-1] // factor * factor
    return channels[:, :n].reshape(channels.shape[0], -1, factor).mean(axis=-1), sr / factor


def _measure(spectra: list, base_hz: float, sr: float, n_harmonics: int) -> tuple[float, float]:
    """(precise fundamental in Hz, line-to-background ratio in dB) for the base ``base_hz``.

    ``spectra`` holds ``(power, bin_hz)`` of the whole stretch, then of its
    halves when it is long enough to split: the ratio is the smallest, so a
    hum must be steady to count.
    """
    k = _harmonic_count(base_hz + SEARCH_HZ, sr, n_harmonics)
    f0 = _refine_f0(*spectra[0], base_hz, k)
    return f0, min(_line_to_background_db(power, bin_hz, f0, k) for power, bin_hz in spectra)


def _detect(channels: np.ndarray, sr: float, mode: str, n_harmonics: int) -> tuple[str, float | None, float]:
    """(status, fundamental, line-to-background ratio in dB) from a checked stretch ``(n_channels, n)``.

    A forced base on a stretch too short to measure is taken as it is (ratio nan).
    """
    if mode == "off":
        return "off", None, float("nan")
    if channels.shape[-1] < MIN_DETECT_S * sr:
        return ("too short", None, float("nan")) if mode == "auto" else ("removed", float(mode), float("nan"))
    stretch, rate = _decimated(channels[:, : int(MAX_DETECT_S * sr)], sr)
    n = stretch.shape[-1]
    parts = [stretch] + ([stretch[:, : n // 2], stretch[:, n // 2 :]] if n >= 2 * MIN_DETECT_S * rate else [])
    spectra = [_line_spectrum(part, rate) for part in parts]
    if mode != "auto":
        # Where the lines do not stand out (speech over a weak hum), the
        # strongest series near the base may be the speech's: keep the base.
        f0, ratio = _measure(spectra, float(mode), rate, n_harmonics)
        return "removed", f0 if ratio >= DETECT_THRESHOLD_DB else float(mode), ratio
    f0, ratio = max((_measure(spectra, base, rate, n_harmonics) for base in (50.0, 60.0)), key=lambda item: item[1])
    return ("not found", None, ratio) if ratio < DETECT_THRESHOLD_DB else ("removed", f0, ratio)


def detect_hum(y, sr, *, mode: str = "auto", n_harmonics: int = DEFAULT_N_HARMONICS) -> float | None:
    """Find mains hum in a stretch of audio and return its precise fundamental.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        A stretch of the recording, ideally without speech (the noise window
        or the first seconds); at most its first :data:`MAX_DETECT_S` seconds
        are analysed.
    sr : float
        Sample rate in Hz.
    mode : {"auto", "50", "60", "off"}
        ``"auto"`` decides whether a steady harmonic series with its
        fundamental within 1 Hz of 50 or 60 Hz stands at least
        :data:`DETECT_THRESHOLD_DB` above the spectrum between its lines;
        ``"50"`` and ``"60"`` take that base as given and only measure the
        exact fundamental; ``"off"`` returns ``None``.
    n_harmonics : int
        Harmonics (the fundamental counts as the first) the measurement uses.

    Returns
    -------
    f0_hz : float or None
        The fundamental in Hz (to about 0.01 Hz), or ``None`` if the mode is
        ``"off"``, no hum is found, or the stretch is shorter than
        :data:`MIN_DETECT_S` seconds (:func:`remove_hum` reports which). A
        forced base on a stretch that short is returned as it is (50.0 or 60.0).

    Raises
    ------
    ParameterError
        If ``mode`` is not one of :data:`HUM_MODES`.
    AudioInputError
        If ``y`` or ``sr`` is not valid audio.
    """
    mode = _check_mode(mode)
    sr = validate_sr(sr)
    channels = as_channels_first(y, sr).astype(np.float32)
    return _detect(channels, sr, mode, n_harmonics)[1]


# --------------------------------------------------------------------------- removal

#: Frame the tracker measures and updates on, in seconds (rounded to a whole
#: number of periods, so the harmonics do not leak into each other's phasors).
FRAME_S = 0.1

#: Phasor update per frame: the notch around each line is about
#: ``PHASOR_RATE / (pi * frame)`` Hz wide at -3 dB.
PHASOR_RATE = 0.2

#: While a frame holds more than ``HOLD_RATIO`` times the power the model
#: expects at a line (speech over it), that line's phasor learns
#: proportionally slower, down to ``HOLD_MIN`` of its rate: the notch then
#: takes less of the speech into the model and rings less after it.
HOLD_RATIO = 4.0
HOLD_MIN = 0.05

#: Loop weight (sum over harmonics of k**2 times line power over unpredicted
#: power) at which the loop's corrections are halved; the phase error's
#: variance is about 1 / (2 weight).
PLL_TRUST = 2000.0

#: Update per frame of the running power of what the model did not predict.
SPREAD_RATE = 0.1

#: Natural frequency in Hz of the phase-locked loop that follows the
#: fundamental. The loop is of third order: it also integrates the rate of
#: change of the frequency, so a steady drift is followed without a lag
#: (coefficients b3 = 2.4 and a3 = 1.1, Kaplan, "Understanding GPS").
PLL_HZ = 0.7

#: How far the tracked fundamental may move from where it started, in Hz, and
#: how fast, in Hz per second (mains frequency stays within some 0.2 Hz and
#: moves by hundredths of a hertz per second).
MAX_WANDER_HZ = 0.6
MAX_DRIFT_HZ_PER_S = 0.2

#: Most harmonics the remover takes (its tables grow with the number).
MAX_HARMONICS = 60


class HumRemover:
    """Subtract a tracked harmonic series from audio fed block by block, with no delay.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n_channels : int
        Number of channels of the blocks. The fundamental is tracked jointly;
        every channel has its own amplitude and phase per harmonic.
    f0_hz : float
        Starting fundamental in Hz, e.g. from :func:`detect_hum`.
    n_harmonics : int
        Most harmonics removed, the fundamental included, from 1 to
        :data:`MAX_HARMONICS`; fewer if they would pass 0.45 * ``sr``.
    lead_in : np.ndarray [shape=(n_channels, n)], optional
        The recording's first samples (a second or two is plenty). The
        tracker runs over them backwards first, so the hum is already locked
        at sample 0; without them it needs about half a second to lock.

    Notes
    -----
    One period of the hum is held as a waveform on a grid of ``grid_size``
    points; the model of a frame is that waveform read at the tracked phase
    (linear interpolation), and the phasors of a frame are measured by
    spreading its samples onto the same grid (the adjoint of that
    interpolation) and one product with a cosine and sine table. Per sample
    the cost does not depend on the number of harmonics.

    Each line gets a notch about 0.6 Hz wide (-3 dB): a tone 5 Hz from a line
    keeps its level within 0.5 dB, and clean speech changes by about -18 dB
    (the notches hold some 1 % of the band below 1 kHz).

    Blocks go through :meth:`push`, which returns as many samples as it gets,
    aligned with the input; :meth:`finish` returns nothing more (there is no
    look-ahead) and :meth:`report` sums up.
    """

    def __init__(
        self,
        sr: float,
        n_channels: int,
        f0_hz: float,
        *,
        n_harmonics: int = DEFAULT_N_HARMONICS,
        lead_in: np.ndarray | None = None,
    ) -> None:
        sr = validate_sr(sr)
        if not 20.0 <= f0_hz <= 0.45 * sr:
            raise ParameterError(
                f"The hum fundamental is {f0_hz!r} Hz; it must be between 20 Hz and {0.45 * sr:g} Hz (0.45 * sr)."
            )
        if not 1 <= n_harmonics <= MAX_HARMONICS:
            raise ParameterError(f"n_harmonics is {n_harmonics!r}; it must be from 1 to {MAX_HARMONICS}.")
        self.sr = sr
        self.n_channels = int(n_channels)
        self.f0_start_hz = float(f0_hz)
        self.n_harmonics = _harmonic_count(f0_hz, sr, n_harmonics)
        periods = max(1, round(FRAME_S * f0_hz))
        self.frame_length = round(periods * sr / f0_hz)
        # Linear interpolation on the grid keeps every line within 0.2 % (-54 dB) of its value.
        self.grid_size = max(1024, 1 << int(np.ceil(np.log2(32 * self.n_harmonics))))
        self._steps = np.arange(self.frame_length, dtype=np.float64)
        self._harmonics = np.arange(1, self.n_harmonics + 1, dtype=np.float64)
        self._k2 = self._harmonics**2
        angles = 2 * np.pi / self.grid_size * np.outer(self._harmonics, np.arange(self.grid_size))
        cos, sin = np.cos(angles), np.sin(angles)
        # One period from the phasors: [Re c, -Im c] @ this gives the waveform
        # on the grid and its rise to the next grid point.
        wave = np.concatenate([cos, sin])
        self._synthesis = np.concatenate([wave, np.roll(wave, -1, axis=-1) - wave], axis=-1)
        # A frame's phasors from its samples spread on the grid (scaled by 2 / n).
        self._analysis = (2.0 / self.frame_length) * np.concatenate([cos, sin]).T
        self._channel_offset = (self.grid_size + 1) * np.arange(self.n_channels)[:, None]
        wn = 2 * np.pi * PLL_HZ * self.frame_length / sr
        self._pll_phase, self._pll_freq, self._pll_rate = 2.4 * wn, 1.1 * wn * wn, wn**3
        self._rate = 0.0  # change of f0 per frame, in Hz
        self._f_low, self._f_high = f0_hz - MAX_WANDER_HZ, f0_hz + MAX_WANDER_HZ
        self._max_rate = MAX_DRIFT_HZ_PER_S * self.frame_length / sr
        self.f0_hz = self.f0_start_hz
        self._phase = 0.0  # of the fundamental at the start of the frame, in radians
        self._phasors = np.zeros((self.n_channels, self.n_harmonics), dtype=np.complex128)
        self._locked = False
        self._spread = np.zeros(self.n_harmonics)  # recent power of the unpredicted part, per harmonic
        self._frame = np.zeros((self.n_channels, self.frame_length), dtype=np.float32)
        self._pos = 0
        if lead_in is not None and np.shape(lead_in)[-1] >= self.frame_length:
            self._prime(np.asarray(lead_in, dtype=np.float64))
        self._start_frame()
        self._f_seen = (self.f0_hz, self.f0_hz)
        self._power_in = 0.0
        self._power_out = 0.0
        self._power_hum = 0.0
        self._n_samples = 0

    def _start_frame(self) -> None:
        """Fix the grid positions and the hum model of the frame about to start."""
        size = self.grid_size
        where = self._steps * (self.f0_hz / self.sr * size) + self._phase / (2 * np.pi) * size
        below = where.astype(np.int64)
        self._frac = (where - below).astype(np.float32)
        self._below = np.bitwise_and(below, size - 1, out=below)
        # float32 from here: the model is within 1e-7 of its float64 value, far below any residual.
        parts = (np.concatenate([self._phasors.real, -self._phasors.imag], axis=-1) @ self._synthesis).astype(np.float32)
        self._model = np.take(parts[:, :size], self._below, axis=-1)
        self._model += np.take(parts[:, size:], self._below, axis=-1) * self._frac

    def _measure(self) -> np.ndarray:
        """Phasors ``(n_channels, n_harmonics)`` of the frame just completed, at the tracked phase."""
        size = self.grid_size
        upper = self._frame * self._frac
        index = self._below if self.n_channels == 1 else (self._below + self._channel_offset).ravel()
        slots = self.n_channels * (size + 1)
        # Each sample is shared between its two grid points (the adjoint of the interpolation).
        spread = np.bincount(index, (self._frame - upper).ravel(), slots) + np.bincount(index + 1, upper.ravel(), slots)
        spread = spread.reshape(self.n_channels, size + 1)
        spread[:, 0] += spread[:, size]
        parts = spread[:, :size] @ self._analysis
        return parts[:, : self.n_harmonics] - 1j * parts[:, self.n_harmonics :]

    def _end_frame(self) -> None:
        """Move the loop and the phasors on after a complete frame."""
        n = self.frame_length
        measured = self._measure()
        error = 0.0
        if not self._locked:
            self._phasors = measured
            self._locked = True
        else:
            # Each harmonic's phase error, weighted by the inverse of its
            # variance: its power over the recent power of what the model
            # did not predict (speech near that line counts for less).
            surprise = measured - self._phasors
            fresh = (surprise.real**2 + surprise.imag**2).sum(axis=0)
            self._spread += SPREAD_RATE * (fresh - self._spread)
            # A burst of speech counts at once, not only after it has raised the average.
            spread = np.maximum(self._spread, fresh) + 1e-30
            power = (self._phasors.real**2 + self._phasors.imag**2).sum(axis=0)
            weight = float(np.dot(self._k2, power / spread))
            if weight > 0:
                cross = (measured * self._phasors.conj()).imag.sum(axis=0)
                error = min(max(float(np.dot(self._harmonics, cross / spread)) / weight, -0.5), 0.5)
                # The error's variance is about 1 / (2 weight): when speech
                # covers the lines, the loop coasts on its frequency and drift.
                error *= weight / (weight + PLL_TRUST)
            heard = (measured.real**2 + measured.imag**2).sum(axis=0)
            hold = np.clip(HOLD_RATIO * power / (heard + 1e-30), HOLD_MIN, 1.0)
            self._phasors += PHASOR_RATE * hold * surprise
        self._phase = (self._phase + 2 * np.pi * self.f0_hz * n / self.sr + self._pll_phase * error) % (2 * np.pi)
        to_hz = self.sr / (2 * np.pi * n)
        self._rate = min(max(self._rate + self._pll_rate * error * to_hz, -self._max_rate), self._max_rate)
        f0 = self.f0_hz + self._pll_freq * error * to_hz + self._rate
        self.f0_hz = min(max(f0, self._f_low), self._f_high)

    def _prime(self, lead_in: np.ndarray) -> None:
        """Lock onto the lead-in run backwards, then turn the state round to face sample 0."""
        n = self.frame_length
        used = (lead_in.shape[-1] // n) * n
        backwards = lead_in[:, :used][:, ::-1]
        for start in range(0, used, n):
            self._start_frame()
            self._frame[:] = backwards[:, start : start + n]
            self._end_frame()
        # After the reversed run the state describes the reversed signal just
        # before its sample ``used``, i.e. forward sample -1: step one sample
        # on and mirror the phase (a mirrored cosine is the conjugate phasor).
        self._phase = (2 * np.pi * self.f0_hz / self.sr - self._phase) % (2 * np.pi)
        self._phasors = self._phasors.conj()
        self._rate = -self._rate  # a rising frequency falls when played backwards

    def push(self, block: np.ndarray) -> np.ndarray:
        """Remove the hum from the next samples.

        Parameters
        ----------
        block : np.ndarray [shape=(n_channels, n)]
            The next ``n`` samples of every channel.

        Returns
        -------
        np.ndarray [shape=(n_channels, n), dtype=float32]
            The same samples with the hum model subtracted.
        """
        x = np.asarray(block)
        if x.ndim != 2 or x.shape[0] != self.n_channels:
            raise AudioInputError(
                f"A block must have shape ({self.n_channels} channels, n samples), got {x.shape}."
            )
        out = np.empty(x.shape, dtype=np.float32)
        done = 0
        total = x.shape[-1]
        while done < total:
            take = min(total - done, self.frame_length - self._pos)
            piece = x[:, done : done + take]
            model = self._model[:, self._pos : self._pos + take]
            out[:, done : done + take] = piece - model
            self._frame[:, self._pos : self._pos + take] = piece
            self._pos += take
            done += take
            if self._pos == self.frame_length:
                self._power_hum += float(np.einsum("ij,ij->", self._model, self._model))
                self._end_frame()
                self._start_frame()
                self._pos = 0
                self._f_seen = (min(self._f_seen[0], self.f0_hz), max(self._f_seen[1], self.f0_hz))
        # einsum, not a BLAS dot: a threaded dot spins on a busy machine.
        self._power_in += float(np.einsum("ij,ij->", x, x, dtype=np.float64))
        self._power_out += float(np.einsum("ij,ij->", out, out, dtype=np.float64))
        self._n_samples += total
        return out

    def finish(self) -> np.ndarray:
        """Samples still held back: none, the remover has no delay (shape ``(n_channels, 0)``)."""
        self._power_hum += float(np.einsum("ij,ij->", self._model[:, : self._pos], self._model[:, : self._pos]))
        return np.zeros((self.n_channels, 0), dtype=np.float32)

    def report(self, mode: str = "auto") -> HumReport:
        """What was removed from everything pushed so far (call after :meth:`finish`)."""
        count = max(1, self._n_samples * self.n_channels)
        removed = 0.0
        if self._power_in > 0 and self._power_out > 0:
            removed = float(10 * np.log10(self._power_in / self._power_out))
        level = float(10 * np.log10(self._power_hum / count)) if self._power_hum > 0 else float("-inf")
        if not self._locked:
            return HumReport(mode, "too short")
        return HumReport(
            mode=mode,
            status="removed",
            f0_hz=self.f0_start_hz,
            f0_range_hz=self._f_seen,
            n_harmonics=self.n_harmonics,
            hum_level_dbfs=level,
            removed_db=removed,
        )


#: Seconds at the start of a recording that prime the tracker.
LEAD_IN_S = 2.0


class Dehummed(Source):
    """A source with the harmonic lines of a mains hum at ``f0_hz`` taken out (:class:`~denoise_core.hum.HumRemover`).

    The remover runs from the first sample whatever stretch is read, primed
    on the first :data:`~denoise_core.hum.LEAD_IN_S` seconds, so any stretch
    reads the same samples as a read of the whole.
    """

    def __init__(self, base: Source, f0_hz: float) -> None:
        self._base, self.f0_hz = base, f0_hz
        self.sr, self.n_channels, self.n_samples = base.sr, base.n_channels, base.n_samples
        self.scale, self.block_samples = base.scale, base.block_samples
        lead = [b.T for b in base.blocks(0, min(base.n_samples, int(LEAD_IN_S * base.sr)))]
        self._lead_in = np.concatenate(lead, axis=-1)

    def blocks(self, start: int = 0, stop: int | None = None):
        remover = HumRemover(self.sr, self.n_channels, self.f0_hz, lead_in=self._lead_in)
        position = 0
        for block in self._base.blocks(0, stop):
            out = remover.push(np.ascontiguousarray(block.T)).T
            if position + out.shape[0] > start:
                yield out[max(0, start - position) :]
            position += out.shape[0]

    def read(self, start: int = 0, stop: int | None = None):
        for block in self.blocks(start, stop):
            yield block * np.float32(self.scale) if self.scale != 1.0 else block

    def restore(self, block: np.ndarray) -> np.ndarray:
        return self._base.restore(block)
