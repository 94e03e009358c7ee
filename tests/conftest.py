"""Shared fixtures for the engine tests: a seeded generator, the data folder and signal helpers.

The helpers are handed out as fixtures (``make_tone``, ``make_noise``, ...)
rather than imported, so every test file gets them the same way pytest gives
it ``rng`` and ``tmp_path``. All data paths are found from this file's own
location, never from the working directory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator, so every test sees the same 'random' signal."""
    return np.random.default_rng(20240611)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``tests/data``, found from this file rather than the working directory."""
    return DATA_DIR


@pytest.fixture(scope="session")
def load_data() -> Callable[[str], tuple[np.ndarray, int]]:
    """Read a recording from ``tests/data`` as float32 (mono files give 1-D arrays)."""

    def load(name: str) -> tuple[np.ndarray, int]:
        y, sr = sf.read(DATA_DIR / name, dtype="float32")
        return y, sr

    return load


@pytest.fixture(scope="session")
def make_tone() -> Callable[..., np.ndarray]:
    """``make_tone(freq_hz, duration_s, sr, amplitude=0.3)``: a float32 sine of peak ``amplitude``."""

    def tone(freq_hz: float, duration_s: float, sr: int, amplitude: float = 0.3) -> np.ndarray:
        t = np.arange(round(duration_s * sr)) / sr
        return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)

    return tone


@pytest.fixture
def make_noise(rng) -> Callable[..., np.ndarray]:
    """``make_noise(n, level_dbfs, channels=None)``: white Gaussian noise of RMS ``level_dbfs``."""

    def noise(n: int, level_dbfs: float, channels: int | None = None) -> np.ndarray:
        shape = (n,) if channels is None else (n, channels)
        return (10 ** (level_dbfs / 20) * rng.standard_normal(shape)).astype(np.float32)

    return noise


@pytest.fixture(scope="session")
def speech_bursts() -> Callable[..., np.ndarray]:
    """``speech_bursts(sr, duration_s, quiet_s)``: harmonic 'syllables' everywhere except ``quiet_s``.

    Bursts of 200 ms of a 150 Hz harmonic series alternate with 50 ms gaps,
    laid out so that a burst ends exactly where ``quiet_s = (start, end)``
    begins and another starts exactly where it ends. No stretch longer than
    50 ms is quiet except ``quiet_s``, which holds nothing; callers add their
    own noise floor.
    """

    def bursts(sr: int, duration_s: float, quiet_s: tuple[float, float]) -> np.ndarray:
        t = np.arange(round(duration_s * sr)) / sr
        voiced = sum(0.1 / k * np.sin(2 * np.pi * 150 * k * t + k) for k in range(1, 8))
        before = (t < quiet_s[0]) & (np.mod(quiet_s[0] - t, 0.25) < 0.2)
        after = (t >= quiet_s[1]) & (np.mod(t - quiet_s[1], 0.25) < 0.2)
        return (voiced * (before | after)).astype(np.float32)

    return bursts


@pytest.fixture(scope="session")
def si_sdr() -> Callable[[np.ndarray, np.ndarray], float]:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019)."""

    def measure(estimate: np.ndarray, reference: np.ndarray) -> float:
        estimate = np.asarray(estimate, dtype=np.float64)
        reference = np.asarray(reference, dtype=np.float64)
        target = (estimate @ reference) / (reference @ reference) * reference
        residual = estimate - target
        return float(10 * np.log10((target @ target) / (residual @ residual)))

    return measure


@pytest.fixture(scope="session")
def tone_amplitude() -> Callable[[np.ndarray, float, int], float]:
    """Peak amplitude of the ``freq_hz`` component of ``x`` (single-bin DFT, Goertzel style)."""

    def amplitude(x: np.ndarray, freq_hz: float, sr: int) -> float:
        n = np.arange(len(x))
        return float(2 * np.abs(np.sum(np.asarray(x, np.float64) * np.exp(-2j * np.pi * freq_hz * n / sr))) / len(x))

    return amplitude
