"""Loudness, true peak, normalisation and the limiter (denoise_core.loudness), against pyloudnorm and EBU Tech 3341."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from whole import measured_true_peak_dbtp as true_peak_dbtp

from denoise_core import denoise
from denoise_core.errors import AudioInputError, ParameterError
from denoise_core.loudness import (
    LoudnessMeter,
    TruePeakLimiter,
    TruePeakMeter,
    integrated_loudness,
    k_weighting_sos,
)

RATES = [8000, 16000, 44100, 48000]


def sine(freq_hz: float, level_dbfs: float, duration_s: float, sr: int, phase: float = 0.0) -> np.ndarray:
    """A sine of peak ``level_dbfs`` (Tech 3341 gives sine levels as peak dBFS)."""
    t = np.arange(round(duration_s * sr)) / sr
    return 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t + phase)


def stereo_tone_sequence(sr: int, parts) -> np.ndarray:
    """Tech 3341 style: a 1 kHz stereo sine through ``(level_dbfs, seconds)`` parts."""
    mono = np.concatenate([sine(1000, level, seconds, sr) for level, seconds in parts])
    return np.stack([mono, mono], axis=1)


def feed_in_random_blocks(meter, x: np.ndarray, rng: np.random.Generator) -> None:
    start = 0
    while start < x.shape[1]:
        size = int(rng.choice([0, 1, int(rng.integers(2, 9000))]))
        meter.push(x[:, start : start + size])
        start += size


def limit(x: np.ndarray, sr: int, **kwargs) -> np.ndarray:
    """Run a ``(channels, n)`` array through a limiter in one block."""
    limiter = TruePeakLimiter(sr, x.shape[0], **kwargs)
    return np.concatenate([limiter.push(x), limiter.finish()], axis=1)


def loud_speech_like(sr: int, rng: np.random.Generator, duration_s: float = 6.0) -> np.ndarray:
    """Syllables of harmonics and noise with a plosive-like burst every 2 s: peaks that need limiting at -16 LUFS."""
    t = np.arange(int(duration_s * sr)) / sr
    syllables = np.maximum(0.0, np.sin(2 * np.pi * 3.0 * t)) ** 2
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12)) + 0.3 * rng.standard_normal(t.size)
    y = 0.08 * syllables * voice
    for start in range(sr // 2, t.size - sr // 10, 2 * sr):
        burst = np.arange(sr // 50)  # 20 ms, 4 times the syllables' level
        y[start + burst] += 0.9 * np.sin(2 * np.pi * 90 * burst / sr) * np.hanning(burst.size)
    return y


# ---- K-weighting and integrated loudness ------------------------------------------------


def test_k_weighting_at_48k_is_the_table_of_bs1770():
    shelf, high_pass = k_weighting_sos(48000)
    np.testing.assert_allclose(
        shelf,
        [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585],
        atol=1e-8,
    )
    np.testing.assert_allclose(high_pass, [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621], atol=1e-8)


@pytest.mark.parametrize(
    "names",
    [["p257_089_clean.flac"], ["p257_089_noisy.flac"], ["speech_16k.wav"], ["p257_089_noisy.flac", "p257_089_clean.flac"]],
    ids=["clean-48k", "noisy-48k", "speech-16k", "stereo-48k"],
)
def test_real_recordings_read_as_pyloudnorm_reads_them(names, load_data):
    channels = [load_data(name) for name in names]
    sr = channels[0][1]
    y = np.stack([c[0] for c in channels], axis=1).astype(np.float64) if len(channels) > 1 else channels[0][0]
    ours = integrated_loudness(y, sr)
    # Within 0.1 LU of pyloudnorm's default (its K-filter is an approximation of the table) ...
    assert ours == pytest.approx(pyloudnorm.Meter(sr).integrated_loudness(y), abs=0.1)
    # ... and the same to float rounding with the filter both derive from libebur128's fit.
    assert ours == pytest.approx(pyloudnorm.Meter(sr, filter_class="DeMan").integrated_loudness(y), abs=1e-6)


def test_only_complete_blocks_count_unlike_pyloudnorm_which_pads_the_last(load_data):
    # 2.987 s holds 26 complete 400 ms blocks; pyloudnorm adds a 27th, partial one, whose
    # energy it divides by a full block, reading 0.2 LU low. Ours (and libebur128) leave
    # it out: the same as pyloudnorm on the samples of the complete blocks only.
    y, sr = load_data("p257_089_clean.flac")
    y = y[: int(2.987 * sr)].astype(np.float64)
    complete = y[: int((26 - 1) * 0.1 * sr + 0.4 * sr)]
    deman = pyloudnorm.Meter(sr, filter_class="DeMan")
    assert integrated_loudness(y, sr) == pytest.approx(deman.integrated_loudness(complete), abs=1e-6)
    assert integrated_loudness(y, sr) - deman.integrated_loudness(y) > 0.1


@pytest.mark.parametrize("sr", RATES)
def test_tech3341_case1_stereo_1k_sine_at_minus_23_dbfs_reads_minus_23_lufs(sr):
    assert integrated_loudness(stereo_tone_sequence(sr, [(-23.0, 20.0)]), sr) == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize("sr", [96000, 192000])
def test_tech3341_case1_at_high_rates(sr):
    assert integrated_loudness(stereo_tone_sequence(sr, [(-23.0, 5.0)]), sr) == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize(
    ("case", "parts"),
    [
        pytest.param(2, [(-33.0, 20.0)], id="case2-minus-33"),
        pytest.param(3, [(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)], id="case3-relative-gate"),
        pytest.param(4, [(-72.0, 10.0), (-36.0, 10.0), (-23.0, 20.0), (-36.0, 10.0), (-72.0, 10.0)], id="case4-both-gates"),
        pytest.param(5, [(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)], id="case5-level-steps"),
    ],
)
def test_tech3341_gating_cases_read_as_specified(case, parts):
    expected = -33.0 if case == 2 else -23.0
    assert integrated_loudness(stereo_tone_sequence(48000, parts), 48000) == pytest.approx(expected, abs=0.1)


def test_mono_reads_3_db_below_the_same_signal_in_both_channels():
    mono = sine(1000, -23.0, 5.0, 48000)
    stereo = np.stack([mono, mono], axis=1)
    assert integrated_loudness(stereo, 48000) - integrated_loudness(mono, 48000) == pytest.approx(3.0103, abs=1e-3)


def test_surround_channels_weigh_1_41():
    tone = sine(1000, -20.0, 3.0, 48000)
    front, surround = np.zeros((tone.size, 5)), np.zeros((tone.size, 5))
    front[:, 0], surround[:, 3] = tone, tone  # L, then Ls of L R C Ls Rs
    difference = integrated_loudness(surround, 48000) - integrated_loudness(front, 48000)
    assert difference == pytest.approx(10 * math.log10(1.41), abs=1e-6)


def test_lfe_of_5_1_does_not_count():
    tone = sine(60, -20.0, 3.0, 48000)
    five_one = np.zeros((tone.size, 6))
    five_one[:, 3] = tone
    assert integrated_loudness(five_one, 48000) == -math.inf


@pytest.mark.parametrize(
    "y",
    [np.zeros(48000), sine(1000, -20.0, 0.39, 48000), sine(1000, -80.0, 5.0, 48000)],
    ids=["silence", "shorter-than-a-block", "below-absolute-gate"],
)
def test_nothing_to_measure_reads_minus_infinity(y):
    assert integrated_loudness(y, 48000) == -math.inf


@pytest.mark.parametrize("sr", [16000, 44100])
def test_loudness_meter_gives_the_same_bits_for_any_block_sizes(sr, rng, load_data):
    y, _ = load_data("p257_089_noisy.flac")
    x = np.stack([y, 0.5 * y[::-1]])
    whole = LoudnessMeter(sr, 2)
    whole.push(x)
    pieces = LoudnessMeter(sr, 2)
    feed_in_random_blocks(pieces, x, rng)
    assert pieces.integrated_lufs() == whole.integrated_lufs()
    np.testing.assert_array_equal(pieces.block_loudness(), whole.block_loudness())


def test_meter_refuses_one_weight_too_few():
    with pytest.raises(ParameterError, match=r"one weight of 0 or more per channel \(2\)"):
        LoudnessMeter(48000, 2, weights=[1.0])


# ---- true peak ----------------------------------------------------------------------------


@pytest.mark.parametrize("sr", RATES)
def test_inter_sample_peak_is_found(sr):
    # A sine at sr/4 with a 45 degree phase has every sample at 1/sqrt(2) of its peak (-3 dB);
    # the true peak is the sine's. Tech 3341's true-peak tolerance is +0.2 / -0.4 dB.
    y = sine(sr / 4, -6.0, 1.0, sr, phase=np.pi / 4)
    assert 20 * np.log10(np.abs(y).max()) == pytest.approx(-9.01, abs=0.02)
    assert -6.4 <= true_peak_dbtp(y, sr) <= -5.8


@pytest.mark.parametrize("sr", RATES)
def test_true_peak_of_a_low_tone_is_its_sample_peak(sr):
    assert true_peak_dbtp(sine(997, -6.0, 1.0, sr), sr) == pytest.approx(-6.0, abs=0.2)


def test_true_peak_of_silence_is_minus_infinity():
    assert true_peak_dbtp(np.zeros(1000), 48000) == -math.inf


def test_true_peak_meter_gives_the_same_bits_for_any_block_sizes(rng):
    x = rng.standard_normal((2, 30000)) * np.linspace(0, 1, 30000)
    whole = TruePeakMeter(44100, 2)
    whole.push(x)
    pieces = TruePeakMeter(44100, 2)
    feed_in_random_blocks(pieces, x, rng)
    assert pieces.true_peak() == whole.true_peak()


def test_true_peak_includes_the_last_samples_not_yet_in_a_chunk():
    y = np.zeros(5000)
    y[-1] = 0.5  # in the meter's unfinished chunk
    assert true_peak_dbtp(y, 48000) == pytest.approx(20 * math.log10(0.5), abs=1e-9)


# ---- gain, limiter and normalisation ----------------------------------------------------------


def _normalized(y: np.ndarray, sr: int, target_lufs: float, ceiling_dbtp: float = -1.0):
    """``y`` brought to a loudness by the engine's one path, the gate left open (0 dB of reduction)."""
    return denoise(
        y, sr, reduction_db=0.0, hum="off", loudness_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp, return_report=True
    )


