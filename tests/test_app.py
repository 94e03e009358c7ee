"""The page's wiring, driven headless with Streamlit's AppTest; widgets are found by key.

Plotly charts and players are "unknown" elements to AppTest: their figure JSON
and media URL are read from the proto. The cleaned player's URL is derived
from the encoded bytes, so it is a fingerprint of the result.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

from denoise_core import DenoiseParams
from ui import budget, limits, loading, processing

APP = ROOT / "app.py"
DATA = Path(__file__).resolve().parent / "data"
TIMEOUT = 120
#: The classic engine's defaults, which the page opened with ``?engine=classic`` starts from.
CLASSIC = DenoiseParams(engine="classic")


def _new_app() -> AppTest:
    """The page with the classic engine, whose every control these tests move (the voice engine: test_app_voice.py)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["engine"] = "classic"
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
    """Media URL of the cleaned player (content-derived) and the verdict line."""
    assert not at.exception
    players = _players(at)
    assert len(players) == 3, _messages(at)
    return players[1].proto.url, (at.success or at.info)[0].value


def _figures(at: AppTest):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _detail(at: AppTest) -> dict:
    (spec,) = [fig for fig in _figures(at) if any(t["type"] == "heatmap" for t in fig["data"])]
    return spec


def _summary(at: AppTest) -> str:
    """The line describing the loaded file, without Markdown escapes."""
    return at.markdown[1].value.replace("\\", "").replace("**", "")


def _messages(at: AppTest):
    return [e.value for e in at.error] + [w.value for w in at.warning]


def _downloads(at: AppTest) -> dict:
    return {b.proto.id.rsplit("-", 1)[-1]: b for b in at.get("download_button")}


def test_fresh_start_renders_without_exception(app):
    assert app.file_uploader(key="upload") is not None
    assert app.audio_input(key="record") is not None
    assert app.button(key="example") is not None
    assert "Try the example" in app.info[0].value
    # The welcome names every kind the uploader takes: the phone's voice memos and videos too.
    assert "M4A" in app.info[0].value and "MP4" in app.info[0].value
    assert not _players(app)
    assert not app.get("plotly_chart")


def test_example_runs_end_to_end(example):
    assert "example_noisy_speech.flac · 6.9 s · 24 kHz · mono · FLAC 16-bit" in _summary(example)
    # One verdict line in plain words, the engine's numbers folded away.
    (verdict,) = example.success
    match = re.fullmatch(r"\*\*Noise about (\d+) dB quieter\*\*\.", verdict.value)
    assert match and int(match.group(1)) >= 10, verdict.value  # the example is clearly noisy
    assert not example.metric
    (details,) = [e for e in example.expander if e.label == "Details"]
    assert "speech-to-noise" in details.markdown[0].value and "found automatically" in details.markdown[0].value
    # Before, after and removed noise of the same (whole, short) recording, lossless at their true levels.
    assert len(_players(example)) == 3
    assert all(p.proto.url.endswith(".flac") for p in _players(example))
    for key in ("threshold_db", "reduction_db", "freq_smooth_hz", "time_smooth_ms"):
        assert example.slider(key=key).value == getattr(CLASSIC, key)
        assert example.slider(key=key).help
    assert example.selectbox(key="n_fft").value == 0  # automatic
    # "Noise reduction" beside the players; the gate's other sliders in the sidebar (no "More settings" in the page).
    assert [s.key for s in example.main.slider] == ["reduction_db"]
    assert {s.key for s in example.sidebar.slider} == {"threshold_db", "freq_smooth_hz", "time_smooth_ms"}
    assert not [e for e in example.expander if e.label == "More settings"]
    # Downloads: the input's own format first, then WAV; each with its size.
    buttons = [b.proto for b in example.get("download_button")]
    assert [b.id.rsplit("-", 1)[-1] for b in buttons] == ["download_flac", "download_wav"]
    assert re.fullmatch(r"FLAC 16-bit · \d+ kB", buttons[0].label) and buttons[0].type == "primary"  # exact
    frames = sf.info(str(loading.EXAMPLE_PATH)).frames
    assert buttons[1].label == f"WAV 16-bit · {round((44 + 2 * frames) / 1e3)} kB"  # 24 kHz 16-bit mono, exactly
    # One picture: waveform and both spectrograms on one time axis, log frequency by default.
    spec = _detail(example)
    heatmaps = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert len(heatmaps) == 2 and all(h["z"]["dtype"] == "u1" for h in heatmaps)
    axis = spec["layout"]["yaxis2"]
    assert axis["ticktext"] == ["100", "200", "500", "1k", "2k", "5k", "10k"]  # 24 kHz: up to 12 kHz
    assert axis["range"][0] == pytest.approx(np.log10(50.0)) and spec["layout"]["yaxis3"]["matches"] == "y2"
    assert spec["layout"]["dragmode"] == "select"
    # The noise boxes show the automatically found stretch, disabled.
    start, end = example.number_input(key="noise_start_s"), example.number_input(key="noise_end_s")
    assert start.disabled and end.disabled
    assert 0.0 <= start.value < end.value <= 6.9


