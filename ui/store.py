"""One memory budget for the whole server: every large object is counted, and whose page shows it.

Nothing here imports Streamlit. A :class:`MemoryStore` holds the app's large
objects (decoded recordings, analyses, cleaned results) under one byte budget
shared by all visitors, and counts *reservations* for work in progress
(a cleaning's output and temporaries, a download being encoded). Each visitor's
session *pins* what its page shows, one object per role (``"recording"``,
``"analysis"``, ``"result"``, ``"preview"``, ...), so:

* another visitor's work never drops what a live page shows;
* when room is needed, objects no page shows go first, then objects shown only
  by idle sessions (no script run for ``idle_s``, or closed), least recently
  used first; objects of active sessions are never dropped;
* when a new piece of work cannot fit even then, :meth:`MemoryStore.reserve`
  raises :class:`ServerBusy` instead of letting the process be killed.

Besides its own count, the store checks the process's real resident memory
(``/proc/self/statm``): Streamlit's copies of uploads and players live outside
the count, and a reservation fits only if the process stays under the budget.
On glibc the allocator is told to give large blocks straight back to the
system (:func:`release_memory`), so dropped results really leave the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MB",
    "MemoryStore",
    "Reservation",
    "ServerBusy",
    "process_rss",
    "release_memory",
]

MB = 1024 * 1024
#: Blocks at least this large are mmapped by glibc and so returned to the system when freed.
_MMAP_THRESHOLD = 1 * MB
_M_MMAP_THRESHOLD = -3


def _libc():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 - glibc only
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()
if _LIBC is not None:
    # glibc raises its mmap threshold (up to 32 MB) each time a large block is freed, after which
    # arrays of a few MB come from the heap and stay in the process after they are dropped.
    # A fixed threshold keeps every large array in its own mapping, given back on free.
    _LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


def release_memory() -> None:
    """Give freed heap memory back to the system (glibc's ``malloc_trim``; nothing elsewhere)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def process_rss() -> int | None:
    """Resident memory of this process in bytes (``None`` where ``/proc`` is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class ServerBusy(RuntimeError):
    """The work asked for does not fit the server's memory budget right now.

    Attributes
    ----------
    needed : int
        Bytes the work needed, beyond what is in use.
    """

    def __init__(self, needed: int) -> None:
        super().__init__(f"{needed / MB:.0f} MB more than the memory budget allows right now")
        self.needed = int(needed)


@dataclass
class _Entry:
    value: Any
    nbytes: int
    used: float
    holders: set[Hashable] = field(default_factory=set)


class Reservation:
    """Bytes counted against the budget for work in progress; give them back with :meth:`release`.

    Use as a context manager, or turn into a stored object with :meth:`MemoryStore.commit`.
    """

    def __init__(self, store: MemoryStore, nbytes: int) -> None:
        self._store = store
        self.nbytes = int(nbytes)
        self.released = False

    def release(self) -> None:
        """Give the bytes back (safe to call more than once)."""
        self._store._release(self)

    def shrink(self, nbytes: int) -> None:
        """Keep only ``nbytes`` of the reservation (e.g. the file made, once its encoder is gone)."""
        self._store._shrink(self, nbytes)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class MemoryStore:
    """Large objects and work in progress of every session, under one byte budget.

    Parameters
    ----------
    capacity : int
        Bytes the counted objects and reservations may take together.
    rss_limit : int, optional
        Most resident memory the process may reach (checked with :func:`process_rss`
        when reserving); ``None`` checks only the count.
    idle_s : float
        Seconds without a script run after which a session counts as idle.
    grace_s : float
        Seconds an object shown by no active session is kept by :meth:`sweep`
        (a reconnecting page or a slider moved back finds it).
    is_live : callable, optional
        ``is_live(session)``: whether a session is still open; a closed one
        loses its pins at the next sweep. By default every session is live.
    clock : callable
        Monotonic time in seconds (tests pass a fake one).
    rss : callable
        Resident memory in bytes, or ``None`` if unknown.
    """

    def __init__(
        self,
        capacity: int,
        *,
        rss_limit: int | None = None,
        idle_s: float = 600.0,
        grace_s: float = 60.0,
        is_live: Callable[[Hashable], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rss: Callable[[], int | None] = process_rss,
    ) -> None:
        self.capacity = int(capacity)
        self.rss_limit = rss_limit
        self.idle_s = float(idle_s)
        self.grace_s = float(grace_s)
        self._is_live = is_live or (lambda session: True)
        self._clock = clock
        self._rss = rss
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()  # least recently used first
        self._pins: dict[Hashable, dict[str, Hashable]] = {}  # session -> role -> key
        self._seen: dict[Hashable, float] = {}  # session -> last activity
        self._reserved = 0
        self._lock = threading.RLock()
        self.dropped = 0  # objects dropped to make room or because nobody needed them

    # What is held -------------------------------------------------------------

    @property
    def used(self) -> int:
        """Bytes counted: stored objects plus reservations."""
        with self._lock:
            return self._reserved + sum(e.nbytes for e in self._entries.values())

    @property
    def reserved(self) -> int:
        """Bytes reserved for work in progress."""
        return self._reserved

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    # Sessions -----------------------------------------------------------------

    def touch(self, session: Hashable) -> None:
        """A session ran its script: it is active."""
        with self._lock:
            self._seen[session] = self._clock()

    def _active(self, session: Hashable, now: float) -> bool:
        return now - self._seen.get(session, -float("inf")) <= self.idle_s and self._is_live(session)

    def end_session(self, session: Hashable) -> None:
        """Forget a session's pins: what only it showed may now be dropped."""
        with self._lock:
            for key in self._pins.pop(session, {}).values():
                self._unhold(key, session)
            self._seen.pop(session, None)

    def sweep(self) -> int:
        """End closed sessions, and drop objects no active session shows, unused for ``grace_s``.

        Returns the number of objects dropped.
        """
        with self._lock:
            for session in [s for s in list(self._pins) if not self._is_live(s)]:
                self.end_session(session)
            now = self._clock()
            stale = [
                k
                for k, e in self._entries.items()
                if now - e.used > self.grace_s and not any(self._active(s, now) for s in e.holders)
            ]
            for key in stale:
                self._drop(key)
        if stale:
            release_memory()
        return len(stale)

    # Objects ------------------------------------------------------------------

    def get(self, key: Hashable, session: Hashable, role: str) -> Any:
        """The stored object for ``key`` (pinned for ``session`` as ``role``), or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._pin(key, session, role)
            return entry.value

    def peek(self, key: Hashable) -> Any:
        """The stored object for ``key`` without pinning it or marking it used, or ``None``."""
        entry = self._entries.get(key)
        return None if entry is None else entry.value

    def put(self, key: Hashable, value: Any, nbytes: int, session: Hashable, role: str) -> Any:
        """Store ``value`` (``nbytes`` large) and pin it for ``session`` as ``role``.

        Stored as is, even over the budget: reserve first (:meth:`reserve` and :meth:`commit`)
        for anything large.
        """
        with self._lock:
            self._entries[key] = _Entry(value, int(nbytes), self._clock(), self._entries.get(key, _Entry(None, 0, 0)).holders)
            self._pin(key, session, role)
            return value

    def commit(self, reservation: Reservation, key: Hashable, value: Any, nbytes: int, session: Hashable, role: str) -> Any:
        """Turn a reservation into a stored object in one step (nothing is counted twice)."""
        with self._lock:
            self._release(reservation)
            return self.put(key, value, nbytes, session, role)

    def unpin(self, session: Hashable, role: str) -> None:
        """``session`` no longer shows anything as ``role``."""
        with self._lock:
            key = self._pins.get(session, {}).pop(role, None)
            if key is not None:
                self._unhold(key, session)

    def pinned(self, session: Hashable, role: str) -> Hashable | None:
        """Key of what ``session`` shows as ``role``, if any."""
        return self._pins.get(session, {}).get(role)

    def _pin(self, key: Hashable, session: Hashable, role: str) -> None:
        roles = self._pins.setdefault(session, {})
        old = roles.get(role)
        roles[role] = key
        if old is not None and old != key:
            self._unhold(old, session)
        entry = self._entries[key]
        entry.holders.add(session)
        entry.used = self._clock()
        self._entries.move_to_end(key)
        self._seen[session] = entry.used

    def _unhold(self, key: Hashable, session: Hashable) -> None:
        entry = self._entries.get(key)
        if entry is not None and key not in self._pins.get(session, {}).values():
            entry.holders.discard(session)

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        for session in entry.holders:
            roles = self._pins.get(session, {})
            for role in [r for r, k in roles.items() if k == key]:
                del roles[role]
        self.dropped += 1

    # Room ---------------------------------------------------------------------

    def _victims(self, now: float) -> Iterable[Hashable]:
        """Keys that may be dropped, in order: shown by nobody, then only by idle sessions; LRU first."""
        nobody = [k for k, e in self._entries.items() if not e.holders]
        idle = [
            k
            for k, e in self._entries.items()
            if e.holders and not any(self._active(s, now) for s in e.holders)
        ]
        return nobody + idle

    def _excess(self, nbytes: int) -> int:
        """Bytes by which ``nbytes`` more would exceed the count or the resident-memory limit (<= 0 if it fits)."""
        excess = self.used + nbytes - self.capacity
        rss = self._rss() if self.rss_limit is not None else None
        return excess if rss is None else max(excess, rss + nbytes - self.rss_limit)

    def _fits(self, nbytes: int) -> bool:
        return self._excess(nbytes) <= 0

    def reserve(self, nbytes: int, session: Hashable | None = None, need: int = 0) -> Reservation:
        """Count ``nbytes`` for work about to start, dropping unused objects first if needed.

        ``need``, if larger, is what must fit now for the work to go on (e.g. a
        recording's decoding, and its analysis and cleaning right after), though
        only ``nbytes`` is counted: a visitor is refused at the start rather than
        halfway, holding memory others then cannot use.

        Raises
        ------
        ServerBusy
            If the work does not fit even with every droppable object gone.
        """
        nbytes = int(nbytes)
        need = max(int(need), nbytes)
        with self._lock:
            if session is not None:
                self._seen[session] = self._clock()
            victims = None
            while not self._fits(need):
                if victims is None:
                    gc.collect()  # what is already unreachable goes before anything is dropped
                    release_memory()
                    victims = list(self._victims(self._clock()))
                    continue
                if not victims:
                    raise ServerBusy(self._excess(need))
                self._drop(victims.pop(0))
                if not victims or self.used + need <= self.capacity:
                    release_memory()  # so the resident-memory check sees what was freed
            self._reserved += nbytes
            return Reservation(self, nbytes)

    def _shrink(self, reservation: Reservation, nbytes: int) -> None:
        with self._lock:
            if not reservation.released:
                keep = min(int(nbytes), reservation.nbytes)
                self._reserved -= reservation.nbytes - keep
                reservation.nbytes = keep

    def _release(self, reservation: Reservation) -> None:
        with self._lock:
            if not reservation.released:
                reservation.released = True
                self._reserved -= reservation.nbytes
