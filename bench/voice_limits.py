"""The voice engine's attenuation limit: quality at several limits, to choose its default.

Runs ``bench/quality.py``'s scoring (same methods, same cache in
``bench/out/cache/``) of ``denoise_core.denoise(y, sr, engine="voice",
reduction_db=L)`` for each limit ``L`` of ``--limits`` on the pairs of a
folder (default: ``bench/out/tune``: choose on the tune set, never on
``heldout``), and prints one table per family group (steady, moving, burst)
and one for all files: mean PESQ-WB, STOI, SI-SDR, DNSMOS SIG, BAK and OVRL
per limit, beside the noisy input, and how many files lose more than 0.03
STOI to the noisy input. A limit of 100 dB is none (the network's output as
it is); lower limits mix the input back in (``10**(-L/20)`` of it).

    python bench/voice_limits.py                                  # the tune set
    python bench/voice_limits.py --limits 100,40,24               # some limits
    python bench/voice_limits.py bench/out/heldout --limits 24    # a check at the chosen limit, once
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from common import REPO_ROOT, find_pairs, format_table, pairs_dir
from make_pairs import GROUPS, group_of
from quality import DEFAULT_CACHE, METRICS, VOICE_STOI_FILE_LOSS, Config, evaluate, means, select

DEFAULT_LIMITS = (100, 60, 40, 30, 24, 18, 12)
NAMES = {"pesq": "PESQ-WB", "stoi": "STOI", "si_sdr": "SI-SDR dB", "sig": "SIG", "bak": "BAK", "ovrl": "OVRL"}


def _limits(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(not 0 <= v <= 100 for v in values):
        raise argparse.ArgumentTypeError(f"limits must lie in 0-100 dB, got {text!r}")
    return values


def table(rows_by_limit: dict[str, dict[str, list[dict]]], noisy: list[dict]) -> str:
    """One row per limit (and the noisy input): mean metrics and files losing STOI."""
    digits = {"stoi": 4, "si_sdr": 2}
    rows = []
    for label, rows_ in [("noisy", noisy), *rows_by_limit.items()]:
        avg = means({"x": rows_})["x"]
        lost = sum(r["stoi"] < n["stoi"] - VOICE_STOI_FILE_LOSS for r, n in zip(rows_, noisy, strict=True))
        rows.append([label, *(f"{avg[m]:.{digits.get(m, 3)}f}" for m in METRICS),
                     "-" if label == "noisy" else str(lost)])
    return format_table(["limit dB", *(NAMES[m] for m in METRICS), f"files STOI < noisy-{VOICE_STOI_FILE_LOSS:g}"], rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(REPO_ROOT / "bench/out/tune"),
                        help="folder of pairs (default: bench/out/tune, from make_pairs.py)")
    parser.add_argument("--limits", type=_limits, default=list(DEFAULT_LIMITS),
                        help=f"comma-separated limits in dB (default: {','.join(map(str, DEFAULT_LIMITS))})")
    parser.add_argument("--jobs", type=int, default=min(2, len(os.sched_getaffinity(0))),
                        help="files scored at once (default: 2, or 1 on one core)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pairs = [p for p in find_pairs(pairs_dir(args.data)) if p.clean is not None]
    print(f"data: {pairs_dir(args.data)} ({len(pairs)} pairs); load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = {}
    for limit in args.limits:
        value = int(limit) if float(limit).is_integer() else limit
        config = Config(("noisy", "voice"), (0.0, 0.15), (), (("reduction_db", value),), DEFAULT_CACHE)
        print(f"limit {value} dB ...", file=sys.stderr, flush=True)
        results[f"{value:g}"] = evaluate(pairs, config, args.jobs)
    noisy = next(iter(results.values()))["noisy"]
    voice = {label: r["voice"] for label, r in results.items()}
    names = [r["name"] for r in noisy]
    for group in [g for g in GROUPS if any(group_of(n) == g for n in names)] + ["all"]:
        keep = (lambda r, g=group: group_of(r["name"]) == g) if group != "all" else (lambda r: True)
        chosen = select({"noisy": noisy, **voice}, keep)
        print(f"\n[{group}] {len(chosen['noisy'])} files: the voice engine at each limit (means)")
        print(table({k: v for k, v in chosen.items() if k != "noisy"}, chosen["noisy"]))
    best = {m: max(voice, key=lambda k, m=m: means({"x": voice[k]})["x"][m]) for m in METRICS}
    print("\nbest limit per metric (all files): " + ", ".join(f"{NAMES[m]} {best[m]} dB" for m in METRICS))
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; total time: "
          f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
