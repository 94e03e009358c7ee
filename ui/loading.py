"""Turning an uploaded, recorded or bundled file into checked audio.

:func:`decode` is a plain function (testable without Streamlit) that applies
the app's limits and says what is wrong in plain words by raising
:class:`InputProblem`. WAV, FLAC, OGG, MP3 and AIFF are read by soundfile;
phone memos and videos (M4A, MP4, MOV, WebM, ...: the endings of
:data:`denoise_core.media.MEDIA_EXTENSIONS`) by the engine's FFmpeg reader,
:class:`~denoise_core.media.MediaSource`, which keeps the upload's bytes
with the recording so that the download can be written back into the same
kind of file. :func:`load_recording` keeps it per file content, counted
in the server's memory budget (:mod:`ui.budget`); the limits follow from that
budget (:mod:`ui.limits`).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from denoise_core import AudioFileError, DenoiseError
from denoise_core.audio_io import (
    MAX_SR,
    MIN_SR,
    SUPPORTED_EXTENSIONS,
    VIDEO_EXTENSIONS,
    AudioFileInfo,
    file_info,
    is_media,
    read_audio,
)
from denoise_core.media import MediaInfo, MediaLimits, MediaSource, probe

from . import budget, limits
from .limits import InputProblem

__all__ = [
    "ACCEPTED",
    "EXAMPLE_PATH",
    "MAX_SR",
    "MIN_SR",
    "InputProblem",
    "Recording",
    "content_digest",
    "decode",
    "describe_duration",
    "load_recording",
    "safe_stem",
]


#: Peak below which a recording counts as silent (-120 dBFS).
SILENCE_PEAK = 1e-6

EXAMPLE_PATH = Path(__file__).resolve().parent.parent / "assets" / "example_noisy_speech.flac"

#: Endings that name the same kind as one already listed, left out of the list a person reads.
_SAME_KIND = {".oga", ".aif", ".m4b", ".3ga"}
_WORDS = {".opus": "Opus", ".webm": "WebM"}


def _names(extensions) -> str:
    return ", ".join(_WORDS.get(e, e[1:].upper()) for e in extensions if e not in _SAME_KIND)


#: What the page reads, in words, from the engine's one list of endings: sound files, then videos.
ACCEPTED = (
    f"{_names(e for e in SUPPORTED_EXTENSIONS if e not in VIDEO_EXTENSIONS)} "
    f"or a video ({_names(VIDEO_EXTENSIONS)})"
)
#: Decoded sound of a file whose container says nothing of its length is counted at most this much
#: longer than the duration limit before it is refused (its estimate may be a little short).
_COUNT_MARGIN = 1.01


@dataclass(frozen=True)
class Recording:
    """Decoded audio ready for the engine.

    Attributes
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels), dtype=float32]
        Samples in soundfile's layout, read-only (it is shared through the cache).
    sr : int
        Sample rate in Hz (after any resampling).
    info : AudioFileInfo
        What the file held as read (format, subtype, original sample rate).
    name : str
        Name to show (never used as a path).
    stem : str
        File-name-safe stem for downloads.
    digest : str
        Content digest of the file's bytes, the cache key.
    notes : tuple of str
        Plain-words notes about what the app changed (e.g. resampling), or
        about the file (several sound tracks).
    peak : float
        Largest absolute sample (a float file may go above 1.0).
    media : MediaInfo or None
        What a phone memo or video holds (:func:`denoise_core.media.probe`);
        ``None`` for the files soundfile reads.
    source : bytes or None
        A media file's bytes as uploaded (the same object Streamlit holds,
        not a copy), to write the cleaned sound back into it.
    """

    y: np.ndarray
    sr: int
    info: AudioFileInfo
    name: str
    stem: str
    digest: str
    notes: tuple[str, ...] = ()
    peak: float = 1.0
    media: MediaInfo | None = None
    source: bytes | None = None

    @property
    def n_samples(self) -> int:
        """Length in samples per channel."""
        return int(self.y.shape[0])

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.sr


def content_digest(data) -> str:
    """Hex digest of a file's bytes (BLAKE2b, 128 bits): the key of every cache."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def safe_stem(name: str) -> str:
    """A stem for download names built from a user's file name.

    Keeps letters, digits, ``-``, ``_``, ``.`` and spaces; anything else,
    including path separators, becomes ``_``. Never empty.
    """
    stem = Path(str(name).replace("\\", "/")).stem if name else ""
    stem = re.sub(r"[^\w\-. ]", "_", stem, flags=re.UNICODE).strip(" ._")
    return stem[:80] or "audio"


