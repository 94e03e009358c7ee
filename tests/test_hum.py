"""Mains hum: detection of the fundamental and streaming removal of its lines (denoise_core.hum)."""

from __future__ import annotations

import numpy as np
import pytest
from whole import remove_hum

from denoise_core.errors import AudioInputError, ParameterError
from denoise_core.hum import MIN_DETECT_S, HumRemover, HumReport, detect_hum

HUM_DBFS = -20.0
NOISE_DBFS = -40.0  # white noise 20 dB below the hum
TONE_HZ = 1025.0  # between the harmonics of every fundamental tested (for 60 Hz: 1020 and 1080)
TONE_AMPLITUDE = 10 ** (-30 / 20)


def _hum(sr, duration_s, f0_hz, *, drift_hz=0.0, n_lines=11, level_dbfs=HUM_DBFS, rng):
    """A fundamental and 10 harmonics (amplitudes 1/sqrt(k), random phases) of RMS ``level_dbfs``.

    The fundamental moves linearly by ``drift_hz`` over the recording.
    Returns the hum ``(n,)`` and its phase ``(n,)`` in radians.
    """
    n = round(duration_s * sr)
    freq = f0_hz + drift_hz * np.arange(n) / n
    phase = 2 * np.pi * np.cumsum(freq) / sr
    offsets = rng.uniform(0, 2 * np.pi, n_lines)
    hum = sum(np.cos(k * phase + offsets[k - 1]) / np.sqrt(k) for k in range(1, n_lines + 1))
    return hum * 10 ** (level_dbfs / 20) / np.sqrt(np.mean(hum**2)), phase


def _db(x):
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64))))


def _line_power(x, phase, n_lines=11):
    """Power of ``x`` projected on the hum's lines, following the true (drifting) phase."""
    basis = np.exp(-1j * np.outer(np.arange(1, n_lines + 1), phase))
    return float((np.abs(basis @ np.asarray(x, np.float64)) ** 2).sum())


# ---------------------------------------------------------------- removal depth


@pytest.mark.parametrize(
    ("sr", "f0_hz", "drift_hz"),
    [
        (48000, 50.0, 0.0),
        (48000, 60.0, 0.0),
        (16000, 50.0, 0.0),
        (16000, 60.0, 0.0),
        (48000, 50.0, 0.2),
        (48000, 60.0, -0.2),
        (16000, 49.6, 0.2),
        (16000, 59.6, -0.2),
    ],
    ids=lambda v: f"{v:g}",
)
def test_hum_and_ten_harmonics_removed_by_35_db_tone_between_kept(sr, f0_hz, drift_hz, rng, tone_amplitude):
    hum, _ = _hum(sr, 8.0, f0_hz, drift_hz=drift_hz, rng=rng)
    t = np.arange(hum.size) / sr
    rest = 10 ** (NOISE_DBFS / 20) * rng.standard_normal(hum.size) + TONE_AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * t)
    y = (hum + rest).astype(np.float32)

    out, report = remove_hum(y, sr)

    assert out.shape == y.shape and out.dtype == np.float32
    assert report.status == "removed"
    assert report.f0_hz == pytest.approx(f0_hz + drift_hz * 2.0 / 8.0, abs=0.05)  # the first 4 s, on average
    assert _db(hum) - _db(out - rest) >= 35.0
    kept_db = 20 * np.log10(tone_amplitude(out, TONE_HZ, sr) / tone_amplitude(rest, TONE_HZ, sr))
    assert abs(kept_db) <= 1.0


def test_drift_is_followed_by_the_tracker(rng):
    sr = 16000
    hum, _ = _hum(sr, 8.0, 50.0, drift_hz=0.2, rng=rng)
    y = (hum + 10 ** (NOISE_DBFS / 20) * rng.standard_normal(hum.size)).astype(np.float32)
    _, report = remove_hum(y, sr)
    low, high = report.f0_range_hz
    assert low == pytest.approx(50.0, abs=0.03)
    assert high == pytest.approx(50.2, abs=0.03)


def test_lines_under_real_speech_removed(load_data, rng):
    speech, sr = load_data("speech_16k.wav")
    hum, phase = _hum(sr, speech.size / sr, 50.0, level_dbfs=-30.0, rng=rng)  # speech is about -31 dBFS
    y = (speech + hum).astype(np.float32)
    out, report = remove_hum(y, sr, mode="50")
    assert report.f0_hz == pytest.approx(50.0, abs=0.02)
    assert 10 * np.log10(_line_power(y, phase) / _line_power(out, phase)) >= 30.0


def test_clean_speech_is_barely_touched_by_forced_removal(load_data):
    # 20 notches about 0.6 Hz wide hold some 1.3 % of the band below 1 kHz
    # where most of the speech energy is: the change stays near -18 dB.
    speech, sr = load_data("p257_089_clean.flac")
    out, report = remove_hum(speech, sr, mode="50")
    assert report.status == "removed"
    assert _db(out - speech) - _db(speech) <= -15.0


