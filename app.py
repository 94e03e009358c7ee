"""Quiet: clean background noise out of speech recordings, in the browser.

Run with ``streamlit run app.py``. The page is drawn by :func:`page`; the
work is done by the small modules of the ``ui`` package and by ``denoise_core``.
"""

import logging

import streamlit as st

from denoise_core import DenoiseError, NoiseWindowError
from ui import controls, loading, messages, processing, views

log = logging.getLogger("quiet")


def page() -> None:
    """Input, settings, cleaning, results; every problem ends as one message on the page."""
    st.set_page_config(page_title="Quiet: clean speech recordings", page_icon=":material/graphic_eq:", layout="wide")
    views.header()
    source = controls.input_picker()
    boxes = controls.sidebar_boxes()
    params = controls.gate_controls(boxes.gate)
    if source is None:
        controls.noise_window_placeholder(boxes.noise)
        controls.fft_control(boxes.advanced, None)
        views.intro()
        return
    try:
        with st.spinner("Reading the recording…", show_time=True):
            rec = loading.load_recording(source.digest, source.name, source.read_bytes)
        views.file_summary(rec)
        n_fft = controls.fft_control(boxes.advanced, rec.sr)
        with st.spinner("Analysing…", show_time=True):
            analysed = processing.analyse_recording(rec.digest, n_fft, rec)
        window = controls.noise_window_controls(boxes.noise, rec.digest, rec.duration_s, analysed.auto_noise.window_s)
        job = processing.Job(rec, n_fft, analysed, params, window)
        try:
            with views.cleaning_progress(rec.duration_s) as progress:
                cleaned = processing.clean_recording(job, progress)
        except NoiseWindowError as exc:
            st.warning(f"{exc} {messages.WINDOW_HINT}", icon=":material/warning:")
            views.original_only(rec, analysed, window)
            return
    except (loading.InputProblem, DenoiseError) as exc:
        views.problem(exc)
        return
    except MemoryError:
        st.error(messages.OUT_OF_MEMORY, icon=":material/error:")
        return
    except Exception:  # noqa: BLE001 - a plain message on the page, the details in the log
        log.exception("Cleaning failed for %s", source.kind)
        st.error(messages.UNEXPECTED, icon=":material/error:")
        return
    views.results(job, cleaned)


page()
