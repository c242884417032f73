"""A work queue with client-go's guarantees, which the reconcilers rely on.

- A key is queued at most once however many events arrive for it (events
  are hints; the reconciler reads the world anyway).
- A key is never reconciled by two workers at once: if it is added while
  being processed, it is queued again after the current pass finishes.
- One due time per key: ``add_after`` keeps the earliest of the times asked
  for, and ``add`` (now) supersedes any later one.  Without this a key that
  asks to be retried in 60 s and also gets four events would be reconciled
  five times instead of once.
- Per-key exponential backoff for failures (``add_rate_limited`` /
  ``forget``), so a key that keeps failing cannot starve the others, and a
  deleted object's count is dropped with ``forget``.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

# Failures back off 2 s, 4 s, 8 s, ... up to five minutes.
BASE_BACKOFF = 2.0
MAX_BACKOFF = 300.0


class WorkQueue(Generic[K]):
    def __init__(
        self,
        *,
        base_backoff: float = BASE_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cond = threading.Condition()
        self._clock = clock
        self._ready: deque[K] = deque()
        self._queued: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        # The one due time of each delayed key; the heap may hold stale
        # entries, recognised because their time is not the key's due time.
        self._due: dict[K, float] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._counter = 0
        self._failures: dict[K, int] = {}
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._closed = False

    # -- adding ----------------------------------------------------------------

    def _make_ready(self, key: K) -> None:
        """Queue ``key`` now (callers hold the lock)."""
        if key in self._processing:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._ready.append(key)
            self._cond.notify()

    def add(self, key: K) -> None:
        with self._cond:
            self._due.pop(key, None)
            self._make_ready(key)

    def add_after(self, key: K, seconds: float) -> None:
        """Queue ``key`` in ``seconds``, unless it is already due earlier."""
        if seconds <= 0:
            self.add(key)
            return
        with self._cond:
            if key in self._queued or key in self._dirty:
                return  # due now already
            when = self._clock() + seconds
            current = self._due.get(key)
            if current is not None and current <= when:
                return
            self._due[key] = when
            self._counter += 1
            heapq.heappush(self._heap, (when, self._counter, key))
            self._cond.notify()

    def add_rate_limited(self, key: K) -> float:
        """Queue ``key`` after its next backoff; returns the delay chosen."""
        with self._cond:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
        delay = min(self._base_backoff * 2.0 ** (failures - 1), self._max_backoff)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """The key succeeded (or its object is gone): its backoff starts over."""
        with self._cond:
            self._failures.pop(key, None)

    def num_requeues(self, key: K) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    def discard(self, key: K) -> None:
        """Drop every trace of a deleted object's key (due times and backoff)."""
        with self._cond:
            self._due.pop(key, None)
            self._failures.pop(key, None)

    # -- taking ----------------------------------------------------------------

    def _promote_due(self) -> float | None:
        """Move due keys to the ready queue; seconds until the next one, if any."""
        now = self._clock()
        while self._heap:
            when, _, key = self._heap[0]
            if self._due.get(key) != when:
                heapq.heappop(self._heap)  # superseded
                continue
            if when > now:
                return when - now
            heapq.heappop(self._heap)
            del self._due[key]
            self._make_ready(key)
        return None

    def get(self, timeout: float | None = None) -> K | None:
        """Next key to process, or None on timeout or close."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while True:
                wait = self._promote_due()
                if self._ready:
                    key = self._ready.popleft()
                    self._queued.discard(key)
                    self._processing.add(key)
                    return key
                if self._closed:
                    return None
                if deadline is not None:
                    remaining = deadline - self._clock()
                    if remaining <= 0:
                        return None
                    wait = remaining if wait is None else min(wait, remaining)
                self._cond.wait(wait)

    def done(self, key: K) -> None:
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                self._make_ready(key)

    def __len__(self) -> int:
        """Keys ready now (delayed ones are not counted)."""
        with self._cond:
            return len(self._ready)

    def delayed(self) -> int:
        with self._cond:
            return len(self._due)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
