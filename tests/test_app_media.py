"""Phone memos and videos through the page (AppTest, widgets by key): uploads, downloads in their own kind, messages.

Files are made at test time by :mod:`media_fixtures`, a few seconds long;
downloads are read back as a click would give them (:mod:`app_downloads`).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from app_downloads import Media, keep_media
from media_fixtures import encrypted_m4a, make_audio, make_video, packets
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

from denoise_core.media import MediaSource
from ui import budget, limits, loading, processing

APP = ROOT / "app.py"
TIMEOUT = 120
#: Samples an AAC file may decode to beyond what was written: the encoder's padding, at most two frames.
AAC_PADDING = 2 * 1024


@pytest.fixture
def media(monkeypatch) -> Media:
    return keep_media(monkeypatch)


def _speechy(sr: int, seconds: float, channels: int, seed: int = 3) -> np.ndarray:
    """Tone bursts with pauses in steady noise, ``(n, channels)`` float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    voice = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.7 * t) > 0.2)
    return (voice[:, None] + 0.03 * rng.standard_normal((len(t), channels))).astype(np.float32)


def _upload(name: str, data: bytes, mime: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["engine"] = "classic"  # the test signals are tones, which the voice engine takes away
    at.run()
    at.file_uploader(key="upload").set_value((name, data, mime)).run()
    return at


def _keys(at: AppTest) -> list[str]:
    return [b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")]


def _label(at: AppTest, key: str) -> str:
    (button,) = [b.proto for b in at.get("download_button") if b.proto.id.endswith(key)]
    return button.label


def _summary(at: AppTest) -> str:
    return at.markdown[1].value.replace("\\", "").replace("**", "")


def _messages(at: AppTest) -> list[str]:
    return [e.value for e in at.error] + [w.value for w in at.warning]


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    source = MediaSource(data)
    return np.concatenate(list(source.read())), int(source.sr)


def test_an_m4a_comes_back_first_as_an_m4a_with_its_rate_channels_length_and_bit_rate(media):
    sound = _speechy(44_100, 4.0, 2)
    data = make_audio("m4a", "aac", sr=44_100, n_channels=2, n_samples=len(sound), sound=sound, bit_rate=96_000)
    at = _upload("memo.m4a", data, "audio/mp4")
    assert not at.exception and not _messages(at)
    assert re.fullmatch(r"memo\.m4a · 4\.0 s · 44\.1 kHz · stereo · M4A \(AAC \d+ kb/s\)", _summary(at))
    assert _keys(at) == ["download_m4a", "download_wav", "download_flac"]
    assert at.get("download_button")[0].proto.type == "primary"
    assert re.fullmatch(r"M4A · AAC 128 kb/s · about \d+ kB", _label(at, "download_m4a"))  # at least 64 kb/s a channel
    name, out = media.download(at, media.latest(), "download_m4a")
    assert name == "memo_denoised.m4a"
    back = MediaSource(out)
    assert (back.info.kind, back.info.codec, back.sr, back.n_channels) == ("m4a", "aac", 44_100, 2)
    assert back.info.bit_rate_bps >= MediaSource(data).info.bit_rate_bps
    assert len(sound) <= back.n_samples <= len(sound) + AAC_PADDING


def test_lossless_alac_comes_back_lossless_and_the_wav_keeps_its_depth(media):
    sound = _speechy(48_000, 3.0, 1)
    data = make_audio("m4a", "alac", sr=48_000, n_channels=1, n_samples=len(sound), sound=sound)
    at = _upload("voice.m4a", data, "audio/mp4")
    assert not at.exception and not _messages(at)
    assert _label(at, "download_m4a").startswith("M4A · ALAC lossless · ")
    _, out = media.download(at, media.latest(), "download_m4a")
    assert MediaSource(out).info.codec == "alac" and MediaSource(out).n_samples == len(sound)
    _, wav = media.download(at, media.latest(), "download_wav")
    assert sf.info(io.BytesIO(wav)).subtype == "PCM_16"
    cleaned, _ = sf.read(io.BytesIO(wav), dtype="float32")
    # Lossless: the same samples, to the last bit of 16 (libsndfile scales by 32767, FFmpeg's side by 32768).
    assert np.abs(_decode(out)[0][:, 0] - cleaned).max() <= 2 / 32768


def test_an_mp4_comes_back_as_an_mp4_with_its_picture_and_sound_alone_wav_and_flac_beside(media):
    sound = _speechy(48_000, 3.0, 2)
    data = make_video("mp4", "libx264", "aac", sr=48_000, n_channels=2, seconds=3.0, sound=sound)
    at = _upload("talk.mp4", data, "video/mp4")
    assert not at.exception and not _messages(at)
    assert re.search(r"talk\.mp4 · 3\.0 s · 48 kHz · stereo · MP4 video \(sound: AAC 12\d kb/s\)$", _summary(at))
    assert len(at.get("audio")) == 3 and at.get("plotly_chart")  # players and picture as for any recording
    assert _keys(at) == ["download_mp4", "download_m4a", "download_wav", "download_flac"]
    assert re.fullmatch(r"MP4 video · AAC 128 kb/s · about \d+ kB", _label(at, "download_mp4"))
    assert _label(at, "download_m4a").startswith("M4A sound only · AAC 128 kb/s · ")
    name, video = media.download(at, media.latest(), "download_mp4")
    assert name == "talk_denoised.mp4"
    assert packets(video, "video") == packets(data, "video")
    _, wav = media.download(at, media.latest(), "download_wav")
    cleaned, sr = sf.read(io.BytesIO(wav), dtype="float32")
    heard, video_sr = _decode(video)
    assert (video_sr, heard.shape) == (sr, cleaned.shape)
    assert np.corrcoef(heard.ravel(), cleaned.ravel())[0, 1] > 0.99
    _, alone = media.download(at, media.latest(), "download_m4a")
    with av.open(io.BytesIO(alone)) as container:
        assert [s.type for s in container.streams] == ["audio"]


def test_a_video_with_two_sound_tracks_cleans_the_default_and_says_so(media):
    data = make_video("mp4", "libx264", "aac", sr=48_000, n_channels=2, seconds=2.0, extra_audio=True)
    at = _upload("interview.mp4", data, "video/mp4")
    assert not at.exception
    assert any("has 2 sound tracks: the default one (track 1) is cleaned" in i.value for i in at.info)
    _, video = media.download(at, media.latest(), "download_mp4")
    second = [p[4] for p in packets(video, "audio") if p[0] == 1]
    assert second == [p[4] for p in packets(data, "audio") if p[0] == 1]  # copied as it was


def test_a_codec_that_cannot_be_written_comes_back_as_m4a_and_the_page_says_so(media):
    data = make_audio("wma", "libmp3lame", sr=44_100, n_channels=1, n_samples=3 * 44_100)
    at = _upload("memo.wma", data, "audio/x-ms-wma")
    assert not at.exception and not _messages(at)
    assert _keys(at)[0] == "download_m4a"
    assert "MP3 in WMA cannot be written here, so the result is M4A (AAC)." in [c.value for c in at.caption]
    name, out = media.download(at, media.latest(), "download_m4a")
    assert name == "memo_denoised.m4a" and MediaSource(out).info.codec == "aac"


def _encrypted_m4a() -> bytes:
    return encrypted_m4a(_speechy(16000, 0.3, 1)[:, 0], 16000)


def _cut(data: bytes, share: float) -> bytes:
    return data[: int(len(data) * share)]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("memo.m4a", lambda: _cut(make_audio("m4a", "aac", sr=44_100, n_channels=2, n_samples=44_100), 0.5),
         "“memo.m4a” could not be opened as audio or video. It may not be a sound or video file, or it may be damaged."),
        ("clip.mp4", lambda: _cut(make_video("mp4", "libx264", "aac", seconds=1.0), 0.3),
         "“clip.mp4” could not be opened as audio or video."),
        ("clip.mp4", lambda: b"\x00\x00\x00\x20ftypisom" + bytes(3000), "“clip.mp4” could not be opened as audio or video."),
        ("notes.m4a", lambda: b"shopping list: eggs, milk\n" * 40, "“notes.m4a” could not be opened as audio or video."),
        ("song.m4a", _encrypted_m4a, "“song.m4a” is protected (DRM) and cannot be read."),
        ("silent.mp4", lambda: make_video("mp4", "libx264", None), "This video has no sound to clean."),
    ],
    ids=["cut-m4a", "cut-mp4", "header-only-mp4", "text-m4a", "drm", "no-sound"],
)
def test_a_damaged_protected_or_silent_file_gives_one_plain_message(name, data, message):
    at = _upload(name, data(), "video/mp4" if name.endswith("mp4") else "audio/mp4")
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith(message)
    assert not at.get("audio") and not at.get("download_button")


