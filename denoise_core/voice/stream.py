"""Streaming DeepFilterNet3: any rate, any channel count, output aligned with the input.

:class:`VoiceStream` takes blocks of any size and gives back the enhanced
audio, sample for sample in time with the input: the network's lag (480
samples of STFT and two 10 ms frames of lookahead, :data:`LAG_48K` = 1440
samples at 48 kHz) is compensated, and the total output has the total
input's length. Its output is the network's *unlimited* output;
:func:`~denoise_core.voice.deepfilter.apply_atten_lim` mixes it with the
input for any attenuation limit, so a change of strength never reruns the
network.

Inside, the work goes in fixed chunks, so the bits never depend on the
caller's block sizes:

- a rate other than 48 kHz is resampled to 48 kHz and back with soxr's
  streaming resampler, fed blocks of :data:`RESAMPLE_BLOCK` samples;
- the 48 kHz signal is cleaned :data:`CHUNK_HOPS` hops (1 s) at a time, with
  every state carried across chunks (STFT overlap, feature normalisation,
  convolution history, GRU states, the deep filter's past spectra), so memory
  stays bounded however long the stream;
- at the end, the 48 kHz signal is padded with :data:`LAG_48K` zeros (rounded
  up to whole hops) to flush the lookahead, as the reference is flushed.

Several channels share ONE mask: the network runs once, on the mean of the
channels' spectra (their mid signal), and the same ERB gains and deep-filter
coefficients clean every channel, so the stereo image keeps still. A mono
stream at 48 kHz is exactly the reference runtime's processing. (Channels in
opposite phase cancel in the mid signal, so such a recording is cleaned as if
it were quiet.)

The local SNR that the network estimates for each 10 ms frame (frame ``k``
is centred on ``k * 10`` ms of the input) comes out through
:meth:`VoiceStream.take_lsnr_db`; it lies in [-15, 35] dB. It tells speech
from its absence: on the noisy test clip (p257_089) 79 % of the frames are
above 10 dB (median 14 dB), on its noise alone 20 % (median -6 dB), on white
noise none (median -15 dB); the clean speech sits near 32 dB.

The states start cold: the feature normalisation takes about a second to
settle. To preview a stretch that starts inside a recording, start the
stream :data:`PREROLL_S` seconds earlier and drop that much output (see
:data:`PREROLL_S` for the measured differences).

Run the engine with one BLAS thread (``threadpoolctl.threadpool_limits(1)``):
the GRUs' recurrences are 500 small matrix-vector products per second of
audio (five layers, 100 frames), which BLAS threads slow down rather than
speed up, badly so when other processes keep the cores busy.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

import numpy as np
import soxr

from ..errors import AudioInputError
from ..validation import MAX_CHANNELS, validate_sr
from .deepfilter import DeepFilter
from .features import HOP_LENGTH, SR, Analysis, FeatureExtractor, Synthesis
from .network import Dfn3, NetworkState

__all__ = [
    "CHUNK_HOPS",
    "FRAME_S",
    "LAG_48K",
    "PREROLL_S",
    "RESAMPLE_BLOCK",
    "VoiceStream",
    "enhance",
]

#: Samples at 48 kHz by which the raw processing lags its input (compensated by :class:`VoiceStream`).
LAG_48K = 3 * HOP_LENGTH
#: Hops of 480 samples (10 ms at 48 kHz) cleaned together.
CHUNK_HOPS = 100
#: Samples given to the resamplers at a time.
RESAMPLE_BLOCK = 4096
#: Duration of a local-SNR frame in seconds.
FRAME_S = HOP_LENGTH / SR
#: Recommended pre-roll, in seconds, before a stretch cleaned on its own (start the stream this much
#: earlier, on a multiple of 10 ms from the recording's start, and drop this much output). Measured
#: (``bench/voice_oracle.py``) on 3 s stretches of the public pairs against the same stretches within
#: a whole-recording run: without pre-roll they differ by -3 to -25 dB (median -20 dB; energy of the
#: difference relative to the output), with 3 s by -21 to -34 dB (median -29 dB), with 5 s by -26 to
#: -37 dB (median -29 dB), with 8 s by -24 to -47 dB (median -37 dB). The feature normalisation
#: forgets its start with a 1 s time constant, the GRUs more slowly; a start off the 10 ms grid
#: frames the audio differently and costs about 5 dB more.
PREROLL_S = 5.0


@lru_cache(maxsize=1)
def _network() -> Dfn3:
    """The network with the shipped weights, built once per process."""
    return Dfn3()


class _Core48k:
    """DeepFilterNet3 at 48 kHz on whole hops: raw output lagging :data:`LAG_48K` samples."""

    def __init__(self, n_channels: int) -> None:
        self.network = _network()
        self.analysis = Analysis(n_channels)
        self.features = FeatureExtractor()
        self.state = NetworkState()
        self.deep_filter = DeepFilter(n_channels)
        self.synthesis = Synthesis(n_channels)

    def __call__(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Clean consecutive hops.

        Parameters
        ----------
        y : np.ndarray [shape=(n_channels, n_hops * 480), dtype=float32]

        Returns
        -------
        out : np.ndarray [shape=(n_channels, n_hops * 480), dtype=float32]
            Hop ``t`` of the output is the enhanced hop ``t - 3`` of the input.
        lsnr_db : np.ndarray [shape=(n_hops,), dtype=float32]
        """
        spec = self.analysis(y)
        feat_erb, feat_spec = self.features(spec.mean(axis=0))
        gains, coefs, lsnr_db = self.network(feat_erb, feat_spec, self.state)
        return self.synthesis(self.deep_filter(spec, gains, coefs, lsnr_db)), lsnr_db


