"""Reading and writing audio files (soundfile), and the one list of files Quiet cleans. The algorithm never imports this.

:data:`SUPPORTED_EXTENSIONS` is every file name ending Quiet reads and writes:
soundfile's (:data:`SOUNDFILE_EXTENSIONS`) and FFmpeg's
(:data:`denoise_core.media.MEDIA_EXTENSIONS`, phone memos and videos). The
command line's ``--recursive``, the page's uploader and the README use it;
:func:`is_media` says which side reads a file.

Errors from the codec library are turned into :class:`AudioFileError` with a
message in plain words.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import soundfile as sf

from .errors import AudioFileError
from .validation import MAX_SR, MIN_SR

__all__ = [
    "MAX_SR",
    "MEDIA_EXTENSIONS",
    "MIN_SR",
    "SOUNDFILE_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "AudioFileInfo",
    "file_info",
    "is_media",
    "read_audio",
    "write_audio",
]

AudioInput = str | os.PathLike | BinaryIO | bytes

#: Frames written per call to libsndfile.
_WRITE_BLOCK = 1 << 16

#: File name endings read and written through libsndfile: WAV, FLAC, OGG (Vorbis or Opus), MP3, AIFF.
SOUNDFILE_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif")
#: File name endings read through FFmpeg (:mod:`denoise_core.media`); ALAC has no ending of its own:
#: it lives in ``.m4a`` and ``.caf``. Kept here, not beside PyAV: importing PyAV loads FFmpeg's
#: libraries (0.2 s), which a command line, a batch worker or the page pays only for such a file.
MEDIA_EXTENSIONS = (".m4a", ".m4b", ".aac", ".3gp", ".3ga", ".caf", ".mp4", ".mov", ".webm", ".mkv", ".amr", ".wma")
#: The endings among them whose files usually carry video (3GP: a phone's clips).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".webm", ".mkv", ".3gp")
#: Every file name ending Quiet cleans, the one list: soundfile's, then FFmpeg's (M4A, AAC, CAF, AMR, WMA
#: and videos: MP4, MOV, WebM, MKV, 3GP).
SUPPORTED_EXTENSIONS = SOUNDFILE_EXTENSIONS + MEDIA_EXTENSIONS


def is_media(name: str | os.PathLike) -> bool:
    """Whether a file is read through FFmpeg (:mod:`denoise_core.media`), told by its ending; else soundfile reads it."""
    return os.path.splitext(os.fspath(name))[1].lower() in MEDIA_EXTENSIONS


@dataclass(frozen=True)
class AudioFileInfo:
    """What a file holds, as soundfile reports it.

    Attributes
    ----------
    sr : int
        Sample rate in Hz.
    channels : int
        Number of channels.
    frames : int
        Length in samples per channel.
    format : str
        Container, e.g. ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``.
    subtype : str
        Sample encoding, e.g. ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ``"VORBIS"``.
    """

    sr: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.sr if self.sr else 0.0


def _open_source(source: AudioInput):
    return io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source


def _name(source: AudioInput) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(os.fspath(source))
    return "the file"


def _unreadable(source: AudioInput, exc: Exception) -> AudioFileError:
    reason = str(exc).rsplit(": ", 1)[-1].strip().rstrip(".") or type(exc).__name__
    return AudioFileError(f"{_name(source)} could not be read as audio: {reason}.")


def _check_exists(source: AudioInput) -> None:
    if isinstance(source, (str, os.PathLike)) and not os.path.isfile(source):
        raise AudioFileError(f"{_name(source)} does not exist or is not a file.")


def file_info(source: AudioInput) -> AudioFileInfo:
    """Header information of an audio file without decoding it.

    Raises
    ------
    AudioFileError
        If the file cannot be opened as audio.
    """
    _check_exists(source)
    try:
        with sf.SoundFile(_open_source(source)) as f:
            return AudioFileInfo(f.samplerate, f.channels, f.frames, f.format, f.subtype)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, EOFError, OSError) as exc:
        raise _unreadable(source, exc) from None


def read_audio(source: AudioInput) -> tuple[np.ndarray, int, AudioFileInfo]:
    """Decode a whole audio file.

    Parameters
    ----------
    source : str, path, file object or bytes
        WAV, FLAC, OGG/Vorbis, MP3 or AIFF.

    Returns
    -------
    y : np.ndarray [shape=(n,) or (n, n_channels), dtype=float32]
        Samples at full scale 1.0; mono files give a 1-D array.
    sr : int
        Sample rate in Hz.
    info : AudioFileInfo
        Format and subtype, to write the result the same way.

    Raises
    ------
    AudioFileError
        If the file is missing, not audio, or damaged beyond reading.
    """
    _check_exists(source)
    try:
        with sf.SoundFile(_open_source(source)) as f:
            info = AudioFileInfo(f.samplerate, f.channels, f.frames, f.format, f.subtype)
            # In blocks until the data ends: a damaged header may announce far more frames than exist.
            blocks = []
            while True:
                block = f.read(1 << 18, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                blocks.append(block)
            y = np.concatenate(blocks) if blocks else np.zeros((0, f.channels), np.float32)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, EOFError, OSError) as exc:
        raise _unreadable(source, exc) from None
    if y.shape[0] == 0:
        raise AudioFileError(f"{_name(source)} holds no audio samples.")
    info = AudioFileInfo(info.sr, info.channels, y.shape[0], info.format, info.subtype)
    return (y[:, 0] if info.channels == 1 else y), info.sr, info


def write_audio(target: str | os.PathLike | BinaryIO, y: np.ndarray, sr: int, format: str, subtype: str) -> None:
    """Encode audio to a file or file object.

    Parameters
    ----------
    target : str, path or binary file object
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Samples at full scale 1.0.
    sr : int
        Sample rate in Hz.
    format, subtype : str
        soundfile format and subtype (see :class:`AudioFileInfo`).

    Raises
    ------
    AudioFileError
        If the format cannot hold this audio (e.g. too many channels for MP3).
    """
    y = np.asarray(y)
    channels = 1 if y.ndim == 1 else y.shape[1]
    try:
        # In blocks: libsndfile's Vorbis encoder crashes on a minute of 48 kHz audio in one call.
        with sf.SoundFile(target, "w", samplerate=int(sr), channels=channels, format=format, subtype=subtype) as f:
            for start in range(0, y.shape[0], _WRITE_BLOCK):
                f.write(y[start : start + _WRITE_BLOCK])
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioFileError(f"Could not write {format}/{subtype} audio ({exc}).") from None
