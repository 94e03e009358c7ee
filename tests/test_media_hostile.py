"""Hostile media files stay harmless: processed, or refused with one plain-words AudioFileError, quickly.

A corpus is made at test time from small valid files of every container
(:mod:`media_fixtures`) and mutations of them: cuts, flipped bytes in the
header and the body, zero length, declared durations of years, absurd
sample rates and channel counts, and a thousand tiny streams. Every file
goes through ``MediaSource`` (probe, counting pass, read) and ``MediaWriter``
in a child process (this file run as a script), so that a crash or a hang in
FFmpeg shows as a failed test rather than a dead test run, and so that the
child's peak memory can be measured.
"""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240611
#: Longest one file may take through reading and writing, in seconds.
HANG_S = 5.0
#: Most memory the child may reach over the whole corpus, in MiB (it measures 76; Python with NumPy and PyAV imported takes 44).
PEAK_RSS_MIB = 150
N_SAMPLES = 16000


# ---------------------------------------------------------------- making the corpus


def _patch(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


def _mp4_durations(data: bytes) -> bytes:
    """Every duration of an MP4 set to 2**31 - 1 ticks: the first sample's (in each time-to-sample table,
    which FFmpeg believes) and the movie's, tracks' and media's (which it does not)."""
    huge = struct.pack(">I", 0x7FFFFFFF)
    fields = {b"stts": 16, b"mvhd": 20, b"mdhd": 20, b"tkhd": 24}  # offsets from the box type, version 0
    for box, offset in fields.items():
        at = data.find(box)
        while at >= 0:
            assert data[at + 4] == 0, f"{box} of version {data[at + 4]}"
            data = _patch(data, at + offset, huge)
            at = data.find(box, at + 4)
    return data


def _mkv_duration(data: bytes) -> bytes:
    """Matroska's segment duration (element 0x4489) set to 10**12 ticks: 31 years."""
    at = data.find(b"\x44\x89")
    size = data[at + 2] & 0x0F
    return _patch(data, at + 3, struct.pack(">d" if size == 8 else ">f", 1e12))


def _caf_field(data: bytes, chunk: bytes, offset: int, value: bytes) -> bytes:
    return _patch(data, data.find(chunk) + 12 + offset, value)


def _asf_format(data: bytes, offset: int, value: bytes) -> bytes:
    """A field of the WAVEFORMATEX in ASF's first Stream Properties Object (2: channels, 4: sample rate)."""
    at = data.find(bytes.fromhex("9107dcb7b7a9cf118ee600c00c205365"))
    return _patch(data, at + 78 + offset, value)


def _asf_duration(data: bytes) -> bytes:
    """ASF's play duration (File Properties Object) set to 2**62 hundreds of nanoseconds."""
    at = data.find(bytes.fromhex("a1dcab8c47a9cf118ee400c00c205365"))
    return _patch(data, at + 64, struct.pack("<Q", 1 << 62))


def _many_streams(muxer: str) -> bytes:
    """999 one-packet PCM streams (FFmpeg's muxers take at most 1000)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=muxer) as container:
        streams = [container.add_stream("pcm_s16le", rate=8000, layout="mono") for _ in range(999)]
        for stream in streams:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 16), np.int16), format="s16", layout="mono")
            frame.sample_rate, frame.pts = 8000, 0
            for packet in stream.encode(frame) + stream.encode(None):
                container.mux(packet)
    return buffer.getvalue()


def build_corpus(folder: Path) -> list[tuple[Path, str]]:
    """Write the corpus into ``folder``: (path, what was done to it)."""
    from media_fixtures import make_audio, make_video

    bases: dict[str, bytes] = {
        "m4a": make_audio("m4a", "aac", sr=16000, n_channels=1, n_samples=N_SAMPLES),
        "alac.m4a": make_audio("m4a", "alac", sr=16000, n_channels=2, n_samples=N_SAMPLES),
        "3gp": make_audio("3gp", "aac", sr=16000, n_channels=1, n_samples=N_SAMPLES),
        "aac": make_audio("aac", "aac", sr=16000, n_channels=1, n_samples=N_SAMPLES),
        "caf": make_audio("caf", "alac", sr=16000, n_channels=1, n_samples=N_SAMPLES),
        "mkv": make_audio("mkv", "libopus", sr=48000, n_channels=1, n_samples=N_SAMPLES),
        "amr": make_audio("amr", "libopencore_amrnb", sr=8000, n_channels=1, n_samples=N_SAMPLES),
        "wma": make_audio("wma", "wmav2", sr=16000, n_channels=1, n_samples=N_SAMPLES),
        "mp4": make_video("mp4", "libx264", "aac", sr=16000, n_channels=1, seconds=1.0),
        "webm": make_video("webm", "libvpx", "libopus", sr=48000, n_channels=1, seconds=1.0),
    }
    rng = np.random.default_rng(SEED)
    files: list[tuple[str, bytes, str]] = []
    for label, data in bases.items():
        ext = label.rsplit(".", 1)[-1]
        files.append((f"{label}-valid.{ext}", data, "valid"))
        for fraction in (0.1, 0.5, 0.9):
            files.append((f"{label}-cut{int(fraction * 100)}.{ext}", data[: int(len(data) * fraction)], f"cut to {fraction:.0%}"))
        for k in range(3):
            for part, lo, hi, n_bytes in (("head", 0, min(512, len(data)), 8), ("body", min(512, len(data)), len(data), 32)):
                buf = bytearray(data)
                for i in rng.choice(np.arange(lo, hi), size=min(n_bytes, hi - lo), replace=False):
                    buf[int(i)] ^= int(rng.integers(1, 256))
                files.append((f"{label}-flip-{part}{k}.{ext}", bytes(buf), f"{n_bytes} bytes flipped in the {part}"))
        files.append((f"{label}-empty.{ext}", b"", "zero length"))
    for label in ("m4a", "3gp", "mp4"):
        files.append((f"{label}-huge-duration.{label}", _mp4_durations(bases[label]), "huge declared duration"))
    files.append(("mkv-huge-duration.mkv", _mkv_duration(bases["mkv"]), "huge declared duration"))
    files.append(("webm-huge-duration.webm", _mkv_duration(bases["webm"]), "huge declared duration"))
    files.append(("wma-huge-duration.wma", _asf_duration(bases["wma"]), "huge declared duration"))
    files.append(("wma-absurd-rate.wma", _asf_format(bases["wma"], 4, struct.pack("<I", 10**9)), "absurd sample rate"))
    files.append(("wma-absurd-channels.wma", _asf_format(bases["wma"], 2, struct.pack("<H", 5000)), "absurd channel count"))
    # Lies FFmpeg does not believe (ALAC's own configuration gives the rate and channels; the packets, the length).
    files.append(("caf-lying-length.caf", _caf_field(bases["caf"], b"pakt", 8, struct.pack(">q", 1 << 50)), "harmless lie"))
    files.append(("caf-lying-rate.caf", _caf_field(bases["caf"], b"desc", 0, struct.pack(">d", 1e9)), "harmless lie"))
    files.append(("caf-lying-channels.caf", _caf_field(bases["caf"], b"desc", 24, struct.pack(">I", 5000)), "harmless lie"))
    files.append(("many-streams.mkv", _many_streams("matroska"), "999 streams"))
    files.append(("many-streams.mov", _many_streams("mov"), "999 streams"))
    paths = []
    for name, data, what in files:
        (folder / name).write_bytes(data)
        paths.append((folder / name, what))
    return paths


#: Mutations that must be refused, whatever FFmpeg makes of them.
MUST_REFUSE = ("zero length", "huge declared duration", "absurd sample rate", "absurd channel count", "999 streams")


# ---------------------------------------------------------------- the child process


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hang()


def run_one(path: Path) -> dict[str, object]:
    """Read ``path`` through MediaSource and write it back through MediaWriter; what happened."""
    from denoise_core.errors import AudioFileError
    from denoise_core.media import MediaSource, MediaWriter

    started = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        source = MediaSource(path)
        buffer = io.BytesIO()
        with MediaWriter(buffer, path, info=source.info) as writer:
            for block in source.read():
                writer.write(block)
        back = MediaSource(buffer.getvalue(), name="out" + writer.extension)
        outcome, message = "processed", f"{source.n_samples} -> {back.n_samples} samples"
    except AudioFileError as exc:
        outcome, message = "refused", str(exc)
    except _Hang:
        outcome, message = "hung", f"still running after {HANG_S} s"
    except Exception as exc:  # anything but an AudioFileError breaks the promise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        outcome, message = "crashed", f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"name": path.name, "outcome": outcome, "message": message, "seconds": time.perf_counter() - started}


def child(folder: Path) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    for path in sorted(folder.iterdir()):
        print(json.dumps(run_one(path)), flush=True)
    print(json.dumps({"peak_rss_mib": _own_peak_rss_mib()}), flush=True)


def _own_peak_rss_mib() -> float:
    """This process's peak resident memory since it started this program.

    Not ``getrusage``'s ``ru_maxrss``: Linux keeps that across ``execve``, so a child
    started from a large test process would report its parent's peak.
    """
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


# ---------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("hostile-media")
    return {path.name: what for path, what in build_corpus(folder)} | {"": str(folder)}


@pytest.fixture(scope="module")
def results(corpus) -> tuple[list[dict[str, object]], float, subprocess.CompletedProcess]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    done = subprocess.run([sys.executable, __file__, corpus[""]], capture_output=True, text=True, env=env, timeout=240)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    peak = lines.pop()["peak_rss_mib"] if lines and "peak_rss_mib" in lines[-1] else float("nan")
    return lines, peak, done


def test_every_file_is_reported_and_the_child_did_not_crash(corpus, results):
    lines, _, done = results
    last = lines[-1]["name"] if lines else "none"
    assert done.returncode == 0, f"exit {done.returncode} after {last}; stderr:\n{done.stderr[-3000:]}"
    assert sorted(r["name"] for r in lines) == sorted(name for name in corpus if name)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


def test_each_file_is_processed_or_refused_in_plain_words(corpus, results):
    lines, _, _ = results
    broken = [r for r in lines if r["outcome"] not in ("processed", "refused")]
    assert not broken, "\n".join(f"{r['name']} ({corpus[r['name']]}): {r['outcome']}: {r['message']}" for r in broken)
    unplain = [r for r in lines if r["outcome"] == "refused" and (
        "\n" in r["message"] or not r["message"].endswith(".") or "Errno" in r["message"] or "av." in r["message"]
        or "Traceback" in r["message"])]
    assert not unplain, "\n".join(f"{r['name']}: {r['message']!r}" for r in unplain)


def test_no_file_takes_longer_than_the_limit(results):
    lines, _, _ = results
    slow = [f"{r['name']}: {r['seconds']:.2f} s" for r in lines if r["seconds"] > HANG_S]
    assert not slow, slow


def test_must_refuse_files_are_refused_and_valid_ones_processed(corpus, results):
    lines, _, _ = results
    outcome = {r["name"]: r for r in lines}
    must = [name for name, what in corpus.items() if what in MUST_REFUSE]
    assert len(must) == 10 + 6 + 2 + 2
    accepted = [f"{name}: {outcome[name]['message']}" for name in must if outcome[name]["outcome"] != "refused"]
    assert not accepted, "\n".join(accepted)
    lies = [f"{name}: {outcome[name]['message']}" for name, what in corpus.items() if what == "harmless lie"]
    assert lies == [f"caf-lying-{k}.caf: {N_SAMPLES} -> {N_SAMPLES} samples" for k in ("length", "rate", "channels")]
    valid = [name for name, what in corpus.items() if what == "valid"]
    refused = [f"{name}: {outcome[name]['message']}" for name in valid if outcome[name]["outcome"] != "processed"]
    assert len(valid) == 10 and not refused, "\n".join(refused)
    n_refused = sum(r["outcome"] == "refused" for r in lines)
    assert 40 <= n_refused <= len(lines) - 20, f"{n_refused} of {len(lines)} refused"


def test_streams_and_durations_are_refused_for_what_they_declare(results):
    messages = {r["name"]: r["message"] for r in results[0]}
    assert messages["many-streams.mkv"] == "many-streams.mkv holds more than 64 streams; at most 64 are accepted."
    assert messages["many-streams.mov"] == "many-streams.mov declares more than 64 streams or more data than can be read."
    # FFmpeg keeps none of an MP4 whose first sample outlasts its edit list; Matroska and ASF are believed.
    assert messages["m4a-huge-duration.m4a"] == "m4a-huge-duration.m4a holds no sound samples."
    assert messages["mkv-huge-duration.mkv"] == (
        "mkv-huge-duration.mkv says it lasts 277,777.8 hours; at most 12 hours can be cleaned.")
    assert messages["wma-huge-duration.wma"].startswith("wma-huge-duration.wma says it lasts 128,102,389.4 hours;")
    # FFmpeg sets a sample rate or channel count beyond its own limits to zero.
    assert messages["wma-absurd-rate.wma"] == "wma-absurd-rate.wma has a damaged sound stream (no sample rate or channel count)."
    assert messages["m4a-empty.m4a"] == "m4a-empty.m4a is empty (0 bytes)."


def test_peak_memory_stays_within_budget(results):
    _, peak, _ = results
    assert peak < PEAK_RSS_MIB, f"peak {peak:.0f} MiB"


if __name__ == "__main__":
    child(Path(sys.argv[1]))
