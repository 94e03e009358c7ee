"""Widgets: where the audio comes from, the gate's settings, the noise sample and the preview's stretch.

Each function draws its widgets and returns plain values. Every widget has a
key; the gate's sliders are keyed by the engine's parameter names
(``threshold_db``, ...), so tests and the engine speak the same words. The
settings in the sidebar are drawn into a :class:`ui.sidebar.Group`, greyed
when the group does not apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from denoise_core import DenoiseParams, StftConfig
from denoise_core.audio_io import SUPPORTED_EXTENSIONS

from .limits import MAX_DURATION_S, MAX_UPLOAD_MB
from .loading import ACCEPTED, EXAMPLE_PATH, content_digest, describe_duration
from .messages import ENGINE_CREDIT, ENGINE_HELP, ENGINE_LABELS
from .sidebar import Group

__all__ = [
    "AUDIO_TYPES",
    "FFT_SIZES",
    "MANY_FILES",
    "ONE_RECORDING",
    "RECOMMENDED_WINDOW_S",
    "Input",
    "engine_control",
    "fft_control",
    "gate_controls",
    "input_picker",
    "log_freq_control",
    "mode_control",
    "noise_window_controls",
    "pick_noise_window",
    "pick_stretch",
    "reset_button",
    "stretch_control",
    "tidy_window",
]

#: File endings the uploader offers: the engine's one list (soundfile's, then FFmpeg's: phone memos and videos).
AUDIO_TYPES = [extension[1:] for extension in SUPPORTED_EXTENSIONS]
#: FFT sizes offered; 0 stands for automatic (a None option would show as an empty choice).
FFT_SIZES = (0, 256, 512, 1024, 2048, 4096, 8192)
#: The two ways of using the page.
ONE_RECORDING, MANY_FILES = "One recording", "Many files"
#: Sample rate asked of the browser for microphone recordings.
RECORD_SR = 48_000
#: Shortest noise sample that gets no hint, in seconds.
RECOMMENDED_WINDOW_S = 0.5
#: The slider drawn next to the players; the others are in the sidebar.
MAIN_SLIDER = "reduction_db"

_SLIDERS = {
    # name: (label, step, display format)
    "threshold_db": ("Threshold", 0.5, "%.1f dB"),
    "reduction_db": ("Noise reduction", 1.0, "%.0f dB"),
    "freq_smooth_hz": ("Smoothing over frequency", 10.0, "%.0f Hz"),
    "time_smooth_ms": ("Smoothing over time", 5.0, "%.0f ms"),
}
_DIGESTS = "_quiet_digests"
_ACTIVE = "_quiet_active_input"
_WINDOW_FOR = "_quiet_window_for"
_STRETCH_FOR = "_quiet_stretch_for"


@dataclass(frozen=True)
class Input:
    """The file chosen for cleaning.

    Attributes
    ----------
    kind : str
        ``"upload"``, ``"record"`` or ``"example"``.
    name : str
        Name to show and to build the download name from (never a path).
    digest : str
        Content digest, the cache key.
    read_bytes : callable
        Returns the file's bytes or a ``memoryview`` of them (called only when the cache misses).
    """

    kind: str
    name: str
    digest: str
    read_bytes: Callable[[], bytes | memoryview]


def _choose(kind: str) -> None:
    st.session_state[_ACTIVE] = kind


def _digest_of(uploaded) -> str:
    """Content digest of an UploadedFile, computed once per upload."""
    memo = st.session_state.setdefault(_DIGESTS, {})
    if uploaded.file_id not in memo:
        if len(memo) >= 8:
            memo.clear()
        memo[uploaded.file_id] = content_digest(uploaded.getvalue())
    return memo[uploaded.file_id]


def _from_upload(uploaded, kind: str, name: str) -> Input:
    # getvalue: the bytes object Streamlit already holds (an UploadedFile is a BytesIO sharing it), where
    # getbuffer would copy them (58 MB for 10 minutes of 48 kHz 16-bit mono, on every call).
    return Input(kind=kind, name=name, digest=_digest_of(uploaded), read_bytes=uploaded.getvalue)


def _example() -> Input:
    data = EXAMPLE_PATH.read_bytes()
    return Input(kind="example", name=EXAMPLE_PATH.name, digest=content_digest(data), read_bytes=lambda: data)


def mode_control() -> str:
    """One recording (listen, tune, download) or many files (one set of settings, one ZIP). Key ``mode``."""
    return st.radio(
        "What to clean",
        [ONE_RECORDING, MANY_FILES],
        key="mode",
        horizontal=True,
        label_visibility="collapsed",
    )


def input_picker() -> Input | None:
    """Upload, example button and microphone; returns the most recently chosen input.

    Widget keys: ``upload``, ``example``, ``record``.
    """
    left, right = st.columns([3, 1], vertical_alignment="center")
    with left:
        uploaded = st.file_uploader(
            "Upload a recording",
            type=AUDIO_TYPES,
            key="upload",
            on_change=_choose,
            args=("upload",),
            help=(
                f"{ACCEPTED}; any sample rate, mono or more channels. "
                f"Up to {MAX_UPLOAD_MB} MB and {describe_duration(MAX_DURATION_S)} (a video too: about a minute "
                "of a phone's 1080p video). The file stays in memory and is never saved on the server."
            ),
        )
    with right:
        st.button(
            "Try the example",
            key="example",
            on_click=_choose,
            args=("example",),
            icon=":material/play_circle:",
            width="stretch",
            help="Seven seconds of speech in loud, steady fan noise and hum, to hear what Quiet does.",
        )
    recorded = st.audio_input(
        "Or record with your microphone",
        key="record",
        sample_rate=RECORD_SR,
        on_change=_choose,
        args=("record",),
        help="Press the microphone to start and the square to stop. The recording is cleaned right away.",
    )
    inputs = {
        "upload": (lambda: _from_upload(uploaded, "upload", uploaded.name)) if uploaded is not None else None,
        "record": (lambda: _from_upload(recorded, "record", "recording.wav")) if recorded is not None else None,
        "example": _example,
    }
    active = st.session_state.get(_ACTIVE)
    if active in inputs and inputs[active] is not None:
        return inputs[active]()
    for kind in ("upload", "record"):  # e.g. after the active upload was removed
        if inputs[kind] is not None:
            return inputs[kind]()
    return None


def gate_controls(main_box, group: Group) -> DenoiseParams:
    """Sliders for the gate's settings, with the engine's ranges, defaults and help texts.

    "Noise reduction" (the strength) goes in ``main_box``, next to the players;
    the threshold and the smoothing in ``group`` (the sidebar's, greyed if it
    does not apply). Widget keys: ``threshold_db``, ``reduction_db``,
    ``freq_smooth_hz`` and ``time_smooth_ms``.
    """
    defaults = DenoiseParams()
    values = {}
    for name, (label, step, fmt) in _SLIDERS.items():
        low, high = DenoiseParams.RANGES[name]
        # Each widget gets its value one way only: through the session state.
        st.session_state.setdefault(name, float(getattr(defaults, name)))
        with main_box if name == MAIN_SLIDER else group.box:
            values[name] = st.slider(
                label,
                min_value=float(low),
                max_value=float(high),
                step=step,
                format=fmt,
                key=name,
                help=DenoiseParams.HELP[name],
                disabled=name != MAIN_SLIDER and group.disabled,
            )
    return DenoiseParams(**values)


def engine_changed() -> None:
    """After the engine's choice changed: "Noise reduction" to the new engine's own default (the two scales differ)."""
    st.session_state["reduction_db"] = float(DenoiseParams(engine=st.session_state["engine"]).reduction_db)


def engine_control(box) -> str:
    """The engine's choice (key ``engine``) with what each is for, and the voice engine's credit.

    Choosing another engine sets "Noise reduction" to that engine's default.
    """
    st.session_state.setdefault("engine", DenoiseParams().engine)
    with box:
        engine = st.radio(
            "Engine",
            list(ENGINE_LABELS),
            key="engine",
            format_func=ENGINE_LABELS.get,
            help=ENGINE_HELP,
            on_change=engine_changed,
        )
        st.caption(ENGINE_CREDIT)
    return engine


def reset_button(box, on_reset: Callable[[], None]) -> None:
    """ "Recommended settings" (key ``reset``): calls ``on_reset``, which sets every setting back."""
    box.button(
        "Recommended settings",
        key="reset",
        on_click=on_reset,
        icon=":material/restart_alt:",
        help="Sets every setting (and the FFT size) back to the values that suit most speech recordings.",
    )


def _fft_label(n_fft: int, sr: int | None) -> str:
    if not n_fft:
        if sr is None:
            return "Automatic (20 to 40 ms)"
        auto = StftConfig.for_sr(sr).n_fft
        return f"Automatic ({auto} samples, {1000 * auto / sr:.0f} ms)"
    if sr is None:
        return f"{n_fft} samples"
    return f"{n_fft} samples ({1000 * n_fft / sr:.0f} ms)"


def fft_control(group: Group, sr: int | None) -> int | None:
    """FFT size (``None`` for automatic), in ``group``. Widget key: ``n_fft``."""
    st.session_state.setdefault("n_fft", FFT_SIZES[0])
    with group.box:
        choice = st.selectbox(
            "FFT size",
            FFT_SIZES,
            key="n_fft",
            disabled=group.disabled,
            format_func=lambda n: _fft_label(n, sr),
            help=(
                "Length of the slices the sound is cut into for cleaning. Longer slices separate pitches "
                "better (good for steady hum); shorter ones follow fast sounds better (good for speech "
                "onsets). Automatic picks 20 to 40 ms, which suits speech."
            ),
        )
    return choice or None


def tidy_window(start_s: float, end_s: float, duration_s: float, min_s: float) -> tuple[float, float]:
    """A usable noise window from any two numbers: swapped if reversed, kept inside the recording, at least ``min_s`` long.

    Parameters
    ----------
    start_s, end_s : float
        The two ends as typed or dragged, in seconds, in any order.
    duration_s : float
        Length of the recording in seconds.
    min_s : float
        Shortest window the engine accepts (one analysis frame), in seconds.

    Returns
    -------
    (float, float)
        ``0 <= start < end <= duration_s`` with ``end - start >= min(min_s, duration_s)``, rounded to ms
        (the extra length is added after the end, or before the start at the recording's end).
    """
    low, high = sorted(min(max(float(v), 0.0), duration_s) for v in (start_s, end_s))
    min_s = min(min_s, duration_s)
    if high - low < min_s:
        high = min(low + min_s, duration_s)
        low = high - min_s
    # Rounded outwards to whole milliseconds, so the boxes show what is used and it stays long enough.
    low_ms, high_ms = np.floor(low * 1000 + 1e-6) / 1000, np.ceil(high * 1000 - 1e-6) / 1000
    return float(max(low_ms, 0.0)), float(min(high_ms, duration_s))


def _selected_range(chart_key: str) -> tuple[float, float] | None:
    """The time range of the latest box dragged on a chart, or ``None``."""
    event = st.session_state.get(chart_key)
    boxes = (event or {}).get("selection", {}).get("box", [])
    if not boxes or len(boxes[-1].get("x", [])) < 2:
        return None
    x = [float(v) for v in boxes[-1]["x"]]
    return min(x), max(x)


def pick_noise_window(chart_key: str, duration_s: float, min_s: float) -> None:
    """``on_select`` callback of the waveform: the dragged range becomes the noise window (automatic off)."""
    picked = _selected_range(chart_key)
    if picked is None:
        return
    state = st.session_state
    state["noise_auto"] = False
    state["noise_start_s"], state["noise_end_s"] = tidy_window(*picked, duration_s, min_s)


def noise_window_controls(group: Group, digest: str, duration_s: float, auto_window_s: tuple[float, float], min_s: float):
    """Noise sample, in ``group``: automatic, or start and end in seconds (typed, or dragged on the waveform).

    The start and end boxes show the automatically found stretch until the
    user switches automatic off or drags on the waveform; a new file switches
    it back on. The boxes can never hold an unusable window: a reversed one is
    swapped, one outside the recording is clamped, a too short one lengthened
    to one analysis frame (``min_s``).
    Widget keys: ``noise_auto``, ``noise_start_s``, ``noise_end_s``.

    Returns
    -------
    (float, float) or None
        The chosen window, or ``None`` for automatic.
    """
    state = st.session_state
    auto_start, auto_end = round(auto_window_s[0], 3), min(round(auto_window_s[1], 3), duration_s)
    if state.get(_WINDOW_FOR) != digest or "noise_start_s" not in state or "noise_end_s" not in state:
        state[_WINDOW_FOR] = digest
        state["noise_auto"] = True
    state.setdefault("noise_auto", True)
    with group.box:
        auto = st.toggle(
            "Find the noise automatically",
            key="noise_auto",
            disabled=group.disabled,
            help=(
                "Quiet learns what the noise sounds like from a stretch with no speech. Automatic uses the "
                "quietest half second. Switch it off, or drag across a pause on the waveform, to pick it yourself."
            ),
        )
        if auto:
            state["noise_start_s"], state["noise_end_s"] = auto_start, auto_end
        else:
            state["noise_start_s"], state["noise_end_s"] = tidy_window(
                state["noise_start_s"], state["noise_end_s"], duration_s, min_s
            )
        left, right = st.columns(2)
        common = dict(
            min_value=0.0,
            max_value=float(duration_s),
            step=0.05,
            format="%.2f",
            disabled=auto or group.disabled,
        )
        start = left.number_input(
            "Start (s)",
            key="noise_start_s",
            help="Where the noise-only stretch begins, in seconds from the start of the recording.",
            **common,
        )
        end = right.number_input(
            "End (s)",
            key="noise_end_s",
            help=f"Where it ends. Half a second or more of noise alone works best (the recording is {duration_s:.2f} s).",
            **common,
        )
    return None if auto else (float(start), float(end))


def stretch_control(box, digest: str, duration_s: float, length_s: float, default_start_s: float) -> float:
    """Where the previewed stretch starts, in seconds: a slider (also moved by a drag on the overview).

    A new file starts at ``default_start_s``. Widget key: ``stretch_start_s``.
    """
    state = st.session_state
    latest = max(duration_s - length_s, 0.0)
    if state.get(_STRETCH_FOR) != digest or "stretch_start_s" not in state:
        state[_STRETCH_FOR] = digest
        state["stretch_start_s"] = float(round(default_start_s, 1))
    state["stretch_start_s"] = float(min(max(state["stretch_start_s"], 0.0), latest))
    with box:
        return float(
            st.slider(
                "Preview from (s)",
                min_value=0.0,
                max_value=float(latest),
                step=0.1,
                format="%.1f s",
                key="stretch_start_s",
                help=(
                    f"The preview plays {length_s:.0f} s from here, cleaned at once when a setting changes. "
                    "Drag on the strip above to jump there. The whole recording is cleaned for the download."
                ),
            )
        )


def pick_stretch(chart_key: str, duration_s: float, length_s: float) -> None:
    """``on_select`` callback of the overview: preview the dragged range (its middle, if shorter than a stretch)."""
    picked = _selected_range(chart_key)
    if picked is None:
        return
    start, end = picked
    first = start if end - start >= length_s else 0.5 * (start + end) - 0.5 * length_s
    st.session_state["stretch_start_s"] = float(round(min(max(first, 0.0), max(duration_s - length_s, 0.0)), 1))


def log_freq_control() -> bool:
    """Switch between a log (default) and a linear frequency axis. Widget key: ``log_freq``."""
    st.session_state.setdefault("log_freq", True)
    return st.toggle(
        "Log frequency scale",
        key="log_freq",
        help="Gives most of the height to the pitches of the voice (100 Hz to 5 kHz); off shows all frequencies evenly.",
    )
