"""Kubernetes events for what the controller does, as ``oc describe`` shows them.

Recording an event is best effort: failing to write one must never fail the
reconcile that produced it, so errors are logged and dropped here.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from builder.api import Build, BuildConfig, ImageStream
from builder.kube import Kube, KubeError

log = logging.getLogger(__name__)
COMPONENT = "kbuild-controller"


def record(
    kube: Kube, obj: Build | BuildConfig | ImageStream, type_: str, reason: str, message: str
) -> None:
    meta = obj.metadata
    involved = {
        "apiVersion": obj.api_version,
        "kind": obj.kind,
        "name": meta.name,
        "namespace": meta.namespace,
        "uid": meta.uid,
        "resourceVersion": meta.resource_version,
    }
    _create(kube, involved, type_, reason, message)


def record_for(kube: Kube, involved: dict[str, Any], type_: str, reason: str, message: str) -> None:
    """An event on any object read as a dict (a Deployment, a Job...)."""
    meta = involved.get("metadata") or {}
    reference = {
        "apiVersion": involved.get("apiVersion", ""),
        "kind": involved.get("kind", ""),
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    _create(kube, reference, type_, reason, message)


def _create(kube: Kube, involved: dict[str, Any], type_: str, reason: str, message: str) -> None:
    name, namespace = involved["name"], involved["namespace"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": involved,
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
        kube.create_event(namespace, event)
    except KubeError as err:
        log.warning("could not record event %s for %s/%s: %s", reason, namespace, name, err)
