"""Media files through PyAV: what probe finds, round trips through MediaSource and MediaWriter, video copied as it is.

Every file is made at test time by :mod:`media_fixtures` (PyAV's own
encoders), a fraction of a second long.
"""

from __future__ import annotations

import io
from dataclasses import replace
from math import ceil

import av
import numpy as np
import pytest
from media_fixtures import AUDIO_CASES, VIDEO_CASES, encrypted_m4a, make_audio, make_video, packets, tone

from denoise_core.audio_io import SOUNDFILE_EXTENSIONS, SUPPORTED_EXTENSIONS
from denoise_core.errors import AudioFileError, AudioInputError
from denoise_core.media import (
    MEDIA_EXTENSIONS,
    VIDEO_EXTENSIONS,
    MediaLimits,
    MediaSource,
    MediaWriter,
    plan_output,
    probe,
)

N = 12345  # samples written: a multiple of no codec's frame size

#: Decoded length of a file made from n samples, per kind and codec (FFmpeg's encoders).
#: MP4 family, CAF and Matroska/WebM Opus are exact. ADTS AAC rounds up to 1024-sample frames (its 1024
#: priming samples are dropped on reading). Raw AMR adds the encoder's 50-sample delay and rounds up to
#: 160-sample frames. WMA rounds up to 2048-sample frames, less the first frame, which FFmpeg's decoder
#: drops (MediaWriter writes a frame of zeros first, so its results keep their start).
LENGTHS = {
    "aac": lambda n: ceil(n / 1024) * 1024,
    "amr": lambda n: ceil((n + 50) / 160) * 160,
}
WMA_FIXTURE = lambda n: ceil(n / 2048) * 2048 - 2048  # noqa: E731 (a fixture without the writer's lead-in)
WMA_WRITTEN = lambda n: ceil(n / 2048) * 2048  # noqa: E731
#: Lowest signal-to-difference ratio of a written result against its input, in dB, per codec.
MIN_SNR_DB = {"aac": 20.0, "opus": 20.0, "wmav2": 20.0, "amrnb": 15.0}
#: Samples by which a written result lags its input (measured): AMR-NB's encoder delays its sound by 39
#: samples (4.9 ms) in raw AMR, and by 7 (0.9 ms) in 3GP, whose edit list takes off the 50 it declares.
LAGS = {"amr": 39, "3ga": 7}

CASE_IDS = [f"{kind}-{enc}" for kind, _, enc, _, _ in AUDIO_CASES]


def decode(data: bytes, name: str) -> np.ndarray:
    return np.concatenate(list(MediaSource(data, name=name).read()))


def round_trip(data: bytes, name: str, **kw):
    """Decode ``data`` and write it back unchanged into a BytesIO: (source, writer, output bytes)."""
    source = MediaSource(data, name=name)
    buffer = io.BytesIO()
    with MediaWriter(buffer, data, info=source.info, **kw) as writer:
        for block in source.read():
            writer.write(block)
    return source, writer, buffer.getvalue()


def snr_db(reference: np.ndarray, y: np.ndarray) -> float:
    n = min(len(reference), len(y))
    return float(10 * np.log10(np.sum(reference[:n] ** 2) / np.sum((reference[:n] - y[:n]) ** 2)))


@pytest.fixture(scope="module")
def audio_files():
    return {case: make_audio(case[0], case[2], sr=case[3], n_channels=case[4], n_samples=N, tags={"title": "memo"})
            for case in AUDIO_CASES}


def test_extensions_are_the_new_ones_and_videos_among_them():
    assert MEDIA_EXTENSIONS == (".m4a", ".m4b", ".aac", ".3gp", ".3ga", ".caf", ".mp4", ".mov", ".webm", ".mkv", ".amr", ".wma")
    assert set(VIDEO_EXTENSIONS) == {".mp4", ".mov", ".webm", ".mkv", ".3gp"}
    assert not set(MEDIA_EXTENSIONS) & set(SOUNDFILE_EXTENSIONS)
    assert SUPPORTED_EXTENSIONS == SOUNDFILE_EXTENSIONS + MEDIA_EXTENSIONS