def describe_duration(seconds: float) -> str:
    """``"42 s"``, ``"3 min 5 s"`` or ``"1 h 2 min"``."""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _check_header(info: AudioFileInfo, name: str) -> None:
    if info.frames <= 0:
        raise InputProblem(f"“{name}” holds no audio: it is an audio file of length zero.")
    duration_s = info.frames / info.sr
    if duration_s > limits.MAX_DURATION_S:
        raise InputProblem(
            f"“{name}” is {describe_duration(duration_s)} long; Quiet cleans recordings of up to "
            f"{describe_duration(limits.MAX_DURATION_S)}. Please cut it into shorter parts."
        )
    if info.frames * info.channels > limits.MAX_SAMPLES:
        raise InputProblem(
            f"“{name}” is {describe_duration(duration_s)} of {info.sr / 1000:g} kHz audio with "
            f"{info.channels} channels, too much to clean at once here (the limit is "
            f"{describe_duration(limits.MAX_DURATION_S)} of 48 kHz mono, or the same amount of samples). "
            "Please cut it into shorter parts or save it as mono."
        )


def _peak(y: np.ndarray, block: int = 1 << 20) -> float:
    """Largest absolute sample, NaN if any sample is not finite; in blocks, so no full-size temporary."""
    flat = y.reshape(-1)
    peak = 0.0
    for start in range(0, flat.shape[0], block):
        chunk = flat[start : start + block]
        # max and min propagate NaN; an infinite sample gives an infinite extreme.
        extreme = max(abs(float(chunk.max())), abs(float(chunk.min())))
        if not np.isfinite(extreme):
            return float("nan")
        peak = max(peak, extreme)
    return peak


def _resample(y: np.ndarray, sr: int) -> tuple[np.ndarray, int, str]:
    target = MIN_SR if sr < MIN_SR else MAX_SR
    import librosa  # imported here: slow to import and rarely needed

    out = librosa.resample(y, orig_sr=sr, target_sr=target, axis=0).astype(np.float32)
    note = (
        f"The file's sample rate is {sr:,} Hz; Quiet works from {MIN_SR:,} to {MAX_SR:,} Hz, "
        f"so it was converted to {target:,} Hz. The cleaned file has {target:,} Hz."
    )
    return out, target, note


class _BufferReader(io.RawIOBase):
    """A read-only file over a buffer, without copying it (``io.BytesIO`` copies anything but ``bytes``)."""

    def __init__(self, buffer) -> None:
        super().__init__()
        self._view = memoryview(buffer).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        n = max(0, min(len(target), len(self._view) - self._pos))
        target[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + int(offset))
        return self._pos

    def tell(self) -> int:
        return self._pos


def _source(data):
    """What the engine's readers take: ``bytes`` as they are, any other buffer as a file over it."""
    return data if isinstance(data, (bytes, bytearray)) else _BufferReader(data)


