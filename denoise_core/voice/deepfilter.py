"""DeepFilterNet3's two enhancement stages and its attenuation limit, as the reference runtime applies them.

The network's outputs for frame ``t`` (ERB gains, deep-filter coefficients
and local SNR) enhance the spectrum of frame ``t - 2``: two frames of
lookahead. For that frame, with the C API's thresholds (upstream
``libDF/src/tract.rs``, ``DfTract::process`` and ``apply_stages``):

- local SNR below ``min_db_thresh`` (-15 dB): all bins are zeroed (a zero
  mask, no deep filter);
- above ``max_db_erb_thresh`` (35 dB): the spectrum passes unchanged;
- above ``max_db_df_thresh`` (35 dB): ERB gains only;
- otherwise (every frame in practice, as the estimate lies in [-15, 35]):
  each band's gain multiplies its bins (:func:`gains_to_bins`), then the
  lowest 96 bins are replaced by the deep filter
  ``sum(spec[t - 4 + k] * coefs[t, k] for k in range(5))`` of the *noisy*
  spectra from two frames before to two frames after.

Every channel gets the same gains and coefficients. The post-filter is off
(beta 0). The attenuation limit mixes the noisy spectrum back,
``lim * noisy + (1 - lim) * enhanced`` with ``lim = 10**(-limit_db / 20)``;
as the synthesis is linear, :func:`apply_atten_lim` does the same mix on the
aligned waveforms.

Digital silence: ``tract.rs`` counts hops whose mean square is below 1e-7
and would output zeros, with every state frozen, after more than five in a
row; but every cleaned frame resets the count (the ERB stage always runs with
the C API's thresholds), so the runtime never freezes, as it measures, and
nothing here freezes either. Only its pass-through at a 0 dB limit returns
before that reset: it then outputs zeros instead of the sixth and later
hops of such near-silence, where :func:`apply_atten_lim` returns the input
unchanged.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .features import N_FREQS, NB_DF, erb_band_index
from .network import DF_ORDER

__all__ = [
    "MAX_DB_DF_THRESH",
    "MAX_DB_ERB_THRESH",
    "MIN_DB_THRESH",
    "NO_LIMIT_DB",
    "DeepFilter",
    "apply_atten_lim",
    "atten_lim_factor",
    "gains_to_bins",
]

#: Local SNR in dB below which a frame is taken as noise only (zeroed).
MIN_DB_THRESH = -15.0
#: Local SNR in dB above which a frame is left as it is.
MAX_DB_ERB_THRESH = 35.0
#: Local SNR in dB above which the deep filter is skipped.
MAX_DB_DF_THRESH = 35.0
#: An attenuation limit of this many dB or more means no limit.
NO_LIMIT_DB = 100.0
#: Limits below this many dB pass the input through (as the reference does).
_PASS_THROUGH_DB = 0.01
#: Frames of noisy spectra the deep filter reads before the frame it enhances.
_DF_LOOKBACK = DF_ORDER - 1

_BAND_OF_BIN = erb_band_index()


def gains_to_bins(gains: np.ndarray) -> np.ndarray:
    """Spread ERB band gains over their FFT bins (each bin takes its band's gain).

    Parameters
    ----------
    gains : np.ndarray [shape=(..., 32), dtype=float32]

    Returns
    -------
    np.ndarray [shape=(..., 481), dtype=float32]
    """
    return gains[..., _BAND_OF_BIN]


class DeepFilter:
    """Both enhancement stages over a chunk of frames, carrying the noisy spectra the deep filter looks back at.

    Parameters
    ----------
    n_channels : int
        Channels enhanced alike.
    """

    def __init__(self, n_channels: int) -> None:
        self.history = np.zeros((n_channels, _DF_LOOKBACK, N_FREQS), dtype=np.complex64)

    def __call__(self, spec: np.ndarray, gains: np.ndarray, coefs: np.ndarray, lsnr_db: np.ndarray) -> np.ndarray:
        """Enhanced spectra, two frames behind the input.

        Parameters
        ----------
        spec : np.ndarray [shape=(n_channels, n_frames, n_freqs), dtype=complex64]
            Noisy spectra of frames ``t0 .. t0 + n_frames - 1``.
        gains : np.ndarray [shape=(n_frames, 32), dtype=float32]
        coefs : np.ndarray [shape=(n_frames, 96, 5), dtype=complex64]
        lsnr_db : np.ndarray [shape=(n_frames,), dtype=float32]
            The network's outputs for the same frames.

        Returns
        -------
        np.ndarray [shape=(n_channels, n_frames, n_freqs), dtype=complex64]
            Enhanced spectra of frames ``t0 - 2 .. t0 + n_frames - 3`` (zeros
            before the stream's first frame).
        """
        n_frames = spec.shape[1]
        noisy = np.concatenate([self.history, spec], axis=1)
        self.history = noisy[:, -_DF_LOOKBACK:].copy()
        lookahead = _DF_LOOKBACK // 2
        target = noisy[:, lookahead : lookahead + n_frames]

        zero_mask = lsnr_db < MIN_DB_THRESH
        apply_gains = ~zero_mask & (lsnr_db <= MAX_DB_ERB_THRESH)
        apply_df = apply_gains & (lsnr_db <= MAX_DB_DF_THRESH)
        bin_gains = np.where(apply_gains[:, None], gains_to_bins(gains), np.float32(1.0))
        bin_gains[zero_mask] = 0.0
        out = target * bin_gains

        filtered = noisy[:, 0:n_frames, :NB_DF] * coefs[:, :, 0]
        for k in range(1, DF_ORDER):
            filtered += noisy[:, k : k + n_frames, :NB_DF] * coefs[:, :, k]
        out[:, :, :NB_DF] = np.where(apply_df[:, None], filtered, out[:, :, :NB_DF])
        return out


def atten_lim_factor(atten_lim_db: float) -> float:
    """The share of noisy signal that an attenuation limit mixes back.

    Parameters
    ----------
    atten_lim_db : float
        Most attenuation allowed, in dB (>= 0). :data:`NO_LIMIT_DB` (100) or
        more: no limit; below 0.01: the input passes through.

    Returns
    -------
    float
        ``10**(-atten_lim_db / 20)``, 0 for no limit, 1 for pass-through.

    Raises
    ------
    ParameterError
        If ``atten_lim_db`` is negative or not a finite number.
    """
    if isinstance(atten_lim_db, bool) or not isinstance(atten_lim_db, (int, float, np.integer, np.floating)):
        raise ParameterError(f"atten_lim_db must be a number of dB, got {atten_lim_db!r}.")
    if not np.isfinite(atten_lim_db) or atten_lim_db < 0:
        raise ParameterError(f"atten_lim_db is {atten_lim_db!r}; it must be a finite number of dB >= 0.")
    if atten_lim_db >= NO_LIMIT_DB:
        return 0.0
    if atten_lim_db < _PASS_THROUGH_DB:
        return 1.0
    return float(np.float32(10.0) ** np.float32(-atten_lim_db / 20.0))


def apply_atten_lim(y: np.ndarray, y_enh: np.ndarray, atten_lim_db: float) -> np.ndarray:
    """The output at an attenuation limit, from the input and the unlimited output.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n), dtype=float32]
        The noisy input.
    y_enh : np.ndarray [shape=(..., n), dtype=float32]
        The enhanced output with no limit, aligned with ``y`` sample for sample.
    atten_lim_db : float
        Most attenuation allowed, in dB (see :func:`atten_lim_factor`): 0
        gives ``y``, 100 or more gives ``y_enh``.

    Returns
    -------
    np.ndarray [shape=(..., n), dtype=float32]
        ``lim * y + (1 - lim) * y_enh``, as the reference mixes its spectra.
    """
    lim = np.float32(atten_lim_factor(atten_lim_db))
    y = np.asarray(y, dtype=np.float32)
    y_enh = np.asarray(y_enh, dtype=np.float32)
    if y.shape != y_enh.shape:
        raise ParameterError(f"y has shape {y.shape} and y_enh {y_enh.shape}; they must match.")
    if lim == 0:
        return y_enh.copy()
    if lim == 1:
        return y.copy()
    out = y_enh * (np.float32(1.0) - lim)
    out += lim * y
    return out
