"""Widgets: where the audio comes from, and the sidebar settings.

Each function draws its widgets and returns plain values. Every widget has a
key; the gate's sliders are keyed by the engine's parameter names
(``threshold_db``, ...), so tests and the engine speak the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple, Union

import streamlit as st

from denoise_core import DenoiseParams, StftConfig

from .loading import EXAMPLE_PATH, MAX_DURATION_S, MAX_UPLOAD_MB, content_digest, describe_duration

__all__ = [
    "AUDIO_TYPES",
    "FFT_SIZES",
    "Source",
    "SidebarBoxes",
    "input_picker",
    "sidebar_boxes",
    "gate_controls",
    "fft_control",
    "noise_window_controls",
    "noise_window_placeholder",
    "log_freq_control",
]

#: File endings the uploader offers (all read by the engine through libsndfile).
AUDIO_TYPES = ["wav", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff"]
#: FFT sizes offered in the advanced section (``None`` is automatic).
#: FFT sizes offered; 0 stands for automatic (a None option would show as an empty choice).
FFT_SIZES = (0, 256, 512, 1024, 2048, 4096, 8192)
#: Sample rate asked of the browser for microphone recordings.
RECORD_SR = 48_000

_SLIDERS = {
    # name: (label, step, display format)
    "threshold_db": ("Threshold", 0.5, "%.1f dB"),
    "reduction_db": ("Noise reduction", 1.0, "%.0f dB"),
    "freq_smooth_hz": ("Smoothing over frequency", 10.0, "%.0f Hz"),
    "time_smooth_ms": ("Smoothing over time", 5.0, "%.0f ms"),
}
_DIGESTS = "_quiet_digests"
_ACTIVE = "_quiet_active_source"
_WINDOW_FOR = "_quiet_window_for"


@dataclass(frozen=True)
class Source:
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
    read_bytes: Callable[[], Union[bytes, memoryview]]


@dataclass(frozen=True)
class SidebarBoxes:
    """Sidebar places, created in display order and filled when their inputs are known."""

    noise: object
    gate: object
    advanced: object


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


def _from_upload(uploaded, kind: str, name: str) -> Source:
    # getvalue: the bytes object Streamlit already holds (an UploadedFile is a BytesIO sharing it), where
    # getbuffer would copy them (58 MB for 10 minutes of 48 kHz 16-bit mono, on every call).
    return Source(kind=kind, name=name, digest=_digest_of(uploaded), read_bytes=uploaded.getvalue)


def _example() -> Source:
    data = EXAMPLE_PATH.read_bytes()
    return Source(kind="example", name=EXAMPLE_PATH.name, digest=content_digest(data), read_bytes=lambda: data)


def input_picker() -> Optional[Source]:
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
                f"WAV, FLAC, OGG or MP3, any sample rate, mono or more channels. "
                f"Up to {MAX_UPLOAD_MB} MB and {describe_duration(MAX_DURATION_S)}. "
                "The file stays in memory and is never saved on the server."
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
            help="A 4-second recording of speech with background noise, to see what Quiet does.",
        )
    recorded = st.audio_input(
        "Or record with your microphone",
        key="record",
        sample_rate=RECORD_SR,
        on_change=_choose,
        args=("record",),
        help="Press the microphone to start and the square to stop. The recording is cleaned right away.",
    )
    sources = {
        "upload": (lambda: _from_upload(uploaded, "upload", uploaded.name)) if uploaded is not None else None,
        "record": (lambda: _from_upload(recorded, "record", "recording.wav")) if recorded is not None else None,
        "example": _example,
    }
    active = st.session_state.get(_ACTIVE)
    if active in sources and sources[active] is not None:
        return sources[active]()
    for kind in ("upload", "record"):  # e.g. after the active upload was removed
        if sources[kind] is not None:
            return sources[kind]()
    return None


def sidebar_boxes() -> SidebarBoxes:
    """Create the sidebar's sections in display order: noise sample, cleaning, advanced."""
    sidebar = st.sidebar
    sidebar.header("Settings")
    noise = sidebar.container()
    gate = sidebar.container()
    advanced = sidebar.expander("Advanced")
    return SidebarBoxes(noise=noise, gate=gate, advanced=advanced)


