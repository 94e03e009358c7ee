"""Running the engine on whole recordings for the page, block by block, with the results cached.

The page listens to and looks at a stretch of the recording (:mod:`ui.preview`);
the whole recording is cleaned here only for a download. Nothing here holds a
whole spectrogram: the engine gates the recording block by block. What a
30-minute 48 kHz mono file costs beyond Streamlit's own copy of the upload is
the decoded input and one cleaned result (346 MB each as float32) plus some
tens of MB of temporaries.

Caches (``st.cache_resource``: one shared object, never copied):

* :func:`analyse_recording`, per file content digest and FFT size: the
  automatic noise profile (a few kB);
* :func:`clean_recording` (:class:`ResultCache`), per digest, FFT size,
  settings and noise window: the cleaned audio and its report.
  At most one exists at any moment, even while the next is being made: it is
  the largest thing the app holds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import astuple, dataclass
from typing import Callable, Optional, Tuple

import numpy as np
import streamlit as st

from denoise_core import DenoiseParams, DenoiseReport, NoiseProfile, StftConfig, denoise_with_profile, noise_profile

from .loading import Recording

__all__ = [
    "Analysed",
    "Cleaned",
    "Progress",
    "Job",
    "ResultCache",
    "RESULTS",
    "analyse_recording",
    "clean_recording",
    "run_analysis",
    "run_cleaning",
]

#: ``progress(fraction, text)``: told how far the cleaning is (0 to 1) and what it is doing.
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Analysed:
    """What the page derives once per recording and FFT size.

    Attributes
    ----------
    auto_noise : NoiseProfile
        Noise profile of the quietest stretch (its ``window_s`` is the default
        window; its ``config`` the transform of the gate and the pictures).
    """

    auto_noise: NoiseProfile

    @property
    def config(self) -> StftConfig:
        """The transform used for the noise profile, the gate and the pictures."""
        return self.auto_noise.config


@dataclass(frozen=True)
class Cleaned:
    """The whole recording cleaned with one set of settings.

    Attributes
    ----------
    audio : np.ndarray [shape=input shape, dtype=float32]
        Cleaned audio, read-only.
    report : DenoiseReport
    seconds : float
        Time taken to clean, in seconds (noise profile and gate).
    """

    audio: np.ndarray
    report: DenoiseReport
    seconds: float


def run_analysis(rec: Recording, n_fft: Optional[int]) -> Analysed:
    """The automatic noise profile of a recording (no caching)."""
    return Analysed(auto_noise=noise_profile(rec.y, rec.sr, n_fft=n_fft))


def run_cleaning(
    rec: Recording,
    analysed: Analysed,
    params: DenoiseParams,
    noise_window: Optional[Tuple[float, float]],
    progress: Optional[Progress] = None,
) -> Cleaned:
    """Clean a whole recording with the given settings (no caching).

    Raises
    ------
    NoiseWindowError
        If ``noise_window`` does not fit the recording.
    """
    report_progress = progress or (lambda fraction, text: None)
    start = time.perf_counter()
    noise = (
        analysed.auto_noise
        if noise_window is None
        else noise_profile(rec.y, rec.sr, noise_window, n_fft=analysed.config.n_fft)
    )

    def on_block(first: int, stop: int) -> None:
        report_progress(stop / rec.n_samples, "Removing the noise…")

    audio, report = denoise_with_profile(rec.y, noise, params, on_block=on_block)
    audio.setflags(write=False)
    report_progress(1.0, "Done")
    return Cleaned(audio=audio, report=report, seconds=time.perf_counter() - start)


@st.cache_resource(max_entries=2, ttl=3600, show_spinner=False)
def analyse_recording(digest: str, n_fft: Optional[int], _rec: Recording) -> Analysed:
    """:func:`run_analysis`, once per file content and FFT size (a few kB each)."""
    return run_analysis(_rec, n_fft)


@dataclass(frozen=True)
class Job:
    """Everything a cleaned result is made from (a page keeps this, not the result).

    Attributes
    ----------
    rec : Recording
    n_fft : int or None
        FFT size chosen on the page (``None`` for automatic).
    analysed : Analysed
        From :func:`analyse_recording` with the same recording and FFT size.
    params : DenoiseParams
    noise_window : (float, float) or None
        The chosen noise window, ``None`` for automatic.
    """

    rec: Recording
    n_fft: Optional[int]
    analysed: Analysed
    params: DenoiseParams
    noise_window: Optional[Tuple[float, float]]

    @property
    def key(self) -> tuple:
        """What the result depends on: file content, FFT size, settings, noise window."""
        return (self.rec.digest, self.n_fft, astuple(self.params), self.noise_window)


class ResultCache:
    """The latest cleaned results, shared by all sessions, at most ``capacity`` at any moment.

    ``st.cache_resource(max_entries=1)`` would drop the old result only once the
    new one is stored, so a slider move would briefly hold two 30-minute results
    (346 MB each). Here a miss drops the oldest result *before* cleaning, and
    cleanings run one at a time, so at most ``capacity`` results exist at once
    (pages keep a :class:`Job`, not the result: a download after the result was
    dropped cleans again). Results older than ``ttl_s`` are dropped on the next use.
    """

    def __init__(self, capacity: int = 1, ttl_s: float = 3600.0) -> None:
        self.capacity = capacity
        self.ttl_s = ttl_s
        self._items: "OrderedDict[tuple, Tuple[float, Cleaned]]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, job: Job, progress: Optional[Progress] = None) -> Cleaned:
        """The result of ``job``, cleaned now unless cached (``progress`` is told only then).

        Raises
        ------
        NoiseWindowError
            If the job's noise window does not fit the recording (nothing is cached).
        """
        with self._lock:
            now = time.monotonic()
            for key in [k for k, (made, _) in self._items.items() if now - made > self.ttl_s]:
                del self._items[key]
            if job.key in self._items:
                self._items.move_to_end(job.key)
                return self._items[job.key][1]
            while self._items and len(self._items) >= self.capacity:
                self._items.popitem(last=False)  # freed now, unless a running script still uses it
            result = run_cleaning(job.rec, job.analysed, job.params, job.noise_window, progress)
            self._items[job.key] = (time.monotonic(), result)
            return result

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Drop every result."""
        with self._lock:
            self._items.clear()


#: The app's cleaned results: one (a 30-minute 48 kHz mono result is 346 MB).
RESULTS = ResultCache(capacity=1)


def clean_recording(job: Job, progress: Optional[Progress] = None) -> Cleaned:
    """:func:`run_cleaning` of a job, through :data:`RESULTS`.

    ``progress`` is told how far the cleaning is; it is not called on a cache hit.
    """
    return RESULTS.get(job, progress)
