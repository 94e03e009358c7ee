"""Hostile arrays, rates, windows and settings against the promise of ``denoise``.

The promise (from the issue): for every input, ``denoise`` either returns a
result with exactly the input's shape, float32, finite and no louder than full
scale, or refuses with one plain-words message, a ``DenoiseError`` (a
``ValueError``). Nothing else escapes.

A ``hypothesis`` property draws arrays (1 to 20,000 samples, 1-D or 1 to 8
channels, uint8/int16/int32/float32/float64; noise, tones, DC offsets, square
waves, silence, impulses, huge, tiny and extreme values), sample rates (8 to
192 kHz and a few outside), noise windows (valid and not) and settings (within
``DenoiseParams.RANGES``, at their ends and outside). Beyond "result or DenoiseError",
it checks that a refusal is deserved (a ``ParameterError`` only for a bad
setting, an ``AudioInputError`` only for a bad rate or sample, a
``NoiseWindowError`` only for a window that does not fit) and that nothing
valid is refused. Explicit cases then pin down each named hostile input with
an exact expectation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from denoise_core import (
    AudioInputError,
    DenoiseError,
    DenoiseParams,
    NoiseWindowError,
    ParameterError,
    StftConfig,
    denoise,
)
from denoise_core.params import PARAM_OPTIONAL

SR = 16000
DTYPES = (np.uint8, np.int16, np.int32, np.float32, np.float64)
KINDS = ("noise", "tone", "dc-offset", "square", "silence", "impulse", "extremes")
#: Levels (full scale = 1.0) the float signals are multiplied by; integers are clipped to their range.
LEVELS = (0.0, 1e-40, 1e-6, 0.01, 0.3, 1.0, 4.0, 1e3, 1e30, 3e38, 1e300)
VALID_RATES = (8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000)
BAD_RATES = (0, -16000, 7999, 7999.99, 192000.5, 192001, 10**9, float("nan"), float("inf"), "16000", None, True)
#: Slack of the window check for a window typed as the rounded duration (noise.validate_noise_window).
END_SLACK_S = 5e-4


# ---------------------------------------------------------------- making hostile input


def as_dtype(x: np.ndarray, dtype) -> np.ndarray:
    """Float audio (full scale 1.0) as ``dtype`` samples, clipped to the type's range."""
    if np.issubdtype(dtype, np.floating):
        with np.errstate(over="ignore"):
            return x.astype(dtype)
    info = np.iinfo(dtype)
    offset = (int(info.max) + 1) // 2 if info.min == 0 else 0
    full = int(info.max) + 1 - offset
    return np.clip(np.round(x * full) + offset, info.min, info.max).astype(dtype)


def make_signal(kind: str, n: int, channels: int | None, sr: float, level: float, offset: float, seed: int, dtype) -> np.ndarray:
    """``n`` samples of ``kind`` at ``level`` plus ``offset``, shaped ``(n,)`` or ``(n, channels)``, as ``dtype``."""
    rng = np.random.default_rng(seed)
    width = channels or 1
    t = np.arange(n)[:, None] / (sr if isinstance(sr, (int, float)) and math.isfinite(sr) and sr > 0 else SR)
    if kind == "noise":
        x = rng.standard_normal((n, width))
    elif kind == "tone":
        x = np.sin(2 * np.pi * rng.uniform(50, 3000) * t + np.arange(width))
    elif kind == "dc-offset":
        x = np.ones((n, width))
    elif kind == "square":
        x = np.sign(np.sin(2 * np.pi * rng.uniform(50, 1000) * t + np.arange(width)))
    elif kind == "impulse":
        x = np.zeros((n, width))
        x[rng.integers(0, n), :] = 1.0
    elif kind == "extremes":
        x = np.where(rng.integers(0, 2, (n, width)) == 1, 1.0, -1.0)
    else:
        x = np.zeros((n, width))
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "extremes" and np.issubdtype(dtype, np.floating):
            x = x * float(np.finfo(dtype).max)  # the largest finite values of the type
        else:
            x = x * level + offset
        y = as_dtype(x, dtype)
    return y[:, 0] if channels is None else y


@dataclass
class Case:
    """One drawn call of ``denoise`` and what about it is wrong, if anything."""

    y: np.ndarray
    sr: Any
    noise_window: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    bad: set = field(default_factory=set)  # the DenoiseError subclasses a refusal may rightly be
    window_is_edge: bool = False  # so close to a limit of the window check that both outcomes are fair

    @property
    def must_refuse(self) -> set:
        """The errors of which one must be raised (an edge window may go either way)."""
        return self.bad - ({NoiseWindowError} if self.window_is_edge else set())


