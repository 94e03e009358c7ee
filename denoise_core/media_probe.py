"""What a media file holds, found without decoding its sound (PyAV, which bundles FFmpeg).

Only six demuxers are ever used, chosen from the file's first bytes (MP4
family, CAF, Matroska/WebM, AMR, ASF/WMA, ADTS AAC), so a playlist or any
other format that would make FFmpeg open further files or URLs is never
probed. Every failure is an :class:`~denoise_core.errors.AudioFileError` in
plain words.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType

import av

from .audio_io import MEDIA_EXTENSIONS
from .errors import AudioFileError
from .validation import MAX_CHANNELS, MAX_SR, MIN_SR

__all__ = [
    "MediaInfo",
    "MediaInput",
    "MediaLimits",
    "probe",
]

MediaInput = str | os.PathLike | bytes | bytearray

#: Bytes read from the start of a file to tell its container.
_HEAD_BYTES = 1 << 16
#: Packets read at most while looking for the first audio packet or the first video picture.
_LOOK_PACKETS = 256
#: Tags kept at most, and characters kept of each value.
_MAX_TAGS, _MAX_TAG_CHARS = 256, 4096

#: Demuxer for each container, and the kinds (file endings without the dot) it holds.
_FAMILIES = {
    "mov": ("m4a", "m4b", "mp4", "mov", "3gp", "3ga"),
    "caf": ("caf",),
    "matroska": ("webm", "mkv"),
    "amr": ("amr",),
    "asf": ("wma",),
    "aac": ("aac",),
}
_ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
#: ASF objects that mark Windows Media DRM: content encryption and extended content encryption.
_ASF_DRM = (bytes.fromhex("fbb3112223bdd211b4b700a0c955fc6e"), bytes.fromhex("14e68a292226174cb935dae07ee9289c"))
_MOV_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid")


@dataclass(frozen=True)
class MediaLimits:
    """What a file may declare before it is refused, checked before any sound is decoded.

    Attributes
    ----------
    max_duration_s : float
        Longest recording accepted, in seconds (12 hours).
    max_streams : int
        Most streams (audio, video, subtitles, data) in one file.
    max_channels : int
        Most channels in the sound to clean.
    min_sr, max_sr : int
        Lowest and highest sample rate accepted, in Hz.
    max_probe_bytes : int
        Bytes FFmpeg may read to learn the streams (``probesize``).
    """

    max_duration_s: float = 12 * 3600.0
    max_streams: int = 64
    max_channels: int = MAX_CHANNELS
    min_sr: int = MIN_SR
    max_sr: int = MAX_SR
    max_probe_bytes: int = 8 << 20


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds: its container, its sound to clean and what travels with it.

    Attributes
    ----------
    kind : str
        The container as a file ending without the dot: ``"m4a"``, ``"m4b"``,
        ``"mp4"``, ``"mov"``, ``"3gp"``, ``"3ga"``, ``"caf"``, ``"webm"``,
        ``"mkv"``, ``"amr"``, ``"wma"`` or ``"aac"`` (ADTS).
    demuxer : str
        FFmpeg's demuxer: ``"mov"``, ``"caf"``, ``"matroska"``, ``"amr"``, ``"asf"`` or ``"aac"``.
    codec : str
        Codec of the audio track to clean, as FFmpeg names its decoder
        (``"aac"``, ``"alac"``, ``"opus"``, ``"vorbis"``, ``"amrnb"``, ``"amrwb"``, ``"wmav2"``, ...).
    sr : int
        Sample rate in Hz.
    n_channels : int
    n_samples : int
        Length in samples per channel: exact when ``n_samples_exact``,
        else estimated from the declared duration (0 when none is declared).
    n_samples_exact : bool
        Whether the container states the length to the sample (MP4 family and
        CAF: the edit list or packet table, after encoder priming and padding).
    duration_s : float
        ``n_samples / sr``, in seconds.
    start_s : float
        Presentation time of the track's first sample, in seconds (kept on
        output so that sound and picture stay in step).
    bit_rate_bps : int or None
        Audio bit rate in bits per second, ``None`` when neither the stream
        nor (for a file of sound alone) the file size tells it.
    lossless : bool
        Whether the codec is lossless (ALAC, FLAC, PCM).
    has_video : bool
        Whether a moving picture is present (cover art does not count).
    n_audio_tracks : int
    audio_track : int
        Which audio track is cleaned: the one marked default, else the first
        (an index among the audio tracks).
    stream_index : int
        Its index among all the file's streams.
    tags : Mapping[str, str]
        The file's metadata (title, artist, creation time, ...), read-only.
    rotation_deg : float
        How far a player turns the picture, in degrees counter-clockwise
        (a phone's portrait video: 90 or -90); 0 without video.
    sample_format : str
        The decoder's sample format (FFmpeg's name: ``"fltp"`` for AAC,
        ``"s16p"`` for 16-bit ALAC, ...); ``""`` when it does not say before decoding.
    """

    kind: str
    demuxer: str
    codec: str
    sr: int
    n_channels: int
    n_samples: int
    n_samples_exact: bool
    duration_s: float
    start_s: float
    bit_rate_bps: int | None
    lossless: bool
    has_video: bool
    n_audio_tracks: int
    audio_track: int
    stream_index: int
    tags: Mapping[str, str]
    rotation_deg: float
    sample_format: str = ""

    @property
    def extension(self) -> str:
        """The container's file ending, with the dot (``".m4a"``)."""
        return "." + self.kind

    @property
    def bounded(self) -> bool:
        """Whether the decoded samples are integers, so always within full scale (a lossy decoder's floats may overshoot)."""
        return self.sample_format.rstrip("p") in ("u8", "s16", "s32", "s64")


