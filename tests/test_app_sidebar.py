"""The sidebar through the page (AppTest): what sits there, what stays beside the players, and greying by engine.

The sidebar's look in a browser (open on a desktop, folded on a phone, a drag
on the waveform still setting the noise sample) is in ``test_browser.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from denoise_core import DenoiseParams, integrated_loudness
from ui import messages

APP = Path(__file__).resolve().parent.parent / "app.py"
DATA = Path(__file__).resolve().parent / "data"
TIMEOUT = 120

#: Widget keys in the sidebar of one recording's page, by kind.
SIDEBAR_KEYS = {
    "toggle": {"noise_auto"},
    "number_input": {"noise_start_s", "noise_end_s"},
    "slider": {"threshold_db", "freq_smooth_hz", "time_smooth_ms"},
    "selectbox": {"n_fft", "loudness_lufs", "highpass_hz", "hum"},
    "radio": {"engine", "channels"},
    "button": {"reset"},
}


def _keys(block, kind: str) -> set[str]:
    return {w.key for w in getattr(block, kind)}


@pytest.fixture
def example() -> AppTest:
    """The example with the classic engine, whose settings all apply (greying by engine: test_app_voice.py)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["engine"] = "classic"
    at.run()
    at.button(key="example").click().run()
    assert not at.exception
    return at


def test_the_settings_are_in_the_sidebar_and_the_preset_and_strength_beside_the_players(example):
    for kind, keys in SIDEBAR_KEYS.items():
        assert _keys(example.sidebar, kind) == keys, kind
        assert not _keys(example.main, kind) & keys, kind
    assert _keys(example.main, "selectbox") == {"preset"} and _keys(example.main, "slider") == {"reduction_db"}
    # Titled groups, top to bottom, and no "More settings" section left in the page.
    assert example.sidebar.header[0].value == "Settings"
    assert [m.value for m in example.sidebar.markdown] == ["**Noise sample**", "**Spectral gate**", "**Finishing**"]
    assert not [e for e in example.expander if e.label == "More settings"]
    # The page says in one line where the settings are (on a phone the sidebar is folded away).
    assert messages.SETTINGS_WHERE in [c.value for c in example.main.caption]
    assert "\n" not in messages.SETTINGS_WHERE and "sidebar" in messages.SETTINGS_WHERE
    assert not any(w.disabled for kind in ("slider", "selectbox", "toggle", "radio") for w in getattr(example.sidebar, kind))


def test_a_setting_in_the_sidebar_changes_the_result_and_the_link(example):
    before = example.get("audio")[1].proto.url
    example.sidebar.slider(key="threshold_db").set_value(8.0).run()
    assert not example.exception
    assert example.get("audio")[1].proto.url != before
    assert example.query_params["threshold_db"] == "8"
    example.sidebar.button(key="reset").click().run()
    assert example.slider(key="threshold_db").value == DenoiseParams().threshold_db
    assert "threshold_db" not in example.query_params


def _greyed_page():
    """A page drawing the sidebar's groups as if an engine had none of them (AppTest.from_function)."""
    from dataclasses import replace

    import streamlit as st

    from ui import controls, settings, sidebar

    side = sidebar.frame()
    why = "Not used by the voice engine: it tells voice from noise by itself."
    gate = sidebar.group(side.gate, "Spectral gate", why_not=why)
    params = controls.gate_controls(st.container(), gate)
    params = replace(params, n_fft=controls.fft_control(gate, 48_000))
    finishing = sidebar.group(side.finishing, "Finishing", why_not=why)
    params = replace(params, **settings.finishing_controls(finishing))
    window = controls.noise_window_controls(sidebar.group(side.noise, "Noise sample", why_not=why), "d", 5.0, (0.0, 0.5), 0.02)
    st.write(repr((params, window)))


def test_a_group_that_does_not_apply_is_greyed_with_its_reason_and_keeps_its_values():
    at = AppTest.from_function(_greyed_page, default_timeout=TIMEOUT)
    at.session_state["threshold_db"] = 6.0  # a value set before the engine changed
    at.run()
    assert not at.exception
    captions = [c.value for c in at.sidebar.caption]
    assert captions == [":material/block: Not used by the voice engine: it tells voice from noise by itself."] * 3
    widgets = [w for kind in ("slider", "selectbox", "toggle", "number_input", "radio") for w in getattr(at.sidebar, kind)]
    assert {w.key for w in widgets} == set().union(*(v for k, v in SIDEBAR_KEYS.items() if k != "button")) - {"engine"}
    assert all(w.disabled for w in widgets)
    assert not at.main.slider(key="reduction_db").disabled  # the strength is not in a group
    assert at.sidebar.slider(key="threshold_db").value == 6.0  # greyed, not forgotten


def _wav(y: np.ndarray, sr: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_many_files_share_the_sidebar_settings_and_noise_sample():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.radio(key="mode").set_value("Many files").run()
    assert not at.exception
    assert {"threshold_db", "freq_smooth_hz", "time_smooth_ms"} <= _keys(at.sidebar, "slider")
    assert {"loudness_lufs", "highpass_hz", "hum"} <= _keys(at.sidebar, "selectbox")
    assert {"batch_noise", "channels"} <= _keys(at.sidebar, "radio")
    assert _keys(at.main, "selectbox") == {"preset"} and _keys(at.main, "slider") == {"reduction_db"}
    assert at.file_uploader(key="batch_files") is not None
    # One noise sample for all and a loudness target, both from the sidebar.
    y, sr = sf.read(str(DATA / "p257_089_noisy.flac"), dtype="float32")
    files = [("a.wav", _wav(y, sr), "audio/wav"), ("b.wav", _wav(0.5 * y[::-1], sr), "audio/wav")]
    at.file_uploader(key="batch_files").set_value(files).run()
    at.sidebar.radio(key="batch_noise").set_value("One sample for all").run()
    at.sidebar.number_input(key="batch_noise_end_s").set_value(0.4)
    at.sidebar.selectbox(key="loudness_lufs").set_value("Broadcast (-23 LUFS)").run()
    at.button(key="batch_run").click().run()
    assert not at.exception
    (done,) = at.success
    assert "2 of 2 files cleaned" in done.value
    table = at.dataframe[0].value
    assert list(table["Loudness (LUFS)"]) == pytest.approx([-23.0, -23.0], abs=0.5)
    assert abs(integrated_loudness(y, sr) + 23.0) > 2  # the target moved them