def decode(data, name: str, *, max_bytes: int | None = None, digest: str = "") -> Recording:
    """Decode and check a file's bytes.

    Parameters
    ----------
    data : bytes or buffer
        The whole file (a ``memoryview`` of an upload is read without a copy;
        a phone memo or video is kept as ``bytes``, copied from any other buffer).
    name : str
        The name to mention in messages (the user's file name; never opened).
        Its ending tells a phone memo or video (:func:`denoise_core.audio_io.is_media`)
        from the files soundfile reads.
    max_bytes : int, optional
        Largest accepted size; :data:`ui.limits.MAX_UPLOAD_MB` by default.
    digest : str, optional
        The content digest if already known.

    Raises
    ------
    InputProblem
        If the file is empty, too big, too long, not audio, damaged,
        holds invalid samples or is silent (the last as a warning); a media
        file also if it is protected (DRM), a video without sound, or a video
        too large for the budget beside its sound (:func:`ui.limits.video_fits`).
    """
    max_bytes = limits.MAX_UPLOAD_MB * 1024 * 1024 if max_bytes is None else max_bytes
    size = memoryview(data).nbytes
    if size == 0:
        raise InputProblem(f"“{name}” is empty (0 bytes). Please choose a recording ({ACCEPTED}).")
    if size > max_bytes:
        raise InputProblem(
            f"“{name}” is {size / 1024**2:.0f} MB; files of up to {max_bytes / 1024**2:.0f} MB can be cleaned here."
        )
    media, source, notes = None, None, []
    if is_media(name):
        source = data if isinstance(data, bytes) else bytes(data)
        y, info, media, notes = _decode_media(source, name)
        sr = info.sr
    else:
        try:
            _check_header(file_info(_source(data)), name)
            y, sr, info = read_audio(_source(data))
        except DenoiseError:
            raise InputProblem(
                f"“{name}” could not be opened as audio. It may not be a sound file, or it may be damaged. "
                f"Quiet reads {ACCEPTED}."
            ) from None
    peak = _peak(y)
    if not np.isfinite(peak):
        raise InputProblem(f"“{name}” holds invalid samples (not-a-number or infinite values) and cannot be cleaned.")
    if peak < SILENCE_PEAK:
        raise InputProblem(
            f"“{name}” is silent: it holds no sound at all, so there is no noise to remove.", level="warning"
        )
    if not MIN_SR <= sr <= MAX_SR:
        y, sr, note = _resample(y, sr)
        notes.append(note)
        peak = _peak(y)
    y = np.ascontiguousarray(y, dtype=np.float32)
    y.setflags(write=False)
    return Recording(
        y=y,
        sr=int(sr),
        info=info,
        name=name,
        stem=safe_stem(name),
        digest=digest or content_digest(data),
        notes=tuple(notes),
        peak=peak,
        media=media,
        source=source,
    )


#: The download's sample encoding for a lossless media file, by its decoder's sample format.
_PCM = {"u8": "PCM_U8", "s16": "PCM_16", "s32": "PCM_24", "s64": "PCM_24"}


def _media_problem(exc: DenoiseError, name: str) -> InputProblem:
    """The engine's plain message about a media file, naming it as the page does."""
    text = str(exc)
    if "could not be read as audio or video" in text or "is not an audio or video file" in text:
        return InputProblem(
            f"“{name}” could not be opened as audio or video. It may not be a sound or video file, or it may be "
            f"damaged. Quiet reads {ACCEPTED}."
        )
    label = Path(name).name
    if text.startswith(label + " "):
        text = f"“{name}”" + text[len(label) :]
    return InputProblem(text)


