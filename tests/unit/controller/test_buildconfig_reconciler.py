"""The BuildConfig reconciler against the in-memory fake: triggers, history, failures.

Table-driven: a BuildConfig and its builds before one reconcile, and what
must exist after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from builder.api import (
    BuildConfig,
    BuildError,
    BuildPhase,
    ImageStream,
    StatusReason,
    TagEvent,
    parse_as,
)
from builder.api.image import NamedTagEventList
from builder.controller import buildconfig as buildconfig_module
from builder.controller.buildconfig import BuildConfigReconciler
from builder.rules.instantiate import BuildOptions, new_build
from tests.unit.controller.tenancy_fake import FakeKube

NS = "dev"
IMAGE = "registry.example:5000/dev/base@sha256:" + "1" * 64


def config(name: str = "app", **spec: Any) -> BuildConfig:
    return parse_as(BuildConfig, {
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"},
        "spec": {
            "source": {"git": {"uri": "https://example.com/app.git"}},
            "strategy": {"type": "Docker", "dockerStrategy": {
                "from": {"kind": "ImageStreamTag", "name": "base:1"}}},
            **spec,
        },
    })  # fmt: skip


def base_stream() -> ImageStream:
    stream = parse_as(ImageStream, {"metadata": {"name": "base", "namespace": NS}, "spec": {}})
    event = TagEvent(created="2026-01-01T00:00:00Z", docker_image_reference=IMAGE,
                     image="sha256:" + "1" * 64, generation=1)  # fmt: skip
    stream.status.tags = [NamedTagEventList(tag="1", items=[event])]
    return stream


@dataclass(frozen=True)
class Case:
    name: str
    spec: dict[str, Any] = field(default_factory=dict)
    phases: tuple[str, ...] = ()  # builds app-1.. before the reconcile
    annotations: dict[str, str] = field(default_factory=dict)
    last_version: int = 0
    started: str = ""  # the Build created, with its cause
    cause: str = ""
    left: tuple[int, ...] | None = None  # build numbers left after pruning


CONFIG_CHANGE = {"triggers": [{"type": "ConfigChange"}]}
IMAGE_CHANGE = {"triggers": [{"type": "ImageChange", "imageChange": {}}]}
CASES = [
    Case("ConfigChange starts build 1", CONFIG_CHANGE, started="app-1",
         cause="Build configuration change"),
    Case("ConfigChange only for the first build", CONFIG_CHANGE, phases=("Complete",),
         last_version=1),
    Case("a paused BuildConfig starts nothing", CONFIG_CHANGE,
         annotations={"openshift.io/build-config.paused": "true"}),
    Case("ImageChange starts a build on the tag's image", IMAGE_CHANGE, started="app-1",
         cause="Image change"),
    Case("no trigger, no build", {"triggers": []}),
    Case("history: the oldest finished builds beyond the limits go",
         {"triggers": [], "successfulBuildsHistoryLimit": 2, "failedBuildsHistoryLimit": 1},
         phases=("Complete", "Failed", "Complete", "Error", "Complete", "Cancelled", "Running"),
         last_version=7, left=(3, 5, 6, 7)),
    Case("history: defaults keep five of each",
         {"triggers": []}, phases=("Complete",) * 7, last_version=7, left=(3, 4, 5, 6, 7)),
    Case("history: active builds are never pruned", {"triggers": [],
         "successfulBuildsHistoryLimit": 0}, phases=("New", "Pending", "Complete"),
         last_version=3, left=(1, 2)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reconcile(case: Case) -> None:
    kube = FakeKube()
    kube.image_streams.create(base_stream())
    bc = config(**case.spec)
    bc.metadata.annotations = dict(case.annotations)
    bc.status.last_version = case.last_version
    kube.build_configs.create(bc)
    for number, phase in enumerate(case.phases, start=1):
        build = new_build(bc, number, BuildOptions())
        build.status.phase = BuildPhase(phase)
        kube.builds.create(build)
    # Another BuildConfig's builds are never this one's to prune.
    other = config("app-other", triggers=[])
    kube.build_configs.create(other)
    for number in range(1, 8):
        stranger = new_build(other, number, BuildOptions())
        stranger.status.phase = BuildPhase.COMPLETE
        kube.builds.create(stranger)
    result = BuildConfigReconciler(kube).reconcile(NS, "app")  # type: ignore[arg-type]
    names = {name for (_, name) in kube.builds.objects}
    before = {f"app-{n}" for n in range(1, len(case.phases) + 1)}
    if case.started:
        assert names - before - {f"app-other-{n}" for n in range(1, 8)} == {case.started}
        started = kube.builds.objects[(NS, case.started)]
        assert [c.message for c in started.spec.triggered_by] == [case.cause]
        assert ("Build", NS, case.started) in result.also
        assert kube.build_configs.objects[(NS, "app")].status.last_version == 1
    else:
        assert result.also == []
    if case.left is not None:
        assert sorted(int(n.rsplit("-", 1)[1]) for n in names if n.startswith("app-") and
                      not n.startswith("app-other")) == list(case.left)  # fmt: skip
    assert {n for n in names if n.startswith("app-other-")} == {
        f"app-other-{n}" for n in range(1, 8)
    }


def test_an_image_change_build_names_its_image_and_records_it() -> None:
    kube = FakeKube()
    kube.image_streams.create(base_stream())
    kube.build_configs.create(config(**IMAGE_CHANGE))
    BuildConfigReconciler(kube).reconcile(NS, "app")  # type: ignore[arg-type]
    build = kube.builds.objects[(NS, "app-1")]
    strategy = build.spec.strategy.docker_strategy
    assert strategy is not None and strategy.from_ is not None
    assert (strategy.from_.kind, strategy.from_.name) == ("DockerImage", IMAGE)
    recorded = kube.build_configs.objects[(NS, "app")].status.image_change_triggers
    assert [t.last_triggered_image_id for t in recorded] == [IMAGE]
    # The same image again: no second build.
    BuildConfigReconciler(kube).reconcile(NS, "app")  # type: ignore[arg-type]
    assert sorted(n for (_, n) in kube.builds.objects) == ["app-1"]


def test_a_failed_instantiation_is_an_event_on_the_buildconfig(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = FakeKube()
    kube.build_configs.create(config(**CONFIG_CHANGE))

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, "too many concurrent updates")

    monkeypatch.setattr(buildconfig_module, "instantiate_when", refuse)
    result = BuildConfigReconciler(kube).reconcile(NS, "app")  # type: ignore[arg-type]
    assert result.also == []
    assert not kube.builds.objects
    (event,) = kube.events
    assert event["reason"] == "BuildConfigInstantiateFailed"
    assert event["type"] == "Warning"
    assert "too many concurrent updates" in event["message"]
    assert event["involvedObject"]["name"] == "app"
