"""Writing cleaned sound back into the input's kind of file (PyAV), video and other tracks copied as they are.

:func:`plan_output` decides what is written for an input: the same codec in
the same container where FFmpeg here can encode it, else the nearest thing,
with a note in plain words. :class:`MediaWriter` encodes the blocks it is
given, copies every other track of the input packet for packet (no
re-encoding), and publishes the file only when it is complete.
"""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import ExitStack, suppress
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from .errors import AudioFileError, AudioInputError
from .media_probe import MediaInfo, MediaInput, MediaLimits, display_name, open_input, probe, reason

__all__ = ["MediaWriter", "OutputPlan", "plan_output"]

#: FFmpeg's muxer for each kind of file written.
MUXERS = {"m4a": "ipod", "m4b": "ipod", "mp4": "mp4", "mov": "mov", "3gp": "3gp", "3ga": "3gp", "caf": "caf",
          "webm": "webm", "mkv": "matroska", "amr": "amr", "wma": "asf", "aac": "adts"}
_MOV_MUXERS = ("ipod", "mp4", "mov", "3gp")
#: Codecs (FFmpeg's decoder names) each kind of file is written with, and the encoder for each codec.
_KIND_CODECS = {"m4a": ("aac", "alac"), "m4b": ("aac", "alac"), "mp4": ("aac", "alac"), "mov": ("aac", "alac"),
                "3gp": ("aac", "amrnb"), "3ga": ("aac", "amrnb"), "caf": ("alac",), "webm": ("opus", "vorbis"),
                "mkv": ("aac", "alac", "opus", "vorbis", "flac"), "amr": ("amrnb",), "wma": ("wmav2",), "aac": ("aac",)}
_ENCODERS = {"aac": "aac", "alac": "alac", "opus": "libopus", "vorbis": "vorbis", "amrnb": "libopencore_amrnb",
             "wmav2": "wmav2", "flac": "flac", "mp3": "libmp3lame"}
#: Codecs read under another name, written as the one FFmpeg encodes.
_SAME_AS = {"wmav1": "wmav2", "libopus": "opus", "libvorbis": "vorbis", "mp3float": "mp3"}
_WORDS = {"aac": "AAC", "alac": "ALAC", "opus": "Opus", "vorbis": "Vorbis", "amrnb": "AMR", "amrwb": "AMR",
          "wmav2": "WMA", "flac": "FLAC", "mp3": "MP3"}
#: Lowest lossy bit rate per channel written, and the highest, in bits per second.
_MIN_BPS_PER_CHANNEL = {"aac": 64000, "opus": 48000, "vorbis": 64000, "wmav2": 64000}
_MAX_BPS_PER_CHANNEL = {"aac": 256000, "opus": 256000, "vorbis": 240000, "wmav2": 192000}
#: AMR-NB's modes, in bits per second.
_AMR_NB_BPS = (4750, 5150, 5900, 6700, 7400, 7950, 10200, 12200)
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
#: Encoder options: the AAC encoder's fast coder is twice as quick as its default at the same bit rate.
_ENCODER_OPTIONS = {"aac": {"aac_coder": "fast"}, "vorbis": {"strict": "experimental"}}
#: Tags the muxer writes itself (Matroska writes each track's DURATION).
_OWN_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration"}

Target = str | os.PathLike | BinaryIO


@dataclass(frozen=True)
class OutputPlan:
    """What is written for an input.

    Attributes
    ----------
    kind : str
        The container, as a file ending without the dot (``"m4a"``).
    codec : str
        The audio codec (FFmpeg's name: ``"aac"``, ``"alac"``, ``"opus"``, ...).
    bit_rate_bps : int or None
        Audio bit rate in bits per second asked of a lossy encoder (at least
        the input's where it is known); ``None`` for a lossless one.
    note : str
        Why the result is not in the input's format, in plain words (``""`` when it is).
    """

    kind: str
    codec: str
    bit_rate_bps: int | None
    note: str

    @property
    def extension(self) -> str:
        """The result's file ending, with the dot."""
        return "." + self.kind

    @property
    def muxer(self) -> str:
        """FFmpeg's muxer for :attr:`kind`."""
        return MUXERS[self.kind]

    @property
    def lossless(self) -> bool:
        """Whether the sound is written losslessly."""
        return self.bit_rate_bps is None


