"""Instantiation killed between its two writes: the trigger still fires exactly once.

An instantiation makes two writes, the Build and the BuildConfig's
``lastVersion`` (with the trigger's image as ``lastTriggeredImageID``).  A
leader SIGKILLed between them (bench/chaos.py, the ``leader`` scenario) must
leave the standby able to finish the job: one Build per image, never zero,
never two.  The kill is modelled by an exception nothing in the controller
catches, raised at the Nth write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from builder.api import Build, BuildConfig, BuildTriggerCause, ImageStream, TagEvent, parse_as
from builder.api.image import NamedTagEventList
from builder.controller.buildconfig import BuildConfigReconciler
from builder.kube import Kube
from builder.rules.instantiate import BuildOptions, instantiate
from builder.streams.buildtriggers import last_triggered
from tests.unit.controller.tenancy_fake import FakeKube

NS = "dev"
OLD = "registry.example/dev/base@sha256:" + "1" * 64
NEW = "registry.example/dev/base@sha256:" + "2" * 64


class Killed(BaseException):
    """The process died here: nothing may catch it (BaseException, like SystemExit)."""


def world() -> FakeKube:
    kube = FakeKube()
    stream = kube.image_streams.create(
        parse_as(ImageStream, {"metadata": {"name": "base", "namespace": NS}})
    )
    first = TagEvent(
        created="2026-01-01T00:00:00Z", docker_image_reference=OLD, image="a", generation=1
    )
    stream.status.tags = [NamedTagEventList(tag="v0", items=[first])]
    kube.image_streams.replace_status(stream)
    bc = kube.build_configs.create(parse_as(BuildConfig, {
        "metadata": {"name": "app", "namespace": NS},
        "spec": {
            "source": {"git": {"uri": "https://example.invalid/app.git"}},
            "strategy": {"type": "Docker", "dockerStrategy": {
                "from": {"kind": "ImageStreamTag", "name": "base:v0"}}},
            "output": {"to": {"kind": "ImageStreamTag", "name": "app:latest"}},
            "triggers": [{"type": "ImageChange", "imageChange": {}}],
        },
    }))  # fmt: skip
    # Build 1 was made for OLD, and recorded as such.
    BuildConfigReconciler(_kube(kube)).reconcile(NS, "app")
    bc = kube.build_configs.get(NS, "app")
    assert bc.status.last_version == 1 and last_triggered(bc, (NS, "base:v0")) == OLD
    return kube


def _kube(fake: FakeKube) -> Kube:
    kube: Kube = fake  # type: ignore[assignment]  # the fake stands in for the client
    return kube


def move_tag(kube: FakeKube, image: str) -> None:
    stream = kube.image_streams.get(NS, "base")
    old = stream.status.tags[0].items or []
    stream.status.tags[0].items = [
        TagEvent(
            created="2026-01-01T00:01:00Z", docker_image_reference=image, image="b", generation=2
        ),
        *old,
    ]
    kube.image_streams.replace_status(stream)


def kill_at_write(kube: FakeKube, allowed: int) -> Callable[[], None]:
    """Let ``allowed`` writes of an instantiation through, then kill at the next; returns undo."""
    count = [0]
    originals: dict[str, Any] = {}

    def wrap(store: Any, method: str) -> None:
        real = getattr(store, method)
        originals[f"{id(store)}.{method}"] = (store, method, real)

        def write(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            if count[0] > allowed:
                raise Killed
            return real(*args, **kwargs)

        setattr(store, method, write)

    wrap(kube.builds, "create")
    wrap(kube.build_configs, "replace_status")

    def undo() -> None:
        for store, method, real in originals.values():
            setattr(store, method, real)

    return undo


def builds_of_app(kube: FakeKube) -> list[Build]:
    return [b for b in kube.builds.list(NS)[0] if b.metadata.name.startswith("app-")]


@pytest.mark.parametrize(
    ("writes_before_the_kill", "why"),
    [
        (0, "killed before either write: the standby makes the build"),
        (1, "killed between the Build and lastVersion writes (in either order)"),
        (2, "not killed: both writes done, the standby has nothing to do"),
    ],
)
def test_a_leader_killed_mid_instantiation_leaves_exactly_one_build(
    writes_before_the_kill: int, why: str
) -> None:
    kube = world()
    move_tag(kube, NEW)
    undo = kill_at_write(kube, writes_before_the_kill)
    with contextlib.suppress(Killed):
        BuildConfigReconciler(_kube(kube)).reconcile(NS, "app")
    undo()
    # The standby: a fresh reconciler, reconciling as often as events and resyncs make it.
    standby = BuildConfigReconciler(_kube(kube))
    for _ in range(3):
        standby.reconcile(NS, "app")
    builds = builds_of_app(kube)
    assert sorted(b.metadata.name for b in builds) == ["app-1", "app-2"], why
    [second] = [b for b in builds if b.metadata.name == "app-2"]
    causes = [c.image_change_build.image_id for c in second.spec.triggered_by
              if c.image_change_build is not None]  # fmt: skip
    assert causes == [NEW], why
    bc = kube.build_configs.get(NS, "app")
    assert bc.status.last_version == 2, why
    assert last_triggered(bc, (NS, "base:v0")) == NEW, why


def test_start_build_after_an_orphan_takes_the_next_number_and_the_trigger_stays_fired() -> None:
    kube = world()
    move_tag(kube, NEW)
    undo = kill_at_write(kube, 1)
    with contextlib.suppress(Killed):
        BuildConfigReconciler(_kube(kube)).reconcile(NS, "app")
    undo()
    manual = BuildOptions(causes=(BuildTriggerCause(message="Manually triggered"),))
    started = instantiate(_kube(kube), NS, "app", manual)
    BuildConfigReconciler(_kube(kube)).reconcile(NS, "app")
    names = sorted(b.metadata.name for b in builds_of_app(kube))
    assert started.metadata.name == "app-3"
    assert names == ["app-1", "app-2", "app-3"]
    bc = kube.build_configs.get(NS, "app")
    assert bc.status.last_version == 3
    assert last_triggered(bc, (NS, "base:v0")) == NEW


def test_a_build_made_by_hand_with_the_next_name_only_burns_the_number() -> None:
    kube = world()
    kube.builds.create(parse_as(Build, {
        "metadata": {"name": "app-2", "namespace": NS},
        "spec": {"strategy": {"type": "Docker", "dockerStrategy": {
            "from": {"kind": "DockerImage", "name": NEW}}}},
    }))  # fmt: skip
    move_tag(kube, NEW)
    BuildConfigReconciler(_kube(kube)).reconcile(NS, "app")
    names = sorted(b.metadata.name for b in builds_of_app(kube))
    assert names == ["app-1", "app-2", "app-3"]
    bc = kube.build_configs.get(NS, "app")
    assert bc.status.last_version == 3
    assert last_triggered(bc, (NS, "base:v0")) == NEW