# ---------------------------------------------------------------- opening


def display_name(source: MediaInput, name: str | None = None) -> str:
    """The name a message uses for ``source``: ``name``, the file's name, or "The file"."""
    if name:
        return os.path.basename(name)
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(os.fspath(source))
    return "The file"


def _head(source: MediaInput, label: str) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source[:_HEAD_BYTES])
    if not isinstance(source, (str, os.PathLike)):
        raise AudioFileError(f"{label} must be a path or bytes, got {type(source).__name__}.")
    if not os.path.isfile(source):
        raise AudioFileError(f"{label} does not exist or is not a file.")
    try:
        with open(source, "rb") as f:
            return f.read(_HEAD_BYTES)
    except OSError as exc:
        raise AudioFileError(f"{label} could not be opened: {exc.strerror or exc}.") from None


def _sniff(head: bytes) -> str | None:
    """The demuxer for a file that starts with ``head``, or None."""
    if head[4:8] in _MOV_BOXES:
        return "mov"
    if head.startswith(b"caff"):
        return "caf"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"#!AMR"):
        return "amr"
    if head.startswith(_ASF_HEADER):
        return "asf"
    at = 0
    if head.startswith(b"ID3") and len(head) >= 10:
        at = 10 + ((head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F))
    if len(head) >= at + 2 and head[at] == 0xFF and head[at + 1] & 0xF6 == 0xF0:
        return "aac"
    return None


