"""The in-memory API: :func:`denoise`, :func:`noise_profile` and :func:`denoise_with_profile`.

All three read the array through :class:`~denoise_core.source.ArraySource`
(views, never a copy of the whole input) and run the block pipeline of
:mod:`denoise_core.stream`, the same one :func:`denoise_core.denoise_file`
runs on files, so memory beyond the input and the output stays bounded
whatever the length. An interactive caller measures the noise once
(:func:`noise_profile`) and gates again with new settings
(:func:`denoise_with_profile`), on the whole recording or on a slice of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .errors import AudioInputError, ParameterError
from .finishing import ArraySpool, clean
from .noise import NoiseProfile, measure_noise
from .params import DenoiseParams
from .report import DenoiseReport, VoiceReportAccumulator
from .source import ArraySource
from .transform import StftConfig
from .voice import FRAME_S, NO_LIMIT_DB, PREROLL_S, apply_atten_lim

__all__ = ["VoiceTake", "denoise", "denoise_with_profile", "noise_profile", "voice_take"]


def noise_profile(
    y: np.ndarray,
    sr: float,
    noise_window: tuple[float, float] | None = None,
    *,
    n_fft: int | None = None,
    hop_length: int | None = None,
    win_length: int | None = None,
    hum: str = "auto",
) -> NoiseProfile:
    """Noise profile of a recording, measured block by block.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio in soundfile's layout; float (full scale 1.0) or integer.
    sr : float
        Sample rate in Hz (8000 to 192000).
    noise_window : (float, float), optional
        ``(start_s, end_s)`` in seconds of a noise-only stretch; ``None`` finds
        the quietest stretch (one pass over the recording).
    n_fft, hop_length, win_length : int, optional
        STFT settings in samples; by default 20 to 40 ms frames with 75 %
        overlap (see :meth:`StftConfig.for_sr`). The profile keeps them, so
        :func:`denoise_with_profile` gates with the same transform.
    hum : {"auto", "50", "60", "off"}
        Look for mains hum in the noise window: near 50 or 60 Hz
        (``"auto"``), at the base given, or not at all. When one is found its
        harmonic lines are taken out before the noise is measured, and
        :func:`denoise_with_profile` takes them out of the recording too
        (the profile's ``hum_hz``).

    Returns
    -------
    NoiseProfile

    Raises
    ------
    DenoiseError
        On audio, settings or a window that cannot be used.
    """
    source = ArraySource(y, sr)
    config = StftConfig.for_sr(source.sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length)
    return measure_noise(source, config, noise_window, hum=hum)


def denoise_with_profile(
    y: np.ndarray,
    noise: NoiseProfile,
    params: DenoiseParams = DenoiseParams(),
    *,
    out: np.ndarray | None = None,
    on_block: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, DenoiseReport]:
    """Gate a recording against a noise profile, block by block.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio in soundfile's layout, at the profile's sample rate (a slice of
        the recording the profile came from, or all of it).
    noise : NoiseProfile
        From :func:`noise_profile`; its transform, sample rate, window and hum
        are used (the settings of ``params`` that the profile depends on,
        :meth:`DenoiseParams.noise_settings`, say how it was measured).
    params : DenoiseParams
        Everything else: the engine, threshold, reduction, smoothing and finishing.
    out : np.ndarray [shape=(n, n_channels), dtype=float32], optional
        Where to write the result; a new array by default.
    on_block : callable, optional
        ``on_block(start, stop)`` is called as soon as samples ``start:stop``
        of the result are final (to show progress, or to use them while the
        rest is being cleaned). With a loudness target they become final in
        a second pass, after the whole recording has been gated and measured.
        It may be called on a thread of the engine's, one call at a time and
        in order; an exception it raises stops the cleaning and comes out
        of this function.

    Returns
    -------
    audio : np.ndarray [shape=y.shape, dtype=float32]
        Finite, within [-1, 1] (a view of ``out`` when given).
    report : DenoiseReport

    Raises
    ------
    DenoiseError
        On audio that cannot be used, or an ``out`` of the wrong shape or type.
    """
    source = ArraySource(y, noise.config.sr)
    shape = (source.n_samples, source.n_channels)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32:
        raise AudioInputError(f"out must be a float32 array of shape {shape}, got {out.dtype} {out.shape}.")
    if not isinstance(params, DenoiseParams):
        raise ParameterError(f"params must be DenoiseParams, got {type(params).__name__}.")

    def sink(start: int, block: np.ndarray) -> None:
        out[start : start + block.shape[0]] = block
        if on_block is not None:
            on_block(start, start + block.shape[0])

    report = clean(source, noise, params, sink, ArraySpool(out, source.block_samples))
    return (out[:, 0] if len(source.shape) == 1 else out), report


@dataclass(frozen=True)
class VoiceTake:
    """The voice engine's result at every strength, from one run of the network (:func:`voice_take`).

    The voice engine's ``reduction_db`` is a linear mix of the network's
    result with the input, so a strength change needs no second run:
    :meth:`at` mixes.

    Attributes
    ----------
    passthrough : np.ndarray [shape=y.shape, dtype=float32]
        The stretch at ``reduction_db=0``: the input with its hum and rumble taken out.
    unlimited : np.ndarray [shape=y.shape, dtype=float32]
        The stretch with no attenuation limit (``reduction_db=100``).
    noise : NoiseProfile
        The profile it was cleaned with (for the report).
    """

    passthrough: np.ndarray
    unlimited: np.ndarray
    noise: NoiseProfile

    def at(self, reduction_db: float) -> tuple[np.ndarray, DenoiseReport]:
        """The result at ``reduction_db`` (0 to 100 dB) and its report, as :func:`denoise_with_profile` gives them.

        Equal to a run of the engine at that strength to float rounding
        (the finishing is linear without a loudness target), except in a
        preview stretch, whose network ran with :data:`PREROLL_S` of pre-roll.
        """
        DenoiseParams(reduction_db=reduction_db)  # checked as any setting
        audio = np.clip(apply_atten_lim(self.passthrough, self.unlimited, reduction_db), -1.0, 1.0)
        audio.setflags(write=False)
        shape = audio.shape if audio.ndim == 2 else (audio.shape[0], 1)
        accumulator = VoiceReportAccumulator(self.noise.config.sr, shape[1])
        accumulator.add(self.passthrough.reshape(shape).T, audio.reshape(shape).T)
        return audio, accumulator.report(self.noise)


def voice_take(
    y: np.ndarray, noise: NoiseProfile, params: DenoiseParams, *, start: int = 0, stop: int | None = None
) -> VoiceTake:
    """Clean samples ``start:stop`` of a recording with the voice engine, ready for any strength.

    The network runs once (with no limit) over the stretch and up to
    :data:`~denoise_core.voice.PREROLL_S` seconds before it, on the 10 ms
    grid from the recording's start, so its states are warm when the
    stretch begins; that lead is dropped. The input's pass-through (hum and
    rumble removed) is made alongside, without the network.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        The whole recording, at the profile's rate.
    noise : NoiseProfile
    params : DenoiseParams
        Its ``reduction_db`` and ``loudness_lufs`` are not used (see :meth:`VoiceTake.at`).
    start, stop : int
        The stretch, in samples (default: the whole recording).

    Returns
    -------
    VoiceTake
    """
    sr = noise.config.sr
    stop = len(y) if stop is None else stop
    grid = max(1, round(FRAME_S * sr))
    first = max(0, (start - round(PREROLL_S * sr)) // grid * grid)
    lead = start - first
    settings = replace(params, engine="voice", loudness_lufs=None)
    unlimited = denoise_with_profile(y[first:stop], noise, replace(settings, reduction_db=NO_LIMIT_DB))[0][lead:]
    passthrough = denoise_with_profile(y[start:stop], noise, replace(settings, reduction_db=0.0))[0]
    return VoiceTake(passthrough=passthrough, unlimited=unlimited, noise=noise)


def denoise(
    y: np.ndarray,
    sr: float,
    *,
    engine: str = DenoiseParams.engine,
    noise_window: tuple[float, float] | None = DenoiseParams.noise_window,
    hum: str = DenoiseParams.hum,
    threshold_db: float = DenoiseParams.threshold_db,
    reduction_db: float = DenoiseParams.reduction_db,
    freq_smooth_hz: float = DenoiseParams.freq_smooth_hz,
    time_smooth_ms: float = DenoiseParams.time_smooth_ms,
    channels: str = DenoiseParams.channels,
    highpass_hz: float = DenoiseParams.highpass_hz,
    loudness_lufs: float | None = DenoiseParams.loudness_lufs,
    ceiling_dbtp: float = DenoiseParams.ceiling_dbtp,
    n_fft: int | None = DenoiseParams.n_fft,
    hop_length: int | None = DenoiseParams.hop_length,
    win_length: int | None = DenoiseParams.win_length,
    return_report: bool = False,
):
    """Remove background noise from a recording.

    The keywords are the fields of :class:`DenoiseParams` (see there for
    each); the recording is processed block by block (:func:`noise_profile`,
    then :func:`denoise_with_profile`), so memory stays bounded whatever its
    length.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Audio in soundfile's layout; float (full scale 1.0) or integer.
    sr : float
        Sample rate in Hz, 8000 to 192000.
    engine : {"classic"}
        The spectral gate (default).
    noise_window : (float, float), optional
        ``(start_s, end_s)`` in seconds of a stretch that holds only noise.
        ``None`` (default) finds the quietest stretch automatically.
    hum : {"auto", "50", "60", "off"}
        Mains hum removal: found automatically near 50 or 60 Hz (default),
        at the base given, or off (see :func:`noise_profile`).
    threshold_db : float
        Margin in dB above the noise floor that counts as signal (-10 to 30).
    reduction_db : float
        Largest attenuation of the noise in dB (0 to 60).
    freq_smooth_hz : float
        Smoothing over frequency, in Hz, of the SNR the gain is computed from (0 to 4000).
    time_smooth_ms : float
        Smoothing of the gain over time in ms (0 to 500).
    channels : {"linked", "independent"}
        One gain for all channels (default; the stereo image does not move)
        or each channel gated on its own.
    highpass_hz : {0, 60, 80, 100, 120}
        Corner of the rumble filter in Hz; 0 (default) is off.
    loudness_lufs : float, optional
        Loudness target in LUFS (-40 to -5, e.g. -16 for a podcast); ``None``
        (default) keeps the level.
    ceiling_dbtp : float
        With a loudness target: the true-peak ceiling in dBTP (-12 to 0).
    n_fft, hop_length, win_length : int, optional
        STFT settings in samples; default 20 to 40 ms frames, 75 % overlap.
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
        engine=engine,
        noise_window=noise_window,
        hum=hum,
        threshold_db=threshold_db,
        reduction_db=reduction_db,
        freq_smooth_hz=freq_smooth_hz,
        time_smooth_ms=time_smooth_ms,
        channels=channels,
        highpass_hz=highpass_hz,
        loudness_lufs=loudness_lufs,
        ceiling_dbtp=ceiling_dbtp,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
    )
    noise = noise_profile(y, sr, **params.noise_settings())
    audio, report = denoise_with_profile(y, noise, params)
    return (audio, report) if return_report else audio
