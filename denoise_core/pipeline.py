"""The denoising pipeline: analyse, estimate the noise, gate, resynthesise.

:func:`denoise` does it all in one call. The pieces are public so that an
interactive caller can keep the expensive analysis (:func:`analyse`) and
re-run only :func:`estimate_noise` and :func:`gate` when a setting changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Tuple

import numpy as np

from .noise import NoiseProfile, estimate_noise as _estimate_noise
from .params import DenoiseParams
from .report import DenoiseReport
from .errors import ParameterError
from .stream import GateStream, denoise_blocks, estimate_noise_from_reader
from .transform import StftConfig
from .validation import as_float_channels, validate_sr

__all__ = [
    "Analysis",
    "GateResult",
    "analyse",
    "estimate_noise",
    "gate",
    "noise_profile",
    "denoise_with_profile",
    "denoise",
    "BLOCK_SAMPLES",
]

#: Samples per channel handed to the block pipeline at a time (2**17: with the
#: default 75 % overlap that is 512 frames at 48 kHz, whose gain temporaries
#: keep a 5-minute clean within 60 MB beyond its output).
BLOCK_SAMPLES = 1 << 17


@dataclass(frozen=True)
class Analysis:
    """A recording's spectrogram and what is needed to turn it back into audio.

    Attributes
    ----------
    spec : np.ndarray [shape=(n_channels, n_freqs, n_frames), dtype=complex64]
        STFT of each channel, scaled so that full scale is at most 1.
    sr : float
        Sample rate in Hz.
    config : StftConfig
        The transform settings.
    shape : tuple
        Shape of the input array, ``(n,)`` or ``(n, n_channels)``.
    scale : float
        Factor the input was divided by (its peak, when above full scale).
    """

    spec: np.ndarray
    sr: float
    config: StftConfig
    shape: Tuple[int, ...]
    scale: float

    @property
    def n_samples(self) -> int:
        """Length of the recording in samples."""
        return int(self.shape[0])

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds."""
        return self.n_samples / self.sr

    @property
    def power(self) -> np.ndarray:
        """Squared magnitude of :attr:`spec` (float32)."""
        return self.spec.real**2 + self.spec.imag**2


@dataclass(frozen=True)
class GateResult:
    """Output of :func:`gate`.

    Attributes
    ----------
    audio : np.ndarray [shape=input shape, dtype=float32]
        The cleaned audio, within [-1, 1].
    gain : np.ndarray [shape=(n_channels, n_freqs, n_frames), dtype=float32]
        The gain applied to each STFT bin (between the reduction floor and 1).
    report : DenoiseReport
    """

    audio: np.ndarray
    gain: np.ndarray
    report: DenoiseReport


def analyse(
    y: np.ndarray,
    sr: float,
    *,
    n_fft: Optional[int] = None,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
) -> Analysis:
    """Check the audio and compute its STFT.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio in soundfile's layout, float or integer, at least one sample.
    sr : float
        Sample rate in Hz (8000 to 192000).
    n_fft, hop_length, win_length : int, optional
        Transform settings in samples; by default 20 to 40 ms frames with 50 %
        overlap (see :meth:`StftConfig.for_sr`).

    Raises
    ------
    AudioInputError, ParameterError
        On audio or settings that cannot be processed.
    """
    prepared = _prepare(y, sr, n_fft, hop_length, win_length)
    channels = prepared.channels / np.float32(prepared.scale) if prepared.scale != 1.0 else prepared.channels
    return Analysis(
        spec=prepared.config.stft(channels),
        sr=prepared.sr,
        config=prepared.config,
        shape=prepared.shape,
        scale=prepared.scale,
    )


@dataclass(frozen=True)
class _Prepared:
    """Checked audio as ``(n_channels, n)`` float32, with its transform and scale."""

    channels: np.ndarray
    shape: Tuple[int, ...]
    sr: float
    config: StftConfig
    scale: float

    def read(self, start: int, stop: Optional[int]) -> Iterator[np.ndarray]:
        """Blocks ``(n, n_channels)`` of samples ``start`` to ``stop`` (a :data:`~denoise_core.stream.Reader`)."""
        stop = self.channels.shape[-1] if stop is None else stop
        for first in range(start, stop, BLOCK_SAMPLES):
            yield self.channels[:, first : min(first + BLOCK_SAMPLES, stop)].T


