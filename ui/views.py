"""Drawing the page around a recording: summary, verdict, players, downloads, pictures."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import streamlit as st

from . import messages
from .controls import engine_changed, log_freq_control, pick_noise_window, pick_stretch
from .downloads import SIZE_SAMPLE_S, DownloadChoice, download_choices
from .jobs import Status
from .loading import Recording, describe_duration
from .media import describe_format, describe_media, media_formats, player_mime
from .plots import detail_figure, overview_figure
from .pooling import WAVEFORM_COLUMNS, envelope
from .preview import Preview, Stretch
from .processing import Cleaning, clean_recording, download, encode_file

__all__ = [
    "PROGRESS_MIN_S",
    "SIZE_SAMPLE_S",
    "Layout",
    "cleaning_progress",
    "downloads",
    "file_summary",
    "header",
    "intro",
    "layout",
    "look",
    "overview",
    "players",
    "problem",
    "too_short",
    "verdict",
]

#: Recordings at least this long (in seconds) show a progress bar while they are cleaned; shorter ones a spinner.
PROGRESS_MIN_S = 60.0
_PREPARED = "_quiet_prepared"
_SIZES = "_quiet_sizes"

# Keeps the playhead: the preview players share one position, so a new preview (new audio after
# a setting changes) starts where the last one was, and pressing play on "Cleaned" after
# "Original" continues at the same moment; playing one pauses the other. Our own static script.
_PLAYHEAD_SCRIPT = """
<script>
(() => {
  if (window.__quietPlayhead) return;
  window.__quietPlayhead = true;
  const ours = (e) => e.target instanceof HTMLMediaElement && e.target.closest('.st-key-players');
  const fits = (media) => !(pos >= media.duration);  // also while the duration is unknown
  let pos = 0, resume = null;
  const live = (e) => ours(e) && e.target.readyState > 0;  // a new source resets to 0 before it loads: not the user's position
  document.addEventListener('timeupdate', (e) => { if (live(e) && !e.target.paused) pos = e.target.currentTime; }, true);
  document.addEventListener('seeking', (e) => { if (live(e)) pos = e.target.currentTime; }, true);
  document.addEventListener('play', (e) => {
    if (!ours(e)) return;
    for (const other of document.querySelectorAll('.st-key-players audio')) if (other !== e.target) other.pause();
    if (Math.abs(e.target.currentTime - pos) > 0.25 && fits(e.target)) e.target.currentTime = pos;
    resume = e.target;
  }, true);
  document.addEventListener('pause', (e) => { if (ours(e) && resume === e.target && e.target.readyState > 0) resume = null; }, true);
  document.addEventListener('loadedmetadata', (e) => {
    if (!ours(e)) return;
    // After Streamlit's own listener, which puts a new source at its start time (0).
    const media = e.target, at = pos, play = resume === media;
    setTimeout(() => {
      pos = at;
      if (fits(media)) media.currentTime = at;
      if (play) media.play().catch(() => {});
    }, 0);
  }, true);
})();
</script>
"""


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
    kind = describe_media(rec.media) if rec.media is not None else describe_format(info.format, info.subtype)
    st.markdown(
        f"**{messages.escape(rec.name)}** · {describe_duration(rec.duration_s)} · "
        f"{info.sr / 1000:g} kHz · {_channels(rec.n_channels)} · {kind}"
    )
    for note in rec.notes:
        st.info(note, icon=":material/info:")


@dataclass(frozen=True)
class Layout:
    """Places in the page, created in display order and filled once their contents are known.

    The settings beyond the preset and the strength are in the sidebar (:mod:`ui.sidebar`).

    Attributes
    ----------
    verdict : container
        The one-line result and its folded details.
    stretch : container
        The choice of stretch (the overview strip and its slider), above the players.
    strength, players : containers
        Next to each other: the preset, "Noise reduction" and where the other settings are; the players.
    downloads, look : containers
    """

    verdict: object
    strength: object
    stretch: object
    players: object
    downloads: object
    look: object


def layout() -> Layout:
    """Create the page's places: verdict, then listen (strength beside the players), downloads, pictures."""
    verdict_box = st.container()
    st.subheader("Listen")
    stretch_box = st.container()
    left, right = st.columns([2, 3], gap="large")
    downloads_box = st.container()
    look_box = st.container()
    return Layout(
        verdict=verdict_box,
        strength=left,
        stretch=stretch_box,
        players=right.container(key="players"),
        downloads=downloads_box,
        look=look_box,
    )


def too_short(rec: Recording, minimum_s: float) -> None:
    """A message instead of misleading numbers for a recording too short to clean."""
    st.warning(
        # Rounded down: 0.4999 s must not read "0.50 s ... needs at least 0.5 s".
        messages.TOO_SHORT.format(name=rec.name, seconds=math.floor(rec.duration_s * 100) / 100, minimum=minimum_s),
        icon=":material/timer:",
    )


