"""Encoding audio for the page: players at true level and downloadable files.

Nothing here imports Streamlit. ``st.audio`` given an array normalises each
clip to its own peak, so the players are encoded here instead: the
before/after level difference stays audible. Downloads come in the input's own
format where soundfile can write it, and as WAV and FLAC. A phone memo or a
video (:mod:`denoise_core.media`) comes back first in its own container and
codec (:func:`media_formats`: a video with its picture copied as it is, then
its sound alone as M4A), written by :class:`~denoise_core.media.MediaWriter`
from the upload's bytes and the cleaned sound (:func:`encode_media`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import soundfile as sf

from denoise_core import AudioFileError
from denoise_core.audio_io import write_audio
from denoise_core.media import MediaInfo, MediaWriter, OutputPlan, plan_output

__all__ = [
    "DOWNLOAD_FORMATS",
    "FALLBACK_FORMATS",
    "FLAC_MAX_CHANNELS",
    "SOUND_ALONE",
    "MediaFormat",
    "can_write",
    "describe_format",
    "describe_media",
    "describe_size",
    "describe_subtype",
    "download_labels",
    "download_name",
    "download_size",
    "download_subtype",
    "encode_download",
    "encode_media",
    "encode_player",
    "media_format",
    "media_formats",
    "media_size",
    "own_format",
    "player_mime",
]

#: Download choices: label -> (soundfile format, extension, MIME type). Each is offered where
#: soundfile can write the recording's rate and channels (Opus: 8 to 48 kHz rates; MP3: up to 2 channels).
DOWNLOAD_FORMATS = {
    "WAV": ("WAV", "wav", "audio/wav"),
    "FLAC": ("FLAC", "flac", "audio/flac"),
    "MP3": ("MP3", "mp3", "audio/mpeg"),
    "OGG": ("OGG", "ogg", "audio/ogg"),
    "OPUS": ("OGG", "opus", "audio/ogg"),
    "AIFF": ("AIFF", "aiff", "audio/aiff"),
}
#: Always offered after the input's own format.
FALLBACK_FORMATS = ("WAV", "FLAC")
#: FLAC holds at most this many channels.
FLAC_MAX_CHANNELS = 8

_WAV_SUBTYPES = {"PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}
_AIFF_SUBTYPES = {"PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}
_FLAC_SUBTYPES = {"PCM_S8", "PCM_16", "PCM_24"}
_CODEC_SUBTYPES = {"MP3": "MPEG_LAYER_III", "OGG": "VORBIS", "OPUS": "OPUS"}
#: Bytes per sample of the uncompressed encodings (their file size is known without encoding).
_SAMPLE_BYTES = {"PCM_S8": 1, "PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


def player_mime(channels: int) -> str:
    """MIME type of :func:`encode_player`'s bytes for audio with ``channels`` channels."""
    return "audio/flac" if channels <= FLAC_MAX_CHANNELS else "audio/wav"


