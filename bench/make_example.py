"""Build the app's bundled example, ``assets/example_noisy_speech.flac``, and print how noisy it is.

Two clean VoiceBank utterances (``speech/p232_089`` and ``speech/p257_303`` of
the shared data, CC BY 4.0) with pauses before, between and after, mixed at
3 dB SNR with steady noise made here from a fixed seed: pink noise (a fan or
air conditioning) plus a soft 100 Hz hum. 24 kHz mono 16-bit FLAC, about 6 s.

Run by hand: ``python bench/make_example.py [DATA_DIR]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from common import DEFAULT_DATA, REPO_ROOT, load_mono, resample, si_sdr

from denoise_core import denoise

SR = 24_000
SNR_DB = 3.0
PEAK = 0.7
TARGET = REPO_ROOT / "assets" / "example_noisy_speech.flac"


def _trim(y: np.ndarray, sr: int) -> np.ndarray:
    """Cut leading and trailing silence, keeping 0.1 s around the speech."""
    loud = np.flatnonzero(np.abs(y) > 0.01 * np.abs(y).max())
    pad = int(0.1 * sr)
    return y[max(0, loud[0] - pad) : loud[-1] + pad]


def steady_noise(n: int, sr: int, seed: int = 9) -> np.ndarray:
    """Pink noise (power falling 3 dB per octave above 60 Hz) plus a 100 Hz hum 20 dB below it."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n, 1.0 / sr), 60.0))
    pink = np.fft.irfft(spectrum, n)
    pink /= np.sqrt(np.mean(pink**2))
    hum = 0.1 * np.sqrt(2) * np.sin(2 * np.pi * 100.0 * np.arange(n) / sr)
    return pink + hum


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
    parts = []
    for name in ("p232_089", "p257_303"):
        y, sr = load_mono(data / "speech" / f"{name}.flac")
        parts.append(_trim(resample(y, sr, SR), SR))
    silence = [np.zeros(int(s * SR)) for s in (1.0, 0.7, 0.6)]
    speech = np.concatenate([silence[0], parts[0], silence[1], parts[1], silence[2]])
    noise = steady_noise(len(speech), SR)
    noise *= np.sqrt(np.mean(speech**2) / np.mean(noise**2) / 10 ** (SNR_DB / 10))
    scale = PEAK / np.abs(speech + noise).max()
    mix = ((speech + noise) * scale).astype(np.float32)
    sf.write(TARGET, mix, SR, format="FLAC", subtype="PCM_16")
    stored, _ = sf.read(TARGET, dtype="float32")
    cleaned, report = denoise(stored, SR, return_report=True)
    reference = speech * scale
    print(
        f"{TARGET.name}: {len(mix) / SR:.1f} s, {TARGET.stat().st_size / 1e3:.0f} kB, SNR {SNR_DB:.0f} dB; "
        f"SI-SDR {si_sdr(reference, stored):.1f} dB -> {si_sdr(reference, cleaned):.1f} dB after Quiet's defaults, "
        f"noise {report.noise_removed_db:.1f} dB down (noise sample {report.noise_window_s[0]:.2f}-{report.noise_window_s[1]:.2f} s)"
    )


if __name__ == "__main__":
    main()
