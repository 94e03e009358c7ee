"""Media speed and memory: decoding and encoding an hour of 44.1 kHz stereo M4A (AAC) in blocks.

Makes ``bench/out/media_<minutes>min.m4a`` once (a tone and noise at
128 kb/s, as a phone records; kept for later runs), then measures, one after
the other in this process:

* the counting pass of :class:`~denoise_core.media.MediaSource` (decode only),
* a read of every block (decode and conversion to float32),
* writing as many blocks through :class:`~denoise_core.media.MediaWriter`
  (AAC encode and mux to a file, blocks made in memory),
* the two together, block by block, as the CLI would run them around the
  engine, with tracemalloc on: its peak, and the process's peak resident
  memory (``ru_maxrss``, FFmpeg's own buffers included),
* the engine itself (``denoise_core.denoise``) on the first 60 s of the same
  sound, scaled to the file's length, to give the share decode and encode
  add to a run.

    python bench/media_speed.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
import denoise_core  # noqa: E402
from denoise_core.media import MediaSource, MediaWriter  # noqa: E402

SR = 44100
N_CHANNELS = 2
BIT_RATE_BPS = 128000
BLOCK = 1 << 16
OUT = REPO_ROOT / "bench" / "out"
#: The goals of the integrated system for an hour of M4A through the CLI.
GOAL_PEAK_MB = 300
GOAL_SHARE = 0.30


def sound(first: int, n: int) -> np.ndarray:
    """Samples ``first`` to ``first + n`` of the benchmark's sound: tones and seeded noise, ``(n, 2)`` float32."""
    t = (first + np.arange(n))[:, None] / SR
    noise = np.random.default_rng(first).standard_normal((n, N_CHANNELS))
    return (0.2 * np.sin(2 * np.pi * np.array([[220.0, 330.0]]) * t) + 0.02 * noise).astype(np.float32)


def make_m4a(path: Path, n_samples: int) -> None:
    """Write ``n_samples`` of :func:`sound` as 128 kb/s AAC in M4A, a block at a time."""
    with av.open(str(path), "w", format="ipod", options={"movie_timescale": str(SR)}) as container:
        stream = container.add_stream("aac", rate=SR, layout="stereo", options={"aac_coder": "fast"})
        stream.bit_rate = BIT_RATE_BPS
        stream.codec_context.open()
        frame_size = stream.codec_context.frame_size
        for first in range(0, n_samples, frame_size * 64):
            block = sound(first, min(frame_size * 64, n_samples - first))
            for k in range(0, block.shape[0], frame_size):
                part = np.ascontiguousarray(block[k : k + frame_size].T)
                frame = av.AudioFrame.from_ndarray(part, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts, frame.time_base = SR, first + k, Fraction(1, SR)
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def timed(work) -> tuple:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the M4A in minutes (default 60)")
    args = parser.parse_args()
    n_samples = int(args.minutes * 60 * SR)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"media_{args.minutes:g}min.m4a"
    if not path.exists():
        seconds, _ = timed(lambda: make_m4a(path, n_samples))
        print(f"made {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {seconds:.1f} s")

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    count_s, source = timed(lambda: MediaSource(path))
    assert source.n_samples == n_samples, (source.n_samples, n_samples)

    def read_all() -> int:
        return sum(block.shape[0] for block in source.read())

    decode_s, n_read = timed(read_all)
    assert n_read == n_samples

    def encode_all() -> None:
        with MediaWriter(OUT / "media_speed_encoded.m4a", path, info=source.info) as writer:
            for first in range(0, n_samples, BLOCK):
                writer.write(sound(first % (SR * 60), min(BLOCK, n_samples - first)))
        writer.path.unlink()

    encode_s, _ = timed(encode_all)

    def both() -> int:
        with MediaWriter(OUT / "media_speed_result.m4a", path, info=source.info) as writer:
            for block in source.read():
                writer.write(block)
        return writer.path.stat().st_size

    tracemalloc.start()
    both_s, size = timed(both)
    traced_peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (OUT / "media_speed_result.m4a").unlink()

    minute = np.concatenate(list(MediaSource(path).read(0, 60 * SR)))
    engine_minute_s, _ = timed(lambda: denoise_core.denoise(minute, SR))
    engine_s = engine_minute_s * n_samples / (60 * SR)
    media_s = count_s + decode_s + encode_s
    hours = n_samples / SR / 3600

    rows = [
        ("counting pass (decode only)", f"{count_s:7.1f} s", f"{count_s / hours / 60:6.3f} s/min"),
        ("read: decode + float32 blocks", f"{decode_s:7.1f} s", f"{decode_s / hours / 60:6.3f} s/min"),
        ("write: AAC encode + mux", f"{encode_s:7.1f} s", f"{encode_s / hours / 60:6.3f} s/min"),
        ("read + write, block by block", f"{both_s:7.1f} s", "(tracemalloc on)"),
        ("engine (denoise), scaled", f"{engine_s:7.1f} s", f"{engine_minute_s:6.3f} s/min"),
    ]
    print(f"\n{args.minutes:g} min of {SR} Hz stereo M4A (AAC {BIT_RATE_BPS // 1000} kb/s in, "
          f"{source.info.bit_rate_bps // 1000} kb/s measured; result {size / 1e6:.1f} MB)\n")
    print(f"| {'step':30} | {'time':>9} | {'per minute of sound':>19} |")
    print(f"| {'-' * 30} | {'-' * 9} | {'-' * 19} |")
    for step, seconds, per in rows:
        print(f"| {step:30} | {seconds:>9} | {per:>19} |")
    share = media_s / engine_s
    print(f"\ncount + read + write: {media_s:.1f} s = {share:.0%} of the engine's {engine_s:.1f} s "
          f"(goal < {GOAL_SHARE:.0%}: {'met' if share < GOAL_SHARE else 'NOT met'})")
    print(f"peak memory: tracemalloc {traced_peak_mb:.1f} MB over read + write; process {rss_peak:.0f} MB "
          f"({rss_before:.0f} MB before; goal for the CLI < {GOAL_PEAK_MB} MB: "
          f"{'met' if rss_peak < GOAL_PEAK_MB else 'NOT met'})")


if __name__ == "__main__":
    main()
