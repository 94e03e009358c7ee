"""Decoding input for the app: limits, plain-words problems, safe names, cache keys."""

from __future__ import annotations

import io
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent

from ui import limits, loading
from ui.loading import InputProblem, content_digest, decode, describe_duration, safe_stem

DATA = Path(__file__).resolve().parent / "data"


def _wav(y: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format="WAV", subtype=subtype)
    return buffer.getvalue()


@pytest.fixture
def noise() -> np.ndarray:
    return (0.05 * np.random.default_rng(3).standard_normal(8000)).astype(np.float32)


def test_decodes_the_test_recording_read_only():
    rec = decode((DATA / "p257_089_noisy.flac").read_bytes(), "p257_089_noisy.flac")
    assert (rec.sr, rec.n_channels, rec.info.format, rec.info.subtype) == (48_000, 1, "FLAC", "PCM_16")
    assert rec.duration_s == pytest.approx(3.1, abs=0.1)
    assert rec.stem == "p257_089_noisy"
    assert not rec.y.flags.writeable  # shared through the cache: nobody may change it
    assert rec.notes == ()


def test_keeps_channels(noise):
    rec = decode(_wav(np.stack([noise, -noise], axis=1), 16_000, "PCM_24"), "stereo.wav")
    assert rec.y.shape == (8000, 2)
    assert rec.info.subtype == "PCM_24"


@pytest.mark.parametrize(
    "data, name, match",
    [
        (b"hello, this is not audio\n" * 20, "notes.wav", "could not be opened as audio"),
        (b"", "empty.wav", r"is empty \(0 bytes\)"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "cut.wav", "could not be opened as audio"),
    ],
)
def test_unreadable_input_is_one_plain_message(data, name, match):
    with pytest.raises(InputProblem, match=match) as info:
        decode(data, name)
    assert info.value.level == "error"
    assert name in str(info.value)


def test_silent_file_is_a_warning():
    with pytest.raises(InputProblem, match="is silent") as info:
        decode(_wav(np.zeros(16_000), 16_000), "quiet.wav")
    assert info.value.level == "warning"


def test_header_only_wav_holds_no_audio():
    with pytest.raises(InputProblem, match=r"holds no audio|could not be opened"):
        decode(_wav(np.zeros(0), 16_000), "nothing.wav")


def test_invalid_samples_are_refused(noise):
    noise = noise.copy()
    noise[100] = np.nan
    with pytest.raises(InputProblem, match="invalid samples"):
        decode(_wav(noise, 16_000, "FLOAT"), "nan.wav")


def test_size_limit_is_named(noise):
    with pytest.raises(InputProblem, match=r"up to 0 MB|files of up to"):
        decode(_wav(noise, 16_000), "big.wav", max_bytes=1000)


def test_duration_limit_is_named(monkeypatch, noise):
    monkeypatch.setattr(limits, "MAX_DURATION_S", 0.25)
    with pytest.raises(InputProblem, match=r"is 0\.5 s long; Quiet cleans recordings of up to 0\.2 s"):
        decode(_wav(noise, 16_000), "long.wav")


def test_sample_budget_refuses_long_multichannel(monkeypatch, noise):
    monkeypatch.setattr(limits, "MAX_SAMPLES", 10_000)
    with pytest.raises(InputProblem, match="too much to clean at once"):
        decode(_wav(np.stack([noise, noise], axis=1), 16_000), "stereo.wav")


@pytest.mark.parametrize("sr, target", [(4_000, 8_000), (384_000, 192_000)])
def test_rates_outside_the_engine_range_are_resampled_and_said(sr, target, noise):
    rec = decode(_wav(noise, sr), "odd.wav")
    assert rec.sr == target
    assert rec.info.sr == sr
    assert rec.n_samples == pytest.approx(len(noise) * target / sr, abs=2)
    assert f"{target:,} Hz" in rec.notes[0]


@pytest.mark.parametrize(
    "name, stem",
    [
        ("interview.wav", "interview"),
        ("../../etc/passwd.wav", "passwd"),
        ("C:\\Users\\me\\take 1.flac", "take 1"),
        ("café<>:|?.mp3", "café"),
        ("my:take|2.mp3", "my_take_2"),
        ("", "audio"),
        ("...", "audio"),
    ],
)
def test_safe_stem(name, stem):
    assert safe_stem(name) == stem


