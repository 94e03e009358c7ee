"""Voicing (denoise_core.voicing) and what it does to the classic gate: noise that swings in a pause goes, voices and loud sounds stay."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import denoise_core
from denoise_core.transform import StftConfig
from denoise_core.voicing import VOICE_REACH_S, VoicingTracker, near_voice, reach_frames

SR = 16000
CONFIG = StftConfig.for_sr(SR)


def _vowel(n: int, f0: float = 130.0) -> np.ndarray:
    """A buzz at pitch ``f0`` with 11 falling harmonics, unit RMS: what the voice's vowels are made of."""
    t = np.arange(n) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 12))
    return x / np.sqrt(np.mean(x**2))


def _noise(n: int, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def _near_voice(x: np.ndarray, blocks: list[int] | None = None) -> np.ndarray:
    tracker = VoicingTracker(CONFIG, 1)
    edges = np.cumsum([0, *(blocks or [len(x)])])
    voiced = [tracker.push(x[None, start:stop]) for start, stop in itertools.pairwise(edges)]
    voiced += [tracker.push(x[None, edges[-1] :]), tracker.finish(len(x))]
    voiced = np.concatenate(voiced, axis=-1)
    assert voiced.shape == (1, CONFIG.n_frames(len(x)))
    return near_voice(voiced, reach_frames(CONFIG.hop_s))[0]


@pytest.mark.parametrize("f0", [85.0, 130.0, 220.0, 380.0])
def test_a_buzz_at_any_pitch_of_a_voice_is_voiced(f0):
    assert _near_voice(_vowel(2 * SR, f0)).all()


def test_white_noise_is_not_voiced():
    assert _near_voice(_noise(3 * SR)).mean() < 0.02


def test_frames_within_reach_of_a_vowel_are_near_a_voice_and_the_others_are_not():
    x = _noise(3 * SR) * 0.1
    x[SR : SR + int(0.3 * SR)] += _vowel(int(0.3 * SR))
    times = CONFIG.times(CONFIG.n_frames(len(x)))
    near = _near_voice(x)
    # The measured stretch is 43 ms long: allow half of it at each edge.
    assert near[(times > 1.0 - VOICE_REACH_S + 0.03) & (times < 1.3 + VOICE_REACH_S - 0.03)].all()
    assert not near[(times < 1.0 - VOICE_REACH_S - 0.03) | (times > 1.3 + VOICE_REACH_S + 0.03)].any()


def test_voicing_does_not_depend_on_how_the_samples_are_pushed():
    x = _noise(3 * SR, seed=3) * 0.3
    x[int(0.8 * SR) : int(1.4 * SR)] += _vowel(int(0.6 * SR), 170.0)
    whole = _near_voice(x)
    ragged = _near_voice(x, [1, 7, 1000, 4099, 65536, 3, 20011])
    np.testing.assert_array_equal(ragged, whole)
    assert 0.1 < whole.mean() < 0.5


def test_near_voice_spans_reach_frames_on_either_side_and_no_further():
    voiced = np.zeros((2, 20), dtype=bool)
    voiced[0, 10] = True
    near = near_voice(voiced, 3)
    np.testing.assert_array_equal(np.flatnonzero(near[0]), np.arange(7, 14))
    assert not near[1].any()


def test_the_voicing_of_a_frame_waits_for_the_stretch_after_it():
    tracker = VoicingTracker(CONFIG, 1)
    first = tracker.push(_vowel(SR)[None])
    rest = tracker.finish(SR)
    # The band filter lags its input, so the last frames are known only at the end; then all are.
    assert first.shape[-1] < CONFIG.n_frames(SR) - 5
    assert first.shape[-1] + rest.shape[-1] == CONFIG.n_frames(SR)


def _removed_db(x: np.ndarray, start_s: float, stop_s: float) -> float:
    """dB the classic engine takes off ``x`` between ``start_s`` and ``stop_s``, its noise sample the first second."""
    y = denoise_core.denoise(x.astype(np.float32), SR, engine="classic", noise_window=(0.0, 1.0))
    part = slice(int(start_s * SR), int(stop_s * SR))
    return 10 * np.log10(np.mean(x[part] ** 2) / np.mean(y[part] ** 2))


def _background() -> np.ndarray:
    return _noise(4 * SR) * 10 ** (-40 / 20)


def test_noise_that_swings_up_in_a_pause_is_removed_like_the_rest():
    # Moving noise: 6 dB louder for 0.6 s, no voice anywhere. The level alone took it for speech
    # (6.7 dB removed); away from any voice it is now noise, taken down like the rest.
    x = _background()
    x[2 * SR : int(2.6 * SR)] *= 10 ** (6 / 20)
    assert _removed_db(x, 2.1, 2.5) > 35.0
    assert _removed_db(x, 0.5, 1.5) > 35.0


def test_a_voice_10_db_over_the_noise_keeps_its_level_within_1_db():
    x = _background()
    x[2 * SR : int(2.6 * SR)] += _vowel(int(0.6 * SR)) * 10 ** (-30 / 20)
    assert abs(_removed_db(x, 2.1, 2.5)) < 1.0


def test_a_loud_sound_without_a_voice_is_kept_within_1_db():
    # The classic gate is for any sound: a door, a drum or a cough well above the noise stays.
    x = _background()
    x[2 * SR : int(2.6 * SR)] *= 10 ** (20 / 20)
    assert abs(_removed_db(x, 2.1, 2.5)) < 1.0
