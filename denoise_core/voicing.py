"""Which STFT frames hold a voice: periodicity at a pitch, as a stream.

The classic gate's frame presence (:mod:`denoise_core.gain`) reads a frame's
level against the noise. In noise that moves (babble, traffic, a cafe) the
level alone rises in many pauses, and the gate lets that noise through as
if it were speech. A voice has what most noise lacks: voiced sounds repeat
at a pitch of about 70 to 400 Hz. :class:`VoicingTracker` measures that on
the samples, for every frame of the gate's transform:

* the signal is cut to ``VOICING_BAND_HZ`` (the pitch and its first
  harmonics) by a linear-phase FIR filter (a Blackman-windowed sinc,
  applied by FFT over blocks of fixed length, overlap-save), and kept at
  the sample rate divided by a power of two (at least ``MIN_RATE_HZ``);
* over ``SEGMENT_S`` centred on each frame (two periods of the lowest
  pitch and more), the normalised autocorrelation
  ``r(tau) / sqrt(e(0, n - tau) * e(tau, n))`` (Boersma 1993) is taken at
  the lags of ``PITCH_HZ``; its largest value is 1 for a periodic signal and
  near 0 for noise;
* a frame whose largest value exceeds ``VOICED_NACF`` is voiced.

:func:`near_voice` then tells which frames lie within
``VOICE_REACH_S`` of a voiced frame: the unvoiced sounds of a word (``s``,
``t``, ``f``) sit next to its vowels. The filter works on blocks at fixed
places in the recording, so the result does not depend on how the samples
are split when pushed.

Building the band from the gate's own 21 ms frames instead (masking their
bins, then overlap-add) let the strong low rumble of real rooms leak into
the band, and the voicing of quiet frames beside words went wrong.
"""

from __future__ import annotations

import numpy as np

from .running import nearby_max
from .transform import StftConfig

__all__ = ["VOICE_REACH_S", "VoicingTracker", "near_voice", "reach_frames"]

#: Band in Hz kept for the periodicity measure: the pitch and its first harmonics (the filter's
#: half-amplitude points).
VOICING_BAND_HZ = (80.0, 1500.0)
#: Width in Hz of the filter's transitions.
TRANSITION_HZ = 10.0
#: Pitch range in Hz searched.
PITCH_HZ = (70.0, 400.0)
#: The band is kept at the sample rate divided by a power of two, at least this.
MIN_RATE_HZ = 8000.0
#: Length in seconds of the stretch, centred on a frame, whose periodicity is measured.
SEGMENT_S = 0.043
#: A frame is voiced when its normalised autocorrelation reaches this at some pitch lag.
VOICED_NACF = 0.6
#: Frames within this many seconds of a voiced frame (before or after) are near a voice.
VOICE_REACH_S = 0.12
#: A frame is measured at least this often (seconds); the reach spans the frames between.
MEASURE_EVERY_S = 0.012


def _band_filter(sr: float, factor: int) -> np.ndarray:
    """Taps of the band-pass filter at rate ``sr``: an odd count, ``len - 1`` a multiple of ``2 * factor``."""
    step = 2 * factor
    # A Blackman window's transition spans about 5.5 / n_taps of the rate.
    n_taps = int(np.ceil(5.5 * sr / TRANSITION_HZ / step)) * step + 1
    n = np.arange(n_taps) - (n_taps - 1) / 2
    lo, hi = (2.0 * f / sr for f in VOICING_BAND_HZ)
    return np.blackman(n_taps) * (hi * np.sinc(hi * n) - lo * np.sinc(lo * n))


def reach_frames(hop_s: float) -> int:
    """``VOICE_REACH_S`` in frames ``hop_s`` seconds apart."""
    return round(VOICE_REACH_S / hop_s)


def near_voice(voiced: np.ndarray, reach: int) -> np.ndarray:
    """Whether each frame lies within ``reach`` frames of a voiced one (frames outside ``voiced`` are not).

    Parameters
    ----------
    voiced : np.ndarray [shape=(..., n_frames), dtype=bool]
    reach : int

    Returns
    -------
    np.ndarray [shape=voiced.shape, dtype=bool]
    """
    return nearby_max(voiced.astype(np.uint8), reach).astype(bool)


