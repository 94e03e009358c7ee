"""Audio and spectrograms pooled to a size a chart can show, whatever the recording's length (no Plotly, no Streamlit).

* :func:`audio_spectrogram` transforms and max-pools a recording's STFT a
  chunk of frames at a time, so a picture of 30 minutes needs some tens of MB
  rather than the 692 MB spectrogram, and keeps at most
  :data:`MAX_TIME_COLUMNS` columns (so short sounds stay visible);
* :func:`frequency_bands` averages bins into at most :data:`MAX_FREQ_ROWS`
  bands, and :func:`level_codes` quantises levels in dB to uint8;
* :func:`envelope` reduces a waveform to a min/max pair per column, at most
  :data:`WAVEFORM_COLUMNS` of them.

:mod:`ui.plots` draws figures from these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DB_RANGE",
    "MAX_FREQ_ROWS",
    "MAX_TIME_COLUMNS",
    "WAVEFORM_COLUMNS",
    "PooledSpectrogram",
    "audio_spectrogram",
    "band_power",
    "envelope",
    "frequency_bands",
    "level_codes",
    "to_db",
]

#: Most spectrogram columns (time) sent to the browser, per row.
MAX_TIME_COLUMNS = 1000
#: Most spectrogram rows (frequency) sent to the browser, per row (a row of the chart is about 200 pixels high).
MAX_FREQ_ROWS = 128
#: Columns of a waveform's min/max envelope (the detail; the overview strip has half as many).
WAVEFORM_COLUMNS = 2000
#: Span of the colour scale in dB, down from the loudest cell of the input.
DB_RANGE = 90.0
#: STFT values (frames x bins x channels) transformed and pooled at once: bounds the
#: temporary memory of a picture to some tens of MB whatever the recording's length.
_CHUNK_VALUES = 500_000


@dataclass(frozen=True)
class PooledSpectrogram:
    """A spectrogram reduced over time for display.

    Attributes
    ----------
    power : np.ndarray [shape=(n_freqs, n_columns), dtype=float32]
        Power relative to a full-scale sine (1.0 = 0 dBFS), averaged over
        channels and max-pooled over groups of frames.
    freqs : np.ndarray [shape=(n_freqs,)]
        Frequency of each bin in Hz.
    t0_s, dt_s : float
        Centre time of the first column and spacing of columns, in seconds.
    """

    power: np.ndarray
    freqs: np.ndarray
    t0_s: float
    dt_s: float

    @property
    def n_columns(self) -> int:
        """Number of time columns."""
        return int(self.power.shape[1])


def _pool(
    frame_power: Callable[[int, int], np.ndarray], n_frames: int, values_per_frame: int, config, max_columns: int
) -> PooledSpectrogram:
    """Max-pool frame powers into at most ``max_columns`` columns, a bounded chunk of frames at a time.

    ``frame_power(f0, f1)`` gives the channel-averaged power ``(n_freqs, f1 - f0)``
    of frames ``f0`` to ``f1``; it is asked for whole groups of frames, at most
    about :data:`_CHUNK_VALUES` / ``values_per_frame`` frames at once.
    """
    n_freqs = config.n_freqs
    group = max(1, -(-n_frames // max_columns))
    n_columns = -(-n_frames // group)
    taper = config.taper
    ref = (float(np.sum(taper)) / 2.0) ** 2  # power of a full-scale sine
    out = np.empty((n_freqs, n_columns), dtype=np.float32)
    step = max(1, _CHUNK_VALUES // (values_per_frame * group))  # columns per chunk
    for c0 in range(0, n_columns, step):
        c1 = min(n_columns, c0 + step)
        f0, f1 = c0 * group, min(n_frames, c1 * group)
        power = frame_power(f0, f1)
        missing = (c1 - c0) * group - (f1 - f0)
        if missing:
            power = np.concatenate([power, np.repeat(power[:, -1:], missing, axis=1)], axis=1)
        out[:, c0:c1] = power.reshape(n_freqs, c1 - c0, group).max(axis=2)
    out /= np.float32(ref)
    frame_s = config.hop_s
    return PooledSpectrogram(
        power=out,
        freqs=config.frequencies,
        t0_s=(group - 1) / 2.0 * frame_s,
        dt_s=group * frame_s,
    )


def audio_spectrogram(y: np.ndarray, config, *, max_columns: int = MAX_TIME_COLUMNS) -> PooledSpectrogram:
    """The spectrogram of a recording reduced for display, computed chunk by chunk from the samples.

    Equal (to float rounding) to the channel-averaged power of
    ``config.stft(channels)``, max-pooled over groups of frames, but the whole
    STFT never exists: each chunk of frames is transformed from its own
    stretch of samples and pooled at once, so the temporary memory stays at
    some tens of MB whatever the length.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels), dtype=float32]
        Samples in soundfile's layout (full scale 1.0).
    config : StftConfig
        The transform and its sample rate (frame ``t`` is centred on sample
        ``t * hop_length``, zeros outside the recording, as :meth:`StftConfig.stft`).
    max_columns : int
        Most time columns; groups of frames are max-pooled.

    Returns
    -------
    PooledSpectrogram
    """
    y2 = np.asarray(y).reshape(np.shape(y)[0], -1)
    n, n_channels = y2.shape
    hop, n_fft, pad = config.hop_length, config.n_fft, config.n_fft // 2

    def frame_power(f0: int, f1: int) -> np.ndarray:
        # Frame t covers samples t * hop - pad to t * hop - pad + n_fft (zeros outside the recording).
        first = f0 * hop - pad
        length = (f1 - f0 - 1) * hop + n_fft
        samples = np.zeros((n_channels, length), dtype=np.float32)
        a, b = max(first, 0), min(first + length, n)
        if b > a:
            samples[:, a - first : b - first] = y2[a:b].T
        spec = config.frame_spectra(samples, f1 - f0)
        return (spec.real**2 + spec.imag**2).mean(axis=0)

    return _pool(frame_power, config.n_frames(n), n_channels * config.n_freqs, config, max_columns)


def frequency_bands(
    freqs: np.ndarray, *, log_freq: bool, max_rows: int = MAX_FREQ_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """Bands of STFT bins to average for display.

    Parameters
    ----------
    freqs : np.ndarray [shape=(n_freqs,)]
        Bin frequencies in Hz, ascending from 0.
    log_freq : bool
        Log-spaced bands (from the first non-zero bin) instead of equal ones.
    max_rows : int
        Most bands.

    Returns
    -------
    starts, stops : np.ndarray [shape=(n_rows,), dtype=int]
        Band ``i`` averages bins ``starts[i]:stops[i]`` (never empty; a band
        narrower than one bin repeats its nearest bin).
    """
    n = len(freqs)
    if not log_freq:
        edges = np.unique(np.round(np.linspace(0, n, min(n, max_rows) + 1)).astype(int))
        return edges[:-1], edges[1:]
    lo = freqs[1] if n > 1 else 1.0
    nyquist = freqs[-1]
    bin_hz = lo
    edges_hz = np.geomspace(lo - bin_hz / 2, nyquist, min(max_rows, n - 1) + 1)
    starts = np.searchsorted(freqs, edges_hz[:-1], side="left")
    stops = np.searchsorted(freqs, edges_hz[1:], side="left")
    centres = np.sqrt(edges_hz[:-1] * edges_hz[1:])
    nearest = np.clip(np.round(centres / bin_hz).astype(int), 1, n - 1)
    empty = stops <= starts
    starts = np.where(empty, nearest, starts)
    stops = np.where(empty, nearest + 1, stops)
    stops[-1] = n
    return starts, stops


def band_power(power: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Mean power of each band of :func:`frequency_bands` (rows ``starts[i]:stops[i]`` of ``power``)."""
    csum = np.concatenate([np.zeros((1, power.shape[1])), np.cumsum(power, axis=0, dtype=np.float64)])
    return ((csum[stops] - csum[starts]) / (stops - starts)[:, None]).astype(np.float32)