def encode_player(y: np.ndarray, sr: int) -> bytes:
    """Bytes for a player: 16-bit FLAC (WAV above 8 channels) at the true level, clipped to [-1, 1].

    Players hold a preview stretch (seconds, not the whole recording), so
    lossless is affordable: FLAC encodes a stretch in tens of milliseconds where
    Vorbis takes ten times as long, and the same audio always gives the same
    bytes (and so the same media URL).

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Samples at full scale 1.0.
    sr : int
        Sample rate in Hz.
    """
    y = np.asarray(y)
    channels = 1 if y.ndim == 1 else y.shape[1]
    buffer = io.BytesIO()
    fmt = "FLAC" if channels <= FLAC_MAX_CHANNELS else "WAV"
    sf.write(buffer, np.clip(y, -1.0, 1.0).astype(np.float32), int(sr), format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def download_subtype(source_subtype: str, fmt: str) -> str:
    """Sample encoding of the download, following the input's bit depth.

    Parameters
    ----------
    source_subtype : str
        soundfile subtype of the input (``"PCM_16"``, ``"VORBIS"``, ...).
    fmt : str
        A label of :data:`DOWNLOAD_FORMATS`.

    Returns
    -------
    str
        WAV keeps PCM_U8/PCM_16/PCM_24/PCM_32/FLOAT/DOUBLE (signed 8-bit becomes
        WAV's unsigned 8-bit); AIFF keeps signed 8 to 32-bit and floats
        (unsigned 8-bit becomes signed); FLAC keeps 8/16/24-bit and stores deeper
        input as 24-bit; compressed or other encodings become 16-bit. MP3, OGG
        and Opus use their codec.
    """
    fmt = fmt.upper()
    if fmt in _CODEC_SUBTYPES:
        return _CODEC_SUBTYPES[fmt]
    if fmt == "WAV":
        if source_subtype in _WAV_SUBTYPES:
            return source_subtype
        return "PCM_U8" if source_subtype == "PCM_S8" else "PCM_16"
    if fmt == "AIFF":
        if source_subtype in _AIFF_SUBTYPES:
            return source_subtype
        return "PCM_S8" if source_subtype == "PCM_U8" else "PCM_16"
    if fmt == "FLAC":
        if source_subtype in _FLAC_SUBTYPES:
            return source_subtype
        if source_subtype == "PCM_U8":
            return "PCM_S8"
        return "PCM_24" if source_subtype in {"PCM_32", "FLOAT", "DOUBLE"} else "PCM_16"
    raise ValueError(f"Unknown download format {fmt!r}; expected one of {sorted(DOWNLOAD_FORMATS)}.")


def download_name(stem: str, fmt: str) -> str:
    """``<stem>_denoised.<ext>`` for a format label of :data:`DOWNLOAD_FORMATS`."""
    return f"{stem}_denoised.{DOWNLOAD_FORMATS[fmt.upper()][1]}"


def own_format(file_format: str, subtype: str) -> str | None:
    """The label of :data:`DOWNLOAD_FORMATS` that writes files like the input, ``None`` if there is none.

    Parameters
    ----------
    file_format, subtype : str
        soundfile's format and subtype of the input (``"OGG"``, ``"OPUS"``).
    """
    if file_format == "OGG":
        return {"VORBIS": "OGG", "OPUS": "OPUS"}.get(subtype)
    return file_format if file_format in DOWNLOAD_FORMATS else None


@lru_cache(maxsize=128)
def can_write(fmt: str, subtype: str, sr: int, channels: int) -> bool:
    """Whether soundfile writes ``fmt``/``subtype`` at ``sr`` Hz with ``channels`` channels (tried on 10 ms)."""
    try:
        encode_download(np.zeros((max(1, sr // 100), channels), np.float32), sr, fmt, subtype)
    except AudioFileError:
        return False
    return True


def download_labels(file_format: str, subtype: str, sr: int, channels: int) -> list[str]:
    """Download formats to offer, best first: the input's own format, then WAV and FLAC.

    Formats that cannot hold the audio (FLAC above 8 channels, MP3 above 2,
    Opus at 44.1 kHz, ...) are left out; WAV always remains.
    """
    labels = []
    for label in (own_format(file_format, subtype), *FALLBACK_FORMATS):
        if label is None or label in labels:
            continue
        if label == "WAV" or can_write(label, download_subtype(subtype, label), int(sr), int(channels)):
            labels.append(label)
    return labels


def encode_download(y: np.ndarray, sr: int, fmt: str, subtype: str) -> bytes:
    """Bytes of a file of ``y`` in a format of :data:`DOWNLOAD_FORMATS`.

    Raises
    ------
    AudioFileError
        If the format cannot hold this audio (e.g. FLAC with more than 8 channels).
    """
    buffer = io.BytesIO()
    write_audio(buffer, y, int(sr), DOWNLOAD_FORMATS[fmt.upper()][0], subtype)
    return buffer.getvalue()


def download_size(sample: np.ndarray, n_frames: int, sr: int, fmt: str, subtype: str) -> tuple[int, bool]:
    """Size in bytes of the download of ``n_frames`` frames, from a ``sample`` of the audio.

    Uncompressed encodings are counted exactly (header plus samples). Compressed
    ones are exact when ``sample`` is the whole audio, and otherwise
    estimated from the sample's encoded size per frame.

    Returns
    -------
    size : int
        Bytes.
    exact : bool
        Whether ``size`` is exact rather than an estimate.
    """
    sample = np.asarray(sample)
    channels = 1 if sample.ndim == 1 else sample.shape[1]
    if fmt.upper() in {"WAV", "AIFF"} and subtype in _SAMPLE_BYTES:
        header = len(encode_download(sample[:1], sr, fmt, subtype)) - channels * _SAMPLE_BYTES[subtype]
        return header + n_frames * channels * _SAMPLE_BYTES[subtype], True
    size = len(encode_download(sample, sr, fmt, subtype))
    if sample.shape[0] >= n_frames:
        return size, True
    return round(size * n_frames / max(sample.shape[0], 1)), False


def describe_size(n_bytes: int, exact: bool = True) -> str:
    """``"9.4 MB"``, ``"820 kB"``; ``"about …"`` for an estimate."""
    text = f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{max(1, round(n_bytes / 1e3)):.0f} kB"
    return text if exact else f"about {text}"


def describe_subtype(subtype: str) -> str:
    """Plain words for a sample encoding: ``"16-bit"``, ``"32-bit float"``, ..."""
    names = {
        "PCM_S8": "8-bit",
        "PCM_U8": "8-bit",
        "PCM_16": "16-bit",
        "PCM_24": "24-bit",
        "PCM_32": "32-bit",
        "FLOAT": "32-bit float",
        "DOUBLE": "64-bit float",
        "VORBIS": "Vorbis",
        "OPUS": "Opus",
        "MPEG_LAYER_III": "MP3",
    }
    return names.get(subtype, subtype.replace("_", " ").lower())


def describe_format(file_format: str, subtype: str) -> str:
    """A file's kind in plain words: ``"MP3"``, ``"OGG Vorbis"``, ``"Opus"``, ``"WAV 16-bit"``."""
    if subtype == "MPEG_LAYER_III" or file_format == "MP3":
        return "MP3"
    if subtype == "OPUS":
        return "Opus"
    return f"{file_format} {describe_subtype(subtype)}"


# ---------------------------------------------------------------- phone memos and videos (FFmpeg)

#: Label of a video's sound alone, the download beside the video.
SOUND_ALONE = "M4A"
#: MIME type of each kind of file written, for sound alone and for a video.
_MEDIA_MIMES = {
    "m4a": "audio/mp4", "m4b": "audio/mp4", "mp4": "video/mp4", "mov": "video/quicktime", "3gp": "video/3gpp",
    "3ga": "audio/3gpp", "caf": "audio/x-caf", "webm": "video/webm", "mkv": "video/x-matroska",
    "amr": "audio/amr", "wma": "audio/x-ms-wma", "aac": "audio/aac",
}
_SOUND_MIMES = {"mp4": "audio/mp4", "3gp": "audio/3gpp", "webm": "audio/webm", "mkv": "audio/x-matroska"}
_CODEC_WORDS = {"aac": "AAC", "alac": "ALAC", "opus": "Opus", "vorbis": "Vorbis", "amrnb": "AMR", "amrwb": "AMR-WB",
                "wmav1": "WMA", "wmav2": "WMA", "flac": "FLAC", "mp3": "MP3", "mp3float": "MP3"}


@dataclass(frozen=True)
class MediaFormat:
    """A download written by :class:`~denoise_core.media.MediaWriter`.

    Attributes
    ----------
    label : str
        ``"MP4"``, ``"M4A"``, ...: the kind written, upper case (the button's key is ``download_<label>``).
    plan : OutputPlan
        Container, codec, bit rate and why it differs from the input.
    sound_alone : bool
        The sound without the input's other tracks (a video's picture): :data:`SOUND_ALONE`.
    video : bool
        Whether the download is a video.
    """

    label: str
    plan: OutputPlan
    sound_alone: bool
    video: bool

    @property
    def extension(self) -> str:
        return self.plan.kind

    @property
    def mime(self) -> str:
        kind = self.plan.kind
        return _MEDIA_MIMES[kind] if self.video else _SOUND_MIMES.get(kind, _MEDIA_MIMES[kind])

    def describe(self) -> str:
        """``"MP4 video"``, ``"M4A sound only"``, ``"M4A"``."""
        return f"{self.label} video" if self.video else f"{self.label} sound only" if self.sound_alone else self.label

    def describe_codec(self) -> str:
        """``"AAC 128 kb/s"``, ``"ALAC lossless"``."""
        words = _CODEC_WORDS.get(self.plan.codec, self.plan.codec.upper())
        if self.plan.bit_rate_bps is None:
            return f"{words} lossless"
        return f"{words} {self.plan.bit_rate_bps / 1000:.0f} kb/s"


def media_formats(info: MediaInfo) -> list[MediaFormat]:
    """Media downloads for an input, best first: its own kind (a video with its picture), then a video's sound alone (M4A).

    Raises
    ------
    AudioFileError
        If FFmpeg here can write the sound in no format at all.
    """
    plan = plan_output(info)
    formats = [MediaFormat(plan.kind.upper(), plan, sound_alone=False, video=info.has_video)]
    if info.has_video:
        alone = plan_output(replace(info, kind="m4a", has_video=False))
        formats.append(MediaFormat(SOUND_ALONE, replace(alone, note=""), sound_alone=True, video=False))
    return formats


def media_format(info: MediaInfo, label: str) -> MediaFormat | None:
    """The format of :func:`media_formats` with ``label``, or ``None``."""
    return next((f for f in media_formats(info) if f.label == label.upper()), None)


def encode_media(y: np.ndarray, source: bytes, info: MediaInfo, sound_alone: bool = False) -> bytes:
    """Bytes of the input file ``source`` with its sound replaced by ``y`` (a video's picture copied as it is).

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        The cleaned sound, within [-1, 1].
    source : bytes
        The file as uploaded.
    info : MediaInfo
        :func:`denoise_core.media.probe` of ``source``.
    sound_alone : bool
        The sound alone as M4A, without the other tracks.

    Raises
    ------
    AudioFileError
        If the encoder or the muxer fails.
    """
    y = np.asarray(y, dtype=np.float32)
    y = y[:, None] if y.ndim == 1 else y
    buffer = io.BytesIO()
    with MediaWriter(buffer, source, info=info, audio_only=sound_alone) as writer:
        for start in range(0, y.shape[0], 1 << 16):
            writer.write(y[start : start + (1 << 16)])
    return buffer.getvalue()


def media_size(fmt: MediaFormat, info: MediaInfo, n_frames: int, source_bytes: int, sample: np.ndarray | None = None,
               source: bytes | None = None) -> tuple[int, bool]:
    """Estimated size in bytes of a media download of ``n_frames`` frames (never exact).

    Lossy sound is counted from its bit rate; lossless sound from a
    ``sample`` encoded (with ``source``) where given, else as 16-bit PCM. A
    video adds its upload's size less its sound's.

    Returns
    -------
    size : int
    exact : bool
        Always ``False``.
    """
    seconds = n_frames / info.sr
    if fmt.plan.bit_rate_bps is not None:
        sound = fmt.plan.bit_rate_bps * seconds / 8
    elif sample is not None and source is not None and len(sample):
        sound = len(encode_media(sample, source, info, sound_alone=True)) * n_frames / len(sample)
    else:
        sound = 2 * n_frames * info.n_channels
    picture = max(0.0, source_bytes - (info.bit_rate_bps or 0) * seconds / 8) if fmt.video else 0.0
    return round(sound + picture + 4096), False


def describe_media(info: MediaInfo) -> str:
    """A media file's kind in plain words: ``"M4A (AAC 128 kb/s)"``, ``"MP4 video (sound: AAC 96 kb/s)"``."""
    words = _CODEC_WORDS.get(info.codec, info.codec.upper())
    rate = "" if info.lossless or not info.bit_rate_bps else f" {info.bit_rate_bps / 1000:.0f} kb/s"
    kind = info.kind.upper().replace("WEBM", "WebM")
    return f"{kind} video (sound: {words}{rate})" if info.has_video else f"{kind} ({words}{rate})"
