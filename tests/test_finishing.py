"""The finishing chain through the engine's one path: rumble filter, loudness target, presets."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from whole import measured_true_peak_dbtp as true_peak_dbtp

from denoise_core import DenoiseParams, ParameterError, denoise, denoise_file
from denoise_core.cli import main
from denoise_core.loudness import integrated_loudness
from denoise_core.source import Source

SR = 48_000


def _tone(freq_hz, seconds=2.0, amplitude=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _level_db(y):
    middle = y[len(y) // 4 : 3 * len(y) // 4]
    return 10 * np.log10(np.mean(middle.astype(np.float64) ** 2))


def test_rumble_filter_takes_40_hz_down_and_leaves_300_hz(rng):
    noise = (1e-4 * rng.standard_normal(2 * SR)).astype(np.float32)
    for freq, low, high in ((40.0, None, -20.0), (300.0, -0.5, 0.5)):
        y = _tone(freq) + noise
        out = denoise(y, SR, noise_window=(0.0, 0.5), reduction_db=0.0, highpass_hz=80)
        change = _level_db(out) - _level_db(y)
        assert change <= high and (low is None or change >= low), (freq, change)


@pytest.fixture(scope="module")
def loud_speech(load_data):
    """Real speech made loud enough that -16 LUFS needs the limiter."""
    y, sr = load_data("p257_089_noisy.flac")
    assert sr == SR
    return np.clip(y * (0.99 / np.abs(y).max()), -1, 1).astype(np.float32)


def test_loudness_target_and_ceiling_in_memory(loud_speech):
    out, report = denoise(loud_speech, SR, loudness_lufs=-16.0, ceiling_dbtp=-1.0, return_report=True)
    measured = integrated_loudness(out, SR)
    assert measured == pytest.approx(-16.0, abs=0.1)
    assert true_peak_dbtp(out, SR) <= -1.0
    assert report.loudness_after_lufs == pytest.approx(measured, abs=1e-6)
    assert report.loudness_before_lufs == pytest.approx(integrated_loudness(loud_speech, SR), abs=0.01)
    assert report.true_peak_dbtp == pytest.approx(true_peak_dbtp(out, SR), abs=1e-6)


def test_no_loudness_target_leaves_the_level_and_reports_none(loud_speech):
    out, report = denoise(loud_speech, SR, return_report=True)
    assert report.loudness_before_lufs is None and report.loudness_after_lufs is None
    np.testing.assert_array_equal(out, denoise(loud_speech, SR, highpass_hz=0))


@pytest.mark.parametrize("block", [7919, 1 << 18])
def test_cli_loudness_and_true_peak_flags(loud_speech, tmp_path, monkeypatch, block):
    monkeypatch.setattr(Source, "block_samples", block)
    source = tmp_path / "loud.flac"
    sf.write(source, loud_speech, SR, subtype="PCM_24")
    target = tmp_path / "out.flac"
    assert main([str(source), "-o", str(target), "--loudness", "-16", "--true-peak", "-1", "-q"]) == 0
    out, sr = sf.read(target, dtype="float32")
    assert sr == SR and out.shape == loud_speech.shape
    assert integrated_loudness(out, SR) == pytest.approx(-16.0, abs=0.1)
    assert true_peak_dbtp(out, SR) <= -1.0 + 0.05  # 24-bit rounding of the limited peak
    # The file path gives the in-memory result, to a 24-bit step.
    expected = denoise(sf.read(source, dtype="float32")[0], SR, loudness_lufs=-16.0, ceiling_dbtp=-1.0)
    assert np.max(np.abs(out - expected)) <= 2.0**-22


def test_file_path_reports_the_loudness(loud_speech, tmp_path):
    source = tmp_path / "loud.wav"
    sf.write(source, loud_speech, SR)
    report = denoise_file(source, tmp_path / "out.wav", params=DenoiseParams(loudness_lufs=-23.0))
    assert report.loudness_after_lufs == pytest.approx(-23.0, abs=0.1)
    assert integrated_loudness(sf.read(tmp_path / "out.wav")[0], SR) == pytest.approx(-23.0, abs=0.1)
    assert report.true_peak_dbtp <= -1.0


@pytest.mark.parametrize("label", list(DenoiseParams.PRESETS))
def test_each_preset_is_valid_named_and_distinct(label):
    params = DenoiseParams.preset(label)
    assert params.is_preset(label)
    others = [DenoiseParams.preset(other) for other in DenoiseParams.PRESETS if other != label]
    assert params not in others and params != DenoiseParams()


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ParameterError, match=r"no preset 'loud'; choose one of voice-memo, podcast, lecture-room, gentle"):
        DenoiseParams.preset("loud")


def test_cli_preset_is_changed_only_by_the_flags_given(tmp_path, loud_speech):
    source = tmp_path / "take.wav"
    sf.write(source, loud_speech[:SR], SR)
    assert main([str(source), "-o", str(tmp_path / "cli.wav"), "--preset", "podcast", "--reduction-db", "25", "-q"]) == 0
    expected = DenoiseParams(**{**DenoiseParams.PRESETS["Podcast"], "reduction_db": 25.0})
    report = denoise_file(source, tmp_path / "api.wav", params=expected)
    assert report.loudness_after_lufs == pytest.approx(-16.0, abs=0.5)
    assert (tmp_path / "cli.wav").read_bytes() == (tmp_path / "api.wav").read_bytes()