def _window_verdict(window, duration_s: float, min_len_s: float) -> str:
    """'valid', 'invalid' or 'edge' (within float rounding of a limit) for a window drawn below."""
    try:
        start, end = (float(v) for v in window)
    except (TypeError, ValueError):
        return "invalid"
    if not (math.isfinite(start) and math.isfinite(end)):
        return "invalid"
    eps = 1e-9
    margins = (start, end - start, duration_s + END_SLACK_S - end, (end - start) - min_len_s)
    if any(m < -eps for m in margins):
        return "invalid"
    if any(abs(m) <= eps for m in margins):
        return "edge"
    return "valid"


@st.composite
def windows(draw, duration_s: float, min_len_s: float):
    """Noise windows: none, valid ones, and zero-length, reversed, negative, beyond the end, not numbers."""
    choice = draw(st.integers(0, 19))
    if choice <= 7:
        return None
    if choice <= 13:
        room = max(duration_s - min_len_s, 0.0)
        start = draw(st.floats(0.0, 1.0)) * room
        return (start, start + min_len_s + draw(st.floats(0.0, 1.0)) * (room - start))
    if choice <= 16:
        start = draw(st.floats(-0.2, 1.2)) * duration_s
        end = draw(st.floats(-0.2, 1.3)) * duration_s
        return (start, end)
    d = duration_s
    return draw(
        st.sampled_from(
            [
                (0.0, 0.0),
                (0.5 * d, 0.5 * d),
                (0.75 * d, 0.25 * d),
                (-0.1, 0.5 * d),
                (-1.0, -0.5),
                (0.0, d),
                (0.0, d + 1.0),
                (d + 1.0, d + 2.0),
                (0.0, 1e-9),
                (float("nan"), d),
                (0.0, float("inf")),
                (0.0,),
                (0.0, 0.1, 0.2),
                "0 1",
                [0, d],
            ]
        )
    )


@st.composite
def setting(draw, name: str) -> tuple[Any, bool]:
    """A value of one DenoiseParams field and whether it is out of range."""
    low, high = DenoiseParams.RANGES[name]
    choice = draw(st.integers(0, 39))
    if choice == 0:
        bad = draw(
            st.sampled_from(
                [np.nextafter(low, -np.inf), np.nextafter(high, np.inf), low - 1.0, high + 1.0, float("nan"), float("inf"), -float("inf"), "3", None]
            )
        )
        # None is "off" for an optional setting, and the engine's own strength for reduction_db.
        return bad, not (bad is None and (name in PARAM_OPTIONAL or name == "reduction_db"))
    if choice <= 6:
        return draw(st.sampled_from([low, high])), False
    return draw(st.floats(low, high)), False


