"""Running the engine for the page, block by block, with the expensive steps cached.

Nothing here holds a whole spectrogram: the engine gates the recording block
by block, and the pictures are the STFTs of the input and of the cleaned audio
computed and pooled chunk by chunk (:func:`ui.plots.audio_spectrogram`). What
a 30-minute 48 kHz mono file costs beyond Streamlit's own copy of the upload
is the decoded input and one cleaned result (346 MB each as float32) plus some
tens of MB of temporaries.

Caches (``st.cache_resource``: one shared object, never copied):

* :func:`analyse_recording`, per file content digest and FFT size: the
  automatic noise profile, the input's picture and the original's player
  (up to ~35 MB for 30 minutes; two are kept);
* :func:`clean_recording` (:class:`ResultCache`), per digest, FFT size,
  settings and noise window: the cleaned audio, its picture and two players.
  At most one exists at any moment, even while the next is being made: it is
  the largest thing the app holds, and a page only ever shows one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass
from typing import Callable, Optional, Tuple

import numpy as np
import streamlit as st

from denoise_core import DenoiseParams, DenoiseReport, NoiseProfile, StftConfig, denoise_with_profile, noise_profile

from .loading import Recording
from .media import PlayerEncoder, encode_player
from .plots import PooledSpectrogram, audio_spectrogram

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
#: Share of the progress bar given to the gate; the rest is the players and the picture.
_GATE_SHARE = 0.8


@dataclass(frozen=True)
class Analysed:
    """What the page derives once per recording and FFT size.

    Attributes
    ----------
    auto_noise : NoiseProfile
        Noise profile of the quietest stretch (its ``window_s`` is the default
        window; its ``config`` the transform of the gate and the pictures).
    picture : PooledSpectrogram
        The input's spectrogram reduced for display.
    player : bytes
        The original as an OGG/Vorbis player at its true level.
    """

    auto_noise: NoiseProfile
    picture: PooledSpectrogram
    player: bytes

    @property
    def config(self) -> StftConfig:
        """The transform used for the noise profile, the gate and the pictures."""
        return self.auto_noise.config


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
        The result's spectrogram (the STFT of ``audio``) reduced for display.
    player, removed_player : bytes
        OGG/Vorbis players of the result and of input minus result.
    """

    audio: np.ndarray
    report: DenoiseReport
    seconds: float
    picture: PooledSpectrogram
    player: bytes
    removed_player: bytes


def _columns(y: np.ndarray) -> np.ndarray:
    """``(n, n_channels)`` view of soundfile-layout samples (no copy)."""
    return y.reshape(y.shape[0], -1)


def run_analysis(rec: Recording, n_fft: Optional[int]) -> Analysed:
    """Noise profile, picture and player of a recording (no caching)."""
    # libsndfile and NumPy's FFT release the GIL: encode the player while the rest runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        player = pool.submit(encode_player, rec.y, rec.sr)
        auto_noise = noise_profile(rec.y, rec.sr, n_fft=n_fft)
        picture = audio_spectrogram(rec.y, auto_noise.config)
        return Analysed(auto_noise=auto_noise, picture=picture, player=player.result())


class _Players:
    """Encodes the cleaned and the removed players in a worker thread as cleaned blocks become final."""

    def __init__(self, rec: Recording, cleaned: np.ndarray) -> None:
        self._input, self._cleaned = _columns(rec.y), cleaned
        self._encoders = [PlayerEncoder(rec.sr, rec.n_channels) for _ in range(2)]
        self._todo: "queue.Queue[Optional[Tuple[int, int]]]" = queue.Queue()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._work, name="quiet-players", daemon=True)
        self._thread.start()

    def add(self, start: int, stop: int) -> None:
        """Samples ``start:stop`` of the cleaned audio are final."""
        self._todo.put((start, stop))

    def _work(self) -> None:
        cleaned_player, removed_player = self._encoders
        while (item := self._todo.get()) is not None:
            if self._error is not None:
                continue  # drain after a failure
            try:
                start, stop = item
                block = self._cleaned[start:stop]
                cleaned_player.write(block)
                removed_player.write(np.subtract(self._input[start:stop], block, dtype=np.float32))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller in finish()
                self._error = exc

    def finish(self) -> Tuple[bytes, bytes]:
        """Wait for the encoder and return (cleaned, removed) player bytes."""
        self._todo.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._encoders[0].finish(), self._encoders[1].finish()

    def abandon(self) -> None:
        """Stop the worker after an error elsewhere."""
        self._error = self._error or RuntimeError("abandoned")
        self._todo.put(None)
        self._thread.join()
        for encoder in self._encoders:
            encoder.close()


def run_cleaning(
    rec: Recording,
    analysed: Analysed,
    params: DenoiseParams,
    noise_window: Optional[Tuple[float, float]],
    progress: Optional[Progress] = None,
) -> Cleaned:
    """Clean a recording with the given settings (no caching).

    Raises
    ------
    NoiseWindowError
        If ``noise_window`` does not fit the recording.
    """
    report_progress = progress or (lambda fraction, text: None)
    start = time.perf_counter()
    config = analysed.config
    noise = (
        analysed.auto_noise
        if noise_window is None
        else noise_profile(rec.y, rec.sr, noise_window, n_fft=config.n_fft)
    )
    out = np.empty((rec.n_samples, rec.n_channels), dtype=np.float32)
    players = _Players(rec, out)
    try:

        def on_block(first: int, stop: int) -> None:
            players.add(first, stop)
            report_progress(_GATE_SHARE * stop / rec.n_samples, "Removing the noise…")

        audio, report = denoise_with_profile(rec.y, noise, params, out=out, on_block=on_block)
        audio.setflags(write=False)
        report_progress(_GATE_SHARE, "Preparing the players and the picture…")
        picture = audio_spectrogram(audio, config)  # while the players' encoder finishes
        player, removed_player = players.finish()
    except BaseException:
        players.abandon()
        raise
    report_progress(1.0, "Done")
    return Cleaned(
        audio=audio,
        report=report,
        seconds=time.perf_counter() - start,
        picture=picture,
        player=player,
        removed_player=removed_player,
    )


@st.cache_resource(max_entries=2, ttl=3600, show_spinner=False)
def analyse_recording(digest: str, n_fft: Optional[int], _rec: Recording) -> Analysed:
    """:func:`run_analysis`, once per file content and FFT size.

    Each holds the original's player and the input's picture: up to ~35 MB for
    30 minutes, so two (e.g. the example and an upload) are kept.
    """
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


#: The app's cleaned results: one (a 30-minute result is ~400 MB with its players).
RESULTS = ResultCache(capacity=1)


def clean_recording(job: Job, progress: Optional[Progress] = None) -> Cleaned:
    """:func:`run_cleaning` of a job, through :data:`RESULTS`.

    ``progress`` is told how far the cleaning is; it is not called on a cache hit.
    """
    return RESULTS.get(job, progress)