def test_stereo_channels_keep_their_own_hum_phase_and_level(rng):
    sr = 48000
    left, _ = _hum(sr, 6.0, 50.2, rng=rng)
    right, _ = _hum(sr, 6.0, 50.2, level_dbfs=HUM_DBFS - 6, rng=rng)
    noise = 10 ** (NOISE_DBFS / 20) * rng.standard_normal((left.size, 2))
    y = (np.stack([left, -right], axis=1) + noise).astype(np.float32)

    out, report = remove_hum(y, sr)

    assert out.shape == y.shape
    assert report.status == "removed"
    assert _db(left) - _db(out[:, 0] - noise[:, 0]) >= 35.0
    assert _db(right) - _db(out[:, 1] - noise[:, 1]) >= 35.0


# ---------------------------------------------------------------- streaming


@pytest.mark.parametrize("block", [1, 7919, 65536], ids=lambda b: f"block{b}")
def test_output_is_the_same_for_any_block_size(block, rng):
    sr = 16000
    hum, _ = _hum(sr, 1.5, 60.2, rng=rng)
    y = (np.stack([hum, 0.5 * hum]) + 0.01 * rng.standard_normal((2, hum.size))).astype(np.float32)
    whole = HumRemover(sr, 2, 60.2, lead_in=y[:, :sr])
    expected = np.concatenate([whole.push(y), whole.finish()], axis=-1)

    remover = HumRemover(sr, 2, 60.2, lead_in=y[:, :sr])
    pieces = [remover.push(y[:, i : i + block]) for i in range(0, y.shape[-1], block)]
    got = np.concatenate([*pieces, remover.finish()], axis=-1)

    assert got.shape == y.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert remover.report().hum_level_dbfs == pytest.approx(whole.report().hum_level_dbfs, abs=1e-6)


def test_output_is_aligned_with_the_input_sample_for_sample(rng):
    # No look-ahead: once locked, input minus output is the hum itself, not a shifted copy.
    sr = 16000
    hum, _ = _hum(sr, 3.0, 50.0, rng=rng)
    y = hum.astype(np.float32)[None]
    remover = HumRemover(sr, 1, 50.0, lead_in=y[:, :sr])
    out = remover.push(y)
    assert out.shape == y.shape and remover.finish().shape == (1, 0)
    assert _db(hum) - _db(out[0]) >= 35.0


