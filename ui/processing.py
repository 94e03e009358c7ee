"""Running the engine for the page, block by block, with every large object in the server's budget.

Nothing here holds a whole spectrogram: the engine gates the recording block
by block, and the pictures are the STFTs of the input and of the cleaned audio
computed and pooled chunk by chunk (:func:`ui.plots.audio_spectrogram`).

What the page derives is kept in :data:`ui.budget.STORE`, counted against the
server's memory budget and pinned by the visitor whose page shows it:

* :func:`analyse_recording`, per file content digest and FFT size: the
  automatic noise profile, the input's picture and the original's player
  (up to ~35 MB for 30 minutes);
* :func:`clean_recording`, per digest, FFT size, settings and noise window:
  the cleaned audio, its picture and two players. Cleanings run in
  :data:`ui.budget.RUNNER`, beside each other, a short recording never
  behind a long one; the visitor's page is told while it waits;
* :func:`download` encodes a download from the result the page shows, when clicked.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass
from typing import Callable, Optional, Tuple

import numpy as np

from denoise_core import DenoiseParams, DenoiseReport, NoiseProfile, StftConfig, denoise_with_profile, noise_profile

from . import budget
from .loading import Recording
from .media import PlayerEncoder, encode_download, encode_player
from .plots import PooledSpectrogram, audio_spectrogram

__all__ = [
    "Analysed",
    "Cleaned",
    "Progress",
    "Job",
    "analyse_recording",
    "clean_recording",
    "download",
    "run_analysis",
    "run_cleaning",
]

log = logging.getLogger("quiet")

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


def _analysed_size(analysed: Analysed) -> int:
    return len(analysed.player) + analysed.picture.power.nbytes + analysed.picture.freqs.nbytes


def analyse_recording(digest: str, n_fft: Optional[int], rec: Recording) -> Analysed:
    """:func:`run_analysis`, once per file content and FFT size, counted in the server's memory budget.

    Pinned for the current visitor as ``"analysis"`` (the original's player and
    the input's picture: up to ~35 MB for 30 minutes).

    Raises
    ------
    ui.budget.Busy
        If the server has no memory left for it now.
    """
    return budget.get_or_make(
        ("analysis", digest, n_fft),
        "analysis",
        lambda: run_analysis(rec, n_fft),
        estimate=lambda: budget.analysis_bytes(rec.y.nbytes),
        size_of=_analysed_size,
    )


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


def _cleaned_size(cleaned: Cleaned) -> int:
    picture = cleaned.picture
    return cleaned.audio.nbytes + len(cleaned.player) + len(cleaned.removed_player) + picture.power.nbytes


#: Bytes per sample of each download encoding (FLAC is smaller than this).
_BYTES_PER_SAMPLE = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


def _result_key(job: Job) -> tuple:
    return ("result",) + job.key


def _cleaning_work(job: Job, sid: str, role: str) -> Callable[[Progress], Cleaned]:
    """The runner's work for ``job``: reserve its memory, clean, keep the result pinned for ``sid``."""

    def work(report: Progress) -> Cleaned:
        with budget.reserve(budget.cleaning_bytes(job.rec.y.nbytes), sid) as reservation:
            result = run_cleaning(job.rec, job.analysed, job.params, job.noise_window, report)
            log.info("cleaned %.1f s of audio in %.2f s", job.rec.duration_s, result.seconds)
            return budget.STORE.commit(reservation, _result_key(job), result, _cleaned_size(result), sid, role)

    return work


def clean_recording(job: Job, progress: Optional[Progress] = None, role: str = "result") -> Cleaned:
    """The result of ``job``: held for this visitor if made before, else cleaned in :data:`ui.budget.RUNNER`.

    The result is pinned for the current visitor as ``role`` (``"result"``; a
    preview of a stretch would use ``"preview"``), so no other visitor's work
    drops it while the page shows it, and a display-only change finds it again.
    A new cleaning runs beside the others (short recordings in their own lane)
    and the same job asked twice runs once.

    Parameters
    ----------
    job : Job
    progress : callable, optional
        ``progress(fraction, text)``, called in this thread only when the job is not
        held: while it waits (fraction 0 and a text saying for what, updated every
        second) and as it runs.
    role : str
        What the result is for the page.

    Raises
    ------
    NoiseWindowError
        If the job's noise window does not fit the recording (nothing is kept).
    ui.budget.Busy
        If the server has no memory left for the cleaning now.
    """
    sid = budget.session()
    budget.STORE.touch(sid)
    key = _result_key(job)
    held = budget.STORE.get(key, sid, role)
    if held is not None:
        return held

    # The page will show the new result: the one it showed may now go if room is needed (a
    # recording at the duration limit has room for its own next cleaning only without it).
    budget.STORE.unpin(sid, role)
    shown = [None]

    def on_status(ticket, text: str) -> None:
        fraction = 0.0 if ticket.state == "queued" else ticket.fraction
        if progress is not None and shown[0] != (int(100 * fraction), text):
            shown[0] = (int(100 * fraction), text)
            progress(fraction, text)

    ticket = budget.RUNNER.submit(key, _cleaning_work(job, sid, role), job.rec.duration_s)
    result = budget.RUNNER.wait(ticket, on_status)
    budget.STORE.get(key, sid, role)  # pinned for this visitor too when another asked first
    return result


def download(job: Job, fmt: str, subtype: str) -> Callable[[], bytes]:
    """A callable for a download button: the file's bytes of ``job``'s result, encoded when clicked.

    It encodes the result the visitor's page shows (cleaning it again only if
    it was dropped meanwhile), with the file counted in the budget while it is
    encoded and while Streamlit keeps it (:data:`ui.budget.DOWNLOAD_HOLD_S`).

    Raises (when called)
    --------------------
    ui.budget.Busy
        If the server has no memory left for the file now.
    """
    sid = budget.session()
    key = _result_key(job)

    def data() -> bytes:
        cleaned = budget.STORE.peek(key) or budget.RUNNER.wait(
            budget.RUNNER.submit(key, _cleaning_work(job, sid, "result"), job.rec.duration_s)
        )
        file_bytes = cleaned.audio.size * _BYTES_PER_SAMPLE.get(subtype, 4) + (1 << 16)
        reservation = budget.reserve(2 * file_bytes, sid)  # the encoder's buffer and the bytes returned
        try:
            encoded = encode_download(cleaned.audio, job.rec.sr, fmt, subtype)
        except BaseException:
            reservation.release()
            raise
        reservation.shrink(len(encoded))  # what Streamlit keeps
        timer = threading.Timer(budget.DOWNLOAD_HOLD_S, reservation.release)
        timer.daemon = True
        timer.start()
        return encoded

    return data
