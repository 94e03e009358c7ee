"""Build two disjoint sets of noisy/clean pairs: one to tune on, one held out.

The held-out set must say how a method does on noise it was never tuned on, so
the two sets share no noise FAMILY (not merely other seeds of the same
generators), and no speech clip.

Clean speech is real: the clips of ``speech/`` and ``other/dfn_clean_speech.wav``
cut at quiet points into three pieces (``dfn1`` to ``dfn3``):

* ``tune``: ``p232_089``, ``p232_230``, ``p257_303`` and ``dfn1``;
* ``heldout``: ``p232_332``, ``p257_342``, ``dfn2`` and ``dfn3``.

Noise families, by group (the first word of a pair's name is its family):

===========  =====================================  ==========================================
group        ``tune``                               ``heldout``
===========  =====================================  ==========================================
steady       ``white``; ``pink`` (1/f);             ``brown`` (1/f^2 HVAC rumble); ``fan``
             ``hum50`` (50 Hz mains, harmonics      (1/f^0.7 broadband plus blade tones);
             to 1.2 kHz, white noise 30 dB down)    ``hum60`` (60 Hz mains, as hum50)
moving       ``babble``: six streams of the tune    ``cafe``: ``noise/cafe.wav``;
             clips other than the target (``dfn1``  ``dfnnoise``: ``noise/dfn_noise.wav``
             included), each at its own speed       (whole recordings, looped seamlessly
             (0.85-1.15, so its own pitch) and      from a random offset);
             offset, summed;                        ``traffic``: low-passed brown and pink
             ``amssn``: noise filtered to the       rumble, with passing vehicles (level
             long-term spectrum of the tune speech, swells of 1-3 s, engine harmonics with
             modulated at syllable rates (3-6 Hz,   a Doppler glide, tyre hiss at 0.7-4
             about 3 dB) and slower (0.1-0.6 Hz,    kHz) and, in half the pairs, a two-tone
             swings of +-6 to 10 dB)                horn after the noise-only lead
burst        the first 0.2 s of the noise (over the 0-0.15 s noise window) made 10 dB
             and 20 dB louder, in power, than the noise after it, over the steady and
             moving families of the same set, by an event of its own kind:
             ``burst-louder`` (the noise itself     ``burst-door`` (a door slam: decaying
             turned up), ``burst-clicks`` (a        low thump, crack and rattle),
             train of key clicks), ``burst-beep``   ``burst-car`` (a car passing close:
             (a two-beep notification tone)         rumble, Doppler engine, tyre hiss),
                                                    ``burst-cough`` (a breath and a
                                                    two-pulse cough through formants)
===========  =====================================  ==========================================

Every family is mixed at 0, 5 and 10 dB SNR (measured over the speech part;
a burst does not count, it lies in the lead): steady families once per SNR,
moving ones with two clips per SNR, bursts at both levels (one clip each).
That makes 39 ``tune`` pairs (9 steady, 12 moving, 18 burst) and 45
``heldout`` pairs (9, 18, 18). Pairs are named
``<family>_snr<S>_<clip>`` (``cafe_snr5_p232_332``), bursts
``burst-<kind>-<level>db-<base family>_snr<S>_<clip>``
(``burst-door-20db-cafe_snr5_p232_332``); :func:`family_of` and
:func:`group_of` read them back. Each pair starts with ``LEAD_S`` = 0.5 s of
noise only, so a 0-0.15 s noise window holds no speech (only, in the burst
group, the burst). Pairs that would clip are scaled down together to a 0.99
peak. Each pair's noise has a seed of its own (the set's and its index), so a
pair does not change when others are added. Output: 16-bit mono WAV, two
thirds at 48 kHz and one third at 16 kHz, as ``X_noisy.wav`` / ``X_clean.wav``.

    python bench/make_pairs.py                  # -> bench/out/tune and bench/out/heldout
    python bench/quality.py bench/out/tune      # may be used to choose parameters
    python bench/quality.py bench/out/heldout   # only for checking, never for tuning
    python bench/quality.py bench/out/heldout --family moving   # one group: steady, moving or burst
    python bench/make_pairs.py --sets heldout --seed 7   # a fresh draw -> bench/out/heldout-seed7

A fresh draw (``--seed``) has the same families, clips and SNRs and other noise:
other stretches of the noise files, other vehicles, bursts and modulations. It
says how far a mean moves with the draw alone, and is as unseen as the set was.

As a library (from another script in ``bench/``)::

    from make_pairs import make_set
    pairs = make_set("heldout", out_dir)        # the same pairs as the command line writes
"""

