"""The one path from a recording to a result: the engine, then the finishing, into a sink.

:func:`clean` is what every caller runs (:func:`denoise_core.denoise_with_profile`
on arrays, :func:`denoise_core.denoise_file` on files, the CLI, the batch
runner and the app):

1. the engine cleans the recording block by block: the spectral gate
   (:func:`denoise_core.stream.run_gate`) or DeepFilterNet3
   (:func:`denoise_core.voice.engine.run_voice`), as ``params.engine`` says;
2. :class:`Finishing` cuts the rumble (``highpass_hz``) and, when a loudness
   target is set, meters the result's loudness and true peak on the way;
3. with a loudness target the result waits in a :class:`Spool` (the caller's
   output array, or a temporary file), and :func:`_to_target` brings it to the
   target under the true-peak ceiling, reading it back in blocks: memory stays
   bounded however long the recording.

Loudness is exact to the meter wherever the limiter has nothing to do: the
gain is solved on the metered block powers themselves, so the absolute gate
moves with it. Where the limiter holds peaks down (and so takes loudness off),
measuring passes over the spool correct the gain (secant steps) until the
result lies within :data:`TOLERANCE_LU` of the target, and only then is it
written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from .filters import HighPass
from .loudness import LIMITER_MARGIN_DB, LoudnessMeter, TruePeakLimiter, TruePeakMeter
from .noise import NoiseProfile
from .params import DenoiseParams
from .report import DenoiseReport
from .source import Source
from .stream import run_gate
from .voice.engine import run_voice

__all__ = ["ENGINES", "TOLERANCE_LU", "ArraySpool", "Finishing", "Sink", "Spool", "clean"]

#: ``sink(start, block)``: finished samples ``start:start + len(block)`` as ``(m, n_channels)`` float32.
Sink = Callable[[int, np.ndarray], None]

#: The result lies this close to the loudness target, in LU (the meter's own reading).
TOLERANCE_LU = 0.05

#: What runs each engine of :data:`denoise_core.params.ENGINES`: a recording in, samples to the finishing, a report out.
ENGINES = {"classic": run_gate, "voice": run_voice}

#: Most measuring passes over the spool when the limiter takes loudness off.
_MEASURING_PASSES = 5


class Spool:
    """Where the engine's result waits to be brought to a loudness: written once, read back as often as needed."""

    def write(self, start: int, block: np.ndarray) -> None:
        """Store samples ``start:start + len(block)``, ``(m, n_channels)`` float32, in order."""
        raise NotImplementedError

    def blocks(self) -> Iterator[np.ndarray]:
        """Everything written, in order, as blocks ``(m, n_channels)`` (each read a new iterator)."""
        raise NotImplementedError


class ArraySpool(Spool):
    """The caller's output array ``(n, n_channels)`` float32, read back in blocks of ``block_samples``.

    The final pass writes the normalized result over it: the limiter's output
    lags what it reads, so nothing is overwritten before it has been read.
    """

    def __init__(self, out: np.ndarray, block_samples: int) -> None:
        self._out, self._block = out, block_samples

    def write(self, start: int, block: np.ndarray) -> None:
        self._out[start : start + block.shape[0]] = block

    def blocks(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self._out), self._block):
            yield self._out[start : start + self._block]


class Finishing:
    """After the engine: the rumble filter, then the meters when a loudness target is set; samples to a sink.

    Parameters
    ----------
    params : DenoiseParams
        ``highpass_hz`` and ``loudness_lufs``.
    sr : float
        Sample rate in Hz.
    n_channels : int
    sink : callable
        ``sink(start, block)`` receives the samples ``(m, n_channels)`` in order.

    Attributes
    ----------
    meter : LoudnessMeter or None
        The loudness of everything pushed, when a loudness target is set.
    peak : TruePeakMeter or None
        Its true peak, likewise.
    """

    def __init__(self, params: DenoiseParams, sr: float, n_channels: int, sink: Sink) -> None:
        self.highpass = HighPass(sr, int(params.highpass_hz), n_channels=n_channels) if params.highpass_hz else None
        measuring = params.loudness_lufs is not None
        self.meter = LoudnessMeter(sr, n_channels) if measuring else None
        self.peak = TruePeakMeter(sr, n_channels) if measuring else None
        self.sink, self.n_out = sink, 0

    def push(self, block: np.ndarray) -> None:
        """Samples ``(n_channels, m)`` from the engine, within full scale, in order."""
        if self.highpass is not None:
            block = np.clip(self.highpass.push(block), -1.0, 1.0).astype(np.float32)
        self._emit(block)

    def finish(self) -> None:
        """End of the recording: what the rumble filter still holds."""
        if self.highpass is not None:
            self._emit(np.clip(self.highpass.finish(), -1.0, 1.0).astype(np.float32))

    def _emit(self, block: np.ndarray) -> None:
        if block.shape[-1]:
            if self.meter is not None:
                self.meter.push(block)
                self.peak.push(block)
            self.sink(self.n_out, block.T)
            self.n_out += block.shape[-1]


