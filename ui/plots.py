"""Plotly figures of bounded size: the detail of a stretch and a strip of the whole recording (no Streamlit).

The page draws two figures: :func:`detail_figure`, the waveform and both
spectrograms of the previewed stretch on one time axis (they zoom together,
and a drag selects a time range), and on long recordings
:func:`overview_figure`, a strip of the whole recording to pick the stretch.

What reaches the browser is bounded whatever the recording's length (the data
is pooled by :mod:`ui.pooling`): two spectrogram rows of at most 1000 x 128
cells sent as uint8 codes of the level in dB with a shared colour scale (finer
than the chart's pixels at its usual size), and a waveform of at most
:data:`ui.pooling.WAVEFORM_COLUMNS` min/max columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, sequential
from plotly.subplots import make_subplots

from .pooling import (
    DB_RANGE,
    MAX_FREQ_ROWS,
    WAVEFORM_COLUMNS,
    PooledSpectrogram,
    band_power,
    envelope,
    frequency_bands,
    level_codes,
    to_db,
)

__all__ = ["FREQ_TICKS", "LOW_FREQ_HZ", "detail_figure", "overview_figure"]

# Magma as rgb() strings: Streamlit rewrites the hex colours "#000001".."#000010" anywhere in
# a figure's JSON (they are its theme placeholders), and Magma starts at "#000004".
_COLORSCALE = [[i / 9, "rgb({}, {}, {})".format(*hex_to_rgb(c))] for i, c in enumerate(sequential.Magma)]
_WINDOW_FILL = "rgba(64, 196, 255, 0.18)"
_WINDOW_LINE = "#40c4ff"

#: Frequencies labelled on the spectrograms' axis, in Hz.
FREQ_TICKS = (100, 200, 500, 1000, 2000, 5000, 10000, 20000)
#: Lowest frequency shown on the log axis, in Hz.
LOW_FREQ_HZ = 50.0


def _tick_text(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def _window_marks(
    fig: go.Figure, window_s: tuple[float, float] | None, label: str, shaded_row: int, lined_rows: Sequence[int]
) -> None:
    """The noise window: shaded behind the waveform, edges drawn on the spectrograms, label above the chart.

    Nothing is drawn over the data: the shading is below the waveform's
    traces, the spectrograms get only two thin dashed lines, and the label
    sits in the margin above the top row.
    """
    if window_s is None:
        return
    x0, x1 = float(window_s[0]), float(window_s[1])
    fig.add_vrect(x0=x0, x1=x1, fillcolor=_WINDOW_FILL, line_width=0, layer="below", row=shaded_row, col=1)
    for row in lined_rows:
        for x in (x0, x1):
            fig.add_vline(x=x, line=dict(color=_WINDOW_LINE, width=1.5, dash="dash"), layer="above", row=row, col=1)
    fig.add_annotation(
        x=0.5 * (x0 + x1),
        y=1.0,
        xref="x",
        yref="y domain",
        yanchor="bottom",
        text=label,
        showarrow=False,
        font=dict(color=_WINDOW_LINE, size=12),
    )


def _band_trace(times, low, high, name: str, color: str) -> go.Scatter:
    return go.Scatter(
        x=np.concatenate([times, times[::-1]]),
        y=np.concatenate([high, low[::-1]]),
        fill="toself",
        fillcolor=color,
        line=dict(width=0.6, color=color),
        name=name,
        hoverinfo="skip",
    )


#: Invisible markers along a waveform, for selections: each is an SVG node the browser draws on every update.
SELECT_MARKERS = 250


def _marker_trace(times: np.ndarray, high: np.ndarray) -> go.Scatter:
    """Invisible markers along the envelope: box selections fire only on traces with markers."""
    step = max(1, -(-len(times) // SELECT_MARKERS))
    return go.Scatter(
        x=times[::step],
        y=high[::step],
        mode="markers",
        marker=dict(size=6, opacity=0),
        unselected=dict(marker=dict(opacity=0)),
        selected=dict(marker=dict(opacity=0)),
        showlegend=False,
        name="time",
        hovertemplate="%{x:.2f} s<extra></extra>",
    )


def _band_axis(freqs: np.ndarray, n_rows: int, log_freq: bool) -> tuple[float, float]:
    """Centre of the first band and spacing of the bands of :func:`frequency_bands`, in axis units.

    The axis is always linear, in Hz or (``log_freq``) in log10 of Hz: Plotly
    draws a heatmap of evenly spaced rows on a linear axis as one image
    (``zsmooth="fast"``), but a rectangle per cell on a log axis, ten times slower.
    """
    bin_hz = float(freqs[1] - freqs[0]) if len(freqs) > 1 else 1.0
    if log_freq:
        low, high = np.log10(max(bin_hz / 2, 1e-3)), np.log10(float(freqs[-1]))
    else:
        low, high = -bin_hz / 2, float(freqs[-1]) + bin_hz / 2
    dy = (high - low) / n_rows
    return float(low + dy / 2), float(dy)


def _heatmap_rows(
    fig: go.Figure, before: PooledSpectrogram, after: PooledSpectrogram, rows: tuple[int, int], t0_s: float, log_freq: bool, max_rows: int
) -> None:
    """The two spectrograms as uint8 heatmaps on one colour axis, frequency axes linked and labelled in Hz."""
    starts, stops = frequency_bands(before.freqs, log_freq=log_freq, max_rows=max_rows)
    y0, dy = _band_axis(before.freqs, len(starts), log_freq)
    db_before = to_db(band_power(before.power, starts, stops))
    db_after = to_db(band_power(after.power, starts, stops))
    top_db = float(np.ceil(db_before.max() / 10.0) * 10.0)
    for row, pic, db, name in ((rows[0], before, db_before, "Original"), (rows[1], after, db_after, "Cleaned")):
        fig.add_trace(
            go.Heatmap(
                z=level_codes(db, top_db),
                x0=t0_s + pic.t0_s,
                dx=pic.dt_s,
                y0=y0,
                dy=dy,
                coloraxis="coloraxis",
                zsmooth="fast",
                name=name,
                hovertemplate="%{x:.2f} s<extra></extra>" if log_freq else "%{x:.2f} s, %{y:.0f} Hz<extra></extra>",
            ),
            row=row,
            col=1,
        )
    ticks_db = np.arange(top_db, top_db - DB_RANGE - 1, -10.0)
    nyquist = float(before.freqs[-1])
    ticks = [f for f in FREQ_TICKS if f <= nyquist]
    fig.update_layout(
        coloraxis=dict(
            colorscale=_COLORSCALE,
            cmin=0,
            cmax=255,
            colorbar=dict(
                title=dict(text="dBFS", side="top"),
                tickvals=[float(c) for c in level_codes(ticks_db, top_db)],
                ticktext=[f"{v:.0f}" for v in ticks_db],
                thickness=14,
                len=0.7,
                y=0.0,
                yanchor="bottom",
            ),
        ),
    )
    for i, row in enumerate(rows):
        fig.update_yaxes(
            type="linear",
            range=[float(np.log10(LOW_FREQ_HZ)), float(np.log10(nyquist))] if log_freq else [0.0, nyquist],
            tickvals=[float(np.log10(f)) for f in ticks] if log_freq else ticks,
            ticktext=[_tick_text(f) for f in ticks],
            title_text=f"{('Original', 'Cleaned')[i]} (Hz)",
            matches=None if i == 0 else f"y{rows[0]}",
            row=row,
            col=1,
        )


def detail_figure(
    y_before: np.ndarray,
    y_after: np.ndarray,
    sr: float,
    before: PooledSpectrogram,
    after: PooledSpectrogram,
    *,
    t0_s: float = 0.0,
    noise_window_s: tuple[float, float] | None = None,
    window_label: str = "noise sample",
    log_freq: bool = True,
    n_columns: int = WAVEFORM_COLUMNS,
    max_rows: int = MAX_FREQ_ROWS,
) -> go.Figure:
    """Waveform and spectrograms of a stretch, before and after, on one time axis.

    One figure with three rows sharing the time axis, so zooming any row zooms
    all three. A horizontal drag selects a time range (``dragmode="select"``);
    the waveform carries invisible markers so that the selection fires.

    Parameters
    ----------
    y_before, y_after : np.ndarray [shape=(n,) or (n, n_channels)]
        The original and the cleaned stretch.
    sr : float
        Sample rate in Hz.
    before, after : PooledSpectrogram
        Their spectrograms (:func:`audio_spectrogram`, same transform), times from the stretch's start.
    t0_s : float
        Time of the stretch's first sample in the recording, in seconds.
    noise_window_s : (float, float), optional
        Noise window to mark, in seconds of the recording.
    window_label : str
        Text above the mark.
    log_freq : bool
        Log frequency scale (the default: speech gets most of the height), drawn
        on a linear axis in log10 of Hz with ticks labelled in Hz.
    n_columns, max_rows : int
        Most waveform columns and spectrogram rows.

    Returns
    -------
    go.Figure
        Row 1 the waveforms (original grey, cleaned blue), rows 2 and 3 uint8 heatmaps.
    """
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.24, 0.38, 0.38]
    )
    times, low, high = envelope(y_before, sr, n_columns)
    times = times + np.float32(t0_s)
    fig.add_trace(_band_trace(times, low, high, "Original", "rgba(140, 140, 150, 0.75)"), row=1, col=1)
    after_env = envelope(y_after, sr, n_columns)
    fig.add_trace(_band_trace(times, after_env[1], after_env[2], "Cleaned", "rgba(31, 119, 180, 0.85)"), row=1, col=1)
    fig.add_trace(_marker_trace(times, high), row=1, col=1)
    _heatmap_rows(fig, before, after, (2, 3), t0_s, log_freq, max_rows)
    peak = max(float(np.max(np.abs(np.concatenate([low, high])))), 1e-3) * 1.05
    duration_s = np.asarray(y_before).shape[0] / float(sr)
    fig.update_yaxes(title_text="Level", range=[-peak, peak], fixedrange=True, showticklabels=False, row=1, col=1)
    fig.update_xaxes(range=[t0_s, t0_s + duration_s])
    fig.update_xaxes(title_text="Time (s)", row=3, col=1)
    fig.update_layout(
        height=680,
        margin=dict(l=10, r=10, t=40, b=10),
        font=dict(family="Source Sans Pro, Source Sans 3, sans-serif", size=13),
        showlegend=False,  # the caption says which colour is which; a legend would sit under the toolbar
        dragmode="select",
        selectdirection="h",
    )
    _window_marks(fig, noise_window_s, window_label, shaded_row=1, lined_rows=(2, 3))
    return fig


def overview_figure(
    whole: tuple[np.ndarray, np.ndarray, np.ndarray],
    duration_s: float,
    stretch_s: tuple[float, float],
    *,
    noise_window_s: tuple[float, float] | None = None,
) -> go.Figure:
    """A strip of the whole recording with the previewed stretch shaded; a drag picks another stretch.

    Parameters
    ----------
    whole : (times, low, high)
        :func:`envelope` of the whole recording (computed once per recording: it reads every sample).
    duration_s : float
        Length of the recording in seconds.
    stretch_s : (float, float)
        The stretch shown in detail, in seconds.
    noise_window_s : (float, float), optional
        Noise window, shaded too.
    """
    times, low, high = whole
    fig = go.Figure([_band_trace(times, low, high, "Whole recording", "rgba(140, 140, 150, 0.75)"), _marker_trace(times, high)])
    peak = max(float(np.max(np.abs(np.concatenate([low, high])))), 1e-3) * 1.05
    fig.add_vrect(
        x0=stretch_s[0], x1=stretch_s[1], fillcolor="rgba(255, 171, 64, 0.35)", line=dict(color="#ff9100", width=1.5), layer="below"
    )
    if noise_window_s is not None:
        fig.add_vrect(x0=noise_window_s[0], x1=noise_window_s[1], fillcolor=_WINDOW_FILL, line_width=0, layer="below")
    fig.update_layout(
        height=120,
        margin=dict(l=10, r=10, t=10, b=10),
        showlegend=False,
        dragmode="select",
        selectdirection="h",
        xaxis=dict(range=[0, duration_s], fixedrange=True, title_text=None),
        yaxis=dict(range=[-peak, peak], fixedrange=True, showticklabels=False),
    )
    return fig