def _decode_media(source: bytes, name: str) -> tuple[np.ndarray, AudioFileInfo, MediaInfo, list[str]]:
    """A phone memo's or a video's sound through :class:`MediaSource`, within the app's limits.

    Returns the samples (1-D for mono), what soundfile would say of them,
    what the file holds, and notes (several sound tracks).
    """
    try:
        info = probe(source, name=name)
    except DenoiseError as exc:
        raise _media_problem(exc, name) from None
    n_channels = info.n_channels
    if info.n_samples > 0:  # declared: refused before anything is decoded
        _check_header(AudioFileInfo(info.sr, n_channels, info.n_samples, "", ""), name)
    if info.has_video and not limits.video_fits(len(source), info.n_samples * n_channels):
        raise InputProblem(
            f"“{name}” is a {len(source) / 1024**2:.0f} MB video with {describe_duration(info.duration_s)} of sound: "
            "too much to clean at once here (the video is held twice, as uploaded and as cleaned). "
            "Please trim it, or upload its sound alone."
        )
    limit_s = limits.MAX_SAMPLES / n_channels / info.sr * _COUNT_MARGIN
    try:
        reader = MediaSource(source, name=name, limits=MediaLimits(max_duration_s=limit_s), count=False)
        n = reader.count()
        y = np.empty((n, n_channels), np.float32)
        filled = 0
        for block in reader.read():
            take = min(block.shape[0], n - filled)
            y[filled : filled + take] = block[:take]
            filled += take
    except AudioFileError as exc:
        if "decodes to more than" in str(exc):  # a length the file did not declare
            raise InputProblem(
                f"“{name}” is longer than Quiet cleans at once here: up to {describe_duration(limits.MAX_DURATION_S)} "
                "of 48 kHz mono, or the same amount of samples. Please cut it into shorter parts."
            ) from None
        raise _media_problem(exc, name) from None
    except DenoiseError as exc:
        raise _media_problem(exc, name) from None
    y = y[:filled]
    subtype = _PCM.get(info.sample_format.rstrip("p"), "PCM_16") if info.bounded else info.codec.upper()
    notes = []
    if info.n_audio_tracks > 1:
        notes.append(
            f"“{name}” has {info.n_audio_tracks} sound tracks: the default one (track {info.audio_track + 1}) is "
            f"cleaned. The {info.kind.upper()} download keeps the others as they are; the other downloads hold the "
            "cleaned track alone."
        )
    return (y[:, 0] if n_channels == 1 else y), AudioFileInfo(info.sr, n_channels, filled, info.kind.upper(), subtype), info, notes


def _audio_bytes(data, name: str) -> int:
    """Bytes of a file's decoded audio (float32), from its header (0 if it has none: decode() refuses it)."""
    try:
        if is_media(name):
            info = probe(data if isinstance(data, bytes) else bytes(data), name=name)
            return 4 * info.n_samples * info.n_channels
        info = file_info(_source(data))
    except DenoiseError:
        return 0
    return 4 * info.frames * info.channels


def _download_room(data, name: str) -> int:
    """Bytes of a download larger than the decoded audio: a video's cleaned copy is about as large as its upload."""
    if Path(name).suffix.lower() not in VIDEO_EXTENSIONS:
        return 0
    return memoryview(data).nbytes


def load_recording(digest: str, name: str, read_bytes) -> Recording:
    """:func:`decode`, once per file content and name, counted in the server's memory budget.

    The recording is shared by every visitor who loads the same file (its
    arrays are read-only) and pinned for this visitor as ``"recording"``: it
    stays while their page shows it. ``read_bytes`` returns the file's bytes
    (or a ``memoryview`` of them) and is called only when it is not held yet.

    Raises
    ------
    InputProblem
        If the file cannot be cleaned, or (:class:`ui.budget.Busy`) if the
        server has no memory left for it now.
    """
    fetched = []

    def data():
        if not fetched:  # read once, and only if the recording is not held yet
            fetched.append(read_bytes())
        return fetched[0]

    audio = []

    def audio_bytes() -> int:
        if not audio:  # the header read once (a media file is probed)
            audio.append(_audio_bytes(data(), name))
        return audio[0]

    return budget.get_or_make(
        ("recording", digest, name),
        "recording",
        lambda: decode(data(), name, digest=digest),
        estimate=lambda: budget.decoding_bytes(audio_bytes()),
        # Admitted only if its cleaning, the largest step, fits too (beside the decoded recording, with
        # room kept for its download: for a video, its cleaned copy), so a visitor is refused at the start
        # rather than halfway, holding memory nobody else can use.
        need=lambda: audio_bytes() + budget.result_bytes(audio_bytes(), _download_room(data(), name)),
        # Streamlit keeps the uploaded bytes as long as the page shows the file: counted with it.
        size_of=lambda rec: rec.y.nbytes + memoryview(data()).nbytes,
    )
