"""Kubernetes events for what happens to builds, as ``oc describe`` shows them.

Recording an event is best effort: failing to write one must never fail the
reconcile that produced it, so errors are logged and dropped here.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from builder.api import Build, BuildConfig
from builder.kube import Kube, KubeError

log = logging.getLogger(__name__)
COMPONENT = "kbuild-controller"


def record(kube: Kube, obj: Build | BuildConfig, type_: str, reason: str, message: str) -> None:
    meta = obj.metadata
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta.name}.{secrets.token_hex(8)}", "namespace": meta.namespace},
        "involvedObject": {
            "apiVersion": obj.api_version,
            "kind": obj.kind,
            "name": meta.name,
            "namespace": meta.namespace,
            "uid": meta.uid,
            "resourceVersion": meta.resource_version,
        },
        "reason": reason,
        "message": message[:1024],
        "type": type_,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        kube.create_event(meta.namespace, event)
    except KubeError as err:
        log.warning(
            "could not record event %s for %s/%s: %s", reason, meta.namespace, meta.name, err
        )
