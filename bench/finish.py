"""Finishing chain: loudness against pyloudnorm, pre-ringing of the rumble filter, speed.

Three tables:

1. integrated loudness of every recording in DATA (all sub-folders) by
   ``denoise_core.loudness`` and by pyloudnorm (its default K-filter, and its
   "DeMan" filter, which is the derivation ours uses), with the true peak;
2. what three 80 Hz high-pass designs put before a synthetic plosive at 48 kHz
   (a 25 ms pop of 40 Hz, a noise burst, then a voiced vowel): ours (linear-phase
   Linkwitz-Riley), a sharp windowed-sinc FIR (40 dB stopband, -6 dB at 60 Hz)
   and a minimum-phase 4th-order Butterworth;
3. seconds per minute of 48 kHz stereo for each stage (median of ``--repeats``).

    python bench/finish.py [DATA] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile as sf
from common import DEFAULT_DATA, format_table

from denoise_core.filters import HighPass, IirCascade
from denoise_core.loudness import (
    LoudnessMeter,
    TruePeakLimiter,
    TruePeakMeter,
    integrated_loudness,
    normalize_loudness,
    true_peak_dbtp,
)
from tests.whole import high_pass

SR = 48000


def loudness_table(data: Path) -> str:
    rows = []
    for path in sorted(p for p in data.rglob("*") if p.suffix.lower() in (".wav", ".flac")):
        y, sr = sf.read(str(path))
        ours = integrated_loudness(y, sr)
        default = pyloudnorm.Meter(sr).integrated_loudness(y)
        deman = pyloudnorm.Meter(sr, filter_class="DeMan").integrated_loudness(y)
        rows.append(
            [
                str(path.relative_to(data)),
                f"{sr / 1000:g}",
                f"{ours:.2f}",
                f"{default:.2f}",
                f"{ours - default:+.3f}",
                f"{ours - deman:+.1e}",
                f"{true_peak_dbtp(y, sr):.2f}",
            ]
        )
    headers = ["file", "kHz", "LUFS", "pyloudnorm", "diff", "diff DeMan", "dBTP"]
    return format_table(headers, rows)


def plosive() -> np.ndarray:
    """1 s at 48 kHz: silence, then at 0.5 s a pop, a burst and a vowel."""
    rng = np.random.default_rng(0)
    x = np.zeros(SR)
    onset = SR // 2
    pop = np.arange(int(0.025 * SR)) / SR
    x[onset : onset + pop.size] += 0.8 * np.sin(2 * np.pi * 40 * pop) * np.sin(np.pi * pop / 0.025)
    burst = int(0.015 * SR)
    x[onset : onset + burst] += 0.15 * rng.standard_normal(burst) * np.exp(-np.arange(burst) / (0.004 * SR))
    start = onset + int(0.03 * SR)
    t = np.arange(SR - start) / SR
    x[start:] += 0.3 * sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 8)) * np.minimum(1, t / 0.01)
    return x


def sharp_fir(x: np.ndarray) -> np.ndarray:
    """Windowed-sinc high-pass (Kaiser, 40 dB stopband, 40-80 Hz transition), delay removed."""
    n_taps = 2 * int(np.ceil((40 - 8) / (2.285 * 2 * np.pi * 40 / SR) / 2)) + 1
    m = np.arange(n_taps) - n_taps // 2
    kernel = -2 * 60 / SR * np.sinc(2 * 60 / SR * m) * np.kaiser(n_taps, 3.395)
    kernel[n_taps // 2] += 1.0
    return np.convolve(x, kernel)[n_taps // 2 : n_taps // 2 + x.size]


def butterworth4(x: np.ndarray, cutoff_hz: float = 80.0) -> np.ndarray:
    """Minimum-phase 4th-order Butterworth high-pass (two bilinear biquads)."""
    k = np.tan(np.pi * cutoff_hz / SR)
    sections = []
    for q in (0.5411961, 1.3065630):
        a0 = 1 + k / q + k * k
        sections.append((1 / a0, -2 / a0, 1 / a0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0))
    return IirCascade(sections).process(x[np.newaxis])[0]


def preringing_table() -> str:
    x = plosive()
    onset = SR // 2
    tone = np.sin(2 * np.pi * 40 * np.arange(SR) / SR)
    designs = {
        "ours, linear-phase LR4, 80 Hz": lambda s: high_pass(s, SR, 80).astype(np.float64),
        "sharp windowed sinc, 60 Hz": sharp_fir,
        "min-phase Butterworth 4, 80 Hz": butterworth4,
    }
    rows = []
    for name, run in designs.items():
        y = run(x)
        tone_out = run(tone)[SR // 4 : -SR // 4]
        after = np.abs(y[onset:]).max()
        before = np.abs(y[:onset]) / after
        spans = []
        for level_db in (-40, -60):
            above = np.flatnonzero(before > 10 ** (level_db / 20))
            spans.append(f"{(onset - above[0]) / SR * 1000:.1f}" if above.size else "0")
        rows.append(
            [
                name,
                f"{20 * np.log10(np.std(tone_out) / np.std(tone[SR // 4 : -SR // 4])):.1f}",
                f"{20 * np.log10(max(before.max(), 1e-12)):.1f}",
                *spans,
            ]
        )
    headers = ["design", "40 Hz (dB)", "before/after peak (dB)", "ms > -40 dB", "ms > -60 dB"]
    return format_table(headers, rows)


def speed_table(repeats: int) -> str:
    x = np.random.default_rng(1).standard_normal((2, 60 * SR)) * 0.1

    def stream(make):
        def run():
            stage = make()
            stage.push(x)
            if hasattr(stage, "flush"):
                stage.flush()

        return run

    stages = {
        "loudness meter": stream(lambda: LoudnessMeter(SR, 2)),
        "true-peak meter": stream(lambda: TruePeakMeter(SR, 2)),
        "limiter": stream(lambda: TruePeakLimiter(SR, 2)),
        "high-pass 80 Hz": stream(lambda: HighPass(SR, 80, n_channels=2)),
        "normalize_loudness -16 LUFS": lambda: normalize_loudness(x.T, SR),
    }
    rows = []
    for name, run in stages.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        rows.append([name, f"{statistics.median(times):.2f}", f"{min(times):.2f}"])
    return format_table(["stage (1 min, 48 kHz stereo)", "median s", "min s"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA, type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(loudness_table(args.data), end="\n\n")
    print(preringing_table(), end="\n\n")
    print(speed_table(args.repeats))


if __name__ == "__main__":
    main()
