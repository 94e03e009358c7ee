"""The server's one memory budget and job runner, and who the visitor is.

Every visitor's recordings, analyses, results and downloads are counted in
:data:`STORE` (a :class:`ui.store.MemoryStore`) and pinned by the visitor's
session; cleanings run in :data:`RUNNER` (a :class:`ui.jobs.JobRunner`).
Settings, read from the environment (Streamlit Cloud secrets set it too):

* ``QUIET_MEMORY_MB``: memory budget of the whole server process in MB
  (:data:`ui.limits.MEMORY_BUDGET_MB`, which also sets the app's limits);
* ``QUIET_IDLE_MINUTES``: a visitor with no action for this long is idle and
  their results may go to make room for others (default 10).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from .jobs import JobRunner
from .limits import BASE_MB, MEMORY_BUDGET_MB, InputProblem, number_from_env
from .store import MB, MemoryStore, ServerBusy, process_rss

__all__ = [
    "DOWNLOAD_HOLD_S",
    "DOWNLOAD_WAIT_S",
    "IDLE_S",
    "RUNNER",
    "SHORT_JOB_S",
    "STORE",
    "Busy",
    "analysis_bytes",
    "cleaning_bytes",
    "decoding_bytes",
    "download_bytes",
    "get_or_make",
    "reserve",
    "result_bytes",
    "session",
]

T = TypeVar("T")


#: Seconds without an action after which a visitor is idle (``QUIET_IDLE_MINUTES``).
IDLE_S = number_from_env("QUIET_IDLE_MINUTES", 10.0) * 60
#: Jobs on at most this many seconds of audio (the example, previews, voice memos) run in the short lane.
SHORT_JOB_S = 30.0
#: Seconds a prepared download stays counted: Streamlit keeps the file until the page's next two runs.
DOWNLOAD_HOLD_S = 120.0
#: Seconds a clicked download waits for memory when the server is full, before it is refused: the
#: browser shows the download as pending meanwhile, while a refusal can only show the browser's error.
DOWNLOAD_WAIT_S = 30.0
#: Seconds between sweeps that give back memory of closed and idle sessions.
_SWEEP_S = 15.0


def decoding_bytes(audio_bytes: int) -> int:
    """Bytes decoding a recording of ``audio_bytes`` (float32) takes at its peak: blocks read and their concatenation."""
    return 2 * audio_bytes


def analysis_bytes(audio_bytes: int) -> int:
    """Bytes an analysis takes while it is made: the survey's frames (the noise profile itself is a few kB)."""
    return 32 * MB


def cleaning_bytes(audio_bytes: int) -> int:
    """Bytes a cleaning takes while it runs: its output and the engine's temporaries.

    48 MB covers either engine: the gate's blocks, or the voice engine's working set (its chunks,
    resamplers and mixing: 36 MB measured on 30 s of 48 kHz stereo, the output aside).
    """
    return audio_bytes + 48 * MB


def download_bytes(audio_bytes: int) -> int:
    """Bytes kept with a whole-recording result so that it can always be downloaded: one file of it
    at up to 32 bits a sample (the float32 audio's size) while it is encoded and Streamlit keeps it."""
    return audio_bytes + 64 * 1024


def result_bytes(audio_bytes: int, room_bytes: int = 0) -> int:
    """Bytes a whole-recording cleaning reserves: the larger of what it takes while it runs
    (:func:`cleaning_bytes`) and what its result then keeps (the audio and :func:`download_bytes`
    of the larger of the audio and ``room_bytes``: a video's cleaned copy is about its upload's size)."""
    return max(cleaning_bytes(audio_bytes), audio_bytes + download_bytes(max(audio_bytes, room_bytes)))


class Busy(InputProblem):
    """The server has no room for this work now; the message says so in plain words (a warning)."""

    def __init__(self, needed: int) -> None:
        super().__init__(
            "The server is busy with other visitors' recordings and has no memory left for this one "
            f"right now (it needs about {needed / MB:.0f} MB more). Please try again in a minute, "
            "or try a shorter recording.",
            level="warning",
        )
        self.needed = needed


def session() -> str:
    """The current visitor's session id (``"local"`` outside a Streamlit script run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else "local"


def _is_live(session_id: Hashable) -> bool:
    """Whether a session's page is still connected (always true outside a running server)."""
    from streamlit import runtime

    if session_id == "local" or not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(str(session_id))


def _make_store() -> MemoryStore:
    capacity = int((MEMORY_BUDGET_MB - BASE_MB) * MB)
    start = process_rss()
    # The process stays under the budget; where it already held more when the app started
    # (e.g. inside a test run), it may still grow by the capacity.
    return MemoryStore(
        capacity,
        rss_limit=None if start is None else max(int(MEMORY_BUDGET_MB * MB), start + capacity),
        idle_s=IDLE_S,
        is_live=_is_live,
    )


#: Every large object of every visitor, under the budget.
STORE = _make_store()
#: Cleanings, in a short and a long lane.
RUNNER = JobRunner(short_max_s=SHORT_JOB_S)


def _sweep_forever() -> None:
    while True:
        threading.Event().wait(_SWEEP_S)
        STORE.sweep()


_sweeper = threading.Thread(target=_sweep_forever, name="quiet-sweeper", daemon=True)
_sweeper.start()

_KEY_LOCKS = [threading.Lock() for _ in range(32)]


def reserve(nbytes: int, session_id: Hashable | None = None, need: int = 0, wait_s: float = 0.0):
    """:meth:`STORE.reserve <ui.store.MemoryStore.reserve>`, raising :class:`Busy` when it does not fit.

    With ``wait_s``, a reservation that does not fit is tried again every half
    second (other visitors' work ends, their downloads' holds run out) for up to
    that many seconds before :class:`Busy` is raised.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return STORE.reserve(nbytes, session_id, need)
        except ServerBusy as exc:
            if time.monotonic() >= deadline:
                raise Busy(exc.needed) from None
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def get_or_make(
    key: Hashable,
    role: str,
    make: Callable[[], T],
    estimate: Callable[[], int],
    size_of: Callable[[T], int],
    need: Callable[[], int] = lambda: 0,
) -> T:
    """The stored object for ``key``, made now (in this thread, once even if asked twice at once) if absent.

    The object is pinned for the current visitor as ``role``. ``estimate()`` bytes
    are reserved while it is made (and ``need()`` bytes must fit, see
    :meth:`ui.store.MemoryStore.reserve`); ``size_of(value)`` is what it counts afterwards.

    Raises
    ------
    Busy
        If ``estimate()`` does not fit the budget now.
    """
    sid = session()
    STORE.touch(sid)
    value: Any = STORE.get(key, sid, role)
    if value is not None:
        return value
    with _KEY_LOCKS[hash(key) % len(_KEY_LOCKS)]:
        value = STORE.get(key, sid, role)
        if value is not None:
            return value
        with reserve(estimate(), sid, need()) as reservation:
            value = make()
            return STORE.commit(reservation, key, value, size_of(value), sid, role)
