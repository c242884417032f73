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