def _meter(y: np.ndarray, sr: int) -> LoudnessMeter:
    x = np.atleast_2d(np.asarray(y, np.float64).T)
    meter = LoudnessMeter(sr, x.shape[0])
    meter.push(x)
    return meter


@pytest.mark.parametrize("target", [-16.0, -23.0, -40.0])
def test_gain_to_lands_on_the_target_with_the_gates_moved(target, rng):
    sr = 48000
    y = np.concatenate([sine(1000, -20.0, 3.0, sr), 1e-4 * rng.standard_normal(3 * sr)])  # a stretch near the gate
    meter = _meter(y, sr)
    gain_db = meter.gain_to(target)
    assert meter.integrated_lufs(gain_db) == pytest.approx(target, abs=1e-6)
    assert integrated_loudness(y * 10 ** (gain_db / 20), sr) == pytest.approx(target, abs=1e-6)


def test_gain_to_leaves_silence_alone_and_refuses_targets_out_of_range():
    meter = _meter(np.zeros(48000), 48000)
    assert meter.gain_to(-16.0) == 0.0
    for target in (-41.0, 0.0, float("nan"), "loud"):
        with pytest.raises(ParameterError, match="loudness target must be from -40 to -5 LUFS"):
            meter.gain_to(target)


@pytest.mark.parametrize("sr", RATES)
def test_loud_synthetic_normalized_to_minus_16_keeps_the_ceiling(sr, rng):
    y = loud_speech_like(sr, rng)
    assert true_peak_dbtp(y, sr) - integrated_loudness(y, sr) > 21.0  # the clicks really need limiting at -16
    out, report = _normalized(y.astype(np.float32), sr, -16.0)
    assert out.shape == y.shape
    assert integrated_loudness(out, sr) == pytest.approx(-16.0, abs=0.1)
    assert true_peak_dbtp(out, sr) <= -1.0
    assert report.true_peak_dbtp == pytest.approx(true_peak_dbtp(out, sr), abs=1e-4)


