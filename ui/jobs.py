"""Cleanings run side by side in two lanes, so a short job never waits behind a long one.

Nothing here imports Streamlit. A :class:`JobRunner` runs jobs in worker
threads (the engine releases the GIL in NumPy's FFTs and in libsndfile, so
threads use every core):

* the *short* lane takes jobs of at most ``short_max_s`` seconds of audio
  (the example, a preview of a stretch, a voice memo) and the *long* lane the
  rest; each lane has its own workers, so a short job starts at once even
  while long ones run;
* while short jobs run, long ones make way for them: at their next block,
  long jobs beyond the cores the short ones leave free pause until a short
  job ends, so a short job also gets a core of its own once started (without
  lowering the long jobs' priority against anything else on the machine);
* the same job asked for twice (two tabs, or a rerun of the same page) runs once;
* a job nobody waits for any more (the visitor moved a slider, or left) is
  cancelled, before it starts or at its next block.

The waiting side, :meth:`JobRunner.wait`, runs in the visitor's script thread
and reports what is happening (queued behind how many, or how far) through a
callback, so the page can say what the visitor waits for.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["LONG", "SHORT", "Cancelled", "JobRunner", "Status", "Ticket", "Work"]

SHORT = "short"
LONG = "long"


def host_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota (as on hosted containers)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


class Cancelled(Exception):
    """Raised inside a job whose result nobody waits for any more."""


#: ``progress(fraction, text)``: how far a cleaning is (0 to 1) and what it is doing or waiting for.
Status = Callable[[float, str], None]
#: ``work(report)``: does the job and returns its result; ``report``, a :data:`Status`, says how far
#: it is (and raises :class:`Cancelled` when nobody waits any more).
Work = Callable[[Status], Any]


class Ticket:
    """One job: its lane, state, progress and, once done, its result or error.

    Attributes
    ----------
    key : hashable
        What the job makes (equal keys are one job).
    lane : str
        :data:`SHORT` or :data:`LONG`.
    state : str
        ``"queued"``, ``"running"`` or ``"done"``.
    fraction, text : float, str
        Last progress reported by the job.
    queued_s, started_s, finished_s : float or None
        ``time.monotonic()`` of each step.
    """

    def __init__(self, key: Hashable, lane: str, work: Work) -> None:
        self.key = key
        self.lane = lane
        self.work = work
        self.state = "queued"
        self.fraction = 0.0
        self.text = ""
        self.waiters = 0
        self.queued_s = time.monotonic()
        self.started_s: float | None = None
        self.finished_s: float | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    @property
    def cancelled(self) -> bool:
        """Whether the job ended because nobody waited for it."""
        return isinstance(self.error, Cancelled)


class JobRunner:
    """Worker threads in two lanes; see the module's description.

    Parameters
    ----------
    long_workers, short_workers : int
        Jobs each lane runs at once (by default the host's cores, :func:`host_cores`).
    short_max_s : float
        Longest audio, in seconds, of a job in the short lane.
    cores : int
        Cores the jobs share: long jobs beyond what running short jobs leave pause.
    """

    def __init__(
        self,
        long_workers: int | None = None,
        short_workers: int | None = None,
        short_max_s: float = 30.0,
        cores: int | None = None,
    ):
        self.cores = cores or host_cores()
        self.workers = {LONG: long_workers or self.cores, SHORT: short_workers or self.cores}
        self.short_max_s = float(short_max_s)
        self._queues: dict[str, deque[Ticket]] = {SHORT: deque(), LONG: deque()}
        self._running: dict[str, list[Ticket]] = {SHORT: [], LONG: []}
        self._pending: dict[Hashable, Ticket] = {}
        self._threads: dict[str, list[threading.Thread]] = {SHORT: [], LONG: []}
        self._lock = threading.Lock()
        self._wake = {lane: threading.Condition(self._lock) for lane in (SHORT, LONG)}
        self._job_ended = threading.Condition(self._lock)
        self._paused: set = set()  # long jobs making way for short ones
        self.started = 0  # jobs that began running (a count for tests and the load bench)

    def lane_for(self, duration_s: float) -> str:
        """The lane of a job on ``duration_s`` seconds of audio."""
        return SHORT if duration_s <= self.short_max_s else LONG

    def submit(self, key: Hashable, work: Work, duration_s: float) -> Ticket:
        """Queue ``work`` unless a job with ``key`` is already queued or running; count one waiter.

        Call :meth:`wait` (or :meth:`leave`) once for every submit.
        """
        with self._lock:
            ticket = self._pending.get(key)
            if ticket is None:
                ticket = Ticket(key, self.lane_for(duration_s), work)
                self._pending[key] = ticket
                self._queues[ticket.lane].append(ticket)
                self._start_workers(ticket.lane)
                self._wake[ticket.lane].notify()
            ticket.waiters += 1
            return ticket

    def leave(self, ticket: Ticket) -> None:
        """One waiter gives up: with none left, the job is cancelled (dropped from its queue if not started)."""
        with self._lock:
            ticket.waiters -= 1
            if ticket.waiters <= 0 and ticket.state == "queued":
                self._queues[ticket.lane].remove(ticket)
                self._pending.pop(ticket.key, None)
                self._finish(ticket, None, Cancelled())

    def wait(self, ticket: Ticket, on_status: Callable[[Ticket, str], None] | None = None, poll_s: float = 0.1) -> Any:
        """Wait in the caller's thread for the job; ``on_status(ticket, text)`` is told what happens.

        ``text`` says whether the job waits (and for how many jobs ahead) or runs,
        and changes at least once a second while waiting, so a caller that
        redraws on each call stays responsive. If the caller is interrupted
        (an exception, e.g. Streamlit stopping the script), it stops waiting
        and the job is cancelled unless someone else waits for it.

        Raises
        ------
        Exception
            Whatever the job raised.
        """
        try:
            while not ticket.done.wait(poll_s):
                if on_status is not None:
                    on_status(ticket, self.describe(ticket))
        finally:
            self.leave(ticket)
        if ticket.error is not None:
            raise ticket.error
        return ticket.result

    def describe(self, ticket: Ticket) -> str:
        """Plain words on a job's state: how long it has waited and for what, or what it is doing."""
        with self._lock:
            if ticket.state == "queued":
                ahead = list(self._queues[ticket.lane]).index(ticket) if ticket in self._queues[ticket.lane] else 0
                running = len(self._running[ticket.lane])
                waited = time.monotonic() - ticket.queued_s
                return (
                    f"Waiting for the server ({waited:.0f} s): it is cleaning {running} other "
                    f"recording{'s' if running != 1 else ''}"
                    + (f" and {ahead} more {'is' if ahead == 1 else 'are'} ahead of yours" if ahead else "")
                    + "; yours starts as soon as one is done."
                )
            return ticket.text or "Starting…"

    def _start_workers(self, lane: str) -> None:
        threads = self._threads[lane]
        if len(threads) < self.workers[lane]:
            thread = threading.Thread(target=self._work, args=(lane,), name=f"quiet-{lane}-{len(threads)}", daemon=True)
            threads.append(thread)
            thread.start()

    def paused(self) -> int:
        """How many long jobs are making way for short ones now."""
        return len(self._paused)

    def _make_way(self, ticket: Ticket) -> None:
        """Pause a long job while running short jobs need its core (called between its blocks)."""
        with self._lock:
            while len(self._running[LONG]) - len(self._paused) > self.cores - len(self._running[SHORT]):
                self._paused.add(ticket)
                self._job_ended.wait()
                self._paused.discard(ticket)

    def _work(self, lane: str) -> None:
        while True:
            with self._lock:
                while not self._queues[lane]:
                    self._wake[lane].wait()
                ticket = self._queues[lane].popleft()
                ticket.state = "running"
                ticket.started_s = time.monotonic()
                self._running[lane].append(ticket)
                self.started += 1

            def report(fraction: float, text: str, ticket: Ticket = ticket) -> None:
                ticket.fraction, ticket.text = fraction, text
                if ticket.lane == LONG:
                    self._make_way(ticket)
                if ticket.waiters <= 0:
                    raise Cancelled()

            try:
                result, error = ticket.work(report), None
            except BaseException as exc:
                result, error = None, exc
            with self._lock:
                self._running[lane].remove(ticket)
                self._job_ended.notify_all()  # a paused long job may go on
                if self._pending.get(ticket.key) is ticket:
                    del self._pending[ticket.key]
                self._finish(ticket, result, error)

    @staticmethod
    def _finish(ticket: Ticket, result: Any, error: BaseException | None) -> None:
        ticket.result, ticket.error = result, error
        ticket.state = "done"
        ticket.finished_s = time.monotonic()
        ticket.work = None  # the job's closure may hold a whole recording
        ticket.done.set()