def test_lead_in_locks_the_hum_from_the_first_sample(rng):
    sr = 48000
    hum, _ = _hum(sr, 3.0, 50.1, rng=rng)
    y = hum.astype(np.float32)[None]
    primed = HumRemover(sr, 1, 50.1, lead_in=y[:, : 2 * sr]).push(y)[0, : sr // 4]
    cold = HumRemover(sr, 1, 50.1).push(y)[0, : sr // 4]
    assert _db(hum[: sr // 4]) - _db(primed) >= 35.0
    assert _db(hum[: sr // 4]) - _db(cold) < 20.0


def test_push_rejects_a_block_with_the_wrong_channel_count():
    remover = HumRemover(16000, 2, 50.0)
    with pytest.raises(AudioInputError, match="2 channels"):
        remover.push(np.zeros((1, 100), dtype=np.float32))


@pytest.mark.parametrize("f0_hz", [10.0, 7500.0], ids=lambda v: f"{v:g}")
def test_remover_rejects_a_fundamental_out_of_range(f0_hz):
    with pytest.raises(ParameterError, match="between 20 Hz and 7200 Hz"):
        HumRemover(16000, 1, f0_hz)


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize("f0_hz", [49.5, 50.0, 50.55, 59.45, 60.0, 60.5], ids=lambda v: f"{v:g}")
def test_detect_hum_finds_the_precise_fundamental(f0_hz, rng):
    sr = 48000
    hum, _ = _hum(sr, 2.0, f0_hz, rng=rng)
    y = hum + 10 ** (NOISE_DBFS / 20) * rng.standard_normal(hum.size)
    assert detect_hum(y, sr) == pytest.approx(f0_hz, abs=0.02)


def test_detect_hum_finds_a_hum_10_db_below_white_noise(rng):
    sr = 16000
    hum, _ = _hum(sr, 1.0, 60.2, level_dbfs=-30.0, rng=rng)
    y = hum + 10 ** (-20 / 20) * rng.standard_normal(hum.size)
    assert detect_hum(y, sr) == pytest.approx(60.2, abs=0.05)


@pytest.mark.parametrize("name", ["p257_089_clean.flac", "p257_089_noisy.flac", "speech_16k.wav"])
def test_detect_hum_returns_none_on_speech_without_hum(name, load_data):
    y, sr = load_data(name)
    assert detect_hum(y, sr) is None


@pytest.mark.parametrize("seed", range(5))
def test_detect_hum_returns_none_on_white_noise(seed):
    y = 0.1 * np.random.default_rng(seed).standard_normal(2 * 48000)
    assert detect_hum(y, 48000) is None


@pytest.mark.parametrize(("mode", "f0_hz"), [("50", 50.3), ("60", 59.6)])
def test_forced_base_still_measures_the_exact_frequency(mode, f0_hz, rng):
    sr = 16000
    hum, _ = _hum(sr, 2.0, f0_hz, rng=rng)
    assert detect_hum(hum, sr, mode=mode) == pytest.approx(f0_hz, abs=0.02)


def test_a_loud_tone_on_a_wrong_candidate_does_not_pull_the_fundamental(rng):
    # 1,025 Hz is the 17th harmonic of 60.29 Hz; 10 dB above all the hum, it
    # used to outweigh the 11 lines of 60 Hz in a plain sum of line powers.
    sr = 16000
    hum, _ = _hum(sr, 2.0, 60.0, level_dbfs=-30.0, rng=rng)
    t = np.arange(hum.size) / sr
    y = hum + 0.1 * np.sqrt(2) * np.sin(2 * np.pi * TONE_HZ * t) + 10 ** (-50 / 20) * rng.standard_normal(hum.size)
    assert detect_hum(y, sr, mode="60") == pytest.approx(60.0, abs=0.02)
    assert detect_hum(y, sr) == pytest.approx(60.0, abs=0.02)


@pytest.mark.parametrize("mode", ["50", "60"])
def test_forced_base_without_visible_lines_keeps_the_nominal_frequency(mode, load_data):
    speech, sr = load_data("p257_089_clean.flac")
    assert detect_hum(speech, sr, mode=mode) == float(mode)


def test_off_detects_and_removes_nothing(rng):
    sr = 16000
    hum, _ = _hum(sr, 2.0, 50.0, rng=rng)
    y = hum.astype(np.float32)
    assert detect_hum(y, sr, mode="off") is None
    out, report = remove_hum(y, sr, mode="off")
    np.testing.assert_array_equal(out, y)
    assert report == HumReport("off", "off")
    assert report.describe() == "Hum removal is off."


def test_bad_mode_is_refused_with_the_choices():
    with pytest.raises(ParameterError, match="auto, 50, 60, off"):
        detect_hum(np.zeros(16000), 16000, mode="55")


# ---------------------------------------------------------------- short recordings and the report


def test_recording_shorter_than_the_detector_needs_is_returned_unchanged(rng):
    sr = 16000
    hum, _ = _hum(sr, 0.3, 50.0, rng=rng)
    y = hum.astype(np.float32)
    assert MIN_DETECT_S > 0.3
    assert detect_hum(y, sr) is None
    out, report = remove_hum(y, sr)
    np.testing.assert_array_equal(out, y)
    assert report.status == "too short"
    assert report.describe() == "Hum not checked: less than 0.5 s of audio to detect it on."


def test_forced_base_on_a_short_recording_is_removed_at_the_nominal_frequency(rng):
    sr = 16000
    hum, _ = _hum(sr, 0.4, 50.0, rng=rng)
    out, report = remove_hum(hum.astype(np.float32), sr, mode="50")
    assert report.status == "removed" and report.f0_hz == 50.0
    assert _db(hum[-1600:]) - _db(out[-1600:]) >= 20.0  # locked from the lead-in


def test_recording_shorter_than_a_frame_reports_too_short():
    out, report = remove_hum(np.zeros(800, dtype=np.float32), 16000, mode="60")
    assert out.shape == (800,)
    assert report.status == "too short"


def test_report_gives_the_hum_level_and_what_was_removed(rng):
    sr = 48000
    hum, _ = _hum(sr, 4.0, 50.0, rng=rng)
    noise = 10 ** (NOISE_DBFS / 20) * rng.standard_normal(hum.size)
    _, report = remove_hum((hum + noise).astype(np.float32), sr)
    assert report.n_harmonics == 20
    assert report.hum_level_dbfs == pytest.approx(HUM_DBFS, abs=0.3)
    expected = 10 * np.log10(10 ** (HUM_DBFS / 10) + 10 ** (NOISE_DBFS / 10)) - NOISE_DBFS
    assert report.removed_db == pytest.approx(expected, abs=0.3)
    assert report.describe() == (
        f"Hum at 50.00 Hz removed (20 lines, {report.hum_level_dbfs:.1f} dBFS, "
        f"recording {report.removed_db:.1f} dB quieter)."
    )


def test_harmonics_stop_below_nyquist():
    remover = HumRemover(8000, 1, 60.0)
    assert remover.n_harmonics == 20
    assert HumRemover(8000, 1, 65.0, n_harmonics=60).n_harmonics == 55  # 55 * 65 Hz < 0.45 * 8 kHz < 56 * 65 Hz


@pytest.mark.parametrize("n_harmonics", [0, 61])
def test_remover_rejects_a_harmonic_count_out_of_range(n_harmonics):
    with pytest.raises(ParameterError, match="from 1 to 60"):
        HumRemover(16000, 1, 50.0, n_harmonics=n_harmonics)
