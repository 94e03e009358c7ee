"""The voice engine's place in the one path: DeepFilterNet3 where the classic engine runs the gate.

:func:`run_voice` is the peer of :func:`denoise_core.stream.run_gate`:
:func:`denoise_core.finishing.clean` runs one or the other on the same
source, into the same finishing, and both give a
:class:`~denoise_core.report.DenoiseReport`. A mains hum found with the
noise profile is taken out before the network; ``reduction_db`` is the
attenuation limit (:func:`~denoise_core.voice.deepfilter.apply_atten_lim`,
a linear mix with the input; :data:`NO_LIMIT_DB` or more is none, and 0
passes the input through without running the network). ``channels``
``"linked"`` cleans all channels with one mask; ``"independent"`` runs one
network per channel.

The network runs with one BLAS thread: its recurrences are many small
matrix products, which more threads slow down (see
:mod:`denoise_core.voice.stream`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ..hum import Dehummed
from ..noise import NoiseProfile
from ..params import DenoiseParams
from ..report import DenoiseReport, VoiceReportAccumulator
from ..source import Source
from .deepfilter import apply_atten_lim
from .stream import VoiceStream

__all__ = ["run_voice"]


class _Waiting:
    """Input samples ``(n_channels, n)`` kept until the network's output for them comes out."""

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._offset = 0

    def put(self, block: np.ndarray) -> None:
        self._blocks.append(block)

    def take(self, n: int) -> np.ndarray:
        parts, need = [self._blocks[0][:, :0]] if self._blocks else [], n
        while need:
            head = self._blocks[0][:, self._offset : self._offset + need]
            parts.append(head)
            need -= head.shape[1]
            self._offset += head.shape[1]
            if self._offset == self._blocks[0].shape[1]:
                self._blocks.pop(0)
                self._offset = 0
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


class _Streams:
    """One linked :class:`VoiceStream` for all channels, or one per channel."""

    def __init__(self, sr: float, n_channels: int, linked: bool) -> None:
        self._streams = [VoiceStream(sr, n_channels)] if linked else [VoiceStream(sr, 1) for _ in range(n_channels)]

    def push(self, block: np.ndarray) -> np.ndarray:
        if len(self._streams) == 1:
            out = self._streams[0].push(block)
        else:
            out = np.concatenate([s.push(block[i : i + 1]) for i, s in enumerate(self._streams)], axis=0)
        for stream in self._streams:
            stream.take_lsnr_db()  # unused here; taking it keeps an hour's stream from holding every frame's
        return out

    def finish(self) -> np.ndarray:
        return np.concatenate([s.finish() for s in self._streams], axis=0)


def run_voice(source: Source, noise: NoiseProfile, params: DenoiseParams, push: Callable[[np.ndarray], None]) -> DenoiseReport:
    """Clean a whole recording with DeepFilterNet3, block by block.

    Parameters
    ----------
    source : Source
        The recording, at any rate (other rates than 48 kHz are resampled to
        48 kHz and back inside the stream).
    noise : NoiseProfile
        Its noise profile: its ``hum_hz`` says which hum to take out first,
        and its window goes into the report (the network needs no profile).
    params : DenoiseParams
        ``reduction_db`` (the attenuation limit) and ``channels``.
    push : callable
        ``push(block)`` receives the cleaned samples in order: ``(n_channels,
        m)`` float32 within [-1, 1], ``source.n_samples`` of them in all.

    Returns
    -------
    DenoiseReport
        Its numbers come from the input and the output themselves (no gain
        per bin exists here), and ``speech_heard`` says whether the network
        kept anything of the recording.
    """
    if noise.hum_hz is not None:
        source = Dehummed(source, noise.hum_hz)
    accumulator = VoiceReportAccumulator(source.sr, source.n_channels)
    passthrough = params.reduction_db <= 0.0

    def emit(original: np.ndarray, cleaned: np.ndarray) -> None:
        if cleaned.shape[1]:
            accumulator.add(original, cleaned)
            push(source.restore(cleaned))

    if passthrough:
        for block in source.blocks():
            channels = np.ascontiguousarray(block.T)
            emit(channels, channels)
        return accumulator.report(noise)
    streams = _Streams(source.sr, source.n_channels, params.channels == "linked" or source.n_channels == 1)
    waiting = _Waiting()

    def mixed(enhanced: np.ndarray) -> None:
        original = waiting.take(enhanced.shape[1])
        emit(original, apply_atten_lim(original, enhanced, params.reduction_db))

    with threadpool_limits(limits=1, user_api="blas"):
        for block in source.blocks():
            channels = np.ascontiguousarray(block.T)
            waiting.put(channels)
            mixed(streams.push(channels))
        mixed(streams.finish())
    return accumulator.report(noise)
