"""The app's figures: bounded in size whatever the length, and drawn where the sound is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

from spectra import pool_spectrogram

from denoise_core import StftConfig
from ui.plots import FREQ_TICKS, detail_figure, overview_figure
from ui.pooling import (
    DB_RANGE,
    MAX_FREQ_ROWS,
    MAX_TIME_COLUMNS,
    WAVEFORM_COLUMNS,
    envelope,
    frequency_bands,
    level_codes,
)

#: What the issue allows the two spectrograms together to send.
CELL_CAP = 2_000_000


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _long_spec(duration_s: float, sr: int):
    """A zero-copy stand-in for the STFT of a long recording (only its shape matters)."""
    config = StftConfig.for_sr(sr)
    n_frames = config.n_frames(int(duration_s * sr))
    spec = np.broadcast_to(np.complex64(0.01 + 0.01j), (1, config.n_freqs, n_frames))
    return spec, config


def _detail(before, after, **kwargs):
    """A detail figure of two pooled pictures over a 2-second stretch of quiet noise."""
    y = np.full(2 * 16_000, 0.01, np.float32)
    return detail_figure(y, 0.5 * y, 16_000, before, after, **kwargs)


@pytest.mark.parametrize("log_freq", [False, True])
def test_thirty_minute_spectrogram_is_under_the_cell_cap(log_freq):
    spec, config = _long_spec(30 * 60, 48_000)
    before = pool_spectrogram(spec, config)
    gain = np.broadcast_to(np.float32(0.5), spec.shape)
    after = pool_spectrogram(spec, config, gain=gain)
    fig = _detail(before, after, noise_window_s=(10.0, 10.5), log_freq=log_freq)
    cells = sum(np.asarray(trace.z).size for trace in fig.data if trace.type == "heatmap")
    assert cells <= 2 * MAX_TIME_COLUMNS * MAX_FREQ_ROWS
    assert cells < CELL_CAP
    assert len(fig.to_json()) < 2_500_000


def test_short_spectrogram_keeps_every_frame():
    spec, config = _long_spec(3.0, 48_000)
    pooled = pool_spectrogram(spec, config)
    assert pooled.n_columns == spec.shape[-1]
    assert pooled.dt_s == pytest.approx(config.hop_length / 48_000)


def test_waveform_and_spectrograms_share_one_time_axis_and_the_window_covers_no_data():
    spec, config = _long_spec(5.0, 16_000)
    pooled = pool_spectrogram(spec, config)
    fig = _detail(pooled, pooled, t0_s=3.0, noise_window_s=(3.5, 4.0))
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2
    assert all(np.asarray(h.z).dtype == np.uint8 for h in heatmaps)
    assert heatmaps[0].coloraxis == heatmaps[1].coloraxis == "coloraxis"
    assert heatmaps[0].x0 == pytest.approx(3.0 + pooled.t0_s)  # times of the recording, not of the stretch
    layout = fig.layout
    # shared_xaxes: waveform and both spectrograms zoom in time together; the spectrograms in frequency too.
    assert layout.xaxis.matches == layout.xaxis2.matches == "x3"
    assert layout.yaxis3.matches == "y2"
    assert list(layout.xaxis.range) == [3.0, 5.0]
    # A drag selects a time range on the waveform, whose markers make the selection fire.
    assert layout.dragmode == "select" and layout.selectdirection == "h"
    (markers,) = [t for t in fig.data if t.type == "scatter" and t.mode == "markers"]
    assert markers.x[0] >= 3.0 and markers.marker.opacity == 0
    # The window: shaded below the waveform's traces, only dashed edges on the spectrograms, its label above.
    shaded = [s for s in layout.shapes if s.type == "rect"]
    edges = [s for s in layout.shapes if s.type == "line"]
    assert [(s.x0, s.x1, s.layer, s.yref) for s in shaded] == [(3.5, 4.0, "below", "y domain")]
    assert sorted((s.x0, s.yref) for s in edges) == [(3.5, "y2 domain"), (3.5, "y3 domain"), (4.0, "y2 domain"), (4.0, "y3 domain")]
    (label,) = layout.annotations
    assert (label.text, label.yref, label.y, label.yanchor) == ("noise sample", "y domain", 1.0, "bottom")
    spec_json = json.loads(fig.to_json())
    heatmap_json = [t for t in spec_json["data"] if t["type"] == "heatmap"]
    assert heatmap_json[0]["z"]["dtype"] == "u1"  # sent as a typed array, not a list of numbers


def test_log_scale_is_the_default_labelled_100_hz_to_20_khz_and_drawn_as_one_image():
    spec, config = _long_spec(2.0, 48_000)
    pooled = pool_spectrogram(spec, config)
    fig = _detail(pooled, pooled)
    axis = fig.layout.yaxis2
    # A linear axis in log10(Hz): Plotly draws evenly spaced rows there as one image ("fast"),
    # where a log axis would make it draw a rectangle per cell.
    assert axis.type == "linear"
    assert list(axis.ticktext) == ["100", "200", "500", "1k", "2k", "5k", "10k", "20k"]
    np.testing.assert_allclose(axis.tickvals, np.log10(FREQ_TICKS))
    np.testing.assert_allclose(axis.range, np.log10([50.0, 24_000.0]))
    heatmap = next(t for t in fig.data if t.type == "heatmap")
    assert heatmap.zsmooth == "fast"
    n_rows = np.asarray(heatmap.z).shape[0]
    top = heatmap.y0 + (n_rows - 0.5) * heatmap.dy  # the upper edge of the top row is the Nyquist frequency
    assert 10**top == pytest.approx(24_000, rel=1e-6)
    assert 10 ** (heatmap.y0 - 0.5 * heatmap.dy) == pytest.approx(config.sr / config.n_fft / 2, rel=1e-6)
    assert "Hz" in axis.title.text
    linear = _detail(pooled, pooled, log_freq=False).layout.yaxis2
    assert list(linear.range) == [0.0, 24_000.0] and list(linear.tickvals) == list(FREQ_TICKS)
    # At 16 kHz the axis ends at 8 kHz: no tick beyond it.
    spec16, config16 = _long_spec(2.0, 16_000)
    pooled16 = pool_spectrogram(spec16, config16)
    assert list(_detail(pooled16, pooled16).layout.yaxis2.ticktext) == ["100", "200", "500", "1k", "2k", "5k"]


def test_colour_scale_avoids_streamlit_placeholder_colours():
    spec, config = _long_spec(1.0, 16_000)
    pooled = pool_spectrogram(spec, config)
    fig = _detail(pooled, pooled)
    fig.layout.template = None  # Streamlit's own template (the default once streamlit is imported) uses them on purpose
    text = fig.to_json().lower()
    assert "magma" not in text and "rgb(" in text  # the scale is spelled out as rgb() strings
    for i in range(1, 17):
        assert f"#{i:06x}" not in text


def test_pooling_keeps_a_tone_at_its_frequency_and_a_click_at_its_time():
    sr = 16_000
    t = np.arange(60 * sr) / sr
    y = 0.01 * np.sin(2 * np.pi * 1000.0 * t)
    y[int(37.3 * sr)] = 0.9  # a single click; max-pooling over time must not lose it
    config = StftConfig.for_sr(sr)
    pooled = pool_spectrogram(config.stft(y[None, :]), config, max_columns=300)
    assert pooled.n_columns <= 300
    assert pooled.freqs[np.argmax(pooled.power[:, 5])] == pytest.approx(1000.0, abs=sr / config.n_fft)
    high_band = pooled.power[pooled.freqs > 4000].mean(axis=0)
    click_column = int(np.argmax(high_band))
    assert pooled.t0_s + click_column * pooled.dt_s == pytest.approx(37.3, abs=pooled.dt_s)


def test_levels_are_relative_to_a_full_scale_sine():
    sr = 16_000
    t = np.arange(sr) / sr
    config = StftConfig.for_sr(sr)
    pooled = pool_spectrogram(config.stft(np.sin(2 * np.pi * 1000.0 * t)[None, :]), config)
    peak_db = 10 * np.log10(pooled.power[:, pooled.n_columns // 2].max())
    assert peak_db == pytest.approx(0.0, abs=1.5)


def test_gain_darkens_the_result():
    spec, config = _long_spec(2.0, 16_000)
    before = pool_spectrogram(spec, config)
    after = pool_spectrogram(spec, config, gain=np.broadcast_to(np.float32(0.1), spec.shape))
    np.testing.assert_allclose(after.power, before.power * 0.01, rtol=1e-4)


@pytest.mark.parametrize("log_freq", [False, True])
def test_frequency_bands_cover_the_spectrum_without_empty_bands(log_freq):
    freqs = StftConfig.for_sr(48_000, n_fft=4096).frequencies
    starts, stops = frequency_bands(freqs, log_freq=log_freq, max_rows=200)
    assert len(starts) <= 200
    assert np.all(stops > starts)
    assert stops[-1] == len(freqs)
    assert np.all(np.diff(starts) >= 0)


def test_level_codes_span_the_range():
    codes = level_codes(np.array([-200.0, -100.0, -55.0, -10.0, 5.0]), top_db=-10.0)
    assert codes.dtype == np.uint8
    assert codes.tolist() == [0, 0, round(45 / DB_RANGE * 255), 255, 255]


def test_thirty_minute_envelope_is_bounded_and_exact(rng):
    sr = 8_000
    y = (0.01 * rng.standard_normal(30 * 60 * sr)).astype(np.float32)
    y[1234567] = 0.75
    y[7654321] = -0.6
    times, low, high = envelope(y, sr)
    assert len(times) == len(low) == len(high) <= WAVEFORM_COLUMNS
    assert high.max() == pytest.approx(0.75)
    assert low.min() == pytest.approx(-0.6)
    assert times[int(np.argmax(high))] == pytest.approx(1234567 / sr, abs=30 * 60 / WAVEFORM_COLUMNS)
    assert times[-1] <= 30 * 60


def test_envelope_of_a_short_clip_is_the_clip_and_merges_channels():
    y = np.array([[0.1, -0.2], [0.3, 0.0], [-0.5, 0.4]], dtype=np.float32)
    times, low, high = envelope(y, 10, n_columns=100)
    np.testing.assert_allclose(low, [-0.2, 0.0, -0.5])
    np.testing.assert_allclose(high, [0.1, 0.3, 0.4])
    np.testing.assert_allclose(times, [0.0, 0.1, 0.2])


def test_overview_of_ten_minutes_is_bounded_and_shades_the_stretch(rng):
    sr = 8_000
    y = (0.1 * rng.standard_normal(10 * 60 * sr)).astype(np.float32)
    fig = overview_figure(envelope(y, sr, WAVEFORM_COLUMNS // 2), 600.0, (120.0, 145.0), noise_window_s=(2.0, 2.5))
    assert all(len(trace.x) <= 2 * WAVEFORM_COLUMNS for trace in fig.data)
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(120.0, 145.0), (2.0, 2.5)]
    assert all(s.layer == "below" for s in fig.layout.shapes)
    assert fig.layout.yaxis.range[1] < 1.0  # scaled to the recording's peak, not to full scale
    assert list(fig.layout.xaxis.range) == [0, 600.0] and fig.layout.xaxis.fixedrange
    assert fig.layout.dragmode == "select"
    assert any(t.mode == "markers" for t in fig.data)


@pytest.mark.parametrize(
    "n, channels, sr, max_columns",
    [(16_000 * 7 + 123, 1, 16_000, 50), (48_000 * 2 + 7, 2, 48_000, 1000), (1, 1, 8_000, 1000), (300, 3, 8_000, 7)],
)
def test_picture_from_the_audio_equals_pooling_the_whole_stft(rng, n, channels, sr, max_columns, monkeypatch):
    import ui.pooling as pooling

    monkeypatch.setattr(pooling, "_CHUNK_VALUES", 20_000)  # many chunks, with groups cut at their edges
    y = (0.1 * rng.standard_normal((n, channels))).astype(np.float32)
    y = y[:, 0] if channels == 1 else y
    config = StftConfig.for_sr(sr)
    whole = pool_spectrogram(config.stft(y.reshape(n, -1).T), config, max_columns=max_columns)
    chunked = pooling.audio_spectrogram(y, config, max_columns=max_columns)
    assert chunked.power.shape == whole.power.shape
    np.testing.assert_allclose(chunked.power, whole.power, rtol=1e-5, atol=1e-12)
    assert (chunked.t0_s, chunked.dt_s) == (whole.t0_s, whole.dt_s)
    np.testing.assert_array_equal(chunked.freqs, whole.freqs)


def test_picture_of_a_long_recording_needs_little_memory():
    import tracemalloc

    from ui.pooling import audio_spectrogram

    sr = 48_000
    y = np.full(10 * 60 * sr, 0.01, dtype=np.float32)  # 10 minutes: its STFT would be 230 MB
    config = StftConfig.for_sr(sr)
    tracemalloc.start()
    try:
        pooled = audio_spectrogram(y, config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pooled.n_columns <= MAX_TIME_COLUMNS
    assert peak < 40e6, f"{peak / 1e6:.0f} MB"
