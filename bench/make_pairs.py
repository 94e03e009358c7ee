"""Build two disjoint sets of noisy/clean pairs: one to tune on, one held out.

Clean speech is real: the clips of ``speech/`` and ``other/dfn_clean_speech.wav``
cut at quiet points into three pieces. The two sets use different clips:

* ``tune``: ``p232_089``, ``p232_230``, ``p257_303`` and the first DFN piece;
* ``heldout``: ``p232_332``, ``p257_342`` and the second and third DFN pieces.

Noise (nine kinds, each at 0, 5 and 10 dB SNR measured over the speech part):
white, pink (1/f), brown (1/f^2, an HVAC rumble), 50 Hz and 60 Hz mains hum
with harmonics over a little white noise, a fan (pink-ish broadband plus blade
tones and their harmonics), ``noise/cafe.wav``, ``noise/dfn_noise.wav`` and
babble (three talkers from the public pairs' clean references). Synthetic noise
takes a different seed per set; the recorded noise a different half of the
file (looped), and babble different talkers. Each pair starts with
``LEAD_S`` = 0.5 s of noise only, so a 0-0.15 s noise window holds no speech.
Pairs that would clip are scaled down together to a 0.99 peak. Output: 16-bit
mono WAV, two thirds at 48 kHz and one third at 16 kHz, as ``X_noisy.wav`` /
``X_clean.wav``.

    python bench/make_pairs.py                  # -> bench/out/tune and bench/out/heldout
    python bench/quality.py bench/out/tune      # may be used to choose parameters
    python bench/quality.py bench/out/heldout   # only for checking
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from common import DEFAULT_DATA, REPO_ROOT, format_table, load_mono, resample

SNRS_DB = (0, 5, 10)
LEAD_S = 0.5
PEAK = 0.99
DFN_PIECES = 3

NoiseMaker = Callable[[int, int, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class SetSpec:
    """What one set is made of."""

    name: str
    speech: Sequence[str]  # clip names: files of speech/, or dfn1..dfn3
    babble: Sequence[str]  # clean references of pairs/ used as babble talkers
    file_half: int  # which half of each noise recording (0 or 1)
    seed: int


SETS = (
    SetSpec("tune", ("p232_089", "p232_230", "p257_303", "dfn1"), ("p257_089", "p257_198", "p257_292"), 0, 11),
    SetSpec("heldout", ("p232_332", "p257_342", "dfn2", "dfn3"), ("p257_347", "s5_185", "pesq_babble0db"), 1, 2024),
)


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


def load_speech(data: Path, names: Sequence[str]) -> list[Speech]:
    """The named clips: ``dfnK`` is the K-th piece of the DFN speech, others are files of ``speech/``."""
    y, sr = load_mono(data / "other/dfn_clean_speech.wav")
    cuts = [0] + [quiet_cut(y, sr, len(y) * k // DFN_PIECES) for k in range(1, DFN_PIECES)] + [len(y)]
    pieces = {f"dfn{k + 1}": y[a:b] for k, (a, b) in enumerate(itertools.pairwise(cuts))}
    speech = []
    for name in names:
        if name in pieces:
            speech.append(Speech(name, pieces[name], sr))
        else:
            audio, clip_sr = load_mono(next((data / "speech").glob(f"{name}.*")))
            speech.append(Speech(name, audio, clip_sr))
    return speech


# --------------------------------------------------------------------------- noise


def file_noise(path: Path, half: int) -> NoiseMaker:
    """Noise from one half of a recording: resampled, looped, read from a random offset."""
    recording, file_sr = load_mono(path)
    mid = len(recording) // 2
    part = recording[:mid] if half == 0 else recording[mid:]

    def make(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        audio = resample(part, file_sr, sr)
        start = int(rng.integers(len(audio)))
        return np.resize(np.roll(audio, -start), n)

    return make


def babble_noise(data: Path, talkers: Sequence[str]) -> NoiseMaker:
    """Several talkers at equal level, each looped from a random offset."""
    clips = [load_mono(next((data / "pairs").glob(f"{name}_clean.*"))) for name in talkers]

    def make(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        total = np.zeros(n)
        for audio, clip_sr in clips:
            audio = resample(audio, clip_sr, sr)
            talker = np.resize(np.roll(audio, -int(rng.integers(len(audio)))), n)
            total += talker / (np.std(talker) + 1e-12)
        return total

    return make


def white_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def _coloured(n: int, sr: int, rng: np.random.Generator, exponent: float, low_hz: float = 20.0) -> np.ndarray:
    """White noise shaped to a ``1 / f ** exponent`` power spectrum above ``low_hz``."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.maximum(np.fft.rfftfreq(n, 1 / sr), low_hz)
    spectrum *= freqs ** (-exponent / 2)
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n)
    return noise / np.std(noise)


