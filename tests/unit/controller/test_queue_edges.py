"""Edges of the work queue that mutation testing found unguarded (mutmut over queue.py).

Each test names the mistake it catches.  A fake clock drives the delayed
keys; the waits that must really wait use short real timeouts.
"""

from __future__ import annotations

import threading
import time

import pytest

from builder.controller.queue import WorkQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_delay_of_zero_is_now() -> None:
    """``add_after(k, 0)`` is ready at once, and it is ``k`` that is ready."""
    q: WorkQueue[str] = WorkQueue(clock=Clock())
    q.add_after("k", 0)
    assert len(q) == 1 and q.delayed() == 0
    assert q.get(timeout=0) == "k"


def test_a_queued_key_is_not_also_delayed() -> None:
    """A key already queued ignores a later ``add_after``: one reconcile, not a second one later."""
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add("k")
    q.add_after("k", 10)
    assert q.delayed() == 0
    assert q.get(timeout=0) == "k"
    q.done("k")
    clock.now += 11
    assert q.get(timeout=0) is None


def test_keys_due_together_come_in_the_order_asked() -> None:
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    for key in ("c", "a", "b"):
        q.add_after(key, 5)
    clock.now += 5
    assert [q.get(timeout=0) for _ in range(3)] == ["c", "a", "b"]


def test_a_superseded_entry_does_not_hide_the_keys_behind_it() -> None:
    clock = Clock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add_after("c", 0.5)
    q.add_after("a", 1)
    q.add("a")  # due now instead: the heap keeps a stale entry for "a", behind "c"
    q.add_after("b", 2)
    assert q.get(timeout=0) == "a"
    q.done("a")
    clock.now += 3
    # One pass promotes every due key, past the stale entry between them.
    assert q.get(timeout=0) == "c"
    assert len(q) == 1
    assert q.get(timeout=0) == "b"


@pytest.mark.parametrize("key", ["never-seen", "seen"])
def test_discard_of_any_key_is_quiet(key: str) -> None:
    q: WorkQueue[str] = WorkQueue(clock=Clock())
    q.add_after("seen", 5)
    q.add_rate_limited("seen")
    q.discard(key)
    q.discard(key)  # twice: nothing left to drop
    assert q.num_requeues(key) == 0


def test_an_empty_queue_waits_out_its_timeout_quietly() -> None:
    q: WorkQueue[str] = WorkQueue()
    began = time.monotonic()
    assert q.get(timeout=0.1) is None
    assert 0.09 <= time.monotonic() - began < 1.0


def test_a_key_added_during_a_short_wait_is_returned() -> None:
    """A timeout under a second still waits (not "under a second: give up at once")."""
    q: WorkQueue[str] = WorkQueue()
    threading.Timer(0.2, q.add, args=("late",)).start()
    assert q.get(timeout=0.9) == "late"


def test_a_delayed_key_wakes_the_waiter_when_due_not_at_its_timeout() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add_after("soon", 0.1)
    began = time.monotonic()
    assert q.get(timeout=5) == "soon"
    assert time.monotonic() - began < 2.0
    q.add_after("later", 0.1)
    began = time.monotonic()
    got: list[str | None] = []
    waiter = threading.Thread(target=lambda: got.append(q.get()))  # no timeout at all
    waiter.start()
    waiter.join(timeout=3)
    assert got == ["later"]
    assert time.monotonic() - began < 2.0