@pytest.mark.parametrize("case", AUDIO_CASES, ids=CASE_IDS)
def test_probe_reports_the_sound_as_written(audio_files, case):
    kind, _, encoder, sr, n_channels = case
    info = probe(audio_files[case], name="memo." + kind)
    codec = {"libopencore_amrnb": "amrnb", "libopus": "opus"}.get(encoder, encoder)
    assert (info.kind, info.codec, info.sr, info.n_channels) == (kind, codec, sr, n_channels)
    assert (info.has_video, info.n_audio_tracks, info.audio_track, info.rotation_deg) == (False, 1, 0, 0.0)
    assert info.lossless == (encoder == "alac")
    if info.n_samples_exact:
        assert info.n_samples == N
    assert info.duration_s == pytest.approx(info.n_samples / sr)
    assert info.bit_rate_bps is not None and info.bit_rate_bps > 0


def test_probe_of_bytes_without_a_name_tells_the_kind_from_the_file():
    data = make_audio("m4a", "aac", sr=44100, n_channels=1, n_samples=N)
    assert probe(data).kind == "m4a"
    webm = make_audio("webm", "libopus", sr=48000, n_channels=1, n_samples=N)
    assert probe(webm).kind == "webm"


@pytest.mark.parametrize("case", AUDIO_CASES, ids=CASE_IDS)
def test_decoded_length_rate_and_channels(audio_files, case):
    kind, _, _encoder, sr, n_channels = case
    source = MediaSource(audio_files[case], name="memo." + kind)
    y = np.concatenate(list(source.read()))
    want = WMA_FIXTURE(N) if kind == "wma" else LENGTHS.get(kind, lambda n: n)(N)
    assert (y.shape, y.dtype, source.sr, source.n_samples) == ((want, n_channels), np.float32, sr, want)


@pytest.mark.parametrize("case", AUDIO_CASES, ids=CASE_IDS)
def test_round_trip_keeps_format_length_and_sound(audio_files, case):
    kind, _, encoder, sr, n_channels = case
    source, writer, out = round_trip(audio_files[case], "memo." + kind)
    codec = {"libopencore_amrnb": "amrnb", "libopus": "opus"}.get(encoder, encoder)
    assert (writer.plan.kind, writer.plan.codec, writer.note, writer.extension) == (kind, codec, "", "." + kind)
    back = MediaSource(out, name="out." + kind)
    want = {"amr": LENGTHS["amr"], "wma": WMA_WRITTEN}.get(kind, lambda n: n)(source.n_samples)
    assert (back.sr, back.n_channels, back.n_samples, back.info.codec) == (sr, n_channels, want, codec)
    y_in, y_out = np.concatenate(list(source.read())), np.concatenate(list(back.read()))
    if codec == "alac":
        np.testing.assert_array_equal(y_out, y_in)  # lossless in, lossless out, bit for bit
    else:
        assert snr_db(y_in, y_out[LAGS.get(kind, 0) :]) > MIN_SNR_DB[codec]
    if writer.plan.bit_rate_bps is not None:
        assert writer.plan.bit_rate_bps >= min(source.info.bit_rate_bps, 12200 if codec == "amrnb" else 10**9)
    if kind in ("m4a", "m4b", "caf", "webm", "mkv", "wma"):
        assert back.info.tags.get("title") == "memo"


@pytest.mark.parametrize("kind, sr", [("mkv", 48000), pytest.param("webm", 44100, marks=pytest.mark.xfail(
    strict=True, reason="FFmpeg's own Vorbis encoder (experimental, the only one here) garbles the second channel "
    "of this stereo 44.1 kHz tone: 2.9 dB against its input, the first channel 39.7 dB"))])
def test_stereo_vorbis_round_trip_keeps_length_and_sound(kind, sr):
    data = make_audio(kind, "vorbis", sr=sr, n_channels=2, n_samples=N)
    source, writer, out = round_trip(data, "memo." + kind)
    back = MediaSource(out, name="out." + kind)
    assert (writer.plan.codec, source.n_samples, back.n_samples) == ("vorbis", 12352, 12352)  # 64-sample steps
    y_in, y_out = np.concatenate(list(source.read())), np.concatenate(list(back.read()))
    assert min(snr_db(y_in[:, c], y_out[:, c]) for c in range(2)) > 30.0