def _far_value(name: str) -> float:
    low, high = DenoiseParams.RANGES[name]
    default = getattr(CLASSIC, name)
    return high if default - low < high - default else low


@pytest.mark.parametrize("name", ["threshold_db", "reduction_db", "freq_smooth_hz", "time_smooth_ms"])
def test_each_slider_changes_the_result(example, name):
    before = _fingerprint(example)
    example.slider(key=name).set_value(_far_value(name)).run()
    after = _fingerprint(example)
    assert after[0] != before[0]


def test_weaker_reduction_says_less_noise_removed(example):
    def removed(at):
        return int(re.search(r"about (\d+) dB", at.success[0].value).group(1))

    default = removed(example)  # the default reduction is deep (80 dB in long pauses)
    example.slider(key="reduction_db").set_value(10.0).run()
    assert default > removed(example) + 3


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
    classic = _fingerprint(example)
    example.slider(key="reduction_db").set_value(20.0)
    example.selectbox(key="n_fft").set_value(512)
    example.run()
    assert _fingerprint(example)[0] != classic[0]
    example.button(key="reset").click().run()
    # Every setting goes back, the engine too: the voice engine at its own strength.
    assert example.radio(key="engine").value == DenoiseParams().engine == "voice"
    assert example.slider(key="reduction_db").value == DenoiseParams().reduction_db
    # The box shows a real choice, "Automatic (...)", not an empty "Choose an option".
    fft_box = example.selectbox(key="n_fft")
    assert fft_box.value == 0 and fft_box.index == 0
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    fresh.run()
    fresh.button(key="example").click().run()
    assert _fingerprint(example) == _fingerprint(fresh)


def test_a_reversed_window_is_swapped_not_refused(example):
    _manual_window(example, 3.0, 2.0)
    # Nothing refused; the only word is that this stretch (it holds speech) is louder than the background.
    assert not [m for m in _messages(example) if "noise sample is louder" not in m]
    assert (example.number_input(key="noise_start_s").value, example.number_input(key="noise_end_s").value) == (2.0, 3.0)
    assert len(_players(example)) == 3
    assert "2.00 to 3.00 s, chosen by you" in example.expander[0].markdown[0].value


def test_a_too_short_window_is_lengthened_to_one_frame_with_a_plain_hint(example):
    _manual_window(example, 1.0, 1.001)
    start, end = example.number_input(key="noise_start_s").value, example.number_input(key="noise_end_s").value
    assert start == 1.0 and end == pytest.approx(1.0 + 1024 / 48_000, abs=0.001)  # one 21 ms frame at 48 kHz
    (hint,) = example.warning
    assert "0.02 s long. Half a second or more" in hint.value
    assert len(_players(example)) == 3  # and the result is there


def test_the_last_good_result_stays_when_the_settings_cannot_be_used(example, monkeypatch):
    from denoise_core import NoiseWindowError
    from ui import preview

    good = _fingerprint(example)

    def refused(*args, **kwargs):
        raise NoiseWindowError("The noise window is refused.")

    monkeypatch.setattr(preview, "make_preview", refused)
    example.slider(key="threshold_db").set_value(9.0).run()
    assert not example.exception
    (warning,) = example.warning
    assert "The noise window is refused." in warning.value and "Find the noise automatically" in warning.value
    assert _players(example)[1].proto.url == good[0]  # the previous result, still playable
    assert _detail(example)


def test_log_frequency_redraws_without_cleaning_again(example, monkeypatch):
    from ui import preview

    before = _fingerprint(example)
    made = []
    real = preview.make_preview
    monkeypatch.setattr(preview, "make_preview", lambda *a, **k: made.append(1) or real(*a, **k))
    example.toggle(key="log_freq").set_value(False).run()
    assert _detail(example)["layout"]["yaxis2"]["range"] == [0.0, 12_000.0]  # linear in Hz
    assert _fingerprint(example) == before and not made


def test_upload_works(app):
    data = (DATA / "p257_089_noisy.flac").read_bytes()
    app.file_uploader(key="upload").set_value(("p257_089_noisy.flac", data, "audio/flac")).run()
    assert not app.exception
    assert "p257_089_noisy.flac · 3.1 s · 48 kHz · mono · FLAC 16-bit" in _summary(app)
    assert len(_players(app)) == 3
    assert len([t for t in _detail(app)["data"] if t["type"] == "heatmap"]) == 2


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
    monkeypatch.setattr(limits, "MAX_DURATION_S", 2.0)
    st.cache_resource.clear()
    data = (DATA / "p257_089_noisy.flac").read_bytes()
    app.file_uploader(key="upload").set_value(("long.flac", data, "audio/flac")).run()
    assert not app.exception
    (error,) = app.error
    assert "Quiet cleans recordings of up to 2.0 s" in error.value
    st.cache_resource.clear()


