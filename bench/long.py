"""Long-file benchmark: the command line on one hour of 48 kHz 16-bit WAV, mono or stereo.

The hour is made by tiling the 48 kHz noisy clips of ``pairs/`` and is
written block by block into a temporary folder, so this script itself stays
small; in stereo (``--channels 2``) the right channel tiles the same clips
from the middle of the list, so the channels differ. The command line
(``python -m denoise_core``, the engine of this checkout) then cleans it, each
run in its own process measured for wall time and peak resident memory: by
``/usr/bin/time -v`` when it is installed, otherwise by ``os.wait4``, which
gives the rusage of that one child (``getrusage(RUSAGE_CHILDREN)`` would give
the largest of all children so far, so the second run could not be told from
the first).

* ``--engine classic`` (default): twice, with ``--noise-window 0 0.15`` and in
  automatic mode. The bar: peak memory under 500 MB and wall time under 60 s
  per run.
* ``--engine voice``: twice, ``--engine voice`` with ``--noise-window 0
  0.15`` and in automatic mode (the network needs no noise window, but the
  engine still measures one, for the hum check and the report, and the
  automatic search keeps one energy per frame of the whole recording), at the
  CLI's default attenuation limit (the limit only mixes the network's output
  with the input, so it changes neither memory nor time). The bar: peak
  memory under 300 MB; its wall time is reported, with no bar.

Every run's output must have exactly as many frames as its input. Several
``--minutes`` measure each length in turn (shortest first), to show whether
the peak grows with the length.

    python bench/long.py [DATA] [--minutes 60]
    python bench/long.py --engine voice --channels 2 --minutes 10 20 60
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared/data/public"
SR = 48000
WINDOW = ("0", "0.15")
#: Frames written per call while tiling.
WRITE_BLOCK = 1 << 20
#: Per engine: (peak RSS bar in MB, wall-time bar in s or None for none).
BARS = {"classic": (500.0, 60.0), "voice": (300.0, None)}
TIME_BIN = "/usr/bin/time"


@dataclass(frozen=True)
class Run:
    """One command-line run and what it cost."""

    mode: str
    minutes: float
    wall_s: float
    peak_rss_mb: float
    exit_code: int
    frames_out: int | None
    stderr: str
    meter: str


def pairs_folder(data: str | None) -> Path:
    """``DATA/pairs`` when it exists, else ``DATA`` (default: ../shared/data/public beside the repository)."""
    folder = Path(data) if data else DEFAULT_DATA
    return folder / "pairs" if (folder / "pairs").is_dir() else folder


def clips_at(folder: Path, sr: int) -> list[Path]:
    """The ``*_noisy.*`` files of ``folder`` recorded at ``sr``, sorted by name."""
    clips = [p for p in sorted(folder.glob("*_noisy.*")) if p.suffix.lower() in (".wav", ".flac") and sf.info(str(p)).samplerate == sr]
    if not clips:
        raise SystemExit(f"no {sr} Hz *_noisy.* clips in {folder}")
    return clips


class _Tiling:
    """An endless tiling of clips, from clip ``first`` on, taken a block at a time."""

    def __init__(self, clips: Sequence[np.ndarray], first: int) -> None:
        self.clips = list(clips[first:]) + list(clips[:first])
        self.index = 0
        self.offset = 0

    def take(self, n: int) -> np.ndarray:
        parts = []
        while n > 0:
            clip = self.clips[self.index]
            part = clip[self.offset : self.offset + n]
            parts.append(part)
            n -= len(part)
            self.offset += len(part)
            if self.offset == len(clip):
                self.index, self.offset = (self.index + 1) % len(self.clips), 0
        return np.concatenate(parts)


def write_tiled(clips: Sequence[Path], target: Path, n_frames: int, channels: int = 1) -> None:
    """Write ``n_frames`` of the clips (mono mixes), one after another and over again, as 16-bit WAV.

    With ``channels`` > 1, channel ``c`` starts its tiling at clip ``c * len(clips) // channels``.
    Only the clips (a few MB) and one block are ever in memory.
    """
    sources = [sf.read(str(p), dtype="int16", always_2d=True)[0] for p in clips]
    sources = [s[:, 0] if s.shape[1] == 1 else (s.astype(np.int32).mean(axis=1)).astype(np.int16) for s in sources]
    tilings = [_Tiling(sources, c * len(sources) // channels) for c in range(channels)]
    written = 0
    with sf.SoundFile(str(target), "w", samplerate=SR, channels=channels, format="WAV", subtype="PCM_16") as out:
        while written < n_frames:
            n = min(WRITE_BLOCK, n_frames - written)
            out.write(np.stack([t.take(n) for t in tilings], axis=1))
            written += n


def run_cli(mode: str, minutes: float, source: Path, target: Path, extra: Sequence[str]) -> Run:
    """Clean ``source`` into ``target`` with the command line in a child process, measuring it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "denoise_core", str(source), "-o", str(target), "-q", *extra]
    use_time = os.access(TIME_BIN, os.X_OK)
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        if use_time:
            child = subprocess.Popen([TIME_BIN, "-v", *command], env=env, stdout=subprocess.DEVNULL, stderr=err)
            exit_code = child.wait()
        else:
            child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = exit_code = os.waitstatus_to_exitcode(status)
        wall_s = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
    if use_time:
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
        peak_mb = int(found.group(1)) / 1024 if found else float("nan")
        stderr = re.split(r"(?:Command exited with non-zero status \d+\n)?\tCommand being timed", stderr)[0]
        meter = f"{TIME_BIN} -v"
    else:
        peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
        meter = "os.wait4 rusage"
    frames = sf.info(str(target)).frames if exit_code == 0 and target.exists() else None
    return Run(mode, minutes, wall_s, peak_mb, exit_code, frames, stderr.strip(), meter)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def modes(engine: str) -> list[tuple[str, list[str]]]:
    """The runs for ``engine``: (label, extra command-line arguments)."""
    if engine == "voice":
        return [("voice, window 0-0.15 s", ["--engine", "voice", "--noise-window", *WINDOW]),
                ("voice, automatic", ["--engine", "voice"])]
    return [("window 0-0.15 s", ["--engine", "classic", "--noise-window", *WINDOW]), ("automatic", ["--engine", "classic"])]


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", help="data folder holding pairs/, or a folder of pairs (default: ../shared/data/public)")
    parser.add_argument("--minutes", type=float, nargs="+", default=[60.0],
                        help="length of the recording in minutes; several lengths are run in turn (default: 60)")
    parser.add_argument("--engine", choices=tuple(BARS), default="classic", help="the engine to run (default: classic)")
    parser.add_argument("--channels", type=int, choices=(1, 2), default=1, help="1 (mono, default) or 2 (stereo)")
    args = parser.parse_args(argv)
    lengths = sorted(args.minutes)
    if any(round(m * 60 * SR) < SR for m in lengths):
        parser.error("--minutes must give at least one second")
    max_rss_mb, max_wall_s = BARS[args.engine]
    clips = clips_at(pairs_folder(args.data), SR)
    print(f"engine: {REPO_ROOT / 'denoise_core'} (--engine {args.engine}); numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, load average {load_average()}")

    workdir = Path(tempfile.mkdtemp(prefix="quiet-long-"))
    runs, frames_in = [], {}
    try:
        for minutes in lengths:
            n_frames = round(minutes * 60 * SR)
            source = workdir / "long.wav"
            t0 = time.perf_counter()
            write_tiled(clips, source, n_frames, args.channels)
            info = sf.info(str(source))
            frames_in[minutes] = info.frames
            print(f"input: {info.frames} frames ({info.frames / SR / 60:g} min) at {info.samplerate} Hz, "
                  f"{info.channels} ch, {info.subtype}, {source.stat().st_size / 1e6:.0f} MB, tiled from "
                  f"{len(clips)} clips in {time.perf_counter() - t0:.1f} s")
            for mode, extra in modes(args.engine):
                target = workdir / "long_denoised.wav"
                runs.append(run_cli(mode, minutes, source, target, extra))
                if target.exists():
                    target.unlink()
                print(f"  {mode}: {runs[-1].wall_s:.1f} s, peak RSS {runs[-1].peak_rss_mb:.0f} MB; "
                      f"load average {load_average()}", flush=True)
            source.unlink()
        wall_bar = "no bar on wall time" if max_wall_s is None else f"wall < {max_wall_s:g} s per run"
        print(f"\nmeasured by: {runs[0].meter}; bar: peak RSS < {max_rss_mb:g} MB and {wall_bar}, "
              f"output frames = input frames\n")
        rows, failed = [], False
        for run in runs:
            checks = {
                "memory": run.peak_rss_mb < max_rss_mb,
                "time": max_wall_s is None or run.wall_s < max_wall_s,
                "frames": run.exit_code == 0 and run.frames_out == frames_in[run.minutes],
            }
            verdict = "PASS" if all(checks.values()) else "FAIL (" + ", ".join(k for k, ok in checks.items() if not ok) + ")"
            failed |= not all(checks.values())
            rows.append([
                f"{run.minutes:g}", f"{args.channels}", run.mode, f"{run.wall_s:.1f}", f"{run.peak_rss_mb:.0f}",
                f"{run.wall_s / (run.minutes * 60):.4f}", str(run.exit_code),
                "-" if run.frames_out is None else str(run.frames_out), verdict,
            ])
        print(format_table(["min", "ch", "mode", "wall s", "peak RSS MB", "RTF", "exit", "frames out", "verdict"], rows))
        for run in runs:
            if run.exit_code != 0 or run.stderr:
                print(f"\n{run.minutes:g} min, {run.mode}: exit {run.exit_code}, stderr:\n{run.stderr[-3000:]}")
        print(f"\nload average at the end: {load_average()}")
        return 1 if failed else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