def _encodes(codec: str, sr: int, n_channels: int) -> bool:
    """Whether FFmpeg here can encode ``codec`` at ``sr`` Hz with ``n_channels`` channels."""
    try:
        encoder = av.codec.Codec(_ENCODERS[codec], "w")
    except (KeyError, av.error.FFmpegError, ValueError):
        return False
    if codec == "opus":
        return sr in _OPUS_RATES
    if codec == "amrnb":
        return sr == 8000 and n_channels == 1
    if codec == "vorbis":
        return n_channels == 2  # FFmpeg's own Vorbis encoder takes stereo only
    if codec == "aac" and n_channels > 8:
        return False
    rates = encoder.audio_rates
    return not rates or sr in rates


def _bit_rate(codec: str, info: MediaInfo) -> int | None:
    if codec in ("alac", "flac"):
        return None
    given = info.bit_rate_bps or 0
    if codec == "amrnb":
        return next((bps for bps in _AMR_NB_BPS if bps >= given), _AMR_NB_BPS[-1])
    n = info.n_channels
    return int(min(max(given, _MIN_BPS_PER_CHANNEL[codec] * n), _MAX_BPS_PER_CHANNEL[codec] * n))


def plan_output(info: MediaInfo) -> OutputPlan:
    """What :class:`MediaWriter` writes for an input described by ``info``.

    The input's codec in the input's container where FFmpeg here encodes
    it. Otherwise a video keeps its container (AAC in it, Opus or Vorbis in
    WebM, ALAC for lossless sound where the container holds it), and sound
    alone keeps its container where it holds ALAC or AAC, else becomes M4A:
    ALAC for lossless sound, AAC for lossy (AMR-WB, WMA Pro, AAC in CAF,
    mono Vorbis...). Lossy bit rates are at least the input's.
    """
    codec = _SAME_AS.get(info.codec, info.codec)
    sr, n = info.sr, info.n_channels
    if codec in _KIND_CODECS[info.kind] and _encodes(codec, sr, n):
        return OutputPlan(info.kind, codec, _bit_rate(codec, info), "")
    if info.kind == "webm":
        choices = ["opus", "vorbis"] + ([] if info.has_video else ["aac"])
    else:
        choices = ["alac", "aac"] if info.lossless else ["aac", "alac"]
    kind = info.kind if info.has_video else None
    for choice in choices:
        if not _encodes(choice, sr, n):
            continue
        if kind is None:
            kind = info.kind if choice in _KIND_CODECS[info.kind] else "m4a"
        if choice in _KIND_CODECS[kind]:
            words = _WORDS.get(codec, codec.upper())
            # The codec is named with its container where only the container is the obstacle.
            where = f" in {info.kind.upper()}" if codec in _ENCODERS and _encodes(codec, sr, n) else ""
            note = f"{words}{where} cannot be written here, so the result is {kind.upper()} ({_WORDS[choice]})."
            return OutputPlan(kind, choice, _bit_rate(choice, info), note)
    raise AudioFileError(
        f"Sound at {sr} Hz with {n} channels cannot be written as {info.kind.upper()} here."
    )


def _frame_array(block: np.ndarray, fmt: str) -> np.ndarray:
    """``(m, n_channels)`` float32 within full scale as ``AudioFrame.from_ndarray`` takes it for ``fmt``."""
    base = fmt.rstrip("p")
    if base == "s16":
        block = np.clip(np.rint(block * np.float32(32768.0)), -32768, 32767).astype(np.int16)
    elif base == "s32":
        block = np.clip(np.rint(block.astype(np.float64) * 2.0**31), -(2.0**31), 2.0**31 - 1).astype(np.int32)
    return np.ascontiguousarray(block.T if fmt.endswith("p") else block.reshape(1, -1))


