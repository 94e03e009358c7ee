"""Quality benchmark: Quiet's denoiser against noisereduce and RNNoise.

Every ``X_noisy.wav|flac`` of the data folder is cleaned by each method and
scored against ``X_clean`` with wide-band PESQ (at 16 kHz), STOI and SI-SDR,
and without a reference by DNSMOS P.835 (SIG, BAK, OVRL; ``speechmos``'s ONNX
model at 16 kHz). Any other audio file in the folder (or a ``X_noisy`` without
its ``X_clean``) is a real recording without reference and gets DNSMOS only.
The real-time factor (RTF) times only the denoising call. The script prints
summary tables, a per-file table and PASS/FAIL checks of the quality bar
(issue 8), and exits 0 whatever the checks say (it is a report).

    python bench/quality.py                       # ../shared/data/public/pairs
    python bench/quality.py bench/out/heldout     # pairs from make_pairs.py
    python bench/quality.py path/to/recordings    # noisy files, DNSMOS only
    python bench/quality.py --methods ours-window,ours-auto,noisy \\
        --ours-param threshold_db=4 --ours-param reduction_db=25
"""

from __future__ import annotations

import argparse
import csv
import functools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import noisereduce
import numpy as np
from common import (
    add_ours_param_option,
    denoise_core,
    dnsmos,
    find_pairs,
    fit_length,
    format_table,
    load_mono,
    pairs_dir,
    resample,
    score,
)
from pyrnnoise.rnnoise import FRAME_SIZE as RNNOISE_FRAME
from pyrnnoise.rnnoise import SAMPLE_RATE as RNNOISE_SR
from pyrnnoise.rnnoise import create, destroy, process_mono_frame
from tqdm import tqdm

REF_METRICS = ("pesq", "stoi", "si_sdr")
DNSMOS_METRICS = ("sig", "bak", "ovrl")
METRICS = REF_METRICS + DNSMOS_METRICS
METRIC_NAMES = {"pesq": "PESQ", "stoi": "STOI", "si_sdr": "SI-SDR", "sig": "DNSMOS SIG", "bak": "DNSMOS BAK",
                "ovrl": "DNSMOS OVRL"}
#: Mean STOI may fall this far below the noisy input's; no file may lose more than STOI_FILE_LOSS.
STOI_MEAN_SLACK = 0.005
STOI_FILE_LOSS = 0.03


@dataclass(frozen=True)
class Method:
    """A row of the report: a label and a function ``(noisy, sr) -> cleaned``."""

    label: str
    run: Callable[[np.ndarray, int], np.ndarray]


# --------------------------------------------------------------------------- RNNoise


def _rnnoise_48k(y: np.ndarray) -> np.ndarray:
    """Run RNNoise frame by frame on 48 kHz float audio; output is delayed."""
    n = len(y)
    x = np.pad(y, (0, -n % RNNOISE_FRAME))
    x16 = np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)
    state = create()
    try:
        frames = [process_mono_frame(state, x16[i : i + RNNOISE_FRAME])[0] for i in range(0, len(x16), RNNOISE_FRAME)]
    finally:
        destroy(state)
    return np.concatenate(frames)[:n].astype(np.float32) / 32768


@functools.cache
def rnnoise_delay() -> int:
    """Measure RNNoise's output delay in samples by cross-correlating a probe.

    The probe is seeded white noise with a syllable-rate (4 Hz) envelope: it is
    broadband, so the correlation peak is one sample wide, and RNNoise passes
    enough of it to correlate.
    """
    rng = np.random.default_rng(0)
    t = np.arange(RNNOISE_SR) / RNNOISE_SR
    probe = (0.1 * rng.standard_normal(len(t)) * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)
    out = _rnnoise_48k(probe)
    lags = range(4 * RNNOISE_FRAME + 1)
    return max(lags, key=lambda lag: float(np.dot(out[lag:], probe[: len(probe) - lag])))


def rnnoise(y: np.ndarray, sr: int) -> np.ndarray:
    """RNNoise at 48 kHz, delay-compensated, returned at ``sr`` and input length."""
    y48 = resample(y, sr, RNNOISE_SR)
    delay = rnnoise_delay()
    out48 = _rnnoise_48k(np.pad(y48, (0, delay)))[delay:]
    return fit_length(resample(out48, RNNOISE_SR, sr), len(y))


# --------------------------------------------------------------------------- methods


