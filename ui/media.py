"""Encoding audio for the page: players at true level and downloadable files.

Nothing here imports Streamlit. ``st.audio`` given an array normalises each
clip to its own peak and holds uncompressed WAV in memory, so the players are
encoded here as OGG/Vorbis bytes instead: the before/after level difference
stays audible and a 30-minute clip is a few MB rather than hundreds.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import soundfile as sf

from denoise_core.audio_io import write_audio

__all__ = [
    "PLAYER_MIME",
    "DOWNLOAD_FORMATS",
    "FLAC_MAX_CHANNELS",
    "PlayerEncoder",
    "encode_player",
    "with_serial",
    "download_subtype",
    "download_name",
    "encode_download",
    "describe_subtype",
]

#: MIME type of the players' bytes.
PLAYER_MIME = "audio/ogg"
#: Download choices: label -> (soundfile format, extension, MIME type).
DOWNLOAD_FORMATS = {
    "WAV": ("WAV", "wav", "audio/wav"),
    "FLAC": ("FLAC", "flac", "audio/flac"),
}
#: FLAC holds at most this many channels.
FLAC_MAX_CHANNELS = 8

#: Frames per write: libsndfile 1.2.2's Vorbis encoder crashes the process
#: (segfault) when one write holds much more than a million samples.
_BLOCK_FRAMES = 65536
#: Stream serial number written into every player: libsndfile picks a random one,
#: which would make the same audio give different bytes (and media URLs) each time.
_OGG_SERIAL = 0x51554954  # "QUIT"
_BIT_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
_WAV_SUBTYPES = {"PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}
_FLAC_SUBTYPES = {"PCM_S8", "PCM_16", "PCM_24"}


class PlayerEncoder:
    """OGG/Vorbis player bytes written block by block, at true level (no normalisation).

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    channels : int
        Number of channels.

    Examples
    --------
    >>> enc = PlayerEncoder(16_000, 1)
    >>> enc.write(np.zeros(16_000, np.float32))
    >>> data = enc.finish()
    """

    def __init__(self, sr: int, channels: int) -> None:
        self._buffer = io.BytesIO()
        self._file = sf.SoundFile(self._buffer, "w", int(sr), int(channels), format="OGG", subtype="VORBIS")
        self._pending: list = []
        self._n_pending = 0

    def write(self, y: np.ndarray) -> None:
        """Append samples ``(n,)`` or ``(n, channels)`` at full scale 1.0 (clipped to [-1, 1]).

        The encoder is always handed exactly ``_BLOCK_FRAMES`` frames at a time
        (Ogg page boundaries depend on how the writes fall), so the bytes do
        not depend on how the caller splits the audio.
        """
        start = 0
        if self._n_pending:
            start = min(y.shape[0], _BLOCK_FRAMES - self._n_pending)
            self._pending.append(np.clip(y[:start], -1.0, 1.0, dtype=np.float32))
            self._n_pending += start
            if self._n_pending < _BLOCK_FRAMES:
                return
            self._file.write(np.concatenate(self._pending))
            self._pending, self._n_pending = [], 0
        while y.shape[0] - start >= _BLOCK_FRAMES:
            self._file.write(np.clip(y[start : start + _BLOCK_FRAMES], -1.0, 1.0, dtype=np.float32))
            start += _BLOCK_FRAMES
        if start < y.shape[0]:
            self._pending = [np.clip(y[start:], -1.0, 1.0, dtype=np.float32)]
            self._n_pending = y.shape[0] - start

    def finish(self) -> bytes:
        """Close the stream and return the file's bytes (the same audio always gives the same bytes)."""
        if self._n_pending:
            self._file.write(np.concatenate(self._pending))
        self._file.close()
        return with_serial(self._buffer.getvalue(), _OGG_SERIAL)

    def close(self) -> None:
        """Give up (e.g. after an error elsewhere); safe to call more than once."""
        if not self._file.closed:
            self._file.close()


def _ogg_crc(page: bytes) -> int:
    """Ogg's page checksum (CRC-32, polynomial 0x04C11DB7, not reflected, no initial or final XOR).

    zlib's CRC-32 is the reflected form with both XORs: feeding it bit-reversed
    bytes from a zero register and reversing the result gives Ogg's, at C speed.
    """
    reflected = zlib.crc32(page.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def with_serial(data: bytes, serial: int) -> bytes:
    """An Ogg file with every page's stream serial number set to ``serial`` (checksums redone).

    Data that is not a plain sequence of Ogg pages is returned unchanged.
    """
    out = bytearray(data)
    pos = 0
    while pos < len(out):
        if out[pos : pos + 4] != b"OggS" or pos + 27 > len(out):
            return data
        n_segments = out[pos + 26]
        size = 27 + n_segments + sum(out[pos + 27 : pos + 27 + n_segments])
        if pos + size > len(out):
            return data
        struct.pack_into("<I", out, pos + 14, serial)
        struct.pack_into("<I", out, pos + 22, 0)
        struct.pack_into("<I", out, pos + 22, _ogg_crc(bytes(out[pos : pos + size])))
        pos += size
    return bytes(out)


def encode_player(y: np.ndarray, sr: int) -> bytes:
    """OGG/Vorbis bytes of ``y`` at its true level (no normalisation).

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Samples at full scale 1.0 (clipped to [-1, 1]).
    sr : int
        Sample rate in Hz.
    """
    y = np.asarray(y)
    encoder = PlayerEncoder(sr, 1 if y.ndim == 1 else y.shape[1])
    encoder.write(y)
    return encoder.finish()


def download_subtype(source_subtype: str, fmt: str) -> str:
    """Sample encoding of the download, following the input's bit depth.

    Parameters
    ----------
    source_subtype : str
        soundfile subtype of the input (``"PCM_16"``, ``"VORBIS"``, ...).
    fmt : str
        ``"WAV"`` or ``"FLAC"``.

    Returns
    -------
    str
        WAV keeps PCM_U8/PCM_16/PCM_24/PCM_32/FLOAT/DOUBLE (signed 8-bit becomes
        WAV's unsigned 8-bit); FLAC keeps 8/16/24-bit and stores deeper input
        as 24-bit; compressed or other encodings become 16-bit.
    """
    fmt = fmt.upper()
    if fmt == "WAV":
        if source_subtype in _WAV_SUBTYPES:
            return source_subtype
        return "PCM_U8" if source_subtype == "PCM_S8" else "PCM_16"
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


def encode_download(y: np.ndarray, sr: int, fmt: str, subtype: str) -> bytes:
    """Bytes of a WAV or FLAC file of ``y``.

    Raises
    ------
    AudioFileError
        If the format cannot hold this audio (e.g. FLAC with more than 8 channels).
    """
    buffer = io.BytesIO()
    write_audio(buffer, y, int(sr), DOWNLOAD_FORMATS[fmt.upper()][0], subtype)
    return buffer.getvalue()


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