def test_unexpected_failure_is_a_plain_message(example, monkeypatch):
    from ui import preview

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(preview, "make_preview", broken)
    example.slider(key="threshold_db").set_value(7.5).run()  # settings not previewed yet
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
    assert _downloads(app)["download_wav"].proto.label.startswith("WAV 16-bit · ")


def test_a_recording_under_half_a_second_gets_a_message_not_a_number(app):
    y = (0.3 * np.sin(2 * np.pi * 440 * np.arange(800) / 16_000)).astype(np.float32)  # 0.05 s tone
    app.file_uploader(key="upload").set_value(("blip.wav", _wav(y, 16_000), "audio/wav")).run()
    assert not app.exception
    (warning,) = app.warning
    assert "“blip.wav” is only 0.05 s long. Quiet needs at least 0.5 s" in warning.value
    assert not app.success and not _players(app) and not app.get("download_button")
    assert "dB" not in " ".join(m.value for m in app.markdown)


def test_mp3_comes_back_as_mp3_first(app):
    y = (0.2 * np.random.default_rng(4).standard_normal((44_100 * 2, 2))).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, y, 44_100, format="MP3", subtype="MPEG_LAYER_III")
    app.file_uploader(key="upload").set_value(("talk.mp3", buffer.getvalue(), "audio/mpeg")).run()
    assert not app.exception
    assert _summary(app).endswith("talk.mp3 · 2.0 s · 44.1 kHz · stereo · MP3")  # not "MP3 MP3"
    buttons = [b.proto for b in app.get("download_button")]
    assert [b.id.rsplit("-", 1)[-1] for b in buttons] == ["download_mp3", "download_wav", "download_flac"]
    assert buttons[0].type == "primary" and re.fullmatch(r"MP3 · (about )?\d+ kB", buttons[0].label)


def _long_upload(app, seconds: float, sr: int = 8_000) -> np.ndarray:
    rng = np.random.default_rng(2)
    t = np.arange(int(seconds * sr)) / sr
    voice = 0.3 * np.sin(2 * np.pi * 200 * t) * (np.sin(2 * np.pi * 0.3 * t) > 0.3)  # speech-like bursts
    y = (voice + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    app.file_uploader(key="upload").set_value(("long.wav", _wav(y, sr), "audio/wav")).run()
    assert not app.exception
    return y


def test_a_long_recording_is_previewed_on_a_stretch_and_cleaned_whole_only_for_the_download(app, monkeypatch):
    from ui import preview

    cleanings = []
    real = processing.run_cleaning

    def watched(rec, analysed, params, progress=None):
        cleanings.append(progress)
        return real(rec, analysed, params, progress)

    monkeypatch.setattr(processing, "run_cleaning", watched)
    monkeypatch.setattr(budget, "STORE", budget._make_store())  # nothing held from other tests
    _long_upload(app, 400.0)  # 3.2 M samples: more than one stretch
    length_s = preview.PREVIEW_SAMPLES / 8_000
    assert not cleanings  # the preview did not clean the whole recording
    verdict = app.success[0].value
    start, stop = (float(v) for v in re.search(r"in the preview \(([\d.]+) to ([\d.]+) s\)", verdict).groups())
    assert stop - start == pytest.approx(length_s, abs=0.01)
    assert app.slider(key="stretch_start_s").value == pytest.approx(start, abs=0.1)
    assert len(_figures(app)) == 2  # the overview strip and the detail of the stretch
    spec = _detail(app)
    assert spec["layout"]["xaxis"]["range"] == pytest.approx([start, stop], abs=0.01)
    # Another stretch: a new preview there, still no whole cleaning.
    before = _fingerprint(app)
    app.slider(key="stretch_start_s").set_value(10.0).run()
    assert _fingerprint(app)[0] != before[0] and f"(10.0 to {10.0 + length_s:.1f} s)" in app.success[0].value
    assert not cleanings and not app.get("download_button")
    # The download: cleaned once, with a progress bar, then offered with its size.
    app.button(key="prepare").click().run()
    assert len(cleanings) == 1 and callable(cleanings[0])
    assert not app.get("progress")  # gone once done
    assert _downloads(app)["download_wav"].proto.label == "WAV 16-bit · 6.4 MB"
    app.toggle(key="log_freq").set_value(False).run()  # display only: not cleaned again
    app.slider(key="reduction_db").set_value(20.0).run()  # new settings: the preview changes, asks again
    assert app.button(key="prepare") is not None and len(cleanings) == 1
    app.slider(key="reduction_db").set_value(CLASSIC.reduction_db).run()  # back: prepared already
    assert _downloads(app)["download_wav"] and len(cleanings) == 1
