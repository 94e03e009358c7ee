"""Speed benchmark: Quiet's denoiser against noisereduce (stationary) on 60 s.

The recording is 60 s of 48 kHz mono made by tiling the 48 kHz noisy clips of
``pairs/``. Each method runs once to warm up, then ``--repeats`` times, the
methods taking turns so background load hits all alike. The table shows the
median and minimum wall time, the real-time factor (median seconds / 60 s) and
how many times faster than noisereduce each is, by medians and by minimums
(the bar for ours is 2x, judged on medians; the minimums show the speed with
the least interference from other processes).
Thread settings come from the environment and are not changed.

    python bench/speed.py [DATA] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import noisereduce
import numpy as np
from common import add_ours_param_option, denoise_core, find_pairs, format_table, load_mono, pairs_dir

SR = 48000
SECONDS = 60
WINDOW = (0.0, 0.15)
SPEED_BAR = 2.0


def build_recording(data) -> np.ndarray:
    """The 48 kHz noisy clips of ``pairs/``, concatenated and tiled to exactly 60 s."""
    clips = [y for y, sr in (load_mono(p.noisy) for p in find_pairs(pairs_dir(data))) if sr == SR]
    if not clips:
        raise FileNotFoundError("no 48 kHz noisy clips to build the recording from")
    return np.resize(np.concatenate(clips), SECONDS * SR).astype(np.float32)


def environment() -> list[str]:
    """numpy version, CPU count, OpenBLAS variables and BLAS thread pools."""
    load = os.getloadavg()
    busy = " (other processes busy: timings vary)" if load[0] > 1 else ""
    lines = [f"numpy {np.__version__}, {os.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in load)}{busy}"]
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if var in os.environ:
            lines.append(f"  {var}={os.environ[var]}")
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [*lines, "  threadpoolctl not installed: BLAS details unknown"]
    for pool in threadpool_info():
        lines.append(f"  {pool.get('internal_api')} {pool.get('version')} ({pool.get('architecture', '-')}), "
                     f"{pool.get('num_threads')} threads: {pool.get('filepath')}")
    return lines


def time_methods(methods: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Wall-clock seconds of ``repeats`` calls of each method after one untimed warm-up.

    The timed calls go round-robin over the methods, so a burst of load from
    other processes slows every method alike rather than one of them.
    """
    for fn in methods.values():
        fn()
    times = {label: [] for label in methods}
    for _ in range(repeats):
        for label, fn in methods.items():
            t0 = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?",
                        help="data folder holding pairs/, or a folder of pairs (default: ../shared/data/public)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per method after one warm-up (default: 5)")
    add_ours_param_option(parser)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    ours_kwargs = dict(args.ours_param)

    y = build_recording(args.data)
    noise = y[int(WINDOW[0] * SR) : int(WINDOW[1] * SR)]
    methods: dict[str, Callable[[], object]] = {
        "noisereduce stationary": lambda: noisereduce.reduce_noise(y=y, sr=SR, stationary=True, y_noise=noise),
        "ours (window)": lambda: denoise_core.denoise(y, SR, noise_window=WINDOW, **ours_kwargs),
        "ours (auto)": lambda: denoise_core.denoise(y, SR, **ours_kwargs),
    }

    print("\n".join(environment()))
    print(f"engine: {Path(denoise_core.__file__).parent}")
    print(f"recording: {len(y) / SR:g} s at {SR} Hz mono; {args.repeats} timed runs after 1 warm-up; "
          f"ours params: {ours_kwargs or 'defaults'}\n")
    times = time_methods(methods, args.repeats)
    medians = {label: statistics.median(t) for label, t in times.items()}
    nr, nr_min = medians["noisereduce stationary"], min(times["noisereduce stationary"])
    rows = [
        [label, f"{medians[label]:.3f}", f"{min(t):.3f}", f"{medians[label] / SECONDS:.4f}",
         f"{nr / medians[label]:.2f}x", f"{nr_min / min(t):.2f}x"]
        for label, t in times.items()
    ]
    headers = ["method", "median s", "min s", "RTF (median)", "noisereduce/this (median)", "(min)"]
    print(format_table(headers, rows))
    print()
    for label in ("ours (window)", "ours (auto)"):
        ratio = nr / medians[label]
        print(f"{'PASS' if ratio >= SPEED_BAR else 'FAIL'}  {label} at least {SPEED_BAR:g}x faster than "
              f"noisereduce stationary (medians): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