def test_digest_tells_apart_long_arrays_that_share_a_sample():
    # st.cache_data hashes long arrays from a sample; the app keys its caches by the whole content.
    a = np.zeros(2_000_000, np.float32)
    b = a.copy()
    b[1_234_567] = 1e-3
    assert content_digest(a.tobytes()) != content_digest(b.tobytes())
    assert content_digest(memoryview(a.tobytes())) == content_digest(a.tobytes())


@pytest.mark.parametrize("seconds, text", [(4.23, "4.2 s"), (42, "42 s"), (1800, "30 min"), (185, "3 min 5 s"), (3720, "1 h 2 min")])
def test_describe_duration(seconds, text):
    assert describe_duration(seconds) == text


def test_upload_limit_matches_the_server_setting():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits.MAX_UPLOAD_MB


def test_example_is_bundled():
    rec = decode(loading.EXAMPLE_PATH.read_bytes(), loading.EXAMPLE_PATH.name)
    assert rec.duration_s == pytest.approx(6.9, abs=0.1)
    assert (rec.sr, rec.n_channels, rec.info.format) == (24_000, 1, "FLAC")
    assert loading.EXAMPLE_PATH.stat().st_size < 300_000  # small enough to ship


@pytest.mark.parametrize("value, minutes", [(None, 30.0), ("10", 10.0), ("2.5", 2.5), ("0", 30.0), ("lots", 30.0)])
def test_duration_limit_can_be_lowered_from_the_environment(monkeypatch, value, minutes):
    if value is None:
        monkeypatch.delenv("QUIET_MAX_MINUTES", raising=False)
    else:
        monkeypatch.setenv("QUIET_MAX_MINUTES", value)
    assert limits.number_from_env("QUIET_MAX_MINUTES", 30.0) == minutes


@pytest.mark.parametrize(
    "budget_mb, max_minutes, minutes, upload_mb",
    [
        (690, 30, 12, 132),  # Community Cloud's smallest instance: 12 minutes, one of which fits with room to spare
        (1024, 30, 19, 200),
        (2700, 30, 30, 200),  # the duration limit, and the upload limit's 200 MB cap
        (2700, 10, 10, 110),
        (100, 30, 1, 11),  # below the base: still one minute, and the budget's admission says "busy"
    ],
)
def test_limits_follow_the_memory_budget(budget_mb, max_minutes, minutes, upload_mb):
    max_samples, max_upload_mb = limits.limits(budget_mb, max_minutes)
    assert max_samples == minutes * 60 * 48_000
    assert max_upload_mb == upload_mb
    if minutes < max_minutes and budget_mb > limits.BASE_MB:  # set by the budget: one more minute would not fit
        per_minute = 60 * 48_000 * limits.BYTES_PER_SAMPLE
        assert max_samples * limits.BYTES_PER_SAMPLE <= (budget_mb - limits.BASE_MB) * 1024**2 < (minutes + 1) * per_minute


@pytest.mark.skipif(bool(os.environ.get("QUIET_MEMORY_MB") or os.environ.get("QUIET_MAX_MINUTES")), reason="limits set")
def test_default_limits_are_the_default_budgets():
    assert limits.MEMORY_BUDGET_MB == 690
    assert (limits.MAX_SAMPLES, limits.MAX_UPLOAD_MB) == limits.limits(690, 30) == (12 * 60 * 48_000, 132)


def test_a_view_of_the_upload_decodes_like_its_bytes(noise):
    data = _wav(np.stack([noise, -noise], axis=1), 16_000, "PCM_24")
    from_bytes = decode(data, "take.wav")
    from_view = decode(memoryview(bytearray(data)), "take.wav")
    np.testing.assert_array_equal(from_view.y, from_bytes.y)
    assert (from_view.info, from_view.digest, from_view.peak) == (from_bytes.info, from_bytes.digest, from_bytes.peak)
    with pytest.raises(InputProblem, match="could not be opened as audio"):
        decode(memoryview(b"not audio at all" * 10), "notes.wav")
    with pytest.raises(InputProblem, match="is empty"):
        decode(memoryview(b""), "empty.wav")


def test_peak_is_found_in_blocks_and_refuses_nan_anywhere(noise):
    y = np.tile(noise, 300)  # 2.4 million samples: several blocks
    y[-1] = 1.75
    assert loading._peak(y) == pytest.approx(1.75)
    y[1_500_000] = np.nan
    assert np.isnan(loading._peak(y))
    y[1_500_000] = -np.inf
    assert np.isnan(loading._peak(y))
