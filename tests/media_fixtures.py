"""Small media files made with PyAV itself, for the media tests and the media benchmark.

Each maker returns the file's bytes. Sound is a tone per channel (440 Hz
times the channel number) plus a little noise from a fixed seed, so every
run makes the same files; it is written with exactly the number of samples
asked for (the codec's own priming and padding aside), through an encoder
path of its own (frames built here, not by the code under test).
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np

__all__ = ["AUDIO_CASES", "SEED", "VIDEO_CASES", "make_audio", "make_video", "packets", "tone"]

SEED = 20240611

#: (kind, muxer, encoder, sr, n_channels) of every sound-only file the tests make.
AUDIO_CASES = [
    ("m4a", "ipod", "aac", 44100, 2),
    ("m4a", "ipod", "alac", 44100, 2),
    ("m4b", "ipod", "aac", 22050, 1),
    ("aac", "adts", "aac", 48000, 2),
    ("3gp", "3gp", "aac", 16000, 1),
    ("3ga", "3gp", "libopencore_amrnb", 8000, 1),
    ("caf", "caf", "alac", 48000, 1),
    ("webm", "webm", "libopus", 48000, 2),
    ("mkv", "matroska", "libopus", 48000, 1),
    ("amr", "amr", "libopencore_amrnb", 8000, 1),
    ("wma", "asf", "wmav2", 44100, 2),
]

#: (kind, muxer, video encoder, audio encoder, sr, n_channels) of every video file the tests make.
VIDEO_CASES = [
    ("mp4", "mp4", "libx264", "aac", 48000, 2),
    ("mov", "mov", "mpeg4", "aac", 44100, 1),
    ("webm", "webm", "libvpx", "libopus", 48000, 2),
    ("mkv", "matroska", "libx264", "libopus", 48000, 2),
    ("3gp", "3gp", "mpeg4", "aac", 16000, 1),
]

_MUXERS = {"m4a": "ipod", "m4b": "ipod", "aac": "adts", "3gp": "3gp", "3ga": "3gp", "caf": "caf", "webm": "webm",
           "mkv": "matroska", "amr": "amr", "wma": "asf", "mp4": "mp4", "mov": "mov"}


def tone(n_samples: int, sr: int, n_channels: int, *, level: float = 0.3) -> np.ndarray:
    """A tone per channel plus a little noise, ``(n_samples, n_channels)`` float32 within full scale."""
    t = np.arange(n_samples)[:, None] / sr
    freqs = 440.0 * np.arange(1, n_channels + 1)[None, :]
    noise = np.random.default_rng(SEED).standard_normal((n_samples, n_channels))
    return (level * np.sin(2 * np.pi * freqs * t) + 0.01 * noise).astype(np.float32)


def _to_format(block: np.ndarray, fmt: str) -> np.ndarray:
    """``(m, n_channels)`` float32 as the array ``AudioFrame.from_ndarray`` takes for ``fmt``."""
    planar = fmt.endswith("p")
    base = fmt.rstrip("p")
    if base == "s16":
        block = np.clip(np.round(block * 32768.0), -32768, 32767).astype(np.int16)
    elif base == "s32":
        block = np.clip(np.round(block.astype(np.float64) * 2.0**31), -(2**31), 2**31 - 1).astype(np.int32)
    return np.ascontiguousarray(block.T if planar else block.reshape(1, -1))


def _audio_stream(container, encoder: str, sr: int, n_channels: int, bit_rate: int | None):
    options = {"strict": "experimental"} if encoder == "vorbis" else {}
    stream = container.add_stream(encoder, rate=sr, layout="mono" if n_channels == 1 else "stereo", options=options)
    if bit_rate:
        stream.bit_rate = bit_rate
    elif encoder == "libopencore_amrnb":
        stream.bit_rate = 12200
    elif encoder in ("aac", "wmav2", "libopus"):
        stream.bit_rate = 64000 * n_channels
    if encoder == "alac":
        stream.codec_context.format = "s16p"  # 16-bit, as phones record
    stream.codec_context.open()
    return stream


def _encode_audio(container, stream, y: np.ndarray, first_pts: int = 0) -> list:
    """Encode ``y`` in the codec's frame size.

    The last frame is padded with zeros where the codec needs it, and in
    CAF, whose muxer counts a short last packet as a whole one; the last
    packet's duration then says how much of it is sound.
    """
    ctx = stream.codec_context
    fmt = ctx.format.name
    frame_size = ctx.frame_size or 4096
    small_last = bool(ctx.codec.capabilities & av.codec.Capabilities.small_last_frame)
    small_last = small_last and container.format.name != "caf"
    end = first_pts + y.shape[0]
    packets = []
    for first in range(0, y.shape[0], frame_size):
        block = y[first : first + frame_size]
        if block.shape[0] < frame_size and not small_last:
            block = np.concatenate([block, np.zeros((frame_size - block.shape[0], y.shape[1]), np.float32)])
        frame = av.AudioFrame.from_ndarray(_to_format(block, fmt), format=fmt, layout=ctx.layout.name)
        frame.sample_rate = ctx.sample_rate
        frame.pts = first_pts + first
        frame.time_base = Fraction(1, ctx.sample_rate)
        packets += stream.encode(frame)
    packets += stream.encode(None)
    for packet in packets:
        if packet.pts is not None and packet.duration:
            packet.duration = max(0, min(packet.duration, end - packet.pts))
    return packets


def make_audio(kind: str, encoder: str, *, sr: int, n_channels: int, n_samples: int,
               bit_rate: int | None = None, tags: dict[str, str] | None = None, sound: np.ndarray | None = None) -> bytes:
    """A sound-only file of ``kind`` (``"m4a"``, ``"caf"``, ...) holding ``tone(n_samples, sr, n_channels)``,
    or ``sound`` ``(n_samples, n_channels)`` float32 where given."""
    buffer = io.BytesIO()
    options = {"movie_timescale": str(sr)} if _MUXERS[kind] in ("ipod", "3gp", "mp4", "mov") else {}
    with av.open(buffer, "w", format=_MUXERS[kind], options=options) as container:
        container.metadata.update(tags or {})
        stream = _audio_stream(container, encoder, sr, n_channels, bit_rate)
        y = tone(n_samples, sr, n_channels) if sound is None else sound
        for packet in _encode_audio(container, stream, y):
            container.mux(packet)
    return buffer.getvalue()


def make_video(kind: str, video_encoder: str, audio_encoder: str | None, *, sr: int = 48000, n_channels: int = 2,
               seconds: float = 1.0, fps: int = 10, size=(64, 48), rotation_deg: int = 0,
               extra_audio: bool = False, tags: dict[str, str] | None = None, sound: np.ndarray | None = None) -> bytes:
    """A tiny video of ``kind``: moving grey frames and (unless ``audio_encoder`` is None) a tone.

    ``extra_audio`` adds a second, quieter audio track after the first
    (the default one); ``rotation_deg`` sets the display matrix; ``sound``
    ``(n, n_channels)`` float32 replaces the tone.
    """
    buffer = io.BytesIO()
    muxer = _MUXERS[kind]
    with av.open(buffer, "w", format=muxer) as container:
        container.metadata.update(tags or {})
        video = container.add_stream(video_encoder, rate=fps, options={"preset": "ultrafast"} if video_encoder == "libx264" else {})
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        if rotation_deg:
            video.set_display_rotation(rotation_deg)
        tracks = []
        if audio_encoder is not None:
            tracks.append((_audio_stream(container, audio_encoder, sr, n_channels, None), 1.0))
            if extra_audio:
                tracks.append((_audio_stream(container, audio_encoder, sr, n_channels, None), 0.2))
            tracks[0][0].disposition = av.stream.Disposition.default
        n_frames = round(seconds * fps)
        packets = []
        for k in range(n_frames):
            picture = np.full((size[1], size[0], 3), (k * 23) % 256, np.uint8)
            picture[:, : (k * 5) % size[0]] = 255 - picture[:, : (k * 5) % size[0]]
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = k
            packets += video.encode(frame)
        packets += video.encode(None)
        y = tone(round(seconds * sr), sr, n_channels) if sound is None else sound
        for stream, level in tracks:
            packets += _encode_audio(container, stream, y * np.float32(level))
        # In time order, as a muxer expects them.
        packets.sort(key=lambda p: float((p.dts if p.dts is not None else p.pts or 0) * p.time_base))
        for packet in packets:
            container.mux(packet)
    return buffer.getvalue()


def packets(data: bytes, kind: str) -> list[tuple]:
    """Every packet of the streams of ``kind`` (``"video"``/``"audio"``) in ``data``: (stream, pts_s, dts_s, duration_s, bytes)."""
    out = []
    with av.open(io.BytesIO(data)) as container:
        chosen = [s for s in container.streams if s.type == kind]
        for packet in container.demux(chosen):
            if packet.size:
                tb = packet.time_base
                out.append((
                    chosen.index(packet.stream),
                    None if packet.pts is None else float(packet.pts * tb),
                    None if packet.dts is None else float(packet.dts * tb),
                    float((packet.duration or 0) * tb),
                    bytes(packet),
                ))
    return out


def encrypted_m4a(y: np.ndarray, sr: int) -> bytes:
    """An M4A whose AAC is encrypted (CENC, a fixed key), as a DRM-protected purchase is: mono ``y`` at ``sr``."""
    buffer = io.BytesIO()
    options = {"encryption_scheme": "cenc-aes-ctr", "encryption_key": "00" * 16, "encryption_kid": "11" * 16}
    with av.open(buffer, "w", format="ipod", options=options) as container:
        stream = container.add_stream("aac", rate=sr, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(y.reshape(1, -1), dtype=np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = sr, 0
        for packet in stream.encode(frame) + stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
