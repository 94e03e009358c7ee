"""Many-files benchmark: where the time goes when the command line cleans a folder, for each engine.

The recordings are synthesised in a temporary folder (seeded): the public
48 kHz speech clips one after another with short pauses, over the public
48 kHz noise at 5 to 15 dB SNR; by default 8 one-minute mono 16-bit WAV
files (``--min-minutes``/``--max-minutes`` vary the length, ``--mixed`` makes
one in four stereo and every other FLAC, in two sub-folders). The command
line (``python -m denoise_core IN -r -o OUT -q --engine E``, the engine of
this checkout) then cleans the folder:

* ``--jobs 1`` pinned to one core (``taskset -c 0``): the baseline, one file
  at a time on one core;
* ``--jobs 1``, ``--jobs 2``, ... up to the cores (each worker with a budget
  of one thread, see ``denoise_core/threads.py``);
* ``--dask`` on a 2-worker local Dask cluster (``LocalCluster(n_workers=2,
  threads_per_worker=1, processes=True)``, started before the timing).

Each is run ``--repeats`` times (3) and the quickest run is kept, as on a
machine shared with other work a run can be slowed from outside. The local
modes run in rounds (pinned, ``--jobs 1``, ``--jobs 2``, ..., then again), so
the runs a speed-up compares lie close in time and a slow drift of the
machine's speed (measured here: 5 to 10 % over minutes) falls on both. For each:
wall time, files per second, the CPU time of the command and its
workers per minute of audio (what a core spends on a minute, which can be told
even on a busy machine, unlike the wall time), the speed-up over the pinned
``--jobs 1``, the 1-minute load average during the run, the peak resident
memory of the largest worker (``VmHWM`` from ``/proc``: for local runs read
from every process under the command while it runs, for Dask asked of each
worker at the end), and whether every output is byte-identical to the
``--jobs 1`` one. It then prints the bars: ``--jobs 2`` at least 1.8 times the
throughput of the pinned ``--jobs 1``, and the Dask cluster within 1.25 times
the wall time of ``--jobs 2``.

    python bench/batch.py [DATA] [--engine classic,voice] [--files 8] [--min-minutes 1] [--max-minutes 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf
from common import DEFAULT_DATA, REPO_ROOT, format_table

SR = 48000
SEED = 20261126
#: Seconds between samples of the processes' peak memory.
POLL_S = 0.05
#: The environment this script started with: starting a LocalCluster writes into ``os.environ`` (among others
#: ``MALLOC_TRIM_THRESHOLD_=65536``, which costs a local cleaning 1.6 to 2 times its CPU time), and the command
#: lines run after the first engine's Dask run must not inherit that.
START_ENVIRON = dict(os.environ)
#: The issue's bars: --jobs 2 against the pinned --jobs 1 (throughput), Dask against --jobs 2 (wall time).
JOBS2_SPEEDUP, DASK_SLOWDOWN = 1.8, 1.25


@dataclass(frozen=True)
class Mode:
    """One way of running the command line on the recordings: its name in the table and its arguments."""

    name: str
    n_workers: int
    target: Path
    extra: Sequence[str]
    pin: bool = False


@dataclass(frozen=True)
class Run:
    """One run of the command line and what it cost."""

    mode: str
    n_workers: int
    wall_s: float
    cpu_s: float
    load: float
    worker_peak_mb: float
    main_peak_mb: float
    exit_code: int
    digests: dict


def load_clips(data: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """The 48 kHz clean speech clips and the 48 kHz noise, as float32 mono."""
    names = [*sorted((data / "speech").glob("*.flac")), data / "other" / "dfn_clean_speech.wav"]
    names += sorted(p for p in (data / "pairs").glob("*_clean.*") if sf.info(str(p)).samplerate == SR)
    speech = [sf.read(str(p), dtype="float32", always_2d=True)[0].mean(axis=1) for p in names if sf.info(str(p)).samplerate == SR]
    noise = sf.read(str(data / "noise" / "dfn_noise.wav"), dtype="float32")[0]
    if not speech:
        raise SystemExit(f"no {SR} Hz speech in {data}")
    return speech, noise


def synthesise(
    folder: Path, speech: Sequence[np.ndarray], noise: np.ndarray, n_files: int, minutes: tuple[float, float], mixed: bool
) -> float:
    """Write ``n_files`` noisy recordings into ``folder``/{lectures,interviews}; returns the total minutes.

    Mono WAV, or with ``mixed`` one in four stereo and every other FLAC.
    """
    rng = np.random.default_rng(SEED)
    total = 0.0
    for i in range(n_files):
        n = int(rng.uniform(*minutes) * 60 * SR)
        pieces, length = [], 0
        while length < n:
            clip = speech[rng.integers(len(speech))]
            pause = np.zeros(int(rng.uniform(0.2, 1.0) * SR), np.float32)
            pieces += [clip, pause]
            length += len(clip) + len(pause)
        clean = np.concatenate(pieces)[:n]
        channels = 2 if mixed and i % 4 == 3 else 1
        start = rng.integers(len(noise))
        hum = np.resize(np.roll(noise, -start), n)
        snr_db = rng.uniform(5, 15)
        gain = np.sqrt(np.mean(clean**2) / np.mean(hum**2) / 10 ** (snr_db / 10))
        y = clean + gain * hum
        if channels == 2:
            y = np.stack([y, 0.7 * clean + gain * np.roll(hum, SR // 3)], axis=1)
        y /= max(1.0, float(np.max(np.abs(y))) / 0.95)
        sub = folder / ("lectures" if i % 2 else "interviews")
        sub.mkdir(parents=True, exist_ok=True)
        ext = ".flac" if mixed and i % 2 else ".wav"
        sf.write(str(sub / f"take{i:02d}{ext}"), y, SR, subtype="PCM_16")
        total += n / SR / 60
    return total


def peak_mb(pid: int) -> float:
    """``VmHWM`` (peak resident set) of a live process in MB, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def own_cpu_s(pid: int) -> float:
    """CPU time (user + system, s) a live process has spent itself, 0 when it is gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(
    mode: str, n_workers: int, source: Path, target: Path, extra: Sequence[str], dask_client=None, pin: bool = False
) -> Run:
    """Clean ``source`` into ``target`` with the command line in a child process, watching its memory and CPU time.

    With ``pin``, the command (and all it starts) runs on the first core only (``taskset -c 0``).
    """
    env = dict(START_ENVIRON, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), START_ENVIRON.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "denoise_core", str(source), "-r", "-o", str(target), "-q", *extra]
    if pin:
        command = ["taskset", "-c", "0", *command]
    peaks: dict = {}
    cpu_seen: dict = {}
    dask_cpu_before = sum(dask_client.run(cpu_s_of_self).values()) if dask_client is not None else 0.0
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    watched = psutil.Process(child.pid)
    while True:
        try:
            pids = [child.pid] + [p.pid for p in watched.children(recursive=True)]
        except psutil.NoSuchProcess:
            pids = []
        for pid in pids:
            peaks[pid] = max(peaks.get(pid, 0.0), peak_mb(pid))
            cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), own_cpu_s(pid))
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(POLL_S)
    wall_s = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    # The child's rusage holds the processes it waited for, but not workers it did not wait for (a fork
    # server's, when the pool needs one): those are counted from what the polling saw, to within one poll each.
    cpu_s = max(usage.ru_utime + usage.ru_stime, sum(cpu_seen.values()))
    main_peak = peaks.pop(child.pid, float("nan"))
    if dask_client is not None:
        worker_peak = max(dask_client.run(peak_mb_of_self).values())
        cpu_s += sum(dask_client.run(cpu_s_of_self).values()) - dask_cpu_before
    else:
        worker_peak = max(peaks.values()) if peaks else main_peak
    load = (load_before + os.getloadavg()[0]) / 2
    return Run(mode, n_workers, wall_s, cpu_s, load, worker_peak, main_peak, child.returncode, digests(target))


def best_of(repeats: int, source: Path, modes: Sequence[Mode], dask_client=None) -> list[Run]:
    """Each of ``modes`` on ``source`` run ``repeats`` times by
    :func:`run_cli`, in rounds (every mode once, then again), the output folder emptied before each: the
    quickest run of each mode, as timings are taken on a machine shared with other work, and rounds put
    the modes a ratio compares side by side in time, so that slow drift of the machine's speed falls on
    both. A run's digests are empty unless every run of its mode wrote the same bytes."""
    runs: list[list[Run]] = [[] for _ in modes]
    for _ in range(repeats):
        for mode_runs, mode in zip(runs, modes, strict=True):
            shutil.rmtree(mode.target, ignore_errors=True)
            mode_runs.append(run_cli(mode.name, mode.n_workers, source, mode.target, mode.extra, dask_client, mode.pin))
    best = []
    for mode_runs in runs:
        quickest = min(mode_runs, key=lambda run: run.wall_s)
        same = all(run.digests == quickest.digests for run in mode_runs)
        best.append(quickest if same else replace(quickest, digests={}))
    return best


