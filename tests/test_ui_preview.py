"""Previews of a stretch: where the stretch is, what it holds, and that it is the engine's result there."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from denoise_core import DenoiseParams, denoise_with_profile, noise_profile
from ui.controls import tidy_window
from ui.preview import (
    PREVIEW_SAMPLES,
    PreviewStore,
    Stretch,
    default_stretch,
    make_preview,
    original_of,
    stretch_at,
    stretch_frames,
    window_hint,
)


def _talk(sr: int, seconds: float, talk_from: float, talk_to: float, channels: int = 1) -> np.ndarray:
    """Steady noise everywhere, and 'speech' (a 200 Hz tone switched on and off every 0.4 s) only between two times."""
    rng = np.random.default_rng(8)
    t = np.arange(int(seconds * sr)) / sr
    voice = 0.3 * np.sin(2 * np.pi * 200 * t) * (np.mod(t, 0.8) < 0.4) * ((t >= talk_from) & (t < talk_to))
    y = voice[:, None] + 0.01 * rng.standard_normal((len(t), channels))
    return (y[:, 0] if channels == 1 else y).astype(np.float32)


@pytest.mark.parametrize(
    "sr, channels, seconds, expected",
    [(48_000, 1, 600, 900_000), (44_100, 2, 600, 450_000), (8_000, 1, 60, 480_000), (16_000, 8, 600, 112_500), (16_000, 1, 3, 48_000)],
)
def test_a_stretch_holds_at_most_the_sample_budget_and_at_least_a_second(sr, channels, seconds, expected):
    length = stretch_frames(sr, channels, int(seconds * sr))
    assert length == expected
    assert length * channels <= max(PREVIEW_SAMPLES, sr * channels)


def test_the_default_stretch_is_where_speech_and_pauses_alternate():
    sr = 8_000
    y = _talk(sr, 300.0, 200.0, 260.0)  # 300 s of noise, speech only from 200 to 260 s
    stretch = default_stretch(y, sr, 20 * sr)
    assert stretch.start_s >= 180.0 and stretch.stop_s <= 280.0
    assert stretch.n_samples == 20 * sr
    assert default_stretch(y[: 10 * sr], sr, 20 * sr) == Stretch(0, 10 * sr, sr)  # short: the whole of it


@pytest.mark.parametrize("start_s, first", [(-5.0, 0), (12.34, 123_400), (99.0, 900_000)])
def test_stretch_at_stays_inside_the_recording(start_s, first):
    stretch = stretch_at(start_s, 100_000, 1_000_000, 10_000)
    assert (stretch.start, stretch.stop) == (first, first + 100_000)


@pytest.mark.parametrize("channels", [1, 2])
def test_a_preview_is_the_engines_result_on_the_stretch_with_players_at_true_level(channels):
    sr = 16_000
    y = _talk(sr, 30.0, 5.0, 25.0, channels)
    noise = noise_profile(y, sr)
    params = DenoiseParams(reduction_db=20.0)
    stretch = Stretch(8 * sr, 18 * sr, sr)
    shown = make_preview(y, noise, params, stretch)
    expected, report = denoise_with_profile(y[stretch.start : stretch.stop], noise, params)
    np.testing.assert_array_equal(shown.audio, expected)
    assert shown.report == report and report.noise_removed_db > 10
    assert not shown.audio.flags.writeable
    for data, audio in (
        (shown.before, y[stretch.start : stretch.stop]),
        (shown.after, expected),
        (shown.removed, y[stretch.start : stretch.stop] - expected),
    ):
        decoded, player_sr = sf.read(io.BytesIO(data), dtype="float32")
        assert player_sr == sr and decoded.shape == audio.shape
        assert np.sqrt(np.mean(decoded**2)) == pytest.approx(np.sqrt(np.mean(audio**2)), rel=0.01)
    assert shown.after_picture.power.sum() < shown.before_picture.power.sum()
    # The original's part depends only on the stretch: given or made, the same preview.
    again = make_preview(y, noise, params, stretch, original_of(y, noise.config, stretch))
    assert (again.before, again.after) == (shown.before, shown.after)


def test_the_store_keeps_the_newest_and_makes_each_once():
    store = PreviewStore(capacity=2)
    made = []

    def make(value):
        return lambda: made.append(value) or value

    assert store.get("a", make(1)) == 1 and store.get("b", make(2)) == 2
    assert store.get("a", make(99)) == 1  # kept: not made again, and now the newest
    store.get("c", make(3))  # drops "b", the least recently used
    assert store.peek("b") is None and store.peek("a") == 1 and len(store) == 2
    assert made == [1, 2, 3]
    with pytest.raises(ZeroDivisionError):
        store.get("d", lambda: 1 / 0)
    assert store.peek("d") is None and len(store) == 2


@pytest.mark.parametrize(
    "typed, expected",
    [
        ((3.0, 2.0), (2.0, 3.0)),  # reversed: swapped
        ((-1.0, 0.5), (0.0, 0.5)),  # before the start: clamped
        ((9.5, 12.0), (9.5, 10.0)),  # after the end: clamped
        ((1.0, 1.001), (1.0, 1.021)),  # shorter than a frame: lengthened after its start
        ((10.0, 10.0), (9.979, 10.0)),  # at the very end: lengthened before it
        ((1.23456, 2.34567), (1.234, 2.346)),  # rounded outwards to ms
    ],
)
def test_a_typed_or_dragged_window_is_always_usable(typed, expected):
    assert tidy_window(*typed, duration_s=10.0, min_s=0.021) == pytest.approx(expected)


def test_a_window_shorter_than_half_a_second_gets_a_hint():
    assert window_hint(None, 0.5) is None
    assert window_hint((1.0, 1.5), 0.5) is None
    hint = window_hint((1.0, 1.12), 0.5)
    assert hint.startswith("The noise sample is 0.12 s long. Half a second or more")