from __future__ import annotations

import argparse
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from common import DEFAULT_DATA, REPO_ROOT, format_table, load_mono, resample
from scipy import signal

__all__ = [
    "BURST_LEVELS_DB",
    "BURST_S",
    "FAMILY_GROUP",
    "GROUPS",
    "LEAD_S",
    "SETS",
    "SNRS_DB",
    "PairInfo",
    "family_of",
    "group_of",
    "make_set",
    "plan_set",
]

SNRS_DB = (0, 5, 10)
LEAD_S = 0.5
PEAK = 0.99
DFN_PIECES = 3
#: Length of the burst at the start of a burst pair's noise, in seconds (covers the 0-0.15 s noise window).
BURST_S = 0.2
#: How much louder (power, dB) the burst's 0.2 s is than the noise after it.
BURST_LEVELS_DB = (10, 20)
GROUPS = ("steady", "moving", "burst")

#: ``make(n, sr, rng, target)``: ``n`` samples of noise at ``sr``; ``target`` names the clean clip it goes under.
NoiseMaker = Callable[[int, int, np.random.Generator, str], np.ndarray]
#: ``make(base, sr, rng)``: an event of ``len(base)`` samples to add over ``base`` (the noise's first 0.2 s).
BurstMaker = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class SetSpec:
    """What one set is made of: its speech clips, its noise families by group, its seed."""

    name: str
    speech: Sequence[str]  # clip names: files of speech/, or dfn1..dfn3
    steady: Sequence[str]
    moving: Sequence[str]
    bursts: Sequence[str]  # burst kinds, as families: "burst-<kind>"
    seed: int


SETS: dict[str, SetSpec] = {
    "tune": SetSpec("tune", ("p232_089", "p232_230", "p257_303", "dfn1"),
                    ("white", "pink", "hum50"), ("babble", "amssn"),
                    ("burst-louder", "burst-clicks", "burst-beep"), 11),
    "heldout": SetSpec("heldout", ("p232_332", "p257_342", "dfn2", "dfn3"),
                       ("brown", "fan", "hum60"), ("cafe", "dfnnoise", "traffic"),
                       ("burst-door", "burst-car", "burst-cough"), 2024),
}

#: Group of every family (a burst pair's family is its burst kind).
FAMILY_GROUP: dict[str, str] = {
    family: group
    for spec in SETS.values()
    for group, families in (("steady", spec.steady), ("moving", spec.moving), ("burst", spec.bursts))
    for family in families
}
#: Clips per (family, SNR) in each group (a burst pair is made once per level).
CLIPS_PER_SNR = {"steady": 1, "moving": 2, "burst": 1}


@dataclass(frozen=True)
class PairInfo:
    """One pair of a set: what it is made of, and its name (``X`` of ``X_noisy.wav``)."""

    name: str
    family: str
    group: str
    snr_db: int
    clip: str
    sr: int
    noise: str  # the noise family under it (for a burst pair, its base family)
    burst_db: int | None = None  # for a burst pair, how much louder its first 0.2 s is


def family_of(name: str) -> str | None:
    """The noise family of a pair named by this module (``burst-door`` for bursts), else ``None``."""
    first = name.split("_", 1)[0]
    family = "-".join(first.split("-")[:2]) if first.startswith("burst-") else first
    return family if family in FAMILY_GROUP else None


def group_of(name: str) -> str | None:
    """``"steady"``, ``"moving"`` or ``"burst"`` for a pair named by this module, else ``None``."""
    family = family_of(name)
    return FAMILY_GROUP[family] if family else None


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


