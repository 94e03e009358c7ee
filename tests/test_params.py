"""Tunable settings: one dataclass, one range table, checked on creation (denoise_core.params)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from denoise_core.errors import DenoiseError, ParameterError
from denoise_core.params import PARAM_CHOICES, PARAM_HELP, PARAM_OPTIONAL, PARAM_RANGES, DenoiseParams

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
        if name not in PARAM_OPTIONAL:
            yield pytest.param(name, None, "must be a number", id=f"{name}-none")
        yield pytest.param(name, True, "must be a number", id=f"{name}-bool")
        yield pytest.param(name, [1.0], "must be a number", id=f"{name}-list")


def test_ranges_choices_and_help_cover_exactly_the_settings():
    assert set(PARAM_RANGES) | set(PARAM_CHOICES) == set(ALL_NAMES)
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