@contextmanager
def cleaning_progress(duration_s: float, always: bool = False) -> Iterator[Status]:
    """A spinner for short recordings, a progress bar for long ones or when ``always``; a waiting visitor is told for what.

    Yields the callback for :func:`ui.processing.clean_recording`: it is called only when the
    cleaning really runs or waits for the server (not when the result is held), and what it
    shows is removed when done.
    """
    box = st.empty()
    if duration_s < PROGRESS_MIN_S and not always:

        def say(fraction: float, text: str) -> None:
            box.caption(text)  # e.g. "Waiting for the server (3 s): it is cleaning 2 other recordings…"

        with st.spinner("Cleaning…", show_time=True):
            try:
                yield say
            finally:
                box.empty()
        return
    shown = {"bar": None}

    def update(fraction: float, text: str) -> None:
        percent = int(100 * min(max(fraction, 0.0), 1.0))
        if shown["bar"] != (percent, text):  # one message to the browser per percent, not per block
            shown["bar"] = (percent, text)
            box.progress(percent, text=f"{text} {percent} %" if percent else text)  # 0 %: waiting or starting

    try:
        yield update
    finally:
        box.empty()




def _span(stretch: Stretch) -> str:
    return f"{stretch.start_s:.1f} to {stretch.stop_s:.1f} s"


def _use_classic() -> None:
    """Callback of "Use the classic engine": the engine's choice becomes the classic engine, with its own strength."""
    st.session_state["engine"] = "classic"
    engine_changed()


def verdict(box, preview: Preview, whole: bool, window: tuple[float, float] | None, note: str = "") -> None:
    """One line a person can read ("noise about 18 dB quieter"), the engine's numbers folded away."""
    report = preview.report
    removed = report.noise_removed_db
    where = "" if whole else f" in the preview ({_span(preview.stretch)})"
    with box:
        if report.speech_heard is False:
            st.warning(messages.NO_VOICE_HEARD, icon=":material/record_voice_over:")
            st.button("Use the classic engine", key="use_classic", on_click=_use_classic, icon=":material/tune:")
        elif not math.isfinite(removed) or removed < 1.0:
            st.info(f"Quiet found hardly any noise to remove{where}.", icon=":material/check_circle:")
        else:
            st.success(f"**Noise about {removed:.0f} dB quieter**{where}.", icon=":material/check_circle:")
        if note:
            st.warning(note, icon=":material/lightbulb:")
        if report.profile_lowered_db is not None:
            st.warning(messages.SAMPLE_LOWERED.format(db=report.profile_lowered_db), icon=":material/hearing:")
        with st.expander("Details"):
            start, end = report.noise_window_s
            how = "found automatically" if window is None else "chosen by you"
            lines = [f"- Noise reduced by **{removed:.1f} dB** ({messages.VERDICT_HELP})"]
            # The report gives only what it could measure; nothing is shown for what it could not.
            if report.snr_before_db is not None and report.snr_after_db is not None:
                lines.append(
                    f"- Estimated speech-to-noise ratio: **{report.snr_before_db:.1f} dB** before, "
                    f"**{report.snr_after_db:.1f} dB** after. {messages.SNR_HELP}"
                )
            lines.append(f"- Noise sample: {start:.2f} to {end:.2f} s, {how}.")
            lines.append(f"- Preview cleaned and prepared in {preview.seconds:.2f} s.")
            st.markdown("\n".join(lines))


def players(lay: Layout, preview: Preview, n_channels: int) -> None:
    """Original, cleaned and removed noise of the same stretch, at their true levels (playhead kept)."""
    mime = player_mime(n_channels)
    with lay.players:
        for label, data, help_text in (
            ("Original", preview.before, None),
            ("Cleaned", preview.after, None),
            ("Removed noise", preview.removed, messages.REMOVED_PLAYER_HELP),
        ):
            st.markdown(f"**{label}**", help=help_text)
            st.audio(data, format=mime)
        st.html(_PLAYHEAD_SCRIPT, unsafe_allow_javascript=True)