def build_methods(window: Sequence[float], ours_kwargs: dict[str, float]) -> dict[str, Method]:
    """All methods, keyed by their ``--methods`` name, in report order."""
    start, end = window

    def nr_stationary(y, sr):
        return noisereduce.reduce_noise(y=y, sr=sr, stationary=True, y_noise=y[int(start * sr) : int(end * sr)])

    return {
        "noisy": Method("noisy", lambda y, sr: y),
        "nr-stationary": Method("noisereduce stationary", nr_stationary),
        "nr-nonstationary": Method(
            "noisereduce non-stationary", lambda y, sr: noisereduce.reduce_noise(y=y, sr=sr, stationary=False)
        ),
        "rnnoise": Method("RNNoise", rnnoise),
        "ours-window": Method(
            "ours (window)", lambda y, sr: denoise_core.denoise(y, sr, noise_window=(start, end), **ours_kwargs)
        ),
        "ours-auto": Method("ours (auto)", lambda y, sr: denoise_core.denoise(y, sr, **ours_kwargs)),
    }


def evaluate(pairs, methods: dict[str, Method]) -> dict[str, list[dict[str, float]]]:
    """Score every method on every recording: ``{method: [per-file results]}``.

    Recordings without a clean reference get NaN for the reference metrics.
    """
    results = {key: [] for key in methods}
    for pair in tqdm(pairs, desc="files", file=sys.stderr):
        noisy, sr = load_mono(pair.noisy)
        clean = None
        if pair.clean is not None:
            clean, sr_clean = load_mono(pair.clean)
            if sr != sr_clean:
                raise ValueError(f"{pair.name}: noisy is {sr} Hz but clean is {sr_clean} Hz")
        for key, method in methods.items():
            t0 = time.perf_counter()
            out = np.asarray(method.run(noisy, sr), dtype=np.float32)
            seconds = time.perf_counter() - t0
            row = score(clean, out, sr) if clean is not None else {m: np.nan for m in REF_METRICS}
            row.update(dnsmos(fit_length(out, len(noisy)), sr))
            row.update(name=pair.name, sr=sr, referenced=clean is not None,
                       rtf=np.nan if key == "noisy" else seconds * sr / len(noisy))
            results[key].append(row)
    return results


# --------------------------------------------------------------------------- report


