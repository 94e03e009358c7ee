"""DeepFilterNet3's transform and input features, as its reference runtime computes them.

All of it runs at the network's rate, :data:`SR` = 48 kHz, on frames of
``n_fft`` = 960 samples every ``hop_length`` = 480 samples (10 ms), with a
Vorbis taper (upstream ``libDF/src/lib.rs``):

- :class:`Analysis`: frame ``t`` covers samples ``[(t - 1) * hop_length,
  (t + 1) * hop_length)`` of the stream (zeros before its start); its
  spectrum is ``rfft(taper * frame) / n_fft``, the reference's ``wnorm``.
- :class:`Synthesis`: ``n_fft * irfft`` (an unnormalised inverse), the
  taper again, and overlap-add. Since the squared Vorbis taper sums to
  one over two hops, the pair reconstructs its input ``hop_length`` samples
  late.
- :class:`FeatureExtractor`: the ERB band powers of a spectrum in dB
  (``10 * log10(power + 1e-10)``, averaged over each band's bins), minus
  their exponential mean, over 40 (the mean starts from -60 to -90 dB across
  the bands); and the first ``nb_df`` = 96 bins divided by the square root of
  their exponentially smoothed magnitude (starting from 0.001 to 0.0001).
  Both smoothers use ``alpha = 0.99`` (:func:`norm_alpha`: a time constant of
  1 s at 100 frames per second, rounded as the reference rounds it).

Every class works on a chunk of frames at a time and carries its state to
the next chunk, so chunking never changes the result.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "HOP_LENGTH",
    "NB_DF",
    "NB_ERB",
    "N_FFT",
    "N_FREQS",
    "SR",
    "Analysis",
    "FeatureExtractor",
    "Synthesis",
    "erb_band_index",
    "erb_band_widths",
    "norm_alpha",
    "vorbis_taper",
]

#: The network's sample rate in Hz.
SR = 48000
#: FFT size in samples (20 ms).
N_FFT = 960
#: Samples between frames (10 ms).
HOP_LENGTH = 480
#: Frequency bins of a spectrum.
N_FREQS = N_FFT // 2 + 1
#: ERB bands of the gain stage.
NB_ERB = 32
#: Lowest bins that the deep filter replaces.
NB_DF = 96
#: Fewest bins in an ERB band.
MIN_BINS_PER_BAND = 2
#: Time constant of the feature normalisation in seconds.
NORM_TAU_S = 1.0
#: Initial exponential means of the ERB features in dB (first and last band; linear between).
MEAN_NORM_INIT_DB = (-60.0, -90.0)
#: Initial smoothed magnitudes of the complex features (first and last bin; linear between).
UNIT_NORM_INIT = (0.001, 0.0001)


def vorbis_taper(n_fft: int = N_FFT) -> np.ndarray:
    """The Vorbis power-complementary taper, ``sin(pi/2 * sin(pi * (n + 0.5) / n_fft)**2)``.

    Returns
    -------
    np.ndarray [shape=(n_fft,), dtype=float32]
        Computed in float64 and rounded once, as the reference does.
    """
    n = np.arange(n_fft, dtype=np.float64)
    inner = np.sin(0.5 * np.pi * (n + 0.5) / (n_fft // 2))
    return np.sin(0.5 * np.pi * inner * inner).astype(np.float32)


def erb_band_widths(
    sr: int = SR, n_fft: int = N_FFT, n_bands: int = NB_ERB, min_bins: int = MIN_BINS_PER_BAND
) -> np.ndarray:
    """Number of FFT bins in each ERB band (the reference's ``erb_fb``, in float32).

    Bands are equally wide on the ERB scale ``9.265 * ln(1 + f / (24.7 * 9.265))``
    from 0 Hz to ``sr / 2``; a band narrower than ``min_bins`` bins takes
    bins from the next; the last band also holds the Nyquist bin.

    Returns
    -------
    np.ndarray [shape=(n_bands,), dtype=int64]
        Widths summing to ``n_fft // 2 + 1`` (for DeepFilterNet3: 2, 2, ..., 56, 67).
    """
    f32 = np.float32
    scale = f32(24.7) * f32(9.265)
    erb_high = f32(9.265) * np.log1p(f32(sr // 2) / scale)
    step = erb_high / f32(n_bands)
    freq_width = f32(sr) / f32(n_fft)
    widths = np.zeros(n_bands, dtype=np.int64)
    prev_bin, borrowed = 0, 0
    for i in range(1, n_bands + 1):
        freq = scale * (np.exp(f32(i) * step / f32(9.265)) - f32(1.0))
        edge = int(np.floor(freq / freq_width + f32(0.5)))
        n_bins = edge - prev_bin - borrowed
        borrowed = max(min_bins - n_bins, 0)
        widths[i - 1] = max(n_bins, min_bins)
        prev_bin = edge
    widths[-1] += 1
    widths[-1] -= max(int(widths.sum()) - (n_fft // 2 + 1), 0)
    return widths


def erb_band_index() -> np.ndarray:
    """The ERB band of each FFT bin.

    Returns
    -------
    np.ndarray [shape=(n_freqs,), dtype=int64]
        Band numbers 0 to 31, in order, each repeated for its width (:func:`erb_band_widths`).
    """
    return np.repeat(np.arange(NB_ERB), erb_band_widths())


def norm_alpha(sr: int = SR, hop_length: int = HOP_LENGTH, tau_s: float = NORM_TAU_S) -> float:
    """Smoothing factor of the feature normalisation, ``exp(-hop / (sr * tau))`` rounded.

    The reference rounds it to the fewest decimals (three or more) that keep
    it below one: 0.99 for 10 ms hops and a 1 s time constant.
    """
    alpha = np.exp(-hop_length / (sr * tau_s))
    precision = 3
    rounded = 1.0
    while rounded >= 1.0:
        rounded = np.round(alpha * 10**precision) / 10**precision
        precision += 1
    return float(np.float32(rounded))


class Analysis:
    """Streaming STFT of the reference: Vorbis taper, ``rfft / n_fft``, 50 % overlap.

    Parameters
    ----------
    n_channels : int
        Channels analysed side by side.
    """

    def __init__(self, n_channels: int) -> None:
        self.taper = vorbis_taper()
        self.memory = np.zeros((n_channels, HOP_LENGTH), dtype=np.float32)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        """Spectra of the frames that end with each new hop.

        Parameters
        ----------
        y : np.ndarray [shape=(n_channels, n_frames * hop_length), dtype=float32]
            The next samples of the stream, whole hops.

        Returns
        -------
        np.ndarray [shape=(n_channels, n_frames, n_freqs), dtype=complex64]
            Frame ``t`` tapers the previous hop and hop ``t`` of ``y``.
        """
        n_frames = y.shape[1] // HOP_LENGTH
        buffer = np.concatenate([self.memory, y], axis=1)
        self.memory = buffer[:, -HOP_LENGTH:].copy()
        frames = np.lib.stride_tricks.sliding_window_view(buffer, N_FFT, axis=1)[:, ::HOP_LENGTH][:, :n_frames]
        spec = np.fft.rfft(frames * self.taper, axis=-1)
        spec *= np.float32(1.0 / N_FFT)
        return spec.astype(np.complex64, copy=False)


class Synthesis:
    """Streaming inverse of :class:`Analysis`: ``n_fft * irfft``, taper, overlap-add.

    Parameters
    ----------
    n_channels : int
        Channels synthesised side by side.
    """

    def __init__(self, n_channels: int) -> None:
        self.taper = vorbis_taper() * np.float32(N_FFT)
        self.memory = np.zeros((n_channels, HOP_LENGTH), dtype=np.float32)

    def __call__(self, spec: np.ndarray) -> np.ndarray:
        """One hop of samples per spectrum frame.

        Parameters
        ----------
        spec : np.ndarray [shape=(n_channels, n_frames, n_freqs), dtype=complex64]
            Spectra to synthesise (the imaginary parts of the DC and Nyquist
            bins are ignored, as the reference's inverse FFT ignores them).

        Returns
        -------
        np.ndarray [shape=(n_channels, n_frames * hop_length), dtype=float32]
            Hop ``t``: the first half of frame ``t`` plus the second half of
            frame ``t - 1``.
        """
        n_channels, n_frames = spec.shape[:2]
        frames = np.fft.irfft(spec, n=N_FFT, axis=-1).astype(np.float32, copy=False)
        frames *= self.taper
        out = frames[:, :, :HOP_LENGTH].copy()
        out[:, 0] += self.memory
        out[:, 1:] += frames[:, :-1, HOP_LENGTH:]
        self.memory = frames[:, -1, HOP_LENGTH:].copy()
        return out.reshape(n_channels, n_frames * HOP_LENGTH)


class FeatureExtractor:
    """The network's two inputs, with their exponential normalisations carried across chunks.

    Parameters
    ----------
    alpha : float, optional
        Smoothing factor of both normalisations; by default :func:`norm_alpha` (0.99).
    """

    def __init__(self, alpha: float | None = None) -> None:
        self.alpha = norm_alpha() if alpha is None else float(alpha)
        widths = erb_band_widths()
        band_of_bin = erb_band_index()
        self.band_matrix = np.zeros((N_FREQS, NB_ERB), dtype=np.float32)
        self.band_matrix[np.arange(N_FREQS), band_of_bin] = (np.float32(1.0) / widths.astype(np.float32))[band_of_bin]
        lo, hi = MEAN_NORM_INIT_DB
        self.mean_state = (np.float32(lo) + np.arange(NB_ERB, dtype=np.float32) * np.float32((hi - lo) / (NB_ERB - 1))).astype(np.float64)
        lo, hi = UNIT_NORM_INIT
        self.unit_state = (np.float32(lo) + np.arange(NB_DF, dtype=np.float32) * np.float32((hi - lo) / (NB_DF - 1))).astype(np.float64)
        self._gain = np.zeros((0, 0))
        self._carry = np.zeros(0)

    def _smooth(self, x: np.ndarray, state: np.ndarray) -> np.ndarray:
        """``s[t] = alpha * s[t - 1] + (1 - alpha) * x[t]`` for every frame of ``x``, from ``s[-1] = state``.

        Parameters
        ----------
        x : np.ndarray [shape=(n_frames, n_bands), dtype=float64]
        state : np.ndarray [shape=(n_bands,), dtype=float64]

        Returns
        -------
        np.ndarray [shape=(n_frames, n_bands), dtype=float64]
        """
        n_frames = x.shape[0]
        if n_frames > len(self._carry):
            t = np.arange(n_frames)
            lag = t[:, None] - t[None, :]
            self._gain = np.where(lag >= 0, (1.0 - self.alpha) * self.alpha ** np.maximum(lag, 0), 0.0)
            self._carry = self.alpha ** (t + 1.0)
        return self._gain[:n_frames, :n_frames] @ x + self._carry[:n_frames, None] * state

    def __call__(self, spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features of consecutive frames of one spectrum.

        Parameters
        ----------
        spec : np.ndarray [shape=(n_frames, n_freqs), dtype=complex64]
            The spectra (for several channels, their mean).

        Returns
        -------
        feat_erb : np.ndarray [shape=(n_frames, nb_erb), dtype=float32]
            Mean-normalised ERB band powers in dB, over 40.
        feat_spec : np.ndarray [shape=(n_frames, nb_df), dtype=complex64]
            Unit-normalised lowest ``nb_df`` bins.
        """
        power = spec.real * spec.real + spec.imag * spec.imag
        band_db = np.float32(10.0) * np.log10(power @ self.band_matrix + np.float32(1e-10))
        mean = self._smooth(band_db.astype(np.float64), self.mean_state)
        self.mean_state = mean[-1]
        feat_erb = ((band_db - mean) / 40.0).astype(np.float32)

        low = spec[:, :NB_DF]
        magnitude = self._smooth(np.abs(low).astype(np.float64), self.unit_state)
        self.unit_state = magnitude[-1]
        feat_spec = (low / np.sqrt(magnitude)).astype(np.complex64)
        return feat_erb, feat_spec
