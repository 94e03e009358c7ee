"""The app's whole-recording cleaning: the engine's numbers, block by block, with progress and bounded memory."""

from __future__ import annotations

import io
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent

from denoise_core import DenoiseParams, NoiseWindowError, StftConfig, denoise
from ui import processing
from ui.loading import decode


def _recording(y: np.ndarray, sr: int, subtype: str = "FLOAT"):
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format="WAV", subtype=subtype)
    return decode(buffer.getvalue(), "take.wav")


def _speechy(sr: int, seconds: float, channels: int = 1, peak: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(5)
    t = np.arange(int(seconds * sr)) / sr
    voice = np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 1.3 * t) > 0.2)
    y = voice[:, None] + 0.05 * rng.standard_normal((len(t), channels))
    y *= peak / np.abs(y).max()
    return (y[:, 0] if channels == 1 else y).astype(np.float32)


@pytest.mark.parametrize(
    "sr, channels, peak, n_fft, window",
    [
        (16_000, 1, 0.5, None, None),
        (48_000, 2, 0.5, None, (0.1, 0.6)),
        (16_000, 1, 3.0, 1024, None),  # a float file above full scale: the engine's scaling
        (8_000, 3, 0.9, 256, (1.0, 1.5)),
    ],
)
def test_same_numbers_as_the_engine(sr, channels, peak, n_fft, window):
    rec = _recording(_speechy(sr, 3.0, channels, peak), sr)
    params = DenoiseParams(reduction_db=25.0, noise_window=window, n_fft=n_fft)
    analysed = processing.run_analysis(rec, params)
    assert analysed.config == StftConfig.for_sr(sr, n_fft)
    cleaned = processing.run_cleaning(rec, analysed, params)
    expected, expected_report = denoise(rec.y, sr, noise_window=window, n_fft=n_fft, reduction_db=25.0, return_report=True)
    assert cleaned.audio.shape == rec.y.shape and cleaned.audio.dtype == np.float32
    np.testing.assert_array_equal(cleaned.audio, expected)
    assert cleaned.report == expected_report
    assert not cleaned.audio.flags.writeable  # shared through the cache


def test_bad_window_is_the_engines_plain_message():
    rec = _recording(_speechy(16_000, 2.0), 16_000)
    analysed = processing.run_analysis(rec, DenoiseParams())
    with pytest.raises(NoiseWindowError, match="after the end of the recording"):
        processing.run_cleaning(rec, analysed, DenoiseParams(noise_window=(1.5, 2.5)))


def test_cleaning_reports_its_progress_in_order_up_to_the_end():
    sr = 16_000
    rec = _recording(_speechy(sr, 4.0, channels=2), sr)
    analysed = processing.run_analysis(rec, DenoiseParams())
    assert analysed.auto_noise.method == "quietest stretch"
    steps = []
    cleaned = processing.run_cleaning(rec, analysed, DenoiseParams(), progress=lambda f, text: steps.append(f))
    assert len(steps) >= 2 and steps == sorted(steps) and steps[-1] == 1.0
    assert cleaned.audio.shape == rec.y.shape
    assert cleaned.seconds > 0


def test_cleaning_a_long_recording_needs_little_memory_beyond_input_and_output():
    """Five minutes of 48 kHz audio: the old whole-STFT analysis held 115 MB of spectrogram
    plus as much again in power and gain arrays; now only the result (58 MB) is new."""
    sr = 48_000
    y = np.tile(_speechy(sr, 3.0, peak=0.3), 100)  # 5 minutes
    rec = _recording(y, sr)
    output_bytes = rec.y.nbytes
    tracemalloc.start()
    try:
        analysed = processing.run_analysis(rec, DenoiseParams())
        _, analysis_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        cleaned = processing.run_cleaning(rec, analysed, DenoiseParams(noise_window=(1.0, 1.4)))
        _, cleaning_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert cleaned.audio.shape == rec.y.shape
    print(f"\nanalysis peak {analysis_peak / 1e6:.0f} MB, cleaning peak {(cleaning_peak - output_bytes) / 1e6:.0f} MB beyond the output")
    assert analysis_peak < 60e6, f"analysis peak {analysis_peak / 1e6:.0f} MB"
    assert cleaning_peak - output_bytes < 60e6, f"cleaning peak {cleaning_peak / 1e6:.0f} MB beyond the output"


@pytest.fixture
def fresh_budget(monkeypatch):
    """An empty store of 100 MB and a runner of their own for this test (no Streamlit session: "local")."""
    from ui import budget
    from ui.jobs import JobRunner
    from ui.store import MB, MemoryStore

    store = MemoryStore(100 * MB)
    monkeypatch.setattr(budget, "STORE", store)
    monkeypatch.setattr(budget, "RUNNER", JobRunner(long_workers=1, short_workers=1))
    return budget