def cpu_s_of_self() -> float:
    """Run on a Dask worker: its CPU time so far (user + system) in seconds."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def peak_mb_of_self() -> float:
    """Run on a Dask worker: its own peak resident memory in MB."""
    return peak_mb(os.getpid())


def bench_engine(engine: str, workdir: Path, n_files: int, minutes: float, max_jobs: int, repeats: int) -> tuple[list[Run], bool]:
    """Every run for one engine, each the best of ``repeats``; prints its table and bars, and returns the runs and whether the bars pass."""
    from distributed import Client, LocalCluster

    flags = ["--engine", engine]
    source = workdir / "in"
    local = [Mode("--jobs 1, one core", 1, workdir / f"{engine}-pinned", [*flags, "--jobs", "1"], pin=True)]
    local += [Mode(f"--jobs {n}", n, workdir / f"{engine}-jobs{n}", [*flags, "--jobs", str(n)])
              for n in range(1, max_jobs + 1)]
    runs = best_of(repeats, source, local)
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0") as cluster:
        startup_s = time.perf_counter() - t0
        with Client(cluster) as client:
            dask_mode = Mode("--dask, 2 workers", 2, workdir / f"{engine}-dask", [*flags, "--dask", cluster.scheduler_address])
            runs += best_of(repeats, source, [dask_mode], client)
    reference, baseline = runs[1].digests, runs[0]
    rows = []
    for run in runs:
        same = "yes" if run.digests == reference and len(reference) == n_files else "NO"
        rows.append([
            run.mode, str(run.n_workers), f"{run.wall_s:.2f}", f"{n_files / run.wall_s:.2f}",
            f"{run.cpu_s / minutes:.2f}", f"{baseline.wall_s / run.wall_s:.2f}", f"{run.load:.1f}",
            f"{run.worker_peak_mb:.0f}", str(run.exit_code), same,
        ])
    print(f"engine: {engine}\n")
    print(format_table(
        ["mode", "workers", "wall s", "files/s", "CPU s per audio min", "speed-up", "load", "peak MB/worker",
         "exit", "same bytes as --jobs 1"],
        rows,
    ))
    by_mode = {run.mode: run for run in runs}
    jobs2, dask = by_mode.get("--jobs 2"), by_mode["--dask, 2 workers"]
    checks = []
    if jobs2 is not None:
        speedup = baseline.wall_s / jobs2.wall_s
        checks.append((speedup >= JOBS2_SPEEDUP, f"--jobs 2 gives {speedup:.2f}x the throughput of --jobs 1 on one core (bar {JOBS2_SPEEDUP}x)"))
        slowdown = dask.wall_s / jobs2.wall_s
        checks.append((slowdown <= DASK_SLOWDOWN, f"Dask, 2 workers: {slowdown:.2f}x the wall time of --jobs 2 (bar {DASK_SLOWDOWN}x)"))
    checks.append((all(r[-1] == "yes" and r[-2] == "0" for r in rows), "outputs byte-identical across --jobs and Dask"))
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print(f"(Dask LocalCluster start-up, not in the wall time: {startup_s:.1f} s)\n")
    return runs, all(ok for ok, _ in checks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="public data folder (default: ../shared/data/public)")
    parser.add_argument("--engine", default="classic,voice", help="engines to measure, comma-separated (default: classic,voice)")
    parser.add_argument("--files", type=int, default=8, help="number of recordings (default: 8)")
    parser.add_argument("--min-minutes", type=float, default=1.0, help="shortest recording in minutes (default: 1)")
    parser.add_argument("--max-minutes", type=float, default=1.0, help="longest recording in minutes (default: 1)")
    parser.add_argument("--mixed", action="store_true", help="one file in four stereo, every other one FLAC")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each mode, the quickest kept (default: 3)")
    parser.add_argument("--max-jobs", type=int, default=os.cpu_count() or 1, help="most --jobs measured (default: the cores)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="quiet-batch-"))
    try:
        t0 = time.perf_counter()
        speech, noise = load_clips(args.data)
        minutes = synthesise(workdir / "in", speech, noise, args.files, (args.min_minutes, args.max_minutes), args.mixed)
        size_mb = sum(p.stat().st_size for p in (workdir / "in").rglob("*")) / 1e6
        print(f"engine code: {REPO_ROOT / 'denoise_core'}; numpy {np.__version__}, {os.cpu_count()} CPUs, "
              f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"input: {args.files} files, {minutes:.1f} min of 48 kHz 16-bit audio, {size_mb:.0f} MB, "
              f"made in {time.perf_counter() - t0:.1f} s\n")
        passed = [bench_engine(engine, workdir, args.files, minutes, args.max_jobs, args.repeats)[1] for engine in args.engine.split(",")]
        print(f"Each row is the quickest of {args.repeats} runs. CPU s per audio min: user + system time of the command and its workers (on Dask, of the workers during "
              "the run) per minute of audio; speed-up: wall time of the pinned --jobs 1 over the run's; load: the "
              "1-minute load average during the run (above the core count, wall times are stretched by other work).")
        return 0 if all(passed) else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
