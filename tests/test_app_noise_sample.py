"""The page says, in plain words, when the noise sample was louder than the recording's background (AppTest).

The classic engine is named in the address before the first run, so the test
holds whatever the page's default engine is.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 120
SR = 16_000


def _burst_take() -> bytes:
    """3 s of noise, 20 dB louder in the first 0.2 s, with 'syllables' from 0.6 s on, as WAV."""
    rng = np.random.default_rng(7)
    t = np.arange(3 * SR) / SR
    noise = 10 ** (-45 / 20) * rng.standard_normal(t.size)
    noise[: SR // 5] *= 10.0
    voiced = sum(0.03 / k * np.sin(2 * np.pi * 150 * k * t + k) for k in range(1, 8))
    speech = voiced * ((t >= 0.6) & (np.mod(t - 0.6, 0.25) < 0.2))
    buffer = io.BytesIO()
    sf.write(buffer, (speech + noise).astype(np.float32), SR, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_a_loud_noise_sample_is_named_on_the_page_and_a_good_one_is_not():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["engine"] = "classic"
    at.run()
    at.file_uploader(key="upload").set_value(("take.wav", _burst_take(), "audio/wav")).run()
    assert not at.exception
    assert not any("noise sample is louder" in w for w in _warnings(at))  # found automatically: no burst in it
    at.toggle(key="noise_auto").set_value(False).run()
    at.number_input(key="noise_start_s").set_value(0.0)
    at.number_input(key="noise_end_s").set_value(0.15)
    at.run()
    assert not at.exception
    (said,) = [w for w in _warnings(at) if "noise sample is louder" in w]
    assert "so Quiet used the quieter background" in said and "Try another pause" in said
    at.number_input(key="noise_start_s").set_value(0.3)
    at.number_input(key="noise_end_s").set_value(0.55)
    at.run()
    assert not any("noise sample is louder" in w for w in _warnings(at))
