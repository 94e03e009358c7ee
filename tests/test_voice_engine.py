"""The voice engine in the one path: API, files, finishing and report (denoise_core.voice.engine)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.dfn_reference import reference_denoise
from denoise_core import DenoiseParams, denoise
from denoise_core.loudness import integrated_loudness
from denoise_core.voice import apply_atten_lim

SR = 48_000


@pytest.fixture(scope="module")
def noisy(load_data):
    y, sr = load_data("p257_089_noisy.flac")
    assert sr == SR
    return y


def _below_db(difference: np.ndarray, reference: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(difference.astype(np.float64) ** 2) / np.sum(reference.astype(np.float64) ** 2)))


@pytest.mark.parametrize("limit_db", [100.0, 12.0])
def test_the_api_is_the_reference_runtime_at_48_khz_mono(noisy, limit_db):
    ours = denoise(noisy, SR, engine="voice", hum="off", reduction_db=limit_db)
    reference = reference_denoise(noisy, limit_db)
    assert ours.shape == noisy.shape and ours.dtype == np.float32
    assert _below_db(ours - reference, reference) < -40.0


def test_a_strength_is_a_mix_of_the_input_and_the_unlimited_result(noisy):
    passthrough = denoise(noisy, SR, engine="voice", reduction_db=0.0)
    unlimited = denoise(noisy, SR, engine="voice", reduction_db=100.0)
    np.testing.assert_array_equal(passthrough, noisy)  # 0 dB runs no network and changes nothing
    for limit_db in (6.0, 18.0, 40.0):
        mixed = apply_atten_lim(passthrough, unlimited, limit_db)
        np.testing.assert_allclose(denoise(noisy, SR, engine="voice", reduction_db=limit_db), mixed, atol=2e-7)


def test_the_report_says_what_the_network_did(noisy, rng):
    _, report = denoise(noisy, SR, engine="voice", return_report=True)
    assert report.engine == "voice" and report.speech_heard is True
    assert report.noise_removed_db > 3.0
    hiss = (0.05 * rng.standard_normal(4 * SR)).astype(np.float32)
    out, report = denoise(hiss, SR, engine="voice", reduction_db=100.0, return_report=True)
    assert report.speech_heard is False  # nothing it takes for a voice: the page offers the classic engine
    assert 10 * np.log10(np.mean(out[SR:] ** 2) / np.mean(hiss[SR:] ** 2)) < -20.0


def test_a_voice_beside_a_loud_slam_is_heard(noisy, rng):
    # A door slam 0.3 s long, 25 dB over the speech, outweighs the voice in the whole: the network
    # takes it out and keeps the voice, so the output holds 14 dB less energy than the input.
    slammed = noisy.copy()
    slam = slice(SR // 2, SR // 2 + int(0.3 * SR))
    burst = rng.standard_normal(slam.stop - slam.start) * np.exp(-np.arange(slam.stop - slam.start) / (0.08 * SR))
    slammed[slam] += (burst / np.std(burst) * np.std(noisy) * 10 ** (25 / 20)).astype(np.float32)
    slammed /= np.abs(slammed).max()
    out, report = denoise(slammed, SR, engine="voice", reduction_db=100.0, return_report=True)
    assert 10 * np.log10(np.sum(out.astype(np.float64) ** 2) / np.sum(slammed.astype(np.float64) ** 2)) < -10.0
    assert report.speech_heard is True


def test_other_rates_and_stereo_keep_length_and_image(noisy):
    y16 = noisy[::3].copy()  # 16 kHz
    out = denoise(y16, 16_000, engine="voice")
    assert out.shape == y16.shape
    stereo = np.stack([noisy, 0.5 * noisy], axis=1)
    out = denoise(stereo, SR, engine="voice", reduction_db=100.0)
    assert out.shape == stereo.shape
    np.testing.assert_allclose(out[:, 1], 0.5 * out[:, 0], atol=1e-6)  # one linked mask: the image keeps still


def test_independent_channels_are_each_the_mono_result(noisy):
    stereo = np.stack([noisy, np.roll(noisy, 4800)], axis=1)
    out = denoise(stereo, SR, engine="voice", channels="independent", hum="off")
    np.testing.assert_array_equal(out[:, 0], denoise(noisy, SR, engine="voice", hum="off"))


def test_hum_comes_out_before_the_network(noisy):
    t = np.arange(len(noisy)) / SR
    hum = sum(0.02 / k * np.sin(2 * np.pi * 50 * k * t) for k in range(1, 6)).astype(np.float32)
    _, report = denoise(noisy + hum, SR, engine="voice", noise_window=(0.0, 0.6), return_report=True)
    assert report.hum_hz == pytest.approx(50.0, abs=0.1)


def test_the_finishing_follows_the_network(noisy):
    out, report = denoise(noisy, SR, engine="voice", loudness_lufs=-16.0, highpass_hz=80, return_report=True)
    assert integrated_loudness(out, SR) == pytest.approx(-16.0, abs=0.1)
    assert report.loudness_after_lufs == pytest.approx(integrated_loudness(out, SR), abs=1e-6)


def test_the_engine_is_a_setting_like_the_others():
    assert DenoiseParams(engine="voice").engine == "voice"
    assert DenoiseParams.RANGES["reduction_db"] == (0.0, 100.0)


def test_a_long_stream_keeps_no_frame_snr_it_does_not_use(noisy):
    from denoise_core.voice.engine import _Streams

    streams = _Streams(SR, 2, linked=False)
    block = np.stack([noisy[:SR], noisy[SR : 2 * SR]])
    for _ in range(6):
        streams.push(block)
    assert all(stream.take_lsnr_db().size == 0 for stream in streams._streams)