def _reset_gate() -> None:
    defaults = DenoiseParams()
    for name in _SLIDERS:
        st.session_state[name] = float(getattr(defaults, name))
    st.session_state["n_fft"] = FFT_SIZES[0]


def gate_controls(box) -> DenoiseParams:
    """Sliders for the gate's settings, with the engine's ranges, defaults and help texts.

    Widget keys: ``threshold_db``, ``reduction_db``, ``freq_smooth_hz``,
    ``time_smooth_ms`` and ``reset``.
    """
    defaults = DenoiseParams()
    values = {}
    with box:
        st.subheader("Cleaning")
        for name, (label, step, fmt) in _SLIDERS.items():
            low, high = DenoiseParams.RANGES[name]
            # Each widget gets its value one way only: through the session state.
            st.session_state.setdefault(name, float(getattr(defaults, name)))
            values[name] = st.slider(
                label,
                min_value=float(low),
                max_value=float(high),
                step=step,
                format=fmt,
                key=name,
                help=DenoiseParams.HELP[name],
            )
        st.button(
            "Recommended settings",
            key="reset",
            on_click=_reset_gate,
            icon=":material/restart_alt:",
            help="Sets every slider (and the FFT size) back to the values that suit most speech recordings.",
        )
    return DenoiseParams(**values)


def _fft_label(n_fft: int, sr: Optional[int]) -> str:
    if not n_fft:
        if sr is None:
            return "Automatic (20 to 40 ms)"
        auto = StftConfig.for_sr(sr).n_fft
        return f"Automatic ({auto} samples, {1000 * auto / sr:.0f} ms)"
    if sr is None:
        return f"{n_fft} samples"
    return f"{n_fft} samples ({1000 * n_fft / sr:.0f} ms)"


def fft_control(box, sr: Optional[int]) -> Optional[int]:
    """FFT size (``None`` for automatic). Widget key: ``n_fft``."""
    st.session_state.setdefault("n_fft", FFT_SIZES[0])
    with box:
        choice = st.selectbox(
            "FFT size",
            FFT_SIZES,
            key="n_fft",
            format_func=lambda n: _fft_label(n, sr),
            help=(
                "Length of the slices the sound is cut into for cleaning. Longer slices separate pitches "
                "better (good for steady hum); shorter ones follow fast sounds better (good for speech "
                "onsets). Automatic picks 20 to 40 ms, which suits speech."
            ),
        )
    return choice or None


def noise_window_placeholder(box) -> None:
    """What the noise-sample section says before a recording is loaded."""
    with box:
        st.subheader("Noise sample")
        st.caption("Found automatically once a recording is loaded; you can then choose it yourself.")


def noise_window_controls(box, digest: str, duration_s: float, auto_window_s: Tuple[float, float]):
    """Noise sample: automatic, or start and end in seconds within the recording.

    The start and end boxes show the automatically found stretch until the
    user switches automatic off; a new file switches it back on.
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
    with box:
        st.subheader("Noise sample")
        auto = st.toggle(
            "Find the noise automatically",
            key="noise_auto",
            help=(
                "Quiet learns what the noise sounds like from a stretch with no speech. Automatic uses the "
                "quietest half second. Switch it off to pick the stretch yourself."
            ),
        )
        if auto:
            state["noise_start_s"], state["noise_end_s"] = auto_start, auto_end
        else:
            for key in ("noise_start_s", "noise_end_s"):
                state[key] = min(max(float(state[key]), 0.0), duration_s)
        left, right = st.columns(2)
        start = left.number_input(
            "Start (s)",
            min_value=0.0,
            max_value=float(duration_s),
            step=0.05,
            format="%.2f",
            key="noise_start_s",
            disabled=auto,
            help="Where the noise-only stretch begins, in seconds from the start of the recording.",
        )
        end = right.number_input(
            "End (s)",
            min_value=0.0,
            max_value=float(duration_s),
            step=0.05,
            format="%.2f",
            key="noise_end_s",
            disabled=auto,
            help=f"Where it ends. Half a second or more of noise alone works best (the recording is {duration_s:.2f} s).",
        )
    return None if auto else (float(start), float(end))


def log_freq_control() -> bool:
    """Switch between a linear and a log frequency axis. Widget key: ``log_freq``."""
    return st.toggle(
        "Log frequency scale",
        key="log_freq",
        help="Gives more room to low pitches, where most of the voice is.",
    )