def _nanmean(values) -> float:
    """Mean of the non-NaN values; NaN when there are none."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def means(results) -> dict[str, dict[str, float]]:
    """Mean of each metric and of the RTF per method."""
    return {key: {m: _nanmean([r[m] for r in rows]) for m in (*METRICS, "rtf")} for key, rows in results.items()}


def subset(results, referenced: bool):
    """The results of the files with (or without) a clean reference."""
    return {key: [r for r in rows if r["referenced"] == referenced] for key, rows in results.items()}


def summary_table(methods, avg, metrics) -> str:
    digits = {"stoi": 4, "si_sdr": 2}
    rows = [
        [m.label] + [f"{avg[k][x]:.{digits.get(x, 3)}f}" for x in metrics]
        + ["-" if np.isnan(avg[k]["rtf"]) else f"{avg[k]['rtf']:.4f}"]
        for k, m in methods.items()
    ]
    names = {"pesq": "PESQ-WB", "si_sdr": "SI-SDR dB", "sig": "SIG", "bak": "BAK", "ovrl": "OVRL"}
    return format_table(["method"] + [names.get(x, METRIC_NAMES[x]) for x in metrics] + ["RTF"], rows)


def per_file_table(methods, results, metrics) -> str:
    keys = list(methods)
    rows = []
    for i, first in enumerate(results[keys[0]]):
        cells = [" ".join(f"{r[m]:.2f}" if m != "si_sdr" else f"{r[m]:5.1f}" for m in metrics)
                 for r in (results[k][i] for k in keys)]
        rows.append([first["name"], f"{first['sr'] // 1000}k", *cells])
    return format_table(["file", "sr", *keys], rows)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _beats(avg, a_key: str, b_key: str, metric: str, claim: str) -> str:
    """Check line: method ``a_key`` has a higher mean ``metric`` than ``b_key``."""
    a, b = avg[a_key][metric], avg[b_key][metric]
    return f"{_verdict(a > b)}  {claim} on mean {METRIC_NAMES[metric]}: {a:.3f} vs {b:.3f} ({a - b:+.3f})"


def _stoi_kept(results, avg, ours: str, noisy: str) -> list[str]:
    """Check lines: ours keeps the noisy mean STOI (within the slack) and no file loses much."""
    a, b = avg[ours]["stoi"], avg[noisy]["stoi"]
    worst, name = min((o["stoi"] - n["stoi"], o["name"]) for o, n in zip(results[ours], results[noisy], strict=False))
    return [
        f"{_verdict(a >= b - STOI_MEAN_SLACK)}  ours (window) mean STOI >= noisy mean STOI - {STOI_MEAN_SLACK:g}: "
        f"{a:.4f} vs {b:.4f} ({a - b:+.4f})",
        f"{_verdict(worst >= -STOI_FILE_LOSS)}  no file with ours (window) STOI < noisy STOI - {STOI_FILE_LOSS:g}: "
        f"worst {name} ({worst:+.4f})",
    ]


def _group_lines(results, groups) -> list[str]:
    lines = []
    for keys, claim, make in groups:
        missing = [k for k in keys if k not in results]
        lines += [f"SKIP  {claim} (needs --methods {','.join(missing)})"] if missing else make()
    return lines


def checks(results, avg) -> list[str]:
    """The bar of issue 8 on files with references, as printable lines (SKIP when a method was not run)."""
    ours, nr, noisy, rn = "ours-window", "nr-stationary", "noisy", "rnnoise"
    vs_nr, vs_rn = "ours (window) beats noisereduce stationary", "(aim) ours (window) beats RNNoise"
    return _group_lines(results, [
        ((ours, nr), vs_nr, lambda: [_beats(avg, ours, nr, m, vs_nr) for m in ("pesq", "stoi", "si_sdr", "ovrl", "bak")]),
        ((ours, noisy), "ours (window) keeps STOI", lambda: _stoi_kept(results, avg, ours, noisy)),
        ((ours, rn), vs_rn, lambda: [_beats(avg, ours, rn, m, vs_rn) for m in ("pesq", "si_sdr", "bak")]),
    ])


def checks_unreferenced(results, avg) -> list[str]:
    """The bar on recordings without references: automatic mode beats both noisereduce modes on OVRL and BAK."""
    ours = "ours-auto"
    groups = [
        ((ours, other), f"ours (auto) beats {label}",
         lambda other=other, label=label: [_beats(avg, ours, other, m, f"ours (auto) beats {label}") for m in ("ovrl", "bak")])
        for other, label in (("nr-stationary", "noisereduce stationary"), ("nr-nonstationary", "noisereduce non-stationary"))
    ]
    return _group_lines(results, groups)


def write_csv(path: Path, methods, results) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "sr", "method", *METRICS, "rtf"])
        for key, rows in results.items():
            for r in rows:
                values = (f"{r[m]:.6g}" for m in (*METRICS, "rtf"))
                writer.writerow([r["name"], r["sr"], methods[key].label, *values])


# --------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    all_keys = list(build_methods((0, 0.15), {}))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?",
                        help="data folder holding pairs/, or a folder of pairs (default: ../shared/data/public)")
    parser.add_argument("--methods", default=",".join(all_keys),
                        help=f"comma-separated subset of: {','.join(all_keys)} (default: all)")
    parser.add_argument("--noise-window", nargs=2, type=float, default=(0.0, 0.15), metavar=("START", "END"),
                        help="noise-only stretch in seconds, for ours (window) and noisereduce stationary "
                             "(default: 0 0.15)")
    parser.add_argument("--csv", type=Path, help="also write per-file scores to this CSV file")
    add_ours_param_option(parser)
    args = parser.parse_args(argv)
    chosen = [k.strip() for k in args.methods.split(",") if k.strip()]
    unknown = sorted(set(chosen) - set(all_keys))
    if unknown or not chosen:
        parser.error(f"--methods: got {args.methods!r}; choose from {','.join(all_keys)}")
    args.methods = [k for k in all_keys if k in chosen]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    ours_kwargs = dict(args.ours_param)
    methods = {k: m for k, m in build_methods(args.noise_window, ours_kwargs).items() if k in args.methods}
    folder = pairs_dir(args.data)
    pairs = find_pairs(folder, allow_unreferenced=True)

    print(f"data: {folder}  ({len(pairs)} files);  engine: {Path(denoise_core.__file__).parent}")
    print(f"noise window: {args.noise_window[0]:g}-{args.noise_window[1]:g} s;  ours params: {ours_kwargs or 'defaults'}")
    if "rnnoise" in methods:
        delay = rnnoise_delay()
        print(f"RNNoise output delay (measured): {delay} samples = {1000 * delay / RNNOISE_SR:g} ms at 48 kHz, "
              "compensated")

    results = evaluate(pairs, methods)
    for referenced, title, metrics, check in (
        (True, "with clean references", METRICS, checks),
        (False, "without references (real recordings)", DNSMOS_METRICS, checks_unreferenced),
    ):
        part = subset(results, referenced)
        n_files = len(next(iter(part.values())))
        if not n_files:
            continue
        avg = means(part)
        print(f"\n{n_files} files {title}: mean over files (PESQ-WB at 16 kHz; DNSMOS P.835 at 16 kHz; "
              "RTF = processing s / audio s)")
        print(summary_table(methods, avg, metrics))
        cells = " ".join(METRIC_NAMES[m] for m in metrics)
        print(f"\nPer file (cells: {cells})")
        print(per_file_table(methods, part, metrics))
        print("\nAcceptance checks")
        print("\n".join(check(part, avg)))
    if args.csv:
        write_csv(args.csv, methods, results)
        print(f"\nper-file scores written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
