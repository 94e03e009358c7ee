"""The app's figures: bounded in size whatever the length, and drawn where the sound is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

from spectra import pool_spectrogram

from denoise_core import StftConfig
from ui.plots import (
    DB_RANGE,
    MAX_FREQ_ROWS,
    MAX_TIME_COLUMNS,
    WAVEFORM_COLUMNS,
    envelope,
    frequency_bands,
    heatmap_cells,
    level_codes,
    spectrogram_figure,
    waveform_figure,
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


@pytest.mark.parametrize("log_freq", [False, True])
def test_thirty_minute_spectrogram_is_under_the_cell_cap(log_freq):
    spec, config = _long_spec(30 * 60, 48_000)
    before = pool_spectrogram(spec, config)
    gain = np.broadcast_to(np.float32(0.5), spec.shape)
    after = pool_spectrogram(spec, config, gain=gain)
    fig = spectrogram_figure(before, after, noise_window_s=(10.0, 10.5), log_freq=log_freq)
    cells = heatmap_cells(fig)
    assert cells <= 2 * MAX_TIME_COLUMNS * MAX_FREQ_ROWS
    assert cells < CELL_CAP
    assert len(fig.to_json()) < 2_500_000


def test_short_spectrogram_keeps_every_frame():
    spec, config = _long_spec(3.0, 48_000)
    pooled = pool_spectrogram(spec, config)
    assert pooled.n_columns == spec.shape[-1]
    assert pooled.dt_s == pytest.approx(config.hop_length / 48_000)


def test_figure_has_two_linked_uint8_heatmaps_and_marks_the_window():
    spec, config = _long_spec(5.0, 16_000)
    pooled = pool_spectrogram(spec, config)
    fig = spectrogram_figure(pooled, pooled, noise_window_s=(1.0, 1.5))
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2
    assert all(np.asarray(h.z).dtype == np.uint8 for h in heatmaps)
    assert heatmaps[0].coloraxis == heatmaps[1].coloraxis == "coloraxis"
    layout = fig.layout
    assert layout.xaxis.matches == "x2"  # shared_xaxes: both rows zoom in time together
    assert layout.yaxis2.matches == "y"  # and in frequency
    windows = [(s.x0, s.x1) for s in layout.shapes]
    assert windows == [(1.0, 1.5), (1.0, 1.5)]
    spec_json = json.loads(fig.to_json())
    assert spec_json["data"][0]["z"]["dtype"] == "u1"  # sent as a typed array, not a list of numbers


def test_log_axis_is_positive_and_labelled_in_hz():
    spec, config = _long_spec(2.0, 48_000)
    pooled = pool_spectrogram(spec, config)
    fig = spectrogram_figure(pooled, pooled, log_freq=True)
    assert fig.layout.yaxis.type == "log"
    assert np.min(fig.data[0].y) > 0
    assert np.max(fig.data[0].y) <= 24_000
    assert "Hz" in fig.layout.yaxis.title.text


def test_colour_scale_avoids_streamlit_placeholder_colours():
    spec, config = _long_spec(1.0, 16_000)
    pooled = pool_spectrogram(spec, config)
    text = spectrogram_figure(pooled, pooled).to_json().lower()
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


def test_waveform_figure_is_bounded_and_shades_the_window(rng):
    sr = 8_000
    y = (0.1 * rng.standard_normal(10 * 60 * sr)).astype(np.float32)
    fig = waveform_figure(y, 0.5 * y, sr, noise_window_s=(2.0, 2.5))
    assert len(fig.data) == 2
    assert all(len(trace.x) <= 2 * WAVEFORM_COLUMNS for trace in fig.data)
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(2.0, 2.5)]
    assert fig.layout.yaxis.range[1] < 1.0  # scaled to the recording's peak, not to full scale
    assert len(waveform_figure(y, None, sr).data) == 1


@pytest.mark.parametrize(
    "n, channels, sr, max_columns",
    [(16_000 * 7 + 123, 1, 16_000, 50), (48_000 * 2 + 7, 2, 48_000, 1000), (1, 1, 8_000, 1000), (300, 3, 8_000, 7)],
)
def test_picture_from_the_audio_equals_pooling_the_whole_stft(rng, n, channels, sr, max_columns, monkeypatch):
    import ui.plots as plots

    monkeypatch.setattr(plots, "_CHUNK_VALUES", 20_000)  # many chunks, with groups cut at their edges
    y = (0.1 * rng.standard_normal((n, channels))).astype(np.float32)
    y = y[:, 0] if channels == 1 else y
    config = StftConfig.for_sr(sr)
    whole = pool_spectrogram(config.stft(y.reshape(n, -1).T), config, max_columns=max_columns)
    chunked = plots.audio_spectrogram(y, config, max_columns=max_columns)
    assert chunked.power.shape == whole.power.shape
    np.testing.assert_allclose(chunked.power, whole.power, rtol=1e-5, atol=1e-12)
    assert (chunked.t0_s, chunked.dt_s) == (whole.t0_s, whole.dt_s)
    np.testing.assert_array_equal(chunked.freqs, whole.freqs)


def test_picture_of_a_long_recording_needs_little_memory():
    import tracemalloc

    from ui.plots import audio_spectrogram

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