def test_alac_keeps_its_bit_depth():
    data = make_audio("m4a", "alac", sr=44100, n_channels=2, n_samples=N)
    _, _, out = round_trip(data, "memo.m4a")
    with av.open(io.BytesIO(data)) as a, av.open(io.BytesIO(out)) as b:
        assert b.streams.audio[0].codec_context.format.name == a.streams.audio[0].codec_context.format.name == "s16p"


def test_lossy_bit_rate_is_at_least_the_input_one():
    data = make_audio("m4a", "aac", sr=44100, n_channels=2, n_samples=4 * N, bit_rate=192000)
    info = probe(data, name="memo.m4a")
    assert info.bit_rate_bps > 150000
    _, writer, out = round_trip(data, "memo.m4a")
    assert writer.plan.bit_rate_bps == max(info.bit_rate_bps, 128000)
    assert probe(out, name="out.m4a").bit_rate_bps > 0.9 * info.bit_rate_bps


def test_blocks_are_bounded_and_any_stretch_reads_like_the_whole():
    data = make_audio("m4a", "aac", sr=44100, n_channels=2, n_samples=N)
    source = MediaSource(data, name="memo.m4a")
    source.block_samples = 1000
    blocks = list(source.read())
    assert [len(b) for b in blocks] == [1000] * 12 + [345]
    whole = np.concatenate(blocks)
    np.testing.assert_array_equal(np.concatenate(list(source.read(4321, 9876))), whole[4321:9876])
    np.testing.assert_array_equal(np.concatenate(list(source.read(11000))), whole[11000:])


def test_path_and_bytes_read_the_same(tmp_path):
    data = make_audio("caf", "alac", sr=48000, n_channels=1, n_samples=N)
    (tmp_path / "memo.caf").write_bytes(data)
    np.testing.assert_array_equal(decode(data, "memo.caf"), np.concatenate(list(MediaSource(tmp_path / "memo.caf").read())))


def test_path_target_appears_only_when_complete(tmp_path):
    data = make_audio("m4a", "aac", sr=44100, n_channels=1, n_samples=N)
    source = MediaSource(data, name="memo.m4a")
    writer = MediaWriter(tmp_path / "clean.m4a", data, info=source.info)
    for block in source.read():
        writer.write(block)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".denoise-")] == []
    writer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.m4a"]
    assert MediaSource(tmp_path / "clean.m4a").n_samples == N


def test_a_failure_inside_the_writer_leaves_nothing(tmp_path):
    data = make_audio("m4a", "aac", sr=44100, n_channels=1, n_samples=N)
    with pytest.raises(RuntimeError, match="engine stopped"), MediaWriter(tmp_path / "clean.m4a", data) as writer:
        writer.write(tone(5000, 44100, 1))
        raise RuntimeError("engine stopped")
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_blocks_of_the_wrong_shape():
    data = make_audio("m4a", "aac", sr=44100, n_channels=2, n_samples=N)
    with MediaWriter(io.BytesIO(), data) as writer, pytest.raises(
        AudioInputError, match=r"shape \(samples, 2\), got \(100, 1\)"
    ):
            writer.write(np.zeros((100, 1), np.float32))


def test_amr_wb_becomes_m4a_aac_and_says_so(tmp_path):
    data = make_audio("amr", "libopencore_amrnb", sr=8000, n_channels=1, n_samples=N)
    info = replace(probe(data, name="memo.amr"), codec="amrwb")
    plan = plan_output(info)
    assert (plan.kind, plan.codec, plan.bit_rate_bps) == ("m4a", "aac", 64000)
    assert plan.note == "AMR cannot be written here, so the result is M4A (AAC)."
    source = MediaSource(data, name="memo.amr")
    with MediaWriter(tmp_path / "memo_clean.amr", data, info=info) as writer:
        for block in source.read():
            writer.write(block)
    assert (writer.path.name, writer.extension, writer.note) == ("memo_clean.m4a", ".m4a", plan.note)
    back = MediaSource(writer.path)
    assert (back.info.kind, back.info.codec, back.sr, back.n_samples) == ("m4a", "aac", 8000, source.n_samples)


