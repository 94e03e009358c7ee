"""The sound of a media file as a :class:`~denoise_core.source.Source`, decoded in blocks (PyAV).

Compressed sound cannot be entered at an exact sample, so every read decodes
from the start of the track and drops what comes before ``start``; memory
stays at one block and one codec frame whatever the length.
"""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

from .errors import AudioFileError
from .media_probe import MediaInfo, MediaInput, MediaLimits, display_name, open_input, probe, reason
from .source import Source

__all__ = ["MediaSource"]

#: Encoder priming dropped from ADTS AAC, which cannot say how much it has: the
#: 1024 samples of one AAC frame, as FFmpeg's encoder and most others prime.
ADTS_PRIMING = 1024

#: NumPy type, full scale and offset of each sample format (unsigned 8-bit is centred on 128).
_FORMATS = {
    "u8": (np.uint8, 128.0, 128.0),
    "s16": (np.int16, 32768.0, 0.0),
    "s32": (np.int32, 2.0**31, 0.0),
    "s64": (np.int64, 2.0**63, 0.0),
    "flt": (np.float32, 1.0, 0.0),
    "dbl": (np.float64, 1.0, 0.0),
}


def frame_samples(frame: av.AudioFrame, n_channels: int) -> np.ndarray:
    """A decoded frame as float32 ``(n, n_channels)`` at full scale 1.0.

    Integer formats are divided by their full scale (``s16`` by 32768), so
    16- and 24-bit lossless sound converts back to the same integers. The
    planes are read in place (``np.frombuffer``), one copy per frame.
    """
    name = frame.format.name
    dtype, scale, offset = _FORMATS[name.rstrip("p")]
    n = frame.samples
    if frame.format.is_planar:
        data = np.empty((n, n_channels), dtype)
        for c, plane in enumerate(frame.planes[:n_channels]):
            data[:, c] = np.frombuffer(plane, dtype, count=n)
    else:
        data = np.frombuffer(frame.planes[0], dtype, count=n * n_channels).reshape(n, n_channels)
    if dtype == np.float32:
        return data
    if offset:
        return ((data - offset) / scale).astype(np.float32)
    return (data * (1.0 / scale)).astype(np.float32)


class MediaSource(Source):
    """The audio track to clean of a media file, read block by block.

    Parameters
    ----------
    source : str, path, bytes or bytearray
        The file, or its bytes (an upload); bytes are not copied.
    name : str, optional
        The file's name, for messages (and its kind when ``source`` is bytes).
    limits : MediaLimits
        What the file may declare and how long it may decode.
    count : bool
        Decode the track once to count its samples, so that :attr:`n_samples`
        is exact (about 0.04 s a minute of stereo AAC). Without it,
        :attr:`n_samples` is what the container declares (exact for MP4 and
        CAF, estimated otherwise) until a pass over :meth:`read` corrects it.

    Attributes
    ----------
    info : MediaInfo
        What :func:`probe` found.
    sr, n_channels, n_samples, scale
        As for every :class:`~denoise_core.source.Source`.

    Raises
    ------
    AudioFileError
        As :func:`probe`, and if the sound does not decode (damaged, cut
        short before any sample), changes rate or channel count midway, or
        decodes to more than ``limits.max_duration_s``.

    Notes
    -----
    Encoder priming is dropped where the container says how much there is
    (an MP4 edit list, Matroska's codec delay, Opus pre-skip), and so is
    end padding where it says how long the sound is (MP4 and CAF: the
    decoded sound is cut at the declared length; Opus: the discard padding).
    ADTS AAC carries neither: its first :data:`ADTS_PRIMING` samples are
    dropped and its end padding stays. Raw AMR and WMA carry neither either:
    their sound decodes with the codec's delay and frame padding (see the
    tests' table of lengths).
    """

    def __init__(self, source: MediaInput, *, name: str | None = None, limits: MediaLimits = MediaLimits(),
                 count: bool = True) -> None:
        self.info: MediaInfo = probe(source, name=name, limits=limits)
        self._source, self._label, self._limits = source, display_name(source, name), limits
        self.sr = float(self.info.sr)
        self.n_channels = self.info.n_channels
        self.n_samples = self.info.n_samples
        self._cap = self.info.n_samples if self.info.n_samples_exact else None
        if count:
            self.n_samples = self.count()

    def count(self) -> int:
        """Decode the whole track once and return its length in samples per channel.

        Raises
        ------
        AudioFileError
            If no sample decodes, or as for reading.
        """
        n = sum(hi - lo for _, lo, hi in self._frames())
        if n == 0:
            raise AudioFileError(f"{self._label} holds no sound samples.")
        return n

    def _frames(self) -> Iterator[tuple]:
        """``(frame, lo, hi)`` for every decoded frame: its samples ``lo`` to ``hi`` belong to the track.

        Samples past the declared length of an MP4 or CAF track (the
        encoder's padding) are cut, and so is the priming of ADTS AAC.
        """
        info, label = self.info, self._label
        most = int(self._limits.max_duration_s * info.sr) + 1
        cap = self._cap if self._cap is not None else most
        position, skip = 0, ADTS_PRIMING if info.demuxer == "aac" else 0
        with open_input(self._source, label, self._limits) as (container, _, _):
            stream = container.streams[info.stream_index]
            try:
                for packet in container.demux(stream):
                    for frame in packet.decode():
                        if frame.sample_rate != info.sr or frame.layout.nb_channels != info.n_channels:
                            raise AudioFileError(
                                f"{label} changes its sound midway ({frame.sample_rate} Hz, "
                                f"{frame.layout.nb_channels} channels after {position / info.sr:.2f} s); "
                                "it cannot be cleaned as one recording."
                            )
                        lo = min(skip, frame.samples)
                        skip -= lo
                        kept = min(frame.samples - lo, cap - position)
                        if kept <= 0 and lo == frame.samples:
                            continue
                        if kept <= 0:
                            if position >= most:
                                raise AudioFileError(
                                    f"{label} decodes to more than {self._limits.max_duration_s / 3600:g} hours "
                                    "of sound, more than can be cleaned."
                                )
                            return
                        position += kept
                        yield frame, lo, lo + kept
            except av.error.FFmpegError as exc:
                raise AudioFileError(
                    f"{label} is damaged at {position / info.sr:.2f} s and cannot be decoded: {reason(exc)}."
                ) from None

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Samples ``start`` to ``stop`` (``None``: the end) as float32 blocks ``(n, n_channels)``.

        Blocks hold :attr:`block_samples` samples, the last one fewer.

        Raises
        ------
        AudioFileError
            If the sound is damaged, changes midway or holds NaN or infinite samples.
        """
        stop = np.inf if stop is None else stop
        block = np.empty((self.block_samples, self.n_channels), np.float32)
        filled, position, first = 0, 0, start
        for frame, lo, hi in self._frames():
            kept = hi - lo
            if position + kept <= start:
                position += kept
                continue
            if position >= stop:
                break
            samples = frame_samples(frame, self.n_channels)[lo:hi]
            samples = samples[max(0, start - position) : int(min(kept, stop - position))]
            position += kept
            while samples.shape[0]:
                take = min(samples.shape[0], self.block_samples - filled)
                block[filled : filled + take] = samples[:take]
                samples, filled = samples[take:], filled + take
                if filled == self.block_samples:
                    self._check_finite(block, first)
                    yield block
                    block = np.empty((self.block_samples, self.n_channels), np.float32)
                    first, filled = first + self.block_samples, 0
        if filled:
            self._check_finite(block[:filled], first)
            yield block[:filled]
