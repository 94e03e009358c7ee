"""Streaming filters for the finishing chain: the rumble high-pass and an exact IIR cascade.

Every streaming class here cuts what it is pushed into chunks of a fixed length
before doing any arithmetic, so the result is bit for bit the same whatever
block sizes the caller pushes (one sample at a time, a second at a time, or the
whole recording at once).

The high-pass
-------------
:class:`HighPass` is a linear-phase FIR whose magnitude is that of a
4th-order Linkwitz-Riley high-pass (a 2nd-order Butterworth applied forwards
and backwards): 24 dB per octave, -6 dB at the corner, about -24.6 dB one
octave below it, and no ripple. It is the zero-phase response a forward-backward
IIR would give, made streamable with a fixed delay that the class removes
(output sample ``i`` lines up with input sample ``i``).

Why this design, against plosives ("p", "b" pops) that are mostly below 150 Hz:

* a minimum-phase (ordinary) Butterworth has no pre-ringing at all, but it delays
  the low frequencies relative to the voice (phase shift of 180 degrees at the
  corner for a 4th order), which changes the shape of every plosive; the issue asks
  for zero or linear phase;
* a sharp linear-phase FIR (a windowed sinc, or an equiripple design) rings before
  each plosive for as long as it rings after it, tens of milliseconds of a tone
  near the corner frequency ahead of the pop;
* the Linkwitz-Riley magnitude has no steep edge, so its symmetric impulse response
  is short and barely oscillates: what it puts before an onset is a smooth low
  swell, not a ring. Measured on a synthetic plosive at 48 kHz (``bench/finish.py``),
  the output before the onset peaks 20 dB below the output after it and stays above
  -40 dB for only the last 7.6 ms, inside the ~5-20 ms that backward masking
  hides; a sharp windowed-sinc FIR (40 dB stopband) gives -14.5 dB and 17.6 ms. The
  kernel is cut at two periods of the corner (25 ms each side at 80 Hz), where the
  truncated tail is below -110 dB.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import AudioInputError, ParameterError
from .source import ArraySource
from .validation import validate_sr

__all__ = [
    "HIGHPASS_CUTOFFS_HZ",
    "AlignedStream",
    "ChunkBuffer",
    "HighPass",
    "IirCascade",
    "as_channels_first",
    "check_block",
    "from_channels_first",
    "highpass_kernel",
]

#: The high-pass corners offered to the user, in Hz (-6 dB points).
HIGHPASS_CUTOFFS_HZ: tuple[int, ...] = (60, 80, 100, 120)

#: Half-length of the high-pass kernel, in periods of the corner frequency.
_HIGHPASS_HALF_PERIODS = 2.0

#: Rows of the block form of :class:`IirCascade`: samples filtered by one matrix product.
_IIR_ROW = 128


def as_channels_first(y: np.ndarray, sr: float) -> np.ndarray:
    """Audio in soundfile layout ``(n,)`` or ``(n, channels)`` as float64 ``(channels, n)``.

    The checks and the scaling of integer types are those of
    :class:`denoise_core.source.ArraySource` (:class:`AudioInputError` on bad
    input); float samples keep their values.
    """
    return np.concatenate(list(ArraySource(y, sr).read()), axis=0).T.astype(np.float64)


def from_channels_first(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``(channels, n)`` back to the layout of ``like``, as float32 like the rest of the engine."""
    out = x[0] if np.ndim(like) == 1 else x.T
    return np.ascontiguousarray(out, dtype=np.float32)


def check_block(block: np.ndarray, n_channels: int) -> np.ndarray:
    """A pushed block ``(n_channels, n)`` as float64, checked."""
    block = np.asarray(block)
    if block.ndim != 2 or block.shape[0] != n_channels:
        raise AudioInputError(
            f"Blocks must have shape (n_channels, n) = ({n_channels}, n), got {block.shape}."
        )
    block = block.astype(np.float64, copy=False)
    if not np.all(np.isfinite(block)):
        raise AudioInputError("The audio contains NaN or infinite samples; it cannot be processed.")
    return block


class ChunkBuffer:
    """Cuts a stream of blocks ``(n_channels, n)`` into chunks of exactly ``chunk`` samples.

    Parameters
    ----------
    n_channels : int
    chunk : int
        Chunk length, in samples.
    """

    def __init__(self, n_channels: int, chunk: int) -> None:
        self.n_channels = int(n_channels)
        self.chunk = int(chunk)
        self.remainder = np.zeros((self.n_channels, 0))

    def feed(self, block: np.ndarray) -> list[np.ndarray]:
        """Take a block; return every chunk now complete, in order."""
        block = check_block(block, self.n_channels)
        data = np.concatenate([self.remainder, block], axis=1)
        n_full = data.shape[1] // self.chunk * self.chunk
        self.remainder = data[:, n_full:]
        return [data[:, start : start + self.chunk] for start in range(0, n_full, self.chunk)]


