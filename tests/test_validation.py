"""Checks at the API boundary: sample rates (denoise_core.validation) and arrays (denoise_core.source.ArraySource)."""

from __future__ import annotations

import numpy as np
import pytest

from denoise_core.errors import AudioInputError, DenoiseError
from denoise_core.source import ArraySource
from denoise_core.validation import MAX_CHANNELS, MAX_SR, MIN_SR, validate_sr


def test_audio_input_error_is_a_value_error():
    assert issubclass(AudioInputError, DenoiseError)
    assert issubclass(AudioInputError, ValueError)


@pytest.mark.parametrize(
    "sr",
    [8000, 16000, 22050, 44100, 48000, 96000, 192000, 11025.0, np.int32(32000), np.float64(24000.0)],
    ids=str,
)
def test_valid_sample_rate_is_returned_as_float(sr):
    out = validate_sr(sr)
    assert type(out) is float and out == float(sr)


@pytest.mark.parametrize(
    ("sr", "match"),
    [
        pytest.param(MIN_SR - 1, r"7999 Hz; it must be between 8000 and 192000 Hz", id="below"),
        pytest.param(MAX_SR + 1, r"192001 Hz; it must be between 8000 and 192000 Hz", id="above"),
        pytest.param(0, r"is 0 Hz", id="zero"),
        pytest.param(-44100, r"is -44100 Hz", id="negative"),
        pytest.param(float("nan"), r"is nan Hz", id="nan"),
        pytest.param(float("inf"), r"is inf Hz", id="inf"),
        pytest.param("16000", r"must be a number in Hz, got '16000'", id="str"),
        pytest.param(None, r"must be a number in Hz, got None", id="none"),
        pytest.param(True, r"must be a number in Hz, got True", id="bool"),
        pytest.param([16000], r"must be a number in Hz", id="list"),
    ],
)
def test_bad_sample_rate_raises(sr, match):
    with pytest.raises(AudioInputError, match=match):
        validate_sr(sr)


# ---------------------------------------------------------------- sample formats


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        pytest.param(np.array([-32768, 0, 16384, 32767], np.int16), [-1.0, 0.0, 0.5, 32767 / 32768], id="int16"),
        pytest.param(np.array([-(2**31), 0, 2**30, 2**31 - 1], np.int32), [-1.0, 0.0, 0.5, 1.0], id="int32"),
        pytest.param(np.array([0, 64, 128, 255], np.uint8), [-1.0, -0.5, 0.0, 127 / 128], id="uint8-offset"),
        pytest.param(np.array([-1.0, 0.0, 0.25, 1.0], np.float32), [-1.0, 0.0, 0.25, 1.0], id="float32"),
        pytest.param(np.array([-1.0, 0.0, 0.25, 2.0], np.float64), [-0.5, 0.0, 0.125, 1.0], id="float64-by-its-peak"),
    ],
)
def test_samples_are_scaled_to_full_scale(samples, expected):
    channels, shape = _read(samples)
    assert channels.dtype == np.float32
    assert shape == samples.shape
    np.testing.assert_allclose(channels[0], expected, rtol=1e-7, atol=1e-7)


def _read(y):
    """What the gate is handed: ``(n_channels, n)`` float32, and the array's shape."""
    source = ArraySource(y, 16000)
    return np.concatenate(list(source.blocks())).T, source.shape


def test_float32_within_full_scale_is_read_as_views_not_copies(rng):
    y = rng.uniform(-1, 1, (1000, 2)).astype(np.float32)
    (block,) = ArraySource(y, 16000).blocks()
    assert np.shares_memory(block, y)


@pytest.mark.parametrize(
    ("shape", "n_channels"),
    [((1000,), 1), ((1000, 1), 1), ((1001, 2), 2), ((999, 6), 6), ((5, MAX_CHANNELS), MAX_CHANNELS), ((1,), 1)],
    ids=["mono-1d", "mono-2d", "stereo", "6ch", "max-channels", "one-sample"],
)
def test_layout_becomes_channels_by_samples(shape, n_channels, rng):
    y = rng.uniform(-1, 1, shape)
    channels, original = _read(y)
    assert original == shape
    assert channels.shape == (n_channels, shape[0])
    np.testing.assert_allclose(channels, (y.reshape(shape[0], -1).T).astype(np.float32))


@pytest.mark.parametrize(
    ("y", "match"),
    [
        pytest.param(np.zeros(0, np.float32), r"empty", id="empty-1d"),
        pytest.param(np.zeros((0, 2), np.float32), r"empty", id="empty-stereo"),
        pytest.param(np.zeros((100, 0), np.float32), r"empty", id="no-channels"),
        pytest.param(np.array([0.1, np.nan, 0.2]), r"NaN or infinite values\), the first at sample 1", id="nan"),
        pytest.param(np.array([[0.0], [np.inf], [0.1]]), r"the first at sample 1", id="inf-one-column"),
        pytest.param(np.array([[np.nan, np.nan], [0.0, 0.0]]), r"the first at sample 0", id="nan-both-channels"),
        pytest.param(np.array([-np.inf, 0.0]), r"the first at sample 0", id="minus-inf"),
        pytest.param(np.zeros((10, 2, 2)), r"got 3 dimensions \(10, 2, 2\)", id="3d"),
        pytest.param(np.float32(0.5), r"got 0 dimensions", id="scalar"),
        pytest.param(np.zeros((1000, MAX_CHANNELS + 1)), r"65 channels .*at most 64", id="65-channels"),
        pytest.param(np.zeros((2, 48000)), r"48000 channels .*transpose", id="transposed"),
        pytest.param(np.array([1 + 1j, 0j]), r"real numbers, got dtype complex128", id="complex"),
        pytest.param(np.array([True, False]), r"real numbers, got dtype bool", id="bool"),
        pytest.param(np.array(["a", "b"]), r"real numbers", id="strings"),
        pytest.param(np.array([0.1, None], dtype=object), r"real numbers, got dtype object", id="object"),
    ],
)
def test_unusable_audio_raises(y, match):
    with pytest.raises(AudioInputError, match=match):
        _read(y)


def test_lists_are_accepted_as_arrays():
    channels, shape = _read([0.0, 0.5, -0.5])
    assert shape == (3,)
    np.testing.assert_array_equal(channels, np.array([[0.0, 0.5, -0.5]], np.float32))
@pytest.mark.parametrize(
    ("y", "match"),
    [
        pytest.param(np.array([[0.0, 0.0], [0.0, 0.0], [0.1, np.inf]]), r"the first at sample 2", id="inf-right-channel"),
        pytest.param(np.array([[0.0, 0.0], [np.nan, 0.3], [0.1, 0.2]]), r"the first at sample 1", id="nan-left-channel"),
    ],
)
def test_invalid_sample_in_one_channel_raises(y, match):
    with pytest.raises(AudioInputError, match=match):
        _read(y)
