"""The voice engine on the page (AppTest): its choice, greyed gate, strength without a second network run, no voice heard."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from ui import messages

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 120


def _app(query=None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    return at


def _wav(y: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture
def counted(monkeypatch):
    """How many times the page ran the voice network (each run is one ``voice_take``)."""
    import ui.page

    calls = []
    real = ui.page.voice_take

    def watched(*args, **kwargs):
        calls.append(kwargs.get("start"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.page, "voice_take", watched)
    return calls


def test_the_voice_engine_is_the_default_greys_the_gate_and_a_strength_change_runs_no_network(counted):
    at = _app()
    at.button(key="example").click().run()
    assert not at.exception
    assert at.radio(key="engine").value == "voice" and at.slider(key="reduction_db").value == 100.0
    assert at.slider(key="threshold_db").disabled and not at.slider(key="reduction_db").disabled
    assert messages.GATE_NOT_USED in [c.value.split(" ", 1)[1] for c in at.sidebar.caption if c.value.startswith(":")]
    assert messages.ENGINE_CREDIT in [c.value for c in at.sidebar.caption]
    assert at.success and "quieter" in at.success[0].value
    assert len(counted) == 1
    first = at.success[0].value
    at.slider(key="reduction_db").set_value(12.0).run()
    assert not at.exception
    assert len(counted) == 1  # the strength only remixed the network's result
    assert at.success[0].value != first
    assert "engine" not in at.query_params and at.query_params["reduction_db"] == "12"  # the default engine


def test_a_recording_without_a_voice_offers_the_classic_engine(counted):
    rng = np.random.default_rng(5)
    hiss = (0.05 * rng.standard_normal(3 * 16_000)).astype(np.float32)
    at = _app({"engine": "voice"})
    at.file_uploader(key="upload").set_value(("hiss.wav", _wav(hiss, 16_000), "audio/wav")).run()
    assert not at.exception
    assert [w.value for w in at.warning if w.value == messages.NO_VOICE_HEARD]
    at.button(key="use_classic").click().run()
    assert not at.exception
    assert at.radio(key="engine").value == "classic" and at.slider(key="reduction_db").value == 80.0
    assert not [w for w in at.warning if w.value == messages.NO_VOICE_HEARD]


def test_choosing_the_classic_engine_sets_its_own_strength():
    at = _app()
    at.button(key="example").click().run()
    at.radio(key="engine").set_value("classic").run()
    assert not at.exception
    assert at.slider(key="reduction_db").value == 80.0 and not at.slider(key="threshold_db").disabled
    assert at.query_params["engine"] == "classic"


def test_a_link_that_names_the_classic_engine_opens_with_its_own_strength():
    at = _app({"engine": "classic"})
    at.button(key="example").click().run()
    assert not at.exception
    assert at.radio(key="engine").value == "classic" and at.slider(key="reduction_db").value == 80.0
    assert dict(at.query_params) == {"engine": "classic"}  # 80 is that engine's default: not written
    at.slider(key="reduction_db").set_value(30.0).run()
    assert at.query_params["reduction_db"] == "30"
    linked = _app({"engine": "classic", "reduction_db": "30"})
    linked.button(key="example").click().run()
    assert linked.slider(key="reduction_db").value == 30.0