def reason(exc: Exception) -> str:
    """FFmpeg's words for an error, without its error number or function name."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).split(": '", 1)[0].strip().rstrip(".").lower()


@contextmanager
def open_input(source: MediaInput, label: str, limits: MediaLimits) -> Iterator[tuple[av.container.InputContainer, str, bytes]]:
    """Open ``source`` with the one demuxer its first bytes call for.

    Yields
    ------
    container : av.container.InputContainer
    demuxer : str
    head : bytes
        The file's first bytes.

    Raises
    ------
    AudioFileError
        If the file is missing, empty, not one of the containers read here, or
        FFmpeg cannot open it.
    """
    head = _head(source, label)
    if not head:
        raise AudioFileError(f"{label} is empty (0 bytes).")
    demuxer = _sniff(head)
    if demuxer is None:
        raise AudioFileError(
            f"{label} is not an audio or video file that can be read here "
            f"({', '.join(e[1:].upper() for e in MEDIA_EXTENSIONS)})."
        )
    options = {
        "probesize": str(limits.max_probe_bytes),
        "analyzeduration": str(5_000_000),
        # One more than allowed, so that a file over the limit opens and is refused in plain words.
        "max_streams": str(limits.max_streams + 1),
    }
    file = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else os.fspath(source)
    try:
        container = av.open(file, "r", format=demuxer, options=options, metadata_errors="replace")
    except av.error.MemoryError:
        raise AudioFileError(f"{label} declares more than {limits.max_streams} streams or more data than can be read.") from None
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise AudioFileError(f"{label} could not be read as audio or video: {reason(exc)}.") from None
    try:
        yield container, demuxer, head
    finally:
        container.close()


# ---------------------------------------------------------------- probing


def _kind(demuxer: str, container, head: bytes, label: str, has_video: bool) -> str:
    family = _FAMILIES[demuxer]
    ending = os.path.splitext(label)[1].lower().lstrip(".")
    if ending in family:
        return ending
    if demuxer == "matroska":
        return "webm" if b"webm" in head[:64] else "mkv"
    if demuxer == "mov":
        brand = str(container.metadata.get("major_brand", "")).strip().lower()
        if brand in ("m4a", "m4b"):
            return brand
        if brand.startswith("3g"):
            return "3gp"
        if brand == "qt":
            return "mov"
        return "mp4" if has_video else "m4a"
    return family[0]


def _is_picture(stream) -> bool:
    return stream.type == "video" and not (stream.disposition & av.stream.Disposition.attached_pic)


def _default_audio(audio: list) -> int:
    for k, stream in enumerate(audio):
        if stream.disposition & av.stream.Disposition.default:
            return k
    return 0


def _first_packets(container, stream, picture) -> tuple[bool, float]:
    """Whether the first audio packet is encrypted, and the display rotation of the first picture.

    Reads at most :data:`_LOOK_PACKETS` packets; a picture that does not
    decode counts as not rotated.
    """
    encrypted, rotation = None, None if picture is not None else 0.0
    selected = [stream] if picture is None else [stream, picture]
    for k, packet in enumerate(container.demux(selected)):
        if encrypted is None and packet.stream_index == stream.index and packet.size:
            encrypted = packet.has_sidedata("encryption_info")
        elif rotation is None and picture is not None and packet.stream_index == picture.index:
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError):
                frames = []
            if frames:
                rotation = float(frames[0].rotation)
        if (encrypted is not None and rotation is not None) or k >= _LOOK_PACKETS:
            break
    return bool(encrypted), rotation or 0.0


def _tags(metadata: Mapping[str, str]) -> Mapping[str, str]:
    kept = {}
    for key, value in list(metadata.items())[:_MAX_TAGS]:
        kept[str(key)[:_MAX_TAG_CHARS]] = str(value)[:_MAX_TAG_CHARS]
    return MappingProxyType(kept)


def _declared_duration_s(container, stream) -> float | None:
    if stream.duration is not None and stream.duration > 0 and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / 1e6
    return None


def _source_size(source: MediaInput) -> int:
    return len(source) if isinstance(source, (bytes, bytearray)) else os.path.getsize(source)


def probe(source: MediaInput, *, name: str | None = None, limits: MediaLimits = MediaLimits()) -> MediaInfo:
    """Read what a media file holds, decoding none of its sound.

    Parameters
    ----------
    source : str, path, bytes or bytearray
        The file, or its bytes (an upload).
    name : str, optional
        The file's name, for messages and to tell an ``.m4a`` from an
        ``.mp4`` when ``source`` is bytes.
    limits : MediaLimits
        What the file may declare.

    Returns
    -------
    MediaInfo

    Raises
    ------
    AudioFileError
        If the file is missing, empty or not a media file read here; has
        no sound ("This video has no sound to clean."); is protected (DRM);
        declares more streams, channels or seconds than ``limits`` allow, or a
        sample rate outside them; or holds sound no decoder here reads.
    """
    label = display_name(source, name)
    with open_input(source, label, limits) as (container, demuxer, head):
        streams = list(container.streams)
        if len(streams) > limits.max_streams:
            raise AudioFileError(f"{label} holds more than {limits.max_streams} streams; at most {limits.max_streams} are accepted.")
        audio = [s for s in streams if s.type == "audio"]
        pictures = [s for s in streams if _is_picture(s)]
        if not audio:
            if pictures:
                raise AudioFileError("This video has no sound to clean.")
            raise AudioFileError(f"{label} has no sound to clean.")
        track = _default_audio(audio)
        stream = audio[track]
        if demuxer == "asf" and any(guid in head for guid in _ASF_DRM):
            raise AudioFileError(f"{label} is protected (DRM) and cannot be read.")
        ctx = stream.codec_context
        if ctx is None or ctx.codec is None:
            raise AudioFileError(f"{label} holds sound in a format that cannot be decoded here.")
        sr, n_channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
        if n_channels <= 0 or sr <= 0:
            raise AudioFileError(f"{label} has a damaged sound stream (no sample rate or channel count).")
        if not limits.min_sr <= sr <= limits.max_sr:
            raise AudioFileError(f"{label} has sound at {sr} Hz; from {limits.min_sr} to {limits.max_sr} Hz can be read.")
        if n_channels > limits.max_channels:
            raise AudioFileError(f"{label} has {n_channels} sound channels; at most {limits.max_channels} can be read.")
        duration_s = _declared_duration_s(container, stream)
        if duration_s is not None and duration_s > limits.max_duration_s:
            raise AudioFileError(
                f"{label} says it lasts {duration_s / 3600:,.1f} hours; at most "
                f"{limits.max_duration_s / 3600:g} hours can be cleaned."
            )
        time_base = stream.time_base
        exact = (
            demuxer in ("mov", "caf")
            and stream.duration is not None
            and time_base is not None
            and time_base.numerator == 1
            and time_base.denominator == sr
        )
        n_samples = int(stream.duration) if exact else round((duration_s or 0.0) * sr)
        start_s = float(stream.start_time * time_base) if stream.start_time is not None and time_base else 0.0
        has_video = bool(pictures)
        bit_rate = int(ctx.bit_rate or 0) or None
        if bit_rate is None and not has_video and len(audio) == 1 and duration_s:
            bit_rate = int(_source_size(source) * 8 / duration_s)
        kind = _kind(demuxer, container, head, label, has_video)
        tags = _tags(container.metadata)
        stream_index = stream.index
        lossless = bool(ctx.codec.lossless) and not ctx.codec.lossy
        codec = ctx.codec.name
        sample_format = ctx.format.name if ctx.format is not None else ""
        encrypted, rotation = _first_packets(container, stream, pictures[0] if pictures else None)
        if encrypted:
            raise AudioFileError(f"{label} is protected (DRM) and cannot be read.")
    return MediaInfo(
        kind=kind,
        demuxer=demuxer,
        codec=codec,
        sr=sr,
        n_channels=n_channels,
        n_samples=n_samples,
        n_samples_exact=exact,
        duration_s=n_samples / sr,
        start_s=start_s,
        bit_rate_bps=bit_rate,
        lossless=lossless,
        has_video=has_video,
        n_audio_tracks=len(audio),
        audio_track=track,
        stream_index=stream_index,
        tags=tags,
        rotation_deg=rotation,
        sample_format=sample_format,
    )
