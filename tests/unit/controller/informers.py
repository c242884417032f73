"""Driving a Manager's informers from the in-memory fake, without threads.

``sync`` is an informer's initial list; ``pump`` delivers the watch events
the fake's writes caused since, in order; ``drain`` empties a queue.
"""

from __future__ import annotations

from typing import Any

from builder.controller.manager import Manager
from builder.controller.queue import WorkQueue
from tests.unit.controller.tenancy_fake import FakeKube

Key = tuple[str, str, str]


def sync(manager: Manager, kube: FakeKube) -> None:
    """Every informer lists the fake once (what ``Manager.run`` waits for)."""
    caches = manager.caches
    caches.build_configs.replace(list(kube.build_configs.objects.values()))
    caches.builds.replace(list(kube.builds.objects.values()))
    caches.image_streams.replace(list(kube.image_streams.objects.values()))
    caches.pods.replace(kube.list_pods(None, "openshift.io/build.name")[0])
    for kind, informer in caches.workloads.items():
        informer.replace([o for o in kube.workloads.values() if o.get("kind") == kind])
    for store in (kube.build_configs, kube.builds, kube.image_streams):
        store.drain()
    for informer in caches.all():
        informer.synced.set()


def pump(manager: Manager, kube: FakeKube) -> int:
    """Deliver the watch events of every write since the last pump; how many."""
    delivered = 0
    pairs: list[tuple[Any, Any]] = [
        (kube.build_configs, manager.caches.build_configs),
        (kube.builds, manager.caches.builds),
        (kube.image_streams, manager.caches.image_streams),
    ]
    for store, informer in pairs:
        for kind, obj in store.drain():
            informer.apply(kind, obj)
            delivered += 1
    return delivered


def drain(queue: WorkQueue[Key]) -> list[Key]:
    keys = []
    while (key := queue.get(timeout=0)) is not None:
        keys.append(key)
        queue.done(key)
    return keys


def run_until_idle(manager: Manager, kube: FakeKube, rounds: int = 50) -> None:
    """Reconcile and deliver events until nothing is left to do (delayed keys wait)."""
    for _ in range(rounds):
        worked = manager.process(manager.queue, timeout=0)
        worked |= manager.process(manager.stream_queue, timeout=0)
        worked |= pump(manager, kube) > 0
        if not worked:
            return
    raise AssertionError("the controller never settled")
