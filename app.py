"""Quiet: clean background noise out of speech recordings, in the browser.

Run with ``streamlit run app.py``. The page is drawn by :func:`page`; the
work is done by the small modules of the ``ui`` package and by ``denoise_core``.
Every change of a setting is heard at once on a stretch of the recording
(:mod:`ui.preview`); the whole recording is cleaned for the download.
"""

import logging
from contextlib import contextmanager
from dataclasses import astuple
from typing import Iterator, Optional

import streamlit as st

from denoise_core import DenoiseError, noise_profile
from ui import controls, loading, messages, preview, processing, views

log = logging.getLogger("quiet")

_STORE = "_quiet_previews"
_LAST_GOOD = "_quiet_last_good"
_DEFAULT_STRETCH = "_quiet_default_stretch"


def _stretch(lay: views.Layout, rec: loading.Recording, window) -> preview.Stretch:
    """The stretch to preview: the whole of a short recording; else one with speech and noise, or the user's."""
    length = preview.stretch_frames(rec.sr, rec.n_channels, rec.n_samples)
    if length >= rec.n_samples:
        return preview.Stretch(0, rec.n_samples, rec.sr)
    memo = st.session_state.get(_DEFAULT_STRETCH)
    if memo is None or memo[0] != rec.digest:
        memo = (rec.digest, preview.default_stretch(rec.y, rec.sr, length).start_s)
        st.session_state[_DEFAULT_STRETCH] = memo
    length_s = length / rec.sr
    start_s = controls.stretch_control(lay.strength, rec.digest, rec.duration_s, length_s, memo[1])
    stretch = preview.stretch_at(start_s, length, rec.n_samples, rec.sr)
    views.overview(lay, rec, stretch, length_s, window)
    return stretch


def _preview(job: processing.Job, stretch: preview.Stretch) -> preview.Preview:
    """The job's preview of ``stretch``, from the session's store (made now if new)."""
    store = st.session_state.setdefault(_STORE, preview.PreviewStore())
    rec, config = job.rec, job.analysed.config
    if job.noise_window is None:
        noise = job.analysed.auto_noise
    else:
        noise = store.get(
            ("noise", rec.digest, config.n_fft, job.noise_window),
            lambda: noise_profile(rec.y, rec.sr, job.noise_window, n_fft=config.n_fft),
        )
    original = store.get(("original", rec.digest, config.n_fft, stretch), lambda: preview.original_of(rec.y, config, stretch))
    key = ("preview", rec.digest, job.n_fft, astuple(job.params), job.noise_window, stretch)
    result = store.get(key, lambda: preview.make_preview(rec.y, noise, job.params, stretch, original))
    st.session_state[_LAST_GOOD] = (rec.digest, key)
    return result


def _last_good(digest: str) -> Optional[preview.Preview]:
    """The latest preview of this recording that worked, if the session still holds it."""
    last = st.session_state.get(_LAST_GOOD)
    store = st.session_state.get(_STORE)
    if last is None or store is None or last[0] != digest:
        return None
    return store.peek(last[1])


@contextmanager
def _plain_messages(kind: str) -> Iterator[None]:
    """Every problem ends as one message on the page: plain words for the user, details in the log."""
    try:
        yield
    except (loading.InputProblem, DenoiseError) as exc:
        views.problem(exc)
    except MemoryError:
        st.error(messages.OUT_OF_MEMORY, icon=":material/error:")
    except Exception:  # noqa: BLE001 - a plain message on the page, the details in the log
        log.exception("Cleaning failed for %s", kind)
        st.error(messages.UNEXPECTED, icon=":material/error:")


@st.fragment
def results(rec: loading.Recording, kind: str) -> None:
    """Settings, preview, downloads and pictures of a recording.

    A fragment: a change of a setting reruns only this, not the input picker
    above, whose upload Streamlit would otherwise copy on every run (0.15 s for
    a 106 MB file).
    """
    with _plain_messages(kind):
        lay = views.layout()
        params = controls.gate_controls(lay.strength, lay.settings)
        n_fft = controls.fft_control(lay.advanced, rec.sr)
        with st.spinner("Learning the noise…", show_time=True):
            analysed = processing.analyse_recording(rec.digest, n_fft, rec)
        config = analysed.config
        min_window_s = min(config.win_length / config.sr, rec.duration_s)
        window = controls.noise_window_controls(
            lay.noise, rec.digest, rec.duration_s, analysed.auto_noise.window_s, min_window_s
        )
        stretch = _stretch(lay, rec, window)
        job = processing.Job(rec, n_fft, analysed, params, window)
        try:
            shown = _preview(job, stretch)
        except DenoiseError as exc:  # the settings cannot be used: say why, keep the last good result
            shown = _last_good(rec.digest)
            lay.verdict.warning(f"{exc} {messages.WINDOW_HINT}", icon=":material/warning:")
            if shown is None:
                return
            views.players(lay, shown, rec.n_channels)
            views.look(lay, rec, shown, shown.report.noise_window_s, min_window_s)
            return
        whole = shown.stretch.n_samples == rec.n_samples
        views.verdict(lay.verdict, shown, whole, window, preview.window_hint(window, controls.RECOMMENDED_WINDOW_S) or "")
        views.players(lay, shown, rec.n_channels)
        views.downloads(lay, job, shown)
        views.look(lay, rec, shown, shown.report.noise_window_s, min_window_s)


def page() -> None:
    """Input, then the recording's summary and :func:`results`; every problem ends as one message on the page."""
    st.set_page_config(page_title="Quiet: clean speech recordings", page_icon=":material/graphic_eq:", layout="wide")
    views.header()
    source = controls.input_picker()
    if source is None:
        views.intro()
        return
    rec = None
    with _plain_messages(source.kind):
        with st.spinner("Reading the recording…", show_time=True):
            rec = loading.load_recording(source.digest, source.name, source.read_bytes)
        views.file_summary(rec)
    if rec is None:
        return
    if rec.duration_s < preview.MIN_CLEAN_S:
        views.too_short(rec, preview.MIN_CLEAN_S)
        return
    results(rec, source.kind)


page()