def _prepare(y, sr, n_fft, hop_length, win_length) -> _Prepared:
    sr = validate_sr(sr)
    config = StftConfig.for_sr(sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length)
    channels, shape = as_float_channels(y)
    peak = float(np.max(np.abs(channels)))
    return _Prepared(channels, shape, sr, config, peak if peak > 1.0 else 1.0)


def estimate_noise(analysis: Analysis, noise_window: Optional[Tuple[float, float]] = None) -> NoiseProfile:
    """Noise profile of an analysed recording.

    Parameters
    ----------
    analysis : Analysis
    noise_window : (float, float), optional
        Start and end in seconds of a stretch that holds only noise. ``None``
        picks the quietest half second (or quarter of a short recording).

    Raises
    ------
    NoiseWindowError
        If the window is reversed, empty, shorter than one frame or outside
        the recording; the message gives the valid range.
    """
    return _estimate_noise(analysis.power, analysis.config, analysis.sr, analysis.n_samples, noise_window)


def gate(analysis: Analysis, noise: NoiseProfile, params: DenoiseParams = DenoiseParams()) -> GateResult:
    """Apply the spectral gate and resynthesise with the original phase.

    Parameters
    ----------
    analysis : Analysis
        From :func:`analyse`.
    noise : NoiseProfile
        From :func:`estimate_noise`; shared by all channels.
    params : DenoiseParams
        Threshold, reduction and smoothing.

    Returns
    -------
    GateResult
        The audio (input shape, float32, within [-1, 1]), the gain and a report.
    """
    n_channels = analysis.spec.shape[0]
    stream = GateStream(noise, params, analysis.config, analysis.sr, n_channels, keep_gain=True)
    gated = np.concatenate([stream.push(analysis.spec), stream.finish()], axis=-1)
    channels = analysis.config.istft(gated, length=analysis.n_samples)
    if analysis.scale != 1.0:
        channels *= np.float32(analysis.scale)
    np.clip(channels, -1.0, 1.0, out=channels)
    audio = channels[0] if len(analysis.shape) == 1 else np.ascontiguousarray(channels.T)
    return GateResult(audio=audio, gain=stream.gains(), report=stream.report())


def noise_profile(
    y: np.ndarray,
    sr: float,
    noise_window: Optional[Tuple[float, float]] = None,
    *,
    n_fft: Optional[int] = None,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
) -> NoiseProfile:
    """Noise profile of a recording, computed block by block with little memory.

    The same profile as ``estimate_noise(analyse(y, sr, ...), noise_window)``,
    without holding the recording's spectrogram.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio in soundfile's layout.
    sr : float
        Sample rate in Hz (8000 to 192000).
    noise_window : (float, float), optional
        ``(start_s, end_s)`` in seconds of a noise-only stretch; ``None`` finds
        the quietest stretch (one pass over the recording).
    n_fft, hop_length, win_length : int, optional
        STFT settings in samples.

    Raises
    ------
    DenoiseError
        On audio, settings or a window that cannot be used.
    """
    prepared = _prepare(y, sr, n_fft, hop_length, win_length)
    n_channels, n_samples = prepared.channels.shape
    return estimate_noise_from_reader(
        prepared.read, n_samples, prepared.config, prepared.sr, n_channels, noise_window, prepared.scale
    )


