"""Presets, finishing controls and settings kept in the URL, through the page (AppTest)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from denoise_core import DenoiseParams
from ui import settings

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 120


def _example(query=None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    at.button(key="example").click().run()
    assert not at.exception
    return at


def _params(at: AppTest) -> DenoiseParams:
    """The settings the page's widgets hold, as the engine's parameters."""
    shown = [f.name for f in fields(DenoiseParams) if f.name in DenoiseParams.RANGES or f.name in DenoiseParams.CHOICES]
    values = {name: at.session_state[name] for name in shown if name != "ceiling_dbtp" and name in at.session_state}
    values["loudness_lufs"] = settings.LOUDNESS_CHOICES[values["loudness_lufs"]]
    return DenoiseParams(**values)


def _caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Preset:"))


@pytest.mark.parametrize("label", list(DenoiseParams.PRESETS))
def test_each_preset_sets_every_setting_and_round_trips_through_the_url(label):
    at = _example()
    at.selectbox(key="preset").set_value(label).run()
    assert not at.exception
    assert _params(at) == DenoiseParams.preset(label)
    assert _caption(at) == f"Preset: {label}"
    link = dict(at.query_params)
    assert link["preset"] == label
    # A colleague opens the copied link: the same settings, the same preset.
    again = _example(link)
    assert _params(again) == DenoiseParams.preset(label)
    assert again.selectbox(key="preset").value == label
    assert not [i for i in again.info if "could not be used" in i.value]


def test_changing_a_setting_shows_the_preset_as_modified_and_the_link_follows():
    at = _example()
    at.selectbox(key="preset").set_value("Podcast").run()
    at.slider(key="reduction_db").set_value(33.0).run()
    assert _caption(at) == "Preset: Podcast (modified)"
    assert at.query_params["reduction_db"] == "33"
    again = _example(dict(at.query_params))
    assert _params(again).reduction_db == 33.0 and _params(again).loudness_lufs == -16.0


def test_a_link_with_garbage_opens_with_defaults_and_a_note():
    garbage = {"reduction_db": "lots", "threshold_db": "999", "highpass_hz": "70", "channels": "both",
               "loudness_lufs": "-99", "hum": "55", "n_fft": "3", "preset": "Loud"}
    at = _example(garbage)
    assert not at.exception and not at.error
    assert _params(at) == DenoiseParams()
    (note,) = [i.value for i in at.info if "could not be used" in i.value]
    for name in garbage:
        assert name in note
    assert at.selectbox(key="hum").value == "auto" and at.selectbox(key="n_fft").value == 0


def test_recommended_settings_reset_the_preset_and_the_finishing_too():
    at = _example()
    at.selectbox(key="preset").set_value("Lecture / room").run()
    at.selectbox(key="hum").set_value("off").run()
    at.button(key="reset").click().run()
    assert _params(at) == DenoiseParams()
    assert at.selectbox(key="preset").value == settings.CUSTOM and at.selectbox(key="hum").value == "auto"
    assert "preset" not in at.query_params and "hum" not in at.query_params


def test_loudness_target_is_applied_to_the_download_and_shown():
    at = _example()
    at.selectbox(key="loudness_lufs").set_value("Broadcast (-23 LUFS)").run()
    assert not at.exception
    (shown,) = [c.value for c in at.caption if c.value.startswith("Loudness")]
    after = float(shown.split("before, ")[1].split(" LUFS")[0])
    assert after == pytest.approx(-23.0, abs=0.5)
    assert at.get("download_button")


def test_the_settings_chosen_stay_when_the_recording_is_removed_and_another_comes():
    # With no recording the settings are not drawn, and Streamlit forgets the value of a widget a run
    # does not draw: the next recording came back with the recommended settings, the voice engine included.
    data = (Path(__file__).parent / "data" / "speech_16k.wav").read_bytes()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.audio_input(key="record").set_value(("recording.wav", data, "audio/wav")).run()
    at.radio(key="engine").set_value("classic").run()
    at.slider(key="threshold_db").set_value(4.0).run()
    at.audio_input(key="record").set_value(None).run()
    assert not at.slider  # no recording: no settings drawn
    at.audio_input(key="record").set_value(("recording.wav", data, "audio/wav")).run()
    assert not at.exception
    assert at.radio(key="engine").value == "classic"
    assert at.slider(key="threshold_db").value == 4.0
    assert dict(at.query_params) == {"engine": "classic", "threshold_db": "4"}
