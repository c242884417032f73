"""The manager reads informer caches and fans out by (stream, tag).

Against the in-memory fake: its writes become watch events (``pump``), and
``FakeKube.calls`` lists every request a reconcile made, so "costs no API
call" is something a test can check.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from builder.api import Build, BuildConfig, BuildPhase, ImageStream, TagEvent, parse_as
from builder.api.image import NamedTagEventList, TagEventCondition
from builder.controller.caches import moved_tags
from builder.controller.config import ControllerConfig
from builder.controller.manager import Manager
from builder.controller.queue import WorkQueue
from tests.unit.controller.informers import drain, pump, run_until_idle, sync
from tests.unit.controller.tenancy_fake import FakeKube

REGISTRY = "registry.example:5000"
CONFIG = ControllerConfig(
    registry=REGISTRY, build_pod_image=f"{REGISTRY}/kbuild/buildpod:1", reconcile_deadline=0.2
)
NS = "dev"


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}".rjust(64, "0")


def event(n: int) -> TagEvent:
    return TagEvent(
        created="2026-01-01T00:00:00Z",
        docker_image_reference=f"{REGISTRY}/{NS}/base@{digest(n)}",
        image=digest(n),
        generation=1,
    )


def base_stream(images: dict[str, int]) -> ImageStream:
    stream = parse_as(
        ImageStream,
        {"metadata": {"name": "base", "namespace": NS, "generation": 1}, "spec": {}},
    )
    stream.status.tags = [NamedTagEventList(tag=t, items=[event(n)]) for t, n in images.items()]
    return stream


def build_config(name: str, tag: str) -> BuildConfig:
    return parse_as(
        BuildConfig,
        {
            "metadata": {"name": name, "namespace": NS, "generation": 1},
            "spec": {
                "source": {"git": {"uri": "https://example.com/app.git"}},
                "strategy": {
                    "type": "Docker",
                    "dockerStrategy": {"from": {"kind": "ImageStreamTag", "name": f"base:{tag}"}},
                },
                "output": {"to": {"kind": "ImageStreamTag", "name": f"{name}:latest"}},
                "triggers": [{"type": "ImageChange", "imageChange": {}}],
            },
        },
    )


def move(kube: FakeKube, tag: str, n: int) -> None:
    stream = kube.image_streams.objects[(NS, "base")].model_copy(deep=True)
    for named in stream.status.tags:
        if named.tag == tag:
            named.items = [event(n), *(named.items or [])]
    kube.image_streams.replace_status(stream)


def builds_of(kube: FakeKube, bc: str) -> list[Build]:
    return [
        b
        for b in kube.builds.objects.values()
        if (b.metadata.annotations or {}).get("openshift.io/build-config.name") == bc
    ]


@pytest.fixture
def world() -> tuple[Manager, FakeKube]:
    """Six BuildConfigs on base:v1 and base:v2 (three each), settled: one build each."""
    kube = FakeKube()
    kube.image_streams.create(base_stream({"v1": 1, "v2": 2}))
    for i in range(6):
        kube.build_configs.create(build_config(f"bc-{i}", "v1" if i % 2 == 0 else "v2"))
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    sync(manager, kube)
    run_until_idle(manager, kube)
    for i in range(6):
        assert len(builds_of(kube, f"bc-{i}")) == 1
    kube.calls.clear()
    return manager, kube


def test_a_no_op_build_config_reconcile_makes_no_request(world: tuple[Manager, FakeKube]) -> None:
    manager, kube = world
    for i in range(6):
        manager.build_configs.reconcile(NS, f"bc-{i}")
    assert kube.calls == []  # on main: GET bc + LIST builds (+ GET stream) each


def test_a_tag_move_wakes_only_its_build_configs(world: tuple[Manager, FakeKube]) -> None:
    manager, kube = world
    move(kube, "v1", 11)
    pump(manager, kube)
    queued = set(drain(manager.queue))
    assert queued == {("BuildConfig", NS, f"bc-{i}") for i in (0, 2, 4)}


def test_one_build_per_watcher_and_three_requests_per_build(
    world: tuple[Manager, FakeKube],
) -> None:
    manager, kube = world
    move(kube, "v1", 11)
    kube.calls.clear()
    pump(manager, kube)
    # Only the BuildConfig reconciles: what a trigger costs to create a Build.
    for key in drain(manager.queue):
        manager.build_configs.reconcile(key[1], key[2])
    for i in range(6):
        assert len(builds_of(kube, f"bc-{i}")) == (2 if i % 2 == 0 else 1)
    # GET the BuildConfig, write lastVersion with the image, POST the Build.
    assert sorted(kube.calls) == sorted(
        ["get buildconfigs", "replace_status buildconfigs", "create builds"] * 3
    )
    # And again: the tag did not move, nothing fires, no request.
    kube.calls.clear()
    run_until_idle(manager, kube)
    assert all(len(builds_of(kube, f"bc-{i}")) == (2 if i % 2 == 0 else 1) for i in range(6))


def test_a_status_write_that_moves_no_tag_wakes_nothing(world: tuple[Manager, FakeKube]) -> None:
    manager, kube = world
    drain(manager.stream_queue)
    stream = kube.image_streams.objects[(NS, "base")].model_copy(deep=True)
    stream.status.tags[0].conditions = [
        TagEventCondition(type="ImportSuccess", status="False", reason="NotFound")
    ]
    written = kube.image_streams.replace_status(stream)
    manager._wrote_stream(written)  # the controller's own write
    pump(manager, kube)
    assert drain(manager.queue) == []
    assert drain(manager.stream_queue) == []


def test_a_waiting_build_is_woken_by_its_tag() -> None:
    """A New build whose input tag has no image yet waits for the stream, not a 10 s poll."""
    kube = FakeKube()
    kube.image_streams.create(base_stream({"v2": 2}))
    kube.build_configs.create(build_config("bc", "v1"))
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    sync(manager, kube)
    # A start-build while base:v1 has no image: the Build names the tag.
    from builder.rules.instantiate import BuildOptions, instantiate  # noqa: PLC0415

    instantiate(kube, NS, "bc", BuildOptions())  # type: ignore[arg-type]
    run_until_idle(manager, kube)
    (build,) = builds_of(kube, "bc")
    assert build.status.phase == BuildPhase.NEW
    assert manager.queue.delayed() <= 1
    stream = kube.image_streams.objects[(NS, "base")].model_copy(deep=True)
    stream.status.tags.append(NamedTagEventList(tag="v1", items=[event(7)]))
    kube.image_streams.replace_status(stream)
    pump(manager, kube)
    assert ("Build", NS, build.metadata.name) in set(drain(manager.queue))


@pytest.mark.parametrize(
    ("old", "new", "moved"),
    [
        ({"v1": 1, "v2": 2}, {"v1": 1, "v2": 2}, set()),
        ({"v1": 1, "v2": 2}, {"v1": 3, "v2": 2}, {"v1"}),
        ({"v1": 1}, {"v1": 1, "v2": 2}, {"v2"}),
        ({"v1": 1, "v2": 2}, {"v2": 2}, {"v1"}),
    ],
)
def test_moved_tags(old: dict[str, int], new: dict[str, int], moved: set[str]) -> None:
    assert moved_tags(base_stream(old), base_stream(new)) == moved


def test_a_spec_change_wakes_every_watcher_of_the_stream() -> None:
    old, new = base_stream({"v1": 1}), base_stream({"v1": 1})
    new.metadata.generation = 2
    assert moved_tags(old, new) is None


def test_stream_reconciles_have_their_own_pool_and_a_stuck_one_is_unhealthy(
    world: tuple[Manager, FakeKube],
) -> None:
    manager, _ = world
    drain(manager.stream_queue)
    release = threading.Event()

    def trickle(namespace: str, name: str) -> Any:
        release.wait(10)  # a registry sending a byte a second
        raise TimeoutError

    manager.image_streams.reconcile = trickle  # type: ignore[method-assign]
    manager.enqueue(("ImageStream", NS, "base"))
    manager.enqueue(("BuildConfig", NS, "bc-0"))
    assert manager.stream_queue.delayed() == 0 and len(manager.stream_queue) == 1
    worker = threading.Thread(target=manager.process, args=(manager.stream_queue, 1.0))
    worker.start()
    try:
        # The reconcile pool is not held by the import.
        assert manager.process(manager.queue, timeout=1.0)
        time.sleep(0.3)  # past the 0.2 s deadline
        assert [key for _, key, _ in manager.stuck()] == [("ImageStream", NS, "base")]
        assert not manager.healthy()
    finally:
        release.set()
        worker.join(5)
    assert manager.stuck() == []


def test_routing_by_kind() -> None:
    manager = Manager(FakeKube(), CONFIG)  # type: ignore[arg-type]
    manager.enqueue(("ImageStream", NS, "a"))
    manager.enqueue(("Build", NS, "b"))
    manager.enqueue(("Deployment", NS, "c"))
    queues: list[WorkQueue[Any]] = [manager.stream_queue, manager.queue]
    assert [drain(q) for q in queues] == [
        [("ImageStream", NS, "a")],
        [("Build", NS, "b"), ("Deployment", NS, "c")],
    ]


def test_own_build_writes_wake_nothing_but_a_cancel_does(world: tuple[Manager, FakeKube]) -> None:
    manager, kube = world
    drain(manager.queue)
    build = builds_of(kube, "bc-0")[0]
    build.status.message = "written by the controller"
    manager._wrote(kube.builds.replace_status(build))
    pump(manager, kube)
    assert drain(manager.queue) == []
    build = kube.builds.get(NS, build.metadata.name)
    build.status.cancelled = True  # kbuild cancel-build
    kube.builds.replace_status(build)
    pump(manager, kube)
    assert drain(manager.queue) == [("Build", NS, build.metadata.name)]


def test_a_deleted_build_config_leaves_the_index(world: tuple[Manager, FakeKube]) -> None:
    manager, kube = world
    kube.build_configs.delete(NS, "bc-0")
    pump(manager, kube)
    drain(manager.queue)
    move(kube, "v1", 12)
    pump(manager, kube)
    assert set(drain(manager.queue)) == {("BuildConfig", NS, f"bc-{i}") for i in (2, 4)}
    assert manager.caches.build_configs.store.get(NS, "bc-0") is None


def test_a_stream_write_that_conflicts_is_retried_on_a_fresh_read(
    world: tuple[Manager, FakeKube],
) -> None:
    """The cache may lag: after a Conflict the stream is read from the API server."""
    manager, kube = world
    stream = kube.image_streams.get(NS, "base")
    stream.status.docker_image_repository = "elsewhere"
    kube.image_streams.replace_status(stream)
    pump(manager, kube)  # the cache has this one...
    stream = kube.image_streams.get(NS, "base")
    stream.status.tags[0].conditions = [
        TagEventCondition(type="ImportSuccess", status="False", reason="NotFound")
    ]
    kube.image_streams.replace_status(stream)  # ...but not this one
    kube.calls.clear()
    manager.image_streams.reconcile(NS, "base")
    current = kube.image_streams.objects[(NS, "base")]
    assert current.status.docker_image_repository == f"{REGISTRY}/{NS}/base"
    assert current.status.tags[0].conditions  # the other writer's change is kept
    assert kube.calls == ["replace_status imagestreams", "get imagestreams",
                          "replace_status imagestreams"]  # fmt: skip


def test_workloads_are_woken_by_their_tag_only() -> None:
    kube = FakeKube()
    kube.image_streams.create(base_stream({"v1": 1, "v2": 2}))
    kube.workloads[(NS, "web")] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "namespace": NS, "name": "web", "uid": "u-web", "resourceVersion": "1",
            "annotations": {"image.openshift.io/triggers": (
                '[{"from":{"kind":"ImageStreamTag","name":"base:v1"},'
                '"fieldPath":"spec.template.spec.containers[?(@.name==\\"app\\")].image"}]'
            )},
        },
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x"}]}}},
    }  # fmt: skip
    plain = {"namespace": NS, "name": "plain"}
    kube.workloads[(NS, "plain")] = {"kind": "Deployment", "metadata": plain}
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    sync(manager, kube)
    assert len(manager.caches.workloads["Deployment"].store) == 1  # only what has triggers
    drain(manager.queue)
    move(kube, "v2", 20)
    pump(manager, kube)
    assert drain(manager.queue) == []
    move(kube, "v1", 21)
    pump(manager, kube)
    assert drain(manager.queue) == [("Deployment", NS, "web")]