def denoise_with_profile(
    y: np.ndarray,
    sr: float,
    noise: NoiseProfile,
    params: DenoiseParams = DenoiseParams(),
    *,
    n_fft: Optional[int] = None,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    progress: Optional[Callable[[float], None]] = None,
) -> Tuple[np.ndarray, DenoiseReport]:
    """Gate a recording against a given noise profile, block by block.

    Memory beyond the input and the output stays bounded whatever the length.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio in soundfile's layout.
    sr : float
        Sample rate in Hz.
    noise : NoiseProfile
        From :func:`noise_profile` (with the same STFT settings).
    params : DenoiseParams
        Threshold, reduction and smoothing.
    n_fft, hop_length, win_length : int, optional
        STFT settings in samples.
    progress : callable, optional
        Called with the fraction done (0 to 1).

    Returns
    -------
    audio : np.ndarray [shape=y.shape, dtype=float32]
        Finite, within [-1, 1].
    report : DenoiseReport
    """
    prepared = _prepare(y, sr, n_fft, hop_length, win_length)
    n_channels, n_samples = prepared.channels.shape
    if noise.power.shape != (prepared.config.n_freqs,):
        raise ParameterError(
            f"The noise profile has {noise.power.shape[0]} frequency bins; these STFT settings "
            f"need {prepared.config.n_freqs}. Measure it with the same n_fft."
        )
    gate_stream = GateStream(noise, params, prepared.config, prepared.sr, n_channels)
    out = np.empty((n_samples, n_channels), dtype=np.float32)
    done = 0
    blocks = denoise_blocks(
        prepared.read(0, None), noise, params, prepared.config, prepared.sr, n_channels, prepared.scale, gate_stream
    )
    for block in blocks:
        out[done : done + block.shape[0]] = block
        done += block.shape[0]
        if progress:
            progress(done / n_samples)
    audio = out[:, 0] if len(prepared.shape) == 1 else out
    return audio, gate_stream.report()


def denoise(
    y: np.ndarray,
    sr: float,
    *,
    noise_window: Optional[Tuple[float, float]] = None,
    threshold_db: float = DenoiseParams.threshold_db,
    reduction_db: float = DenoiseParams.reduction_db,
    freq_smooth_hz: float = DenoiseParams.freq_smooth_hz,
    time_smooth_ms: float = DenoiseParams.time_smooth_ms,
    n_fft: Optional[int] = None,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    return_report: bool = False,
):
    """Remove background noise from a recording.

    The recording is processed block by block (:func:`noise_profile`, then
    :func:`denoise_with_profile`), so memory stays bounded whatever its length.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio in soundfile's layout; float (full scale 1.0) or integer.
    sr : float
        Sample rate in Hz, 8000 to 192000.
    noise_window : (float, float), optional
        ``(start_s, end_s)`` in seconds of a stretch that holds only noise.
        ``None`` (default) finds the quietest stretch automatically.
    threshold_db : float
        Margin in dB above the noise floor that counts as signal (-10 to 30).
    reduction_db : float
        Largest attenuation of the noise in dB (0 to 60).
    freq_smooth_hz : float
        Smoothing over frequency, in Hz, of the SNR the gain is computed from (0 to 4000).
    time_smooth_ms : float
        Smoothing of the gain over time in ms (0 to 500).
    n_fft, hop_length, win_length : int, optional
        STFT settings in samples; default 20 to 40 ms frames, 50 % overlap.
    return_report : bool
        Also return a :class:`DenoiseReport`.

    Returns
    -------
    np.ndarray [shape=y.shape, dtype=float32]
        The cleaned audio, same length to the sample, finite, within [-1, 1].
        With ``return_report=True``, a tuple ``(audio, report)``.

    Raises
    ------
    DenoiseError
        (a ``ValueError``) on audio, sample rate, window or settings that
        cannot be used; the message says what is wrong and the valid range.

    Examples
    --------
    >>> import numpy as np, denoise_core
    >>> rng = np.random.default_rng(0)
    >>> y = (0.01 * rng.standard_normal(16000)).astype(np.float32)
    >>> out = denoise_core.denoise(y, 16000, noise_window=(0.0, 0.5))
    >>> out.shape, out.dtype
    ((16000,), dtype('float32'))
    """
    params = DenoiseParams(
        threshold_db=threshold_db,
        reduction_db=reduction_db,
        freq_smooth_hz=freq_smooth_hz,
        time_smooth_ms=time_smooth_ms,
    )
    stft = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length)
    noise = noise_profile(y, sr, noise_window, **stft)
    audio, report = denoise_with_profile(y, sr, noise, params, **stft)
    return (audio, report) if return_report else audio
