"""Block-by-block processing with bounded memory: the engine's one path.

Every caller (:func:`denoise_core.denoise`, :func:`denoise_core.denoise_file`,
the CLI and the app) reads its recording through a
:class:`~denoise_core.source.Source` and runs these functions:

* :func:`survey`: one pass for the frame energies (automatic noise window)
  and the peak;
* :func:`measure_noise`: the noise profile of a window, or of the quietest
  stretch, reading only that stretch; a mains hum found there is taken out
  of everything that follows (:class:`_Dehummed`);
* :func:`run_gate`: gates the whole recording and hands the samples on,
  block by block, to the finishing (:mod:`denoise_core.finishing`, which
  owns the whole path).

Inside, three private stages are fed in order and each gives out what is final so far:
``_FrameAnalyzer`` (samples in, STFT frames out), ``_GateStream`` (frames in,
gated frames out; the gain is computed in chunks whose lengths are multiples
of ``DD_SEGMENT_FRAMES``, and its time smoothing waits for the frames it
needs on the right) and ``_FrameSynthesizer`` (gated frames in, finished
samples out). Fed a recording in one block or in any blocks, they give
exactly the same result. :func:`run_gate` runs the steps before the gate
(reading, the STFT) and after it (the inverse STFT and the finishing)
on two threads of their own (:class:`_Overlap`), so they go on while
the gate works on another block: NumPy lets go of the interpreter in its
loops and FFTs. Each stage still sees its blocks in order, so the result is
the same bits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

import numpy as np

from .gain import (
    DD_SEGMENT_FRAMES,
    GainParts,
    GainState,
    gain_from_parts,
    gain_parts,
    pause_floor_db,
    pause_lookahead,
    smooth_gain,
    speech_band_bins,
)
from .hum import LEAD_IN_S, MIN_DETECT_S, HumRemover, detect_hum
from .noise import NoiseProfile, quietest_window_from_energy, window_frames
from .params import DenoiseParams
from .report import DenoiseReport, ReportAccumulator
from .source import Source
from .transform import StftConfig, overlap_add

__all__ = ["measure_noise", "run_gate", "smoothing_widths", "survey"]


T = TypeVar("T")

#: Most frames gated in one go: bounds the temporaries to some tens of MB.
GATE_CHUNK_FRAMES = 32 * DD_SEGMENT_FRAMES


def smoothing_widths(params: DenoiseParams, config: StftConfig) -> tuple[int, int]:
    """Half-widths of the smoothing: (bins over frequency of the SNR, frames over time of the gain)."""
    freq_bins = round(params.freq_smooth_hz / 2 / (config.sr / config.n_fft))
    time_frames = round(params.time_smooth_ms / 2000 * config.sr / config.hop_length)
    return freq_bins, time_frames


class _FrameAnalyzer:
    """Samples in, STFT frames out, exactly as :meth:`StftConfig.stft` frames them.

    Frame ``t`` covers samples ``t * hop - n_fft // 2`` to ``t * hop + n_fft // 2``
    (zeros before the start and after the end).

    Parameters
    ----------
    config : StftConfig
    n_channels : int
    first_frame : int
        Index of the first frame wanted. Samples must then be pushed from
        sample ``max(0, first_frame * hop - n_fft // 2)`` on.
    energies : bool
        Give each frame's energy (its squared magnitudes summed over the bins,
        ``(n_channels, k)``) instead of its spectrum: a survey needs no more.
    """

    def __init__(self, config: StftConfig, n_channels: int, first_frame: int = 0, energies: bool = False) -> None:
        self.config = config
        self._measure = config.frame_energies if energies else config.frame_spectra
        self.next_frame = first_frame
        lead = first_frame * config.hop_length - config.n_fft // 2
        self._buffer = np.zeros((n_channels, max(0, -lead)), dtype=np.float32)
        self._pushed = 0

    @property
    def first_sample(self) -> int:
        """Index of the first sample :meth:`push` expects."""
        return max(0, self.next_frame * self.config.hop_length - self.config.n_fft // 2)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add samples ``(n_channels, n)``; return the frames now complete ``(n_channels, n_freqs, k)``."""
        self._pushed += samples.shape[-1]
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)], axis=-1)
        return self._take(self._buffer.shape[-1])

    def finish(self, n_samples: int) -> np.ndarray:
        """The remaining frames of a recording of ``n_samples`` samples (zero-padded at the end)."""
        n_frames = self.config.n_frames(n_samples) - self.next_frame
        if n_frames <= 0:
            return self._measure(self._buffer, 0)
        needed = (n_frames - 1) * self.config.hop_length + self.config.n_fft
        if self._buffer.shape[-1] < needed:
            pad = np.zeros((self._buffer.shape[0], needed - self._buffer.shape[-1]), dtype=np.float32)
            self._buffer = np.concatenate([self._buffer, pad], axis=-1)
        return self._take(needed)

    def _take(self, available: int) -> np.ndarray:
        cfg = self.config
        k = (available - cfg.n_fft) // cfg.hop_length + 1 if available >= cfg.n_fft else 0
        frames = self._measure(self._buffer, k)
        self._buffer = self._buffer[:, k * cfg.hop_length :]
        self.next_frame += k
        return frames


