"""The ImageStream reconciler applies import results to tags: against the fake API and registry.

Table-driven: each row is what the registry says across reconciles of one
scheduled tag, and the tag history and condition the stream must end with.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from builder.api import BuildError, ImageStream, parse_as
from builder.controller.authz import Authorizer
from builder.controller.config import ControllerConfig
from builder.controller.imagestream import ImageStreamReconciler
from builder.controller.importer import Importer
from builder.controller.ratelimit import TokenBucket
from builder.registry import ImageNotFound, RegistryUnreachable
from builder.streams.tags import import_failure
from tests.unit.controller.registry_fake import FakeRegistry
from tests.unit.controller.tenancy_fake import FakeKube

REGISTRY = "registry.example:5000"
CONFIG = ControllerConfig(registry=REGISTRY, build_pod_image=f"{REGISTRY}/kbuild/buildpod:1")
NS = "tenant"
SRC = "quay.example/app/web:1"
INTERVAL = CONFIG.scheduled_import_interval


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}".rjust(64, "0")


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


def the_stream(scheduled: bool = True) -> ImageStream:
    return parse_as(
        ImageStream,
        {
            "metadata": {"name": "web", "namespace": NS, "generation": 1},
            "spec": {
                "tags": [
                    {
                        "name": "1",
                        "from": {"kind": "DockerImage", "name": SRC},
                        "importPolicy": {"scheduled": scheduled},
                    }
                ]
            },
        },
    )


Answer = int | BuildError  # a digest number, or what the registry raises


@dataclass(frozen=True)
class Case:
    name: str
    answers: tuple[Answer, ...]  # what the registry says at each reconcile, INTERVAL apart
    history: tuple[int, ...]  # the tag's images at the end, newest first
    failing: str = ""  # the ImportSuccess=False reason at the end
    writes: int | None = None  # status writes over all reconciles


CASES = [
    Case("a new tag is imported", (1,), history=(1,), writes=1),
    Case("a periodic check that finds the same image writes nothing", (1, 1, 1), history=(1,),
         writes=1),
    Case("a periodic check that finds a new image moves the tag", (1, 2), history=(2, 1),
         writes=2),
    Case("and again, newest first", (1, 2, 3), history=(3, 2, 1), writes=3),
    Case("a failure keeps the history and says why", (1, ImageNotFound("gone")), history=(1,),
         failing="NotFound"),
    Case("the next success clears the failure", (1, RegistryUnreachable("down"), 1),
         history=(1,)),
    Case("a first import that fails: a condition, no image", (ImageNotFound("no such tag"),),
         history=(), failing="NotFound"),
    Case("recovering with a new image", (ImageNotFound("x"), 4), history=(4,)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_import_results_applied_to_the_tag(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry().install(monkeypatch)
    kube = FakeKube()
    clock = Clock()
    importer = Importer(kube, CONFIG, TokenBucket(1000, 1000), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    reconciler = ImageStreamReconciler(
        kube, CONFIG, importer, clock=clock, authorizer=Authorizer(kube)  # type: ignore[arg-type]
    )  # fmt: skip
    kube.image_streams.create(the_stream())
    for answer in case.answers:
        registry.errors.pop(SRC, None)
        if isinstance(answer, BuildError):
            registry.errors[SRC] = answer
        else:
            registry.tags[SRC] = digest(answer)
        reconciler.reconcile(NS, "web")
        clock.now += INTERVAL + 1
    assert len(registry.calls) == len(case.answers)  # one registry check per interval
    stream = kube.image_streams.objects[(NS, "web")]
    named = {t.tag: t for t in stream.status.tags}
    images = [e.image for e in named["1"].items] if "1" in named else []
    assert images == [digest(n) for n in case.history]
    if images:
        assert named["1"].items[0].docker_image_reference == (
            f"quay.example/app/web@{digest(case.history[0])}"
        )
    failure = import_failure(stream, "1")
    assert (failure.reason if failure is not None else "") == case.failing
    if case.writes is not None:
        assert kube.calls.count("replace_status imagestreams") == case.writes


def test_a_tag_removed_from_the_spec_while_importing_is_not_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = FakeRegistry().install(monkeypatch)
    kube = FakeKube()
    importer = Importer(kube, CONFIG, TokenBucket(1000, 1000), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    reconciler = ImageStreamReconciler(kube, CONFIG, importer, authorizer=Authorizer(kube))  # type: ignore[arg-type]
    kube.image_streams.create(the_stream(scheduled=False))
    registry.tags[SRC] = digest(1)
    original_run = importer.run

    def run_then_user_removes_the_tag(namespace, requests):  # type: ignore[no-untyped-def]
        outcomes = original_run(namespace, requests)
        current = kube.image_streams.get(NS, "web")
        current.spec.tags = []
        kube.image_streams.replace(current)
        return outcomes

    importer.run = run_then_user_removes_the_tag  # type: ignore[method-assign]
    reconciler.reconcile(NS, "web")
    stream = kube.image_streams.objects[(NS, "web")]
    assert [t.tag for t in stream.status.tags] == []
