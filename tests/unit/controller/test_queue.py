"""The work queue's guarantees: dedup, one worker per key, delayed re-adds."""

from __future__ import annotations

import threading
import time

from builder.controller.queue import WorkQueue


def test_dedup_while_queued() -> None:
    q: WorkQueue[str] = WorkQueue()
    for _ in range(5):
        q.add("a")
    q.add("b")
    assert len(q) == 2
    assert q.get(timeout=0) == "a"
    assert q.get(timeout=0) == "b"
    assert q.get(timeout=0) is None


def test_key_added_while_processing_is_requeued_after_done() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    assert q.get(timeout=0) == "a"
    q.add("a")  # an event arrives during the reconcile
    assert q.get(timeout=0) is None  # not handed to a second worker
    q.done("a")
    assert q.get(timeout=0) == "a"


def test_add_after_waits() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add_after("late", 0.2)
    began = time.monotonic()
    assert q.get(timeout=0.05) is None
    assert q.get(timeout=2) == "late"
    assert time.monotonic() - began >= 0.2


def test_concurrent_workers_never_share_a_key() -> None:
    q: WorkQueue[int] = WorkQueue()
    active: set[int] = set()
    overlaps: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while (key := q.get(timeout=0.3)) is not None:
            with lock:
                if key in active:
                    overlaps.append(key)
                active.add(key)
            time.sleep(0.001)
            with lock:
                active.discard(key)
            q.done(key)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(400):
        q.add(i % 5)
    for t in threads:
        t.join()
    assert overlaps == []


def test_close_releases_waiters() -> None:
    q: WorkQueue[str] = WorkQueue()
    got: list[str | None] = []
    t = threading.Thread(target=lambda: got.append(q.get()))
    t.start()
    q.close()
    t.join(timeout=2)
    assert got == [None]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _drain(q: WorkQueue[str]) -> list[str]:
    taken = []
    while (key := q.get(timeout=0)) is not None:
        taken.append(key)
        q.done(key)
    return taken


def test_one_due_time_per_key_the_earliest_wins() -> None:
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add_after("a", 60)
    q.add_after("a", 5)
    q.add_after("a", 30)  # later than the one already due: ignored
    assert q.delayed() == 1
    clock.now += 5
    assert _drain(q) == ["a"]
    clock.now += 60
    assert _drain(q) == []  # the 60 s and 30 s asks were folded into the 5 s one


def test_add_now_supersedes_a_delayed_retry() -> None:
    """A key retried in 60 s that gets four events is reconciled once, not five times."""
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add_after("a", 60)
    for _ in range(4):
        q.add("a")
    assert _drain(q) == ["a"]
    clock.now += 61
    assert _drain(q) == []


def test_a_delayed_key_due_while_processing_runs_again_after_done() -> None:
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add("a")
    assert q.get(timeout=0) == "a"
    q.add_after("a", 1)
    clock.now += 2
    assert q.get(timeout=0) is None  # never two workers on one key
    q.done("a")
    assert _drain(q) == ["a"]


def test_failures_back_off_per_key_and_forget_resets() -> None:
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock, base_backoff=2, max_backoff=10)
    assert [q.add_rate_limited("bad") for _ in range(5)] == [2, 4, 8, 10, 10]
    assert q.num_requeues("bad") == 5
    assert q.add_rate_limited("good") == 2  # another key's failures do not count
    q.forget("bad")
    assert q.num_requeues("bad") == 0
    assert q.add_rate_limited("bad") == 2


def test_discard_drops_a_deleted_keys_due_time_and_backoff() -> None:
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add_rate_limited("gone")
    q.discard("gone")
    assert q.delayed() == 0
    assert q.num_requeues("gone") == 0
    clock.now += 1000
    assert _drain(q) == []


def test_many_events_and_retries_for_one_key_run_few_reconciles() -> None:
    """The issue's measurement: one key, requeue-after plus a burst of events."""
    q: WorkQueue[str] = WorkQueue()
    runs = 0
    deadline = time.monotonic() + 0.5
    q.add("k")
    while (key := q.get(timeout=max(0.0, deadline - time.monotonic()))) is not None:
        runs += 1
        for delay in (0.1, 0.2, 0.3, 0.4, 0.5):  # a retry and four later asks
            q.add_after(key, delay)
        q.done(key)
    assert runs <= 6  # one per 0.1 s; without one due time per key the asks multiply
