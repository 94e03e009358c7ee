"""How many threads one cleaning may keep busy: the engine's helper threads, BLAS and FFmpeg's decoders.

A cleaning alone on a machine is fastest with a few threads: the classic
engine reads and writes on two helper threads beside the gate
(:class:`denoise_core.stream._Overlap`). When several cleanings share the
machine (``--jobs N``, Dask workers, the app's cleaning lanes), those
threads multiply beyond the cores and cost more than they bring, so the
runner gives each cleaning a budget of one thread: the engine then runs
every step on the calling thread, BLAS runs on one thread, and FFmpeg
decodes on one. ``N`` cleanings then keep ``N`` cores busy.

The voice engine runs BLAS on one thread whatever the budget (its
recurrences are many small products that more threads slow down).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

__all__ = ["one_thread_per_process", "single_threaded", "thread_budget"]

_BUDGET: contextvars.ContextVar[int | None] = contextvars.ContextVar("quiet_thread_budget", default=None)
_process_budget: int | None = None

#: The environment variables that cap the thread pools of BLAS and OpenMP in a process not yet started.
_POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def thread_budget() -> int | None:
    """Threads the current cleaning may keep busy: 1 under :func:`single_threaded` or in a worker, else ``None`` (no limit)."""
    budget = _BUDGET.get()
    return _process_budget if budget is None else budget


@contextmanager
def single_threaded() -> Iterator[None]:
    """Within the block, cleanings on this thread use one thread: no helper threads, BLAS on one.

    For a caller that runs several cleanings side by side on threads of one
    process (each sets it on its own thread). BLAS's limit is process-wide,
    so it holds while any such block is open.
    """
    token = _BUDGET.set(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        _BUDGET.reset(token)


def one_thread_per_process() -> None:
    """Make this whole process clean with one thread: for a worker process of a runner that starts one per core.

    Sets the budget for every thread of the process, limits BLAS and
    OpenMP to one thread, and passes the limit on to any process it starts.
    """
    global _process_budget
    _process_budget = 1
    for name in _POOL_VARIABLES:
        os.environ[name] = "1"
    threadpool_limits(limits=1)
