"""Say so when an applied object sets a field kbuild accepts but does not act on.

``builder.api`` marks such fields ``Unimplemented`` (with why); a Build using
one fails with CannotCreateBuildPodSpec (``builder.pipeline.from_build``).
BuildConfigs and ImageStreams have no phase to fail, so their reconcilers
call ``UnimplementedReporter.report``: a Warning event ``UnimplementedField``
naming each field, as soon as the object is applied (``kubectl describe``
shows it).  Once per object generation, not on every resync.
"""

from __future__ import annotations

import threading

from builder.api import BuildConfig, ImageStream, unimplemented_fields_in_use
from builder.controller import events
from builder.kube import Kube

REASON = "UnimplementedField"
# Objects remembered; beyond it the oldest are forgotten (and reported again
# at most once more, which is harmless).
MAX_REMEMBERED = 10_000


def unimplemented_message(obj: BuildConfig | ImageStream) -> str:
    """``path: why`` for each unimplemented field in use, ``; ``-joined; "" if none."""
    return "; ".join(f"{path}: {why}" for path, why in unimplemented_fields_in_use(obj))


class UnimplementedReporter:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._lock = threading.Lock()
        self._reported: dict[tuple[str, str, str], tuple[str, int, str]] = {}

    def report(self, obj: BuildConfig | ImageStream) -> str:
        """Record the event if this generation of ``obj`` was not reported yet; the message."""
        message = unimplemented_message(obj)
        meta = obj.metadata
        key = (obj.kind, meta.namespace, meta.name)
        seen = (meta.uid, meta.generation, message)
        with self._lock:
            if not message or self._reported.get(key) == seen:
                return message
            self._reported[key] = seen
            while len(self._reported) > MAX_REMEMBERED:
                del self._reported[next(iter(self._reported))]
        events.record(self.kube, obj, "Warning", REASON, f"kbuild does not implement {message}")
        return message


__all__ = ["REASON", "UnimplementedReporter", "unimplemented_message"]
