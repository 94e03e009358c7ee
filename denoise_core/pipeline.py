"""The denoising pipeline: analyse, estimate the noise, gate, resynthesise.

:func:`denoise` does it all in one call. The pieces are public so that an
interactive caller can keep the expensive analysis (:func:`analyse`) and
re-run only :func:`estimate_noise` and :func:`gate` when a setting changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .noise import NoiseProfile, estimate_noise as _estimate_noise
from .params import DenoiseParams
from .report import DenoiseReport
from .stream import GateStream
from .transform import StftConfig
from .validation import as_float_channels, validate_sr

__all__ = ["Analysis", "GateResult", "analyse", "estimate_noise", "gate", "denoise"]


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
    sr = validate_sr(sr)
    config = StftConfig.for_sr(sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length)
    channels, shape = as_float_channels(y)
    peak = float(np.max(np.abs(channels)))
    scale = peak if peak > 1.0 else 1.0
    if scale != 1.0:
        channels = channels / np.float32(scale)
    return Analysis(spec=config.stft(channels), sr=sr, config=config, shape=shape, scale=scale)


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
    analysis = analyse(y, sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length)
    result = gate(analysis, estimate_noise(analysis, noise_window), params)
    return (result.audio, result.report) if return_report else result.audio
