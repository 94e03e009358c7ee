"""The classic gate's third-octave bands (denoise_core.gain.floor_bands): their own floor beside words."""

from __future__ import annotations

import numpy as np
import pytest

import denoise_core
from denoise_core.gain import BAND_RANGE_DB, BAND_SNR_DB, HIGH_BAND_HZ, LOW_BAND_DB, band_floor_db, floor_bands
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
def test_bands_are_thirds_of_an_octave_from_250_hz_to_the_top_with_one_at_4_khz(sr):
    frequencies = StftConfig.for_sr(sr).frequencies
    starts = frequencies[floor_bands(frequencies)]
    assert 250.0 <= starts[0] < 250.0 + frequencies[1]
    # Narrow bands hold few bins, so their edges are as close as the bins allow (a bin either side).
    assert np.all(np.abs(starts[1:] / starts[:-1] - 2 ** (1 / 3)) <= 2 * frequencies[1] / starts[:-1])
    high = starts[starts >= HIGH_BAND_HZ]
    assert HIGH_BAND_HZ <= high[0] < HIGH_BAND_HZ + frequencies[1]
    # The last band runs to the top and is less than a third of an octave short of a full one.
    assert frequencies[-1] < starts[-1] * 2 ** (1 / 3) + frequencies[1]


def test_at_8_khz_every_band_lies_below_4_khz():
    frequencies = StftConfig.for_sr(8000).frequencies
    starts = frequencies[floor_bands(frequencies)]
    assert len(starts) == 12 and starts.max() < HIGH_BAND_HZ


def test_hiss_beside_a_vowel_is_taken_down_further_than_the_floor_around_words_where_the_vowel_has_nothing():
    # Around words the frame's floor is 20 dB, but the vowel has nothing above 1.5 kHz to mask the hiss:
    # 5-8 kHz lost 15.8 dB with the floor around words, 31.5 dB with its bands' own (at the default 80).
    x = _hiss_and_vowel()
    assert _removed_db(x, 2.0, 2.6, 5000, 8000) > 28.0
    # Below 4 kHz a band without speech goes a little deeper (18.3 dB, 16.1 with the frame's floor),
    # never beyond LOW_BAND_DB ...
    assert 17.0 < _removed_db(x, 2.0, 2.6, 2000, 3500) < LOW_BAND_DB
    # ... and the vowel's own bands keep it.
    assert _removed_db(x, 2.0, 2.6, 100, 1500) < 1.0
    # In the pause more than a second before the vowel, the noise is down by the long pause's 80 dB
    # (less the leak of the window and the time smoothing).
    assert _removed_db(x, 0.2, 0.4, 300, 8000) > 55.0


def test_a_band_keeps_the_floor_around_words_while_it_holds_speech_and_falls_deeper_without():
    frame_floor = np.array([[20.0, 20.0, 20.0, 20.0, 30.0]], np.float32)
    snr_db = np.array([[BAND_SNR_DB + BAND_RANGE_DB + 3, BAND_SNR_DB + BAND_RANGE_DB / 2,
                        BAND_SNR_DB - 5, -30.0, BAND_SNR_DB + BAND_RANGE_DB]] * 2, np.float32)[None]
    floor = band_floor_db(frame_floor, 10 ** (snr_db / 10), 40.0, np.array([1000.0, HIGH_BAND_HZ]))
    assert floor.shape == (1, 2, 5)
    # Below 4 kHz, at most LOW_BAND_DB (25 dB), and never shallower than the frame's floor.
    np.testing.assert_allclose(floor[0, 0], [20.0, 22.5, 25.0, 25.0, 30.0], atol=1e-4)
    # From 4 kHz up, reduction_db.
    np.testing.assert_allclose(floor[0, 1], [20.0, 30.0, 40.0, 40.0, 30.0], atol=1e-4)
