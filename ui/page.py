"""The page of one recording or of many files: input, settings, preview, downloads and pictures.

:func:`page` draws it (``app.py`` calls it on every run). Every change of a
setting is heard at once on a stretch of the recording (:mod:`ui.preview`);
the whole recording is cleaned for the download (:mod:`ui.processing`).
The preset and "Noise reduction" sit beside the players, the other settings
in the sidebar (:mod:`ui.sidebar`). Every problem ends as one plain message
on the page.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import streamlit as st

from denoise_core import DenoiseError, DenoiseParams, voice_take

from . import batch, controls, loading, messages, preview, processing, settings, sidebar, views

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


def _preview(cleaning: processing.Cleaning, stretch: preview.Stretch) -> preview.Preview:
    """The cleaning's preview of ``stretch``, from the session's store (made now if new)."""
    store = st.session_state.setdefault(_STORE, preview.PreviewStore())
    rec, config = cleaning.rec, cleaning.analysed.config
    noise = store.get(
        ("noise", rec.digest, tuple(cleaning.params.noise_settings().items())),
        lambda: processing.noise_of(rec, cleaning.analysed, cleaning.params),
    )
    original = store.get(("original", rec.digest, config, stretch), lambda: preview.original_of(rec.y, config, stretch))
    # The preview keeps the level (the loudness target is the download's), so before and after compare like for like.
    params = replace(cleaning.params, loudness_lufs=None)
    take = None
    if params.engine == "voice":  # one run of the network serves every strength
        take = store.get(
            ("voice", rec.digest, replace(params, reduction_db=0.0), stretch),
            lambda: voice_take(rec.y, noise, params, start=stretch.start, stop=stretch.stop),
        )
    key = ("preview", rec.digest, params, stretch)
    result = store.get(key, lambda: preview.make_preview(rec.y, noise, params, stretch, original, take))
    st.session_state[_LAST_GOOD] = (rec.digest, key)
    return result


def _last_good(digest: str) -> preview.Preview | None:
    """The latest preview of this recording that worked, if the session still holds it."""
    last = st.session_state.get(_LAST_GOOD)
    store = st.session_state.get(_STORE)
    if last is None or store is None or last[0] != digest:
        return None
    return store.peek(last[1])


def _settings(main_box, side: sidebar.Sidebar) -> tuple[sidebar.Group, DenoiseParams, str]:
    """Preset and strength in ``main_box``, the gate's other sliders and the finishing in the sidebar.

    Returns the gate's group (the FFT size joins it), the engine's settings and the preset.
    """
    preset = settings.preset_control(main_box)
    engine = controls.engine_control(side.engine)
    gate = sidebar.group(side.gate, "Spectral gate", why_not=messages.GATE_NOT_USED if engine == "voice" else None)
    params = replace(controls.gate_controls(main_box, gate), engine=engine)
    params = replace(params, **settings.finishing_controls(sidebar.group(side.finishing, "Finishing")))
    views.preset_caption(main_box, settings.preset_state(preset, params))
    sidebar.where_line(main_box)
    controls.reset_button(side.reset, settings.reset_all)
    return gate, params, preset


def _many_files() -> None:
    """Several uploads cleaned with one set of settings into one ZIP (:mod:`ui.batch`); the settings as for one."""
    side = sidebar.frame()
    _, params, _ = _settings(st.container(), side)
    with _plain_messages("batch"):
        batch.batch_section(params, sidebar.group(side.noise, "Noise sample"))


@contextmanager
def _plain_messages(kind: str) -> Iterator[None]:
    """Every problem ends as one message on the page: plain words for the user, details in the log."""
    try:
        yield
    except (loading.InputProblem, DenoiseError) as exc:
        views.problem(exc)
    except MemoryError:
        st.error(messages.OUT_OF_MEMORY, icon=":material/error:")
    except Exception:
        log.exception("Cleaning failed for %s", kind)
        st.error(messages.UNEXPECTED, icon=":material/error:")


@st.fragment
def results(rec: loading.Recording, kind: str, url_notes: list[str]) -> None:
    """Settings, preview, downloads and pictures of a recording.

    A fragment: a change of a setting reruns only this, not the input picker
    above, whose upload Streamlit would otherwise copy on every run (0.15 s for
    a 106 MB file). That holds for the settings in the sidebar too because the
    fragment draws them, its first act on every full run (see :mod:`ui.sidebar`).
    """
    with _plain_messages(kind):
        side = sidebar.frame()  # first: the fragment's place in the sidebar is reserved on every full run
        lay = views.layout()
        gate, params, preset = _settings(lay.strength, side)
        params = replace(params, n_fft=controls.fft_control(gate, rec.sr))
        settings.keep_in_url(params, preset)
        if settings.url_note(url_notes):
            lay.verdict.info(settings.url_note(url_notes), icon=":material/link:")
        with st.spinner("Learning the noise…", show_time=True):
            analysed = processing.analyse_recording(rec.digest, rec, params)
        config = analysed.config
        min_window_s = min(config.win_length / config.sr, rec.duration_s)
        window = controls.noise_window_controls(
            sidebar.group(side.noise, "Noise sample"),
            rec.digest,
            rec.duration_s,
            analysed.auto_noise.window_s,
            min_window_s,
        )
        stretch = _stretch(lay, rec, window)
        cleaning = processing.Cleaning(rec, analysed, replace(params, noise_window=window))
        try:
            shown = _preview(cleaning, stretch)
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
        views.downloads(lay, cleaning, shown)
        views.look(lay, rec, shown, shown.report.noise_window_s, min_window_s)


def page() -> None:
    """Input, then the recording's summary and :func:`results`; every problem ends as one message on the page."""
    # "auto": the sidebar is open on a wide screen and folded away on a phone.
    st.set_page_config(
        page_title="Quiet: clean speech recordings",
        page_icon=":material/graphic_eq:",
        layout="wide",
        initial_sidebar_state="auto",
    )
    views.header()
    url_notes = settings.restore_from_url(controls.FFT_SIZES)  # before any widget is drawn
    settings.keep_between_recordings()
    if controls.mode_control() == controls.MANY_FILES:
        _many_files()
        return
    picked = controls.input_picker()
    if picked is None:
        views.intro()
        return
    rec = None
    with _plain_messages(picked.kind):
        with st.spinner("Reading the recording…", show_time=True):
            rec = loading.load_recording(picked.digest, picked.name, picked.read_bytes)
        views.file_summary(rec)
    if rec is None:
        return
    if rec.duration_s < preview.MIN_CLEAN_S:
        views.too_short(rec, preview.MIN_CLEAN_S)
        return
    results(rec, picked.kind, url_notes)