@pytest.mark.parametrize(
    "kind, codec, lossless, has_video, want",
    [
        ("caf", "aac", False, False, ("m4a", "aac", "AAC in CAF cannot be written here, so the result is M4A (AAC).")),
        ("wma", "wmalossless", True, False, ("m4a", "alac", "WMALOSSLESS cannot be written here, so the result is M4A (ALAC).")),
        ("mp4", "mp3", False, True, ("mp4", "aac", "MP3 in MP4 cannot be written here, so the result is MP4 (AAC).")),
        ("3gp", "amrwb", False, False, ("3gp", "aac", "AMR cannot be written here, so the result is 3GP (AAC).")),
        ("webm", "vorbis", False, True, ("webm", "vorbis", "")),
        ("webm", "vorbis-mono", False, False, ("m4a", "aac", "Vorbis cannot be written here, so the result is M4A (AAC).")),
    ],
)
def test_plan_when_the_input_codec_cannot_be_written(kind, codec, lossless, has_video, want):
    mono = codec.endswith("-mono")  # mono at 44.1 kHz: neither FFmpeg's Vorbis encoder nor Opus takes it
    data = make_audio("m4a", "aac", sr=44100 if mono else 16000, n_channels=1 if mono else 2, n_samples=N)
    codec = codec.removesuffix("-mono")
    info = replace(probe(data), kind=kind, codec=codec, lossless=lossless, has_video=has_video)
    plan = plan_output(info)
    assert (plan.kind, plan.codec, plan.note) == want


# ---------------------------------------------------------------- video

VIDEO_IDS = [f"{kind}-{v}-{a}" for kind, _, v, a, _, _ in VIDEO_CASES]


@pytest.fixture(scope="module")
def videos():
    return {case: make_video(case[0], case[2], case[3], sr=case[4], n_channels=case[5], rotation_deg=90,
                             extra_audio=True, tags={"title": "clip"}) for case in VIDEO_CASES}


@pytest.mark.parametrize("case", VIDEO_CASES, ids=VIDEO_IDS)
def test_video_is_copied_packet_for_packet_with_tags_and_rotation(videos, case):
    kind = case[0]
    data = videos[case]
    _source, writer, out = round_trip(data, "clip." + kind)
    assert (writer.plan.kind, writer.note) == (kind, "")
    info = probe(out, name="out." + kind)
    assert (info.has_video, info.rotation_deg, info.n_audio_tracks, info.audio_track) == (True, 90.0, 2, 0)
    if kind != "3gp":  # the 3GP muxer writes no title
        assert info.tags.get("title") == "clip"
    video_in, video_out = packets(data, "video"), packets(out, "video")
    assert len(video_in) == 10
    assert [p[4] for p in video_out] == [p[4] for p in video_in]  # the bytes
    assert [p[1:3] for p in video_out] == [p[1:3] for p in video_in]  # pts and dts, in seconds
    other_in = [p for p in packets(data, "audio") if p[0] == 1]
    other_out = [p for p in packets(out, "audio") if p[0] == 1]
    assert [p[4] for p in other_out] == [p[4] for p in other_in] and len(other_in) > 10


@pytest.mark.parametrize("case", VIDEO_CASES, ids=VIDEO_IDS)
def test_video_sound_stays_in_step(videos, case):
    kind, sr = case[0], case[4]
    data = videos[case]
    source, _, out = round_trip(data, "clip." + kind)
    back = MediaSource(out, name="out." + kind)
    assert (back.n_samples, back.info.start_s) == (source.n_samples, source.info.start_s) == (sr, 0.0)
    first_in = next(p for p in packets(data, "audio") if p[0] == 0)
    first_out = next(p for p in packets(out, "audio") if p[0] == 0)
    assert first_out[1:4] == first_in[1:4]  # pts, dts and duration of the first packet (its priming included)
    assert packets(out, "video")[0][1] == packets(data, "video")[0][1] == 0.0


