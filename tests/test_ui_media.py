"""Players at true level, downloads named and encoded like the input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent

from denoise_core import AudioFileError
from ui.media import (
    DOWNLOAD_FORMATS,
    describe_subtype,
    download_name,
    download_subtype,
    encode_download,
    encode_player,
)


def _sine(amplitude: float, duration_s: float, sr: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(duration_s * sr)) / sr
    y = (amplitude * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    return y if channels == 1 else np.repeat(y[:, None], channels, axis=1)


@pytest.mark.parametrize("amplitude", [0.1, 0.01, 0.5])
def test_player_keeps_the_true_level(amplitude):
    y = _sine(amplitude, 2.0, 48_000)
    decoded, sr = sf.read(io.BytesIO(encode_player(y, 48_000)), dtype="float32")
    assert sr == 48_000
    assert np.abs(decoded).max() == pytest.approx(amplitude, rel=0.08)  # not normalised to 1.0


@pytest.mark.parametrize("sr, channels", [(8_000, 1), (16_000, 2), (44_100, 1), (96_000, 2), (192_000, 1), (48_000, 6)])
def test_player_keeps_rate_and_channels(sr, channels):
    y = _sine(0.2, 0.5, sr, channels)
    info = sf.info(io.BytesIO(encode_player(y, sr)))
    assert (info.samplerate, info.channels, info.format) == (sr, channels, "OGG")
    assert info.frames == pytest.approx(len(y), abs=2)


def test_player_of_a_long_clip_does_not_crash_the_encoder():
    # One sf.write of a minute of audio makes libsndfile 1.2.2's Vorbis encoder segfault.
    y = _sine(0.1, 90.0, 48_000)
    data = encode_player(y, 48_000)
    assert sf.info(io.BytesIO(data)).duration == pytest.approx(90.0, abs=0.01)
    assert len(data) < 2_000_000  # compressed: a few hundred kB, not 8.6 MB of WAV


def test_player_of_silence_is_silence():
    decoded, _ = sf.read(io.BytesIO(encode_player(np.zeros(16_000, np.float32), 16_000)))
    assert np.abs(decoded).max() < 1e-4


def test_player_clips_instead_of_wrapping():
    decoded, _ = sf.read(io.BytesIO(encode_player(_sine(1.5, 0.5, 16_000), 16_000)))
    assert np.abs(decoded).max() < 1.2


@pytest.mark.parametrize(
    "source, wav, flac",
    [
        ("PCM_U8", "PCM_U8", "PCM_S8"),
        ("PCM_S8", "PCM_U8", "PCM_S8"),
        ("PCM_16", "PCM_16", "PCM_16"),
        ("PCM_24", "PCM_24", "PCM_24"),
        ("PCM_32", "PCM_32", "PCM_24"),
        ("FLOAT", "FLOAT", "PCM_24"),
        ("DOUBLE", "DOUBLE", "PCM_24"),
        ("VORBIS", "PCM_16", "PCM_16"),
        ("OPUS", "PCM_16", "PCM_16"),
        ("MPEG_LAYER_III", "PCM_16", "PCM_16"),
        ("ULAW", "PCM_16", "PCM_16"),
        ("IMA_ADPCM", "PCM_16", "PCM_16"),
    ],
)
def test_download_subtype_follows_the_input(source, wav, flac):
    assert download_subtype(source, "WAV") == wav
    assert download_subtype(source, "FLAC") == flac


def test_download_subtype_rejects_unknown_format():
    with pytest.raises(ValueError, match="Unknown download format"):
        download_subtype("PCM_16", "AAC")


@pytest.mark.parametrize("fmt, name", [("WAV", "interview_denoised.wav"), ("FLAC", "interview_denoised.flac")])
def test_download_name(fmt, name):
    assert download_name("interview", fmt) == name


@pytest.mark.parametrize("fmt", sorted(DOWNLOAD_FORMATS))
@pytest.mark.parametrize("subtype_in", ["PCM_16", "PCM_24", "FLOAT", "PCM_U8"])
@pytest.mark.parametrize("sr, channels", [(44_100, 2), (22_050, 1)])
def test_download_round_trip_keeps_rate_channels_length_and_depth(fmt, subtype_in, sr, channels):
    y = _sine(0.3, 0.25, sr, channels)
    subtype = download_subtype(subtype_in, fmt)
    data = encode_download(y, sr, fmt, subtype)
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == (
        DOWNLOAD_FORMATS[fmt][0],
        subtype,
        sr,
        channels,
        len(y),
    )
    decoded, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    assert np.abs(decoded - y.reshape(len(y), -1)).max() < 0.02  # within an 8-bit step


def test_flac_cannot_hold_more_than_eight_channels():
    with pytest.raises(AudioFileError, match="FLAC"):
        encode_download(np.zeros((100, 10), np.float32), 48_000, "FLAC", "PCM_16")


@pytest.mark.parametrize("subtype, words", [("PCM_16", "16-bit"), ("FLOAT", "32-bit float"), ("VORBIS", "Vorbis")])
def test_describe_subtype(subtype, words):
    assert describe_subtype(subtype) == words
