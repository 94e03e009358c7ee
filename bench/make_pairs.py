"""Build held-out noisy/clean pairs, so tuning does not overfit the public pairs.

Clean speech: ``other/dfn_clean_speech.wav`` cut at quiet points into three
~3.5 s pieces, plus a few ``*_clean`` references of ``pairs/``. Noise:
``noise/cafe.wav``, ``noise/dfn_noise.wav`` and synthetic white, pink (1/f)
and mains hum (50 Hz and harmonics over a little white noise). Each pair starts
with 0.5 s of noise only (so a 0-0.15 s noise window holds no speech) and is
mixed at 0, 5, 10 or 15 dB SNR, measured over the speech part. Pairs that would
clip are scaled down together to a 0.99 peak. Output: 16-bit mono WAV, mostly
48 kHz and a few at 16 kHz, written as ``X_noisy.wav`` / ``X_clean.wav``.

    python bench/make_pairs.py                  # -> bench/out/heldout/
    python bench/quality.py bench/out/heldout
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import soundfile as sf
from common import DEFAULT_DATA, REPO_ROOT, format_table, load_mono, resample

SNRS_DB = (0, 5, 10, 15)
LEAD_S = 0.5
PEAK = 0.99
DFN_PIECES = 3
PAIR_REFS = ("p257_089", "s5_185", "pesq_babble0db")  # a few public clean references
SIXTEEN_K = ("dfn2", "pesq_babble0db")  # speech written at 16 kHz; the rest at 48 kHz


@dataclass(frozen=True)
class Speech:
    """A clean speech clip at its native rate."""

    name: str
    audio: np.ndarray
    sr: int


# --------------------------------------------------------------------------- speech


def quiet_cut(y: np.ndarray, sr: int, near: int, search_s: float = 0.5) -> int:
    """Sample index of the quietest 20 ms frame within ``search_s`` of ``near``."""
    frame = int(0.02 * sr)
    lo = max(0, near - int(search_s * sr))
    starts = np.arange(lo, min(len(y) - frame, near + int(search_s * sr)), frame // 2)
    energy = [float(np.sum(y[s : s + frame] ** 2)) for s in starts]
    return int(starts[int(np.argmin(energy))] + frame // 2)


def load_speech(data: Path) -> List[Speech]:
    """The DFN speech cut into pieces, then the chosen public clean references."""
    y, sr = load_mono(data / "other/dfn_clean_speech.wav")
    cuts = [0] + [quiet_cut(y, sr, len(y) * k // DFN_PIECES) for k in range(1, DFN_PIECES)] + [len(y)]
    speech = [Speech(f"dfn{k + 1}", y[a:b], sr) for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:]))]
    for name in PAIR_REFS:
        path = next((data / "pairs").glob(f"{name}_clean.*"))
        audio, ref_sr = load_mono(path)
        speech.append(Speech(name, audio, ref_sr))
    return speech


# --------------------------------------------------------------------------- noise


def file_noise(path: Path) -> Callable[[int, int, np.random.Generator], np.ndarray]:
    """Noise from a recording: resampled, looped, read from a random offset."""
    recording, file_sr = load_mono(path)

    def make(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        audio = resample(recording, file_sr, sr)
        start = int(rng.integers(len(audio)))
        return np.resize(np.roll(audio, -start), n)

    return make


def white_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def pink_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """1/f power spectrum made by shaping white noise in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n)
    return pink / np.std(pink)


def hum_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """50 Hz mains hum with 1/k harmonics up to 1 kHz, plus white noise 30 dB down."""
    t = np.arange(n) / sr
    hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 21))
    hum /= np.std(hum)
    return hum + 10 ** (-30 / 20) * rng.standard_normal(n)


def noise_makers(data: Path) -> Dict[str, Callable[[int, int, np.random.Generator], np.ndarray]]:
    return {
        "cafe": file_noise(data / "noise/cafe.wav"),
        "dfnnoise": file_noise(data / "noise/dfn_noise.wav"),
        "white": white_noise,
        "pink": pink_noise,
        "hum": hum_noise,
    }


# --------------------------------------------------------------------------- mixing


def mix(speech: np.ndarray, noise: np.ndarray, sr: int, snr_db: float):
    """Clean and noisy signals: ``LEAD_S`` of noise, then speech at ``snr_db``.

    Returns ``(clean, noisy, scale)`` where ``scale`` <= 1 is the factor both
    were multiplied by to keep the peak at or below ``PEAK``.
    """
    lead = int(LEAD_S * sr)
    clean = np.concatenate([np.zeros(lead), speech]).astype(np.float64)
    speech_power = np.mean(speech.astype(np.float64) ** 2)
    noise_power = np.mean(noise[lead:].astype(np.float64) ** 2)
    gain = np.sqrt(speech_power / (noise_power * 10 ** (snr_db / 10)))
    noisy = clean + gain * noise
    scale = min(1.0, PEAK / max(np.max(np.abs(noisy)), np.max(np.abs(clean))))
    return clean * scale, noisy * scale, scale


def make_pairs(data: Path, out: Path, seed: int) -> List[List[str]]:
    """Write all pairs to ``out``; return one summary row per pair."""
    rng = np.random.default_rng(seed)
    noises = noise_makers(data)
    noise_names = list(noises)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for s_idx, speech in enumerate(load_speech(data)):
        sr = 16000 if speech.name in SIXTEEN_K else 48000
        audio = resample(speech.audio, speech.sr, sr)
        for k, snr in enumerate(SNRS_DB):
            noise_name = noise_names[(len(SNRS_DB) * s_idx + k) % len(noise_names)]
            noise = noises[noise_name](len(audio) + int(LEAD_S * sr), sr, rng)
            clean, noisy, scale = mix(audio, noise, sr, snr)
            name = f"{speech.name}_{noise_name}_{snr:02d}dB_{sr // 1000}k"
            sf.write(str(out / f"{name}_clean.wav"), clean, sr, subtype="PCM_16")
            sf.write(str(out / f"{name}_noisy.wav"), noisy, sr, subtype="PCM_16")
            rows.append([name, f"{sr // 1000}k", f"{len(clean) / sr:.2f}", f"{snr}", f"{scale:.3f}"])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA,
                        help="data folder with other/, noise/ and pairs/ (default: ../shared/data/public)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench/out/heldout",
                        help="output folder (default: bench/out/heldout, git-ignored)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed (default: 2024)")
    args = parser.parse_args(argv)
    rows = make_pairs(args.data, args.out, args.seed)
    print(f"wrote {len(rows)} pairs to {args.out}")
    print(format_table(["pair", "sr", "seconds", "SNR dB", "peak scale"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
