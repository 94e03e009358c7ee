"""Reading and writing audio files (denoise_core.audio_io)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from denoise_core.audio_io import AudioFileInfo, file_info, read_audio, write_audio
from denoise_core.errors import AudioFileError, DenoiseError

# (format, subtype, extension, largest error in full-scale units): lossless
# codes must come back within one step of their quantiser.
LOSSLESS = [
    pytest.param("WAV", "PCM_16", ".wav", 1.5 / 2**15, id="wav-pcm16"),
    pytest.param("WAV", "PCM_24", ".wav", 1.5 / 2**23, id="wav-pcm24"),
    pytest.param("WAV", "PCM_32", ".wav", 1.5 / 2**31 + 1e-7, id="wav-pcm32"),
    pytest.param("WAV", "FLOAT", ".wav", 0.0, id="wav-float"),
    pytest.param("WAV", "PCM_U8", ".wav", 1.5 / 2**7, id="wav-u8"),
    pytest.param("FLAC", "PCM_16", ".flac", 1.5 / 2**15, id="flac-16"),
    pytest.param("FLAC", "PCM_24", ".flac", 1.5 / 2**23, id="flac-24"),
]


def _signal(n_channels: int, sr: int = 22050, duration_s: float = 0.5) -> np.ndarray:
    """A few tones per channel at about -6 dBFS, (n,) for mono and (n, channels) otherwise."""
    t = np.arange(int(sr * duration_s)) / sr
    channels = [0.25 * np.sin(2 * np.pi * (330 + 110 * c) * t) + 0.2 * np.sin(2 * np.pi * 1250 * t + c) for c in range(n_channels)]
    y = np.stack(channels, axis=1).astype(np.float32)
    return y[:, 0] if n_channels == 1 else y


def test_audio_file_error_is_a_value_error():
    assert issubclass(AudioFileError, DenoiseError)
    assert issubclass(AudioFileError, ValueError)


@pytest.mark.parametrize("n_channels", [1, 2], ids=["mono", "stereo"])
@pytest.mark.parametrize(("fmt", "subtype", "ext", "tolerance"), LOSSLESS)
def test_lossless_round_trip_keeps_samples_and_encoding(tmp_path, fmt, subtype, ext, tolerance, n_channels):
    y = _signal(n_channels)
    path = tmp_path / f"tone{ext}"
    write_audio(path, y, 22050, fmt, subtype)
    back, sr, info = read_audio(path)
    assert (sr, info.sr, info.channels, info.frames, info.format, info.subtype) == (22050, 22050, n_channels, len(y), fmt, subtype)
    assert back.dtype == np.float32 and back.shape == y.shape
    assert float(np.max(np.abs(back - y))) <= tolerance


@pytest.mark.parametrize("n_channels", [1, 2], ids=["mono", "stereo"])
def test_ogg_vorbis_round_trip_is_close(tmp_path, n_channels):
    y = _signal(n_channels, sr=44100, duration_s=1.0)
    path = tmp_path / "tone.ogg"
    write_audio(path, y, 44100, "OGG", "VORBIS")
    back, sr, info = read_audio(path)
    assert (sr, info.channels, info.format, info.subtype) == (44100, n_channels, "OGG", "VORBIS")
    assert back.shape == y.shape
    snr_db = 10 * np.log10(np.sum(y.astype(np.float64) ** 2) / np.sum((back - y).astype(np.float64) ** 2))
    assert snr_db > 25.0


@pytest.mark.parametrize("sr", [8000, 16000, 44100, 48000, 96000, 192000], ids=lambda sr: f"{sr}Hz")
def test_sample_rate_is_kept(tmp_path, sr):
    path = tmp_path / "x.flac"
    write_audio(path, np.zeros(100, np.float32), sr, "FLAC", "PCM_16")
    assert read_audio(path)[1] == sr
    assert file_info(path).sr == sr


def test_read_accepts_bytes_file_objects_and_paths(tmp_path):
    y = _signal(2)
    path = tmp_path / "x.wav"
    write_audio(path, y, 22050, "WAV", "PCM_16")
    raw = path.read_bytes()
    results = [read_audio(raw), read_audio(io.BytesIO(raw)), read_audio(str(path)), read_audio(path)]
    for back, sr, info in results:
        assert sr == 22050 and info == results[0][2]
        np.testing.assert_array_equal(back, results[0][0])


def test_write_to_a_file_object(tmp_path):
    buffer = io.BytesIO()
    write_audio(buffer, _signal(1), 22050, "FLAC", "PCM_24")
    _back, sr, info = read_audio(buffer.getvalue())
    assert (sr, info.format, info.subtype, info.channels) == (22050, "FLAC", "PCM_24", 1)


def test_file_info_matches_what_read_returns(data_dir):
    info = file_info(data_dir / "speech_16k.wav")
    y, _sr, read_info = read_audio(data_dir / "speech_16k.wav")
    assert isinstance(info, AudioFileInfo)
    assert info == read_info
    assert (info.sr, info.channels, info.format, info.subtype) == (16000, 1, "WAV", "PCM_16")
    assert info.frames == len(y) and info.duration_s == pytest.approx(4.0, abs=0.01)
    assert y.ndim == 1


def test_real_recording_reads_as_described(data_dir):
    y, sr, info = read_audio(data_dir / "p257_089_noisy.flac")
    assert (sr, info.channels, info.format, info.subtype) == (48000, 1, "FLAC", "PCM_16")
    assert y.shape == (info.frames,) and info.duration_s == pytest.approx(3.12, abs=0.01)
    assert 0.05 < float(np.max(np.abs(y))) <= 1.0


# ---------------------------------------------------------------- files that are not audio


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"this is a text file, not a recording\n" * 20, r"notes\.wav could not be read as audio", id="text"),
        pytest.param(b"", r"notes\.wav could not be read as audio", id="empty-file"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt ", r"notes\.wav could not be read as audio", id="truncated-header"),
    ],
)
def test_unreadable_file_raises_audio_file_error(tmp_path, content, match):
    path = tmp_path / "notes.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFileError, match=match):
        read_audio(path)


@pytest.mark.parametrize("reader", [read_audio, file_info], ids=["read_audio", "file_info"])
def test_text_bytes_raise_audio_file_error(reader):
    with pytest.raises(AudioFileError, match=r"could not be read as audio"):
        reader(b"hello, I am not audio" * 10)


def test_damaged_flac_raises_audio_file_error(data_dir):
    raw = (data_dir / "p257_089_noisy.flac").read_bytes()
    with pytest.raises(AudioFileError, match=r"could not be read as audio"):
        read_audio(raw[: len(raw) // 2])


def test_file_without_samples_raises_audio_file_error():
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros((0, 1)), 16000, format="WAV", subtype="PCM_16")
    with pytest.raises(AudioFileError, match=r"holds no audio samples"):
        read_audio(buffer.getvalue())


@pytest.mark.parametrize("reader", [read_audio, file_info], ids=["read_audio", "file_info"])
def test_missing_path_raises_audio_file_error(tmp_path, reader):
    with pytest.raises(AudioFileError, match=r"missing\.flac does not exist or is not a file"):
        reader(tmp_path / "missing.flac")


def test_folder_raises_audio_file_error(tmp_path):
    (tmp_path / "folder.wav").mkdir()
    with pytest.raises(AudioFileError, match=r"folder\.wav does not exist or is not a file"):
        read_audio(tmp_path / "folder.wav")


@pytest.mark.parametrize(
    ("fmt", "subtype"),
    [("WAV", "VORBIS"), ("FLAC", "FLOAT"), ("NOPE", "PCM_16")],
    ids=["wav-vorbis", "flac-float", "unknown-format"],
)
def test_impossible_encoding_raises_audio_file_error(tmp_path, fmt, subtype):
    with pytest.raises(AudioFileError, match=rf"Could not write {fmt}/{subtype} audio"):
        write_audio(tmp_path / "x.bin", _signal(1), 22050, fmt, subtype)
