"""The page's wiring, driven headless with Streamlit's AppTest; widgets are found by key.

Plotly charts and players are "unknown" elements to AppTest: their figure JSON
and media URL are read from the proto. The cleaned player's URL is derived
from the encoded bytes, so it is a fingerprint of the result.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

from denoise_core import DenoiseParams
from ui import loading, processing

APP = ROOT / "app.py"
DATA = Path(__file__).resolve().parent / "data"
TIMEOUT = 120


def _new_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def app() -> AppTest:
    return _new_app()


@pytest.fixture
def example(app) -> AppTest:
    """The page after one click on the example."""
    app.button(key="example").click().run()
    assert not app.exception
    return app


def _wav(y: np.ndarray, sr: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _players(at: AppTest):
    return at.get("audio")


def _fingerprint(at: AppTest):
    """Media URL of the cleaned player (content-derived) and the report numbers."""
    assert not at.exception
    players = _players(at)
    assert len(players) == 3, [e.value for e in at.error] + [e.value for e in at.warning]
    return players[1].proto.url, tuple(m.value for m in at.metric[:3])


def _figures(at: AppTest):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _spectrogram(at: AppTest) -> dict:
    (spec,) = [fig for fig in _figures(at) if any(t["type"] == "heatmap" for t in fig["data"])]
    return spec


def _summary(at: AppTest) -> str:
    """The line describing the loaded file, without Markdown escapes."""
    return at.markdown[1].value.replace("\\", "").replace("**", "")


def _messages(at: AppTest):
    return [e.value for e in at.error] + [w.value for w in at.warning]


def test_fresh_start_renders_without_exception(app):
    assert app.file_uploader(key="upload") is not None
    assert app.audio_input(key="record") is not None
    assert app.button(key="example") is not None
    assert "Try the example" in app.info[0].value
    for key in ("threshold_db", "reduction_db", "freq_smooth_hz", "time_smooth_ms"):
        assert app.slider(key=key).value == getattr(DenoiseParams(), key)
        assert app.slider(key=key).help
    assert app.selectbox(key="n_fft").value == 0  # automatic
    assert not _players(app)


def test_example_runs_end_to_end(example):
    assert "example_noisy_speech.flac" in _summary(example)
    assert len(_players(example)) == 3
    assert all(p.proto.url.endswith((".oga", ".ogg")) for p in _players(example))
    labels = [m.label for m in example.metric]
    assert labels == ["Speech-to-noise before", "Speech-to-noise after", "Noise removed", "Processing time"]
    assert all(m.value.endswith(("dB", "ms", " s")) for m in example.metric)
    buttons = {b.key: b for b in example.get("download_button")}
    assert set(buttons) == {"download_wav", "download_flac"}
    assert buttons["download_wav"].proto.label == "Download WAV (16-bit)"
    assert not buttons["download_flac"].proto.disabled
    spec = _spectrogram(example)
    heatmaps = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert len(heatmaps) == 2
    assert all(h["z"]["dtype"] == "u1" for h in heatmaps)
    assert spec["layout"]["yaxis2"]["matches"] == "y"
    assert len(spec["layout"]["shapes"]) == 2  # the noise window on both rows
    # The noise boxes show the automatically found stretch, disabled.
    start, end = example.number_input(key="noise_start_s"), example.number_input(key="noise_end_s")
    assert start.disabled and end.disabled
    assert 0.0 <= start.value < end.value <= 4.3


def _far_value(name: str) -> float:
    low, high = DenoiseParams.RANGES[name]
    default = getattr(DenoiseParams(), name)
    return high if default - low < high - default else low


@pytest.mark.parametrize("name", ["threshold_db", "reduction_db", "freq_smooth_hz", "time_smooth_ms"])
def test_each_slider_changes_the_result(example, name):
    before = _fingerprint(example)
    example.slider(key=name).set_value(_far_value(name)).run()
    after = _fingerprint(example)
    assert after[0] != before[0]


def test_fft_size_changes_the_result(example):
    before = _fingerprint(example)
    example.selectbox(key="n_fft").set_value(4096).run()
    assert _fingerprint(example)[0] != before[0]


def _manual_window(at: AppTest, start: float, end: float) -> None:
    at.toggle(key="noise_auto").set_value(False).run()
    at.number_input(key="noise_start_s").set_value(start)
    at.number_input(key="noise_end_s").set_value(end)
    at.run()


@pytest.mark.parametrize("key, value", [("noise_start_s", 0.25), ("noise_end_s", 1.0)])
def test_each_noise_window_box_changes_the_result(example, key, value):
    _manual_window(example, 0.0, 0.5)
    before = _fingerprint(example)
    example.number_input(key=key).set_value(value).run()
    assert _fingerprint(example)[0] != before[0]


def test_automatic_noise_toggle_changes_the_result(example):
    _manual_window(example, 1.0, 1.5)  # a stretch with speech in it
    manual = _fingerprint(example)
    example.toggle(key="noise_auto").set_value(True).run()
    assert _fingerprint(example)[0] != manual[0]


def test_recommended_settings_button_restores_the_defaults(example):
    default = _fingerprint(example)
    example.slider(key="reduction_db").set_value(40.0)
    example.selectbox(key="n_fft").set_value(512)
    example.run()
    assert _fingerprint(example)[0] != default[0]
    example.button(key="reset").click().run()
    assert example.slider(key="reduction_db").value == DenoiseParams().reduction_db
    # The box shows a real choice, "Automatic (...)", not an empty "Choose an option".
    fft_box = example.selectbox(key="n_fft")
    assert fft_box.value == 0 and fft_box.index == 0
    assert _fingerprint(example) == default


@pytest.mark.parametrize(
    "start, end, match",
    [(3.0, 2.0, "must end after it starts"), (1.0, 1.001, "at least")],
)
def test_invalid_noise_window_is_a_message_not_an_exception(example, start, end, match):
    _manual_window(example, start, end)
    assert not example.exception
    (message,) = example.warning
    assert match in message.value
    assert "Find the noise automatically" in message.value
    assert len(_players(example)) == 1  # the original stays playable to help choose
    example.toggle(key="noise_auto").set_value(True).run()  # and the page keeps working
    assert len(_players(example)) == 3


def test_log_frequency_redraws_without_cleaning_again(example):
    before = _fingerprint(example)
    seconds = example.metric[3].value
    example.toggle(key="log_freq").set_value(True).run()
    assert _spectrogram(example)["layout"]["yaxis"]["type"] == "log"
    assert _fingerprint(example) == before
    assert example.metric[3].value == seconds  # the cached result, not a new run of the gate


def test_upload_works(app):
    data = (DATA / "p257_089_noisy.flac").read_bytes()
    app.file_uploader(key="upload").set_value(("p257_089_noisy.flac", data, "audio/flac")).run()
    assert not app.exception
    assert "p257_089_noisy.flac · 3.1 s · 48 kHz · mono · FLAC 16-bit" in _summary(app)
    assert len(_players(app)) == 3
    assert len([t for t in _spectrogram(app)["data"] if t["type"] == "heatmap"]) == 2


def test_upload_replaces_the_example_and_back(example):
    example_result = _fingerprint(example)
    data = (DATA / "p257_089_noisy.flac").read_bytes()
    example.file_uploader(key="upload").set_value(("take.flac", data, "audio/flac")).run()
    uploaded = _fingerprint(example)
    assert uploaded[0] != example_result[0]
    example.button(key="example").click().run()
    assert _fingerprint(example) == example_result


def test_text_file_named_wav_gives_the_plain_error_and_the_page_keeps_working(app):
    app.file_uploader(key="upload").set_value(("notes.wav", b"shopping list: eggs, milk\n" * 40, "audio/wav")).run()
    assert not app.exception
    (error,) = app.error
    assert "“notes.wav” could not be opened as audio" in error.value
    assert "Traceback" not in error.value
    data = (DATA / "p257_089_noisy.flac").read_bytes()
    app.file_uploader(key="upload").set_value(("good.flac", data, "audio/flac")).run()
    assert not app.error
    assert len(_players(app)) == 3


@pytest.mark.parametrize(
    "name, data, kind, match",
    [
        ("empty.wav", b"", "error", "is empty"),
        ("silence.wav", _wav(np.zeros(16_000), 16_000), "warning", "is silent"),
    ],
)
def test_empty_and_silent_files_give_one_message(app, name, data, kind, match):
    app.file_uploader(key="upload").set_value((name, data, "audio/wav")).run()
    assert not app.exception
    messages = app.error if kind == "error" else app.warning
    assert len(_messages(app)) == 1
    assert match in messages[0].value


def test_low_sample_rate_is_resampled_and_said(app):
    y = (0.05 * np.random.default_rng(1).standard_normal(12_000)).astype(np.float32)
    app.file_uploader(key="upload").set_value(("phone.wav", _wav(y, 4_000), "audio/wav")).run()
    assert not app.exception
    assert any("converted to 8,000 Hz" in i.value for i in app.info)
    assert len(_players(app)) == 3


def test_duration_limit_is_said(app, monkeypatch):
    monkeypatch.setattr(loading, "MAX_DURATION_S", 2.0)
    st.cache_resource.clear()
    data = (DATA / "p257_089_noisy.flac").read_bytes()
    app.file_uploader(key="upload").set_value(("long.flac", data, "audio/flac")).run()
    assert not app.exception
    (error,) = app.error
    assert "Quiet cleans recordings of up to 2.0 s" in error.value
    st.cache_resource.clear()


def test_unexpected_failure_is_a_plain_message(example, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(processing, "run_cleaning", broken)
    example.slider(key="threshold_db").set_value(7.5).run()  # settings not cached yet
    assert not example.exception
    (error,) = example.error
    assert "Something went wrong" in error.value
    assert "internal detail" not in error.value


def test_microphone_recording_is_cleaned(app):
    data = (DATA / "speech_16k.wav").read_bytes()
    app.audio_input(key="record").set_value(("recording.wav", data, "audio/wav")).run()
    assert not app.exception
    assert "recording.wav · 4.0 s · 16 kHz · mono · WAV 16-bit" in _summary(app)
    assert len(_players(app)) == 3
    buttons = {b.key: b.proto.label for b in app.get("download_button")}
    assert buttons["download_wav"] == "Download WAV (16-bit)"


def test_long_recording_shows_progress_while_cleaning_and_none_after(app, monkeypatch):
    from ui import views

    seen = []
    real = processing.run_cleaning

    def watched(rec, analysed, params, window, progress=None):
        seen.append(progress)
        return real(rec, analysed, params, window, progress)

    monkeypatch.setattr(processing, "run_cleaning", watched)
    seconds = views.PROGRESS_MIN_S + 1
    y = (0.05 * np.random.default_rng(2).standard_normal(int(seconds * 8_000))).astype(np.float32)
    app.file_uploader(key="upload").set_value(("long.wav", _wav(y, 8_000), "audio/wav")).run()
    assert not app.exception
    assert len(seen) == 1 and callable(seen[0])  # the bar's callback reached the cleaning
    assert not app.get("progress")  # and the bar is gone once the result is there
    assert len(_players(app)) == 3
    app.toggle(key="log_freq").set_value(True).run()  # a cached result: no bar, no cleaning
    assert len(seen) == 1 and not app.get("progress")
