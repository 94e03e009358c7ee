"""Mains hum through the engine's one path, at default settings (issue: tonal noise)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from denoise_core import denoise, denoise_file, noise_profile
from denoise_core.cli import main

#: A tone between two harmonics of each base: 1,025 Hz (50 Hz: 1,000 and 1,050), 1,050 Hz (60 Hz: 1,020 and 1,080).
TONE_HZ = {50: 1025.0, 60: 1050.0}


def _hum(sr, seconds, f0, drift_hz=0.0, level_dbfs=-20.0, n_harmonics=11):
    t = np.arange(int(seconds * sr)) / sr
    freq = f0 + drift_hz * t / seconds  # the fundamental drifts linearly by drift_hz
    phase = 2 * np.pi * np.cumsum(freq) / sr
    lines = sum(np.cos(k * phase + k) for k in range(1, n_harmonics + 1))
    return (10 ** (level_dbfs / 20) * lines / np.sqrt(n_harmonics / 2)).astype(np.float32), phase


def _line_power(y, sr, phase, n_harmonics=11):
    """Power of the hum's lines in ``y``: its projection on each harmonic of the true phase."""
    return sum(
        np.abs(np.mean(y * np.exp(-1j * k * phase))) ** 2 for k in range(1, n_harmonics + 1)
    )


def _tone_level_db(y, sr, start_s, freq):
    t = np.arange(len(y)) / sr
    part = slice(int(start_s * sr), len(y))
    return 20 * np.log10(2 * np.abs(np.mean(y[part] * np.exp(-2j * np.pi * freq * t[part]))))


@pytest.mark.parametrize(
    "sr, f0, drift",
    [(48_000, 50.0, 0.0), (16_000, 60.0, 0.0), (48_000, 50.0, 0.2), (48_000, 59.8, -0.2)],
    ids=["50Hz-48k", "60Hz-16k", "50Hz-drift", "60Hz-offset-drift"],
)
def test_hum_lines_go_and_a_tone_between_them_stays(rng, sr, f0, drift):
    seconds = 8.0
    hum, phase = _hum(sr, seconds, f0, drift)
    noise = (10 ** (-40 / 20) * rng.standard_normal(len(hum))).astype(np.float32)
    t = np.arange(len(hum)) / sr
    freq = TONE_HZ[round(f0 / 10) * 10]
    tone = np.where(t >= 2.0, 0.1 * np.sin(2 * np.pi * freq * t), 0.0).astype(np.float32)  # as loud as the hum
    y = hum + noise + tone
    out, report = denoise(y, sr, return_report=True, engine="classic")  # defaults: hum found automatically
    assert report.hum_hz == pytest.approx(f0, abs=0.5)
    after = 3 * sr  # past the tone's onset and the gate's settling
    removed = 10 * np.log10(_line_power(y[after:], sr, phase[after:]) / _line_power(out[after:], sr, phase[after:]))
    assert removed >= 35.0
    assert abs(_tone_level_db(out, sr, 3.0, freq) - _tone_level_db(y, sr, 3.0, freq)) <= 1.0


def test_no_hum_is_found_in_real_noisy_speech(load_data):
    y, sr = load_data("p257_089_noisy.flac")
    assert noise_profile(y, sr).hum_hz is None
    assert noise_profile(y, sr, (0.0, 0.15)).hum_hz is None


def test_hum_off_leaves_the_lines_to_the_gate(rng):
    sr = 16_000
    hum, phase = _hum(sr, 4.0, 50.0)
    y = hum + (1e-3 * rng.standard_normal(len(hum))).astype(np.float32)
    assert noise_profile(y, sr, hum="off").hum_hz is None
    off = denoise(y, sr, hum="off", engine="classic")
    on = denoise(y, sr, engine="classic")
    assert _line_power(on, sr, phase) < _line_power(off, sr, phase) / 100


def test_cli_hum_flag_and_message(rng, tmp_path):
    sr = 16_000
    hum, _ = _hum(sr, 4.0, 60.0)
    source = tmp_path / "buzz.wav"
    sf.write(source, hum + (1e-3 * rng.standard_normal(len(hum))).astype(np.float32), sr, subtype="FLOAT")
    assert main([str(source), "--hum", "60", "-q"]) == 0
    report = denoise_file(source, tmp_path / "api.wav", hum="60", engine="classic")
    assert report.hum_hz == pytest.approx(60.0, abs=0.1)
    assert (tmp_path / "buzz_denoised.wav").stat().st_size == (tmp_path / "api.wav").stat().st_size


@pytest.mark.parametrize("window", [(0.0, 0.15), (3.85, 4.0), (1.0, 1.1)], ids=["start", "end", "middle"])
def test_a_short_noise_window_is_widened_for_the_hum_anywhere_in_the_recording(rng, window):
    sr = 16_000
    hum, _ = _hum(sr, 4.0, 50.0, level_dbfs=-30.0)
    y = hum + (1e-3 * rng.standard_normal(len(hum))).astype(np.float32)
    assert noise_profile(y, sr, window).hum_hz == pytest.approx(50.0, abs=0.1)
