"""Many files at once: one set of settings, a table of results, one ZIP.

:func:`clean_batch` does the work without Streamlit (so it is tested as a
plain function): each upload is decoded, cleaned and encoded in its own
format, written into the ZIP and dropped before the next one, so at most one
recording and its result are in memory at a time besides the uploads. A file
that cannot be cleaned becomes a row with its reason and does not stop the
others. :func:`batch_section` draws it on the page, its noise sample in the
sidebar with the other shared settings.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import streamlit as st

from denoise_core import (
    DenoiseError,
    DenoiseParams,
    NoiseProfile,
    denoise_with_profile,
    integrated_loudness,
    noise_profile,
)

from . import budget, limits, loading, media
from .controls import AUDIO_TYPES
from .jobs import Status
from .sidebar import Group
from .store import MB

__all__ = ["BatchRow", "NoiseChoice", "batch_section", "clean_batch"]

@dataclass(frozen=True)
class NoiseChoice:
    """One noise sample reused for every file: ``window_s`` of the upload at ``index``."""

    index: int
    window_s: tuple[float, float]


@dataclass(frozen=True)
class BatchRow:
    """What became of one upload.

    Attributes
    ----------
    name : str
        The upload's name.
    output : str or None
        Name of the result in the ZIP (``NAME_denoised.EXT``), ``None`` if it failed.
    duration_s, noise_removed_db, loudness_lufs : float or None
        Length, noise removed (dB) and integrated loudness of the result (LUFS).
    problem : str or None
        Why the file was not cleaned, in plain words.
    """

    name: str
    output: str | None = None
    duration_s: float | None = None
    noise_removed_db: float | None = None
    loudness_lufs: float | None = None
    problem: str | None = None


def _unique(name: str, taken: set) -> str:
    stem, dot, ext = name.rpartition(".")
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{stem} ({k}){dot}{ext}", k + 1
    taken.add(candidate)
    return candidate


def clean_batch(
    uploads: Sequence[tuple[str, bytes]],
    params: DenoiseParams,
    target: BinaryIO,
    *,
    shared_noise: NoiseChoice | None = None,
    progress: Status | None = None,
) -> list[BatchRow]:
    """Clean every upload into a ZIP written to ``target``.

    Parameters
    ----------
    uploads : sequence of (name, bytes)
        The files as uploaded.
    params : DenoiseParams
        One set of settings for all (its noise window is not used: see ``shared_noise``).
    target : binary file
        Receives the ZIP: each result in its own format as ``NAME_denoised.EXT``.
    shared_noise : NoiseChoice, optional
        Reuse one noise sample for every file; by default each file's noise
        is found in it automatically.
    progress : callable, optional
        ``progress(fraction, text)`` after each file.

    Returns
    -------
    list of BatchRow
        One per upload, in order.
    """
    report_progress = progress or (lambda fraction, text: None)
    rows: list[BatchRow] = []
    taken: set = set()
    shared: NoiseProfile | None = None
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        if shared_noise is not None:
            name, data = uploads[shared_noise.index]
            try:
                ref = loading.decode(data, name)
                shared = noise_profile(ref.y, ref.sr, **params.updated(noise_window=shared_noise.window_s).noise_settings())
            except (loading.InputProblem, DenoiseError) as exc:
                problem = f"The noise sample could not be taken from “{name}”: {exc}"
                return [BatchRow(name=n, problem=problem) for n, _ in uploads]
        for i, (name, data) in enumerate(uploads):
            report_progress(i / len(uploads), f"Cleaning {name} ({i + 1} of {len(uploads)})…")
            rows.append(_clean_one(name, data, params, shared, archive, taken))
    report_progress(1.0, "Done")
    return rows


def _clean_one(name, data, params, shared, archive: zipfile.ZipFile, taken: set) -> BatchRow:
    try:
        rec = loading.decode(data, name)
        # The result and its encoded file, besides the decoded input, while this file is cleaned.
        reservation = budget.reserve(2 * rec.y.nbytes + 32 * MB, budget.session())
        if shared is not None and shared.config.sr != rec.sr:
            raise loading.InputProblem(
                f"“{name}” is at {rec.sr / 1000:g} kHz but the noise sample is at {shared.config.sr / 1000:g} kHz; "
                "let Quiet find the noise in each file instead."
            )
        with reservation:
            automatic = params.updated(noise_window=None).noise_settings()
            noise = shared if shared is not None else noise_profile(rec.y, rec.sr, **automatic)
            audio, report = denoise_with_profile(rec.y, noise, params)
            loudness = report.loudness_after_lufs if params.loudness_lufs is not None else integrated_loudness(audio, rec.sr)
            if rec.media is not None:  # a phone memo or video: back into its own kind of file
                fmt = media.media_formats(rec.media)[0]
                data_out = media.encode_media(audio, rec.source, rec.media)
                name_out = f"{rec.stem}_denoised.{fmt.extension}"
            else:
                label = media.download_labels(rec.info.format, rec.info.subtype, rec.sr, rec.n_channels)[0]
                data_out = media.encode_download(audio, rec.sr, label, media.download_subtype(rec.info.subtype, label))
                name_out = media.download_name(rec.stem, label)
            del audio
            output = _unique(name_out, taken)
            archive.writestr(output, data_out)
        return BatchRow(name, output, rec.duration_s, report.noise_removed_db, loudness)
    except (loading.InputProblem, DenoiseError) as exc:
        return BatchRow(name=name, problem=str(exc))
    except MemoryError:
        return BatchRow(name=name, problem="There was not enough memory to clean this file.")


_RESULT = "_quiet_batch"


def _noise_choice(uploads, group: Group) -> NoiseChoice | None:
    """The noise-sample choice, in ``group`` (keys ``batch_noise``, ``batch_noise_file``, ``batch_noise_start_s``, ``batch_noise_end_s``)."""
    with group.box:
        mode = st.radio(
            "Where Quiet learns the noise",
            ["Found in each file", "One sample for all"],
            key="batch_noise",
            disabled=group.disabled,
            help="Quiet finds the quietest stretch of each file, or you give one stretch of one file that holds only "
            "the noise, and it is used for every file (same sample rate).",
        )
        if mode == "Found in each file" or not uploads:
            return None
        names = [name for name, _ in uploads]
        index = st.selectbox(
            "From the file", range(len(names)), format_func=names.__getitem__, key="batch_noise_file", disabled=group.disabled
        )
        left, right = st.columns(2)
        start = left.number_input(
            "Start (s)", min_value=0.0, value=0.0, step=0.1, key="batch_noise_start_s", disabled=group.disabled
        )
        end = right.number_input("End (s)", min_value=0.0, value=0.5, step=0.1, key="batch_noise_end_s", disabled=group.disabled)
    return NoiseChoice(int(index), (min(start, end), max(start, end)))


def _table(rows: list[BatchRow]) -> list[dict]:
    def rounded(value: float | None) -> float | None:
        return None if value is None or value == float("-inf") else round(value, 1)

    return [
        {
            "File": row.name,
            "Result": row.output or "—",
            "Length (s)": rounded(row.duration_s),
            "Noise removed (dB)": rounded(row.noise_removed_db),
            "Loudness (LUFS)": rounded(row.loudness_lufs),
            "Problem": row.problem or "",
        }
        for row in rows
    ]


def batch_section(params: DenoiseParams, noise: Group) -> None:
    """The page's "many files" section: uploads, a button, the table and the ZIP; the noise choice in ``noise``.

    Widget keys: ``batch_files``, ``batch_noise`` (and its stretch), ``batch_run``, ``batch_zip``.
    """
    files = st.file_uploader(
        "Recordings",
        type=AUDIO_TYPES,
        accept_multiple_files=True,
        key="batch_files",
        help=f"Up to {limits.MAX_UPLOAD_MB} MB each. Each result comes back in its own format, in one ZIP.",
    )
    # getvalue: the bytes Streamlit holds, not a copy (and what the media reader takes as it is).
    uploads = [(f.name, f.getvalue()) for f in files or []]
    shared = _noise_choice(uploads, noise)
    signature = (tuple((f.name, f.file_id) for f in files or []), params, shared)
    label = f"Clean {len(uploads)} file{'s' if len(uploads) != 1 else ''}"
    if st.button(label, key="batch_run", type="primary", disabled=not uploads, icon=":material/cleaning_services:"):
        bar = st.progress(0.0, text="Starting…")
        with tempfile.TemporaryFile() as target:  # the ZIP grows on disk, one result at a time
            rows = clean_batch(
                uploads, params, target, shared_noise=shared, progress=lambda f, t: bar.progress(f, text=t)
            )
            target.seek(0)
            archive = target.read() if any(row.output for row in rows) else None
        bar.empty()
        st.session_state[_RESULT] = (signature, rows, archive)
    result = st.session_state.get(_RESULT)
    if result is None or result[0] != signature:
        return
    _, rows, archive = result
    done = sum(row.output is not None for row in rows)
    failed = len(rows) - done
    summary = f"{done} of {len(rows)} file{'s' if len(rows) != 1 else ''} cleaned"
    if failed:
        st.warning(f"{summary}; {failed} could not be (see the table).", icon=":material/warning:")
    else:
        st.success(f"{summary}.", icon=":material/check_circle:")
    st.dataframe(_table(rows), hide_index=True, width="stretch")
    if archive is not None:
        st.download_button(
            f"Download the results (ZIP, {media.describe_size(len(archive))})",
            data=archive,
            file_name="quiet_denoised.zip",
            mime="application/zip",
            key="batch_zip",
            on_click="ignore",
            type="primary",
            icon=":material/download:",
        )
