"""The classic gate's high bands (denoise_core.gain.high_bands): their own floor beside words."""

from __future__ import annotations

import numpy as np
import pytest

import denoise_core
from denoise_core.gain import HIGH_BAND_HZ, HIGH_BAND_RANGE_DB, HIGH_BAND_SNR_DB, band_floor_db, high_bands
from denoise_core.transform import StftConfig

SR = 16000


def _vowel(n: int, f0: float = 130.0) -> np.ndarray:
    """A buzz at pitch ``f0`` with 11 falling harmonics (none above 1.5 kHz), unit RMS."""
    t = np.arange(n) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 12))
    return x / np.sqrt(np.mean(x**2))


def _band(x: np.ndarray, lo_hz: float, hi_hz: float) -> np.ndarray:
    """``x`` with only its ``lo_hz``-``hi_hz`` band (by FFT over the whole signal)."""
    spectrum = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / SR)
    spectrum[(f < lo_hz) | (f > hi_hz)] = 0
    return np.fft.irfft(spectrum, len(x))


def _removed_db(x: np.ndarray, start_s: float, stop_s: float, lo_hz: float, hi_hz: float) -> float:
    """dB the classic engine takes off ``x`` in a band and a stretch, its noise sample the first second."""
    y = denoise_core.denoise(x.astype(np.float32), SR, engine="classic", noise_window=(0.0, 1.0))
    part = slice(int(start_s * SR), int(stop_s * SR))
    before, after = _band(x, lo_hz, hi_hz)[part], _band(y.astype(np.float64), lo_hz, hi_hz)[part]
    return 10 * np.log10(np.mean(before**2) / np.mean(after**2))


def _hiss_and_vowel() -> np.ndarray:
    x = np.random.default_rng(5).standard_normal(4 * SR) * 10 ** (-40 / 20)
    x[int(1.5 * SR) : 3 * SR] += _vowel(int(1.5 * SR)) * 10 ** (-30 / 20)
    return x


@pytest.mark.parametrize("sr", [16000, 44100, 48000])
def test_high_bands_are_thirds_of_an_octave_from_4_khz_to_the_top(sr):
    frequencies = StftConfig.for_sr(sr).frequencies
    bands = high_bands(frequencies)
    starts = frequencies[bands]
    assert HIGH_BAND_HZ <= starts[0] < HIGH_BAND_HZ + frequencies[1]
    np.testing.assert_allclose(starts[1:] / starts[:-1], 2 ** (1 / 3), atol=frequencies[1] / starts[0])
    # The last band runs to the top and is less than a third of an octave short of a full one.
    assert frequencies[-1] < starts[-1] * 2 ** (1 / 3) + frequencies[1]


def test_there_are_no_high_bands_without_frequencies_above_4_khz():
    assert len(high_bands(StftConfig.for_sr(8000).frequencies)) == 0


def test_hiss_above_4_khz_beside_a_vowel_is_taken_down_further_than_the_floor_around_words():
    # Around words the floor is 20 dB, but the vowel has nothing above 1.5 kHz to mask the hiss there:
    # 5-8 kHz lost 15.8 dB with the floor around words, 23.5 dB with its own at 40 dB, 31.5 dB at the
    # default 80.
    x = _hiss_and_vowel()
    assert _removed_db(x, 2.0, 2.6, 5000, 8000) > 28.0
    # Below 4 kHz the noise beside the vowel keeps the floor around words.
    assert _removed_db(x, 2.0, 2.6, 2000, 3500) == pytest.approx(16.1, abs=1.0)
    # In the pause before the vowel (0.6 s and more from it), deeper still: 73.9 dB.
    assert _removed_db(x, 0.2, 0.9, 5000, 8000) > 60.0


def test_a_band_keeps_the_floor_around_words_while_it_holds_speech_and_falls_to_the_full_depth_without():
    frame_floor = np.array([[20.0, 20.0, 20.0, 20.0, 30.0]], np.float32)
    snr_db = np.array([[[HIGH_BAND_SNR_DB + HIGH_BAND_RANGE_DB + 3, HIGH_BAND_SNR_DB + HIGH_BAND_RANGE_DB / 2,
                         HIGH_BAND_SNR_DB - 5, -30.0, HIGH_BAND_SNR_DB + HIGH_BAND_RANGE_DB]]], np.float32)
    floor = band_floor_db(frame_floor, 10 ** (snr_db / 10), 40.0)
    assert floor.shape == (1, 1, 5)
    np.testing.assert_allclose(floor[0, 0], [20.0, 30.0, 40.0, 40.0, 30.0], atol=1e-4)
