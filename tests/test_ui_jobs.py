"""Cleanings side by side: two lanes, one run per job, cancellation, and what a waiting visitor is told."""

from __future__ import annotations

import threading
import time

import pytest

from ui.jobs import LONG, SHORT, Cancelled, JobRunner

TIMEOUT = 10.0


def _blocking(started: threading.Event, release: threading.Event, result="long done"):
    def work(report):
        started.set()
        assert release.wait(TIMEOUT)
        report(0.5, "Removing the noise…")
        return result

    return work


def test_short_jobs_run_in_their_own_lane_while_long_ones_hold_every_worker():
    runner = JobRunner(long_workers=1, short_workers=1, short_max_s=30.0, cores=1)
    assert (runner.lane_for(4.2), runner.lane_for(30.0), runner.lane_for(120.0)) == (SHORT, SHORT, LONG)
    started, release = threading.Event(), threading.Event()
    long_ticket = runner.submit("long", _blocking(started, release), duration_s=600)
    assert started.wait(TIMEOUT)
    start = time.monotonic()
    short_ticket = runner.submit("example", lambda report: "example done", duration_s=4.2)
    assert runner.wait(short_ticket) == "example done"
    assert time.monotonic() - start < 2.0
    assert long_ticket.state == "running"
    release.set()
    assert runner.wait(long_ticket) == "long done"


def test_long_jobs_run_side_by_side_up_to_the_workers_and_a_queued_one_says_what_it_waits_for():
    runner = JobRunner(long_workers=2, short_workers=1, cores=2)
    both = threading.Barrier(2, timeout=TIMEOUT)  # fails unless two run at the same time
    release = threading.Event()

    def together(report):
        both.wait()
        assert release.wait(TIMEOUT)
        return "done"

    first, second = (runner.submit(k, together, duration_s=120) for k in ("a", "b"))
    third = runner.submit("c", lambda report: "third", duration_s=120)
    deadline = time.monotonic() + TIMEOUT
    while not (first.state == second.state == "running") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert third.state == "queued"
    text = runner.describe(third)
    assert text.startswith("Waiting for the server") and "cleaning 2 other recordings" in text
    fourth = runner.submit("d", lambda report: "fourth", duration_s=120)
    assert "1 more is ahead of yours" in runner.describe(fourth)
    release.set()
    assert [runner.wait(t) for t in (first, second, third, fourth)] == ["done", "done", "third", "fourth"]
    assert runner.started == 4


def test_long_jobs_beyond_the_free_cores_pause_while_a_short_job_runs():
    runner = JobRunner(long_workers=2, short_workers=1, cores=2)
    stop = threading.Event()
    blocks = {"a": 0, "b": 0}

    def looping(name):
        def work(report):
            while not stop.is_set():
                blocks[name] += 1
                report(0.5, "Removing the noise…")
                time.sleep(0.002)
            return name

        return work

    long_a = runner.submit("a", looping("a"), duration_s=600)
    long_b = runner.submit("b", looping("b"), duration_s=600)
    deadline = time.monotonic() + TIMEOUT
    while min(blocks.values()) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runner.paused() == 0  # two long jobs on two cores
    in_short = []

    def short_work(report):
        time.sleep(0.1)  # both long jobs reach a block meanwhile
        in_short.append((runner.paused(), dict(blocks)))
        time.sleep(0.2)
        in_short.append((runner.paused(), dict(blocks)))
        return "example"

    assert runner.wait(runner.submit("example", short_work, duration_s=4.2)) == "example"
    (paused_1, seen_1), (paused_2, seen_2) = in_short
    assert paused_1 == paused_2 == 1  # one long job made way, the other kept its core
    assert sorted(seen_2[k] - seen_1[k] > 0 for k in blocks) == [False, True]
    deadline = time.monotonic() + TIMEOUT
    while runner.paused() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runner.paused() == 0  # both go on once it is done
    stop.set()
    assert sorted([runner.wait(long_a), runner.wait(long_b)]) == ["a", "b"]


def test_the_same_job_asked_twice_runs_once():
    runner = JobRunner(long_workers=1, short_workers=1)
    started, release = threading.Event(), threading.Event()
    runs = []

    def work(report):
        runs.append(1)
        return _blocking(started, release, "shared")(report)

    one = runner.submit("same", work, duration_s=120)
    two = runner.submit("same", work, duration_s=120)
    assert one is two and one.waiters == 2
    release.set()
    assert runner.wait(one) == runner.wait(two) == "shared"
    assert len(runs) == 1


def test_a_job_nobody_waits_for_is_cancelled_queued_or_running():
    runner = JobRunner(long_workers=1, short_workers=1)
    started, release = threading.Event(), threading.Event()
    running = runner.submit("running", _blocking(started, release), duration_s=120)
    assert started.wait(TIMEOUT)
    queued_runs = []
    queued = runner.submit("queued", lambda report: queued_runs.append(1), duration_s=120)
    runner.leave(queued)  # the visitor moved a slider before it started
    assert queued.cancelled and queued.done.is_set()
    runner.leave(running)  # and this one left while it ran: it stops at its next block
    release.set()
    assert running.done.wait(TIMEOUT) and running.cancelled
    assert queued_runs == []
    assert runner.wait(runner.submit("next", lambda report: "ok", duration_s=120)) == "ok"


def test_a_waiting_visitor_is_told_and_an_interrupted_wait_cancels_the_job():
    runner = JobRunner(long_workers=1, short_workers=1)
    started, release = threading.Event(), threading.Event()
    blocker = runner.submit("blocker", _blocking(started, release), duration_s=120)
    assert started.wait(TIMEOUT)
    ticket = runner.submit("mine", lambda report: "never", duration_s=120)
    told = []

    class Rerun(Exception):
        pass

    def on_status(t, text):
        told.append(text)
        if len(told) == 3:
            raise Rerun()  # what Streamlit does to a script when the visitor changes a setting

    with pytest.raises(Rerun):
        runner.wait(ticket, on_status, poll_s=0.01)
    assert all(text.startswith("Waiting for the server") for text in told)
    assert ticket.cancelled
    release.set()
    assert runner.wait(blocker) == "long done"


def test_errors_reach_every_waiter():
    runner = JobRunner(long_workers=1, short_workers=1)

    def broken(report):
        raise ValueError("the window does not fit")

    ticket = runner.submit("bad", broken, duration_s=3)
    with pytest.raises(ValueError, match="does not fit"):
        runner.wait(ticket)
    assert not isinstance(ticket.error, Cancelled)
