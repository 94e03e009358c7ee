"""A noise sample that caught a burst (a door, a cough, a passing car) never costs the voice.

The sample is checked against the recording's background (its quietest
stretch), band by band; where it is more than ``SAMPLE_EXCESS_DB`` above it,
the profile comes down to it, the report says by how much, and the CLI says it
on the file's line. Every call names the classic engine.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from cli_runner import run_cli

from denoise_core import denoise, noise_profile
from denoise_core.noise import SAMPLE_EXCESS_DB

SR = 16_000
NOISE_DBFS = -45.0
SPEECH = (0.6, 3.4)


def _level_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64))))


@pytest.fixture
def burst_mix(make_noise, speech_bursts):
    """4 s: noise everywhere, 20 dB louder in the first 0.2 s; 'syllables' from 0.6 to 3.4 s.

    Returns the mixture and the speech alone.
    """
    n = 4 * SR
    noise = make_noise(n, NOISE_DBFS)
    noise[: SR // 5] *= 10.0  # +20 dB: the burst, inside the 0-0.15 s sample
    speech = speech_bursts(SR, 4.0, (0.0, SPEECH[0])) * 0.3
    speech[int(SPEECH[1] * SR) :] = 0.0
    return (speech + noise).astype(np.float32), speech


def test_a_burst_in_the_sample_is_found_and_the_profile_comes_down(burst_mix):
    y, _ = burst_mix
    sample = noise_profile(y, SR, (0.0, 0.15))
    background = noise_profile(y, SR, (0.3, 0.55))  # noise only, after the burst
    assert sample.lowered_db is not None and sample.lowered_db > 15.0
    assert background.lowered_db is None
    excess = 10 * np.log10(sample.power.sum() / background.power.sum())
    assert excess < SAMPLE_EXCESS_DB


def test_a_fine_sample_is_kept_as_measured(make_noise):
    y = make_noise(3 * SR, NOISE_DBFS)
    profile = noise_profile(y, SR, (0.0, 0.15))
    assert profile.lowered_db is None
    _, report = denoise(y, SR, engine="classic", noise_window=(0.0, 0.15), return_report=True)
    assert report.profile_lowered_db is None


def test_the_speech_keeps_its_level_and_the_report_says_why(burst_mix):
    y, speech = burst_mix
    out, report = denoise(y, SR, engine="classic", noise_window=(0.0, 0.15), return_report=True)
    assert report.profile_lowered_db is not None and report.profile_lowered_db > 15.0
    assert report.snr_before_db is not None  # measured against the background, never "-inf"
    part = slice(int(SPEECH[0] * SR), int(SPEECH[1] * SR))
    assert abs(_level_db(out[part]) - _level_db(speech[part])) < 1.0
    # and the noise still goes: the noise-only stretch after the burst comes out well below the input
    quiet = slice(int(0.3 * SR), int(0.55 * SR))
    assert _level_db(out[quiet]) < _level_db(y[quiet]) - 10.0


def test_the_cli_says_it_on_the_file_line(burst_mix, tmp_path):
    y, _ = burst_mix
    sf.write(tmp_path / "take.wav", y, SR, subtype="FLOAT")
    done = run_cli("take.wav", "--engine", "classic", "--noise-window", "0", "0.15", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = [text for text in done.stdout.splitlines() if text.startswith("take.wav")]
    assert "noise sample is up to" in line and "louder than the background" in line and "try another pause" in line