def test_a_memo_longer_than_the_limit_is_refused_before_it_is_decoded(monkeypatch):
    monkeypatch.setattr(limits, "MAX_SAMPLES", 44_100)
    monkeypatch.setattr(limits, "MAX_DURATION_S", 44_100 / 48_000)
    data = make_audio("m4a", "aac", sr=44_100, n_channels=1, n_samples=3 * 44_100)
    with pytest.raises(loading.InputProblem, match=r"“long\.m4a” is 3\.0 s long; Quiet cleans recordings of up to 0\.9 s"):
        loading.decode(data, "long.m4a")


def test_every_video_within_the_upload_and_duration_limits_fits_the_budget():
    """The upload limit for videos is the one for every file (server.maxUploadSize, 132 MB by default): held
    twice (as uploaded and as cleaned) with its sound at 8 bytes a sample, it fits beside the longest sound."""
    assert limits.MAX_UPLOAD_MB == 132 or limits.MEMORY_BUDGET_MB != 690
    for budget_mb in (400, 690, 1024, 2048, 2700):
        for minutes in (1, 5, 12, 30):
            max_samples, upload_mb = limits.limits(budget_mb, minutes)
            assert limits.video_fits(upload_mb * 1024**2, max_samples, budget_mb), (budget_mb, minutes)
    room = (limits.MEMORY_BUDGET_MB - limits.BASE_MB) * 1024**2
    assert not limits.video_fits(int(room / 2) + 1, 0)


