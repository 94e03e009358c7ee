"""Media speed and memory: the command line on an hour of 44.1 kHz stereo M4A (AAC), against the engine alone.

Makes ``bench/out/media_<minutes>min.m4a`` once (a tone and noise at
128 kb/s, as a phone records) and ``media_<minutes>min.wav``, the same sound
decoded to 16-bit WAV (both kept for later runs), then cleans them with the
command line (``python -m denoise_core FILE -o OUT -j 1 -q --engine classic``), each run in a
child process of its own:

* ``engine alone``: the WAV, whose reading and writing cost next to nothing,
  so its time is the engine's;
* ``M4A``: the M4A as the command line runs it (the encoder in a child
  process of its own for recordings of ``CHILD_MIN_S`` or more);
* ``M4A, encoder inline``: the same with the encoder on the engine's own
  writing thread, as for short recordings.

Each row gives the wall time, the CPU time (the process and its children),
the peak resident memory of the whole process tree (sampled every 50 ms from
/proc, the encoder child included), and what decoding and encoding add to
the engine's wall time. Then the steps alone, in this process: the counting
pass, a decode, and an encode of as many blocks.

On a machine shared with other work the wall times include the time spent
waiting for a core: compare the CPU column too, or run the script at a higher
priority (``nice -n -10``) to measure as on a machine of one's own.

    python bench/media_speed.py [--minutes 60] [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from denoise_core.encoder_process import CHILD_MIN_S  # noqa: E402
from denoise_core.media import MediaSource, MediaWriter  # noqa: E402

SR = 44100
N_CHANNELS = 2
BIT_RATE_BPS = 128000
BLOCK = 1 << 16
OUT = REPO_ROOT / "bench" / "out"
#: The goals for an hour of M4A through the command line.
GOAL_PEAK_MB = 300
GOAL_SHARE = 0.30
#: The command line with the encoder kept in the engine's process (what recordings under CHILD_MIN_S get).
_INLINE = (
    "import sys; import denoise_core.files as files; files.CHILD_MIN_S = float('inf'); "
    "from denoise_core.cli import main; sys.exit(main(sys.argv[1:]))"
)


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


def make_wav(m4a: Path, wav: Path) -> None:
    """The M4A's sound, decoded, as 16-bit WAV: the same samples for the engine alone."""
    with sf.SoundFile(str(wav), "w", samplerate=SR, channels=N_CHANNELS, subtype="PCM_16") as out:
        for block in MediaSource(m4a).read():
            out.write(block)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children now, in MB (0 once it has ended)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def run_cli(source: Path, out_dir: Path, inline: bool = False) -> tuple[float, float, float]:
    """Clean ``source`` with the command line in a child process: (wall s, CPU s, peak tree RSS MB)."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    args = [str(source), "-o", f"{out_dir}/", "-j", "1", "-q", "--engine", "classic"]
    command = [sys.executable, "-c", _INLINE, *args] if inline else [sys.executable, "-m", "denoise_core", *args]
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env)
    peak, done = [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(child.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the command line failed on {source}")
    return wall, usage.ru_utime + usage.ru_stime, peak[0]


def timed(work) -> tuple[float, float]:
    """(wall s, CPU s of this process) of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def steps(path: Path, out_dir: Path) -> list[tuple[str, float, float]]:
    """The counting pass, a decode and an encode of as many blocks, in this process: (step, wall s, CPU s)."""
    source = MediaSource(path, count=False)
    rows = [("counting pass (decode only)", *timed(source.count))]
    rows.append(("decode to float32 blocks", *timed(lambda: sum(b.shape[0] for b in source.read()))))
    blocks = [b.copy() for _, b in zip(range(16), source.read(), strict=False)]

    def encode() -> None:
        with MediaWriter(out_dir / "encoded.m4a", path, info=source.info) as writer:
            for k, first in enumerate(range(0, source.n_samples, BLOCK)):
                writer.write(blocks[k % len(blocks)][: source.n_samples - first])
        writer.path.unlink()

    rows.append(("AAC encode + mux", *timed(encode)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the recording in minutes (default 60)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each mode, interleaved; the quickest is shown")
    args = parser.parse_args()
    n_samples = int(args.minutes * 60 * SR)
    OUT.mkdir(parents=True, exist_ok=True)
    m4a, wav = OUT / f"media_{args.minutes:g}min.m4a", OUT / f"media_{args.minutes:g}min.wav"
    if not m4a.exists():
        make_m4a(m4a, n_samples)
        print(f"made {m4a.name} ({m4a.stat().st_size / 1e6:.1f} MB)")
    if not wav.exists():
        make_wav(m4a, wav)
        print(f"made {wav.name} ({wav.stat().st_size / 1e6:.1f} MB)")
    out_dir = OUT / "media_speed_results"
    out_dir.mkdir(exist_ok=True)
    modes = [("engine alone (WAV)", wav, False), ("M4A (encoder in a child process)", m4a, False),
             ("M4A, encoder inline", m4a, True)]
    best: dict[str, tuple[float, float, float]] = {}
    for _ in range(args.runs):
        for name, path, inline in modes:
            run = run_cli(path, out_dir, inline)
            best[name] = min(best.get(name, run), run)
    print(f"\n{args.minutes:g} min of {SR} Hz stereo: M4A (AAC {BIT_RATE_BPS // 1000} kb/s, "
          f"{m4a.stat().st_size / 1e6:.0f} MB) and the same sound as WAV; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; child encoder from {CHILD_MIN_S:g} s; best of {args.runs}\n")
    engine_wall = best[modes[0][0]][0]
    print(f"| {'run':34} | {'wall s':>7} | {'CPU s':>7} | {'peak RSS MB':>11} | {'added to the engine':>19} |")
    print(f"| {'-' * 34} | {'-' * 7} | {'-' * 7} | {'-' * 11} | {'-' * 19} |")
    for name, _, _ in modes:
        wall, cpu, peak = best[name]
        added = "" if name == modes[0][0] else f"{(wall - engine_wall) / engine_wall:+.0%}"
        print(f"| {name:34} | {wall:7.1f} | {cpu:7.1f} | {peak:11.0f} | {added:>19} |")
    wall, _, peak = best[modes[1][0]]
    share = (wall - engine_wall) / engine_wall
    print(f"\ndecode + encode add {share:.0%} to the engine's wall time (goal < {GOAL_SHARE:.0%}: "
          f"{'met' if share < GOAL_SHARE else 'NOT met'}); peak {peak:.0f} MB (goal < {GOAL_PEAK_MB} MB: "
          f"{'met' if peak < GOAL_PEAK_MB else 'NOT met'})\n")
    print(f"| {'step, in this process':34} | {'wall s':>7} | {'CPU s':>7} | {'CPU s per minute':>16} |")
    print(f"| {'-' * 34} | {'-' * 7} | {'-' * 7} | {'-' * 16} |")
    for name, wall, cpu in steps(m4a, out_dir):
        print(f"| {name:34} | {wall:7.1f} | {cpu:7.1f} | {cpu / args.minutes:16.3f} |")
    for result in out_dir.iterdir():
        result.unlink()


if __name__ == "__main__":
    main()
