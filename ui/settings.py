"""Presets, the finishing controls and settings kept in the page's address.

* :func:`preset_control` is the first control: a named starting point
  ("Podcast", "Lecture / room", ...) from the engine's presets; changing any
  setting afterwards shows the preset as modified.
* :func:`finishing_controls` draws loudness, rumble filter, hum and stereo
  (in the sidebar's "Finishing" group).
* :func:`restore_from_url` and :func:`keep_in_url` keep every setting in the
  URL (``st.query_params``), so a copied link opens with the same settings;
  bad or out-of-range values in a link are ignored with a note.

Widget keys are the engine's names (``loudness_lufs``, ``highpass_hz``,
``channels``) plus ``hum`` and ``preset``, and the URL uses the same names.
"""

from __future__ import annotations

from dataclasses import fields, replace

import streamlit as st

from denoise_core import DenoiseError, DenoiseParams

from .sidebar import Group

__all__ = [
    "CUSTOM",
    "HUM_CHOICES",
    "LOUDNESS_CHOICES",
    "apply_preset",
    "finishing_controls",
    "keep_between_recordings",
    "keep_in_url",
    "preset_control",
    "preset_state",
    "reset_all",
    "restore_from_url",
    "url_note",
]

#: The preset box's entry for settings that follow no preset.
CUSTOM = "Custom"
#: Loudness targets offered (label -> LUFS, ``None`` for off).
LOUDNESS_CHOICES: dict[str, float | None] = {
    "Off (keep the level)": None,
    "Podcast (-16 LUFS)": -16.0,
    "Broadcast (-23 LUFS)": -23.0,
    "Streaming (-14 LUFS)": -14.0,
}
#: Hum removal choices (label -> the engine's mode).
HUM_CHOICES: dict[str, str] = {"Automatic": "auto", "50 Hz": "50", "60 Hz": "60", "Off": "off"}
_CHANNELS = {"linked": "Keep the stereo image (one gain)", "independent": "Each channel on its own"}
_URL_DONE = "_quiet_url_read"
_NOTES = "_quiet_url_notes"
#: The engine's settings the page keeps in widgets of the same key and in the URL (the true-peak ceiling
#: stays at its -1 dBTP; the noise window and the STFT have widgets of their own).
_SHOWN = [
    f.name
    for f in fields(DenoiseParams)
    if (f.name in DenoiseParams.RANGES or f.name in DenoiseParams.CHOICES) and f.name != "ceiling_dbtp"
]


def _widget_value(name: str, value):
    """A setting as its widget holds it."""
    if name == "loudness_lufs":
        return next((label for label, lufs in LOUDNESS_CHOICES.items() if lufs == value), None)
    return value


def _set_all(params: DenoiseParams) -> None:
    for name in _SHOWN:
        value = _widget_value(name, getattr(params, name))
        st.session_state[name] = float(value) if isinstance(value, (int, float)) else value


def apply_preset() -> None:
    """Callback of the preset box: set every setting to the chosen preset's (or the defaults for Custom)."""
    label = st.session_state.get("preset", CUSTOM)
    _set_all(DenoiseParams() if label == CUSTOM else DenoiseParams.preset(label))


def reset_all() -> None:
    """Callback of "Recommended settings": every setting and the FFT size back to the defaults."""
    st.session_state["preset"] = CUSTOM
    _set_all(DenoiseParams())
    st.session_state["n_fft"] = 0  # automatic


def preset_control(box) -> str:
    """The preset box (key ``preset``), the page's first setting; returns the chosen label."""
    st.session_state.setdefault("preset", CUSTOM)
    with box:
        return st.selectbox(
            "Preset",
            [CUSTOM, *DenoiseParams.PRESETS],
            key="preset",
            on_change=apply_preset,
            help="A starting point for a kind of recording; every setting can still be changed. "
            "Custom starts from the recommended settings.",
        )


def preset_state(label: str, params: DenoiseParams) -> str:
    """What to say of the preset: ``"Podcast"``, ``"Podcast (modified)"`` or ``"Custom"``."""
    if label == CUSTOM:
        return CUSTOM
    return label if params.is_preset(label) else f"{label} (modified)"


