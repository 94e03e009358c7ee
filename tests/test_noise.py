"""Noise profile: window checks, profile level and the automatic quietest stretch (denoise_core.noise)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from denoise_core import DenoiseError, NoiseProfile, NoiseWindowError, StftConfig, noise_profile
from denoise_core.noise import (
    AUTO_WINDOW_S,
    MINSTAT_CEILING_DB,
    TRACK_BLOCK_FRAMES,
    TRACK_DECIMATION,
    NoiseTracker,
    minimum_statistics,
    validate_noise_window,
)

SR = 16000
DURATION_S = 2.0
FRAME_S = 0.032  # one analysis frame (n_fft = 512 at 16 kHz), the shortest window allowed

# (id, window, what the message must say): every way a window can be wrong.
BAD_WINDOWS = [
    pytest.param((0.0, 3.0), r"ends at 3\.000 s, after the end of the recording", id="beyond-end"),
    pytest.param((2.5, 3.0), r"ends at 3\.000 s, after the end", id="wholly-after-end"),
    pytest.param((-0.1, 0.5), r"starts before the recording \(-0\.100 s", id="negative-start"),
    pytest.param((1.0, 0.5), r"must end after it starts, got 1\.000 s to 0\.500 s", id="reversed"),
    pytest.param((0.5, 0.5), r"must end after it starts, got 0\.500 s to 0\.500 s", id="zero-length"),
    pytest.param((0.0, 0.01), r"0\.010 s long; it must be at least 0\.032 s \(one analysis frame\)", id="shorter-than-frame"),
    pytest.param(("a", "b"), r"must be two numbers \(start, end\) in seconds, got \('a', 'b'\)", id="non-numeric"),
    pytest.param((0.1,), r"must be two numbers .*got \(0\.1,\)", id="one-number"),
    pytest.param((0.1, 0.5, 0.9), r"must be two numbers", id="three-numbers"),
    pytest.param(None, r"must be two numbers", id="none"),
    pytest.param((float("nan"), 1.0), r"\(nan, 1\.0\) s is not finite", id="nan-start"),
    pytest.param((0.0, float("nan")), r"is not finite", id="nan-end"),
    pytest.param((0.0, float("inf")), r"\(0\.0, inf\) s is not finite", id="inf-end"),
]

# The windows that are wrong in value, not in type: their message must also
# give the valid range, so the user knows what to type instead.
OUT_OF_RANGE_WINDOWS = [p for p in BAD_WINDOWS if p.id not in ("non-numeric", "one-number", "three-numbers", "none")]


@pytest.fixture
def noisy(make_noise):
    """Two seconds of white noise at -30 dBFS."""
    return make_noise(int(DURATION_S * SR), -30.0)


def test_noise_window_error_is_a_value_error():
    assert issubclass(NoiseWindowError, DenoiseError)
    assert issubclass(NoiseWindowError, ValueError)


@pytest.mark.parametrize(("window", "match"), BAD_WINDOWS)
def test_bad_window_is_rejected_with_reason(window, match):
    with pytest.raises(NoiseWindowError, match=match):
        validate_noise_window(window, DURATION_S, FRAME_S)


@pytest.mark.parametrize(("window", "match"), OUT_OF_RANGE_WINDOWS)
def test_bad_window_message_gives_valid_range(window, match):
    with pytest.raises(NoiseWindowError, match=r"valid range: 0 to 2\.000 s"):
        validate_noise_window(window, DURATION_S, FRAME_S)


@pytest.mark.parametrize(("window", "match"), [p for p in BAD_WINDOWS if p.id != "none"])  # None: find it automatically
def test_bad_window_is_rejected_by_the_pipeline(noisy, window, match):
    with pytest.raises(NoiseWindowError, match=match):
        noise_profile(noisy, SR, window)


@pytest.mark.parametrize(
    "window",
    [(0.0, 0.5), (1.5, 2.0), (0.25, 0.25 + FRAME_S), (0.0, 2.0), [0.3, 0.9], np.array([0.1, 0.7])],
    ids=["start", "end", "one-frame", "whole", "list", "array"],
)
def test_valid_window_is_kept_as_given(noisy, window):
    profile = noise_profile(noisy, SR, window)
    assert isinstance(profile, NoiseProfile)
    assert profile.window_s == (float(window[0]), float(window[1]))
    assert profile.method == "window"
    assert profile.config == StftConfig.for_sr(SR)
    assert profile.power.shape == (profile.config.n_freqs,)
    assert np.isfinite(profile.power).all() and (profile.power > 0).all()


def test_window_typed_as_rounded_duration_is_accepted():
    assert validate_noise_window((0.0, 3.12), 3.1198, 0.02) == (0.0, 3.1198)


def test_profile_measures_white_noise_power(make_noise):
    # E|X_k|^2 = sigma^2 * sum(w^2) for white noise of variance sigma^2 through window w.
    sigma = 10 ** (-30 / 20)
    y = make_noise(4 * SR, -30.0)
    profile = noise_profile(y, SR, (0.5, 3.5))
    expected = sigma**2 * np.sum(profile.config.taper**2)
    inner = profile.power[5:-5]  # DC and Nyquist bins are real, with twice the variance
    assert np.mean(inner) == pytest.approx(expected, rel=0.03)
    assert np.max(np.abs(10 * np.log10(inner / expected))) < 3.0


def test_profile_is_shared_by_channels_as_their_mean(make_noise):
    y = make_noise(2 * SR, -30.0)
    mono = noise_profile(y, SR, (0.2, 1.8))
    stereo = noise_profile(np.stack([y, np.zeros_like(y)], axis=1), SR, (0.2, 1.8))
    np.testing.assert_allclose(stereo.power, 0.5 * mono.power, rtol=1e-5)


def test_profile_uses_only_the_window(make_noise):
    # 4 dB apart: within what a sample may lie above the recording's background (tests/test_noise_sample.py).
    quiet = make_noise(SR, -40.0)
    loud = make_noise(SR, -36.0)
    y = np.concatenate([quiet, loud])
    in_quiet = noise_profile(y, SR, (0.1, 0.9)).power.sum()
    in_loud = noise_profile(y, SR, (1.1, 1.9))
    assert 10 * np.log10(in_loud.power.sum() / in_quiet) == pytest.approx(4.0, abs=0.5)
    assert in_loud.lowered_db is None


# ---------------------------------------------------------------- automatic choice


def _quietest(y, sr):
    profile = noise_profile(y, sr)
    assert profile.method == "quietest stretch"
    return profile.window_s


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 48000, 96000], ids=lambda sr: f"{sr}Hz")
@pytest.mark.parametrize("quiet_s", [(1.0, 2.0), (0.0, 0.8), (2.2, 3.0), (1.3, 1.9)], ids=["middle", "start", "end", "short"])
def test_quietest_window_lies_in_the_noise_only_stretch(speech_bursts, make_noise, sr, quiet_s):
    y = speech_bursts(sr, 3.0, quiet_s) + make_noise(3 * sr, -50.0)
    start, end = _quietest(y, sr)
    assert quiet_s[0] <= start < end <= quiet_s[1]
    assert end - start == pytest.approx(AUTO_WINDOW_S, abs=0.02)


def test_estimate_noise_without_window_uses_the_quietest_stretch(speech_bursts, make_noise):
    y = speech_bursts(SR, 3.0, (1.0, 2.0)) + make_noise(3 * SR, -50.0)
    profile = noise_profile(y, SR)
    assert profile.method == "quietest stretch"
    assert 1.0 <= profile.window_s[0] < profile.window_s[1] <= 2.0
    # Measured on noise only: the -50 dBFS white noise, not the bursts.
    true_noise = noise_profile(y, SR, (1.1, 1.9))
    assert 10 * np.log10(profile.power.sum() / true_noise.power.sum()) == pytest.approx(0.0, abs=0.5)


@pytest.mark.parametrize("sr", [8000, 16000, 48000], ids=lambda sr: f"{sr}Hz")
def test_leading_digital_silence_is_not_taken_as_the_noise(speech_bursts, make_noise, sr):
    y = speech_bursts(sr, 3.0, (1.0, 2.0)) + make_noise(3 * sr, -50.0)
    padded = np.concatenate([np.zeros(sr, np.float32), y])  # 1 s of zeros, then the recording
    start, end = _quietest(padded, sr)
    assert 2.0 <= start < end <= 3.0


def test_digital_silence_in_the_middle_is_not_taken_as_the_noise(speech_bursts, make_noise):
    y = speech_bursts(SR, 3.0, (2.2, 3.0)) + make_noise(3 * SR, -50.0)
    y[int(0.2 * SR) : int(1.0 * SR)] = 0.0  # a dropout longer than the search window
    start, end = _quietest(y, SR)
    assert 2.2 <= start < end <= 3.0


def test_all_silent_recording_gives_a_window_inside_it():
    y = np.zeros(2 * SR, np.float32)
    start, end = _quietest(y, SR)
    assert 0.0 <= start < end <= 2.0


@pytest.mark.parametrize("n_samples", [1, 10, 511, 512, 3000, 8000], ids=lambda n: f"n{n}")
def test_short_recording_gives_a_window_inside_it(make_noise, n_samples):
    y = make_noise(n_samples, -30.0)
    profile = noise_profile(y, SR)
    duration_s = n_samples / SR
    start, end = profile.window_s
    assert 0.0 <= start < end <= duration_s
    assert np.isfinite(profile.power).all()


def test_profile_carries_the_transform_it_was_measured_with(make_noise):
    y = make_noise(SR, -30.0)
    profile = noise_profile(y, SR, (0.1, 0.6), n_fft=1024, hop_length=256)
    assert profile.config == StftConfig(sr=SR, n_fft=1024, hop_length=256, win_length=1024)
    assert profile.power.shape == (513,)


@pytest.mark.parametrize(("window", "match"), [p for p in BAD_WINDOWS if p not in OUT_OF_RANGE_WINDOWS and p.id != "none"])
def test_non_numeric_window_message_gives_valid_range(window, match):
    with pytest.raises(NoiseWindowError, match=r"valid range: 0 to 2\.000 s"):
        validate_noise_window(window, DURATION_S, FRAME_S)


@pytest.mark.parametrize("sr", [8000, 16000, 48000], ids=lambda sr: f"{sr}Hz")
def test_digital_silence_followed_by_noise_is_not_taken_as_the_noise(speech_bursts, make_noise, sr):
    # A recorder's typical start: 1 s of zeros, then room noise (0.8 s), then speech.
    y = speech_bursts(sr, 3.0, (0.0, 0.8)) + make_noise(3 * sr, -50.0)
    padded = np.concatenate([np.zeros(sr, np.float32), y])
    start, end = _quietest(padded, sr)
    assert 1.0 <= start < end <= 1.8


# ---------------------------------------------------------------- the minimum-statistics floor under the noise


def _white_power(rng, sr: int, seconds: float):
    config = StftConfig.for_sr(sr)
    x = rng.standard_normal(int(seconds * sr)).astype(np.float32)
    power = (np.abs(config.stft(x[None])) ** 2).astype(np.float32)
    return power, power.mean(axis=(0, 2)), config.hop_s


@pytest.mark.parametrize("sr", [16000, 48000], ids=lambda sr: f"{sr}Hz")
def test_minimum_statistics_sit_at_the_mean_of_steady_noise(rng, sr):
    # The least of the smoothed power over 2.5 s lies about 4 dB under the mean; the bias puts it back.
    power, mean, hop_s = _white_power(rng, sr, 20.0)
    floor = minimum_statistics(power, NoiseTracker.start(mean), hop_s)
    settled = floor[:, 8:]  # past the first window
    error_db = 10 * np.log10(settled / mean[:, None])
    assert abs(np.median(error_db)) < 1.0
    assert np.percentile(error_db, 5) > -3.0 and np.percentile(error_db, 95) < 3.0


def test_minimum_statistics_stay_under_their_ceiling_above_the_profile(rng):
    # Noise 20 dB above the profile: the floor stops 12 dB above it.
    power, mean, hop_s = _white_power(rng, 16000, 10.0)
    profile = mean / 100
    floor = minimum_statistics(power, NoiseTracker.start(profile), hop_s)
    ceiling = profile[:, None] * 10 ** (MINSTAT_CEILING_DB / 10)
    assert (floor <= ceiling * (1 + 1e-6)).all()
    assert np.median(floor[:, 8:] / ceiling) > 0.99


def test_minimum_statistics_are_the_same_in_any_blocks(rng):
    power, mean, hop_s = _white_power(rng, 16000, 12.0)
    whole = minimum_statistics(power, NoiseTracker.start(mean), hop_s)
    state = NoiseTracker.start(mean)
    block = TRACK_BLOCK_FRAMES * TRACK_DECIMATION
    cuts = [0, block, 5 * block, 6 * block, 13 * block, power.shape[-1]]
    pieces = [minimum_statistics(power[..., a:b], state, hop_s) for a, b in itertools.pairwise(cuts)]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=-1), whole)
