"""Rumble high-pass and exact IIR cascade (denoise_core.filters): response, alignment, block invariance."""

from __future__ import annotations

import numpy as np
import pytest
from whole import high_pass

from denoise_core.errors import AudioInputError, ParameterError
from denoise_core.filters import (
    HIGHPASS_CUTOFFS_HZ,
    HighPass,
    IirCascade,
    highpass_kernel,
)
from denoise_core.loudness import k_weighting_sos

RATES = [8000, 16000, 44100, 48000]


def level_change_db(sr: int, freq_hz: float, cutoff_hz: int) -> float:
    """Level of a 2 s tone after the high-pass against before, in dB, away from the ends."""
    tone = np.sin(2 * np.pi * freq_hz * np.arange(2 * sr) / sr)
    out = high_pass(tone, sr, cutoff_hz).astype(np.float64)
    middle = slice(sr // 2, -sr // 2)
    return 20 * np.log10(np.std(out[middle]) / np.std(tone[middle]))


def push_in_random_blocks(stream, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Feed ``x`` ``(channels, n)`` in blocks of 0 to 3000 samples (some of one sample), then finish."""
    parts, start = [], 0
    while start < x.shape[1]:
        size = int(rng.choice([0, 1, int(rng.integers(2, 3000))]))
        parts.append(stream.push(x[:, start : start + size]))
        start += size
    parts.append(stream.finish())
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("sr", RATES)
def test_80_hz_corner_takes_40_hz_down_20_db_and_keeps_300_hz(sr):
    assert level_change_db(sr, 40.0, 80) <= -20.0
    assert abs(level_change_db(sr, 300.0, 80)) <= 0.5


@pytest.mark.parametrize("cutoff_hz", HIGHPASS_CUTOFFS_HZ)
def test_every_corner_is_the_minus_6_db_point_and_voice_band_is_flat(cutoff_hz):
    sr = 48000
    assert level_change_db(sr, cutoff_hz, cutoff_hz) == pytest.approx(-6.02, abs=0.05)
    assert level_change_db(sr, cutoff_hz / 2, cutoff_hz) <= -24.0
    assert abs(level_change_db(sr, 1000.0, cutoff_hz)) <= 0.01


def test_kernel_is_symmetric_so_the_filter_is_linear_phase():
    kernel = highpass_kernel(44100, 80)
    np.testing.assert_allclose(kernel, kernel[::-1], atol=1e-15)
    assert kernel.size == 2 * int(np.ceil(2 * 44100 / 80)) + 1
    assert abs(kernel.sum()) < 1e-9  # no DC gets through


@pytest.mark.parametrize("sr", RATES)
def test_output_is_aligned_with_input_and_as_long(sr):
    # A 1 kHz tone passes at unity gain and zero phase: output equals input sample for sample.
    tone = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(sr) / sr)
    out = high_pass(tone, sr, 120)
    assert out.shape == tone.shape and out.dtype == np.float32
    middle = slice(sr // 10, -sr // 10)
    np.testing.assert_allclose(out[middle], tone[middle], atol=2e-4)


@pytest.mark.parametrize("n", [1, 10, 2401, 30000])
def test_length_is_kept_even_when_shorter_than_the_latency(n, rng):
    y = rng.standard_normal((n, 2))
    assert high_pass(y, 48000, 80).shape == (n, 2)


def test_block_sizes_do_not_change_a_single_bit(rng):
    x = rng.standard_normal((2, 50000))
    whole = HighPass(16000, 60, n_channels=2)
    reference = np.concatenate([whole.push(x), whole.finish()], axis=1)
    pieces = push_in_random_blocks(HighPass(16000, 60, n_channels=2), x, rng)
    assert pieces.shape == x.shape
    np.testing.assert_array_equal(pieces, reference)


def test_channels_are_filtered_independently(rng):
    left, right = rng.standard_normal(8000), np.zeros(8000)
    stereo = high_pass(np.stack([left, right], axis=1), 8000, 100)
    np.testing.assert_array_equal(stereo[:, 1], 0.0)
    np.testing.assert_allclose(stereo[:, 0], high_pass(left, 8000, 100), atol=1e-6)


def test_step_onset_leaves_little_before_it():
    # The worst plosive: a step. What leaks before it (the zero-phase pre-response, 80 Hz
    # corner) is one swell of the last 4.5 ms, then a single lobe below -29 dB: no ring.
    sr = 48000
    onset = sr // 2
    step = np.zeros(sr)
    step[onset:] = 1.0
    out = high_pass(step, sr, 80).astype(np.float64)
    assert np.all(out[onset - int(0.0044 * sr) : onset] < 0)
    lobe = out[onset - int(0.013 * sr) : onset - int(0.0045 * sr)]
    assert np.all(lobe > 0) and 20 * np.log10(lobe.max()) < -29.0
    assert np.abs(out[: onset - int(0.011 * sr)]).max() < 10 ** (-40 / 20)


def test_finished_stream_refuses_more_audio():
    hp = HighPass(16000, 80)
    hp.push(np.zeros((1, 100)))
    hp.finish()
    with pytest.raises(AudioInputError, match="has finished"):
        hp.push(np.zeros((1, 100)))


@pytest.mark.parametrize("cutoff_hz", [0, 50, 90, 80.5, "80"])
def test_corner_outside_the_offered_list_is_refused(cutoff_hz):
    with pytest.raises(ParameterError, match="must be one of 60, 80, 100, 120 Hz"):
        HighPass(48000, cutoff_hz)


def test_sample_rate_out_of_range_is_refused():
    with pytest.raises(AudioInputError, match="between 8000 and 192000 Hz"):
        HighPass(4000, 80)


def test_block_of_the_wrong_shape_is_refused():
    hp = HighPass(48000, 80, n_channels=2)
    with pytest.raises(AudioInputError, match=r"shape \(n_channels, n\) = \(2, n\), got \(100, 2\)"):
        hp.push(np.zeros((100, 2)))


def test_non_finite_samples_are_refused():
    with pytest.raises(AudioInputError, match="NaN or infinite"):
        high_pass(np.array([0.0, np.nan, 0.0]), 48000, 80)


def direct_form(sos, x: np.ndarray) -> np.ndarray:
    """The cascade one sample at a time (transposed direct form II), as the reference."""
    y = x.copy()
    for b0, b1, b2, _, a1, a2 in sos:
        out = np.zeros_like(y)
        for c in range(y.shape[0]):
            s0 = s1 = 0.0
            for n, v in enumerate(y[c]):
                o = b0 * v + s0
                s0 = b1 * v - a1 * o + s1
                s1 = b2 * v - a2 * o
                out[c, n] = o
        y = out
    return y


@pytest.mark.parametrize("sr", [8000, 44100])
def test_iir_cascade_matches_the_sample_by_sample_recursion(sr, rng):
    sos = k_weighting_sos(sr)
    x = rng.standard_normal((2, 3001))
    cascade = IirCascade(sos, n_channels=2)
    # splits that are below, at, and across the 128-sample rows of the block form
    out = np.concatenate([cascade.process(x[:, :5]), cascade.process(x[:, 5:261]), cascade.process(x[:, 261:])], axis=1)
    np.testing.assert_allclose(out, direct_form(sos, x), rtol=0, atol=1e-11)
