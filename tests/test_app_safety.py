"""Hostile and odd input through the page, limits, and sessions kept apart (AppTest, widgets by key).

Players and downloads are read back as bytes: each AppTest run gets a fresh
in-memory media store, which the ``media`` fixture keeps hold of, so a test can
fetch a player's bytes from its URL and run a download button's deferred
callable as a click in the browser would.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import streamlit as st
from app_downloads import Media, keep_media
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

from ui import limits, loading

APP = ROOT / "app.py"
DATA = Path(__file__).resolve().parent / "data"
TIMEOUT = 120


@pytest.fixture
def media(monkeypatch) -> Media:
    return keep_media(monkeypatch)


def _session() -> AppTest:
    """A visitor's page with the classic engine, which keeps whatever the odd files hold (tones, noise)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["engine"] = "classic"
    at.run()
    assert not at.exception
    return at


def _upload(at: AppTest, name: str, data: bytes, mime: str = "audio/wav") -> AppTest:
    at.file_uploader(key="upload").set_value((name, data, mime)).run()
    return at


def _wav(y: np.ndarray, sr: int, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


def _noisy(sr: int, seconds: float, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    voice = 0.3 * np.sin(2 * np.pi * 200 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    y = voice[:, None] + 0.02 * rng.standard_normal((len(t), channels))
    return (y[:, 0] if channels == 1 else y).astype(np.float32)


def _messages(at: AppTest):
    return [e.value for e in at.error] + [w.value for w in at.warning]


def _unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Sessions ---------------------------------------------------------------------------------------


def test_sessions_do_not_see_each_other(media):
    x = _wav(_noisy(16_000, 3.0, seed=1), 16_000)
    y = _wav(_noisy(16_000, 3.0, seed=2), 16_000)

    a = _upload(_session(), "alice_secret.wav", x)
    a_media = media.latest()
    assert len(a.get("audio")) == 3
    a_players = [_digest(b) for b in media.player_bytes(a, a_media)]
    a_name, a_wav = media.download(a, a_media, "download_wav")
    assert a_name == "alice_secret_denoised.wav"

    # B starts fresh: no result, no player, no trace of A's file anywhere on the page.
    b = _session()
    assert not b.get("audio") and not b.get("download_button") and not b.get("plotly_chart")
    assert b.file_uploader(key="upload").value is None
    page_text = " ".join(str(e.proto) for e in b.get("markdown") + b.get("info") + b.get("caption"))
    assert "alice" not in page_text
    assert not b.metric

    # B uploads Y: B gets Y's result, and A's page, players and download stay A's.
    _upload(b, "bob.wav", y)
    b_media = media.latest()
    b_players = [_digest(d) for d in media.player_bytes(b, b_media)]
    assert not set(b_players) & set(a_players)
    b_name, b_wav = media.download(b, b_media, "download_wav")
    assert b_name == "bob_denoised.wav" and _digest(b_wav) != _digest(a_wav)
    assert "alice" not in " ".join(str(e.proto) for e in b.get("markdown"))

    a.slider(key="threshold_db").set_value(8.0).run()  # A works on; B's upload did not leak in
    assert "alice_secret.wav" in _unescape(a.markdown[1].value)
    a.button(key="reset").click().run()
    a.radio(key="engine").set_value("classic").run()  # the reset chose the default engine; A's was classic
    a_media = media.latest()
    assert [_digest(d) for d in media.player_bytes(a, a_media)] == a_players
    name, data = media.download(a, a_media, "download_wav")
    assert (name, _digest(data)) == (a_name, _digest(a_wav))


def test_a_download_after_the_result_was_dropped_is_cleaned_again(media):
    """Results are shared and only the latest is kept: a page keeps what it needs to remake its own."""
    a = _upload(_session(), "first.wav", _wav(_noisy(16_000, 2.0, seed=3), 16_000))
    a_media = media.latest()
    _, before = media.download(a, a_media, "download_wav")
    _upload(_session(), "second.wav", _wav(_noisy(16_000, 2.0, seed=4), 16_000))  # drops A's result
    _, after = media.download(a, a_media, "download_wav")
    assert after == before


# --- Names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, download",
    [("../../etc/passwd.wav", "passwd_denoised.wav"), ("a/b\\c.wav", "c_denoised.wav"), ("<b>x</b>.wav", "b_denoised.wav")],
)
def test_hostile_file_names_are_never_paths(media, monkeypatch, tmp_path, name, download):
    # Run from a folder where the name, used as a path, would land inside tmp_path.
    cwd = tmp_path / "one" / "two"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    touched = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, mode="r", *args, **kwargs):
        touched.append((str(file), mode))
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(path, flags, *args, **kwargs):
        touched.append((str(path), flags))
        return real_os_open(path, flags, *args, **kwargs)

    at = _session()
    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    _upload(at, name, _wav(_noisy(16_000, 2.0), 16_000))
    saved_name, data = media.download(at, media.latest(), "download_wav")
    monkeypatch.undo()

    assert not at.exception and len(at.get("audio")) == 3
    assert saved_name == download
    assert sf.info(io.BytesIO(data)).frames == 32_000
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["one", "one/two"]
    stem = Path(name.replace("\\", "/")).stem
    # (by file name: the server reads /proc/self/statm for its memory budget, and "c" is in that path)
    assert not [t for t in touched if stem in Path(t[0]).name or "passwd" in t[0]], touched
    # Shown as text, escaped: no HTML or Markdown from a name reaches the page.
    assert f"**{name}**" in _unescape(at.markdown[1].value)


# --- Limits -------------------------------------------------------------------------------------------


def test_upload_size_limit_is_said(monkeypatch):
    monkeypatch.setattr(limits, "MAX_UPLOAD_MB", 1)
    at = _upload(_session(), "big.wav", _wav(_noisy(48_000, 20.0), 48_000))  # 1.8 MB
    assert not at.exception
    (error,) = at.error
    assert error.value == "“big.wav” is 2 MB; files of up to 1 MB can be cleaned here."
    assert not at.get("audio")


def test_the_limits_are_on_the_page():
    at = _session()
    text = at.info[0].value + at.file_uploader(key="upload").proto.help
    assert f"{limits.MAX_UPLOAD_MB} MB" in text
    assert loading.describe_duration(limits.MAX_DURATION_S) in text


def test_sample_budget_is_said(monkeypatch):
    monkeypatch.setattr(limits, "MAX_SAMPLES", 40_000)
    st.cache_resource.clear()
    at = _upload(_session(), "stereo.wav", _wav(_noisy(16_000, 2.0, channels=2), 16_000))
    assert not at.exception
    (error,) = at.error
    assert "too much to clean at once" in error.value and "48 kHz mono" in error.value
    st.cache_resource.clear()


# --- Odd files ----------------------------------------------------------------------------------------


def _truncated_wav() -> bytes:
    data = _wav(_noisy(16_000, 2.0), 16_000)
    return data[: len(data) // 2 + 1]  # the header still claims two seconds; half is there, last sample cut


def _odd_files():
    rng = np.random.default_rng(11)
    yield "zero_bytes.wav", b"", "is empty"
    yield "random.wav", rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "could not be opened as audio"
    yield "notes.wav", b"Dear diary, today I recorded nothing.\n" * 30, "could not be opened as audio"
    yield "truncated.wav", _truncated_wav(), None
    yield "u8.wav", _wav(_noisy(16_000, 1.0), 16_000, "PCM_U8"), None
    yield "s24.wav", _wav(_noisy(16_000, 1.0), 16_000, "PCM_24"), None
    yield "f64.wav", _wav(_noisy(16_000, 1.0), 16_000, "DOUBLE"), None
    yield "eight_channels.flac", _wav(_noisy(16_000, 1.0, channels=8), 16_000, "PCM_16", "FLAC"), None
    yield "phone.wav", _wav(_noisy(8_000, 1.0), 8_000), None
    yield "studio.wav", _wav(_noisy(192_000, 0.5), 192_000, "PCM_24"), None
    yield "one_sample.wav", _wav(np.array([0.25], np.float32), 16_000), "is only 0.00 s long"
    yield "tenth_of_a_second.wav", _wav(_noisy(16_000, 0.1), 16_000), "is only 0.10 s long. Quiet needs at least 0.5 s"
    yield "zeros.wav", _wav(np.zeros(16_000, np.float32), 16_000), "is silent"
    yield "header_only.wav", _wav(np.zeros(0, np.float32), 16_000), "holds no audio|could not be opened"


@pytest.mark.parametrize("name, data, problem", list(_odd_files()), ids=[f[0] for f in _odd_files()])
def test_odd_files_give_a_result_or_one_plain_message(media, name, data, problem):
    at = _upload(_session(), name, data, "audio/flac" if name.endswith(".flac") else "audio/wav")
    assert not at.exception, at.exception
    messages = _messages(at)
    if problem is not None:
        assert len(messages) == 1, messages
        assert re.search(problem, messages[0]), messages[0]
        assert name in messages[0]
        assert "Traceback" not in messages[0] and "Error" not in messages[0]
        assert not at.get("audio")
        return
    assert not messages, messages
    assert len(at.get("audio")) == 3
    source = sf.info(io.BytesIO(data))
    expected_frames = len(sf.read(io.BytesIO(data))[0])
    for key in ("download_wav", "download_flac"):
        saved_name, out = media.download(at, media.latest(), key)
        assert saved_name == f"{Path(name).stem}_denoised.{key.split('_')[1]}"
        info = sf.info(io.BytesIO(out))
        assert (info.samplerate, info.channels, info.frames) == (source.samplerate, source.channels, expected_frames)