def level_codes(db: np.ndarray, top_db: float, range_db: float = DB_RANGE) -> np.ndarray:
    """Quantise levels in dB to uint8 codes: 0 is ``top_db - range_db`` or below, 255 is ``top_db``."""
    codes = np.round((np.asarray(db, dtype=np.float32) - (top_db - range_db)) * (255.0 / range_db))
    return np.clip(codes, 0, 255).astype(np.uint8)


def to_db(power: np.ndarray) -> np.ndarray:
    """Power to dB (1.0 is 0 dB), floored at -200 dB."""
    return 10.0 * np.log10(np.maximum(power, 1e-20))


def envelope(y: np.ndarray, sr: float, n_columns: int = WAVEFORM_COLUMNS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max envelope of a waveform, one pair per column.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (n, n_channels)]
        Samples; channels are merged (lowest and highest of all).
    sr : float
        Sample rate in Hz.
    n_columns : int
        Most columns.

    Returns
    -------
    times, low, high : np.ndarray [shape=(m,), dtype=float32], m <= n_columns
        Centre time in seconds and the lowest and highest sample of each column.
    """
    y = np.asarray(y)
    y2 = y.reshape(y.shape[0], -1)
    n = y2.shape[0]
    group = max(1, -(-n // n_columns))
    full = n // group
    lows, highs = [], []
    if full:
        body = y2[: full * group].reshape(full, group * y2.shape[1])
        lows.append(body.min(axis=1))
        highs.append(body.max(axis=1))
    if full * group < n:
        tail = y2[full * group :]
        lows.append(tail.min(keepdims=True).ravel())
        highs.append(tail.max(keepdims=True).ravel())
    low = np.concatenate(lows).astype(np.float32)
    high = np.concatenate(highs).astype(np.float32)
    times = ((np.arange(len(low)) * group + (group - 1) / 2.0) / float(sr)).astype(np.float32)
    return times, low, high
