"""Running the engine on whole recordings for the page, block by block, with every large object in the server's budget.

The page listens to and looks at a stretch of the recording (:mod:`ui.preview`);
the whole recording is cleaned here only for a download. Nothing here holds a
whole spectrogram: the engine gates the recording block by block.

What the page derives is kept in :data:`ui.budget.STORE`, counted against the
server's memory budget and pinned by the visitor whose page shows it:

* :func:`analyse_recording`, per file content digest, hum removal and STFT:
  the automatic noise profile (a few kB);
* :func:`clean_recording`, per digest and settings (:class:`DenoiseParams`,
  the noise window included): the cleaned audio and its report. Cleanings run in :data:`ui.budget.RUNNER`,
  beside each other, a short recording never behind a long one; the
  visitor's page is told while it waits;
* :func:`download` encodes a download from the result, when clicked
  (:func:`encode_file`: soundfile's formats, or a phone memo or video written
  back into its own kind of file). A result is counted with room for one
  download of it (:func:`ui.budget.download_bytes`: the audio's size, or a
  video's, whichever is larger), so a visitor who has it can always download
  it, however full the server is by then; a second download within
  :data:`ui.budget.DOWNLOAD_HOLD_S` needs room of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from denoise_core import DenoiseParams, DenoiseReport, NoiseProfile, StftConfig, denoise_with_profile, noise_profile

from . import budget
from .jobs import Status
from .loading import Recording
from .media import encode_download, encode_media, media_format, media_formats, media_size

__all__ = [
    "Analysed",
    "Cleaned",
    "Cleaning",
    "analyse_recording",
    "clean_recording",
    "download",
    "encode_file",
    "noise_of",
    "run_analysis",
    "run_cleaning",
]

log = logging.getLogger("quiet")

@dataclass(frozen=True)
class Analysed:
    """What the page derives once per recording, hum removal and STFT.

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


def _automatic(params: DenoiseParams) -> DenoiseParams:
    """The settings with the noise window found automatically."""
    return replace(params, noise_window=None)


def run_analysis(rec: Recording, params: DenoiseParams) -> Analysed:
    """The automatic noise profile of a recording, with the hum removal and STFT of ``params`` (no caching)."""
    return Analysed(auto_noise=noise_profile(rec.y, rec.sr, **_automatic(params).noise_settings()))


def noise_of(rec: Recording, analysed: Analysed, params: DenoiseParams) -> NoiseProfile:
    """The noise profile ``params`` ask for: the automatic one, or that of their noise window (no caching).

    Raises
    ------
    NoiseWindowError
        If the noise window does not fit the recording.
    """
    if params.noise_window is None:
        return analysed.auto_noise
    return noise_profile(rec.y, rec.sr, **params.noise_settings())


def run_cleaning(rec: Recording, analysed: Analysed, params: DenoiseParams, progress: Status | None = None) -> Cleaned:
    """Clean a whole recording with the given settings (no caching).

    Raises
    ------
    NoiseWindowError
        If the noise window does not fit the recording.
    """
    report_progress = progress or (lambda fraction, text: None)
    start = time.perf_counter()
    noise = noise_of(rec, analysed, params)

    def on_block(first: int, stop: int) -> None:
        report_progress(stop / rec.n_samples, "Removing the noise…")

    audio, report = denoise_with_profile(rec.y, noise, params, on_block=on_block)
    audio.setflags(write=False)
    report_progress(1.0, "Done")
    return Cleaned(audio=audio, report=report, seconds=time.perf_counter() - start)


def _analysed_size(analysed: Analysed) -> int:
    return analysed.auto_noise.power.nbytes


def analyse_recording(digest: str, rec: Recording, params: DenoiseParams) -> Analysed:
    """:func:`run_analysis`, once per file content, hum removal and STFT, counted in the server's memory budget.

    Pinned for the current visitor as ``"analysis"`` (the automatic noise profile, a few kB).

    Raises
    ------
    ui.budget.Busy
        If the server has no memory left for it now.
    """
    return budget.get_or_make(
        ("analysis", digest, tuple(_automatic(params).noise_settings().items())),
        "analysis",
        lambda: run_analysis(rec, params),
        estimate=lambda: budget.analysis_bytes(rec.y.nbytes),
        size_of=_analysed_size,
    )


