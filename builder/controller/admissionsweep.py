"""Say so on pods admitted while the image-lookup webhook did not answer.

Under ``failurePolicy: Ignore`` the API server admits a pod unchanged when
the webhook is down, and records nothing a tenant can see (only its own
log and an audit annotation).  Nothing of kbuild runs at that moment, so
the event must come later: the leader, when it starts and then every
resync, lists the pods of each namespace that has a stream with
``lookupPolicy.local`` and asks the webhook's own rule (``admission.plan``,
with the same tenancy check) whether an image would have been resolved.
Each such pod gets one Warning event ``ImageLookupSkipped`` from component
``kbuild-controller``, naming the container, the image as written and what
the stream resolves it to.  The pod is not changed: its image is immutable
in practice (a running container would restart), and deleting it to have
it created again (with the stream's image) is the owner's decision.

Cost: one pod list per namespace with a local-lookup stream per resync.
Pods in namespaces without such a stream that asked for resolution with
the ``resolve-names`` annotation are not swept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from builder.api import ImageStream
from builder.controller import events
from builder.controller.admission import ImageLookupError, plan
from builder.controller.admissionserver import ImageLookupWebhook
from builder.kube import Kube, KubeError

log = logging.getLogger(__name__)

REASON = "ImageLookupSkipped"
MAX_REMEMBERED = 10_000
_DONE_PHASES = frozenset({"Succeeded", "Failed"})


def lookup_namespaces(streams: Iterable[ImageStream]) -> list[str]:
    """Namespaces with at least one stream that resolves short names."""
    return sorted({s.metadata.namespace for s in streams if s.spec.lookup_policy.local})


class LookupSweep:
    def __init__(
        self,
        kube: Kube,
        streams: Callable[[], list[ImageStream]],
        webhook: ImageLookupWebhook,
    ) -> None:
        self.kube = kube
        self.streams = streams
        self.webhook = webhook
        self._reported: dict[str, None] = {}

    def sweep(self) -> int:
        """Record the events not recorded yet; how many were recorded."""
        recorded = 0
        for namespace in lookup_namespaces(self.streams()):
            try:
                pods, _ = self.kube.list_pods(namespace, "")
            except KubeError as err:
                log.warning("image lookup sweep: listing pods in %s: %s", namespace, err)
                continue
            for pod in pods:
                recorded += self._check(namespace, pod)
        return recorded

    def _check(self, namespace: str, pod: dict[str, Any]) -> int:
        meta = pod.get("metadata") or {}
        uid = str(meta.get("uid") or "")
        if not uid or uid in self._reported or meta.get("deletionTimestamp"):
            return 0
        if (pod.get("status") or {}).get("phase") in _DONE_PHASES:
            return 0
        try:
            result = plan(pod, "Pod", namespace, self.webhook.stream, self.webhook.may_read)
        except ImageLookupError as err:
            log.warning("image lookup sweep: %s", err)
            return 0
        if not result.resolutions:
            return 0
        self._reported[uid] = None
        while len(self._reported) > MAX_REMEMBERED:
            del self._reported[next(iter(self._reported))]
        which = "; ".join(
            f"container {r.container!r} image {r.image!r} (the stream resolves it to {r.resolved})"
            for r in result.resolutions
        )
        pod.setdefault("kind", "Pod")
        pod.setdefault("apiVersion", "v1")
        events.record_for(
            self.kube, pod, "Warning", REASON,
            f"admitted without image-stream lookup: {which}. The image-lookup admission "
            "webhook did not answer when the pod was created (failurePolicy Ignore); "
            "delete the pod to have it created again with the stream's image",
        )  # fmt: skip
        return 1

    def run(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.sweep()
            except Exception:  # the sweep must not end: it is the only report
                log.exception("image lookup sweep crashed")
            stop.wait(interval)


__all__ = ["REASON", "LookupSweep", "lookup_namespaces"]
