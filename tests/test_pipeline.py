"""The in-memory API: denoise(), noise_profile(), denoise_with_profile() and the report (denoise_core.pipeline)."""

from __future__ import annotations

import itertools
from dataclasses import asdict

import numpy as np
import pytest

from denoise_core import (
    AudioInputError,
    DenoiseParams,
    DenoiseReport,
    NoiseWindowError,
    ParameterError,
    denoise,
    denoise_with_profile,
    gain,
    noise_profile,
)
from denoise_core.source import Source

SR = 16000

LAYOUTS = {"mono": None, "stereo": 2, "6ch": 6}


def _as_dtype(y: np.ndarray, dtype) -> np.ndarray:
    """Float audio in [-1, 1) as ``dtype`` samples, the way a file reader would hand them over."""
    if dtype == np.uint8:
        return np.clip(np.round(y * 128 + 128), 0, 255).astype(np.uint8)
    if np.issubdtype(dtype, np.integer):
        full = np.iinfo(dtype).max + 1
        return np.clip(np.round(y * full), -full, full - 1).astype(dtype)
    return y.astype(dtype)


@pytest.fixture
def speech_like(speech_bursts, make_noise):
    """3 s of harmonic bursts with a noise-only stretch at 1-2 s, over white noise at -45 dBFS."""
    return speech_bursts(SR, 3.0, (1.0, 2.0)) + make_noise(3 * SR, -45.0)


