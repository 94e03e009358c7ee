"""Hum benchmark: depth, tone kept, detection and speed of ``denoise_core.hum``.

Three tables:

* depth: a fundamental and 10 harmonics (amplitudes 1/sqrt(k)) added to white
  noise 20 dB below it, or to the public speech clips strung together with
  0.6 s pauses (hum 12 and 22 dB below the speech), at 50 and 60 Hz, offset
  and drifting by 0.2 Hz over the recording; how far the lines went down
  (power projected on the true, drifting harmonics), how far the hum went down
  in the pauses, and how a 1,025 Hz tone between the lines moved;
* detection: what ``detect_hum`` says on every public recording (none holds hum);
* speed: seconds of processor and wall time per minute of audio for detection
  (first 4 s) plus removal in 1 s blocks, beside ``denoise_core.denoise`` on
  the same audio (wall time is inflated on a shared machine; processor time is not).

    python bench/hum.py [DATA]
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import numpy as np
from common import AUDIO_EXTS, DEFAULT_DATA, denoise_core, format_table, load_mono

from denoise_core.hum import HumRemover, detect_hum
from tests.whole import remove_hum

TONE_HZ = 1025.0


def make_hum(sr, n, f0_hz, drift_hz, level_dbfs, rng):
    """Hum ``(n,)`` of RMS ``level_dbfs`` and its fundamental's phase ``(n,)``."""
    phase = 2 * np.pi * np.cumsum(f0_hz + drift_hz * np.arange(n) / n) / sr
    offsets = rng.uniform(0, 2 * np.pi, 11)
    hum = sum(np.cos(k * phase + offsets[k - 1]) / np.sqrt(k) for k in range(1, 12))
    return hum * 10 ** (level_dbfs / 20) / np.sqrt(np.mean(hum**2)), phase


def line_power(x, phase):
    basis = np.exp(-1j * np.outer(np.arange(1, 12), phase))
    return float((np.abs(basis @ np.asarray(x, np.float64)) ** 2).sum())


def tone_db(x, sr):
    return 20 * np.log10(np.abs(np.sum(x * np.exp(-2j * np.pi * TONE_HZ * np.arange(len(x)) / sr))))


