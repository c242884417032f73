"""A rival writer for the in-memory fake: it writes the object just before our write does.

``race(store, "replace_status", rival, times)`` makes the next ``times``
calls of that write lose the race the way they would on a real API server:
the rival's change is stored first (a new resourceVersion), so ours carries
a stale resourceVersion and the fake answers Conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def race(store: Any, verb: str, rival: Callable[[Any], None], times: int) -> list[int]:
    """Let a rival write first ``times`` times; returns a one-item list counting the races left."""
    original = getattr(store, verb)
    left = [times]

    def racing(obj: Any) -> Any:
        if left[0] > 0:
            left[0] -= 1
            key = (obj.metadata.namespace, obj.metadata.name)
            current = store.objects[key].model_copy(deep=True)
            rival(current)
            store._bump(current)  # the fake's own write path
        return original(obj)

    setattr(store, verb, racing)
    return left