def test_video_without_sound_is_refused():
    data = make_video("mp4", "libx264", None)
    with pytest.raises(AudioFileError, match=r"^This video has no sound to clean\.$"):
        probe(data, name="clip.mp4")


# ---------------------------------------------------------------- refusals


def test_encrypted_m4a_is_refused_as_drm():
    data = encrypted_m4a(tone(4096, 16000, 1)[:, 0], 16000)
    with pytest.raises(AudioFileError, match=r"^song\.m4a is protected \(DRM\) and cannot be read\.$"):
        probe(data, name="song.m4a")


def test_wma_with_a_content_encryption_object_is_refused_as_drm():
    data = make_audio("wma", "wmav2", sr=44100, n_channels=1, n_samples=N)
    # Windows Media DRM's Content Encryption Object, put first in the ASF header object.
    body = (4).to_bytes(4, "little") * 0 + (0).to_bytes(4, "little") + (4).to_bytes(4, "little") + b"DRM\x00" \
        + (0).to_bytes(4, "little") + (0).to_bytes(4, "little")
    drm = bytes.fromhex("fbb3112223bdd211b4b700a0c955fc6e") + (24 + len(body)).to_bytes(8, "little") + body
    size, count = int.from_bytes(data[16:24], "little"), int.from_bytes(data[24:28], "little")
    patched = data[:16] + (size + len(drm)).to_bytes(8, "little") + (count + 1).to_bytes(4, "little") + data[28:30] + drm + data[30:]
    with pytest.raises(AudioFileError, match=r"^song\.wma is protected \(DRM\) and cannot be read\.$"):
        probe(patched, name="song.wma")


@pytest.mark.parametrize(
    "limits, pattern",
    [
        (MediaLimits(max_duration_s=0.5), r"^clip\.mp4 says it lasts 0\.0 hours; at most 0\.000138889 hours can be cleaned\.$"),
        (MediaLimits(max_streams=2), r"^clip\.mp4 holds more than 2 streams; at most 2 are accepted\.$"),
        (MediaLimits(max_sr=44100), r"^clip\.mp4 has sound at 48000 Hz; from 8000 to 44100 Hz can be read\.$"),
        (MediaLimits(max_channels=1), r"^clip\.mp4 has 2 sound channels; at most 1 can be read\.$"),
    ],
    ids=["duration", "streams", "rate", "channels"],
)
def test_files_beyond_the_limits_are_refused_before_decoding(videos, limits, pattern):
    with pytest.raises(AudioFileError, match=pattern):
        MediaSource(videos[VIDEO_CASES[0]], name="clip.mp4", limits=limits)


@pytest.mark.parametrize(
    "data, pattern",
    [
        (b"", r"^memo\.m4a is empty \(0 bytes\)\.$"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", r"^memo\.m4a is not an audio or video file that can be read here \(M4A, M4B, AAC, "),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(200), r"^memo\.m4a could not be read as audio or video: "),
    ],
    ids=["empty", "wav", "header-only"],
)
def test_what_is_not_media_is_refused_in_plain_words(data, pattern):
    with pytest.raises(AudioFileError, match=pattern):
        MediaSource(data, name="memo.m4a")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(AudioFileError, match=r"^memo\.m4a does not exist or is not a file\.$"):
        probe(tmp_path / "memo.m4a")


@pytest.mark.parametrize("kind, cut", [("m4a", 0.5), ("mp4", 0.3)])
def test_cut_m4a_or_mp4_is_refused_in_plain_words(videos, kind, cut):
    data = make_audio("m4a", "aac", sr=44100, n_channels=2, n_samples=4 * N) if kind == "m4a" else videos[VIDEO_CASES[0]]
    # The index (moov) is written last, so a cut file has none.
    with pytest.raises(AudioFileError, match=rf"^memo\.{kind} could not be read as audio or video: [a-z]"):
        MediaSource(data[: int(len(data) * cut)], name=f"memo.{kind}")