def test_a_result_is_cleaned_once_and_kept_for_the_page_that_shows_it(fresh_budget, monkeypatch):
    rec = _recording(_speechy(16_000, 2.0), 16_000)
    analysed = processing.analyse_recording(rec.digest, rec, DenoiseParams())
    cleaning = processing.Cleaning(rec, analysed, DenoiseParams())
    steps = []
    first = processing.clean_recording(cleaning, lambda f, text: steps.append((f, text)))
    again = processing.clean_recording(cleaning, lambda f, text: steps.append((f, text)))  # e.g. the log-frequency switch
    assert again is first and fresh_budget.RUNNER.started == 1
    fractions = [f for f, _ in steps]  # polled while it runs, told only on the first call
    assert fractions == sorted(fractions) and all(0.0 <= f <= 1.0 for f in fractions)
    store = fresh_budget.STORE
    assert store.pinned("local", "result") == ("result", *cleaning.key)
    # The result is counted with the room for one download of it, beside the analysis.
    counted = first.audio.nbytes + fresh_budget.download_bytes(first.audio.nbytes) + analysed.auto_noise.power.nbytes
    assert store.used == counted
    # The download is encoded from that result in the room kept with it: nothing is cleaned again,
    # nothing more is reserved; a second format while Streamlit keeps the first is counted on its own.
    data = processing.download(cleaning, "WAV", "PCM_16")()
    assert sf.info(io.BytesIO(data)).frames == rec.n_samples and fresh_budget.RUNNER.started == 1
    assert store.reserved == 0
    flac = processing.download(cleaning, "FLAC", "PCM_16")()
    assert sf.info(io.BytesIO(flac)).frames == rec.n_samples and store.reserved == len(flac)
    # New settings: while they are cleaned, the result shown before is no longer held for this page.
    other = processing.Cleaning(rec, analysed, DenoiseParams(threshold_db=6.0))
    seen = []
    real = processing.run_cleaning

    def watched(*args, **kwargs):
        seen.append(store.pinned("local", "result"))
        return real(*args, **kwargs)

    monkeypatch.setattr(processing, "run_cleaning", watched)
    processing.clean_recording(other)
    assert seen == [None] and store.pinned("local", "result") == ("result", *other.key)


def test_a_cleaning_that_does_not_fit_says_the_server_is_busy(fresh_budget):
    rec = _recording(_speechy(48_000, 60.0), 48_000)  # 11 MB, so a cleaning reserves about 62 MB
    analysed = processing.run_analysis(rec, DenoiseParams())
    cleaning = processing.Cleaning(rec, analysed, DenoiseParams())
    with fresh_budget.reserve(60 * 1024**2, "another visitor"), pytest.raises(
        fresh_budget.Busy, match=r"busy.*try again in a minute"
    ) as busy:
        processing.clean_recording(cleaning)
    assert busy.value.level == "warning"
    assert processing.clean_recording(cleaning).audio.shape == rec.y.shape  # once the other visitor is done


def test_a_result_can_be_downloaded_on_a_full_server_and_a_second_format_waits_for_room(fresh_budget, monkeypatch):
    rec = _recording(_speechy(16_000, 2.0), 16_000)
    analysed = processing.analyse_recording(rec.digest, rec, DenoiseParams())
    cleaning = processing.Cleaning(rec, analysed, DenoiseParams(threshold_db=1.0))
    processing.clean_recording(cleaning)
    store = fresh_budget.STORE
    # Other visitors' work fills the server: the first download still comes at once, in the result's room.
    other = fresh_budget.reserve(store.capacity - store.used - store.reserved - 1024, "another visitor")
    started = time.monotonic()
    data = processing.download(cleaning, "WAV", "PCM_16")()
    assert sf.info(io.BytesIO(data)).frames == rec.n_samples and time.monotonic() - started < 2.0
    # A second format while Streamlit keeps the first waits for room: here the other work ends after 0.8 s.
    timer = threading.Timer(0.8, other.release)
    timer.start()
    started = time.monotonic()
    flac = processing.download(cleaning, "FLAC", "PCM_16")()
    waited = time.monotonic() - started
    timer.join()
    assert 0.7 <= waited <= 5.0 and sf.info(io.BytesIO(flac)).frames == rec.n_samples
    # If the room never comes, that click is refused with the plain message after DOWNLOAD_WAIT_S.
    monkeypatch.setattr(fresh_budget, "DOWNLOAD_WAIT_S", 1.0)
    with fresh_budget.reserve(store.capacity - store.used - store.reserved - 1024, "another visitor"):
        started = time.monotonic()
        with pytest.raises(fresh_budget.Busy, match="try again in a minute"):
            processing.download(cleaning, "WAV", "PCM_24")()
        assert 0.9 <= time.monotonic() - started <= 5.0