class VoicingTracker:
    """Samples in, in order; out, which frames of the gate's transform are voiced, once the signal after them is known.

    Every ``stride``-th frame is measured (one each ``MEASURE_EVERY_S`` or closer); the others
    count as unvoiced, and :func:`near_voice` spans the gaps.

    Parameters
    ----------
    config : StftConfig
        The gate's transform: frame ``t`` is centred on sample ``t * hop_length``.
    n_channels : int
        Channels of the samples given to :meth:`push`; each is measured on its own.
    """

    def __init__(self, config: StftConfig, n_channels: int) -> None:
        factor = 1
        while config.sr / (2 * factor) >= MIN_RATE_HZ:
            factor *= 2
        self._factor = factor
        self._hop = config.hop_length
        self.stride = max(1, int(MEASURE_EVERY_S / config.hop_s))
        taps = _band_filter(config.sr, factor)
        self._delay = (len(taps) - 1) // 2  # samples: a multiple of `factor`
        self._block = 1 << int(np.ceil(np.log2(4 * len(taps))))
        # Only the bins below the lower rate's Nyquist frequency are kept: the inverse FFT of
        # those is the filtered signal at that rate (the filter leaves nothing above 1500 Hz).
        self._response = np.fft.rfft(taps, self._block)[: self._block // factor // 2 + 1] / factor
        rate = config.sr / factor
        self._half = max(1, round(SEGMENT_S * rate / 2))
        self._lags = np.arange(int(rate / PITCH_HZ[1]), min(int(rate / PITCH_HZ[0]), 2 * self._half - 2) + 1)
        # Long enough that the circular autocorrelation equals the linear one at every lag searched.
        self._n_fft_acf = 1 << int(np.ceil(np.log2(2 * self._half + self._lags[-1])))
        # Samples not yet filtered, from index -delay on (zeros before the recording): the first block's
        # first valid output is then the band at index 0.
        self._samples = np.zeros((n_channels, self._delay))
        # The band at the lower rate from index self._start on (zeros before the recording).
        self._start = -self._half
        self._band = np.zeros((n_channels, self._half))
        self._n_known = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add samples ``(n_channels, n)``; return the voicing of the frames now known ``(n_channels, k)``, in order."""
        self._samples = np.concatenate([self._samples, samples], axis=-1)
        self._filter()
        return self._measure(None)

    def finish(self, n_samples: int) -> np.ndarray:
        """The recording held ``n_samples`` samples: return the voicing of all its frames not given yet."""
        n_frames = -(-int(n_samples) // self._hop) + 1
        # Filter zeros past the end until the last frame's stretch is complete.
        while self._start + self._band.shape[-1] < self._centre(n_frames - 1) + self._half:
            pad = self._block - self._samples.shape[-1] % self._block
            self._samples = np.concatenate([self._samples, np.zeros((self._samples.shape[0], pad))], axis=-1)
            self._filter()
        return self._measure(n_frames)

    def _centre(self, frame: int | np.ndarray):
        """Index at the lower rate of the centre of ``frame``."""
        return (frame * self._hop + self._factor // 2) // self._factor

    def _filter(self) -> None:
        """Filter every whole block of samples (overlap-save: a block overlaps the last by the filter's length)."""
        overlap = 2 * self._delay
        out = []
        while self._samples.shape[-1] >= self._block:
            spectrum = np.fft.rfft(self._samples[:, : self._block])[:, : self._response.shape[0]]
            chunk = np.fft.irfft(spectrum * self._response, self._block // self._factor)
            # Outputs from `overlap` on are whole; each lags its input by `delay` samples.
            out.append(chunk[:, overlap // self._factor :])
            self._samples = self._samples[:, self._block - overlap :]
        if out:
            self._band = np.concatenate([self._band, *out], axis=-1)

    def _measure(self, n_frames: int | None) -> np.ndarray:
        """Voicing of the frames whose stretch is now filtered (up to ``n_frames`` when given)."""
        first = self._n_known
        end = self._start + self._band.shape[-1]
        # One past the last frame whose stretch ends by `end`: centre(t) <= end - half, that is
        # t * hop <= (end - half + 1) * factor - factor // 2 - 1.
        last = max(first, ((end - self._half + 1) * self._factor - self._factor // 2 - 1) // self._hop + 1)
        if n_frames is not None:
            last = min(last, n_frames)
        voiced = np.zeros((self._band.shape[0], max(0, last - first)), dtype=bool)
        if last <= first:
            return voiced
        measured = np.arange(-(-first // self.stride) * self.stride, last, self.stride)
        if measured.size:
            windows = np.lib.stride_tricks.sliding_window_view(self._band, 2 * self._half, axis=-1)
            segs = windows[:, self._centre(measured) - self._half - self._start]
            voiced[:, measured - first] = _max_nacf(segs, self._lags, self._n_fft_acf) > VOICED_NACF
        self._n_known = last
        keep_from = self._centre(last) - self._half - self._start
        self._band = self._band[:, keep_from:]
        self._start += keep_from
        return voiced


def _max_nacf(segs: np.ndarray, lags: np.ndarray, n_fft: int) -> np.ndarray:
    """Largest normalised autocorrelation over ``lags`` of each segment ``(..., n)`` (mean removed first)."""
    segs = segs - segs.mean(axis=-1, keepdims=True)
    n = segs.shape[-1]
    spectrum = np.fft.rfft(segs, n_fft, axis=-1)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n_fft, axis=-1)[..., lags]
    energy = np.concatenate([np.zeros((*segs.shape[:-1], 1)), np.cumsum(segs**2, axis=-1)], axis=-1)
    head = energy[..., n - lags]  # energy of segs[:n - tau]
    tail = energy[..., n : n + 1] - energy[..., lags]  # energy of segs[tau:]
    nacf = acf / np.sqrt(np.maximum(head * tail, 1e-30))
    return nacf.max(axis=-1)
