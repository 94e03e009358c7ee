"""Gain: E1, the LSA gain, the gate's bounds and the smoothing (denoise_core.gain)."""

from __future__ import annotations

import numpy as np
import pytest

from denoise_core.gain import (
    GainState,
    expint_e1,
    gain_from_parts,
    gain_parts,
    lsa_gain,
    pause_floor_db,
    smooth_gain,
)

HOP_S = 0.016


def _gain(power, noise_power, *, threshold_db=3.0, reduction_db=20.0):
    """The gate's gain for ``power`` against a constant noise profile, from a fresh state."""
    state = GainState.start(noise_power, power.shape[0])
    parts = gain_parts(power, state, threshold_db=threshold_db, hop_s=HOP_S)
    # Nothing after these frames is known to hold speech: the floor of the last ones is that of a pause.
    floor_db = pause_floor_db(parts.presence, 0, parts.n_frames, reduction_db, HOP_S)
    return gain_from_parts(parts, floor_db, reduction_db)


# ---------------------------------------------------------------- E1 and the LSA gain


@pytest.mark.parametrize(
    ("x", "e1"),
    [
        (0.001, 6.3315393641),
        (0.1, 1.8229239584),
        (0.5, 0.5597735948),
        (1.0, 0.2193839344),
        (2.0, 0.0489005107),
        (5.0, 0.0011482956),
        (10.0, 4.1569689297e-06),
    ],
    ids=lambda v: f"{v:g}",
)
def test_expint_e1_matches_tabulated_values(x, e1):
    assert float(expint_e1(x)) == pytest.approx(e1, rel=1e-6)


def test_expint_e1_is_vectorised_and_decreasing():
    x = np.geomspace(1e-6, 40.0, 500).reshape(20, 25)
    e1 = expint_e1(x)
    assert e1.shape == x.shape
    assert (np.diff(e1.ravel()) < 0).all()
    assert (e1 > 0).all()


def test_expint_e1_has_no_jump_at_the_branch_point():
    below, at, above = expint_e1(np.array([1.0 - 1e-9, 1.0, 1.0 + 1e-9]))
    assert abs(below - above) / at < 1e-6


@pytest.mark.parametrize("xi", [0.01, 0.3, 1.0, 10.0, 1000.0], ids=lambda v: f"xi{v:g}")
def test_lsa_gain_follows_its_formula(xi):
    v = np.geomspace(1e-3, 25.0, 200)
    expected = xi / (1 + xi) * np.exp(0.5 * expint_e1(v))
    np.testing.assert_allclose(lsa_gain(np.full_like(v, xi), v), expected, rtol=0.01)


def test_lsa_gain_tends_to_the_wiener_gain_at_high_snr():
    xi = np.array([0.1, 1.0, 10.0])
    np.testing.assert_allclose(lsa_gain(xi, np.full(3, 30.0)), xi / (1 + xi), rtol=1e-4)
    assert (lsa_gain(xi, np.full(3, 0.5)) > xi / (1 + xi)).all()


# ---------------------------------------------------------------- the gate's gain


@pytest.mark.parametrize("reduction_db", [0.0, 3.0, 12.0, 20.0, 40.0, 60.0], ids=lambda r: f"{r:g}dB")
@pytest.mark.parametrize("threshold_db", [-10.0, 0.0, 30.0], ids=lambda t: f"thr{t:g}")
def test_gain_stays_between_floor_and_one(rng, reduction_db, threshold_db):
    # Noise-like bins, loud bins and silent bins, over a huge dynamic range.
    power = rng.exponential(1.0, (2, 129, 300)) * 10 ** rng.uniform(-6, 6, (2, 129, 300))
    power[:, :, 100:110] = 0.0
    gain = _gain(power.astype(np.float32), np.ones(129), threshold_db=threshold_db, reduction_db=reduction_db)
    floor = np.float32(10 ** (-reduction_db / 20))
    assert gain.shape == power.shape
    assert np.isfinite(gain).all()
    assert gain.min() >= floor * np.float32(1 - 1e-6)
    assert gain.max() <= 1.0


def test_gain_without_reduction_is_one(rng):
    power = rng.exponential(1.0, (1, 65, 100)).astype(np.float32)
    gain = _gain(power, np.ones(65), reduction_db=0.0)
    np.testing.assert_allclose(gain, 1.0, rtol=1e-6)


def test_gain_keeps_strong_bins_and_floors_noise(rng):
    power = rng.exponential(1.0, (1, 257, 400)).astype(np.float32)
    power[:, 50:60, 200:220] = 1e4  # a steady 40 dB 'syllable', 20 frames (0.3 s) long
    gain = _gain(power, np.ones(257), threshold_db=3.0, reduction_db=20.0)
    floor = 10 ** (-20 / 20)
    assert np.median(gain[:, 50:60, 202:220]) > 0.9
    assert np.median(gain[:, 100:, :]) < 1.5 * floor


def test_gain_treats_channels_alike(rng):
    power = rng.exponential(1.0, (1, 129, 200)).astype(np.float32)
    power[:, 20:30, 50:150] *= 1e3
    gain = _gain(np.concatenate([power, power]), np.ones(129))
    np.testing.assert_array_equal(gain[0], gain[1])


# ---------------------------------------------------------------- smoothing


@pytest.mark.parametrize("time_frames", [0, 1, 3, 9])
def test_smooth_gain_keeps_shape_dtype_and_a_constant(time_frames):
    gain = np.full((2, 129, 50), 0.3, dtype=np.float32)
    out = smooth_gain(gain, time_frames)
    assert out.shape == gain.shape and out.dtype == gain.dtype
    np.testing.assert_allclose(out, 0.3, rtol=1e-6)


def test_smooth_gain_with_no_width_changes_nothing(rng):
    gain = rng.uniform(0.1, 1.0, (1, 33, 40)).astype(np.float32)
    np.testing.assert_array_equal(smooth_gain(gain, 0), gain)


@pytest.mark.parametrize("half_width", [1, 2, 3, 6])
def test_smooth_gain_spreads_a_spike_symmetrically_over_its_width(half_width):
    gain = np.zeros((1, 41, 41), dtype=np.float32)
    gain[0, 20, 20] = 1.0
    time_only = smooth_gain(gain, half_width)[0]
    spread = time_only[20, :]
    support = np.flatnonzero(spread > 1e-9)
    assert (support.min(), support.max()) == (20 - half_width, 20 + half_width)
    np.testing.assert_allclose(spread, spread[::-1], atol=1e-7)
    assert spread.sum() == pytest.approx(1.0, rel=1e-5)  # weights sum to one away from edges
    assert np.count_nonzero(time_only) == 2 * half_width + 1  # nothing spread over frequency


def test_smooth_gain_stays_within_the_input_range(rng):
    gain = rng.uniform(0.1, 1.0, (2, 129, 80)).astype(np.float32)
    out = smooth_gain(gain, 4)
    assert out.min() >= gain.min() - 1e-6
    assert out.max() <= gain.max() + 1e-6
    assert out.std() < 0.5 * gain.std()
