"""Block-by-block processing with bounded memory.

Three stages, each fed in order and each giving out what is final so far:

* :class:`FrameAnalyzer`: samples in, STFT frames out;
* :class:`GateStream`: frames in, gated frames out (the gain is computed in
  chunks whose lengths are multiples of ``DD_SEGMENT_FRAMES``, and its time
  smoothing waits for the frames it needs on the right);
* :class:`FrameSynthesizer`: gated frames in, finished samples out.

Fed a whole recording at once or in any blocks, they give the same result as
:func:`denoise_core.gate` (which is built on :class:`GateStream`), up to float
rounding. :func:`denoise_blocks` chains them over an iterable of sample blocks.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, List, Optional, Tuple

import numpy as np

from .gain import DD_SEGMENT_FRAMES, GainState, smooth_gain, spectral_gain, speech_band_bins
from .noise import NoiseProfile, frame_energy, quietest_window_from_energy, window_frames
from .params import DenoiseParams
from .report import DenoiseReport, ReportAccumulator
from .transform import StftConfig, overlap_add

__all__ = [
    "FrameAnalyzer",
    "GateStream",
    "FrameSynthesizer",
    "denoise_blocks",
    "smoothing_widths",
    "survey",
    "profile_from_reader",
    "estimate_noise_from_reader",
    "Reader",
    "GATE_CHUNK_FRAMES",
]

#: ``read(start, stop)``: the recording's samples ``start`` to ``stop`` (``None``
#: for the end) as consecutive blocks ``(n, n_channels)`` float32, each checked.
Reader = Callable[[int, Optional[int]], Iterator[np.ndarray]]

#: Most frames gated in one go: bounds the temporaries to some tens of MB.
GATE_CHUNK_FRAMES = 32 * DD_SEGMENT_FRAMES


def smoothing_widths(params: DenoiseParams, config: StftConfig, sr: float):
    """Half-widths of the smoothing: (bins over frequency of the SNR, frames over time of the gain)."""
    freq_bins = int(round(params.freq_smooth_hz / 2 / (sr / config.n_fft)))
    time_frames = int(round(params.time_smooth_ms / 2000 * sr / config.hop_length))
    return freq_bins, time_frames


class FrameAnalyzer:
    """Samples in, STFT frames out, as :meth:`StftConfig.stft` would frame them.

    Frame ``t`` covers samples ``t * hop - n_fft // 2`` to ``t * hop + n_fft // 2``
    (zeros before the start and after the end).

    Parameters
    ----------
    config : StftConfig
    n_channels : int
    first_frame : int
        Index of the first frame wanted. Samples must then be pushed from
        sample ``max(0, first_frame * hop - n_fft // 2)`` on.
    """

    def __init__(self, config: StftConfig, n_channels: int, first_frame: int = 0) -> None:
        self.config = config
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
            return np.zeros(self._buffer.shape[:1] + (self.config.n_freqs, 0), dtype=np.complex64)
        needed = (n_frames - 1) * self.config.hop_length + self.config.n_fft
        if self._buffer.shape[-1] < needed:
            pad = np.zeros((self._buffer.shape[0], needed - self._buffer.shape[-1]), dtype=np.float32)
            self._buffer = np.concatenate([self._buffer, pad], axis=-1)
        return self._take(needed)

    def _take(self, available: int) -> np.ndarray:
        cfg = self.config
        k = (available - cfg.n_fft) // cfg.hop_length + 1 if available >= cfg.n_fft else 0
        spec = cfg.frame_spectra(self._buffer, k) if k else np.zeros(
            self._buffer.shape[:1] + (cfg.n_freqs, 0), dtype=np.complex64
        )
        self._buffer = self._buffer[:, k * cfg.hop_length :]
        self.next_frame += k
        return spec


class FrameSynthesizer:
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
        acc[:, start : start + span] += overlap_add(cfg.frame_signals(spec), hop, span)
        norm[start : start + span] += overlap_add(cfg.window.astype(np.float32) ** 2, hop, span, k)
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


class GateStream:
    """Frames in, gated frames out, with the gain of :func:`denoise_core.gate`.

    Parameters
    ----------
    noise : NoiseProfile
        Starting noise profile, shared by all channels.
    params : DenoiseParams
    config : StftConfig
    sr : float
        Sample rate in Hz.
    n_channels : int
    keep_gain : bool
        Keep every frame's gain (for display); off for long streams.
    """

    def __init__(
        self,
        noise: NoiseProfile,
        params: DenoiseParams,
        config: StftConfig,
        sr: float,
        n_channels: int,
        keep_gain: bool = False,
    ) -> None:
        self.params = params
        self.hop_s = config.hop_length / sr
        self.freq_bins, self.time_frames = smoothing_widths(params, config, sr)
        self.speech_bins = speech_band_bins(config.frequencies(sr))
        self.state = GainState.start(noise.power, n_channels)
        self.accumulator = ReportAccumulator(config.n_freqs)
        self.noise = noise
        self._pending = np.zeros((n_channels, config.n_freqs, 0), dtype=np.complex64)
        # Gains and spectra of frames not yet given out,
        # with up to time_frames earlier gains as left context.
        self._gains = np.zeros((n_channels, config.n_freqs, 0), dtype=np.float32)
        self._spec = np.zeros((n_channels, config.n_freqs, 0), dtype=np.complex64)
        self._context = 0
        self._kept: Optional[List[np.ndarray]] = [] if keep_gain else None

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

    def gains(self) -> np.ndarray:
        """All gains given out so far ``(n_channels, n_freqs, n_frames)`` (needs ``keep_gain``)."""
        if self._kept is None:
            raise RuntimeError("GateStream was created with keep_gain=False")
        return np.concatenate(self._kept, axis=-1) if self._kept else self._gains[..., :0]

    def _gate(self, spec: np.ndarray, last: bool) -> np.ndarray:
        if spec.shape[-1]:
            gain = spectral_gain(
                spec.real**2 + spec.imag**2,
                self.state,
                threshold_db=self.params.threshold_db,
                reduction_db=self.params.reduction_db,
                hop_s=self.hop_s,
                freq_smooth_bins=self.freq_bins,
                speech_bins=self.speech_bins,
            )
            self._gains = np.concatenate([self._gains, gain], axis=-1)
            self._spec = np.concatenate([self._spec, spec], axis=-1)
        n = self._gains.shape[-1]
        # Frames whose right-hand smoothing context is complete (all, at the end).
        done = n if last else max(self._context, n - self.time_frames)
        smoothed = smooth_gain(self._gains, 0, self.time_frames)[..., self._context : done]
        spec_out = self._spec[..., : done - self._context]
        power_out = spec_out.real**2 + spec_out.imag**2
        self.accumulator.add(power_out, smoothed)
        if self._kept is not None:
            self._kept.append(smoothed)
        keep_from = max(0, done - self.time_frames)
        self._gains = self._gains[..., keep_from:]
        self._spec = self._spec[..., done - self._context :]
        self._context = done - keep_from
        return spec_out * smoothed


def denoise_blocks(
    blocks: Iterable[np.ndarray],
    noise: NoiseProfile,
    params: DenoiseParams,
    config: StftConfig,
    sr: float,
    n_channels: int,
    scale: float = 1.0,
    gate: Optional[GateStream] = None,
) -> Iterator[np.ndarray]:
    """Denoise a recording given as consecutive blocks of samples.

    Parameters
    ----------
    blocks : iterable of np.ndarray [shape=(n, n_channels), dtype=float32]
        The recording, in order, in blocks of any length.
    noise, params, config, sr, n_channels
        As for :class:`GateStream`.
    scale : float
        The blocks are divided by this before and multiplied after (the
        peak of a float recording above full scale); the output is clipped to
        [-1, 1].
    gate : GateStream, optional
        The gate to use (to read its report afterwards); a new one by default.

    Yields
    ------
    np.ndarray [shape=(m, n_channels), dtype=float32]
        Cleaned samples, in order; together exactly as many as went in.
    """
    gate = gate or GateStream(noise, params, config, sr, n_channels)
    analyzer = FrameAnalyzer(config, n_channels)
    synth = FrameSynthesizer(config, n_channels)
    inv_scale = np.float32(1.0 / scale)
    n_samples = 0

    def finished(samples: np.ndarray) -> np.ndarray:
        samples = samples * np.float32(scale) if scale != 1.0 else samples
        return np.clip(samples, -1.0, 1.0).T

    n_out = 0
    for block in blocks:
        n_samples += block.shape[0]
        channels = block.T * inv_scale if scale != 1.0 else block.T
        out = synth.push(gate.push(analyzer.push(np.ascontiguousarray(channels, dtype=np.float32))))
        if out.shape[-1]:
            n_out += out.shape[-1]
            yield finished(out)
    tail = np.concatenate(
        [synth.push(gate.push(analyzer.finish(n_samples))), synth.push(gate.finish()), synth.finish()], axis=-1
    )[:, : n_samples - n_out]
    if tail.shape[-1]:
        yield finished(tail)


def _power(spec: np.ndarray) -> np.ndarray:
    return spec.real**2 + spec.imag**2


def survey(
    read: Reader,
    n_samples: int,
    config: StftConfig,
    n_channels: int,
    need_energy: bool,
    progress: Callable[[float], None] = lambda fraction: None,
) -> Tuple[np.ndarray, float, int]:
    """One pass over a recording: frame energies (for the automatic window) and the peak.

    Returns
    -------
    energy : np.ndarray [shape=(n_frames,)]
        :func:`~denoise_core.noise.frame_energy` of every frame (empty unless ``need_energy``).
    peak : float
        Largest absolute sample.
    n_read : int
        Samples per channel actually read.
    """
    analyzer = FrameAnalyzer(config, n_channels)
    energies, peak, n_read = [], 0.0, 0
    for block in read(0, None):
        n_read += block.shape[0]
        peak = max(peak, float(np.abs(block).max()))
        if need_energy:
            energies.append(frame_energy(_power(analyzer.push(np.ascontiguousarray(block.T)))))
        progress(n_read / max(n_samples, 1))
    if need_energy:
        energies.append(frame_energy(_power(analyzer.finish(n_read))))
    return (np.concatenate(energies) if energies else np.zeros(0)), peak, n_read


def profile_from_reader(
    read: Reader,
    n_samples: int,
    config: StftConfig,
    sr: float,
    n_channels: int,
    noise_window,
    method: str = "window",
    scale: float = 1.0,
) -> NoiseProfile:
    """Noise profile of ``noise_window``, reading only that stretch.

    Gives the same profile as :func:`~denoise_core.noise.noise_profile_from_window`
    on the whole recording's spectrogram.
    """
    frames, window_s = window_frames(config, sr, n_samples, noise_window)
    first, last = int(frames[0]), int(frames[-1])
    analyzer = FrameAnalyzer(config, n_channels, first_frame=first)
    stop = min(n_samples, last * config.hop_length - config.n_fft // 2 + config.n_fft)
    inv_scale = np.float32(1.0 / scale)
    spectra = [analyzer.push(np.ascontiguousarray(b.T) * inv_scale) for b in read(analyzer.first_sample, stop)]
    if stop == n_samples:
        spectra.append(analyzer.finish(n_samples))
    power = _power(np.concatenate(spectra, axis=-1)[..., frames - first])
    return NoiseProfile(power=power.mean(axis=(0, 2)).astype(np.float64), window_s=window_s, method=method)


def estimate_noise_from_reader(
    read: Reader,
    n_samples: int,
    config: StftConfig,
    sr: float,
    n_channels: int,
    noise_window=None,
    scale: float = 1.0,
    energy: Optional[np.ndarray] = None,
) -> NoiseProfile:
    """Noise profile from ``noise_window``, or from the quietest stretch when it is ``None``.

    Parameters
    ----------
    energy : np.ndarray, optional
        Frame energies from :func:`survey`, when already at hand; otherwise
        the automatic mode makes one pass over the recording for them.
    """
    if noise_window is not None:
        return profile_from_reader(read, n_samples, config, sr, n_channels, noise_window, "window", scale)
    if energy is None:
        energy = survey(read, n_samples, config, n_channels, need_energy=True)[0]
    window = quietest_window_from_energy(energy, config, sr, n_samples)
    return profile_from_reader(read, n_samples, config, sr, n_channels, window, "quietest stretch", scale)
