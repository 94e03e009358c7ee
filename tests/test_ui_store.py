"""The server's memory budget: what is counted, what may be dropped and when, and when work is refused."""

from __future__ import annotations

import numpy as np
import pytest

from ui.store import MB, MemoryStore, ServerBusy, process_rss


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def _store(clock, capacity_mb=1000, **kwargs) -> MemoryStore:
    return MemoryStore(capacity_mb * MB, idle_s=600, grace_s=60, clock=clock, **kwargs)


def _put(store, key, mb, session, role="result"):
    with store.reserve(mb * MB, session) as reservation:
        return store.commit(reservation, key, f"value {key}", mb * MB, session, role)


def test_reservations_and_objects_are_counted_once(clock):
    store = _store(clock)
    reservation = store.reserve(300 * MB, "a")
    assert store.used == store.reserved == 300 * MB
    store.commit(reservation, "r1", "x", 250 * MB, "a", "result")
    assert (store.used, store.reserved) == (250 * MB, 0)  # the object as committed, the reservation gone
    reservation.release()  # already turned into the object: nothing given back twice
    assert store.used == 250 * MB
    with store.reserve(100 * MB):
        assert store.used == 350 * MB
    assert store.used == 250 * MB
    with store.reserve(200 * MB) as encoding:  # a download: encoder and file, then the file alone
        encoding.shrink(80 * MB)
        assert store.used == 330 * MB
        encoding.shrink(500 * MB)  # never grows
        assert store.used == 330 * MB
    assert store.used == 250 * MB


def test_another_visitors_work_never_drops_what_an_active_page_shows(clock):
    store = _store(clock)
    _put(store, "a-result", 600, "a")
    clock.now += 300  # a still active (idle after 600 s)
    with pytest.raises(ServerBusy) as busy:
        store.reserve(500 * MB, "b")
    assert busy.value.needed == 100 * MB
    assert store.get("a-result", "a", "result") == "value a-result"
    assert store.dropped == 0


def test_idle_sessions_results_go_first_least_recently_used_first(clock):
    store = _store(clock)
    _put(store, "old", 300, "a")
    clock.now += 10
    _put(store, "newer", 300, "b")
    clock.now += 10
    _put(store, "active", 300, "c")
    clock.now += 650  # a and b are idle now; c acts again
    store.touch("c")
    with store.reserve(350 * MB, "d"):
        assert "old" not in store and "newer" in store and "active" in store
    with store.reserve(650 * MB, "d"):
        assert "newer" not in store and "active" in store
    with pytest.raises(ServerBusy):
        store.reserve(800 * MB, "d")  # only c's result is left, and c is active
    assert "active" in store


def test_what_no_page_shows_goes_before_what_an_idle_page_shows(clock):
    store = _store(clock)
    _put(store, "idle-shown", 300, "a")
    clock.now += 10
    _put(store, "first", 300, "b")
    _put(store, "second", 300, "b")  # b's page now shows "second"; "first" is shown by nobody
    clock.now += 700
    store.touch("b")
    with store.reserve(300 * MB, "c"):
        assert "first" not in store and "idle-shown" in store and "second" in store


def test_a_display_only_rerun_finds_its_result_and_another_session_shares_it(clock):
    store = _store(clock)
    _put(store, "r", 100, "a")
    assert store.get("r", "a", "result") == "value r"
    assert store.get("r", "b", "result") == "value r"  # the same settings on another page: shared
    store.unpin("a", "result")
    assert store.pinned("b", "result") == "r"
    clock.now += 100
    store.touch("b")
    with pytest.raises(ServerBusy):
        store.reserve(1000 * MB, "c")  # b still shows it
    assert "r" in store


def test_closed_and_idle_sessions_give_memory_back_on_sweep(clock):
    live = {"a", "b"}
    store = _store(clock, is_live=lambda s: s in live)
    _put(store, "a-result", 100, "a")
    _put(store, "b-result", 100, "b")
    _put(store, "b-analysis", 10, "b", role="analysis")
    live.discard("a")  # a's tab closed
    assert store.sweep() == 0  # kept for the grace period (a reconnecting page finds it)
    clock.now += 61
    store.touch("b")
    assert store.sweep() == 1
    assert "a-result" not in store and store.used == 110 * MB
    clock.now += 601  # b idle
    assert store.sweep() == 2
    assert store.used == 0 and len(store) == 0


def test_the_processs_real_memory_is_checked_too(clock):
    rss = {"now": 500 * MB}
    store = _store(clock, rss_limit=690 * MB, rss=lambda: rss["now"])
    with store.reserve(150 * MB):
        pass
    with pytest.raises(ServerBusy) as busy:
        store.reserve(200 * MB)  # counted 0 MB of 1000, but the process would reach 700 MB of 690
    assert busy.value.needed == 10 * MB
    rss["now"] = 100 * MB
    with store.reserve(200 * MB):
        pass


def test_dropping_an_object_gives_its_memory_back_to_the_system():
    store = MemoryStore(10_000 * MB, idle_s=0.0, grace_s=0.0, clock=lambda: 0.0)
    before = process_rss()
    if before is None:
        pytest.skip("no /proc")
    with store.reserve(200 * MB, "a") as reservation:
        big = np.ones(50 * MB, dtype=np.float32)  # 200 MB, touched
        store.commit(reservation, "big", big, big.nbytes, "a", "result")
    del big
    assert process_rss() - before > 150 * MB
    store.end_session("a")
    with store.reserve(10_000 * MB):  # needs everything: the unshown object goes
        pass
    assert "big" not in store
    assert process_rss() - before < 50 * MB


def test_work_is_admitted_only_if_what_it_needs_next_fits_but_counts_what_it_holds(clock):
    store = _store(clock, capacity_mb=400)
    _put(store, "other", 150, "a")
    with pytest.raises(ServerBusy) as busy:
        store.reserve(100 * MB, "b", need=300 * MB)  # decoding 100 MB, then cleaning: 300 MB must fit now
    assert busy.value.needed == 50 * MB and store.used == 150 * MB
    with store.reserve(100 * MB, "b", need=250 * MB):
        assert store.used == 250 * MB  # only the decoding is counted