class AlignedStream:
    """Base of the streaming processors whose output lines up with their input.

    A subclass sets ``latency`` (samples) and implements ``_process(chunk)``,
    which maps a chunk ``(n_channels, chunk)`` to the output ``latency`` samples
    earlier. This class removes that delay: :meth:`push` returns the samples that
    are final so far, :meth:`finish` the rest (the input is taken to be followed by
    silence), and together they return exactly as many samples as were pushed,
    output sample ``i`` belonging to input sample ``i``.
    """

    latency: int

    def __init__(self, n_channels: int, chunk: int) -> None:
        self._chunks = ChunkBuffer(n_channels, chunk)
        self._n_in = 0
        self._produced = 0
        self._finished = False

    @property
    def n_channels(self) -> int:
        """Channels of the blocks pushed."""
        return self._chunks.n_channels

    def push(self, block: np.ndarray) -> np.ndarray:
        """Feed a block ``(n_channels, n)``; return the output samples now final ``(n_channels, m)``."""
        if self._finished:
            raise AudioInputError("This stream has finished; start a new one for more audio.")
        chunks = self._chunks.feed(block)
        self._n_in += np.shape(block)[1]
        return self._emit([self._process(c) for c in chunks])

    def finish(self) -> np.ndarray:
        """End of input: return the remaining output samples ``(n_channels, m)``."""
        if self._finished or self._n_in == 0:
            self._finished = True
            return np.zeros((self.n_channels, 0))
        chunk = self._chunks.chunk
        have = self._chunks.remainder.shape[1]
        n_pad = -(-(have + self.latency) // chunk) * chunk - have
        chunks = self._chunks.feed(np.zeros((self.n_channels, n_pad)))
        self._finished = True
        return self._emit([self._process(c) for c in chunks])

    def _emit(self, outs: Sequence[np.ndarray]) -> np.ndarray:
        if not outs:
            return np.zeros((self.n_channels, 0))
        out = np.concatenate(outs, axis=1)
        first = self._produced - self.latency
        self._produced += out.shape[1]
        lo = max(0, -first)
        hi = max(lo, min(out.shape[1], self._n_in - first))
        return out[:, lo:hi]

    def _process(self, chunk: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def highpass_kernel(sr: float, cutoff_hz: float) -> np.ndarray:
    """The linear-phase high-pass FIR: a 4th-order Linkwitz-Riley magnitude, zero phase.

    Parameters
    ----------
    sr : float
        Sample rate, in Hz.
    cutoff_hz : float
        Corner frequency (the -6 dB point), in Hz.

    Returns
    -------
    np.ndarray [shape=(2 * half + 1,)]
        Symmetric taps; the filter delays by ``half`` samples, where ``half`` is two
        periods of the corner, rounded up.

    Notes
    -----
    The magnitude is ``|H(f)|^2`` of the bilinear-transform 2nd-order Butterworth,
    ``s^4 / (s^4 + (tan(pi fc / sr) c)^4)`` with ``s = sin(pi f / sr)``,
    ``c = cos(pi f / sr)``, sampled densely and brought back to time. What the cut
    tails leave of the DC gain (about -78 dB) is taken out with a smooth Hann-shaped
    correction, so a DC offset is removed exactly.
    """
    half = int(np.ceil(_HIGHPASS_HALF_PERIODS * sr / cutoff_hz))
    n_grid = 1 << int(np.ceil(np.log2(16 * half)))
    w = np.pi * np.arange(n_grid // 2 + 1) / (n_grid // 2)
    s4 = np.sin(w / 2) ** 4
    c4 = (np.tan(np.pi * cutoff_hz / sr) * np.cos(w / 2)) ** 4
    impulse = np.fft.irfft(s4 / (s4 + c4), n_grid)
    kernel = np.concatenate([impulse[-half:], impulse[: half + 1]])
    taper = np.hanning(kernel.size + 2)[1:-1]
    return kernel - kernel.sum() * taper / taper.sum()


class HighPass(AlignedStream):
    """Streaming linear-phase rumble filter (see the module notes for the design).

    Parameters
    ----------
    sr : float
        Sample rate, in Hz (8000 to 192000).
    cutoff_hz : int
        Corner frequency, one of :data:`HIGHPASS_CUTOFFS_HZ` (60, 80, 100, 120 Hz).
    n_channels : int
        Channels of the blocks pushed.

    Attributes
    ----------
    latency : int
        The kernel's delay in samples, removed internally: :meth:`push` holds back
        this many samples, :meth:`finish` returns them.

    Examples
    --------
    >>> hp = HighPass(48000, 80, n_channels=2)
    >>> out = np.concatenate([hp.push(b) for b in blocks] + [hp.finish()], axis=1)
    """

    def __init__(self, sr: float, cutoff_hz: int, *, n_channels: int = 1) -> None:
        sr = validate_sr(sr)
        if cutoff_hz not in HIGHPASS_CUTOFFS_HZ:
            raise ParameterError(
                f"The high-pass corner must be one of {', '.join(map(str, HIGHPASS_CUTOFFS_HZ))} Hz, "
                f"got {cutoff_hz!r}."
            )
        kernel = highpass_kernel(sr, float(cutoff_hz))
        self.kernel = kernel
        self.latency = (kernel.size - 1) // 2
        self._n_fft = 1 << int(np.ceil(np.log2(4 * kernel.size)))
        self._spectrum = np.fft.rfft(kernel, self._n_fft)
        self._history = np.zeros((int(n_channels), kernel.size - 1))
        super().__init__(int(n_channels), self._n_fft - kernel.size + 1)

    def _process(self, chunk: np.ndarray) -> np.ndarray:
        data = np.concatenate([self._history, chunk], axis=1)
        self._history = data[:, chunk.shape[1] :]
        filtered = np.fft.irfft(np.fft.rfft(data, self._n_fft) * self._spectrum, self._n_fft)
        start = self.kernel.size - 1
        return filtered[:, start : start + chunk.shape[1]]


class IirCascade:
    """A cascade of biquads run exactly, a block of samples per matrix product.

    The cascade is put in state-space form ``s[n+1] = A s[n] + B x[n]``,
    ``y[n] = C s[n] + D x[n]``; a run of ``m`` samples is then
    ``y = T x + O s`` and ``s' = A^m s + G x`` with ``T`` the lower-triangular
    Toeplitz matrix of the impulse response. This is the recursion itself, with no
    truncation, so it matches a sample-by-sample loop to float rounding.

    Parameters
    ----------
    sos : sequence of (b0, b1, b2, a0, a1, a2)
        Second-order sections, ``a0`` = 1.
    n_channels : int
    """

    def __init__(self, sos: Sequence[Sequence[float]], *, n_channels: int = 1) -> None:
        a_mat = np.zeros((0, 0))
        b_vec = np.zeros(0)
        c_vec = np.zeros(0)
        d = 1.0
        for b0, b1, b2, _, a1, a2 in sos:
            a_sec = np.array([[-a1, 1.0], [-a2, 0.0]])
            b_sec = np.array([b1 - a1 * b0, b2 - a2 * b0])
            c_sec = np.array([1.0, 0.0])
            n = a_mat.shape[0]
            grown = np.zeros((n + 2, n + 2))
            grown[:n, :n] = a_mat
            grown[n:, n:] = a_sec
            grown[n:, :n] = np.outer(b_sec, c_vec)
            a_mat = grown
            b_vec = np.concatenate([b_vec, b_sec * d])
            c_vec = np.concatenate([b0 * c_vec, c_sec])
            d = b0 * d
        m = _IIR_ROW
        powers = [np.eye(a_mat.shape[0])]
        for _ in range(m):
            powers.append(a_mat @ powers[-1])
        self._step = np.ascontiguousarray(powers[m].T)
        self._powers_t = np.ascontiguousarray(np.transpose(powers, (0, 2, 1)))
        self._observe_t = np.ascontiguousarray(np.array([c_vec @ p for p in powers[:m]]).T)
        impulse = np.concatenate([[d], [c_vec @ p @ b_vec for p in powers[: m - 1]]])
        index = np.arange(m)[:, None] - np.arange(m)[None, :]
        self._toeplitz_t = np.ascontiguousarray(np.where(index >= 0, impulse[np.clip(index, 0, None)], 0.0).T)
        self._drive = np.ascontiguousarray(np.array([p @ b_vec for p in powers[:m]])[::-1])
        self.state = np.zeros((int(n_channels), a_mat.shape[0]))

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter ``x`` ``(n_channels, n)`` on from the current state; return ``(n_channels, n)``."""
        m = _IIR_ROW
        n = x.shape[1]
        n_rows = n // m
        out = np.empty_like(x, dtype=np.float64)
        if n_rows:
            rows = x[:, : n_rows * m].reshape(x.shape[0], n_rows, m)
            forced = rows @ self._toeplitz_t
            driven = rows @ self._drive
            starts = np.empty((x.shape[0], n_rows, self.state.shape[1]))
            state = self.state
            for r in range(n_rows):
                starts[:, r] = state
                state = state @ self._step + driven[:, r]
            self.state = state
            out[:, : n_rows * m] = (forced + starts @ self._observe_t).reshape(x.shape[0], -1)
        rest = n - n_rows * m
        if rest:
            tail = x[:, n_rows * m :]
            out[:, n_rows * m :] = tail @ self._toeplitz_t[:rest, :rest] + self.state @ self._observe_t[:, :rest]
            self.state = self.state @ self._powers_t[rest] + tail @ self._drive[m - rest :]
        return out
