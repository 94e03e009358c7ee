"""STFT: settings checks, frame axes and exact reconstruction (denoise_core.transform)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from denoise_core.errors import ParameterError
from denoise_core.transform import StftConfig

STANDARD_RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000, 176400, 192000]

# (id, config): the defaults of the common rates plus the awkward shapes the
# overlap-add has to get right: odd and non-power-of-two FFT sizes, a window
# shorter than the FFT, a hop that does not divide the FFT size.
CONFIGS = [
    pytest.param(StftConfig.for_sr(8000), id="default-8k"),
    pytest.param(StftConfig.for_sr(16000), id="default-16k"),
    pytest.param(StftConfig.for_sr(44100), id="default-44k1"),
    pytest.param(StftConfig.for_sr(48000), id="default-48k"),
    pytest.param(StftConfig.for_sr(192000), id="default-192k"),
    pytest.param(StftConfig(sr=16000, n_fft=300, hop_length=75, win_length=300), id="nfft300"),
    pytest.param(StftConfig(sr=16000, n_fft=17, hop_length=5, win_length=17), id="nfft17-odd"),
    pytest.param(StftConfig(sr=16000, n_fft=512, hop_length=100, win_length=400), id="win400<nfft512-hop100"),
    pytest.param(StftConfig(sr=16000, n_fft=1000, hop_length=333, win_length=999), id="nfft1000-win999-hop333"),
    pytest.param(StftConfig(sr=16000, n_fft=19, hop_length=6, win_length=17), id="nfft19-win17-hop6"),
    # 50 % overlap: the last samples are covered by one tapering window only
    # unless a frame is centred at or past the end.
    pytest.param(StftConfig(sr=16000, n_fft=512, hop_length=256, win_length=512), id="nfft512-hop256"),
    pytest.param(StftConfig(sr=16000, n_fft=512, hop_length=128, win_length=256), id="win256<nfft512-hop128"),
    pytest.param(StftConfig(sr=16000, n_fft=1000, hop_length=500, win_length=1000), id="nfft1000-hop500"),
    pytest.param(StftConfig(sr=16000, n_fft=2048, hop_length=1024, win_length=2048), id="nfft2048-hop1024"),
]


def _lengths(config: StftConfig, sr: int):
    n = config.n_fft
    return [1, 2, 15, n - 1, n, n + 1, 2 * n + 7, 4099, 3 * sr + 1]


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("sr", STANDARD_RATES, ids=[f"{sr}Hz" for sr in STANDARD_RATES])
def test_default_fft_size_gives_20_to_40_ms_frames(sr):
    n_fft = StftConfig.for_sr(sr).n_fft
    assert 0.020 <= n_fft / sr <= 0.040
    assert n_fft & (n_fft - 1) == 0, "default FFT size should be a power of two"


def test_for_sr_fills_in_consistent_defaults():
    config = StftConfig.for_sr(16000)
    assert config.n_fft == StftConfig.for_sr(16000).n_fft
    assert config.win_length == config.n_fft
    assert 1 <= config.hop_length <= config.win_length // 2


def test_for_sr_keeps_given_settings():
    config = StftConfig.for_sr(16000, n_fft=600, hop_length=123, win_length=500)
    assert (config.n_fft, config.hop_length, config.win_length) == (600, 123, 500)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param(dict(sr=16000, n_fft=8, hop_length=2, win_length=8), r"n_fft must be between 16 and 65536.*got 8", id="nfft-too-small"),
        pytest.param(dict(sr=16000, n_fft=131072, hop_length=1024, win_length=4096), r"n_fft .*got 131072", id="nfft-too-big"),
        pytest.param(dict(sr=16000, n_fft=512, hop_length=128, win_length=1024), r"win_length must be between 16 and n_fft=512.*got 1024", id="win>nfft"),
        pytest.param(dict(sr=16000, n_fft=512, hop_length=128, win_length=8), r"win_length .*got 8", id="win-too-small"),
        pytest.param(dict(sr=16000, n_fft=512, hop_length=300, win_length=512), r"hop_length must be between 1 and win_length/2=256.*got 300", id="hop>win/2"),
        pytest.param(dict(sr=16000, n_fft=512, hop_length=0, win_length=512), r"hop_length .*got 0", id="hop-zero"),
        pytest.param(dict(sr=16000, n_fft=512.0, hop_length=128, win_length=512), r"n_fft must be a whole number.*512\.0", id="float-nfft"),
        pytest.param(dict(sr=16000, n_fft=512, hop_length=True, win_length=512), r"hop_length must be a whole number.*True", id="bool-hop"),
        pytest.param(dict(sr=16000, n_fft=512, hop_length=128, win_length="512"), r"win_length must be a whole number.*'512'", id="str-win"),
    ],
)
def test_bad_settings_raise_parameter_error(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        StftConfig(**kwargs)


def test_config_is_frozen():
    config = StftConfig.for_sr(16000)
    with pytest.raises(AttributeError):
        config.n_fft = 1024  # type: ignore[misc]


def test_window_is_periodic_hann_centred_in_the_fft():
    config = StftConfig(sr=16000, n_fft=64, hop_length=8, win_length=32)
    w = config.taper
    assert w.shape == (64,)
    np.testing.assert_allclose(w[16:48], 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(32) / 32), atol=1e-12)
    assert not w[:16].any() and not w[48:].any()
    assert w.argmax() == config.n_fft // 2


# ---------------------------------------------------------------- axes


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 44100, 48000, 96000, 192000], ids=lambda sr: f"{sr}Hz")
def test_frequencies_span_zero_to_nyquist(sr):
    config = StftConfig.for_sr(sr)
    freqs = config.frequencies
    assert freqs.shape == (config.n_fft // 2 + 1,) == (config.n_freqs,)
    assert freqs[0] == 0.0
    assert freqs[-1] == pytest.approx(sr / 2)
    np.testing.assert_allclose(np.diff(freqs), sr / config.n_fft)


def test_frequencies_of_odd_fft_stay_below_nyquist():
    config = StftConfig(sr=1700, n_fft=17, hop_length=4, win_length=17)
    freqs = config.frequencies
    assert freqs.shape == (9,)
    assert freqs[-1] == pytest.approx(800.0)


@pytest.mark.parametrize("n_samples", [1, 2, 1000, 1024, 1025, 8000, 44101], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("sr", [8000, 44100, 192000], ids=lambda sr: f"{sr}Hz")
def test_times_are_hop_spaced_and_cover_every_sample(sr, n_samples):
    config = StftConfig.for_sr(sr)
    n_frames = config.n_frames(n_samples)
    times = config.times(n_frames)
    assert times.shape == (n_frames,)
    assert times[0] == 0.0
    np.testing.assert_allclose(np.diff(times), config.hop_length / sr)
    # The last sample lies between two frame centres (so it is well reconstructed)
    # and no frame lies wholly past it.
    last_sample = n_samples - 1
    assert times[-1] * sr >= last_sample
    if n_frames > 1:
        assert times[-2] * sr <= last_sample


def test_stft_shape_and_dtype_match_the_axes():
    config = StftConfig(sr=16000, n_fft=256, hop_length=64, win_length=256)
    spec = config.stft(np.zeros((3, 1000), dtype=np.float64))
    assert spec.shape == (3, config.n_freqs, config.n_frames(1000))
    assert spec.dtype == np.complex64


def test_tone_peaks_in_the_bin_the_frequency_axis_names():
    sr, config = 16000, StftConfig.for_sr(16000)
    freqs = config.frequencies
    k = 37
    t = np.arange(sr) / sr
    spec = config.stft(np.sin(2 * np.pi * freqs[k] * t))
    assert int(np.abs(spec).mean(axis=-1).argmax()) == k


@pytest.mark.parametrize("position_s", [0.0, 0.25, 0.5003, 0.99])
def test_click_lands_in_the_frame_the_time_axis_names(position_s):
    sr, config = 16000, StftConfig.for_sr(16000)
    y = np.zeros(sr, dtype=np.float32)
    y[round(position_s * sr)] = 1.0
    energy = (np.abs(config.stft(y)) ** 2).sum(axis=0)
    times = config.times(energy.shape[-1])
    assert abs(times[energy.argmax()] - position_s) <= 0.5 * config.hop_length / sr


# ---------------------------------------------------------------- exact reconstruction


@pytest.mark.parametrize("config", CONFIGS)
def test_round_trip_is_exact_for_every_length(config, rng):
    sr = 48000 if config.n_fft >= 1000 else 16000
    for n in _lengths(config, sr):
        y = rng.uniform(-1, 1, n).astype(np.float32)
        out = config.istft(config.stft(y), length=n)
        assert out.shape == (n,) and out.dtype == np.float32
        err = float(np.max(np.abs(out - y)))
        assert err < 1e-5, f"length {n}: max error {err:.3g}"


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(StftConfig(sr=16000, n_fft=16, hop_length=4, win_length=16), id="nfft16"),
        pytest.param(StftConfig(sr=16000, n_fft=17, hop_length=5, win_length=16), id="nfft17-win16-hop5"),
        pytest.param(StftConfig(sr=16000, n_fft=64, hop_length=10, win_length=48), id="nfft64-win48-hop10"),
        pytest.param(StftConfig.for_sr(8000), id="default-8k"),
    ],
)
def test_impulse_at_every_position_round_trips(config):
    n = 2 * config.n_fft + 3
    impulses = np.eye(n, dtype=np.float32)  # row i: a click at sample i
    out = config.istft(config.stft(impulses), length=n)
    assert out.shape == (n, n)
    assert float(np.max(np.abs(out - impulses))) < 1e-5


@pytest.mark.parametrize("batch_shape", [(2,), (6,), (2, 3)], ids=["stereo", "6ch", "2x3"])
def test_batch_axes_are_transformed_independently(batch_shape, rng):
    config = StftConfig.for_sr(16000)
    n = 16000 + 7
    y = rng.uniform(-1, 1, (*batch_shape, n)).astype(np.float32)
    spec = config.stft(y)
    assert spec.shape == (*batch_shape, config.n_freqs, config.n_frames(n))
    first = y.reshape(-1, n)[-1]
    np.testing.assert_array_equal(spec.reshape((-1, *spec.shape[-2:]))[-1], config.stft(first))
    out = config.istft(spec, length=n)
    assert out.shape == y.shape
    assert float(np.max(np.abs(out - y))) < 1e-5


def test_istft_of_zero_gain_is_silence(rng):
    config = StftConfig.for_sr(16000)
    spec = config.stft(rng.standard_normal(5000).astype(np.float32))
    np.testing.assert_array_equal(config.istft(spec * 0, length=5000), np.zeros(5000, np.float32))


def test_istft_rejects_wrong_number_of_bins():
    config = StftConfig(sr=16000, n_fft=512, hop_length=128, win_length=512)
    with pytest.raises(ParameterError, match=r"129 frequency bins, expected 257 for n_fft=512"):
        config.istft(np.zeros((129, 10), np.complex64), length=1000)

@given(sr=st.integers(min_value=8000, max_value=192000))
def test_default_fft_size_gives_20_to_40_ms_frames_at_any_rate(sr):
    assert 0.020 <= StftConfig.for_sr(sr).n_fft / sr <= 0.040


@pytest.mark.parametrize(
    ("sr", "match"),
    [
        pytest.param(0, r"sr must be a positive sample rate in Hz, got 0", id="zero"),
        pytest.param(float("nan"), r"got nan", id="nan"),
        pytest.param("16000", r"got '16000'", id="str"),
    ],
)
def test_bad_sample_rate_of_a_transform_raises(sr, match):
    with pytest.raises(ParameterError, match=match):
        StftConfig(sr=sr, n_fft=512, hop_length=256, win_length=512)


def test_transform_knows_its_rate_for_its_axes():
    config = StftConfig.for_sr(16000, n_fft=512)
    assert config.sr == 16000.0 and config.hop_s == pytest.approx(128 / 16000)  # 75 % overlap
    assert config.frequencies[1] == pytest.approx(16000 / 512)
    np.testing.assert_allclose(config.times(3), [0.0, 0.008, 0.016])