class _Metered(Source):
    """A source whose input loudness is metered as the engine reads it (once, in the recording's own scale)."""

    def __init__(self, base: Source) -> None:
        self._base = base
        self.sr, self.n_channels, self.n_samples = base.sr, base.n_channels, base.n_samples
        self.scale, self.block_samples = base.scale, base.block_samples
        self.meter = LoudnessMeter(base.sr, base.n_channels)

    def blocks(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        for block in self._base.blocks(start, stop):
            channels = block.T
            self.meter.push(channels.astype(np.float64) * self.scale if self.scale != 1.0 else channels)
            yield block

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        return self._base.read(start, stop)

    def restore(self, block: np.ndarray) -> np.ndarray:
        return self._base.restore(block)


def clean(source: Source, noise: NoiseProfile, params: DenoiseParams, sink: Sink, spool: Spool) -> DenoiseReport:
    """Clean a whole recording: the engine, the rumble filter and, when set, the loudness target.

    Parameters
    ----------
    source : Source
        The recording.
    noise : NoiseProfile
        Its noise profile (:func:`denoise_core.noise_profile`); its transform is the gate's.
    params : DenoiseParams
    sink : callable
        ``sink(start, block)`` receives the finished samples ``(m, n_channels)``
        float32 within [-1, 1], in order, exactly ``source.n_samples`` of them.
        It may be called on a thread of the engine's, one call at a time.
    spool : Spool
        Where the result waits when it is to be brought to a loudness (not
        used otherwise).

    Returns
    -------
    DenoiseReport
        With a loudness target, also the loudness before and after and the
        result's true peak.
    """
    engine = ENGINES[params.engine]
    if params.loudness_lufs is None:
        finishing = Finishing(params, source.sr, source.n_channels, sink)
        report = engine(source, noise, params, finishing.push)
        finishing.finish()
        return report
    metered = _Metered(source)
    finishing = Finishing(params, source.sr, source.n_channels, spool.write)
    report = engine(metered, noise, params, finishing.push)
    finishing.finish()
    after_lufs, peak_dbtp = _to_target(spool, sink, params, source.sr, source.n_channels, finishing)
    return replace(
        report,
        loudness_before_lufs=metered.meter.integrated_lufs(),
        loudness_after_lufs=after_lufs,
        true_peak_dbtp=peak_dbtp,
    )


def _to_target(
    spool: Spool, sink: Sink, params: DenoiseParams, sr: float, n_channels: int, finishing: Finishing
) -> tuple[float, float]:
    """Bring the spooled result to ``params.loudness_lufs`` under ``params.ceiling_dbtp``; its loudness and true peak."""
    target, ceiling = params.loudness_lufs, params.ceiling_dbtp
    gain_db = finishing.meter.gain_to(target)
    peak_dbtp = finishing.peak.dbtp()
    if peak_dbtp + gain_db > ceiling - LIMITER_MARGIN_DB:
        # The limiter will take loudness off: measure what it leaves, and correct the gain.
        tried: list[tuple[float, float]] = []
        for _ in range(_MEASURING_PASSES):
            measured = _limited_pass(spool, gain_db, params, sr, n_channels, None)[0]
            if not math.isfinite(measured) or abs(measured - target) <= TOLERANCE_LU:
                break
            tried.append((gain_db, measured))
            slope = 1.0
            if len(tried) > 1:
                (g0, l0), (g1, l1) = tried[-2:]
                slope = min(1.0, max(0.1, (l1 - l0) / (g1 - g0))) if g1 != g0 else 1.0
            gain_db += (target - measured) / slope
    return _limited_pass(spool, gain_db, params, sr, n_channels, sink)


def _limited_pass(
    spool: Spool, gain_db: float, params: DenoiseParams, sr: float, n_channels: int, sink: Sink | None
) -> tuple[float, float]:
    """One pass over the spool: gain, then the limiter; metered, and written to ``sink`` if given."""
    gain = 10.0 ** (gain_db / 20.0)
    limiter = TruePeakLimiter(sr, n_channels, ceiling_dbtp=params.ceiling_dbtp)
    meter = LoudnessMeter(sr, n_channels)
    peak = TruePeakMeter(sr, n_channels) if sink is not None else None
    n_out = 0

    def emit(out: np.ndarray) -> None:
        nonlocal n_out
        if out.shape[-1]:
            out = np.clip(out, -1.0, 1.0).astype(np.float32)
            meter.push(out)
            if sink is not None:
                peak.push(out)
                sink(n_out, out.T)
            n_out += out.shape[-1]

    for block in spool.blocks():
        emit(limiter.push(block.T * gain))
    emit(limiter.finish())
    return meter.integrated_lufs(), (peak.dbtp() if peak is not None else -math.inf)