def speech_with_pauses(data, sr, rng):
    """The public speech clips twice over, each followed by 0.6 s of a -60 dBFS floor; and where the pauses are."""
    clips = []
    for path in sorted((data / "speech").glob("*.flac")):
        y, y_sr = load_mono(path)
        clips.append(y[:: y_sr // sr] if y_sr != sr else y)
    gap = int(0.6 * sr)
    parts, pauses, pos = [], [], 0
    for clip in clips * 2:
        parts += [clip, np.zeros(gap)]
        pos += clip.size
        pauses.append((pos + gap // 6, pos + gap - gap // 6))  # 0.1 s in from each edge
        pos += gap
    speech = np.concatenate(parts)
    return speech + 10 ** (-60 / 20) * rng.standard_normal(speech.size), pauses


def depth_rows(data):
    rng = np.random.default_rng(7)
    rows = []
    for sr in (16000, 48000):
        speech, pauses = speech_with_pauses(data, sr, rng)
        in_pause = np.zeros(speech.size, dtype=bool)
        for start, stop in pauses:
            in_pause[start:stop] = start >= 5 * sr  # after the first 5 s
        for f0, drift in ((50.0, 0.0), (60.0, 0.0), (49.6, 0.2), (59.6, -0.2)):
            backgrounds = [("white noise -40 dBFS", 10 ** (-40 / 20) * rng.standard_normal(8 * sr), -20.0, "auto")]
            backgrounds += [(f"speech {speech.size / sr:.0f} s, pauses", speech, level, "auto") for level in (-30.0, -40.0)]
            for name, bg, level, _mode in backgrounds:
                n = bg.size
                hum, phase = make_hum(sr, n, f0, drift, level, rng)
                rest = bg + 10 ** (-30 / 20) * np.sin(2 * np.pi * TONE_HZ * np.arange(n) / sr)
                y = (hum + rest).astype(np.float32)
                found = detect_hum(y[: 4 * sr], sr)
                first_pause = slice(pauses[0][0] - sr // 10, pauses[0][1] + sr // 10)  # the whole 0.6 s
                pause_f0 = detect_hum(y[first_pause], sr) if bg is speech else found
                out, report = remove_hum(y, sr, mode="50" if f0 < 55 else "60")
                lines = 10 * np.log10(line_power(y, phase) / line_power(out, phase))
                mask = in_pause if bg is speech else slice(None)
                paused = 10 * np.log10(np.mean(hum[mask] ** 2) / np.mean((out[mask] - rest[mask]) ** 2))
                rows.append(
                    [
                        f"{sr // 1000} kHz",
                        f"{f0:g}{drift:+g}",
                        name,
                        f"{level:g}",
                        "none" if found is None else f"{found:.2f}",
                        "none" if pause_f0 is None else f"{pause_f0:.2f}",
                        f"{report.f0_hz:.3f}",
                        f"{lines:.1f}",
                        f"{paused:.1f}",
                        f"{tone_db(out, sr) - tone_db(rest, sr):+.2f}",
                    ]
                )
    return rows


def detection_rows(data):
    rows = []
    for path in sorted(p for p in data.rglob("*") if p.suffix in AUDIO_EXTS):
        y, sr = load_mono(path)
        rows.append([str(path.relative_to(data)), str(detect_hum(y[: 4 * sr], sr))])
    return rows


def timed(fn, repeats=3):
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(cpu), min(wall)


def clean_hum(y, channels, sr):
    """Detection on the first 4 s, then removal in 1 s blocks, as a streaming caller would."""
    remover = HumRemover(sr, channels.shape[0], detect_hum(y[: 4 * sr], sr), lead_in=channels[:, : 2 * sr])
    for start in range(0, channels.shape[-1], sr):
        remover.push(channels[:, start : start + sr])
    remover.finish()


def speed_rows():
    rng = np.random.default_rng(3)
    rows = []
    for sr, n_channels in ((48000, 1), (48000, 2), (16000, 1)):
        n = 60 * sr
        hum, _ = make_hum(sr, n, 50.1, 0.0, -30.0, rng)
        y = (hum[:, None] + 0.003 * rng.standard_normal((n, n_channels))).astype(np.float32)
        channels = np.ascontiguousarray(y.T)
        hum_cpu, hum_wall = timed(partial(clean_hum, y, channels, sr))
        ref_cpu, ref_wall = timed(partial(denoise_core.denoise, y, sr, noise_window=(0.0, 0.5)), 2)
        rows.append(
            [
                f"{sr // 1000} kHz x {n_channels}",
                f"{hum_cpu:.3f}",
                f"{hum_wall:.3f}",
                f"{ref_cpu:.3f}",
                f"{ref_wall:.3f}",
                f"{hum_cpu / ref_cpu:.2f}",
            ]
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA, type=Path)
    args = parser.parse_args()
    print("Depth, with the base forced (auto: what detection finds on the first 4 s and on the first pause;")
    print("lines: dB taken off the 11 hum lines over the whole recording; pauses: dB taken off the hum")
    print("in the pauses after 5 s, ringing of the notches included; tone: change of a 1,025 Hz tone in dB)")
    headers = [
        "rate",
        "f0 and drift Hz",
        "under",
        "hum dBFS",
        "auto, first 4 s",
        "auto, a 0.6 s pause",
        "f0 forced base",
        "lines dB",
        "pauses dB",
        "tone dB",
    ]
    print(format_table(headers, depth_rows(args.data)))
    print("\nDetection on the public recordings (first 4 s; none holds hum)")
    print(format_table(["file", "detect_hum"], detection_rows(args.data)))
    print("\nSpeed, seconds per minute of audio (detection + removal in 1 s blocks)")
    headers = ["audio", "hum cpu", "hum wall", "denoise cpu", "denoise wall", "hum / denoise (cpu)"]
    print(format_table(headers, speed_rows()))


if __name__ == "__main__":
    main()