class _Fifo:
    """Samples of several channels waiting to be taken in blocks."""

    def __init__(self, n_channels: int) -> None:
        self.parts: deque[np.ndarray] = deque()
        self.n_channels = n_channels
        self.size = 0

    def put(self, y: np.ndarray) -> None:
        if y.shape[1]:
            self.parts.append(y)
            self.size += y.shape[1]

    def take(self, n: int) -> np.ndarray:
        """The first ``n`` samples (all there are if fewer), as a new array."""
        taken = []
        while n > 0 and self.parts:
            head = self.parts.popleft()
            if head.shape[1] > n:
                self.parts.appendleft(head[:, n:])
                head = head[:, :n]
            taken.append(head)
            n -= head.shape[1]
            self.size -= head.shape[1]
        if not taken:
            return np.zeros((self.n_channels, 0), np.float32)
        return np.concatenate(taken, axis=1)


class VoiceStream:
    """DeepFilterNet3 on a stream, in blocks of any size, aligned with its input.

    Parameters
    ----------
    sr : float
        Sample rate in Hz, 8 kHz to 192 kHz; other than 48 kHz the audio is
        resampled to 48 kHz and back.
    n_channels : int
        Channels of every block (1 to 64), cleaned with one linked mask.

    Examples
    --------
    Clean ``y`` (shape ``(2, n)`` at 44.1 kHz) as it arrives in ``blocks``,
    then make the output at a 12 dB limit:

    >>> stream = VoiceStream(44100, 2)
    >>> parts = [stream.push(block) for block in blocks]  # doctest: +SKIP
    >>> y_enh = np.concatenate(parts + [stream.finish()], axis=1)  # doctest: +SKIP
    >>> y_12db = apply_atten_lim(y, y_enh, 12.0)  # doctest: +SKIP
    """

    def __init__(self, sr: float, n_channels: int = 1) -> None:
        self.sr = validate_sr(sr)
        if isinstance(n_channels, bool) or not isinstance(n_channels, (int, np.integer)) or not (
            1 <= n_channels <= MAX_CHANNELS
        ):
            raise AudioInputError(f"n_channels is {n_channels!r}; it must be a whole number from 1 to {MAX_CHANNELS}.")
        self.n_channels = int(n_channels)
        self._core = _Core48k(self.n_channels)
        self._resampled = self.sr != SR
        if self._resampled:
            self._up = soxr.ResampleStream(self.sr, SR, self.n_channels, dtype="float32")
            self._down = soxr.ResampleStream(SR, self.sr, self.n_channels, dtype="float32")
        self._input = _Fifo(self.n_channels)  # at sr, waiting for the upsampler (resampled streams)
        self._input_48k = _Fifo(self.n_channels)  # waiting for a whole chunk
        self._output_48k = _Fifo(self.n_channels)  # aligned, waiting for the downsampler (resampled streams)
        self._output = _Fifo(self.n_channels)  # at sr, ready
        self._lsnr: list[np.ndarray] = []
        self._to_drop = LAG_48K
        self._n_in = 0
        self._n_out = 0
        self._n_in_48k = 0
        self._n_out_48k = 0
        self._n_lsnr = 0
        self._finished = False

    def push(self, y: np.ndarray) -> np.ndarray:
        """Clean the next block.

        Parameters
        ----------
        y : np.ndarray [shape=(n_channels, n)]
            The next samples, full scale 1.0 (converted to float32).

        Returns
        -------
        np.ndarray [shape=(n_channels, m), dtype=float32]
            The next ``m`` samples of the enhanced stream (unlimited), in
            time with the input: output sample ``i`` of the stream belongs to
            input sample ``i``. ``m`` may be 0: the output lags by up to a
            chunk (1 s) plus the resamplers' blocks.

        Raises
        ------
        AudioInputError
            If ``y`` has the wrong shape or non-finite samples, or the stream has finished.
        """
        if self._finished:
            raise AudioInputError("This VoiceStream has finished; start a new one.")
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[0] != self.n_channels:
            raise AudioInputError(f"A block must have shape ({self.n_channels}, n); got {y.shape}.")
        y = y.astype(np.float32)
        if not np.all(np.isfinite(y)):
            raise AudioInputError("The block holds NaN or infinite samples.")
        self._n_in += y.shape[1]
        self._input.put(y)
        self._advance(final=False)
        out = self._output.take(self._output.size)
        self._n_out += out.shape[1]
        return out

    def finish(self) -> np.ndarray:
        """Flush the stream: the rest of the output.

        Returns
        -------
        np.ndarray [shape=(n_channels, m), dtype=float32]
            The last samples, so that the stream's whole output has exactly
            as many samples as its whole input.
        """
        if self._finished:
            raise AudioInputError("This VoiceStream has already finished.")
        self._finished = True
        self._advance(final=True)
        out = self._output.take(self._n_in - self._n_out)
        missing = self._n_in - self._n_out - out.shape[1]
        if missing > 0:
            out = np.concatenate([out, np.zeros((self.n_channels, missing), np.float32)], axis=1)
        self._n_out += out.shape[1]
        return out

    def take_lsnr_db(self) -> np.ndarray:
        """The local SNR of the frames cleaned since the last call.

        Returns
        -------
        np.ndarray [shape=(n_frames,), dtype=float32]
            One value in dB per 10 ms frame, frame ``k`` of the stream being
            centred on ``k * FRAME_S`` seconds of the input; after
            :meth:`finish`, the stream has given ``ceil(duration / FRAME_S)``
            frames in all (the frames of the end's zero padding are left out).
        """
        out = np.concatenate(self._lsnr) if self._lsnr else np.zeros(0, np.float32)
        self._lsnr = []
        return out

    def _advance(self, final: bool) -> None:
        """Move samples through the resamplers and the network as far as whole blocks allow."""
        if self._resampled:
            while self._input.size >= RESAMPLE_BLOCK:
                self._to_48k(self._input.take(RESAMPLE_BLOCK), last=False)
            if final:
                self._to_48k(self._input.take(self._input.size), last=True)
        else:
            self._n_in_48k += self._input.size
            self._input_48k.put(self._input.take(self._input.size))
        chunk = CHUNK_HOPS * HOP_LENGTH
        while self._input_48k.size >= chunk:
            self._clean(self._input_48k.take(chunk))
        if final:
            n_hops = -(-(self._input_48k.size + LAG_48K) // HOP_LENGTH)
            self._input_48k.put(np.zeros((self.n_channels, n_hops * HOP_LENGTH - self._input_48k.size), np.float32))
            while self._input_48k.size:
                self._clean(self._input_48k.take(chunk))
            n_padding_frames = self._n_lsnr - -(-self._n_in_48k // HOP_LENGTH)
            lsnr = self.take_lsnr_db()
            self._lsnr = [lsnr[: len(lsnr) - n_padding_frames]]
        if self._resampled:
            while self._output_48k.size >= RESAMPLE_BLOCK:
                self._from_48k(self._output_48k.take(RESAMPLE_BLOCK), last=False)
            if final:
                self._from_48k(self._output_48k.take(self._output_48k.size), last=True)
        else:
            self._output.put(self._output_48k.take(self._output_48k.size))

    def _to_48k(self, y: np.ndarray, last: bool) -> None:
        """Upsample a block to 48 kHz, ready for the network."""
        y_48k = np.ascontiguousarray(self._up.resample_chunk(np.ascontiguousarray(y.T), last=last).T)
        self._n_in_48k += y_48k.shape[1]
        self._input_48k.put(y_48k)

    def _from_48k(self, y: np.ndarray, last: bool) -> None:
        """Downsample a block of the aligned output back to the stream's rate."""
        self._output.put(np.ascontiguousarray(self._down.resample_chunk(np.ascontiguousarray(y.T), last=last).T))

    def _clean(self, y: np.ndarray) -> None:
        """Run the network over whole hops; keep the output that lines up with the input."""
        out, lsnr = self._core(y)
        self._lsnr.append(lsnr)
        self._n_lsnr += len(lsnr)
        drop = min(self._to_drop, out.shape[1])
        self._to_drop -= drop
        out = out[:, drop : drop + self._n_in_48k - self._n_out_48k]
        self._n_out_48k += out.shape[1]
        self._output_48k.put(out)


def enhance(y: np.ndarray, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """DeepFilterNet3 over a whole recording (unlimited), aligned with it.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n_channels, n)]
        The recording, full scale 1.0.
    sr : float
        Its sample rate in Hz (8 kHz to 192 kHz).

    Returns
    -------
    y_enh : np.ndarray [shape=y.shape, dtype=float32]
        The enhanced recording with no attenuation limit; pass it with ``y``
        to :func:`~denoise_core.voice.deepfilter.apply_atten_lim` for a limit.
    lsnr_db : np.ndarray [shape=(ceil(n * 48000 / sr / 480),), dtype=float32]
        The local SNR of each 10 ms frame in dB.

    Notes
    -----
    The whole output is held in memory, twice for a moment (as its chunks and
    joined); for long recordings, push blocks through a :class:`VoiceStream`,
    whose memory does not grow with the duration.
    """
    y = np.asarray(y)
    mono = y.ndim == 1
    y2 = y[None] if mono else y
    if y2.ndim != 2:
        raise AudioInputError(f"y must have shape (n,) or (n_channels, n); got {y.shape}.")
    stream = VoiceStream(sr, y2.shape[0])
    out = np.concatenate([stream.push(y2), stream.finish()], axis=1)
    return (out[0] if mono else out), stream.take_lsnr_db()
