"""Short-time Fourier transform with exact inverse.

:class:`StftConfig` holds the transform settings, checks them once and offers
:meth:`StftConfig.stft`, :meth:`StftConfig.istft` and the axes that plots need
(:attr:`StftConfig.frequencies`, :meth:`StftConfig.times`). It knows its
sample rate, so the axes need nothing else.

The analysis uses a periodic Hann taper, centred frames (the signal is
zero-padded by ``n_fft // 2`` on both sides) and weighted overlap-add
synthesis normalised by the summed squared taper, so that
``istft(stft(y), length=len(y))`` reproduces ``y`` to float rounding for any
length, including signals shorter than one frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError

__all__ = ["FrameAnalyzer", "FrameSynthesizer", "StftConfig", "overlap_add", "power_of"]

#: Shortest frame duration in seconds for the default FFT size.
_MIN_FRAME_S = 0.020


def default_n_fft(sr: float) -> int:
    """FFT size giving frames of about 20 to 40 ms at sample rate ``sr``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.

    Returns
    -------
    int
        The smallest power of two that holds 20 ms of samples, so frames last
        20 to 40 ms: 256 at 8 kHz, 512 at 16 kHz, 1024 at 44.1 and 48 kHz,
        4096 at 192 kHz.
    """
    return int(2 ** np.ceil(np.log2(max(_MIN_FRAME_S * float(sr), 16.0))))


@dataclass(frozen=True)
class StftConfig:
    """Settings of the short-time Fourier transform, checked on creation.

    Parameters
    ----------
    sr : float
        Sample rate in Hz of the audio it transforms.
    n_fft : int
        FFT size in samples (>= 16).
    hop_length : int
        Samples between successive frames (1 <= hop_length <= win_length / 2).
    win_length : int
        Hann taper length in samples (16 <= win_length <= n_fft); the taper
        is zero-padded to ``n_fft`` when shorter.
    """

    sr: float
    n_fft: int
    hop_length: int
    win_length: int

    def __post_init__(self) -> None:
        if isinstance(self.sr, bool) or not isinstance(self.sr, (int, float, np.integer, np.floating)) or not (
            np.isfinite(self.sr) and self.sr > 0
        ):
            raise ParameterError(f"sr must be a positive sample rate in Hz, got {self.sr!r}.")
        object.__setattr__(self, "sr", float(self.sr))
        for name in ("n_fft", "hop_length", "win_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ParameterError(f"{name} must be a whole number of samples, got {value!r}.")
        if not 16 <= self.n_fft <= 65536:
            raise ParameterError(f"n_fft must be between 16 and 65536 samples, got {self.n_fft}.")
        if not 16 <= self.win_length <= self.n_fft:
            raise ParameterError(
                f"win_length must be between 16 and n_fft={self.n_fft} samples, got {self.win_length}."
            )
        if not 1 <= self.hop_length <= self.win_length // 2:
            raise ParameterError(
                f"hop_length must be between 1 and win_length/2={self.win_length // 2} samples "
                f"(frames must overlap by at least half), got {self.hop_length}."
            )

    @classmethod
    def for_sr(
        cls,
        sr: float,
        n_fft: int | None = None,
        hop_length: int | None = None,
        win_length: int | None = None,
    ) -> StftConfig:
        """Settings for sample rate ``sr``, filling in what is not given.

        Parameters
        ----------
        sr : float
            Sample rate in Hz.
        n_fft : int, optional
            FFT size; defaults to :func:`default_n_fft` of ``sr`` (20 to 40 ms).
        hop_length : int, optional
            Defaults to ``win_length // 4`` (75 % overlap: the gain can change
            smoothly from frame to frame, without the frame-rate roughness of
            50 % overlap).
        win_length : int, optional
            Defaults to ``n_fft``.
        """
        n_fft = default_n_fft(sr) if n_fft is None else n_fft
        win_length = n_fft if win_length is None else win_length
        if hop_length is None and isinstance(win_length, (int, np.integer)):
            hop_length = max(1, int(win_length) // 4)
        return cls(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length)

    @property
    def n_freqs(self) -> int:
        """Number of frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def taper(self) -> np.ndarray:
        """Periodic Hann analysis taper of length ``n_fft`` (float64)."""
        n = np.arange(self.win_length)
        w = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / self.win_length)
        left = (self.n_fft - self.win_length) // 2
        return np.pad(w, (left, self.n_fft - self.win_length - left))

    def n_frames(self, n_samples: int) -> int:
        """Number of frames :meth:`stft` returns for ``n_samples`` samples.

        Frames are centred on ``0, hop, 2 hop, ...`` up to the first centre at
        or past the last sample, so every sample lies between two frame
        centres and is reconstructed with a well-conditioned taper sum.
        """
        return -(-int(n_samples) // self.hop_length) + 1

    @property
    def frequencies(self) -> np.ndarray:
        """Centre frequency of each bin in Hz, shape ``(n_freqs,)``."""
        return np.fft.rfftfreq(self.n_fft, d=1.0 / self.sr)

    @property
    def hop_s(self) -> float:
        """Time between frames in seconds."""
        return self.hop_length / self.sr

    def times(self, n_frames: int) -> np.ndarray:
        """Centre time of each frame in seconds, shape ``(n_frames,)``."""
        return np.arange(int(n_frames)) * self.hop_s

    def stft(self, y: np.ndarray) -> np.ndarray:
        """Complex spectrogram of ``y``.

        Parameters
        ----------
        y : np.ndarray [shape=(..., n)]
            Real signal(s); the last axis is time.

        Returns
        -------
        np.ndarray [shape=(..., n_freqs, n_frames), dtype=complex64]
            Frame ``t`` is centred on sample ``t * hop_length``.
        """
        y = np.asarray(y, dtype=np.float32)
        n = y.shape[-1]
        n_frames = self.n_frames(n)
        pad = self.n_fft // 2
        total = (n_frames - 1) * self.hop_length + self.n_fft
        padded = np.zeros((*y.shape[:-1], total), dtype=np.float32)
        padded[..., pad : pad + n] = y
        return self.frame_spectra(padded, n_frames)

    def _tapered_frames(self, samples: np.ndarray, n_frames: int) -> np.ndarray:
        """``n_frames`` frames of ``samples``, ``hop_length`` apart, times the taper: ``(..., n_frames, n_fft)``."""
        frames = np.lib.stride_tricks.sliding_window_view(samples, self.n_fft, axis=-1)[
            ..., :: self.hop_length, :
        ][..., :n_frames, :]
        return frames * self.taper.astype(np.float32)

    def frame_spectra(self, samples: np.ndarray, n_frames: int) -> np.ndarray:
        """Spectra of ``n_frames`` frames starting at ``samples[..., 0]``, ``hop_length`` apart.

        Parameters
        ----------
        samples : np.ndarray [shape=(..., n), dtype=float32]
            At least ``(n_frames - 1) * hop_length + n_fft`` samples.
        n_frames : int

        Returns
        -------
        np.ndarray [shape=(..., n_freqs, n_frames), dtype=complex64]
        """
        if n_frames == 0:
            return np.zeros((*samples.shape[:-1], self.n_freqs, 0), dtype=np.complex64)
        spec = np.fft.rfft(self._tapered_frames(samples, n_frames), axis=-1)
        return np.swapaxes(spec, -1, -2).astype(np.complex64, copy=False)

    def frame_energies(self, samples: np.ndarray, n_frames: int) -> np.ndarray:
        """What :meth:`frame_spectra`'s squared magnitudes sum to over the bins, without the FFT.

        By Parseval, the ``n_fft // 2 + 1`` bins of a real frame ``x`` hold
        ``(n_fft * sum(x**2) + X[0]**2 + X[n_fft / 2]**2) / 2`` (the last term
        for even ``n_fft`` only), with ``X[0] = sum(x)`` and
        ``X[n_fft / 2] = sum((-1)**i * x[i])``.

        Returns
        -------
        np.ndarray [shape=(..., n_frames), dtype=float64]
        """
        if n_frames == 0:
            return np.zeros((*samples.shape[:-1], 0))
        frames = self._tapered_frames(samples, n_frames)
        energy = self.n_fft * np.einsum("...i,...i->...", frames, frames).astype(np.float64)
        energy += frames.sum(axis=-1, dtype=np.float64) ** 2
        if self.n_fft % 2 == 0:
            alternating = np.where(np.arange(self.n_fft) % 2 == 0, 1.0, -1.0).astype(np.float32)
            energy += (frames @ alternating).astype(np.float64) ** 2
        return energy / 2

    def frame_signals(self, spec: np.ndarray) -> np.ndarray:
        """Windowed time-domain frames of a spectrogram, for overlap-add.

        Parameters
        ----------
        spec : np.ndarray [shape=(..., n_freqs, n_frames)]

        Returns
        -------
        np.ndarray [shape=(..., n_frames, n_fft), dtype=float32]
        """
        if spec.shape[-2] != self.n_freqs:
            raise ParameterError(
                f"spectrogram has {spec.shape[-2]} frequency bins, expected {self.n_freqs} for n_fft={self.n_fft}."
            )
        frames = np.fft.irfft(np.swapaxes(spec, -1, -2), n=self.n_fft, axis=-1).astype(np.float32, copy=False)
        frames *= self.taper.astype(np.float32)
        return frames

    def istft(self, spec: np.ndarray, length: int) -> np.ndarray:
        """Signal from a (possibly modified) spectrogram by weighted overlap-add.

        Parameters
        ----------
        spec : np.ndarray [shape=(..., n_freqs, n_frames)]
            Complex spectrogram as returned by :meth:`stft`.
        length : int
            Number of samples to return (the original signal's length).

        Returns
        -------
        np.ndarray [shape=(..., length), dtype=float32]
        """
        spec = np.asarray(spec)
        n_frames = spec.shape[-1]
        frames = self.frame_signals(spec)
        total = (n_frames - 1) * self.hop_length + self.n_fft
        out = overlap_add(frames, self.hop_length, total)
        norm = overlap_add(self.taper.astype(np.float32) ** 2, self.hop_length, total, n_frames)
        pad = self.n_fft // 2
        out = out[..., pad : pad + int(length)]
        norm = norm[pad : pad + int(length)]
        result = np.zeros((*out.shape[:-1], int(length)), dtype=np.float32)
        result[..., : norm.shape[0]] = out / np.maximum(norm, np.float32(1e-12))
        return result


def overlap_add(
    frames: np.ndarray,
    hop_length: int,
    total: int,
    n_frames: int | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Sum frames of shape ``(..., n_frames, n_fft)`` placed ``hop_length`` apart, in float32.

    A single frame of shape ``(n_fft,)`` with ``n_frames`` given is repeated
    ``n_frames`` times (the taper normalisation). With ``out`` (float32, last
    axis ``total``) the frames are added into it. Every sample gets its
    frames' contributions in the order of the frames, so frames added in
    several calls give the very same sums as all at once.
    """
    n_fft = frames.shape[-1]
    if n_frames is None:
        n_frames = frames.shape[-2]
    else:
        frames = frames[None, :]
    lead = frames.shape[:-2]
    if out is None:
        out = np.zeros((*lead, total), dtype=np.float32)
    if n_fft % hop_length == 0 and total % hop_length == 0:
        # Split each frame into hop-sized blocks and add block r of frame t to
        # output block t + r: n_fft / hop vectorised additions instead of n_frames.
        # Output block b takes block r of frame b - r: the last blocks first, so
        # the older frames are added first.
        n_blocks = n_fft // hop_length
        blocks = out.reshape((*out.shape[:-1], total // hop_length, hop_length))
        parts = frames.reshape((*frames.shape[:-1], n_blocks, hop_length))
        for r in reversed(range(n_blocks)):
            blocks[..., r : r + n_frames, :] += parts[..., :, r, :]
        return out
    for t in range(n_frames):
        out[..., t * hop_length : t * hop_length + n_fft] += frames[..., min(t, frames.shape[-2] - 1), :]
    return out


def power_of(spec: np.ndarray) -> np.ndarray:
    """Squared magnitudes of complex STFT bins (no square root taken)."""
    return spec.real**2 + spec.imag**2


class FrameAnalyzer:
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
        # Added in place, older frames first: the sums do not depend on how the frames were split into pushes.
        overlap_add(cfg.frame_signals(spec), hop, span, out=acc[:, start : start + span])
        overlap_add(cfg.taper.astype(np.float32) ** 2, hop, span, k, out=norm[start : start + span])
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