@st.composite
def hostile_cases(draw) -> Case:
    dtype = draw(st.sampled_from(DTYPES))
    channels = draw(st.sampled_from([None, 1, 2, 3, 4, 5, 6, 7, 8]))
    n = draw(st.one_of(st.integers(1, 64), st.integers(1, 20000 // (channels or 1))))
    kind = draw(st.sampled_from(KINDS))
    level = draw(st.sampled_from(LEVELS))
    offset = draw(st.sampled_from([0.0, 0.0, 0.5, -1.0, 3.0]))
    rate_choice = draw(st.integers(0, 9))
    if rate_choice == 0:
        sr = draw(st.sampled_from(BAD_RATES))
    elif rate_choice <= 6:
        sr = draw(st.sampled_from(VALID_RATES))
    else:
        sr = draw(st.one_of(st.integers(8000, 192000), st.floats(8000, 192000)))
    y = make_signal(kind, n, channels, sr, level, offset, draw(st.integers(0, 2**32 - 1)), dtype)
    case = Case(y=y, sr=sr)

    rate_ok = not isinstance(sr, bool) and isinstance(sr, (int, float)) and math.isfinite(sr) and 8000 <= sr <= 192000
    if not rate_ok:
        case.bad.add(AudioInputError)
    if not np.isfinite(y).all():
        case.bad.add(AudioInputError)

    n_fft_choice = draw(st.integers(0, 19))
    n_fft = None
    if n_fft_choice <= 1:
        n_fft = draw(st.sampled_from([16, 17, 100, 256, 1000, 4096, 65536]))
    elif n_fft_choice == 2:
        n_fft = draw(st.sampled_from([8, 0, -512, 65537, 512.0, "512"]))
        case.bad.add(ParameterError)
    if n_fft is not None:
        case.kwargs["n_fft"] = n_fft

    for name in DenoiseParams.RANGES:
        value, bad = draw(setting(name))
        case.kwargs[name] = value
        if bad:
            case.bad.add(ParameterError)

    duration_s = n / sr if rate_ok else 1.0
    fft = n_fft if isinstance(n_fft, int) and 16 <= n_fft <= 65536 else StftConfig.for_sr(sr if rate_ok else SR).n_fft
    min_len_s = min(fft / sr, duration_s) if rate_ok else 0.0
    case.noise_window = draw(windows(duration_s, min_len_s))
    if case.noise_window is not None:
        verdict = _window_verdict(case.noise_window, duration_s, min_len_s)
        if verdict != "valid":
            case.bad.add(NoiseWindowError)
        case.window_is_edge = verdict == "edge"
    return case


def is_known_auto_window_bug(case: Case, exc: DenoiseError) -> bool:
    """The automatic mode refusing its own window by one float ulp (see test_automatic_window_is_never_refused)."""
    return case.noise_window is None and isinstance(exc, NoiseWindowError) and "one analysis frame" in str(exc)


def is_known_odd_n_fft_bug(case: Case) -> bool:
    """An odd ``n_fft`` reads one sample too few for the last noise frame (see test_odd_n_fft_keeps_the_promise)."""
    n_fft = case.kwargs.get("n_fft")
    return isinstance(n_fft, int) and n_fft % 2 == 1 and not case.must_refuse


def assert_promise(y_in: np.ndarray, out: np.ndarray) -> None:
    assert out.dtype == np.float32, out.dtype
    assert out.shape == np.shape(y_in), (out.shape, np.shape(y_in))
    assert np.isfinite(out).all()
    assert float(np.max(np.abs(out))) <= 1.0


# ---------------------------------------------------------------- the property


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=hostile_cases())
def test_denoise_returns_the_promised_audio_or_a_deserved_denoise_error(case):
    note(f"y {case.y.dtype} {case.y.shape}, sr {case.sr!r}, window {case.noise_window!r}, {case.kwargs}, bad {case.bad}")
    try:
        with np.errstate(all="ignore"):
            out = denoise(case.y, case.sr, noise_window=case.noise_window, **case.kwargs)
    except IndexError:
        if not is_known_odd_n_fft_bug(case):
            raise
        event("known bug: odd n_fft")
        return
    except DenoiseError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, message
        if is_known_auto_window_bug(case, exc):
            event("known bug: automatic window refused by one ulp")
            return
        if case.window_is_edge and isinstance(exc, NoiseWindowError):
            event("refused: window at a limit")
            return
        assert isinstance(exc, tuple(case.bad)) if case.bad else False, (
            f"{type(exc).__name__} ({message}) for input that is only wrong in {case.bad or 'nothing'}"
        )
        event(f"refused: {type(exc).__name__}")
        return
    assert not case.must_refuse, f"accepted though {case.bad}"
    assert_promise(case.y, out)
    if not np.any(case.y.astype(np.float64) - (128.0 if case.y.dtype == np.uint8 else 0.0)):
        assert not out.any(), "silence in, sound out"
    event("processed")


# ---------------------------------------------------------------- explicit cases


def tone_and_noise(n: int, sr: int, channels: int | None = None, seed: int = 7) -> np.ndarray:
    """A 440 Hz tone at 0.3 over white noise at -40 dBFS, float32, (n,) or (n, channels)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None] / sr
    y = 0.3 * np.sin(2 * np.pi * 440 * t + np.arange(channels or 1)) + 0.01 * rng.standard_normal((n, channels or 1))
    y = y.astype(np.float32)
    return y[:, 0] if channels is None else y


@pytest.mark.parametrize(
    ("where", "value", "match"),
    [
        pytest.param(0, np.nan, r"NaN or infinite.*first at sample 0", id="nan-first"),
        pytest.param(999, np.nan, r"NaN or infinite.*first at sample 999", id="nan-last"),
        pytest.param(500, np.inf, r"NaN or infinite.*first at sample 500", id="plus-inf"),
        pytest.param(1, -np.inf, r"NaN or infinite.*first at sample 1", id="minus-inf"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_nan_and_inf_are_refused_naming_the_sample(where, value, match, dtype):
    y = np.full(1000, 0.1, dtype)
    y[where] = value
    with pytest.raises(AudioInputError, match=match):
        denoise(y, SR)


def test_nan_in_one_of_eight_channels_is_refused():
    y = tone_and_noise(4000, SR, channels=8)
    y[1234, 6] = np.nan
    with pytest.raises(AudioInputError, match=r"NaN or infinite.*first at sample 1234"):
        denoise(y, SR)


def test_finite_float64_beyond_float32_range_is_scaled_not_called_nan():
    # Finite samples above full scale are divided by their peak on the way in
    # (in float64, before any cast to float32) and the result is clipped.
    y = np.full(1000, 1e300)
    y[::2] = -1e300
    out = denoise(y, SR)
    assert out.dtype == np.float32 and out.shape == y.shape
    assert np.isfinite(out).all() and np.abs(out).max() <= 1.0


@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 8), (5000,), (5000, 2), (7, 8)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("noise_window", [None, "whole"], ids=["auto", "window"])
def test_all_zero_audio_gives_all_zero_audio(shape, dtype, noise_window):
    y = np.full(shape, 128 if dtype == np.uint8 else 0, dtype)  # 128 is silence in 8-bit unsigned
    out = denoise(y, SR, noise_window=(0.0, shape[0] / SR) if noise_window else None)
    assert out.shape == shape and out.dtype == np.float32
    assert not out.any()


@pytest.mark.parametrize("sr", [8000, 16000, 48000, 192000], ids=lambda sr: f"{sr}Hz")
@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 2), (1, 8)], ids=str)
def test_a_single_sample_keeps_its_shape(sr, shape):
    y = np.full(shape, 0.5, np.float32)
    out = denoise(y, sr)
    assert_promise(y, out)


@pytest.mark.parametrize("sr", [8000, 44100, 192000], ids=lambda sr: f"{sr}Hz")
@pytest.mark.parametrize("fraction", [2, 3, 4], ids=["half-frame", "two-thirds", "three-quarters"])
@pytest.mark.parametrize("window", [None, "whole"], ids=["auto", "window"])
def test_shorter_than_one_frame_keeps_its_length(sr, fraction, window):
    n = StftConfig.for_sr(sr).n_fft * (fraction - 1) // fraction
    y = tone_and_noise(n, sr, channels=2)
    out = denoise(y, sr, noise_window=(0.0, n / sr) if window else None)
    assert_promise(y, out)


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint8], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("offset", [0.5, -0.9], ids=["plus-half", "minus-0.9"])
def test_dc_offset_comes_back_within_full_scale_and_no_louder(dtype, offset):
    y_float = (offset + tone_and_noise(SR, SR) * 0.3).astype(np.float32)
    y = as_dtype(y_float, dtype)
    out = denoise(y, SR)
    assert_promise(y, out)
    rms_in = float(np.sqrt(np.mean(y_float.astype(np.float64) ** 2)))
    rms_out = float(np.sqrt(np.mean(out.astype(np.float64) ** 2)))
    assert rms_out <= 1.01 * rms_in  # the gate only ever turns sound down


@pytest.mark.parametrize(
    ("dtype", "peak"),
    [(np.int16, 1.0), (np.int32, 1.0), (np.uint8, 1.0), (np.float32, 1.0), (np.float32, 4.0), (np.float64, 1e3)],
    ids=["int16", "int32", "uint8", "float32-full", "float32-x4", "float64-x1000"],
)
def test_clipped_square_comes_back_within_full_scale(dtype, peak):
    t = np.arange(2 * SR) / SR
    square = np.sign(np.sin(2 * np.pi * 220 * t)) * peak
    y = as_dtype(square, dtype)
    out = denoise(y, SR)
    assert_promise(y, out)
    # Zero reduction (and no hum removal: a steady harmonic series is what a hum looks
    # like) leaves it as it was: the square at full scale (clipped), not louder.
    flat = denoise(y, SR, reduction_db=0.0, hum="off")
    assert_promise(y, flat)
    assert float(np.max(np.abs(flat - np.clip(square, -1, 1)))) < 2e-2


@pytest.mark.parametrize("sr", [8000, 192000], ids=["8kHz", "192kHz"])
@pytest.mark.parametrize("channels", [None, 2], ids=["mono", "stereo"])
def test_extreme_rates_reduce_noise_by_the_reduction(sr, channels):
    rng = np.random.default_rng(3)
    noise = (0.05 * rng.standard_normal((sr, channels or 1))).astype(np.float32)
    y = noise[:, 0] if channels is None else noise
    out = denoise(y, sr, noise_window=(0.0, 0.5), reduction_db=12.0)
    assert_promise(y, out)
    drop_db = 10 * np.log10(np.mean(y.astype(np.float64) ** 2) / np.mean(out.astype(np.float64) ** 2))
    assert 6.0 <= drop_db <= 12.5, drop_db  # noise alone goes down by about, never more than, 12 dB


@pytest.mark.parametrize("channels", range(1, 9), ids=lambda c: f"{c}ch")
def test_one_to_eight_channels_keep_their_shape_and_a_silent_channel_stays_silent(channels):
    y = tone_and_noise(SR // 2, SR, channels=channels)
    y[:, -1] = 0.0
    out = denoise(y, SR)
    assert_promise(y, out)
    assert not out[:, -1].any()
    if channels > 1:
        # A tone held through the whole recording is part of its noise profile (the
        # quietest stretch holds it): it is turned down, never up, and never to nothing.
        level_in, level_out = (float(np.sqrt(np.mean(np.square(a[:, 0], dtype=np.float64)))) for a in (y, out))
        assert 0.0 < level_out <= 1.01 * level_in


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_every_sample_type_gives_the_float_result(dtype):
    """8-bit unsigned, 16-, 32-bit integer and 64-bit float are read at the same full scale as float32."""
    y_float = tone_and_noise(SR, SR, channels=2)
    y = as_dtype(y_float, dtype)
    expected = denoise(y_float, SR, noise_window=(0.0, 0.5))
    out = denoise(y, SR, noise_window=(0.0, 0.5))
    assert_promise(y, out)
    # Within one quantiser step of the type (float32 rounding for 32-bit integers).
    step = {np.uint8: 2.0**-7, np.int16: 2.0**-15}.get(dtype, 0.0)
    assert float(np.max(np.abs(out - expected))) <= max(step, 1e-6)


def test_24_bit_samples_in_int32_are_read_at_full_scale():
    """soundfile hands 24-bit files over as int32 with the samples in the top 24 bits."""
    y_float = tone_and_noise(SR, SR)
    y24 = (np.round(y_float * 2**23).astype(np.int32) << 8).astype(np.int32)
    out = denoise(y24, SR, reduction_db=0.0)
    assert_promise(y24, out)
    assert float(np.max(np.abs(out - y_float))) < 1e-4


@pytest.mark.parametrize(
    ("window", "match"),
    [
        pytest.param((0.2, 0.2), r"must end after it starts, got 0\.200 s to 0\.200 s \(valid range: 0 to 1\.000 s\)", id="zero-length"),
        pytest.param((0.0, 0.0), r"must end after it starts", id="zero-length-at-start"),
        pytest.param((0.6, 0.3), r"must end after it starts, got 0\.600 s to 0\.300 s", id="reversed"),
        pytest.param((-0.1, 0.3), r"starts before the recording \(-0\.100 s; valid range: 0 to 1\.000 s\)", id="negative-start"),
        pytest.param((-0.5, -0.1), r"starts before the recording", id="wholly-negative"),
        pytest.param((0.5, 1.5), r"ends at 1\.500 s, after the end of the recording \(valid range: 0 to 1\.000 s\)", id="beyond-the-end"),
        pytest.param((2.0, 3.0), r"ends at 3\.000 s, after the end", id="wholly-beyond-the-end"),
        pytest.param((0.0, 0.001), r"0\.001 s long; it must be at least 0\.032 s", id="shorter-than-a-frame"),
        pytest.param((float("nan"), 0.5), r"not finite", id="nan"),
        pytest.param((0.0, float("inf")), r"not finite", id="inf"),
        pytest.param((0.5,), r"must be two numbers", id="one-number"),
        pytest.param((0.1, 0.2, 0.3), r"must be two numbers", id="three-numbers"),
        pytest.param("start", r"must be two numbers", id="words"),
    ],
)
def test_bad_window_is_refused_with_the_valid_range(window, match):
    with pytest.raises(NoiseWindowError, match=match):
        denoise(tone_and_noise(SR, SR), SR, noise_window=window)


@pytest.mark.parametrize(
    "window",
    [(0.0, 1.0), (0.0, 1.0004), (0.968, 1.0), (0.0, 0.032), [0.25, 0.75], (np.float32(0.1), np.float64(0.4))],
    ids=["whole", "rounded-duration", "last-frame", "one-frame", "list", "numpy-numbers"],
)
def test_window_at_the_limits_is_accepted(window):
    y = tone_and_noise(SR, SR)
    out, report = denoise(y, SR, noise_window=window, return_report=True)
    assert_promise(y, out)
    assert report.noise_method == "window"


@pytest.mark.parametrize(
    ("y", "sr"),
    [
        (np.full(3110, 0.3, np.float32), 48000),
        (np.full((3750, 8), 0.6, np.float32), 48000),
        (np.full(12294, 0.3, np.float32), 192000),
    ],
    ids=["48kHz-mono-3110", "48kHz-8ch-3750", "192kHz-mono-12294"],
)
def test_automatic_window_is_never_refused(y, sr):
    """No window was given, so no NoiseWindowError can be the caller's fault."""
    out = denoise(y, sr)
    assert_promise(y, out)


@pytest.mark.parametrize("noise_window", [(0.0, 0.5), None], ids=["window", "auto"])
@pytest.mark.parametrize("n_fft", [17, 513, 1001, 1023], ids=lambda n: f"n_fft{n}")
def test_odd_n_fft_keeps_the_promise(n_fft, noise_window):
    y = tone_and_noise(3 * SR, SR)
    out = denoise(y, SR, n_fft=n_fft, noise_window=noise_window)
    assert_promise(y, out)


def _just_outside(name: str, end: str) -> float:
    low, high = DenoiseParams.RANGES[name]
    return float(np.nextafter(low, -np.inf)) if end == "low" else float(np.nextafter(high, np.inf))


@pytest.mark.parametrize("end", ["low", "high"])
@pytest.mark.parametrize("name", list(DenoiseParams.RANGES))
def test_each_setting_at_its_range_ends_keeps_the_promise(name, end):
    low, high = DenoiseParams.RANGES[name]
    y = tone_and_noise(SR, SR, channels=2)
    out = denoise(y, SR, **{name: low if end == "low" else high})
    assert_promise(y, out)


@pytest.mark.parametrize("end", ["low", "high"])
@pytest.mark.parametrize("name", list(DenoiseParams.RANGES))
def test_each_setting_just_outside_its_range_is_a_parameter_error(name, end):
    low, high = DenoiseParams.RANGES[name]
    with pytest.raises(ParameterError, match=rf"^{name} must be between {low:g} and {high:g}, got "):
        denoise(tone_and_noise(SR, SR), SR, **{name: _just_outside(name, end)})


@pytest.mark.parametrize(
    ("sr", "match"),
    [
        (7999, r"7999 Hz; it must be between 8000 and 192000 Hz"),
        (192001, r"192001 Hz; it must be between"),
        (0, r"0 Hz; it must be between"),
        (-16000, r"-16000 Hz"),
        (float("inf"), r"inf Hz"),
        (True, r"must be a number in Hz"),
        (None, r"must be a number in Hz"),
    ],
    ids=["7999", "192001", "zero", "negative", "inf", "bool", "none"],
)
def test_rate_outside_8_to_192_khz_is_refused(sr, match):
    with pytest.raises(AudioInputError, match=match):
        denoise(tone_and_noise(1000, SR), sr)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros(0, np.float32), r"empty"),
        (np.zeros((10, 0), np.float32), r"empty"),
        (np.zeros((10, 2, 2), np.float32), r"3 dimensions"),
        (np.zeros((), np.float32), r"0 dimensions"),
        (np.ones(100, complex), r"real numbers, got dtype complex128"),
        (np.ones(100, bool), r"real numbers, got dtype bool"),
        (np.array(["a", "b"]), r"real numbers"),
        (np.array([0.1, None], object), r"real numbers, got dtype object"),
        (np.zeros((100, 65), np.float32), r"65 channels"),
    ],
    ids=["empty", "no-channels", "3-d", "scalar", "complex", "bool", "strings", "object", "65-channels"],
)
def test_arrays_that_are_not_audio_are_refused(y, match):
    with pytest.raises(AudioInputError, match=match):
        denoise(y, SR)