def finishing_controls(group: Group) -> dict[str, object]:
    """Loudness, rumble filter, hum and stereo, in ``group`` (greyed if it does not apply); returns them as the engine's settings."""
    defaults = DenoiseParams()
    state = st.session_state
    state.setdefault("loudness_lufs", _widget_value("loudness_lufs", defaults.loudness_lufs))
    state.setdefault("highpass_hz", defaults.highpass_hz)
    state.setdefault("channels", defaults.channels)
    state.setdefault("hum", defaults.hum)
    disabled = group.disabled
    with group.box:
        loudness = st.selectbox(
            "Loudness",
            list(LOUDNESS_CHOICES),
            key="loudness_lufs",
            disabled=disabled,
            help=DenoiseParams.HELP["loudness_lufs"] + " Applied to the download; the preview keeps the level, "
            "so before and after compare like for like.",
        )
        highpass = st.selectbox(
            "Rumble filter",
            DenoiseParams.CHOICES["highpass_hz"],
            key="highpass_hz",
            disabled=disabled,
            format_func=lambda hz: "Off" if not hz else f"Below {hz:g} Hz",
            help=DenoiseParams.HELP["highpass_hz"],
        )
        hum = st.selectbox(
            "Remove hum",
            list(HUM_CHOICES.values()),
            key="hum",
            disabled=disabled,
            format_func=lambda mode: next(label for label, m in HUM_CHOICES.items() if m == mode),
            help="Mains hum: a steady buzz at 50 or 60 Hz and its overtones. Automatic finds it in the noise "
            "sample and follows its exact pitch; choose the base if you know it, or Off.",
        )
        channels = st.radio(
            "Stereo",
            list(_CHANNELS),
            key="channels",
            disabled=disabled,
            format_func=_CHANNELS.get,
            help=DenoiseParams.HELP["channels"],
        )
    return {
        "loudness_lufs": LOUDNESS_CHOICES[loudness],
        "highpass_hz": float(highpass),
        "channels": channels,
        "hum": hum,
    }


def keep_between_recordings() -> None:
    """Keep the settings chosen through runs that do not draw them; call before any widget is drawn.

    With no recording on the page (the file removed, or the moment a new file
    replaces it) the settings are not drawn, and Streamlit forgets the value
    of a widget that a run does not draw: the next recording came back with
    the recommended settings. A value assigned to itself becomes the
    session's own, which Streamlit keeps.
    """
    state = st.session_state
    for name in (*_SHOWN, "preset", "n_fft"):
        if name in state:
            state[name] = state[name]


def restore_from_url(fft_sizes) -> list[str]:
    """On a session's first run, take the settings from the URL; returns notes on values ignored.

    Each value is checked as the engine checks it; a bad one is left out
    (the setting keeps its default) and named in a note.
    """
    state = st.session_state
    if state.get(_URL_DONE):
        return state.get(_NOTES, [])
    state[_URL_DONE] = True
    notes: list[str] = []
    query = st.query_params
    label = query.get("preset")
    if label is not None:
        if label in DenoiseParams.PRESETS:
            state["preset"] = label
            apply_preset()
        else:
            notes.append(f"preset={label!r} (no such preset)")
    for name in _SHOWN:
        text = query.get(name)
        if text is None:
            continue
        try:
            value = _parse(name, text)
            replace(DenoiseParams(), **{name: value})  # checked as the engine checks it
        except (ValueError, DenoiseError):
            notes.append(f"{name}={text!r}")
            continue
        widget = _widget_value(name, value)
        if widget is None:
            notes.append(f"{name}={text!r} (the page offers {', '.join(_loudness_values())} or off)")
            continue
        state[name] = float(widget) if isinstance(widget, (int, float)) else widget
    if label is None and "engine" in state and "reduction_db" not in query:
        state["reduction_db"] = float(DenoiseParams(engine=state["engine"]).reduction_db)  # that engine's own
    text = query.get("n_fft")
    if text is not None:
        if _int_or_none(text) in fft_sizes:
            state["n_fft"] = _int_or_none(text)
        else:
            notes.append(f"n_fft={text!r}")
    state[_NOTES] = notes
    return notes


def _loudness_values() -> list[str]:
    return [f"{v:g}" for v in LOUDNESS_CHOICES.values() if v is not None]


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _parse(name: str, text: str):
    """A URL value as the engine's type: ``None`` for ``off``, a word for a choice, else a number."""
    if name == "loudness_lufs" and text.lower() in ("off", "none"):
        return None
    allowed = DenoiseParams.CHOICES.get(name)
    if allowed is not None and isinstance(allowed[0], str):
        return text
    return float(text)


def keep_in_url(params: DenoiseParams, preset: str) -> None:
    """Write the settings that differ from the defaults into the URL (and nothing else)."""
    defaults, own = DenoiseParams(), DenoiseParams(engine=params.engine)
    wanted: dict[str, str] = {}
    if preset != CUSTOM:
        wanted["preset"] = preset
    for name in _SHOWN:
        value = getattr(params, name)
        if value != getattr(defaults if name == "engine" else own, name):  # the strength: the engine's own default
            wanted[name] = "off" if value is None else (value if isinstance(value, str) else f"{value:g}")
    if params.n_fft:
        wanted["n_fft"] = str(params.n_fft)
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def url_note(notes: list[str]) -> str | None:
    """Plain words for the values a link held that were ignored."""
    if not notes:
        return None
    return (
        "Some settings in this link could not be used and were left at their recommended values: "
        + ", ".join(notes)
        + "."
    )
