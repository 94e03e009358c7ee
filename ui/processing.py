"""Running the engine for the page, with the expensive steps cached.

The analysis (STFT, automatic noise window, picture of the input) is cached
per file content and FFT size, so moving a slider only re-runs the gate. The
cleaned result is cached per settings too, so redrawing the page (e.g. the
log-frequency switch) does not clean again.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass
from typing import Optional, Tuple

import numpy as np
import streamlit as st

from denoise_core import Analysis, DenoiseParams, DenoiseReport, NoiseProfile, analyse, estimate_noise, gate

from .loading import Recording
from .media import encode_player
from .plots import PooledSpectrogram, pool_spectrogram

__all__ = ["Analysed", "Cleaned", "analyse_recording", "clean_recording", "run_analysis", "run_cleaning"]


@dataclass(frozen=True)
class Analysed:
    """A recording's analysis and what the page derives from it once.

    Attributes
    ----------
    analysis : Analysis
        The engine's STFT of the recording.
    auto_noise : NoiseProfile
        Noise profile of the quietest stretch (its ``window_s`` is the default window).
    picture : PooledSpectrogram
        The input's spectrogram reduced for display.
    player : bytes
        The original as an OGG/Vorbis player at its true level.
    """

    analysis: Analysis
    auto_noise: NoiseProfile
    picture: PooledSpectrogram
    player: bytes


@dataclass(frozen=True)
class Cleaned:
    """The result of one set of settings.

    Attributes
    ----------
    audio : np.ndarray [shape=input shape, dtype=float32]
        Cleaned audio, read-only.
    report : DenoiseReport
    seconds : float
        Time taken to clean, in seconds: noise profile, gate, picture and players.
    picture : PooledSpectrogram
        The result's spectrogram reduced for display.
    player, removed_player : bytes
        OGG/Vorbis players of the result and of input minus result.
    """

    audio: np.ndarray
    report: DenoiseReport
    seconds: float
    picture: PooledSpectrogram
    player: bytes
    removed_player: bytes


def run_analysis(rec: Recording, n_fft: Optional[int]) -> Analysed:
    """Analyse a recording (no caching)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        player = pool.submit(encode_player, rec.y, rec.sr)  # in parallel with the analysis
        analysis = analyse(rec.y, rec.sr, n_fft=n_fft)
        analysis.spec.setflags(write=False)
        auto_noise = estimate_noise(analysis)
        picture = pool_spectrogram(analysis.spec, analysis.config, analysis.sr)
        return Analysed(analysis=analysis, auto_noise=auto_noise, picture=picture, player=player.result())


def run_cleaning(
    rec: Recording, analysed: Analysed, params: DenoiseParams, noise_window: Optional[Tuple[float, float]]
) -> Cleaned:
    """Gate a recording with the given settings (no caching).

    Raises
    ------
    NoiseWindowError
        If ``noise_window`` does not fit the recording.
    """
    analysis = analysed.analysis
    start = time.perf_counter()
    noise = analysed.auto_noise if noise_window is None else estimate_noise(analysis, noise_window)
    result = gate(analysis, noise, params)
    audio = result.audio
    audio.setflags(write=False)
    removed = np.subtract(rec.y, audio, dtype=np.float32)
    # libsndfile releases the GIL: encode both players while the picture is pooled.
    with ThreadPoolExecutor(max_workers=2) as pool:
        player = pool.submit(encode_player, audio, rec.sr)
        removed_player = pool.submit(encode_player, removed, rec.sr)
        picture = pool_spectrogram(analysis.spec, analysis.config, analysis.sr, gain=result.gain)
        players = player.result(), removed_player.result()
    return Cleaned(
        audio=audio,
        report=result.report,
        seconds=time.perf_counter() - start,
        picture=picture,
        player=players[0],
        removed_player=players[1],
    )


@st.cache_resource(max_entries=2, ttl=3600, show_spinner=False)
def analyse_recording(digest: str, n_fft: Optional[int], _rec: Recording) -> Analysed:
    """:func:`run_analysis`, once per file content and FFT size."""
    return run_analysis(_rec, n_fft)


@st.cache_resource(max_entries=2, ttl=3600, show_spinner=False)
def _clean_cached(
    digest: str,
    n_fft: Optional[int],
    params_key: tuple,
    noise_window: Optional[Tuple[float, float]],
    _rec: Recording,
    _analysed: Analysed,
) -> Cleaned:
    return run_cleaning(_rec, _analysed, DenoiseParams(*params_key), noise_window)


def clean_recording(
    rec: Recording,
    n_fft: Optional[int],
    analysed: Analysed,
    params: DenoiseParams,
    noise_window: Optional[Tuple[float, float]],
) -> Cleaned:
    """:func:`run_cleaning`, cached per file, FFT size, settings and noise window."""
    return _clean_cached(rec.digest, n_fft, astuple(params), noise_window, rec, analysed)
