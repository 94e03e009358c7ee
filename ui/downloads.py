"""What a cleaned recording can be downloaded as: one choice per button, best first, with its size.

Nothing here imports Streamlit: :func:`download_choices` gives plain values
that :func:`ui.views.downloads` draws as buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .loading import Recording
from .media import (
    DOWNLOAD_FORMATS,
    describe_format,
    describe_size,
    describe_subtype,
    download_labels,
    download_name,
    download_size,
    download_subtype,
    media_formats,
    media_size,
)

__all__ = ["SIZE_SAMPLE_S", "DownloadChoice", "download_choices"]

#: Seconds of cleaned audio encoded to estimate a lossy (MP3, Vorbis, Opus) download's size.
SIZE_SAMPLE_S = 5.0


@dataclass(frozen=True)
class DownloadChoice:
    """One download button: what it writes and what it says.

    Attributes
    ----------
    label : str
        A label of :data:`ui.media.DOWNLOAD_FORMATS` or of :func:`ui.media.media_formats`
        (the button's key is ``download_<label>``, lower case).
    subtype : str
        soundfile's sample encoding (``""`` for a media file).
    file_name, mime : str
    text : str
        The button's text: kind, codec or bit depth, and size.
    help : str
        What the file holds.
    """

    label: str
    subtype: str
    file_name: str
    mime: str
    text: str
    help: str


def _channels(n: int) -> str:
    return {1: "mono", 2: "stereo"}.get(n, f"{n} channels")


def download_choices(rec: Recording, sample: np.ndarray) -> list[DownloadChoice]:
    """The downloads of ``rec``'s result, best first: a phone memo or video in its own kind of file (a video's
    sound alone beside it), else the input's own format; then WAV and FLAC. Sizes from ``sample`` of the result."""
    info, sr, channels = rec.info, rec.sr, rec.n_channels
    where = f"{sr / 1000:g} kHz, {_channels(channels)}"
    choices = []
    if rec.media is not None:
        for fmt in media_formats(rec.media):
            size = media_size(fmt, rec.media, rec.n_samples, len(rec.source), sample, rec.source)
            name = f"{rec.stem}_denoised.{fmt.extension}"
            what = "the video as it was, its sound cleaned" if fmt.video else "the cleaned sound"
            choices.append(DownloadChoice(
                fmt.label, "", name, fmt.mime, f"{fmt.describe()} · {fmt.describe_codec()} · {describe_size(*size)}",
                f"Saves {name}: {what} ({fmt.describe_codec()}, {where}).",
            ))
    # FLAC encodes a preview stretch in tens of ms, so a short recording's size is exact; the lossy
    # codecs take ten times as long, so they are estimated from a few seconds.
    lossy = int(SIZE_SAMPLE_S * sr)
    for label in download_labels(info.format, info.subtype, sr, channels):
        subtype = download_subtype(info.subtype, label)
        size = download_size(sample if label in {"WAV", "AIFF", "FLAC"} else sample[:lossy], rec.n_samples, sr, label, subtype)
        name = download_name(rec.stem, label)
        choices.append(DownloadChoice(
            label, subtype, name, DOWNLOAD_FORMATS[label][2],
            f"{describe_format(DOWNLOAD_FORMATS[label][0], subtype)} · {describe_size(*size)}",
            f"Saves {name}: {where}, {describe_subtype(subtype)}.",
        ))
    return choices