def pink_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """1/f power spectrum."""
    return _coloured(n, sr, rng, 1.0)


def brown_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """HVAC rumble: 1/f^2 power spectrum above 20 Hz, plus white noise 35 dB down."""
    return _coloured(n, sr, rng, 2.0) + 10 ** (-35 / 20) * rng.standard_normal(n)


def hum_maker(mains_hz: float) -> NoiseMaker:
    """Mains hum with 1/k harmonics up to 1.2 kHz, plus white noise 30 dB down."""

    def make(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
        t = np.arange(n) / sr
        harmonics = range(1, int(1200 // mains_hz) + 1)
        hum = sum(np.sin(2 * np.pi * mains_hz * k * t + rng.uniform(0, 2 * np.pi)) / k for k in harmonics)
        hum /= np.std(hum)
        return hum + 10 ** (-30 / 20) * rng.standard_normal(n)

    return make


def fan_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Fan: broadband noise (power falling as 1/f^0.7) plus a blade tone and its harmonics 6 dB under it."""
    t = np.arange(n) / sr
    blade_hz = rng.uniform(90.0, 180.0)
    tones = sum(np.sin(2 * np.pi * blade_hz * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 6))
    return _coloured(n, sr, rng, 0.7) + 0.5 * tones / np.std(tones)


def noise_makers(data: Path, spec: SetSpec) -> dict[str, NoiseMaker]:
    return {
        "white": white_noise,
        "pink": pink_noise,
        "brown": brown_noise,
        "hum50": hum_maker(50.0),
        "hum60": hum_maker(60.0),
        "fan": fan_noise,
        "cafe": file_noise(data / "noise/cafe.wav", spec.file_half),
        "dfnnoise": file_noise(data / "noise/dfn_noise.wav", spec.file_half),
        "babble": babble_noise(data, spec.babble),
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


def make_set(data: Path, out: Path, spec: SetSpec) -> list[list[str]]:
    """Write one set's pairs (every noise kind at every SNR) to ``out``; return one summary row per pair."""
    rng = np.random.default_rng(spec.seed)
    noises = noise_makers(data, spec)
    speech = load_speech(data, spec.speech)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n_idx, (noise_name, make_noise) in enumerate(noises.items()):
        for k, snr in enumerate(SNRS_DB):
            index = len(SNRS_DB) * n_idx + k
            clip = speech[index % len(speech)]
            sr = 16000 if index % 3 == 2 else 48000
            audio = resample(clip.audio, clip.sr, sr)
            noise = make_noise(len(audio) + int(LEAD_S * sr), sr, rng)
            clean, noisy, scale = mix(audio, noise, sr, snr)
            name = f"{clip.name}_{noise_name}_{snr:02d}dB_{sr // 1000}k"
            sf.write(str(out / f"{name}_clean.wav"), clean, sr, subtype="PCM_16")
            sf.write(str(out / f"{name}_noisy.wav"), noisy, sr, subtype="PCM_16")
            rows.append([name, f"{sr // 1000}k", f"{len(clean) / sr:.2f}", f"{snr}", f"{scale:.3f}"])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA,
                        help="data folder with speech/, other/, noise/ and pairs/ (default: ../shared/data/public)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench/out",
                        help="parent folder of tune/ and heldout/ (default: bench/out, git-ignored)")
    args = parser.parse_args(argv)
    for spec in SETS:
        rows = make_set(args.data, args.out / spec.name, spec)
        print(f"wrote {len(rows)} pairs to {args.out / spec.name}")
        print(format_table(["pair", "sr", "seconds", "SNR dB", "peak scale"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
