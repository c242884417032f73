"""One tenant's workload cannot stop image triggers for the others.

The reported attack: a 1 KiB ``image.openshift.io/triggers`` value of
``[[[[...`` raised RecursionError while the controller listed workloads, so
the list failed on every retry and the resync thread died, for every
namespace.  Now the annotation is a typed problem: the list goes on, the
resync thread survives anything a lister raises, and the bad workload gets a
Warning event of its own.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from builder.api.constants import IMAGE_TRIGGERS_ANNOTATION
from builder.controller.caches import TAGS
from builder.controller.config import ControllerConfig
from builder.controller.manager import Manager
from builder.controller.workloads import WorkloadTriggerReconciler
from tests.unit.controller.informers import drain, sync
from tests.unit.controller.tenancy_fake import FakeKube

REGISTRY = "registry.example:5000"
CONFIG = ControllerConfig(
    registry=REGISTRY, build_pod_image=f"{REGISTRY}/kbuild/buildpod:1", resync_seconds=0
)
BOMB = "[" * 1024
GOOD = json.dumps([
    {
        "from": {"kind": "ImageStreamTag", "name": "app:latest"},
        "fieldPath": 'spec.template.spec.containers[?(@.name=="app")].image',
    }
])  # fmt: skip


def deployment(namespace: str, name: str, annotation: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "namespace": namespace, "name": name, "uid": f"uid-{name}",
            "annotations": {IMAGE_TRIGGERS_ANNOTATION: annotation},
        },
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x"}]}}},
    }  # fmt: skip


class ListingKube(FakeKube):
    """The fake API server, counting the lists of workloads."""

    def __init__(self) -> None:
        super().__init__()
        self.listed: list[str] = []

    def list_objects(self, resource: Any, namespace: str | None) -> tuple[list[Any], str]:
        self.listed.append(resource.kind)
        return super().list_objects(resource, namespace)


def listing_kube() -> ListingKube:
    kube = ListingKube()
    kube.workloads[("attacker", "bomb")] = deployment("attacker", "bomb", BOMB)
    kube.workloads[("victim", "web")] = deployment("victim", "web", GOOD)
    return kube


def test_a_bad_annotation_does_not_stop_the_list() -> None:
    kube = listing_kube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    sync(manager, kube)
    keys = set(drain(manager.queue))
    assert ("Deployment", "victim", "web") in keys
    assert ("Deployment", "attacker", "bomb") in keys  # reconciled: the event says why
    # The good workload's trigger is indexed: a move of victim/app:latest reaches it.
    store = manager.caches.workloads["Deployment"].store
    assert store.index_keys(TAGS, ("victim", "app", "latest")) == [("victim", "web")]


def test_the_resync_thread_survives_and_lists_nothing() -> None:
    """A resync hands every cached object to its handler again: no API request."""
    kube = listing_kube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    sync(manager, kube)
    drain(manager.queue)
    listed = len(kube.listed)

    def explode(kind: str, old: Any, new: Any) -> None:
        raise RuntimeError("a handler bug")

    manager.caches.workloads["Deployment"].add_handler(explode)
    thread = threading.Thread(target=manager._resync_loop, daemon=True)
    thread.start()
    try:
        seen: set[tuple[str, str, str]] = set()
        for _ in range(200):  # resync_seconds=0: rounds follow each other at once
            seen |= set(drain(manager.queue))
            if ("Deployment", "victim", "web") in seen:
                break
            threading.Event().wait(0.01)
        assert thread.is_alive()
    finally:
        manager.stop.set()
        thread.join(5)
    assert ("Deployment", "victim", "web") in seen
    assert len(kube.listed) == listed
    assert kube.calls == []


def test_the_bad_workload_gets_a_warning_event() -> None:
    kube = listing_kube()
    reconciler = WorkloadTriggerReconciler(kube, CONFIG, authorizer=None)  # type: ignore[arg-type]
    reconciler.reconcile("Deployment", "attacker", "bomb")
    (event,) = kube.events
    assert event["type"] == "Warning"
    assert event["reason"] == "InvalidImageTrigger"
    assert event["namespace"] == "attacker"
    assert "nested more than 100 levels deep" in event["message"]
    assert not kube.patches