@pytest.mark.parametrize("name", ["p257_089_clean.flac", "speech_16k.wav"])
@pytest.mark.parametrize("target", [-16.0, -23.0, -14.0])
def test_real_speech_normalized_within_a_tenth_of_a_lu(name, target, load_data):
    y, sr = load_data(name)
    out, report = _normalized(y, sr, target)
    assert out.shape == y.shape and out.dtype == np.float32
    assert report.loudness_before_lufs == pytest.approx(integrated_loudness(y, sr), abs=1e-3)
    assert integrated_loudness(out, sr) == pytest.approx(target, abs=0.1)
    assert report.loudness_after_lufs == pytest.approx(integrated_loudness(out, sr), abs=1e-6)
    assert true_peak_dbtp(out, sr) <= -1.0


def test_quiet_enough_audio_is_only_scaled():
    sr = 48000
    y = sine(1000, -30.0, 3.0, sr).astype(np.float32)  # -33 LUFS mono, peak -30 dBFS
    out, _ = _normalized(y, sr, -23.0)
    gain_db = _meter(y, sr).gain_to(-23.0)
    np.testing.assert_allclose(out, y * 10 ** (gain_db / 20), atol=1e-5)


def test_silence_comes_back_unchanged():
    out, report = _normalized(np.zeros((4800, 2), np.float32), 48000, -16.0)
    np.testing.assert_array_equal(out, 0.0)
    assert report.loudness_after_lufs == -math.inf


