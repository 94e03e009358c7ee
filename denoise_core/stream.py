"""The classic engine's block pipeline: the spectral gate, with bounded memory.

:func:`run_gate` gates a whole recording against a noise profile
(:mod:`denoise_core.noise` measures it), block by block, and hands the
samples on to the finishing (:mod:`denoise_core.finishing`, which owns the
whole path and is what every caller runs). A mains hum found with the
profile is taken out first (:class:`~denoise_core.hum.Dehummed`).

Inside, three stages are fed in order and each gives out what is final so
far: :class:`~denoise_core.transform.FrameAnalyzer` (samples in, STFT
frames out), ``_GateStream`` (frames in, gated frames out; the gain is
computed in chunks whose lengths are multiples of ``DD_SEGMENT_FRAMES``,
and its time smoothing waits for the frames it needs on the right) and
:class:`~denoise_core.transform.FrameSynthesizer` (gated frames in,
finished samples out). Fed a recording in one block or in any blocks, they
give exactly the same result. :func:`run_gate` runs the steps before the
gate (reading, the STFT) and after it (the inverse STFT and the finishing)
on two threads of their own (:class:`_Overlap`), so they go on while the
gate works on another block: NumPy lets go of the interpreter in its loops
and FFTs. Each stage still sees its blocks in order, so the result is the
same bits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from .gain import (
    DD_SEGMENT_FRAMES,
    GainParts,
    GainState,
    band_floor_db,
    band_reach,
    gain_from_parts,
    gain_parts,
    high_bands,
    pause_floor_db,
    pause_lookahead,
    smooth_gain,
    speech_band_bins,
    voiced_presence,
)
from .hum import Dehummed
from .noise import NoiseProfile
from .params import DenoiseParams
from .report import DenoiseReport, ReportAccumulator
from .running import nearby_max
from .source import Source
from .threads import thread_budget
from .transform import FrameAnalyzer, FrameSynthesizer, StftConfig, power_of
from .voicing import VoicingTracker, near_voice, reach_frames

__all__ = ["run_gate", "smoothing_widths"]


T = TypeVar("T")

#: Most frames gated in one go: bounds the temporaries to some tens of MB.
GATE_CHUNK_FRAMES = 32 * DD_SEGMENT_FRAMES


def smoothing_widths(params: DenoiseParams, config: StftConfig) -> tuple[int, int]:
    """Half-widths of the smoothing: (bins over frequency of the SNR, frames over time of the gain)."""
    freq_bins = round(params.freq_smooth_hz / 2 / (config.sr / config.n_fft))
    time_frames = round(params.time_smooth_ms / 2000 * config.sr / config.hop_length)
    return freq_bins, time_frames


class _GateStream:
    """Frames in, gated frames out.

    Parameters
    ----------
    noise : NoiseProfile
        Starting noise profile, shared by all channels; its transform is the one used.
    params : DenoiseParams
    n_channels : int
    """

    def __init__(self, noise: NoiseProfile, params: DenoiseParams, n_channels: int) -> None:
        config = noise.config
        self.params = params
        self.hop_s = config.hop_s
        self.freq_bins, self.time_frames = smoothing_widths(params, config)
        self.speech_bins = speech_band_bins(config.frequencies)
        self.bands = high_bands(config.frequencies)
        # Linked channels share one gain, computed from their mean power.
        self.linked = params.channels == "linked" and n_channels > 1
        self.n_gains = n_gains = 1 if self.linked else n_channels
        self.state = GainState.start(noise.power, n_gains)
        self.accumulator = ReportAccumulator(config.n_freqs)
        self.noise = noise
        self._pending = np.zeros((n_channels, config.n_freqs, 0), dtype=np.complex64)
        # The floor of a frame depends on the presence of speech up to `lookahead` frames before
        # and after it: the parts of the gain wait for those, beside the presence of the frames before.
        self.lookahead = pause_lookahead(self.hop_s)
        # The presence of a frame also waits for the voicing of the frames up to `reach` after it.
        self.reach = reach_frames(self.hop_s)
        self._voiced = np.zeros((n_gains, 0), dtype=bool)  # voicing of frames self._voiced_from on
        self._voiced_from = 0
        self._parts: list[GainParts] = []  # runs of frames in order, kept as they came (no copies)
        self._first = 0  # index of the first frame of self._parts
        self._presence_before = np.zeros((n_gains, 0), dtype=np.float32)
        # The floor of a high band depends on the band's speech up to `band_reach` frames either side.
        self.band_reach = band_reach(self.hop_s)
        self._band_before = np.zeros((n_gains, len(self.bands), 0), dtype=np.float32)
        # Gains, spectra and powers of frames not yet given out,
        # with up to time_frames earlier gains as left context.
        self._gains = np.zeros((n_gains, config.n_freqs, 0), dtype=np.float32)
        self._spec = np.zeros((n_channels, config.n_freqs, 0), dtype=np.complex64)
        self._power = np.zeros((n_channels, config.n_freqs, 0), dtype=np.float32)
        self._context = 0

    def voicing_channels(self, samples: np.ndarray) -> np.ndarray:
        """What the voicing is measured on: ``samples`` ``(n_channels, n)``, or their mean when linked."""
        return samples.mean(axis=0, keepdims=True) if self.linked else samples

    def push(self, spec: np.ndarray, voiced: np.ndarray | None = None) -> np.ndarray:
        """Add frames ``(n_channels, n_freqs, k)`` and the voicing of the next frames, in order
        (:class:`~denoise_core.voicing.VoicingTracker` on :meth:`voicing_channels`; it may lag or
        lead the frames); return the gated frames now final."""
        if voiced is not None:
            self._voiced = np.concatenate([self._voiced, voiced], axis=-1)
        self._pending = np.concatenate([self._pending, spec], axis=-1)
        ready = self._pending.shape[-1] // DD_SEGMENT_FRAMES * DD_SEGMENT_FRAMES
        out = []
        for start in range(0, ready, GATE_CHUNK_FRAMES):
            out.append(self._gate(self._pending[..., start : min(start + GATE_CHUNK_FRAMES, ready)], last=False))
        self._pending = self._pending[..., ready:]
        return np.concatenate(out, axis=-1) if out else self._spec[..., :0]

    def finish(self, voiced: np.ndarray) -> np.ndarray:
        """Gate everything left, given the voicing of the frames not given yet."""
        self._voiced = np.concatenate([self._voiced, voiced], axis=-1)
        out = self._gate(self._pending, last=True)
        self._pending = self._pending[..., :0]
        return out

    def report(self) -> DenoiseReport:
        """Report over all frames given out so far."""
        return self.accumulator.report(self.noise)

    def _gate(self, spec: np.ndarray, last: bool) -> np.ndarray:
        if spec.shape[-1]:
            power = power_of(spec)
            parts = gain_parts(
                power.mean(axis=0, keepdims=True) if self.linked else power,
                self.state,
                threshold_db=self.params.threshold_db,
                hop_s=self.hop_s,
                freq_smooth_bins=self.freq_bins,
                speech_bins=self.speech_bins,
                bands=self.bands,
            )
            self._parts.append(parts)
            self._spec = np.concatenate([self._spec, spec], axis=-1)
            self._power = np.concatenate([self._power, power], axis=-1)
        self._floor_ready_frames(last)
        n = self._gains.shape[-1]
        # Frames whose right-hand smoothing context is complete (all, at the end).
        done = n if last else max(self._context, n - self.time_frames)
        smoothed = smooth_gain(self._gains, self.time_frames)[..., self._context : done]
        spec_out = self._spec[..., : done - self._context]
        self.accumulator.add(self._power[..., : done - self._context], smoothed)
        keep_from = max(0, done - self.time_frames)
        self._gains = self._gains[..., keep_from:]
        self._spec = self._spec[..., done - self._context :]
        self._power = self._power[..., done - self._context :]
        self._context = done - keep_from
        return spec_out * smoothed

    def _floor_ready_frames(self, last: bool) -> None:
        """Gains of the waiting frames whose speech is known far enough after them (all, at the end)."""
        waiting = sum(run.n_frames for run in self._parts)
        # Frames whose presence is known: the voicing around them is.
        voiced_up_to = self._voiced_from + self._voiced.shape[-1] - self.reach
        known = waiting if last else min(waiting, max(0, voiced_up_to - self._first))
        ready = known if last else max(0, known - self.lookahead)
        if not ready:
            return
        # Voicing of `reach` frames on either side of the known ones (fewer at the ends).
        offset = self._first - self._voiced_from
        near = near_voice(self._voiced[:, : offset + known + self.reach], self.reach)[:, offset : offset + known]
        runs, _ = _split_runs(self._parts, known)
        starts = np.cumsum([0] + [run.n_frames for run in runs])
        runs = [voiced_presence(run, near[:, a : a + run.n_frames]) for run, a in zip(runs, starts, strict=False)]
        presence = np.concatenate([self._presence_before] + [run.presence for run in runs], axis=-1)
        before = self._presence_before.shape[-1]
        reduction_db = self.params.reduction_db
        floor_db = pause_floor_db(presence, before, ready, reduction_db, self.hop_s)
        band_snr = np.concatenate([self._band_before] + [run.band_snr for run in runs], axis=-1)
        band_from = self._band_before.shape[-1]
        near_snr = nearby_max(band_snr, self.band_reach)[..., band_from : band_from + ready]
        band_floor = band_floor_db(floor_db, near_snr, reduction_db)
        # The first `ready` frames are gated; split the same way, the runs keep their starts.
        gains = [
            gain_from_parts(
                run, floor_db[:, a : a + run.n_frames], reduction_db, self.bands, band_floor[..., a : a + run.n_frames]
            )
            for run, a in zip(_split_runs(runs, ready)[0], starts, strict=False)
        ]
        self._gains = np.concatenate([self._gains, *gains], axis=-1)
        self._parts = _split_runs(self._parts, ready)[1]
        self._presence_before = presence[:, max(0, before + ready - self.lookahead) : before + ready]
        self._band_before = band_snr[..., max(0, band_from + ready - self.band_reach) : band_from + ready]
        self._first += ready
        drop = max(0, self._first - self.reach - self._voiced_from)
        self._voiced = self._voiced[:, drop:]
        self._voiced_from += drop


def _split_runs(runs: list[GainParts], n: int) -> tuple[list[GainParts], list[GainParts]]:
    """Runs of frames in order, split after the first ``n`` frames (views, no copies)."""
    head, tail = [], []
    for run in runs:
        take = min(max(n, 0), run.n_frames)
        if take:
            head.append(run.frames(0, take))
        if take < run.n_frames:
            tail.append(run.frames(take))
        n -= take
    return head, tail


class _Overlap:
    """The steps before and after the gate, each on a thread of its own, beside the gate's.

    :meth:`ahead` yields the items of an iterator, computing the next one on
    the first thread while the caller works on this one; :meth:`behind` runs
    calls in order on the second thread, at most ``_BEHIND`` of them waiting.
    An exception on either thread comes out in the caller; on the way out,
    calls not yet started are dropped and running ones are waited for. After
    a call given to :meth:`behind` fails, the later ones do not run.

    Under a thread budget of one (:func:`denoise_core.threads.thread_budget`:
    cleanings sharing the machine) there are no threads: both steps run on
    the caller's, in the same order, so the result is the same bits.
    """

    _BEHIND = 2

    def __enter__(self) -> _Overlap:
        self._inline = thread_budget() == 1
        if not self._inline:
            self._ahead = ThreadPoolExecutor(1, thread_name_prefix="quiet-read")
            self._behind = ThreadPoolExecutor(1, thread_name_prefix="quiet-write")
        self._waiting: deque = deque()
        self._failed = False
        return self

    def __exit__(self, *exc) -> None:
        if not self._inline:
            for pool in (self._ahead, self._behind):
                pool.shutdown(wait=True, cancel_futures=True)

    def ahead(self, items: Iterator[T]) -> Iterator[T]:
        if self._inline:
            yield from items
            return
        end = object()
        future = self._ahead.submit(next, items, end)
        while True:
            item = future.result()
            if item is end:
                return
            future = self._ahead.submit(next, items, end)
            yield item

    def behind(self, call: Callable[..., None], *args) -> None:
        if self._inline:
            call(*args)
            return
        self._waiting.append(self._behind.submit(self._run, call, args))
        while self._waiting and (len(self._waiting) > self._BEHIND or self._waiting[0].done()):
            self._waiting.popleft().result()

    def _run(self, call: Callable[..., None], args) -> None:
        if self._failed:
            return
        try:
            call(*args)
        except BaseException:
            self._failed = True
            raise

    def drain(self) -> None:
        """Wait until every call given to :meth:`behind` has run."""
        while self._waiting:
            self._waiting.popleft().result()


def run_gate(
    source: Source, noise: NoiseProfile, params: DenoiseParams, push: Callable[[np.ndarray], None]
) -> DenoiseReport:
    """Gate a whole recording against a noise profile, block by block.

    Parameters
    ----------
    source : Source
        The recording.
    noise : NoiseProfile
        The starting noise profile; its transform (and sample rate) is used.
    params : DenoiseParams
    push : callable
        ``push(block)`` receives the gated samples in order as soon as they
        are final: ``(n_channels, m)`` float32 within [-1, 1], in all exactly
        ``source.n_samples`` of them (the finishing,
        :class:`denoise_core.finishing.Finishing`). It is called on a thread of
        the engine's (:class:`_Overlap`), one call at a time.

    Returns
    -------
    DenoiseReport
    """
    config, n_channels = noise.config, source.n_channels
    if noise.hum_hz is not None:
        source = Dehummed(source, noise.hum_hz)
    gate = _GateStream(noise, params, n_channels)
    analyzer = FrameAnalyzer(config, n_channels)
    voicing = VoicingTracker(config, gate.n_gains)
    synth = FrameSynthesizer(config, n_channels)

    def spectra():
        for block in source.blocks():
            samples = np.ascontiguousarray(block.T)
            yield samples.shape[-1], analyzer.push(samples), voicing.push(gate.voicing_channels(samples))

    def emit(gated: np.ndarray) -> None:
        nonlocal n_out
        out = synth.push(gated)
        if out.shape[-1]:
            push(source.restore(out))
            n_out += out.shape[-1]

    n_in = n_out = 0
    with _Overlap() as overlap:
        for n, spec, voiced in overlap.ahead(spectra()):
            n_in += n
            overlap.behind(emit, gate.push(spec, voiced))
        overlap.drain()
    tail = np.concatenate(
        [synth.push(gate.push(analyzer.finish(n_in))), synth.push(gate.finish(voicing.finish(n_in))), synth.finish()],
        axis=-1,
    )[:, : n_in - n_out]
    if tail.shape[-1]:
        push(source.restore(tail))
    return gate.report()