# --------------------------------------------------------------------------- building blocks


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to unit RMS (zeros stay zeros)."""
    rms = np.sqrt(np.mean(np.square(x, dtype=np.float64)))
    return x / rms if rms > 0 else x


def _coloured(n: int, sr: int, rng: np.random.Generator, exponent: float, low_hz: float = 20.0) -> np.ndarray:
    """White noise shaped to a ``1 / f ** exponent`` power spectrum above ``low_hz``, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.maximum(np.fft.rfftfreq(n, 1 / sr), low_hz)
    spectrum *= freqs ** (-exponent / 2)
    spectrum[0] = 0
    return _unit(np.fft.irfft(spectrum, n))


def _band(x: np.ndarray, sr: int, low_hz: float | None, high_hz: float | None, order: int = 2) -> np.ndarray:
    """Butterworth band-pass (or low-pass with ``low_hz=None``, high-pass with ``high_hz=None``)."""
    nyquist = sr / 2
    high_hz = None if high_hz is None or high_hz >= 0.95 * nyquist else high_hz
    if low_hz and high_hz:
        sos = signal.butter(order, (low_hz, high_hz), "bandpass", fs=sr, output="sos")
    elif high_hz:
        sos = signal.butter(order, high_hz, "lowpass", fs=sr, output="sos")
    elif low_hz:
        sos = signal.butter(order, low_hz, "highpass", fs=sr, output="sos")
    else:
        return x
    return signal.sosfilt(sos, x)


def _smooth_random(n: int, sr: int, rng: np.random.Generator, max_hz: float) -> np.ndarray:
    """A random curve with no content above ``max_hz``, peak magnitude 1."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[np.fft.rfftfreq(n, 1 / sr) > max_hz] = 0
    spectrum[0] = 0
    curve = np.fft.irfft(spectrum, n)
    return curve / (np.max(np.abs(curve)) + 1e-12)


def _seamless_loop(audio: np.ndarray, sr: int, fade_s: float = 0.05) -> np.ndarray:
    """The recording with its last ``fade_s`` cross-faded into its start, so it loops without a click."""
    fade = int(fade_s * sr)
    ramp = np.linspace(0.0, 1.0, fade)
    head = audio[:fade] * ramp + audio[len(audio) - fade :] * (1 - ramp)
    return np.concatenate([head, audio[fade : len(audio) - fade]])


def _looped(audio: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of the (looping) ``audio`` from a random offset."""
    return np.resize(np.roll(audio, -int(rng.integers(len(audio)))), n)


# --------------------------------------------------------------------------- steady families


