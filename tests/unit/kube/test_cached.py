"""The cache-reading client: reads from stores, writes to the API, reads its own writes."""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import Build, parse_as
from builder.kube import NotFound
from builder.kube.cached import CachedKube
from builder.kube.informer import Store
from tests.unit.controller.tenancy_fake import FakeKube


def build(name: str, labels: dict[str, str] | None = None) -> Build:
    return parse_as(
        Build,
        {
            "metadata": {"name": name, "namespace": "dev", "labels": labels or {}},
            "spec": {"strategy": {"type": "Docker", "dockerStrategy": {}}},
        },
    )


def cached(kube: FakeKube) -> tuple[CachedKube, Store[Any], Store[dict[str, Any]]]:
    builds: Store[Any] = Store()
    pods: Store[dict[str, Any]] = Store()
    reader = CachedKube(
        kube,  # type: ignore[arg-type]
        build_configs=Store(),
        builds=builds,
        image_streams=Store(),
        pods=pods,
        workloads={"Deployment": Store()},
    )
    return reader, builds, pods


def test_reads_come_from_the_store() -> None:
    kube = FakeKube()
    reader, builds, _ = cached(kube)
    builds.put(build("a-1", {"bc": "a"}))
    builds.put(build("b-1", {"bc": "b"}))
    assert reader.builds.get("dev", "a-1").metadata.name == "a-1"
    items, _ = reader.builds.list("dev", label_selector="bc=a")
    assert [b.metadata.name for b in items] == ["a-1"]
    with pytest.raises(NotFound):
        reader.builds.get("dev", "missing")
    assert kube.calls == []


def test_a_copy_changed_by_a_reconciler_does_not_change_the_store() -> None:
    reader, builds, _ = cached(FakeKube())
    builds.put(build("a-1"))
    got = reader.builds.get("dev", "a-1")
    got.status.message = "changed"
    assert builds.get("dev", "a-1").status.message == ""


def test_own_writes_are_read_back_until_the_store_catches_up() -> None:
    kube = FakeKube()
    reader, builds, _ = cached(kube)
    created = reader.builds.create(build("a-1"))
    # Not in the store yet: read from the API server, not "not found".
    assert reader.builds.get("dev", "a-1").metadata.resource_version == (
        created.metadata.resource_version
    )
    builds.put(created)
    created.status.message = "running"
    written = reader.builds.replace_status(created)
    kube.calls.clear()
    # The store still holds the version before our write: ask the API server.
    assert reader.builds.get("dev", "a-1").status.message == "running"
    assert kube.calls == ["get builds"]
    # The watch event arrives: the store answers again.
    builds.put(written)
    kube.calls.clear()
    assert reader.builds.get("dev", "a-1").status.message == "running"
    assert kube.calls == []


def test_a_pod_missing_from_the_store_is_asked_for() -> None:
    """A missing pod fails its Build (BuildPodDeleted): the store's word is not enough."""
    kube = FakeKube()
    reader, _, pods = cached(kube)
    kube.pods[("dev", "a-1-build")] = {"metadata": {"name": "a-1-build", "namespace": "dev"}}
    assert reader.get_pod("dev", "a-1-build")["metadata"]["name"] == "a-1-build"
    assert kube.calls == ["get pods"]
    pods.put({"metadata": {"name": "a-1-build", "namespace": "dev", "resourceVersion": "1"}})
    kube.calls.clear()
    reader.get_pod("dev", "a-1-build")
    assert kube.calls == []


def test_workloads_come_from_their_store_with_kind() -> None:
    kube = FakeKube()
    reader, _, _ = cached(kube)
    from builder.kube import DEPLOYMENTS  # noqa: PLC0415

    reader._workloads["Deployment"].put({"metadata": {"name": "web", "namespace": "dev"}})
    got = reader.get_object(DEPLOYMENTS, "dev", "web")
    assert got["kind"] == "Deployment"
    with pytest.raises(NotFound):
        reader.get_object(DEPLOYMENTS, "dev", "other")
    assert kube.calls == []


def test_a_patched_workload_is_read_back_until_its_event_arrives() -> None:
    """Planning from the copy before our own patch would patch again (and fail its test ops)."""
    from builder.kube import DEPLOYMENTS  # noqa: PLC0415

    kube = FakeKube()
    reader, _, _ = cached(kube)
    store = reader._workloads["Deployment"]
    old = {"metadata": {"name": "web", "namespace": "dev", "resourceVersion": "1"}}
    store.put(old)
    meta = {"name": "web", "namespace": "dev", "resourceVersion": "2"}
    kube.workloads[("dev", "web")] = {"kind": "Deployment", "metadata": meta}
    reader.patch_object(DEPLOYMENTS, "dev", "web", [])
    assert reader.get_object(DEPLOYMENTS, "dev", "web")["metadata"]["resourceVersion"] == "2"
    store.put(kube.workloads[("dev", "web")])
    kube.calls.clear()
    assert reader.get_object(DEPLOYMENTS, "dev", "web")["metadata"]["resourceVersion"] == "2"
    assert kube.calls == []


def test_a_namespace_limited_cache_reads_other_namespaces_from_the_api() -> None:
    """A controller watching one namespace still sees another team's input stream."""
    kube = FakeKube()
    other = build("elsewhere-1")
    other.metadata.namespace = "images"
    kube.builds.create(other)
    reader = CachedKube(
        kube,  # type: ignore[arg-type]
        build_configs=Store(), builds=Store(), image_streams=Store(), pods=Store(),
        workloads={}, scope="dev",
    )  # fmt: skip
    assert reader.builds.get("images", "elsewhere-1").metadata.name == "elsewhere-1"
    assert [b.metadata.name for b in reader.builds.list("images")[0]] == ["elsewhere-1"]
    with pytest.raises(NotFound):
        reader.builds.get("dev", "elsewhere-1")  # the watched namespace: the store answers