class _FrameSynthesizer:
    """Gated frames in, finished samples out, as :meth:`StftConfig.istft` would add them.

    Parameters
    ----------
    config : StftConfig
    n_channels : int
    """

    def __init__(self, config: StftConfig, n_channels: int) -> None:
        self.config = config
        self._acc = np.zeros((n_channels, 0), dtype=np.float32)
        self._norm = np.zeros(0, dtype=np.float32)
        self._acc_start = 0  # index in the padded signal of self._acc[:, 0]
        self._n_frames = 0

    def push(self, spec: np.ndarray) -> np.ndarray:
        """Add frames ``(n_channels, n_freqs, k)``; return the samples now final ``(n_channels, m)``."""
        k = spec.shape[-1]
        if k == 0:
            return self._acc[:, :0]
        cfg = self.config
        hop = cfg.hop_length
        start = self._n_frames * hop - self._acc_start
        total = start + (k - 1) * hop + cfg.n_fft
        acc = np.zeros((self._acc.shape[0], total), dtype=np.float32)
        norm = np.zeros(total, dtype=np.float32)
        acc[:, : self._acc.shape[-1]] = self._acc
        norm[: self._norm.shape[0]] = self._norm
        span = (k - 1) * hop + cfg.n_fft
        # Added in place, older frames first: the sums do not depend on how the frames were split into pushes.
        overlap_add(cfg.frame_signals(spec), hop, span, out=acc[:, start : start + span])
        overlap_add(cfg.window.astype(np.float32) ** 2, hop, span, k, out=norm[start : start + span])
        self._n_frames += k
        # Positions before the next frame's start get nothing more.
        final = self._n_frames * hop - self._acc_start
        self._acc, self._norm = acc, norm
        return self._emit(final)

    def finish(self) -> np.ndarray:
        """Everything left (the caller cuts it to the recording's length)."""
        return self._emit(self._acc.shape[-1])

    def _emit(self, final: int) -> np.ndarray:
        values = self._acc[:, :final] / np.maximum(self._norm[:final], np.float32(1e-12))
        self._acc, self._norm = self._acc[:, final:], self._norm[final:]
        # The first n_fft // 2 padded positions precede the signal.
        skip = max(0, self.config.n_fft // 2 - self._acc_start)
        self._acc_start += final
        return values[:, skip:]


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
        # Linked channels share one gain, computed from their mean power.
        self.linked = params.channels == "linked" and n_channels > 1
        n_gains = 1 if self.linked else n_channels
        self.state = GainState.start(noise.power, n_gains)
        self.accumulator = ReportAccumulator(config.n_freqs)
        self.noise = noise
        self._pending = np.zeros((n_channels, config.n_freqs, 0), dtype=np.complex64)
        # The floor of a frame depends on the presence of speech up to `lookahead` frames before
        # and after it: the parts of the gain wait for those, beside the presence of the frames before.
        self.lookahead = pause_lookahead(self.hop_s)
        self._parts: list[GainParts] = []  # runs of frames in order, kept as they came (no copies)
        self._presence_before = np.zeros((n_gains, 0), dtype=np.float32)
        # Gains, spectra and powers of frames not yet given out,
        # with up to time_frames earlier gains as left context.
        self._gains = np.zeros((n_gains, config.n_freqs, 0), dtype=np.float32)
        self._spec = np.zeros((n_channels, config.n_freqs, 0), dtype=np.complex64)
        self._power = np.zeros((n_channels, config.n_freqs, 0), dtype=np.float32)
        self._context = 0

    def push(self, spec: np.ndarray) -> np.ndarray:
        """Add frames ``(n_channels, n_freqs, k)``; return the gated frames now final."""
        self._pending = np.concatenate([self._pending, spec], axis=-1)
        ready = self._pending.shape[-1] // DD_SEGMENT_FRAMES * DD_SEGMENT_FRAMES
        out = []
        for start in range(0, ready, GATE_CHUNK_FRAMES):
            out.append(self._gate(self._pending[..., start : min(start + GATE_CHUNK_FRAMES, ready)], last=False))
        self._pending = self._pending[..., ready:]
        return np.concatenate(out, axis=-1) if out else self._spec[..., :0]

    def finish(self) -> np.ndarray:
        """Gate everything left."""
        out = self._gate(self._pending, last=True)
        self._pending = self._pending[..., :0]
        return out

    def report(self) -> DenoiseReport:
        """Report over all frames given out so far."""
        return self.accumulator.report(self.noise)

    def _gate(self, spec: np.ndarray, last: bool) -> np.ndarray:
        if spec.shape[-1]:
            power = _power(spec)
            parts = gain_parts(
                power.mean(axis=0, keepdims=True) if self.linked else power,
                self.state,
                threshold_db=self.params.threshold_db,
                hop_s=self.hop_s,
                freq_smooth_bins=self.freq_bins,
                speech_bins=self.speech_bins,
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
        ready = waiting if last else max(0, waiting - self.lookahead)
        if not ready:
            return
        presence = np.concatenate([self._presence_before] + [run.presence for run in self._parts], axis=-1)
        before = self._presence_before.shape[-1]
        floor_db = pause_floor_db(presence, before, ready, self.params.reduction_db, self.hop_s)
        gains, rest, used = [self._gains], [], 0
        for run in self._parts:
            take = min(run.n_frames, ready - used)
            gains.append(gain_from_parts(run.frames(0, take), floor_db[:, used : used + take], self.params.reduction_db))
            used += take
            if take < run.n_frames:
                rest.append(run.frames(take))
        self._gains = np.concatenate(gains, axis=-1)
        self._presence_before = presence[:, max(0, before + ready - self.lookahead) : before + ready]
        self._parts = rest


class _Overlap:
    """The steps before and after the gate, each on a thread of its own, beside the gate's.

    :meth:`ahead` yields the items of an iterator, computing the next one on
    the first thread while the caller works on this one; :meth:`behind` runs
    calls in order on the second thread, at most ``_BEHIND`` of them waiting.
    An exception on either thread comes out in the caller; on the way out,
    calls not yet started are dropped and running ones are waited for. After
    a call given to :meth:`behind` fails, the later ones do not run.
    """

    _BEHIND = 2

    def __enter__(self) -> _Overlap:
        self._ahead = ThreadPoolExecutor(1, thread_name_prefix="quiet-read")
        self._behind = ThreadPoolExecutor(1, thread_name_prefix="quiet-write")
        self._waiting: deque = deque()
        self._failed = False
        return self

    def __exit__(self, *exc) -> None:
        for pool in (self._ahead, self._behind):
            pool.shutdown(wait=True, cancel_futures=True)

    def ahead(self, items: Iterator[T]) -> Iterator[T]:
        end = object()
        future = self._ahead.submit(next, items, end)
        while True:
            item = future.result()
            if item is end:
                return
            future = self._ahead.submit(next, items, end)
            yield item

    def behind(self, call: Callable[..., None], *args) -> None:
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


def run_gate(source: Source, noise: NoiseProfile, params: DenoiseParams, push: Callable[[np.ndarray], None]) -> DenoiseReport:
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
        source = _Dehummed(source, noise.hum_hz)
    gate = _GateStream(noise, params, n_channels)
    analyzer = _FrameAnalyzer(config, n_channels)
    synth = _FrameSynthesizer(config, n_channels)

    def spectra():
        for block in source.blocks():
            yield block.shape[0], analyzer.push(np.ascontiguousarray(block.T))

    def emit(gated: np.ndarray) -> None:
        nonlocal n_out
        out = synth.push(gated)
        if out.shape[-1]:
            push(source.restore(out))
            n_out += out.shape[-1]

    n_in = n_out = 0
    with _Overlap() as overlap:
        for n, spec in overlap.ahead(spectra()):
            n_in += n
            overlap.behind(emit, gate.push(spec))
        overlap.drain()
    tail = np.concatenate(
        [synth.push(gate.push(analyzer.finish(n_in))), synth.push(gate.finish()), synth.finish()], axis=-1
    )[:, : n_in - n_out]
    if tail.shape[-1]:
        push(source.restore(tail))
    return gate.report()


def _power(spec: np.ndarray) -> np.ndarray:
    return spec.real**2 + spec.imag**2


def survey(
    source: Source,
    config: StftConfig,
    need_energy: bool,
    progress: Callable[[float], None] = lambda fraction: None,
) -> tuple[np.ndarray, float, int]:
    """One pass over a recording: frame energies (for the automatic window) and the peak.

    Returns
    -------
    energy : np.ndarray [shape=(n_frames,)]
        Energy of every frame (:meth:`StftConfig.frame_energies`, averaged
        over the channels; empty unless ``need_energy``).
    peak : float
        Largest absolute sample (in the recording's own scale).
    n_read : int
        Samples per channel actually read (a compressed file may decode to
        another length than its header announces).
    """
    analyzer = _FrameAnalyzer(config, source.n_channels, energies=True)
    energies, peak, n_read = [], 0.0, 0
    for block in source.blocks():
        n_read += block.shape[0]
        peak = max(peak, float(np.abs(block).max()) * source.scale)
        if need_energy:
            energies.append(analyzer.push(np.ascontiguousarray(block.T)).mean(axis=0))
        progress(n_read / max(source.n_samples, 1))
    if need_energy:
        energies.append(analyzer.finish(n_read).mean(axis=0))
    return (np.concatenate(energies) if energies else np.zeros(0)), peak, n_read


def _window_profile(source: Source, config: StftConfig, noise_window, method: str) -> NoiseProfile:
    """Noise profile of ``noise_window``, reading only that stretch."""
    n_samples = source.n_samples
    frames, window_s = window_frames(config, n_samples, noise_window)
    first, last = int(frames[0]), int(frames[-1])
    analyzer = _FrameAnalyzer(config, source.n_channels, first_frame=first)
    stop = min(n_samples, last * config.hop_length - config.n_fft // 2 + config.n_fft)
    spectra = [analyzer.push(np.ascontiguousarray(b.T)) for b in source.blocks(analyzer.first_sample, stop)]
    if stop == n_samples:
        spectra.append(analyzer.finish(n_samples))
    power = _power(np.concatenate(spectra, axis=-1)[..., frames - first])
    return NoiseProfile(power=power.mean(axis=(0, 2)).astype(np.float64), config=config, window_s=window_s, method=method)


class _Dehummed(Source):
    """A source with the harmonic lines of a mains hum at ``f0_hz`` taken out (:class:`~denoise_core.hum.HumRemover`).

    The remover runs from the first sample whatever stretch is read, primed
    on the first :data:`~denoise_core.hum.LEAD_IN_S` seconds, so any stretch
    reads the same samples as a read of the whole.
    """

    def __init__(self, base: Source, f0_hz: float) -> None:
        self._base, self.f0_hz = base, f0_hz
        self.sr, self.n_channels, self.n_samples = base.sr, base.n_channels, base.n_samples
        self.scale, self.block_samples = base.scale, base.block_samples
        lead = [b.T for b in base.blocks(0, min(base.n_samples, int(LEAD_IN_S * base.sr)))]
        self._lead_in = np.concatenate(lead, axis=-1)

    def blocks(self, start: int = 0, stop: int | None = None):
        remover = HumRemover(self.sr, self.n_channels, self.f0_hz, lead_in=self._lead_in)
        position = 0
        for block in self._base.blocks(0, stop):
            out = remover.push(np.ascontiguousarray(block.T)).T
            if position + out.shape[0] > start:
                yield out[max(0, start - position) :]
            position += out.shape[0]

    def read(self, start: int = 0, stop: int | None = None):
        for block in self.blocks(start, stop):
            yield block * np.float32(self.scale) if self.scale != 1.0 else block

    def restore(self, block: np.ndarray) -> np.ndarray:
        return self._base.restore(block)


def _find_hum(source: Source, window_s: tuple[float, float], hum: str) -> float | None:
    """The hum's fundamental in the window, widened to what the detector needs (``None``: none, or off)."""
    if hum == "off":
        return None
    sr, n = source.sr, source.n_samples
    start, stop = int(window_s[0] * sr), int(np.ceil(window_s[1] * sr))
    need = int(np.ceil(MIN_DETECT_S * sr))
    if stop - start < need:  # widen around its centre, shifted to stay inside the recording
        start = max(0, (start + stop) // 2 - need // 2)
        stop = min(n, start + need)
        start = max(0, stop - need)
    stretch = np.concatenate(list(source.blocks(start, stop)), axis=0)
    return detect_hum(stretch, sr, mode=hum)


def measure_noise(
    source: Source,
    config: StftConfig,
    noise_window: tuple[float, float] | None = None,
    energy: np.ndarray | None = None,
    hum: str = "auto",
) -> NoiseProfile:
    """Noise profile from ``noise_window``, or from the quietest stretch when it is ``None``.

    Parameters
    ----------
    source : Source
    config : StftConfig
        The transform to measure (and later gate) with.
    noise_window : (float, float), optional
        Start and end in seconds of a noise-only stretch.
    energy : np.ndarray, optional
        Frame energies from :func:`survey`, when already at hand; otherwise
        the automatic mode makes one pass over the recording for them.
    hum : {"auto", "50", "60", "off"}
        Look for a mains hum in the window (widened to half a second if
        shorter): ``"auto"`` near 50 or 60 Hz, or the base given; when one is
        found, its lines are taken out before the noise is measured, and the
        profile's ``hum_hz`` says so.

    Raises
    ------
    NoiseWindowError
        If the window does not fit the recording.
    """
    if noise_window is not None:
        window, method = window_frames(config, source.n_samples, noise_window)[1], "window"
    else:
        if energy is None:
            energy = survey(source, config, need_energy=True)[0]
        window, method = quietest_window_from_energy(energy, config, source.n_samples), "quietest stretch"
    hum_hz = _find_hum(source, window, hum)
    measured = source if hum_hz is None else _Dehummed(source, hum_hz)
    return replace(_window_profile(measured, config, window, method), hum_hz=hum_hz)