def white_noise(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
    return rng.standard_normal(n)


def pink_noise(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
    """1/f power spectrum."""
    return _coloured(n, sr, rng, 1.0)


def brown_noise(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
    """HVAC rumble: 1/f^2 power spectrum above 20 Hz, plus white noise 35 dB down."""
    return _coloured(n, sr, rng, 2.0) + 10 ** (-35 / 20) * rng.standard_normal(n)


def hum_maker(mains_hz: float) -> NoiseMaker:
    """Mains hum with 1/k harmonics up to 1.2 kHz, plus white noise 30 dB down."""

    def make(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
        t = np.arange(n) / sr
        harmonics = range(1, int(1200 // mains_hz) + 1)
        hum = sum(np.sin(2 * np.pi * mains_hz * k * t + rng.uniform(0, 2 * np.pi)) / k for k in harmonics)
        return _unit(hum) + 10 ** (-30 / 20) * rng.standard_normal(n)

    return make


def fan_noise(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
    """Fan: broadband noise (power falling as 1/f^0.7) plus a blade tone and its harmonics 6 dB under it."""
    t = np.arange(n) / sr
    blade_hz = rng.uniform(90.0, 180.0)
    tones = sum(np.sin(2 * np.pi * blade_hz * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 6))
    return _coloured(n, sr, rng, 0.7) + 0.5 * _unit(tones)


# --------------------------------------------------------------------------- moving families (tune)


def babble_maker(speech: Sequence[Speech], n_streams: int = 6) -> NoiseMaker:
    """Babble: ``n_streams`` talkers summed at equal level, from the clips other than the target.

    Each stream is one of those clips at a speed of its own (0.85-1.15, which
    moves its pitch too, so two streams of a clip are two voices), looped
    from a random offset.
    """

    def make(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
        others = [clip for clip in speech if clip.name != target]
        total = np.zeros(n)
        for _ in range(n_streams):
            clip = others[int(rng.integers(len(others)))]
            speed = rng.uniform(0.85, 1.15)
            audio = resample(clip.audio, round(clip.sr * speed), sr)  # played at ``speed``
            total += _unit(_looped(audio, n, rng))
        return total

    return make


def amssn_maker(speech: Sequence[Speech]) -> NoiseMaker:
    """Amplitude-modulated speech-shaped noise.

    Noise with the long-term average spectrum of ``speech`` (Welch, 40 ms
    frames), its level moved in dB by a slow curve (content at 0.1-0.6 Hz,
    peaks of 6 to 10 dB either way: level swings within seconds) plus a
    syllable-rate one (3-6 Hz, peaks of about 3 dB).
    """

    @functools.cache
    def ltass(sr: int) -> tuple[np.ndarray, np.ndarray]:
        nperseg = int(0.04 * sr)
        psds = []
        for clip in speech:
            freqs, psd = signal.welch(resample(clip.audio, clip.sr, sr), sr, nperseg=nperseg)
            psds.append(psd / psd.sum())
        return freqs, np.mean(psds, axis=0)

    def make(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
        freqs, psd = ltass(sr)
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum *= np.sqrt(np.interp(np.fft.rfftfreq(n, 1 / sr), freqs, psd))
        noise = _unit(np.fft.irfft(spectrum, n))
        t = np.arange(n) / sr
        slow = sum(np.sin(2 * np.pi * rng.uniform(0.1, 0.6) * t + rng.uniform(0, 2 * np.pi)) for _ in range(3))
        slow_db = rng.uniform(6.0, 10.0) * slow / np.max(np.abs(slow))
        syllable_db = 3.0 * _band(_smooth_random(n, sr, rng, 6.0), sr, 3.0, None)
        syllable_db *= 3.0 / (np.max(np.abs(syllable_db)) + 1e-12)
        return noise * 10 ** ((slow_db + syllable_db) / 20)

    return make


# --------------------------------------------------------------------------- moving families (heldout)


def file_noise(path: Path) -> NoiseMaker:
    """A noise recording, resampled, looped seamlessly, read from a random offset."""
    recording, file_sr = load_mono(path)

    def make(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
        return _looped(_seamless_loop(resample(recording, file_sr, sr), sr), n, rng)

    return make


def _vehicle(t: np.ndarray, sr: int, rng: np.random.Generator, t0: float, tau_s: float) -> np.ndarray:
    """One vehicle passing at ``t0``: a level swell of half-width ``tau_s``, Doppler engine, tyre hiss, rumble."""
    n = len(t)
    dt = t - t0
    swell = 1.0 / (1.0 + (dt / tau_s) ** 2)  # amplitude: loudest as it passes
    speed_ms = rng.uniform(10.0, 22.0)
    radial_ms = speed_ms * dt / np.sqrt(dt**2 + (tau_s * 0.5) ** 2)  # approaching < 0 < receding
    firing_hz = rng.uniform(25.0, 45.0) * 343.0 / (343.0 + radial_ms)  # pitch falls as it passes
    phase = 2 * np.pi * np.cumsum(firing_hz) / sr
    engine = _unit(sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 9)))
    hiss = _unit(_band(rng.standard_normal(n), sr, 700.0, 4000.0))
    rumble = _unit(_band(_coloured(n, sr, rng, 2.0), sr, None, 150.0))
    return swell * (0.5 * engine + hiss * swell**0.5 + 0.7 * rumble)


def traffic_noise(n: int, sr: int, rng: np.random.Generator, target: str = "") -> np.ndarray:
    """Street traffic: a rumble bed, vehicles passing every 1-4 s, and in half the pairs a horn.

    The bed is brown noise low-passed at 300 Hz plus pink noise low-passed at
    1 kHz. Each vehicle swells 6 to 16 dB over the bed for 1-3 s
    (:func:`_vehicle`). The horn (two tones a major third apart with their
    harmonics, 0.25-0.6 s) starts after the noise-only lead.
    """
    t = np.arange(n) / sr
    bed = _unit(_band(_coloured(n, sr, rng, 2.0), sr, None, 300.0))
    bed = _unit(bed + 0.5 * _unit(_band(_coloured(n, sr, rng, 1.0), sr, None, 1000.0)))
    total = bed.copy()
    t0 = rng.uniform(-1.5, 0.5)
    while t0 < t[-1] + 1.5:
        tau_s = rng.uniform(0.5, 1.5)
        total += 10 ** (rng.uniform(6.0, 16.0) / 20) * _vehicle(t, sr, rng, t0, tau_s) / 1.5
        t0 += rng.uniform(1.0, 4.0)
    if rng.random() < 0.5:
        length_s = rng.uniform(0.25, 0.6)
        start = rng.uniform(LEAD_S, max(LEAD_S, t[-1] - length_s))
        inside = (t >= start) & (t < start + length_s)
        envelope = np.clip(np.minimum(t - start, start + length_s - t) / 0.02, 0, 1) * inside
        f1 = rng.uniform(380.0, 450.0)
        horn = sum(np.sin(2 * np.pi * f * k * t) / k for f in (f1, f1 * 1.25) for k in range(1, 7))
        total += 2.0 * envelope * horn / np.sqrt(np.mean(horn[inside] ** 2))
    return total


# --------------------------------------------------------------------------- bursts


def _fade_out(event: np.ndarray, sr: int, fade_s: float = 0.01) -> np.ndarray:
    """``event`` with its last ``fade_s`` faded to zero, so nothing spills past the burst."""
    fade = min(len(event), int(fade_s * sr))
    event = event.copy()
    event[len(event) - fade :] *= np.linspace(1.0, 0.0, fade)
    return event


def _decay(t: np.ndarray, onset_s: float, tau_s: float, attack_s: float = 0.002) -> np.ndarray:
    """An envelope that rises over ``attack_s`` at ``onset_s`` and decays with time constant ``tau_s``."""
    dt = t - onset_s
    return np.where(dt < 0, 0.0, np.minimum(dt / attack_s, 1.0) * np.exp(-np.maximum(dt, 0) / tau_s))


def burst_louder(base: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Tune: the background itself turned up (flat, with 10 ms ramps)."""
    ramp = int(0.01 * sr)
    window = np.ones(len(base))
    window[:ramp] = np.linspace(0.0, 1.0, ramp)
    return base * window


def burst_clicks(base: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Tune: eight to fourteen key clicks (2-5 ms broadband decays with a 2-4 kHz ring)."""
    t = np.arange(len(base)) / sr
    event = np.zeros(len(base))
    for onset in rng.uniform(0.0, BURST_S - 0.02, int(rng.integers(8, 15))):
        envelope = _decay(t, onset, rng.uniform(0.002, 0.005), attack_s=0.0002)
        ring = np.sin(2 * np.pi * rng.uniform(2000.0, 4000.0) * t)
        event += rng.uniform(0.5, 1.0) * envelope * (_band(rng.standard_normal(len(t)), sr, 2000.0, 8000.0) + ring)
    return event


def burst_beep(base: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Tune: two 70 ms beeps of a tone at 0.8-1.2 kHz with two harmonics."""
    t = np.arange(len(base)) / sr
    f0 = rng.uniform(800.0, 1200.0)
    tone = np.sin(2 * np.pi * f0 * t) + 0.4 * np.sin(4 * np.pi * f0 * t) + 0.2 * np.sin(6 * np.pi * f0 * t)
    gate = np.zeros(len(t))
    for start in (0.01, 0.1):
        gate += np.clip(np.minimum(t - start, start + 0.07 - t) / 0.005, 0, 1)
    return tone * gate


def burst_door(base: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Heldout: a door slam: three low modes (45-260 Hz) decaying over 30-80 ms, a crack and a rattle."""
    t = np.arange(len(base)) / sr
    onset = rng.uniform(0.005, 0.03)
    thump = sum(
        rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * rng.uniform(lo, hi) * (t - onset)) * _decay(t, onset, rng.uniform(0.03, 0.08))
        for lo, hi in ((45.0, 70.0), (90.0, 140.0), (180.0, 260.0))
    )
    crack = _band(rng.standard_normal(len(t)), sr, None, 2000.0) * _decay(t, onset, 0.008, attack_s=0.0005)
    rattle = _band(rng.standard_normal(len(t)), sr, 1500.0, 5000.0) * _decay(t, onset + 0.01, 0.04)
    return _unit(thump) + 0.6 * _unit(crack) + 0.2 * _unit(rattle)


def burst_car(base: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Heldout: a car passing close by: a short, steep swell peaking in the burst (see :func:`_vehicle`)."""
    t = np.arange(len(base)) / sr
    return _vehicle(t, sr, rng, t0=rng.uniform(0.06, 0.12), tau_s=rng.uniform(0.05, 0.1))


def burst_cough(base: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Heldout: a breath then a two-pulse cough: noise through three formants (F1-F3), sharp attacks."""
    t = np.arange(len(base)) / sr
    formants = ((400.0, 700.0), (1200.0, 1900.0), (2300.0, 3000.0))
    voiced = sum(
        weight * _unit(_band(rng.standard_normal(len(t)), sr, 0.85 * f, 1.15 * f))
        for weight, f in zip((1.0, 0.6, 0.35), (rng.uniform(lo, hi) for lo, hi in formants), strict=False)
    )
    first = rng.uniform(0.03, 0.05)
    envelope = _decay(t, first, rng.uniform(0.03, 0.05), attack_s=0.004)
    envelope += 0.6 * _decay(t, first + rng.uniform(0.07, 0.1), 0.035, attack_s=0.004)
    breath = 0.15 * _unit(_band(rng.standard_normal(len(t)), sr, 300.0, 3000.0)) * np.clip(1 - t / first, 0, 1)
    return voiced * envelope + breath


BURSTS: dict[str, BurstMaker] = {
    "burst-louder": burst_louder,
    "burst-clicks": burst_clicks,
    "burst-beep": burst_beep,
    "burst-door": burst_door,
    "burst-car": burst_car,
    "burst-cough": burst_cough,
}


def add_burst(noise: np.ndarray, sr: int, kind: str, level_db: float, rng: np.random.Generator) -> np.ndarray:
    """``noise`` with an event of ``kind`` added over its first ``BURST_S``.

    The event is scaled so that the mean power of the first ``BURST_S`` is
    ``level_db`` above the mean power of the noise after it (solved exactly,
    the event's correlation with the noise included).
    """
    m = int(BURST_S * sr)
    base = noise[:m]
    event = _fade_out(BURSTS[kind](base, sr, rng), sr)
    target = 10 ** (level_db / 10) * np.mean(noise[m:] ** 2)
    # mean((base + g * event) ** 2) == target, for g > 0
    a, b, c = np.mean(event**2), 2 * np.mean(base * event), np.mean(base**2) - target
    gain = max(0.0, (-b + np.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a))
    out = noise.copy()
    out[:m] = base + gain * event
    return out


# --------------------------------------------------------------------------- sets


def noise_makers(data: Path, spec: SetSpec, speech: Sequence[Speech]) -> dict[str, NoiseMaker]:
    """The steady and moving families of ``spec`` (bursts go over these)."""
    makers: dict[str, NoiseMaker] = {
        "white": white_noise,
        "pink": pink_noise,
        "hum50": hum_maker(50.0),
        "babble": babble_maker(speech),
        "amssn": amssn_maker(speech),
        "brown": brown_noise,
        "fan": fan_noise,
        "hum60": hum_maker(60.0),
        "cafe": file_noise(data / "noise/cafe.wav"),
        "dfnnoise": file_noise(data / "noise/dfn_noise.wav"),
        "traffic": traffic_noise,
    }
    return {name: makers[name] for name in (*spec.steady, *spec.moving)}


def plan_set(name: str) -> list[PairInfo]:
    """The pairs of set ``name`` (``"tune"`` or ``"heldout"``), in the order they are made."""
    spec = SETS[name]
    rows = []  # (family, group, snr, noise, burst_db)
    for group, families in (("steady", spec.steady), ("moving", spec.moving)):
        for family in families:
            rows += [(family, group, snr, family, None) for snr in SNRS_DB for _ in range(CLIPS_PER_SNR[group])]
    bases = (*spec.steady, *spec.moving)
    k = 0
    for family in spec.bursts:
        for level in BURST_LEVELS_DB:
            for snr in SNRS_DB:
                rows.append((family, "burst", snr, bases[k % len(bases)], level))
                k += 1
    pairs = []
    for index, (family, group, snr, noise, level) in enumerate(rows):
        clip = spec.speech[index % len(spec.speech)]
        sr = 16000 if index % 3 == 2 else 48000
        prefix = family if level is None else f"{family}-{level}db-{noise}"
        pairs.append(PairInfo(f"{prefix}_snr{snr}_{clip}", family, group, snr, clip, sr, noise, level))
    return pairs


def mix(speech: np.ndarray, noise: np.ndarray, sr: int, snr_db: float):
    """Clean and noisy signals: ``LEAD_S`` of noise, then speech at ``snr_db``.

    The SNR is measured over the speech part (the noise after the lead).
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


def make_set(name: str, out_dir: Path, data: Path = DEFAULT_DATA, seed: int | None = None) -> list[tuple[PairInfo, float]]:
    """Write the pairs of set ``name`` to ``out_dir`` as ``X_noisy.wav`` / ``X_clean.wav``.

    Parameters
    ----------
    name : {"tune", "heldout"}
        The set (see the module's docstring for their families).
    out_dir : Path
        Folder to write to (made if missing; pairs of the same name are overwritten).
    data : Path
        The shared data folder with ``speech/``, ``other/`` and ``noise/``.
    seed : int, optional
        Draw the noise with this seed instead of the set's own (a fresh draw of the same pairs).

    Returns
    -------
    list of (PairInfo, float)
        Each pair written, with the factor (<= 1) its audio was scaled by to stay under the peak.
    """
    spec = SETS[name]
    speech = {clip.name: clip for clip in load_speech(data, spec.speech)}
    makers = noise_makers(data, spec, list(speech.values()))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, pair in enumerate(plan_set(name)):
        rng = np.random.default_rng([spec.seed if seed is None else seed, index])
        clip = speech[pair.clip]
        audio = resample(clip.audio, clip.sr, pair.sr)
        noise = makers[pair.noise](len(audio) + int(LEAD_S * pair.sr), pair.sr, rng, pair.clip)
        if pair.burst_db is not None:
            noise = add_burst(noise, pair.sr, pair.family, pair.burst_db, rng)
        clean, noisy, scale = mix(audio, noise, pair.sr, pair.snr_db)
        sf.write(str(out_dir / f"{pair.name}_clean.wav"), clean, pair.sr, subtype="PCM_16")
        sf.write(str(out_dir / f"{pair.name}_noisy.wav"), noisy, pair.sr, subtype="PCM_16")
        written.append((pair, scale))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA,
                        help="data folder with speech/, other/ and noise/ (default: ../shared/data/public)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench/out",
                        help="parent folder of tune/ and heldout/ (default: bench/out, git-ignored)")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated sets to make (default: {','.join(SETS)})")
    parser.add_argument("--seed", type=int, default=None,
                        help="a fresh draw of the noise with this seed, written to <set>-seed<N>/ (default: the set's own)")
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    if not names or set(names) - set(SETS):
        parser.error(f"--sets: got {args.sets!r}; choose from {','.join(SETS)}")
    for name in names:
        folder = args.out / (name if args.seed is None else f"{name}-seed{args.seed}")
        written = make_set(name, folder, args.data, args.seed)
        print(f"wrote {len(written)} pairs to {folder}")
        rows = [[p.name, p.group, f"{p.sr // 1000}k", f"{p.snr_db}", f"{scale:.3f}"] for p, scale in written]
        print(format_table(["pair", "group", "sr", "SNR dB", "peak scale"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
