"""``update_with_retry``: read, mutate, write, and again on Conflict, a bounded number of times.

Every write of kbuild that changes an object someone else may change too
(the controller, another replica, a user's ``kubectl edit``) carries the
resourceVersion it read; the API server refuses it with 409 Conflict when
the object moved on.  The answer is always the same: read the object again
and re-apply the same change to the fresh copy, so nobody's write is lost.
client-go has ``retry.RetryOnConflict`` for it; this is kbuild's one copy,
instead of a hand-written loop per caller (there were eleven, with three
different limits and two that retried without reading again).

The mutation is a function of the object read: it may read other objects
(an image stream's current tag) but writes nothing itself, because it runs
again on every attempt.  It returns what to write, or None for "nothing to
do" (the change is already there, the object is in a state that refuses it).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from builder.kube.errors import Conflict, KubeError

T = TypeVar("T")  # what is read
W = TypeVar("W")  # what the mutation hands to the write
R = TypeVar("R")  # what the write returns

MAX_ATTEMPTS = 10
"""Attempts before giving up: a Conflict ten times in a row means a writer that never stops."""

RETRY_DELAY_SECONDS = 0.01
"""Pause before each retry (client-go's DefaultRetry: 10 ms, with 10% jitter)."""


class TooManyConflicts(Conflict):
    """The object kept changing between read and write for every attempt.

    A Conflict still: the controller's manager requeues the key as for any
    Conflict; the CLI says "try again"; instantiate ends in a typed reason.
    """

    def __init__(self, what: str, attempts: int) -> None:
        super().__init__(409, f"{what} kept changing: gave up after {attempts} attempts")
        self.what = what
        self.attempts = attempts


@dataclass(frozen=True)
class Updated(Generic[T, R]):
    """How an update ended: the object the mutation saw last, and what was written."""

    seen: T
    """The last object read, as the mutation left it."""
    written: R | None
    """What the write returned; None when the mutation asked for no write."""
    attempts: int


def _jittered(delay: float) -> float:
    return delay * (1 + 0.1 * random.random())  # noqa: S311 - spreading retries, not secrets


def update_with_retry(
    read: Callable[[], T],
    mutate: Callable[[T], W | None],
    write: Callable[[W], R],
    *,
    what: str,
    first: T | None = None,
    attempts: int = MAX_ATTEMPTS,
    retry_on: tuple[type[KubeError], ...] = (Conflict,),
    sleep: Callable[[float], None] = time.sleep,
) -> Updated[T, R]:
    """Apply ``mutate`` to a fresh ``read`` and ``write`` it; on Conflict, read and apply again.

    ``first``: an object the caller has just read (from a cache, say), used
    for the first attempt instead of ``read``; every retry reads.
    ``retry_on``: what else means "someone wrote in between" for this write
    (AlreadyExists, for a create racing another create).  Errors raised by
    ``read`` or ``mutate`` (NotFound, a refusal) end the update at once.
    Raises ``TooManyConflicts`` after ``attempts`` lost races.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        current = first if attempt == 1 and first is not None else read()
        change = mutate(current)
        if change is None:
            return Updated(current, None, attempt)
        try:
            return Updated(current, write(change), attempt)
        except retry_on:
            if attempt < attempts:
                sleep(_jittered(RETRY_DELAY_SECONDS))
    raise TooManyConflicts(what, attempts)


__all__ = ["MAX_ATTEMPTS", "TooManyConflicts", "Updated", "update_with_retry"]
