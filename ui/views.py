"""Drawing the results: file summary, numbers, players, downloads, pictures."""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, Optional, Tuple

import streamlit as st

from denoise_core import DenoiseReport

from . import messages
from .controls import log_freq_control
from .loading import Recording, describe_duration
from .media import (
    DOWNLOAD_FORMATS,
    FLAC_MAX_CHANNELS,
    PLAYER_MIME,
    describe_subtype,
    download_name,
    download_subtype,
)
from .plots import spectrogram_figure, waveform_figure
from .processing import Analysed, Cleaned, Job, Progress, download

__all__ = ["PROGRESS_MIN_S", "header", "intro", "problem", "file_summary", "cleaning_progress", "results", "original_only"]

#: Recordings at least this long (in seconds) show a progress bar while they are cleaned; shorter ones a spinner.
PROGRESS_MIN_S = 60.0


def header() -> None:
    """Title and one line on what the app does."""
    st.title("Quiet")
    st.markdown(messages.TAGLINE)


def intro() -> None:
    """What to do when nothing is loaded yet."""
    st.info(messages.INTRO, icon=":material/graphic_eq:")


def problem(exc: Exception) -> None:
    """One plain-words message for a problem with the input or the settings."""
    level = getattr(exc, "level", "error")
    (st.warning if level == "warning" else st.error)(str(exc), icon=":material/error:")


def _channels(n: int) -> str:
    return {1: "mono", 2: "stereo"}.get(n, f"{n} channels")


def file_summary(rec: Recording) -> None:
    """One line on what was loaded, and notes on anything the app changed."""
    info = rec.info
    st.markdown(
        f"**{messages.escape(rec.name)}** · {describe_duration(rec.duration_s)} · "
        f"{info.sr / 1000:g} kHz · {_channels(rec.n_channels)} · {info.format} {describe_subtype(info.subtype)}"
    )
    for note in rec.notes:
        st.info(note, icon=":material/info:")


@contextmanager
def cleaning_progress(duration_s: float) -> Iterator[Progress]:
    """A spinner for short recordings, a progress bar for long ones; a waiting visitor is told for what.

    Yields the callback for :func:`ui.processing.clean_recording`: it is called only when the
    cleaning really runs or waits for the server (not when the result is held), and what it
    shows is removed when done.
    """
    box = st.empty()
    if duration_s < PROGRESS_MIN_S:

        def say(fraction: float, text: str) -> None:
            box.caption(text)  # e.g. "Waiting for the server (3 s): it is cleaning 2 other recordings…"

        with st.spinner("Cleaning…", show_time=True):
            try:
                yield say
            finally:
                box.empty()
        return

    def update(fraction: float, text: str) -> None:
        percent = int(100 * min(max(fraction, 0.0), 1.0))
        box.progress(percent, text=f"{text} {percent} %" if percent else text)  # 0 %: waiting or starting

    try:
        yield update
    finally:
        box.empty()


#: Lowest SNR shown as a number; the engine reports -inf when nothing rises above the noise (shown as "—").
_SNR_FLOOR_DB = -30.0


def _db_text(value: float, floor: float = -math.inf) -> str:
    if not math.isfinite(value):
        return "—"
    return f"below {floor:.0f} dB" if value < floor else f"{value:.1f} dB"


def _seconds_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _metrics(report: DenoiseReport, seconds: float) -> None:
    gain = report.snr_after_db - report.snr_before_db
    shown = math.isfinite(gain) and min(report.snr_before_db, report.snr_after_db) >= _SNR_FLOOR_DB
    cols = st.columns(4)
    cols[0].metric("Speech-to-noise before", _db_text(report.snr_before_db, _SNR_FLOOR_DB), help=messages.SNR_HELP)
    cols[1].metric(
        "Speech-to-noise after",
        _db_text(report.snr_after_db, _SNR_FLOOR_DB),
        delta=f"{gain:+.1f} dB" if shown else None,
        help=messages.SNR_HELP,
    )
    cols[2].metric("Noise removed", _db_text(report.noise_removed_db), help=messages.REMOVED_HELP)
    cols[3].metric("Processing time", _seconds_text(seconds), help=messages.TIME_HELP)


def _players(analysed: Analysed, cleaned: Optional[Cleaned]) -> None:
    cols = st.columns(3)
    with cols[0]:
        st.markdown("**Original**")
        st.audio(analysed.player, format=PLAYER_MIME)
    if cleaned is None:
        return
    with cols[1]:
        st.markdown("**Cleaned**")
        st.audio(cleaned.player, format=PLAYER_MIME)
    with cols[2]:
        st.markdown("**Removed noise**", help=messages.REMOVED_PLAYER_HELP)
        st.audio(cleaned.removed_player, format=PLAYER_MIME)


def _downloads(job: Job) -> None:
    """WAV and FLAC buttons, encoded when clicked from the result this page shows (nothing held before)."""
    rec, sr = job.rec, job.rec.sr
    cols = st.columns(2)
    for col, label in zip(cols, DOWNLOAD_FORMATS):
        subtype = download_subtype(rec.info.subtype, label)
        possible = label != "FLAC" or rec.n_channels <= FLAC_MAX_CHANNELS
        name = download_name(rec.stem, label)
        col.download_button(
            f"Download {label} ({describe_subtype(subtype)})",
            data=download(job, label, subtype),
            file_name=name,
            mime=DOWNLOAD_FORMATS[label][2],
            key=f"download_{label.lower()}",
            on_click="ignore",
            type="primary" if label == "WAV" else "secondary",
            icon=":material/download:",
            disabled=not possible,
            width="stretch",
            help=(
                f"Saves {name}: {sr / 1000:g} kHz, {_channels(rec.n_channels)}, {describe_subtype(subtype)}."
                if possible
                else f"FLAC holds at most {FLAC_MAX_CHANNELS} channels; please use WAV."
            ),
        )


def _window_label(window: Optional[Tuple[float, float]]) -> str:
    return "noise sample (automatic)" if window is None else "noise sample (your choice)"


def results(job: Job, cleaned: Cleaned) -> None:
    """Everything shown once a recording is cleaned."""
    rec, analysed, window = job.rec, job.analysed, job.noise_window
    _metrics(cleaned.report, cleaned.seconds)
    st.subheader("Listen")
    _players(analysed, cleaned)
    _downloads(job)
    st.subheader("Look")
    window_s = cleaned.report.noise_window_s
    label = _window_label(window)
    st.plotly_chart(
        waveform_figure(rec.y, cleaned.audio, rec.sr, noise_window_s=window_s, window_label=label),
        width="stretch",
        key="waveform",
    )
    log_freq = log_freq_control()
    st.plotly_chart(
        spectrogram_figure(analysed.picture, cleaned.picture, noise_window_s=window_s, window_label=label, log_freq=log_freq),
        width="stretch",
        key="spectrogram",
    )
    st.caption(messages.PICTURE_HELP)


def original_only(rec: Recording, analysed: Analysed, window: Optional[Tuple[float, float]]) -> None:
    """The original's player and waveform, shown while the settings cannot be used."""
    st.subheader("Listen")
    _players(analysed, None)
    drawable = window if window is not None and 0 <= window[0] < window[1] else None
    st.plotly_chart(
        waveform_figure(rec.y, None, rec.sr, noise_window_s=drawable, window_label="noise sample (your choice)"),
        width="stretch",
        key="waveform",
    )
