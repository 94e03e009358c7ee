"""Players at true level; downloads in the input's own format first, named, encoded like the input, with their sizes."""

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
    can_write,
    describe_format,
    describe_size,
    describe_subtype,
    download_labels,
    download_name,
    download_size,
    download_subtype,
    encode_download,
    encode_player,
    player_mime,
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
    assert np.abs(decoded).max() == pytest.approx(amplitude, rel=0.01)  # not normalised to 1.0


@pytest.mark.parametrize("sr, channels", [(8_000, 1), (16_000, 2), (44_100, 1), (96_000, 2), (192_000, 1), (48_000, 6)])
def test_player_keeps_rate_channels_and_length(sr, channels):
    y = _sine(0.2, 0.5, sr, channels)
    info = sf.info(io.BytesIO(encode_player(y, sr)))
    assert (info.samplerate, info.channels, info.format, info.frames) == (sr, channels, "FLAC", len(y))
    assert player_mime(channels) == "audio/flac"


def test_player_of_more_than_eight_channels_is_wav_and_the_same_audio_gives_the_same_bytes():
    y = _sine(0.2, 0.1, 16_000, 10)
    data = encode_player(y, 16_000)
    assert sf.info(io.BytesIO(data)).format == "WAV" and player_mime(10) == "audio/wav"
    assert encode_player(_sine(0.3, 1.0, 48_000), 48_000) == encode_player(_sine(0.3, 1.0, 48_000), 48_000)


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


@pytest.mark.parametrize(
    "fmt, name",
    [("WAV", "interview_denoised.wav"), ("FLAC", "interview_denoised.flac"), ("MP3", "interview_denoised.mp3"), ("OPUS", "interview_denoised.opus")],
)
def test_download_name(fmt, name):
    assert download_name("interview", fmt) == name


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "AIFF"])
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


@pytest.mark.parametrize(
    "fmt, sr, channels, padding",
    [("MP3", 44_100, 2, 2_500), ("MP3", 16_000, 1, 2_500), ("OGG", 44_100, 2, 0), ("OPUS", 48_000, 1, 0)],
)
def test_compressed_download_keeps_rate_channels_and_length_within_the_codec_padding(fmt, sr, channels, padding):
    y = _sine(0.3, 1.0, sr, channels)
    data = encode_download(y, sr, fmt, download_subtype("PCM_16", fmt))
    info = sf.info(io.BytesIO(data))
    assert (info.samplerate, info.channels) == (sr, channels)
    decoded, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    assert len(y) <= decoded.shape[0] <= len(y) + padding
    assert np.sqrt(np.mean(decoded**2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.1)  # the same level


@pytest.mark.parametrize(
    "file_format, subtype, sr, channels, labels",
    [
        ("MP3", "MPEG_LAYER_III", 44_100, 2, ["MP3", "WAV", "FLAC"]),
        ("OGG", "VORBIS", 22_050, 1, ["OGG", "WAV", "FLAC"]),
        ("OGG", "OPUS", 48_000, 2, ["OPUS", "WAV", "FLAC"]),
        ("OGG", "OPUS", 44_100, 1, ["WAV", "FLAC"]),  # Opus does not write 44.1 kHz
        ("AIFF", "PCM_24", 48_000, 1, ["AIFF", "WAV", "FLAC"]),
        ("FLAC", "PCM_24", 96_000, 2, ["FLAC", "WAV"]),
        ("WAV", "PCM_16", 48_000, 10, ["WAV"]),  # FLAC holds at most 8 channels
        ("MP3", "MPEG_LAYER_III", 96_000, 1, ["WAV", "FLAC"]),  # MP3 stops at 48 kHz
    ],
)
def test_the_inputs_own_format_comes_first_where_it_can_be_written(file_format, subtype, sr, channels, labels):
    assert download_labels(file_format, subtype, sr, channels) == labels


def test_can_write_is_tried_not_guessed():
    assert can_write("MP3", "MPEG_LAYER_III", 48_000, 2)
    assert not can_write("MP3", "MPEG_LAYER_III", 48_000, 3)


@pytest.mark.parametrize("fmt, subtype", [("WAV", "PCM_24"), ("AIFF", "PCM_16"), ("WAV", "FLOAT")])
def test_uncompressed_sizes_are_exact_from_any_sample(fmt, subtype):
    y = _sine(0.3, 3.0, 16_000, 2)
    size, exact = download_size(y[:1000], len(y), 16_000, fmt, subtype)
    assert exact and size == len(encode_download(y, 16_000, fmt, subtype))


@pytest.mark.parametrize("fmt, subtype", [("FLAC", "PCM_16"), ("MP3", "MPEG_LAYER_III")])
def test_compressed_sizes_are_exact_from_the_whole_and_close_from_a_sample(fmt, subtype):
    rng = np.random.default_rng(3)
    y = (_sine(0.3, 6.0, 16_000) + 0.01 * rng.standard_normal(96_000)).astype(np.float32)
    true = len(encode_download(y, 16_000, fmt, subtype))
    assert download_size(y, len(y), 16_000, fmt, subtype) == (true, True)
    estimate, exact = download_size(y[:32_000], len(y), 16_000, fmt, subtype)
    assert not exact and estimate == pytest.approx(true, rel=0.15)


def test_sizes_and_formats_in_plain_words():
    assert describe_size(9_430_000) == "9.4 MB"
    assert describe_size(162_400, exact=False) == "about 162 kB"
    assert describe_format("MP3", "MPEG_LAYER_III") == "MP3"  # not "MP3 MP3"
    assert describe_format("OGG", "OPUS") == "Opus"
    assert describe_format("OGG", "VORBIS") == "OGG Vorbis"
    assert describe_format("WAV", "PCM_24") == "WAV 24-bit"
