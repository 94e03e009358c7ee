"""Encoding audio for the page: players at true level and downloadable files.

Nothing here imports Streamlit. ``st.audio`` given an array normalises each
clip to its own peak, so the players are encoded here instead: the
before/after level difference stays audible. Downloads come in the input's own
format where soundfile can write it, and as WAV and FLAC.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
import soundfile as sf

from denoise_core import AudioFileError
from denoise_core.audio_io import write_audio

__all__ = [
    "DOWNLOAD_FORMATS",
    "FALLBACK_FORMATS",
    "FLAC_MAX_CHANNELS",
    "can_write",
    "describe_format",
    "describe_size",
    "describe_subtype",
    "download_labels",
    "download_name",
    "download_size",
    "download_subtype",
    "encode_download",
    "encode_player",
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