def test_limiter_below_the_ceiling_is_transparent_and_aligned(rng):
    x = 0.5 * rng.standard_normal((2, 20000)) / 4  # peaks around -12 dBFS
    out = limit(x, 48000, ceiling_dbtp=-1.0)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, x, rtol=1e-12, atol=0)


def test_limiter_gives_the_same_bits_for_any_block_sizes(rng):
    x = loud_speech_like(16000, rng, duration_s=3.0)[np.newaxis] * 4
    reference = limit(x, 16000)
    limiter = TruePeakLimiter(16000, 1)
    parts, start = [], 0
    while start < x.shape[1]:
        size = int(rng.choice([0, 1, int(rng.integers(2, 5000))]))
        parts.append(limiter.push(x[:, start : start + size]))
        start += size
    parts.append(limiter.finish())
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), reference)


def test_limiter_links_the_channels(rng):
    loud = loud_speech_like(48000, rng, duration_s=2.0) * 3
    x = np.stack([loud, 0.1 * loud])
    out = limit(x, 48000)
    moving = np.abs(x[1]) > 1e-3
    np.testing.assert_allclose(out[0, moving] / x[0, moving], out[1, moving] / x[1, moving], rtol=1e-9)
    assert true_peak_dbtp(out.T, 48000) <= -1.0


def test_limiter_starts_before_a_click_and_does_not_pump_on_a_steady_tone():
    sr = 48000
    x = sine(1000, -10.0, 2.0, sr)
    click = sr  # one sample far above the ceiling, on top of the tone
    x[click] = 1.0
    out = limit(x[np.newaxis], sr, ceiling_dbtp=-6.0, lookahead_ms=5.0)[0]
    gain = np.ones_like(x)
    moving = np.abs(x) > 1e-3
    gain[moving] = out[moving] / x[moving]
    # the gain starts falling within the look-ahead (5 ms + the 12 interpolator taps) ...
    falling = np.flatnonzero(gain[:click] < 1 - 1e-9)
    assert 0 < click - falling[0] <= int(0.005 * sr) + 13
    # ... and the tone alone, 4 dB under the ceiling, passes untouched before that
    np.testing.assert_allclose(gain[: click - int(0.005 * sr) - 13][moving[: click - int(0.005 * sr) - 13]], 1.0, atol=1e-12)
    # a tone held 4 dB over the ceiling gets one steady gain: no ripple once the attack is over
    steady = limit(sine(1000, -2.0, 2.0, sr)[np.newaxis], sr, ceiling_dbtp=-6.0)[0]
    envelope = np.abs(steady[sr // 2 :]).reshape(-1, sr // 100).max(axis=1)
    assert 20 * np.log10(envelope.max() / envelope.min()) < 0.01
    assert 20 * np.log10(envelope.max()) <= -6.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ceiling_dbtp": 0.5}, "ceiling must be from -12 to 0 dBTP"),
        ({"ceiling_dbtp": -20.0}, "ceiling must be from -12 to 0 dBTP"),
        ({"lookahead_ms": 0.1}, "look-ahead must be from 1 to 20 ms"),
        ({"release_ms": 5000.0}, "release must be from 10 to 1000 ms"),
    ],
    ids=["ceiling-above-0", "ceiling-too-low", "lookahead", "release"],
)
def test_limiter_refuses_settings_out_of_range(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        TruePeakLimiter(48000, 1, **kwargs)


def test_limiter_refuses_nan_audio():
    with pytest.raises(AudioInputError, match="NaN or infinite"):
        TruePeakLimiter(48000, 1).push(np.array([[0.0, np.inf]]))
