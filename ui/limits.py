"""The server's memory budget, the app's limits that follow from it, and the problem raised for input it cannot clean.

Plain numbers read once from the environment (Streamlit Cloud secrets set it
too), and one exception; nothing else. :mod:`ui.loading` checks files against
these limits and :mod:`ui.budget` counts memory under :data:`MEMORY_BUDGET_MB`;
both import this module, and it imports neither.
"""

from __future__ import annotations

import os

__all__ = [
    "BASE_MB",
    "BYTES_PER_SAMPLE",
    "MAX_DURATION_S",
    "MAX_SAMPLES",
    "MAX_UPLOAD_MB",
    "MEMORY_BUDGET_MB",
    "VIDEO_SOUND_BYTES_PER_SAMPLE",
    "InputProblem",
    "limits",
    "number_from_env",
    "video_fits",
]


def number_from_env(name: str, default: float) -> float:
    """A positive number from the environment (Streamlit Cloud secrets set it too), else ``default``."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


#: Memory budget of the whole server process in MB (``QUIET_MEMORY_MB``); the default fits
#: Streamlit Community Cloud's smallest instance (690 MB). Every visitor's recordings, results
#: and downloads are counted against it (:mod:`ui.budget`), and the limits below follow from it.
MEMORY_BUDGET_MB = number_from_env("QUIET_MEMORY_MB", 690.0)
#: Part of the budget left to Python, Streamlit, the libraries and per-visitor overheads such as
#: each page's previews (an idle server that has shown the page is about 120 MB; the voice engine's
#: network adds 16 MB once it is first used, measured).
BASE_MB = 160.0
#: Most bytes one recording costs per sample (all channels together) at its peak: the upload as
#: Streamlit holds it (up to 4 for float WAV), the decoded audio (4), the cleaned result (4) and a
#: download being encoded (up to 4).
BYTES_PER_SAMPLE = 16


def limits(budget_mb: float, max_minutes: float = 30.0) -> tuple[int, int]:
    """The app's limits for a memory budget: most samples cleaned at once and largest upload in MB.

    One recording may take the budget beyond :data:`BASE_MB` at :data:`BYTES_PER_SAMPLE`,
    counted in whole minutes of 48 kHz mono and at most ``max_minutes``; the upload limit is
    that many samples as 32-bit WAV, at most 200 MB.
    """
    minute = 60 * 48_000
    minutes = min(float(max_minutes), (budget_mb - BASE_MB) * 1024**2 / BYTES_PER_SAMPLE // minute)
    max_samples = int(max(minutes, 1) * minute)
    return max_samples, int(min(200, max_samples * 4 / 1024**2 + 1))


#: Most samples (all channels together) cleaned at once, and the largest upload in MB, for the budget:
#: at most 30 minutes (or ``QUIET_MAX_MINUTES``) of 48 kHz mono, so a stereo or 96 kHz file may be
#: half as long. With the default budget: 12 minutes and 132 MB (``server.maxUploadSize`` in
#: .streamlit/config.toml is the same number).
MAX_SAMPLES, MAX_UPLOAD_MB = limits(MEMORY_BUDGET_MB, number_from_env("QUIET_MAX_MINUTES", 30.0))
#: Longest recording the app cleans, in seconds (48 kHz mono).
MAX_DURATION_S = MAX_SAMPLES / 48_000
#: Bytes a video's sound costs per sample (all channels together) beside the video's own bytes, which
#: are held twice (the upload as Streamlit holds it, and the cleaned copy while it is made and kept for
#: its download): the decoded sound and the cleaned sound (float32).
VIDEO_SOUND_BYTES_PER_SAMPLE = 8


def video_fits(n_bytes: int, n_samples: int, budget_mb: float | None = None) -> bool:
    """Whether a video of ``n_bytes`` whose sound holds ``n_samples`` (all channels) fits one recording's budget.

    A video counts its bytes twice and its sound at :data:`VIDEO_SOUND_BYTES_PER_SAMPLE`, against
    the budget beyond :data:`BASE_MB` (``budget_mb``, :data:`MEMORY_BUDGET_MB` by default). Within the
    upload limit and the duration limit that :func:`limits` gives, every video fits: the upload limit is
    a quarter of that room (held twice: half) and the longest sound a sixteenth (at 8 bytes: half).
    """
    budget_mb = MEMORY_BUDGET_MB if budget_mb is None else budget_mb
    return 2 * n_bytes + VIDEO_SOUND_BYTES_PER_SAMPLE * n_samples <= (budget_mb - BASE_MB) * 1024**2


class InputProblem(ValueError):
    """Input the app cannot clean, with a message in plain words.

    Attributes
    ----------
    level : str
        ``"error"`` for a file that cannot be used, ``"warning"`` for one that
        can be read but has nothing to clean (or, :class:`ui.budget.Busy`, not now).
    """

    def __init__(self, message: str, level: str = "error"):
        super().__init__(message)
        self.level = level