@pytest.fixture
def noisy_speech(load_data, rng):
    """speech_16k.wav after 0.5 s of silence, plus white noise at 10 dB SNR; returns (clean, noisy)."""
    clean, sr = load_data("speech_16k.wav")
    assert sr == SR
    clean = np.concatenate([np.zeros(SR // 2, np.float32), clean])
    noise_rms = np.sqrt(np.mean(clean[SR // 2 :] ** 2) / 10 ** (10 / 10))
    return clean, (clean + noise_rms * rng.standard_normal(clean.size)).astype(np.float32)


# ---------------------------------------------------------------- shapes, types, rates


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint8, np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_output_is_float32_of_the_input_shape(speech_bursts, make_noise, layout, dtype):
    n_channels = LAYOUTS[layout]
    n = SR + 1
    y = speech_bursts(SR, n / SR, (0.3, 0.6))[:n]
    y = y[:, None] * np.linspace(1.0, 0.5, n_channels)[None, :] if n_channels else y
    y = _as_dtype(y + make_noise(n, -40.0, n_channels), dtype)
    out = denoise(y, SR, engine="classic")
    assert out.dtype == np.float32
    assert out.shape == y.shape
    assert np.isfinite(out).all()
    assert np.abs(out).max() <= 1.0


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 44100, 48000, 96000, 192000], ids=lambda sr: f"{sr}Hz")
def test_every_sample_rate_keeps_an_odd_length(make_noise, make_tone, sr):
    n = int(0.6 * sr) | 1
    y = make_tone(440, n / sr, sr, 0.2)[:n] + make_noise(n, -40.0)
    out, report = denoise(y, sr, return_report=True, engine="classic")
    assert out.shape == (n,)
    assert np.isfinite(out).all() and np.abs(out).max() <= 1.0
    # With no noise-only stretch nothing may rise above the noise: the SNRs are then None, never inf or NaN.
    for snr in (report.snr_before_db, report.snr_after_db):
        assert snr is None or np.isfinite(snr)
    assert np.isfinite(report.noise_removed_db)


def test_loud_float_input_comes_back_within_full_scale(make_noise):
    y = make_noise(SR, 10.0)  # RMS 3.2, far above full scale
    out = denoise(y, SR, engine="classic")
    assert out.shape == y.shape
    assert np.isfinite(out).all()
    assert np.abs(out).max() <= 1.0


def test_integer_input_is_read_at_full_scale(speech_like):
    as_int = _as_dtype(speech_like, np.int16)
    np.testing.assert_allclose(denoise(as_int, SR, engine="classic"), denoise(as_int / np.float32(32768), SR, engine="classic"), atol=1e-6)


def test_result_is_deterministic(speech_like):
    np.testing.assert_array_equal(denoise(speech_like, SR, engine="classic"), denoise(speech_like, SR, engine="classic"))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("y", "sr", "match"),
    [
        pytest.param(np.zeros(1000, np.float32), 7999, r"7999 Hz; it must be between 8000 and 192000 Hz", id="sr-below"),
        pytest.param(np.zeros(1000, np.float32), 192001, r"192001 Hz", id="sr-above"),
        pytest.param(np.zeros(1000, np.float32), float("nan"), r"nan Hz", id="sr-nan"),
        pytest.param(np.zeros(1000, np.float32), "44100", r"must be a number in Hz", id="sr-str"),
        pytest.param(np.zeros(0, np.float32), SR, r"empty", id="empty"),
        pytest.param(np.zeros((0, 2), np.float32), SR, r"empty", id="empty-stereo"),
        pytest.param(np.array([0.0, np.nan, 0.0], np.float32), SR, r"NaN or infinite", id="nan"),
        pytest.param(np.array([0.0, 0.0, np.inf], np.float64), SR, r"NaN or infinite", id="inf"),
        pytest.param(np.zeros((100, 2, 2), np.float32), SR, r"3 dimensions", id="3d"),
        pytest.param(np.zeros((1000, 65), np.float32), SR, r"65 channels", id="65-channels"),
        pytest.param(np.zeros((2, 16000), np.float32), SR, r"16000 channels.*transpose", id="transposed"),
    ],
)
def test_unusable_audio_or_rate_raises_audio_input_error(y, sr, match):
    with pytest.raises(AudioInputError, match=match):
        denoise(y, sr, engine="classic")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param(dict(reduction_db=-1.0), r"^reduction_db must be between", id="reduction-negative"),
        pytest.param(dict(reduction_db=101.0), r"^reduction_db must be between 0 and 100", id="reduction-high"),
        pytest.param(dict(threshold_db=float("nan")), r"^threshold_db must be between", id="threshold-nan"),
        pytest.param(dict(freq_smooth_hz="wide"), r"^freq_smooth_hz must be a number", id="freq-smooth-str"),
        pytest.param(dict(time_smooth_ms=501.0), r"^time_smooth_ms must be between", id="time-smooth-high"),
        pytest.param(dict(n_fft=8), r"^n_fft must be between 16", id="n-fft-small"),
        pytest.param(dict(n_fft=512, hop_length=400), r"^hop_length must be between 1 and win_length/2", id="hop-too-big"),
    ],
)
def test_bad_setting_raises_parameter_error(speech_like, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        denoise(speech_like, SR, **kwargs)


def test_window_beyond_the_end_raises_with_the_duration(speech_like):
    with pytest.raises(NoiseWindowError, match=r"ends at 10\.000 s.*valid range: 0 to 3\.000 s"):
        denoise(speech_like, SR, noise_window=(0.0, 10.0), engine="classic")


# ---------------------------------------------------------------- what it does to sound


@pytest.mark.parametrize("source", ["noise", "speech-file", "stereo-bursts", "int16"])
def test_zero_reduction_returns_the_input(source, make_noise, load_data, speech_bursts):
    if source == "noise":
        y = make_noise(2 * SR + 3, -20.0)
        expected = y
    elif source == "speech-file":
        y, _ = load_data("speech_16k.wav")
        expected = y
    elif source == "stereo-bursts":
        bursts = speech_bursts(SR, 2.0, (0.5, 1.0))
        y = np.stack([bursts, 0.5 * bursts[::-1]], axis=1) + make_noise(2 * SR, -40.0, 2)
        expected = y
    else:
        y = _as_dtype(speech_bursts(SR, 2.0, (0.5, 1.0)) + make_noise(2 * SR, -40.0), np.int16)
        expected = y / np.float32(32768)
    out = denoise(y, SR, reduction_db=0.0, engine="classic")
    assert out.shape == y.shape
    assert float(np.max(np.abs(out - expected))) < 1e-4


@pytest.mark.parametrize("noise_window", [None, (0.0, 0.5)], ids=["auto", "window"])
@pytest.mark.parametrize(
    "y",
    [np.zeros(SR, np.float32), np.zeros((SR, 2), np.float64), np.zeros(SR, np.int16)],
    ids=["mono-float32", "stereo-float64", "mono-int16"],
)
def test_silence_in_gives_silence_out(y, noise_window):
    out, report = denoise(y, SR, noise_window=noise_window, return_report=True, engine="classic")
    assert out.shape == y.shape
    assert float(np.max(np.abs(out))) < 1e-7
    assert report.noise_removed_db == 0.0  # nothing there, nothing removed


# Up to about one frame (512 samples at 16 kHz).
@pytest.mark.parametrize("n_samples", [1, 2, 10, 100, 511, 512, 513], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("content", ["noise", "zeros"])
def test_very_short_input_keeps_its_length(rng, n_samples, content):
    y = np.zeros(n_samples, np.float32) if content == "zeros" else rng.uniform(-0.5, 0.5, n_samples).astype(np.float32)
    out = denoise(y, SR, engine="classic")
    assert out.shape == (n_samples,)
    assert np.isfinite(out).all()
    if content == "zeros":
        assert not out.any()


def test_short_stereo_input_keeps_its_shape(rng):
    y = rng.uniform(-0.5, 0.5, (7, 2)).astype(np.float32)
    assert denoise(y, SR, engine="classic").shape == (7, 2)


def test_noise_in_speech_pauses_drops_by_at_least_10_db(noisy_speech):
    clean, noisy = noisy_speech
    out = denoise(noisy, SR, noise_window=(0.0, 0.5), reduction_db=20.0, engine="classic")
    pauses = _pause_frames(clean)
    assert pauses.sum() >= 20  # enough pause to measure
    drop_db = 10 * np.log10(_frame_power(noisy, pauses) / _frame_power(out, pauses))
    assert drop_db >= 10.0


def _drop_db(noisy: np.ndarray, out: np.ndarray, start_s: float, stop_s: float) -> float:
    """dB the noise went down by in the 20 ms frames from ``start_s`` to ``stop_s``."""
    which = np.zeros(len(noisy) // int(0.02 * SR), dtype=bool)
    which[int(np.ceil(start_s / 0.02)) : int(stop_s / 0.02)] = True
    return 10 * np.log10(_frame_power(noisy, which) / _frame_power(out, which))


def test_white_noise_drops_furthest_in_a_long_pause_and_least_between_words_at_defaults(load_data, rng):
    # The sentence, a gap of 1 s, the sentence, a pause of 3 s, the sentence, in white noise at 10 dB
    # SNR. In the pause, farther than LONG_PAUSE_S from any word, the floor is reduction_db (80 dB)
    # deep; in the gap, never farther than PAUSE_DEEP_S from a word, at most PAUSE_DB (40 dB); in the
    # short gaps inside the sentence, which the voice masks, less (at most NEAR_SPEECH_DB below 4 kHz).
    speech, sr = load_data("speech_16k.wav")
    assert sr == SR
    n = speech.size / SR
    clean = np.concatenate([np.zeros(SR // 2), speech, np.zeros(SR), speech, np.zeros(3 * SR), speech])
    noise_rms = np.sqrt(np.mean(speech**2) / 10)
    noisy = (clean + noise_rms * rng.standard_normal(clean.size)).astype(np.float32)
    out = denoise(noisy, SR, noise_window=(0.0, 0.5), engine="classic")
    gap, pause = 0.5 + n, 1.5 + 2 * n
    long_pause = _drop_db(noisy, out, pause + gain.LONG_PAUSE_S, pause + 3.0 - gain.LONG_PAUSE_S)
    in_gap = _drop_db(noisy, out, gap + 0.4, gap + 0.6)  # 0.4-0.5 s from a word
    gaps = _pause_frames(clean)
    between_words = gaps & (np.arange(gaps.size) * 0.02 < gap)
    assert between_words.sum() >= 10
    inside = 10 * np.log10(_frame_power(noisy, between_words) / _frame_power(out, between_words))
    assert long_pause >= 75.0
    assert 30.0 <= in_gap <= gain.PAUSE_DB + 1.0
    assert 15.0 <= inside < in_gap


@pytest.mark.parametrize("noise_window", [(0.0, 0.5), None], ids=["window", "automatic"])
def test_noise_left_in_a_long_pause_is_steady_without_musical_bursts(noisy_speech, make_noise, noise_window):
    # 4 s of white noise alone, then the speech in the same noise: in the
    # noise-only stretch the 20 ms levels of what is left must stay close to
    # their median (isolated bursts of "musical noise" would raise the top
    # percentile), and the noise must have gone down by at least 25 dB there.
    _clean, noisy = noisy_speech
    noise_rms = np.std(noisy[: SR // 2])
    y = np.concatenate([make_noise(4 * SR, 20 * np.log10(noise_rms)), noisy[SR // 2 :]])
    out = denoise(y, SR, noise_window=noise_window, engine="classic")
    stretch = slice(int(0.6 * SR), int(3.7 * SR))
    level_in = 10 * np.log10(np.mean(_frames(y[stretch]) ** 2, axis=1))
    level_out = 10 * np.log10(np.mean(_frames(out[stretch]) ** 2, axis=1))
    assert np.median(level_in) - np.median(level_out) >= 25.0
    assert np.percentile(level_out, 99) - np.median(level_out) <= 6.0


@pytest.mark.parametrize("reduction_db", [3.0, 6.0, 12.0])
def test_noise_is_never_turned_down_by_more_than_reduction_db(noisy_speech, reduction_db):
    clean, noisy = noisy_speech
    out = denoise(noisy, SR, noise_window=(0.0, 0.5), reduction_db=reduction_db, engine="classic")
    pauses = _pause_frames(clean)
    drop_db = 10 * np.log10(_frame_power(noisy, pauses) / _frame_power(out, pauses))
    assert reduction_db - 3.0 <= drop_db <= reduction_db + 1.0


def _frames(y: np.ndarray) -> np.ndarray:
    size = int(0.02 * SR)
    return y[: len(y) // size * size].reshape(-1, size)


def _pause_frames(clean: np.ndarray) -> np.ndarray:
    """20 ms frames after the noise lead-in where the clean speech is 40 dB below its loudest frame."""
    power = np.mean(_frames(clean) ** 2, axis=1)
    pause = power < power.max() * 1e-4
    pause[: int(0.5 / 0.02)] = False
    return pause


def _frame_power(y: np.ndarray, which: np.ndarray) -> float:
    return float(np.mean(_frames(y)[which] ** 2))


def test_noise_around_a_tone_is_reduced(make_tone, make_noise):
    tone = make_tone(1000.0, 3.0, SR, 0.3)
    tone[: SR // 2] = 0.0
    y = tone + make_noise(3 * SR, -30.0)
    out = denoise(y, SR, noise_window=(0.0, 0.5), engine="classic")
    lead = slice(int(0.05 * SR), int(0.45 * SR))
    assert 10 * np.log10(np.mean(y[lead] ** 2) / np.mean(out[lead] ** 2)) >= 6.0


# ---------------------------------------------------------------- channels


@pytest.mark.parametrize("n_channels", [2, 6])
def test_identical_channels_give_identical_outputs(speech_like, n_channels):
    out = denoise(np.repeat(speech_like[:, None], n_channels, axis=1), SR, engine="classic")
    for c in range(1, n_channels):
        np.testing.assert_array_equal(out[:, c], out[:, 0])


def test_duplicated_mono_is_cleaned_like_mono(speech_like):
    mono = denoise(speech_like, SR, noise_window=(1.1, 1.9), engine="classic")
    stereo = denoise(np.stack([speech_like, speech_like], axis=1), SR, noise_window=(1.1, 1.9), engine="classic")
    np.testing.assert_allclose(stereo[:, 0], mono, atol=1e-6)


def test_channels_share_one_noise_profile(speech_like, make_noise):
    other = make_noise(len(speech_like), -20.0)
    profile = noise_profile(np.stack([speech_like, other], axis=1), SR, (1.1, 1.9))
    assert profile.power.shape == (profile.config.n_freqs,)
    each = [noise_profile(ch, SR, (1.1, 1.9)).power for ch in (speech_like, other)]
    np.testing.assert_allclose(profile.power, 0.5 * (each[0] + each[1]), rtol=1e-5)


# ---------------------------------------------------------------- the noise profile and the report


def test_given_window_is_used_and_reported(speech_like):
    _, report = denoise(speech_like, SR, noise_window=[1.2, 1.8], return_report=True, engine="classic")
    assert isinstance(report, DenoiseReport)
    assert report.noise_window_s == (1.2, 1.8)
    assert report.noise_method == "window"


def test_without_window_the_quietest_stretch_is_used(speech_like):
    _, report = denoise(speech_like, SR, return_report=True, engine="classic")
    assert report.noise_method == "quietest stretch"
    start, end = report.noise_window_s
    assert 1.0 <= start < end <= 2.0


def test_pieces_give_the_same_result_as_denoise(speech_like):
    params = DenoiseParams(
        noise_window=(1.1, 1.9), n_fft=1024, threshold_db=2.0, reduction_db=15.0, freq_smooth_hz=200.0, time_smooth_ms=40.0
    )
    profile = noise_profile(speech_like, SR, **params.noise_settings())
    audio, report = denoise_with_profile(speech_like, profile, params)
    direct, direct_report = denoise(speech_like, SR, return_report=True, **asdict(params))
    np.testing.assert_array_equal(audio, direct)
    assert report == direct_report


def test_denoise_with_profile_writes_into_out_and_reports_each_block(speech_like):
    stereo = np.stack([speech_like, 0.5 * speech_like], axis=1)
    profile = noise_profile(stereo, SR, (1.1, 1.9))
    out = np.full(stereo.shape, np.nan, dtype=np.float32)
    spans = []
    audio, _ = denoise_with_profile(stereo, profile, DenoiseParams(engine="classic"), out=out, on_block=lambda a, b: spans.append((a, b)))
    assert audio is out and np.isfinite(out).all()
    np.testing.assert_array_equal(out, denoise(stereo, SR, noise_window=(1.1, 1.9), engine="classic"))
    # Consecutive spans that cover the recording exactly once, in order.
    assert spans[0][0] == 0 and spans[-1][1] == len(stereo)
    assert all(b0 == a1 for (_, a1), (b0, _) in itertools.pairwise(spans))


def test_an_error_in_on_block_stops_the_cleaning_and_comes_out(speech_like, monkeypatch):
    # The app cancels a cleaning nobody waits for by raising in its progress call, which the engine
    # may make on a thread of its own: the error must stop the work and reach the caller.
    monkeypatch.setattr(Source, "block_samples", 4096)
    y = np.tile(speech_like, 4)
    profile = noise_profile(y, SR, (1.1, 1.9))
    spans = []

    def on_block(start, stop):
        spans.append(stop)
        if len(spans) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        denoise_with_profile(y, profile, on_block=on_block)
    assert len(spans) == 3 and spans[-1] < len(y)


def test_denoise_with_profile_refuses_an_out_of_the_wrong_shape(speech_like):
    profile = noise_profile(speech_like, SR, (1.1, 1.9))
    with pytest.raises(AudioInputError, match=r"out must be a float32 array of shape \(48000, 1\), got float64"):
        denoise_with_profile(speech_like, profile, out=np.zeros((len(speech_like), 1)))


def test_a_slice_is_gated_with_the_profile_of_the_whole(speech_like):
    # What the app's preview does: the profile of the whole recording, the gate on a stretch.
    profile = noise_profile(speech_like, SR, (1.1, 1.9))
    piece, report = denoise_with_profile(speech_like[SR // 2 : 2 * SR], profile)
    assert piece.shape == (3 * SR // 2,) and report.noise_window_s == (1.1, 1.9)
    whole = denoise_with_profile(speech_like, profile)[0]
    # Away from the slice's edges the gate has converged to the same result.
    assert np.max(np.abs(piece[SR // 2 : SR] - whole[SR : 3 * SR // 2])) < 0.05 * np.max(np.abs(whole))


@pytest.mark.parametrize("reduction_db", [0.0, 6.0, 20.0, 40.0], ids=lambda r: f"{r:g}dB")
def test_report_stays_within_what_the_floor_allows(noisy_speech, reduction_db):
    _, noisy = noisy_speech
    _, report = denoise(noisy, SR, noise_window=(0.0, 0.5), reduction_db=reduction_db, return_report=True, engine="classic")
    assert all(np.isfinite([report.snr_before_db, report.snr_after_db, report.noise_removed_db]))
    assert -1e-6 <= report.noise_removed_db <= reduction_db + 0.01
    assert report.snr_after_db >= report.snr_before_db - 0.01
    if reduction_db == 0.0:
        assert report.noise_removed_db == pytest.approx(0.0, abs=0.01)
        assert report.snr_after_db == pytest.approx(report.snr_before_db, abs=0.01)
    else:
        assert report.noise_removed_db >= min(3.0, reduction_db / 2)


def test_more_reduction_removes_more_noise(noisy_speech):
    _, noisy = noisy_speech
    removed = [
        denoise(noisy, SR, noise_window=(0.0, 0.5), reduction_db=r, return_report=True, engine="classic")[1].noise_removed_db
        for r in (3.0, 10.0, 25.0)
    ]
    assert removed[0] < removed[1] < removed[2]


# ---------------------------------------------------------------- a real recording


@pytest.fixture(scope="module")
def p257(request):
    load = request.getfixturevalue("load_data")
    noisy, sr = load("p257_089_noisy.flac")
    clean, sr_clean = load("p257_089_clean.flac")
    assert sr == sr_clean == 48000 and noisy.shape == clean.shape
    return noisy, clean, sr


def test_real_recording_gets_closer_to_its_clean_reference(p257, si_sdr):
    noisy, clean, sr = p257
    out, report = denoise(noisy, sr, noise_window=(0.0, 0.15), return_report=True, engine="classic")
    assert out.shape == noisy.shape
    assert si_sdr(out, clean) >= si_sdr(noisy, clean) + 0.3
    assert report.noise_method == "window" and report.noise_window_s == (0.0, 0.15)
    assert all(np.isfinite([report.snr_before_db, report.snr_after_db, report.noise_removed_db]))
    assert report.noise_removed_db > 3.0
    assert report.snr_after_db > report.snr_before_db


def test_real_recording_noise_found_in_its_noise_only_lead_in(p257, si_sdr):
    noisy, clean, sr = p257
    out, report = denoise(noisy, sr, return_report=True, engine="classic")
    assert report.noise_method == "quietest stretch"
    assert report.noise_window_s[1] <= 0.6
    assert si_sdr(out, clean) > si_sdr(noisy, clean)


@pytest.mark.parametrize("sr", [16000, 44100, 48000], ids=lambda sr: f"{sr}Hz")
def test_steady_tone_keeps_its_level(make_tone, make_noise, tone_amplitude, sr):
    # The case: a 1 kHz sine (amplitude 0.3) in white noise at -30 dBFS, after 0.5 s of noise only.
    tone = make_tone(1000.0, 3.0, sr, 0.3)
    tone[: sr // 2] = 0.0
    y = tone + make_noise(3 * sr, -30.0)
    out = denoise(y, sr, noise_window=(0.0, 0.5), engine="classic")
    part = slice(sr, 3 * sr)  # two whole seconds: an integer number of cycles
    level_db = 20 * np.log10(tone_amplitude(out[part], 1000.0, sr) / tone_amplitude(y[part], 1000.0, sr))
    assert abs(level_db) <= 1.0


def test_noise_louder_than_the_quietest_stretch_is_still_removed(rng):
    # 8 s of noise, then 2 s of it 15 dB quieter: the automatic mode measures the quiet end, and
    # the minimum statistics lift the estimate to the louder noise (capped 12 dB above the
    # profile). Tracking alone took away 2.6 dB here.
    y = (0.1 * rng.standard_normal(10 * SR)).astype(np.float32)
    y[8 * SR :] *= np.float32(10 ** (-15 / 20))
    out = denoise(y, SR, engine="classic")
    part = slice(3 * SR, 8 * SR)
    removed_db = 10 * np.log10(np.mean(y[part].astype(np.float64) ** 2) / np.mean(out[part].astype(np.float64) ** 2))
    assert removed_db >= 9.0


def test_long_steady_tone_keeps_its_level(make_tone, make_noise, tone_amplitude):
    # The same tone held for 10 s: neither the noise tracker nor the minimum statistics under it
    # (capped 12 dB above the profile) may learn it as noise.
    tone = make_tone(1000.0, 10.0, SR, 0.3)
    tone[: SR // 2] = 0.0
    y = tone + make_noise(10 * SR, -30.0)
    out = denoise(y, SR, noise_window=(0.0, 0.5), engine="classic")
    for second in range(1, 10):
        part = slice(second * SR, (second + 1) * SR)
        level_db = 20 * np.log10(tone_amplitude(out[part], 1000.0, SR) / tone_amplitude(y[part], 1000.0, SR))
        assert abs(level_db) <= 1.0, f"second {second}: tone level changed by {level_db:.2f} dB"


def _level_difference_db(stereo):
    return 10 * np.log10(np.sum(stereo[:, 0].astype(np.float64) ** 2) / np.sum(stereo[:, 1].astype(np.float64) ** 2))


def test_linked_channels_keep_a_panned_voice_where_it_was(load_data):
    noisy, sr = load_data("p257_089_noisy.flac")
    panned = np.stack([noisy, 0.5 * noisy], axis=1)  # the voice (and its room) 6 dB to the left
    before = _level_difference_db(panned)
    linked = denoise(panned, sr, noise_window=(0.0, 0.15), engine="classic")
    independent = denoise(panned, sr, noise_window=(0.0, 0.15), channels="independent", engine="classic")
    assert abs(_level_difference_db(linked) - before) < 0.1
    # Gated on its own against the shared profile, the quieter channel loses more.
    assert _level_difference_db(independent) - before > 0.15


def test_unknown_channel_mode_is_refused():
    with pytest.raises(ParameterError, match=r"channels must be one of 'linked', 'independent', got 'both'"):
        DenoiseParams(channels="both")
