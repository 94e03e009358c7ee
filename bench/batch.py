"""Many-files benchmark: 40 recordings of 1 to 5 minutes through the command line, three ways.

The recordings are synthesised in a temporary folder (seeded): the public
48 kHz speech clips one after another with short pauses, over the public
48 kHz noise at 5 to 15 dB SNR, one in four in stereo, alternately 16-bit WAV
and FLAC, in two sub-folders. The command line (``python -m denoise_core IN
-r -o OUT -q``, the engine of this checkout) then cleans the folder with
``--jobs 1``, ``--jobs 2`` and ``--dask`` on a 2-worker local Dask cluster
(``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``, started
before the timing), once with the workers as Dask starts them and once with
``MALLOC_MMAP_THRESHOLD_`` set in their environment (see the README). For each: wall time, audio minutes cleaned per second of
wall time (in all, and per worker), the CPU time of the command and its
workers (audio minutes per CPU second is what one worker with a core to itself
cleans, which can be told even on a busy machine, unlike the wall time), the
1-minute load average during the run, the peak resident memory of the largest
worker (``VmHWM`` from ``/proc``: for local runs read from every process
under the command while it runs, for Dask asked of each worker at the end)
and of the command's own process, and whether every output is byte-identical
to the ``--jobs 1`` one.

    python bench/batch.py [DATA] [--files 40] [--min-minutes 1] [--max-minutes 5]
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf
from common import DEFAULT_DATA, REPO_ROOT, format_table

SR = 48000
SEED = 20261126
#: glibc's mmap threshold for the second Dask cluster's workers: 32 MiB, the most glibc's own adaptation would reach.
MMAP_VARIABLE, MMAP_THRESHOLD = "MALLOC_MMAP_THRESHOLD_", 32 * 1024 * 1024
#: Seconds between samples of the processes' peak memory.
POLL_S = 0.05


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


def synthesise(folder: Path, speech: Sequence[np.ndarray], noise: np.ndarray, n_files: int, minutes: tuple[float, float]) -> float:
    """Write ``n_files`` noisy recordings into ``folder``/{lectures,interviews}; returns the total minutes."""
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
        channels = 2 if i % 4 == 3 else 1
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
        ext = ".flac" if i % 2 else ".wav"
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


def digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(mode: str, n_workers: int, source: Path, target: Path, extra: Sequence[str], dask_client=None) -> Run:
    """Clean ``source`` into ``target`` with the command line in a child process, watching its memory and CPU time."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "denoise_core", str(source), "-r", "-o", str(target), "-q", *extra]
    peaks: dict = {}
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
        # The child's rusage includes the worker processes it waited for.
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(POLL_S)
    wall_s = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    cpu_s = usage.ru_utime + usage.ru_stime
    main_peak = peaks.pop(child.pid, float("nan"))
    if dask_client is not None:
        worker_peak = max(dask_client.run(peak_mb_of_self).values())
        cpu_s += sum(dask_client.run(cpu_s_of_self).values()) - dask_cpu_before
    else:
        worker_peak = max(peaks.values()) if peaks else main_peak
    load = (load_before + os.getloadavg()[0]) / 2
    return Run(mode, n_workers, wall_s, cpu_s, load, worker_peak, main_peak, child.returncode, digests(target))


def cpu_s_of_self() -> float:
    """Run on a Dask worker: its CPU time so far (user + system) in seconds."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def peak_mb_of_self() -> float:
    """Run on a Dask worker: its own peak resident memory in MB."""
    return peak_mb(os.getpid())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="public data folder (default: ../shared/data/public)")
    parser.add_argument("--files", type=int, default=40, help="number of recordings (default: 40)")
    parser.add_argument("--min-minutes", type=float, default=1.0, help="shortest recording in minutes (default: 1)")
    parser.add_argument("--max-minutes", type=float, default=5.0, help="longest recording in minutes (default: 5)")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    workdir = Path(tempfile.mkdtemp(prefix="quiet-batch-"))
    try:
        t0 = time.perf_counter()
        speech, noise = load_clips(args.data)
        minutes = synthesise(workdir / "in", speech, noise, args.files, (args.min_minutes, args.max_minutes))
        size_mb = sum(p.stat().st_size for p in (workdir / "in").rglob("*")) / 1e6
        print(f"engine: {REPO_ROOT / 'denoise_core'}; numpy {np.__version__}, {os.cpu_count()} CPUs, "
              f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"input: {args.files} files, {minutes:.1f} min of 48 kHz 16-bit audio (WAV and FLAC, 1 in 4 stereo), "
              f"{size_mb:.0f} MB, made in {time.perf_counter() - t0:.1f} s\n")
        runs = [
            run_cli("--jobs 1", 1, workdir / "in", workdir / "jobs1", ["--jobs", "1"]),
            run_cli("--jobs 2", 2, workdir / "in", workdir / "jobs2", ["--jobs", "2"]),
        ]
        startup_s = []
        for label, environ in (("default", {}), ("MALLOC_MMAP_THRESHOLD_", {MMAP_VARIABLE: str(MMAP_THRESHOLD)})):
            t0 = time.perf_counter()
            os.environ.update(environ)  # the workers are spawned with this process's environment
            try:
                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0") as cluster:
                    startup_s.append(time.perf_counter() - t0)
                    with Client(cluster) as client:
                        target = workdir / f"dask-{len(startup_s)}"
                        runs.append(run_cli(f"--dask, workers {label}", 2, workdir / "in", target, ["--dask", cluster.scheduler_address], client))
            finally:
                for name in environ:
                    del os.environ[name]
        reference = runs[0].digests
        rows = []
        for run in runs:
            rate = minutes / run.wall_s
            same = "yes" if run.digests == reference and len(reference) == args.files else "NO"
            rows.append([
                run.mode, str(run.n_workers), f"{run.wall_s:.1f}", f"{rate:.2f}", f"{rate / run.n_workers:.2f}",
                f"{run.cpu_s:.1f}", f"{minutes / run.cpu_s:.2f}", f"{run.load:.1f}",
                f"{run.worker_peak_mb:.0f}", f"{run.main_peak_mb:.0f}", str(run.exit_code), same,
            ])
        print(format_table(
            ["mode", "workers", "wall s", "audio min/s", "min/s per worker", "CPU s", "min per CPU s", "load",
             "peak MB/worker", "peak MB main", "exit", "same bytes as --jobs 1"],
            rows,
        ))
        print(f"\nDask LocalCluster start-up (not in the wall time): {max(startup_s):.1f} s at most. Workers 'default': as the "
              "Dask nanny starts them (it sets MALLOC_TRIM_THRESHOLD_=65536, which also stops glibc from raising its "
              f"mmap threshold, so every large array is a fresh mmap); workers '{MMAP_VARIABLE}': with "
              f"{MMAP_VARIABLE}={MMAP_THRESHOLD} in their environment. CPU s: user + system time of the "
              "command and its workers (on Dask, of the workers during the run), so 'min per CPU s' is what one worker "
              "with a core to itself cleans per second, whatever else the machine runs; load: the 1-minute load average "
              "during the run (above the core count, the wall times are stretched by other work). peak MB main: the "
              "command's own process (for --jobs 1 it is also the worker).")
        return 0 if all(r[-1] == "yes" and r[-2] == "0" for r in rows) else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
