"""File to file denoising that never holds a whole recording in memory.

:func:`denoise_file` (and :func:`clean_file`, which also says where the result
went) reads the input in blocks, through soundfile for WAV, FLAC, OGG, MP3
and AIFF and through FFmpeg (:mod:`denoise_core.media`) for phone memos and
videos, cleans it with :func:`denoise_core.finishing.clean` and writes the
result block by block to a temporary file beside the target, which replaces
the target only when complete: a failure leaves no partial output behind. A
media result keeps the input's container and codec where FFmpeg here can
write them (a video's picture copied packet for packet); where it cannot,
its ending follows what is written (AMR becomes M4A) and the result's
``note`` says so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf

from . import audio_io
from .encoder_process import CHILD_MIN_S, EncoderProcess, can_start_child
from .errors import AudioFileError, AudioInputError, DenoiseError
from .finishing import Spool, clean
from .noise import NoiseProfile, measure_noise, survey
from .params import DenoiseParams
from .report import DenoiseReport
from .source import Source
from .threads import thread_budget
from .transform import StftConfig
from .validation import MAX_CHANNELS, validate_sr

__all__ = ["FileSource", "Written", "clean_file", "denoise_file"]

Progress = Callable[[float], None]
PathLike = str | os.PathLike


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class FileSource(Source):
    """An open sound file, read block by block through soundfile.

    Parameters
    ----------
    f : soundfile.SoundFile
        Open for reading; the caller closes it.
    """

    def __init__(self, f: sf.SoundFile) -> None:
        self._f = f
        self.sr = float(f.samplerate)
        self.n_channels = f.channels
        self.n_samples = f.frames

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        self._f.seek(start)
        position = start
        remaining = np.inf if stop is None else stop - start
        while remaining > 0:
            block = self._f.read(int(min(self.block_samples, remaining)), dtype="float32", always_2d=True)
            if block.shape[0] == 0:
                break
            self._check_finite(block, position)
            remaining -= block.shape[0]
            position += block.shape[0]
            yield block


class Written(NamedTuple):
    """What :func:`clean_file` wrote.

    Attributes
    ----------
    report : DenoiseReport
    path : Path
        Where the result went: the target, or for a media file the target
        with the ending of what was written (``talk_denoised.m4a`` for an AMR input).
    note : str
        Why the result is not in the input's format, in plain words (``""`` when it is).
    duration_s : float
        Length of the result in seconds.
    """

    report: DenoiseReport
    path: Path
    note: str
    duration_s: float


class _FileSpool(Spool):
    """A temporary float WAV file beside the target, for a result that is to be brought to a loudness.

    Created only when first written to, removed on leaving the ``with`` block.
    """

    def __init__(self, folder: Path, sr: int, n_channels: int) -> None:
        self._folder, self._sr, self._n_channels = folder, sr, n_channels
        self._path: str | None = None
        self._file: sf.SoundFile | None = None
        self.progress: Callable[[int, int], None] = lambda start, n: None

    def __enter__(self) -> _FileSpool:
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()
        if self._path is not None and os.path.exists(self._path):
            os.remove(self._path)

    def write(self, start: int, block: np.ndarray) -> None:
        if self._file is None:
            fd, self._path = tempfile.mkstemp(prefix=".denoise-", suffix=".wav", dir=self._folder)
            os.close(fd)
            self._file = sf.SoundFile(
                self._path, "w", samplerate=self._sr, channels=self._n_channels, format="WAV", subtype="FLOAT"
            )
        self._file.write(block)
        self.progress(start, block.shape[0])

    def blocks(self) -> Iterator[np.ndarray]:
        if self._file is not None and self._file.mode == "w":
            self._file.close()
        if self._path is None:
            return
        with sf.SoundFile(self._path) as f:
            yield from FileSource(f).read()


def denoise_file(
    source: PathLike,
    target: PathLike,
    params: DenoiseParams = DenoiseParams(),
    *,
    progress: Progress | None = None,
    **settings,
) -> DenoiseReport:
    """Denoise an audio or video file into another, in the same format and encoding.

    Parameters
    ----------
    source : str or path
        Input file, any ending of :data:`denoise_core.audio_io.SUPPORTED_EXTENSIONS`:
        WAV, FLAC, OGG, Opus, MP3, AIFF (soundfile), M4A, AAC, CAF, AMR, WMA and
        videos (MP4, MOV, WebM, MKV, 3GP; FFmpeg, :mod:`denoise_core.media`).
    target : str or path
        Output file; written in the input's format, subtype (bit depth),
        sample rate and channel count. Must not be the input. A media file
        is written by :class:`denoise_core.media.MediaWriter`: its sound in
        the input's codec (lossy at the input's bit rate or more), a video's
        picture and other tracks copied as they are; where FFmpeg here cannot
        write the input's codec, the ending follows what is written
        (:func:`clean_file` says where and why).
    params : DenoiseParams
        The settings (engine, noise window, hum, gate, finishing, STFT).
    progress : callable, optional
        Called with the fraction done (0 to 1) as the work advances, possibly
        on a thread of the engine's, one call at a time; an exception it
        raises stops the work and comes out of this function.
    **settings
        Fields of :class:`DenoiseParams` to change from ``params``, e.g.
        ``noise_window=(0.0, 0.5)``.

    Returns
    -------
    DenoiseReport

    Raises
    ------
    DenoiseError
        (a ``ValueError``) when the input cannot be read or processed, the
        window does not fit, a setting is out of range or the target is the
        input. No output file is left behind.
    """
    return clean_file(source, target, params, progress=progress, **settings).report


def clean_file(
    source: PathLike,
    target: PathLike,
    params: DenoiseParams = DenoiseParams(),
    *,
    progress: Progress | None = None,
    **settings,
) -> Written:
    """:func:`denoise_file`, saying where the result went and why its format differs, if it does.

    Returns
    -------
    Written
        The report, the result's path, the note and the result's length.
    """
    if not isinstance(params, DenoiseParams):
        raise DenoiseError(f"params must be DenoiseParams, got {type(params).__name__}.")
    params = params.updated(**settings)
    source, target = Path(source), Path(target)
    report_progress = progress or (lambda fraction: None)
    clean_one = _clean_media if audio_io.is_media(source) else _clean_soundfile
    written = clean_one(source, target, params, report_progress)
    report_progress(1.0)
    return written


def _refuse_overwriting(source: Path, target: Path) -> None:
    if target.exists() and target.resolve() == source.resolve():
        raise DenoiseError(f"{target} is the input file; refusing to overwrite it.")


def _noise(reader: Source, config: StftConfig, params: DenoiseParams, name: str,
           report_progress: Progress) -> tuple[NoiseProfile, float]:
    """The noise profile, after a survey pass; and the share of the progress the survey took.

    The survey finds the quietest stretch (automatic noise window), the peak
    of samples that may go beyond full scale (float, lossy), and the length
    of a file that does not state it exactly; it sets ``reader.n_samples`` and
    ``reader.scale``.
    """
    # The energies find the quietest stretch: the automatic window, and the background a window given is checked against.
    survey_share = 0.3
    energy, peak, n_read = survey(reader, config, True, lambda x: report_progress(survey_share * x))
    if n_read == 0:
        raise AudioFileError(f"{name} holds no audio samples.")
    # A compressed file's header may announce more (or fewer) frames than decode.
    reader.n_samples = n_read
    reader.scale = peak if peak > 1.0 else 1.0
    return measure_noise(reader, config, params.noise_window, energy, hum=params.hum), survey_share


def _run(reader: Source, noise: NoiseProfile, params: DenoiseParams, write: Callable[[np.ndarray], None],
         spool_folder: Path, survey_share: float, report_progress: Progress) -> DenoiseReport:
    """Clean ``reader`` into ``write``, through a spool file in ``spool_folder`` when a loudness is set."""
    normalizing = params.loudness_lufs is not None
    gate_share = (1.0 - survey_share) * (0.6 if normalizing else 1.0)

    def told(first: float, share: float) -> Callable[[int, int], None]:
        return lambda start, n: report_progress(first + share * min(1.0, (start + n) / reader.n_samples))

    with _FileSpool(spool_folder, int(reader.sr), reader.n_channels) as spool:
        spool.progress = told(survey_share, gate_share)
        written = told(survey_share + gate_share, 1.0 - survey_share - gate_share) if normalizing else spool.progress

        def sink(start: int, block: np.ndarray) -> None:
            write(block)
            written(start, block.shape[0])

        return clean(reader, noise, params, sink, spool)


def _clean_soundfile(source: Path, target: Path, params: DenoiseParams, report_progress: Progress) -> Written:
    _refuse_overwriting(source, target)
    info = audio_io.file_info(source)
    if info.frames <= 0:
        raise AudioFileError(f"{source.name} holds no audio samples.")
    if info.channels > MAX_CHANNELS:
        raise AudioInputError(f"{source.name} has {info.channels} channels; at most {MAX_CHANNELS} are supported.")
    sr = int(validate_sr(info.sr))
    config = StftConfig.for_sr(sr, n_fft=params.n_fft, hop_length=params.hop_length, win_length=params.win_length)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".denoise-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); give it the mode a newly created file would have.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        with sf.SoundFile(source) as f:
            reader = FileSource(f)
            noise, survey_share = _noise(reader, config, params, source.name, report_progress)
            out_args = dict(samplerate=sr, channels=f.channels, format=info.format, subtype=info.subtype)
            with sf.SoundFile(tmp, "w", **out_args) as out:
                report = _run(reader, noise, params, out.write, target.parent, survey_share, report_progress)
        os.replace(tmp, target)
    except (sf.LibsndfileError, RuntimeError, EOFError, OSError) as exc:
        raise AudioFileError(f"{source.name} could not be processed: {str(exc).rsplit(': ', 1)[-1].strip()}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return Written(report, target, "", reader.n_samples / sr)


def _clean_media(source: Path, target: Path, params: DenoiseParams, report_progress: Progress) -> Written:
    """A phone memo or a video: read through :class:`MediaSource`, written by :class:`MediaWriter` (the picture copied).

    A recording of :data:`~denoise_core.encoder_process.CHILD_MIN_S` or more is
    encoded in a child process (:class:`~denoise_core.encoder_process.EncoderProcess`),
    beside the engine; the bytes are the same.
    """
    from .media import MediaSource, MediaWriter, plan_output  # PyAV: loaded for the first such file

    reader = MediaSource(source, count=False)
    info = reader.info
    target = target.with_suffix(plan_output(info).extension)
    _refuse_overwriting(source, target)
    config = StftConfig.for_sr(info.sr, n_fft=params.n_fft, hop_length=params.hop_length, win_length=params.win_length)
    noise, survey_share = _noise(reader, config, params, source.name, report_progress)
    # A long recording is encoded in a child process, on another core than the engine's threads.
    # Not when several cleanings share the machine (a budget of one thread): the cores are busy already.
    in_child = reader.n_samples / info.sr >= CHILD_MIN_S and can_start_child() and thread_budget() != 1
    try:
        with (EncoderProcess(target, source, info.n_channels) if in_child else MediaWriter(target, source, info=info)) as out:
            report = _run(reader, noise, params, out.write, target.parent, survey_share, report_progress)
    except OSError as exc:
        raise AudioFileError(f"{source.name} could not be processed: {exc.strerror or exc}") from None
    return Written(report, out.path, out.note, reader.n_samples / info.sr)