def test_a_video_too_large_for_the_budget_is_refused_in_plain_words(monkeypatch):
    data = make_video("mp4", "libx264", "aac", seconds=1.0)
    monkeypatch.setattr(limits, "MEMORY_BUDGET_MB", limits.BASE_MB + 2 * len(data) / 1024**2)  # no room for its sound
    with pytest.raises(loading.InputProblem, match=r"“clip\.mp4” is a 0 MB video with 1\.0 s of sound: too much to clean"):
        loading.decode(data, "clip.mp4")


def test_a_video_counts_its_upload_and_keeps_room_for_its_cleaned_copy():
    sound = _speechy(8_000, 1.0, 1)
    data = make_video("mp4", "libx264", "aac", sr=8_000, n_channels=1, seconds=2.0, size=(320, 240), fps=30,
                      sound=sound)
    rec = loading.decode(data, "clip.mp4")
    assert rec.source is data and rec.media.has_video  # the upload itself, not a copy
    assert len(data) > rec.y.nbytes  # the picture weighs more than the sound here
    room = processing._room_bytes(rec)
    assert room >= len(data) - rec.media.bit_rate_bps * rec.duration_s / 8
    assert budget.result_bytes(rec.y.nbytes, room) >= rec.y.nbytes + budget.download_bytes(room)
    assert processing._room_bytes(loading.decode(make_audio("m4a", "aac", sr=8_000, n_channels=1, n_samples=8_000),
                                                 "memo.m4a")) == 0