@dataclass(frozen=True)
class Cleaning:
    """Everything a cleaned result is made from (a page keeps this, not the result).

    Attributes
    ----------
    rec : Recording
    analysed : Analysed
        From :func:`analyse_recording` with the same recording and settings.
    params : DenoiseParams
        Every setting, the noise window, hum removal and STFT included.
    """

    rec: Recording
    analysed: Analysed
    params: DenoiseParams

    @property
    def key(self) -> tuple:
        """What the result depends on: the file's content and the settings."""
        return (self.rec.digest, self.params)


def _room_bytes(rec: Recording) -> int:
    """Bytes of the largest first download beyond the float32 audio's size: a video's cleaned copy."""
    if rec.media is None or not rec.media.has_video:
        return 0
    return _file_bytes(rec, media_formats(rec.media)[0], "")


def _cleaned_size(cleaned: Cleaned, rec: Recording) -> int:
    """What a whole-recording result counts: its audio and the room kept for one download of it."""
    return cleaned.audio.nbytes + budget.download_bytes(max(cleaned.audio.nbytes, _room_bytes(rec)))


def encode_file(rec: Recording, audio: np.ndarray, label: str, subtype: str) -> bytes:
    """The bytes of a download of ``audio`` (``rec`` cleaned): ``label`` of :data:`ui.media.DOWNLOAD_FORMATS`
    with ``subtype``, or of :func:`ui.media.media_formats` (written from the upload's bytes, a video's picture copied)."""
    fmt = media_format(rec.media, label) if rec.media is not None else None
    if fmt is not None:
        return encode_media(audio, rec.source, rec.media, sound_alone=fmt.sound_alone)
    return encode_download(audio, rec.sr, label, subtype)


def _file_bytes(rec: Recording, fmt, subtype: str) -> int:
    """Most bytes a download may take: uncompressed sound at its sample size, a media file its estimate and a margin."""
    if fmt is None:
        return rec.y.size * _BYTES_PER_SAMPLE.get(subtype, 4) + (1 << 16)
    if fmt.plan.lossless:  # at most the float32 audio's size, and the picture
        return rec.y.nbytes + (len(rec.source) if fmt.video else 0) + (1 << 20)
    estimate, _ = media_size(fmt, rec.media, rec.n_samples, len(rec.source))
    return int(1.1 * estimate) + (1 << 20)


#: ``result key -> monotonic time`` until which the room kept with that result holds a download.
_DOWNLOAD_ROOM_BUSY_UNTIL: dict = {}
_DOWNLOAD_ROOM_LOCK = threading.Lock()


def _take_download_room(key: tuple, file_bytes: int, room_bytes: int) -> bool:
    """Whether the room kept with result ``key`` (for a file of ``room_bytes``) takes this download (and is then busy for the hold)."""
    now = time.monotonic()
    with _DOWNLOAD_ROOM_LOCK:
        for old in [k for k, until in _DOWNLOAD_ROOM_BUSY_UNTIL.items() if until <= now]:
            del _DOWNLOAD_ROOM_BUSY_UNTIL[old]
        if key in _DOWNLOAD_ROOM_BUSY_UNTIL or file_bytes > budget.download_bytes(room_bytes):
            return False
        _DOWNLOAD_ROOM_BUSY_UNTIL[key] = now + budget.DOWNLOAD_HOLD_S
        return True


#: Bytes per sample of each download encoding (FLAC is smaller than this).
_BYTES_PER_SAMPLE = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


def _result_key(cleaning: Cleaning) -> tuple:
    return ("result", *cleaning.key)


