"""Many files in the browser: three uploads, one broken, give a ZIP of two results and a listed failure."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from denoise_core import DenoiseParams, integrated_loudness
from ui.batch import NoiseChoice, clean_batch

APP = Path(__file__).resolve().parent.parent / "app.py"


def _file(y, sr, fmt, subtype):
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def uploads(load_data):
    y, sr = load_data("p257_089_noisy.flac")
    stereo = np.stack([y, 0.7 * y], axis=1)
    return [
        ("memo.wav", _file(y, sr, "WAV", "PCM_24")),
        ("broken.wav", b"RIFF this is not audio at all" * 40),
        ("talk.flac", _file(stereo, sr, "FLAC", "PCM_16")),
    ]


def test_two_results_in_their_own_formats_and_a_listed_failure(uploads):
    target = io.BytesIO()
    steps = []
    rows = clean_batch(uploads, DenoiseParams(), target, progress=lambda f, t: steps.append(f))
    assert [r.name for r in rows] == ["memo.wav", "broken.wav", "talk.flac"]
    assert [r.output for r in rows] == ["memo_denoised.wav", None, "talk_denoised.flac"]
    assert "could not be opened as audio" in rows[1].problem
    assert steps == sorted(steps) and steps[-1] == 1.0
    with zipfile.ZipFile(io.BytesIO(target.getvalue())) as archive:
        assert sorted(archive.namelist()) == ["memo_denoised.wav", "talk_denoised.flac"]
        memo, sr = sf.read(io.BytesIO(archive.read("memo_denoised.wav")))
        talk, _ = sf.read(io.BytesIO(archive.read("talk_denoised.flac")))
        assert sf.info(io.BytesIO(archive.read("memo_denoised.wav"))).subtype == "PCM_24"
    assert memo.shape == (149752,) and talk.shape == (149752, 2) and sr == 48000
    assert rows[0].noise_removed_db > 3 and rows[0].duration_s == pytest.approx(149752 / 48000)
    assert rows[0].loudness_lufs == pytest.approx(integrated_loudness(memo, sr), abs=0.05)


def test_one_noise_sample_for_all_and_a_loudness_target(uploads):
    target = io.BytesIO()
    params = DenoiseParams(loudness_lufs=-20.0)
    rows = clean_batch(uploads, params, target, shared_noise=NoiseChoice(0, (0.0, 0.5)))
    assert [r.output is not None for r in rows] == [True, False, True]
    assert all(r.loudness_lufs == pytest.approx(-20.0, abs=0.5) for r in rows if r.output)


def test_a_noise_sample_from_a_broken_file_fails_every_row_in_plain_words(uploads):
    rows = clean_batch(uploads, DenoiseParams(), io.BytesIO(), shared_noise=NoiseChoice(1, (0.0, 0.5)))
    assert all(r.output is None and "noise sample could not be taken from “broken.wav”" in r.problem for r in rows)


def test_the_page_turns_three_uploads_into_a_zip_and_a_table(uploads):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.radio(key="mode").set_value("Many files").run()
    assert at.get("file_uploader")[0].proto.multiple_files
    at.file_uploader(key="batch_files").set_value([(name, data, "audio/wav") for name, data in uploads]).run()
    at.button(key="batch_run").click().run()
    assert not at.exception
    (warning,) = at.warning
    assert "2 of 3 files cleaned; 1 could not be" in warning.value
    table = at.dataframe[0].value
    assert list(table["Result"]) == ["memo_denoised.wav", "—", "talk_denoised.flac"]
    assert "could not be opened" in table["Problem"][1]
    assert at.get("download_button")


def test_memos_and_videos_come_back_in_their_own_kind_of_file():
    from media_fixtures import make_audio, make_video, packets

    video = make_video("mp4", "libx264", "aac", sr=48000, n_channels=2, seconds=2.0)
    memo = make_audio("m4a", "aac", sr=44100, n_channels=1, n_samples=2 * 44100)
    target = io.BytesIO()
    rows = clean_batch([("memo.m4a", memo), ("clip.mp4", video)], DenoiseParams(), target)
    assert [r.output for r in rows] == ["memo_denoised.m4a", "clip_denoised.mp4"]
    with zipfile.ZipFile(io.BytesIO(target.getvalue())) as archive:
        assert packets(archive.read("clip_denoised.mp4"), "video") == packets(video, "video")
        assert packets(archive.read("memo_denoised.m4a"), "audio")
