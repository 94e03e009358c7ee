"""Tunable settings: one dataclass, one range table, checked on creation (denoise_core.params)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from denoise_core.errors import DenoiseError, NoiseWindowError, ParameterError
from denoise_core.params import (
    NOISE_FIELDS,
    PARAM_CHOICES,
    PARAM_HELP,
    PARAM_OPTIONAL,
    PARAM_RANGES,
    PRESETS,
    STFT_FIELDS,
    DenoiseParams,
)

ALL_NAMES = [f.name for f in dataclasses.fields(DenoiseParams)]
#: The numeric settings (the others are choices).
NAMES = [name for name in ALL_NAMES if name in PARAM_RANGES]


def _bad_values():
    """(name, value, what the message must say) for every way each setting can be wrong."""
    for name in NAMES:
        low, high = PARAM_RANGES[name]
        span = high - low
        yield pytest.param(name, low - 0.1 * span, "must be between", id=f"{name}-below")
        yield pytest.param(name, high + 0.1 * span, "must be between", id=f"{name}-above")
        yield pytest.param(name, float("nan"), "must be between", id=f"{name}-nan")
        yield pytest.param(name, float("inf"), "must be between", id=f"{name}-inf")
        yield pytest.param(name, "3", "must be a number", id=f"{name}-str")
        if name not in PARAM_OPTIONAL and name != "reduction_db":
            yield pytest.param(name, None, "must be a number", id=f"{name}-none")
        yield pytest.param(name, True, "must be a number", id=f"{name}-bool")
        yield pytest.param(name, [1.0], "must be a number", id=f"{name}-list")


def test_ranges_choices_and_help_cover_exactly_the_settings():
    assert set(PARAM_RANGES) | set(PARAM_CHOICES) | {"noise_window", *STFT_FIELDS} == set(ALL_NAMES)
    assert not set(PARAM_RANGES) & set(PARAM_CHOICES)
    assert set(PARAM_HELP) == set(ALL_NAMES)
    assert all(len(PARAM_HELP[name]) > 20 for name in ALL_NAMES)


@pytest.mark.parametrize("name", list(PARAM_CHOICES))
def test_choice_default_is_one_of_its_choices_and_others_are_refused(name):
    assert getattr(DenoiseParams(), name) in PARAM_CHOICES[name]
    for value in PARAM_CHOICES[name]:
        assert getattr(DenoiseParams(**{name: value}), name) == value
    for bad in ("", "nonsense", None, 1.0, ["linked"]):
        with pytest.raises(ParameterError, match=rf"^{name} must be one of"):
            DenoiseParams(**{name: bad})


def test_every_setting_carries_its_unit_in_its_name():
    assert all(name.endswith(("_db", "_hz", "_ms", "_s", "_lufs", "_dbtp")) for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_default_lies_in_its_range(name):
    low, high = PARAM_RANGES[name]
    value = getattr(DenoiseParams(), name)
    if name in PARAM_OPTIONAL:
        assert value is None  # off unless asked for
        return
    assert isinstance(value, float)
    assert low <= value <= high


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("end", ["low", "high"])
def test_range_ends_are_accepted_and_stored_as_float(name, end):
    low, high = PARAM_RANGES[name]
    value = low if end == "low" else high
    params = DenoiseParams(**{name: value})
    assert getattr(params, name) == float(value)
    assert type(getattr(params, name)) is float


def test_numpy_numbers_are_accepted():
    params = DenoiseParams(threshold_db=np.float32(2.5), reduction_db=np.int64(15))
    assert (params.threshold_db, params.reduction_db) == (2.5, 15.0)
    assert type(params.reduction_db) is float


@pytest.mark.parametrize(("name", "value", "reason"), list(_bad_values()))
def test_bad_value_raises_parameter_error_naming_it(name, value, reason):
    with pytest.raises(ParameterError, match=rf"^{name} {reason}"):
        DenoiseParams(**{name: value})


@pytest.mark.parametrize("name", NAMES)
def test_out_of_range_message_gives_the_range(name):
    low, high = PARAM_RANGES[name]
    with pytest.raises(ParameterError, match=rf"between {low:g} and {high:g}, got {high + 1!r}"):
        DenoiseParams(**{name: high + 1})


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, DenoiseError)
    assert issubclass(ParameterError, ValueError)


def test_params_are_frozen():
    params = DenoiseParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.reduction_db = 30.0  # type: ignore[misc]


def test_params_compare_by_value():
    assert DenoiseParams(reduction_db=10) == DenoiseParams(reduction_db=10.0)
    assert DenoiseParams(reduction_db=10) != DenoiseParams(reduction_db=11)
    cache = {DenoiseParams(threshold_db=1): "cleaned"}  # the app caches results by settings
    assert cache[DenoiseParams(threshold_db=1.0)] == "cleaned"


@pytest.mark.parametrize("name", PARAM_OPTIONAL)
def test_optional_setting_is_off_by_default_and_takes_none(name):
    assert getattr(DenoiseParams(), name) is None
    assert getattr(DenoiseParams(**{name: None}), name) is None


@pytest.mark.parametrize("window", [(0, 1), [0.25, 0.75], np.array([0.0, 0.5])])
def test_noise_window_is_kept_as_a_tuple_of_floats(window):
    params = DenoiseParams(noise_window=window)
    assert params.noise_window == tuple(float(v) for v in window)
    assert all(type(v) is float for v in params.noise_window)
    hash(params)  # a cache key


@pytest.mark.parametrize("window", [(1.0,), (0.0, 0.5, 1.0), "ab", 3.0])
def test_a_noise_window_that_is_not_two_numbers_raises_noise_window_error(window):
    with pytest.raises(NoiseWindowError, match="must be two numbers"):
        DenoiseParams(noise_window=window)


@pytest.mark.parametrize("name", STFT_FIELDS)
@pytest.mark.parametrize("bad", [0, -256, 512.0, True, "512"])
def test_stft_setting_must_be_a_whole_number_of_samples(name, bad):
    with pytest.raises(ParameterError, match=rf"^{name} must be a whole number of samples"):
        DenoiseParams(**{name: bad})


def test_noise_settings_are_the_keywords_of_noise_profile():
    params = DenoiseParams(noise_window=(0, 0.5), hum="60", n_fft=1024, reduction_db=12)
    assert params.noise_settings() == {
        "noise_window": (0.0, 0.5),
        "hum": "60",
        "n_fft": 1024,
        "hop_length": None,
        "win_length": None,
    }
    assert tuple(params.noise_settings()) == NOISE_FIELDS


def test_updated_changes_named_settings_and_refuses_unknown_names():
    params = DenoiseParams().updated(reduction_db=12, noise_window=(0, 1))
    assert (params.reduction_db, params.noise_window) == (12.0, (0.0, 1.0))
    with pytest.raises(ParameterError, match=r"no setting 'reduction'.*reduction_db"):
        DenoiseParams().updated(reduction=12)


@pytest.mark.parametrize("label", list(PRESETS))
def test_every_preset_names_its_engine(label):
    assert PRESETS[label]["engine"] in PARAM_CHOICES["engine"]


@pytest.mark.parametrize("label", list(PRESETS))
def test_a_preset_stays_itself_whatever_the_recording_settings(label):
    preset = DenoiseParams.preset(label)
    assert preset.is_preset(label)
    assert preset.updated(noise_window=(0, 0.5), n_fft=4096).is_preset(label)
    assert not preset.updated(threshold_db=preset.threshold_db + 1).is_preset(label)


def test_the_strength_defaults_to_each_engines_own():
    assert DenoiseParams(engine="voice").reduction_db == 100.0
    assert DenoiseParams(engine="classic").reduction_db == 80.0
    assert DenoiseParams(engine="classic", reduction_db=None).reduction_db == 80.0
    # A change of engine takes the new engine's own strength, unless another was chosen.
    assert DenoiseParams().updated(engine="classic").reduction_db == 80.0
    assert DenoiseParams(reduction_db=24).updated(engine="classic").reduction_db == 24.0