@st.cache_resource(max_entries=4, ttl=3600, show_spinner=False)
def _whole_envelope(digest: str, _rec: Recording):
    """The overview's envelope, once per recording (it reads every sample: 0.3 s a minute of stereo)."""
    return envelope(_rec.y, _rec.sr, WAVEFORM_COLUMNS // 2)


def overview(lay: Layout, rec: Recording, stretch: Stretch, length_s: float, window_s: tuple[float, float] | None) -> None:
    """The whole recording as a strip with the previewed stretch shaded; dragging on it picks the stretch."""
    with lay.stretch:
        st.plotly_chart(
            overview_figure(
                _whole_envelope(rec.digest, rec), rec.duration_s, (stretch.start_s, stretch.stop_s), noise_window_s=window_s
            ),
            width="stretch",
            key="overview",
            on_select=partial(pick_stretch, "overview", rec.duration_s, length_s),
            selection_mode="box",
            config={"displayModeBar": False},
        )


def _memo_choices(key: tuple, rec: Recording, sample: np.ndarray) -> list[DownloadChoice]:
    """:func:`ui.downloads.download_choices`, computed once per result (kept in the session)."""
    memo = st.session_state.setdefault(_SIZES, {})
    if key not in memo:
        if len(memo) >= 16:
            memo.clear()
        memo[key] = download_choices(rec, sample)
    return memo[key]


def _prepare(key: tuple) -> None:
    prepared = st.session_state.setdefault(_PREPARED, [])
    prepared.append(key)
    del prepared[:-8]


def _download_buttons(
    rec: Recording, key: tuple, data_for: Callable[[str, str], Callable[[], bytes]], sample: np.ndarray
) -> None:
    """One button per format; ``data_for(label, subtype)`` gives the callable that encodes the file when clicked."""
    choices = _memo_choices(key, rec, sample)
    if rec.media is not None:
        for note in dict.fromkeys(fmt.plan.note for fmt in media_formats(rec.media) if fmt.plan.note):
            st.caption(note)
    cols = st.columns(len(choices))
    for i, (col, choice) in enumerate(zip(cols, choices, strict=False)):
        col.download_button(
            choice.text,
            data=data_for(choice.label, choice.subtype),
            file_name=choice.file_name,
            mime=choice.mime,
            key=f"download_{choice.label.lower()}",
            on_click="ignore",
            type="primary" if i == 0 else "secondary",
            icon=":material/download:",
            width="stretch",
            help=choice.help,
        )


def downloads(lay: Layout, cleaning: Cleaning, preview: Preview) -> None:
    """The cleaned recording in the input's own format (first), WAV and FLAC, each with its size.

    A phone memo or a video comes first in its own kind of file (a video with
    its picture copied, then its sound alone as M4A), with the codec and bit
    rate on the button, and a line saying why where the format had to change.

    A recording previewed whole is its own result: the buttons appear at once
    and encode the preview's audio (with a loudness target it is cleaned whole
    at once, since the preview keeps the level). A longer one is cleaned whole
    only when the user asks ("Prepare the download"), with a progress bar,
    once per set of settings; the buttons keep the cleaning, not the result, so a
    result dropped meanwhile is cleaned again.
    """
    rec = cleaning.rec
    whole = preview.stretch.n_samples == rec.n_samples
    with lay.downloads:
        st.subheader("Download")
        if whole and cleaning.params.loudness_lufs is None:
            audio = preview.audio
            _download_buttons(rec, cleaning.key, lambda label, subtype: partial(encode_file, rec, audio, label, subtype), audio)
            return
        if not whole and cleaning.key not in st.session_state.get(_PREPARED, []):
            st.button(
                f"Prepare the download (cleans all {describe_duration(rec.duration_s)})",
                key="prepare",
                on_click=_prepare,
                args=(cleaning.key,),
                type="primary",
                icon=":material/cleaning_services:",
                help=messages.PREPARE_HELP,
            )
            return
        with cleaning_progress(rec.duration_s, always=not whole) as progress:
            cleaned = clean_recording(cleaning, progress)
        st.caption(f"The whole recording was cleaned in {cleaned.seconds:.1f} s with these settings.")
        report = cleaned.report
        if report.loudness_after_lufs is not None:
            st.caption(
                f"Loudness {_lufs_text(report.loudness_before_lufs)} before, {_lufs_text(report.loudness_after_lufs)} "
                f"after (true peak {report.true_peak_dbtp:.1f} dBTP)."
            )
        stretch = preview.stretch
        _download_buttons(rec, cleaning.key, partial(download, cleaning), cleaned.audio[stretch.start : stretch.stop])


def _lufs_text(value: float) -> str:
    return "silent" if not math.isfinite(value) else f"{value:.1f} LUFS"


def preset_caption(box, state: str) -> None:
    """Which preset the settings follow, e.g. "Preset: Podcast (modified)"."""
    box.caption(f"Preset: {state}")


def look(lay: Layout, rec: Recording, preview: Preview, window_s: tuple[float, float] | None, min_window_s: float) -> None:
    """Waveform and spectrograms of the previewed stretch on one time axis; a drag picks the noise sample."""
    stretch = preview.stretch
    with lay.look:
        st.subheader("Look")
        log_freq = log_freq_control()
        st.plotly_chart(
            detail_figure(
                rec.y[stretch.start : stretch.stop],
                preview.audio,
                rec.sr,
                preview.before_picture,
                preview.after_picture,
                t0_s=stretch.start_s,
                noise_window_s=window_s,
                window_label="noise sample",
                log_freq=log_freq,
            ),
            width="stretch",
            key="waveform",
            on_select=partial(pick_noise_window, "waveform", rec.duration_s, min_window_s),
            selection_mode="box",
        )
        st.caption(messages.PICTURE_HELP)