def _cleaning_work(cleaning: Cleaning, sid: str, role: str) -> Callable[[Status], Cleaned]:
    """The runner's work for ``cleaning``: reserve its memory, clean, keep the result pinned for ``sid``."""

    def work(report: Status) -> Cleaned:
        rec = cleaning.rec
        with budget.reserve(budget.result_bytes(rec.y.nbytes, _room_bytes(rec)), sid) as reservation:
            result = run_cleaning(rec, cleaning.analysed, cleaning.params, report)
            log.info("cleaned %.1f s of audio in %.2f s", rec.duration_s, result.seconds)
            return budget.STORE.commit(reservation, _result_key(cleaning), result, _cleaned_size(result, rec), sid, role)

    return work


def clean_recording(cleaning: Cleaning, progress: Status | None = None, role: str = "result") -> Cleaned:
    """The result of ``cleaning``: held for this visitor if made before, else cleaned in :data:`ui.budget.RUNNER`.

    The result is pinned for the current visitor as ``role`` (``"result"``; a
    preview of a stretch would use ``"preview"``), so no other visitor's work
    drops it while the page shows it, and a display-only change finds it again.
    A new cleaning runs beside the others (short recordings in their own lane)
    and the same cleaning asked twice runs once.

    Parameters
    ----------
    cleaning : Cleaning
    progress : callable, optional
        ``progress(fraction, text)``, called in this thread only when the cleaning is not
        held: while it waits (fraction 0 and a text saying for what, updated every
        second) and as it runs.
    role : str
        What the result is for the page.

    Raises
    ------
    NoiseWindowError
        If the cleaning's noise window does not fit the recording (nothing is kept).
    ui.budget.Busy
        If the server has no memory left for the cleaning now.
    """
    sid = budget.session()
    budget.STORE.touch(sid)
    key = _result_key(cleaning)
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

    ticket = budget.RUNNER.submit(key, _cleaning_work(cleaning, sid, role), cleaning.rec.duration_s)
    result = budget.RUNNER.wait(ticket, on_status)
    budget.STORE.get(key, sid, role)  # pinned for this visitor too when another asked first
    return result


def download(cleaning: Cleaning, fmt: str, subtype: str) -> Callable[[], bytes]:
    """A callable for a download button: the file's bytes of ``cleaning``'s result, encoded when clicked
    (:func:`encode_file`: ``fmt`` is a label of :data:`ui.media.DOWNLOAD_FORMATS` or of :func:`ui.media.media_formats`).

    It encodes the result the visitor's page shows (cleaning it again only if
    it was dropped meanwhile), in the room kept with the result; a second
    download within :data:`ui.budget.DOWNLOAD_HOLD_S` (Streamlit still keeps
    the first) is counted in the budget on its own while it is encoded and kept.

    Raises (when called)
    --------------------
    ui.budget.Busy
        If the server has no memory left for the file within
        :data:`ui.budget.DOWNLOAD_WAIT_S` seconds.
    """
    sid = budget.session()
    key = _result_key(cleaning)
    rec = cleaning.rec

    def data() -> bytes:
        cleaned = budget.STORE.peek(key) or budget.RUNNER.wait(
            budget.RUNNER.submit(key, _cleaning_work(cleaning, sid, "result"), rec.duration_s)
        )
        file_bytes = _file_bytes(rec, media_format(rec.media, fmt) if rec.media is not None else None, subtype)
        if _take_download_room(key, file_bytes, max(cleaned.audio.nbytes, _room_bytes(rec))):
            try:
                return encode_file(rec, cleaned.audio, fmt, subtype)
            except BaseException:
                with _DOWNLOAD_ROOM_LOCK:
                    _DOWNLOAD_ROOM_BUSY_UNTIL.pop(key, None)
                raise
        # The encoder's buffer and the bytes returned; on a full server the click waits for room.
        reservation = budget.reserve(2 * file_bytes, sid, wait_s=budget.DOWNLOAD_WAIT_S)
        try:
            encoded = encode_file(rec, cleaned.audio, fmt, subtype)
        except BaseException:
            reservation.release()
            raise
        reservation.shrink(len(encoded))  # what Streamlit keeps
        timer = threading.Timer(budget.DOWNLOAD_HOLD_S, reservation.release)
        timer.daemon = True
        timer.start()
        return encoded

    return data