def _sample_format(encoder, decoded: str | None) -> str:
    """The encoder's sample format: the decoder's where it takes it (16-bit ALAC stays 16-bit), else float."""
    names = [f.name for f in encoder.audio_formats or ()]
    for name in ([decoded] if decoded else []) + ["fltp", "flt", "s32p", "s32", "s16p", "s16"]:
        if name in names:
            return name
    raise AudioFileError(f"The {encoder.name} encoder takes none of the sample formats written here ({names}).")


class MediaWriter:
    """The cleaned sound, written into a file like its input; the input's other tracks copied.

    Parameters
    ----------
    target : str, path or binary file object
        Where the result goes. A path's ending is replaced by the plan's
        (:attr:`path` says where it went), and the file appears there only
        when :meth:`close` completes; a file object (``io.BytesIO`` for the
        app) receives the bytes as they are written.
    source : str, path, bytes or bytearray
        The input file, whose other tracks (video, other audio) are copied.
    info : MediaInfo, optional
        :func:`probe` of ``source`` (probed here when not given).
    name : str, optional
        The input's name, for messages.
    limits : MediaLimits
    audio_only : bool
        Write the cleaned sound alone as M4A (AAC, ALAC for lossless sound),
        the input's other tracks left out: a video's sound on its own.

    Attributes
    ----------
    plan : OutputPlan
        Container, codec and bit rate written.
    note : str
        Why the result is not in the input's format (``""`` when it is),
        followed by what was left out (a cover picture the container cannot hold, ...).
    extension : str
        The ending actually used (``".m4a"``).
    path : Path or None
        The result's path, for a path target.

    Notes
    -----
    Blocks go to the encoder in its own frame size; timestamps start at
    the input track's start, so a video stays in step. A codec without
    a short last frame gets zeros at the end; WMA gets one frame of zeros
    at the start, which its decoder drops, so the sound starts on time.
    """

    def __init__(self, target: Target, source: MediaInput, *, info: MediaInfo | None = None,
                 name: str | None = None, limits: MediaLimits = MediaLimits(), audio_only: bool = False) -> None:
        self.info = info or probe(source, name=name, limits=limits)
        self._audio_only = audio_only
        self.plan = plan_output(replace(self.info, kind="m4a", has_video=False) if audio_only else self.info)
        self.extension = self.plan.extension
        self._label = display_name(source, name)
        self._notes: list[str] = [self.plan.note] if self.plan.note else []
        self._stack = ExitStack()
        self._closed, self._tmp, self._file = False, None, None
        self._end_pts: int | None = None
        self.path: Path | None = None
        if isinstance(target, (str, os.PathLike)):
            self.path = Path(target).with_suffix(self.extension)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".denoise-", suffix=self.extension, dir=self.path.parent)
            os.close(fd)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # mkstemp's file is private (0600): the mode a new file would have
            self._tmp = tmp
            out_file = tmp
        else:
            self._file, self._file_start = target, target.tell()
            out_file = target
        try:
            self._open(out_file, source, limits)
        except BaseException:
            self.abort()
            raise

    @property
    def note(self) -> str:
        """What differs from the input, in plain words (``""`` when nothing does)."""
        return " ".join(self._notes)

    # ------------------------------------------------------------ setting up

    def _open(self, out_file, source: MediaInput, limits: MediaLimits) -> None:
        info, plan = self.info, self.plan
        # bitexact: no random identifiers (Matroska's segment and track UIDs), so the same sound gives the same bytes.
        options = {"fflags": "+bitexact", **({"movie_timescale": str(info.sr)} if plan.muxer in _MOV_MUXERS else {})}
        try:
            self._out = self._stack.enter_context(av.open(out_file, "w", format=plan.muxer, options=options))
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise AudioFileError(f"Could not start writing {plan.kind.upper()}: {reason(exc)}.") from None
        self._in, _, _ = self._stack.enter_context(open_input(source, self._label, limits))
        self._out.metadata.update({k: v for k, v in info.tags.items() if k.lower() not in _OWN_TAGS})
        self._copies: dict[int, object] = {}
        dropped: list[str] = []
        try:
            for stream in self._in.streams:
                if stream.index == info.stream_index:
                    self._audio = self._add_audio(stream)
                elif self._audio_only:
                    continue
                elif stream.type in ("video", "audio") and stream.codec_context.name in self._out.supported_codecs:
                    copy = self._out.add_stream_from_template(stream)
                    copy.metadata.update(stream.metadata)
                    copy.disposition = stream.disposition
                    self._copies[stream.index] = copy
                else:
                    picture = stream.disposition & av.stream.Disposition.attached_pic
                    dropped.append("the cover picture" if picture else f"a {stream.type} track ({stream.codec_context.name})")
            chapters = self._in.chapters()
            if chapters:
                self._out.set_chapters(chapters)
        except (av.error.FFmpegError, ValueError) as exc:
            raise AudioFileError(f"Could not set up the {plan.kind.upper()} result: {reason(exc)}.") from None
        if dropped:
            self._notes.append(f"{plan.kind.upper()} here cannot hold {', '.join(dropped)}, so it was left out.")
        if any(s.type == "video" for s in (self._in.streams[i] for i in self._copies)) and info.kind != plan.kind:
            raise AudioFileError(f"The video of {self._label} cannot be kept in {plan.kind.upper()}.")
        self._pending_copy = None
        self._copy_packets = iter(self._in.demux([self._in.streams[i] for i in self._copies])) if self._copies else iter(())

    def _add_audio(self, template):
        info, plan = self.info, self.plan
        encoder = _ENCODERS[plan.codec]
        layout = template.codec_context.layout.name if template.codec_context.layout.nb_channels == info.n_channels else None
        stream = self._out.add_stream(encoder, rate=info.sr, layout=layout or ("mono" if info.n_channels == 1 else "stereo"),
                                      options=dict(_ENCODER_OPTIONS.get(plan.codec, {})))
        if stream.codec_context.layout.nb_channels != info.n_channels:
            raise AudioFileError(f"{_WORDS.get(plan.codec, plan.codec)} cannot be written with {info.n_channels} channels here.")
        decoded = template.codec_context.format.name if template.codec_context.format is not None else None
        stream.codec_context.format = _sample_format(stream.codec_context.codec, decoded)
        if plan.bit_rate_bps:
            stream.bit_rate = plan.bit_rate_bps
        stream.metadata.update({k: v for k, v in template.metadata.items() if k.lower() not in _OWN_TAGS})
        stream.disposition = template.disposition | av.stream.Disposition.default
        stream.time_base = Fraction(1, info.sr)
        stream.codec_context.open()
        ctx = stream.codec_context
        self._format = ctx.format.name
        self._frame_size = ctx.frame_size or 4096
        self._pad_last = not (ctx.codec.capabilities & av.codec.Capabilities.small_last_frame) or plan.muxer == "caf"
        self._buffer = np.zeros((0, info.n_channels), np.float32)
        self._start_pts = 0 if self._audio_only else round(info.start_s * info.sr)
        self._n_written = 0
        if plan.codec == "wmav2":
            self._start_pts -= self._frame_size
            self._buffer = np.zeros((self._frame_size, info.n_channels), np.float32)
        return stream

    # ------------------------------------------------------------ writing

    def write(self, block: np.ndarray) -> None:
        """Encode ``block`` ``(m, n_channels)``, float samples within [-1, 1].

        Raises
        ------
        AudioInputError
            If the block's shape does not fit the input's channel count.
        AudioFileError
            If the encoder or the muxer fails.
        """
        block = np.asarray(block, dtype=np.float32)
        if block.ndim != 2 or block.shape[1] != self.info.n_channels:
            raise AudioInputError(f"Blocks must have shape (samples, {self.info.n_channels}), got {block.shape}.")
        if self._closed:
            raise AudioFileError("The media writer is closed.")
        self._buffer = np.concatenate([self._buffer, block]) if self._buffer.shape[0] else block
        n_full = self._buffer.shape[0] - self._buffer.shape[0] % self._frame_size
        self._encode(self._buffer[:n_full])
        self._buffer = self._buffer[n_full:]

    def _encode(self, samples: np.ndarray | None) -> None:
        """Encode ``samples`` in the encoder's frame size (``None``: flush), muxing packets in time order."""
        ctx = self._audio.codec_context
        try:
            if samples is None:
                packets = self._audio.encode(None)
                self._mux_audio(packets)
                return
            for first in range(0, samples.shape[0], self._frame_size):
                part = samples[first : first + self._frame_size]
                frame = av.AudioFrame.from_ndarray(_frame_array(part, self._format), format=self._format,
                                                   layout=ctx.layout.name)
                frame.sample_rate = ctx.sample_rate
                frame.time_base = self._audio.time_base
                frame.pts = self._start_pts + self._n_written
                self._n_written += part.shape[0]
                self._mux_audio(self._audio.encode(frame))
        except av.error.FFmpegError as exc:
            raise AudioFileError(f"Could not encode {_WORDS.get(self.plan.codec, self.plan.codec)}: {reason(exc)}.") from None

    def _mux_audio(self, packets: list) -> None:
        for packet in packets:
            if self._end_pts is not None and packet.pts is not None and packet.duration:
                packet.duration = max(0, min(packet.duration, self._end_pts - packet.pts))
            if packet.pts is not None:
                self._mux_copies(float(packet.pts * packet.time_base))
            self._out.mux(packet)

    def _mux_copies(self, until_s: float | None) -> None:
        """Copy the input's other packets whose decoding time is at most ``until_s`` (``None``: all)."""
        while True:
            if self._pending_copy is None:
                self._pending_copy = next(self._copy_packets, None)
                if self._pending_copy is None:
                    return
            packet = self._pending_copy
            if not packet.size:
                self._pending_copy = None
                continue
            stamp = packet.dts if packet.dts is not None else packet.pts
            if until_s is not None and stamp is not None and float(stamp * packet.time_base) > until_s:
                return
            packet.stream = self._copies[packet.stream_index]
            self._out.mux(packet)
            self._pending_copy = None

    # ------------------------------------------------------------ finishing

    def close(self) -> None:
        """Encode what is left, copy the rest of the input's other tracks and publish the result.

        Raises
        ------
        AudioFileError
            If the encoder, the muxer or the file system fails; nothing is
            published then.
        """
        if self._closed:
            return
        try:
            rest = self._buffer
            real = rest.shape[0]
            self._end_pts = self._start_pts + self._n_written + real
            if real and self._pad_last:
                rest = np.concatenate([rest, np.zeros((self._frame_size - real, rest.shape[1]), np.float32)])
            if rest.shape[0]:
                self._encode(rest)
            self._encode(None)
            self._mux_copies(None)
            self._stack.close()
            if self._tmp is not None:
                os.replace(self._tmp, self.path)
                self._tmp = None
        except av.error.FFmpegError as exc:
            self.abort()
            raise AudioFileError(f"Could not finish the {self.plan.kind.upper()} result: {reason(exc)}.") from None
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def abort(self) -> None:
        """Stop and leave nothing behind: the temporary file is removed, a file object emptied back to where it was."""
        self._closed = True
        with suppress(av.error.FFmpegError, OSError, ValueError):
            self._stack.close()
        if self._tmp is not None and os.path.exists(self._tmp):
            os.remove(self._tmp)
        self._tmp = None
        if self._file is not None:
            try:
                self._file.seek(self._file_start)
                self._file.truncate()
            except (OSError, ValueError, io.UnsupportedOperation):
                pass

    def __enter__(self) -> MediaWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
