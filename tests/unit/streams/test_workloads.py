"""Image triggers on workloads: the plan, its JSON patch, and the tags an object follows.

The table follows OpenShift library-go's ``annotations_test`` (a StatefulSet
``default/test`` whose containers are given as ``{name: image}``, init
containers prefixed with ``-``), plus the cases kbuild adds: index paths,
CronJobs, containers without an image, annotation problems.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from builder.api.constants import IMAGE_TRIGGERS_ANNOTATION
from builder.streams.fieldpath import ContainerPath
from builder.streams.workloads import Change, Plan, json_patch, plan, watched_tags

NAMED = 'spec.template.spec.containers[?(@.name=="{}")].image'
INIT = 'spec.template.spec.initContainers[?(@.name=="{}")].image'
CRON = 'spec.jobTemplate.spec.template.spec.containers[?(@.name=="{}")].image'


def trigger(
    name: str, path: str, *, namespace: str = "other", kind: str = "ImageStreamTag", **extra: Any
) -> dict[str, Any]:
    source = {"kind": kind, "name": name}
    if namespace:
        source["namespace"] = namespace
    return {"from": source, "fieldPath": path, **extra}


def workload(
    triggers: list[dict[str, Any]] | str | None,
    containers: dict[str, str | None] | None = None,
    *,
    kind: str = "StatefulSet",
) -> dict[str, Any]:
    """A workload ``default/test``; a container whose image is None has no ``image`` key."""
    meta: dict[str, Any] = {"name": "test", "namespace": "default"}
    if triggers is not None:
        text = triggers if isinstance(triggers, str) else json.dumps(triggers)
        meta["annotations"] = {IMAGE_TRIGGERS_ANNOTATION: text}
    pod: dict[str, Any] = {}
    for name, image in sorted((containers or {}).items()):
        list_name = "initContainers" if name.startswith("-") else "containers"
        entry: dict[str, Any] = {"name": name.removeprefix("-")}
        if image is not None:
            entry["image"] = image
        pod.setdefault(list_name, []).append(entry)
    template = {"spec": pod}
    spec = (
        {"jobTemplate": {"spec": {"template": template}}}
        if kind == "CronJob"
        else {"template": template}
    )
    api = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}


TAGS = {("other", "stream-1:1"): "image-lookup-1", ("default", "own:1"): "image-own-1"}


@dataclass
class Case:
    id: str
    obj: dict[str, Any]
    # (list name, index, container name, old image, new image, source)
    changes: list[tuple[str, int, str, str | None, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tags: dict[tuple[str, str], str] = field(default_factory=lambda: dict(TAGS))


CASES = [
    Case("no annotation", workload(None, {"test": ""})),
    Case("empty trigger list", workload([], {"test": ""})),
    Case(
        "no container",
        workload([trigger("stream-1:1", NAMED.format("test"))], None),
        problems=['trigger [0]: no container "test" in StatefulSet default/test'],
    ),
    Case(
        "no container even while the tag has no image",
        workload([trigger("stream-1:1", NAMED.format("test"))], {"other": ""}),
        problems=['trigger [0]: no container "test" in StatefulSet default/test'],
        tags={},
    ),
    *(
        Case(
            f"path without .image: {path}",
            workload([trigger("stream-1:1", path)], {"test": ""}),
            problems=[
                f"trigger [0]: field path {path!r} must select a container image of the "
                "StatefulSet's pod template, e.g. "
                'spec.template.spec.containers[?(@.name=="app")].image'
            ],
        )
        for path in (
            'spec.template.spec.containers[?(@.name=="test")]',
            'spec.template.spec.containers[?(@.name=="test").image',
            "spec.template.spec.containers[@.name=test].image",
        )
    ),
    Case(
        "no ref (the tag has no image yet), no change",
        workload([trigger("stream-1:1", NAMED.format("test"))], {"test": ""}),
        tags={},
    ),
    Case(
        "resolved in another namespace",
        workload([trigger("stream-1:1", NAMED.format("test"))], {"test": ""}),
        changes=[("containers", 0, "test", "", "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "namespace defaults to the object's",
        workload([trigger("own:1", NAMED.format("test"), namespace="")], {"test": "old"}),
        changes=[("containers", 0, "test", "old", "image-own-1", "default/own:1")],
    ),
    Case(
        "the default namespace is not another's",
        workload([trigger("stream-1:1", NAMED.format("test"), namespace="")], {"test": "old"}),
    ),
    Case(
        "resolved for init containers",
        workload([trigger("stream-1:1", INIT.format("test"))], {"-test": "", "app": "x"}),
        changes=[("initContainers", 0, "test", "", "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "paused: no change",
        workload([trigger("stream-1:1", NAMED.format("test"), paused=True)], {"test": ""}),
    ),
    Case(
        "paused: its problems are not reported either",
        workload([trigger("stream-1:1", NAMED.format("gone"), paused=True)], {"test": ""}),
    ),
    Case(
        "fires if only one trigger resolves",
        workload(
            [
                trigger("stream-1:1", NAMED.format("test")),
                trigger("stream-2:1", NAMED.format("test2")),
            ],
            {"test": "", "test2": ""},
        ),
        changes=[("containers", 0, "test", "", "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "fires if a trigger was resolved before",
        workload(
            [
                trigger("stream-1:1", NAMED.format("test")),
                trigger("stream-2:1", NAMED.format("test2")),
            ],
            {"test": "", "test2": "old-image"},
        ),
        changes=[("containers", 0, "test", "", "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "both triggers follow the same tag",
        workload(
            [
                trigger("stream-1:1", NAMED.format("test")),
                trigger("stream-1:1", NAMED.format("test2")),
            ],
            {"test": "", "test2": ""},
        ),
        changes=[
            ("containers", 0, "test", "", "image-lookup-1", "other/stream-1:1"),
            ("containers", 1, "test2", "", "image-lookup-1", "other/stream-1:1"),
        ],
    ),
    Case(
        "image already current: no change",
        workload([trigger("stream-1:1", NAMED.format("test"))], {"test": "image-lookup-1"}),
    ),
    Case(
        "by index",
        workload(
            [trigger("stream-1:1", "spec.template.spec.containers[1].image")],
            {"a": "x", "b": "y"},
        ),
        changes=[("containers", 1, "b", "y", "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "init container by index",
        workload(
            [trigger("stream-1:1", "spec.template.spec.initContainers[0].image")],
            {"-i": "x", "a": "y"},
        ),
        changes=[("initContainers", 0, "i", "x", "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "index out of range",
        workload(
            [trigger("stream-1:1", "spec.template.spec.containers[2].image")],
            {"a": "x", "b": "y"},
        ),
        problems=["trigger [0]: no container #2 in StatefulSet default/test: it has 2 containers"],
    ),
    Case(
        "init index out of range",
        workload([trigger("stream-1:1", "spec.template.spec.initContainers[0].image")], {"a": "x"}),
        problems=[
            "trigger [0]: no init container #0 in StatefulSet default/test: "
            "it has 0 init containers"
        ],
    ),
    Case(
        "a name in containers is not an init container",
        workload([trigger("stream-1:1", INIT.format("a"))], {"a": "x"}),
        problems=['trigger [0]: no init container "a" in StatefulSet default/test'],
    ),
    Case(
        "CronJob",
        workload([trigger("stream-1:1", CRON.format("app"))], {"app": "old"}, kind="CronJob"),
        changes=[("containers", 0, "app", "old", "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "CronJob with a Deployment's path",
        workload([trigger("stream-1:1", NAMED.format("app"))], {"app": "old"}, kind="CronJob"),
        problems=[
            "trigger [0]: field path "
            "'spec.template.spec.containers[?(@.name==\"app\")].image' must select a "
            "container image of the CronJob's pod template, e.g. "
            'spec.jobTemplate.spec.template.spec.containers[?(@.name=="app")].image'
        ],
    ),
    *(
        Case(
            kind,
            workload([trigger("stream-1:1", NAMED.format("app"))], {"app": "old"}, kind=kind),
            changes=[("containers", 0, "app", "old", "image-lookup-1", "other/stream-1:1")],
        )
        for kind in ("Deployment", "DaemonSet", "Job")
    ),
    Case(
        "container without an image key",
        workload([trigger("stream-1:1", NAMED.format("test"))], {"test": None}),
        changes=[("containers", 0, "test", None, "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "bad JSON annotation",
        workload('[{"from": ', {"test": ""}),
        problems=[
            "annotation image.openshift.io/triggers: not JSON: "
            "Expecting value: line 1 column 11 (char 10)"
        ],
    ),
    Case(
        "invalid trigger",
        workload('[{"from":{"name":"stream-1:1"}}]', {"test": ""}),
        problems=[
            "annotation image.openshift.io/triggers: "
            "trigger [0]: fieldPath: required field is missing"
        ],
    ),
    Case(
        "unsupported from.kind, the other trigger still applies",
        workload(
            [
                trigger("quay.io/x/y:1", NAMED.format("a"), kind="DockerImage"),
                trigger("stream-1:1", NAMED.format("b")),
            ],
            {"a": "", "b": ""},
        ),
        changes=[("containers", 1, "b", "", "image-lookup-1", "other/stream-1:1")],
        problems=[
            "trigger [0]: from.kind 'DockerImage' is not supported; "
            "only ImageStreamTag triggers update images"
        ],
    ),
    Case(
        "from.name without a tag",
        workload([trigger("stream-1", NAMED.format("test"))], {"test": ""}),
        problems=["trigger [0]: from.name 'stream-1' must be of the form <stream>:<tag>"],
    ),
    Case(
        "two tags for one container: the first applies",
        workload(
            [
                trigger("stream-1:1", NAMED.format("test")),
                trigger("own:1", NAMED.format("test"), namespace=""),
            ],
            {"test": ""},
        ),
        changes=[("containers", 0, "test", "", "image-lookup-1", "other/stream-1:1")],
        problems=[
            'trigger [1]: container "test" already follows image stream tag '
            "other/stream-1:1 (trigger [0]); ignoring default/own:1"
        ],
    ),
    Case(
        "two tags for one container, by name and by index",
        workload(
            [
                trigger("own:1", "spec.template.spec.containers[0].image", namespace=""),
                trigger("stream-1:1", NAMED.format("test")),
            ],
            {"test": ""},
        ),
        changes=[("containers", 0, "test", "", "image-own-1", "default/own:1")],
        problems=[
            'trigger [1]: container "test" already follows image stream tag '
            "default/own:1 (trigger [0]); ignoring other/stream-1:1"
        ],
    ),
    Case(
        "two tags for one container: reported even while the first has no image",
        workload(
            [
                trigger("stream-2:1", NAMED.format("test")),
                trigger("stream-1:1", NAMED.format("test")),
            ],
            {"test": ""},
        ),
        problems=[
            'trigger [1]: container "test" already follows image stream tag '
            "other/stream-2:1 (trigger [0]); ignoring other/stream-1:1"
        ],
    ),
    Case(
        "the same tag twice for one container",
        workload(
            [
                trigger("stream-1:1", NAMED.format("test")),
                trigger("stream-1:1", "spec.template.spec.containers[0].image"),
            ],
            {"test": ""},
        ),
        changes=[("containers", 0, "test", "", "image-lookup-1", "other/stream-1:1")],
    ),
    Case(
        "the same container name in containers and initContainers is two containers",
        workload(
            [
                trigger("stream-1:1", NAMED.format("test")),
                trigger("own:1", INIT.format("test"), namespace=""),
            ],
            {"test": "", "-test": ""},
        ),
        changes=[
            ("containers", 0, "test", "", "image-lookup-1", "other/stream-1:1"),
            ("initContainers", 0, "test", "", "image-own-1", "default/own:1"),
        ],
    ),
    Case(
        "a kind without a pod template",
        workload([trigger("stream-1:1", NAMED.format("test"))], {"test": ""}, kind="Service"),
        problems=["Service default/test has no pod template image triggers can update"],
    ),
    Case(
        "an empty pull spec is no image",
        workload([trigger("stream-1:1", NAMED.format("test"))], {"test": "x"}),
        tags={("other", "stream-1:1"): ""},
    ),
]


def summary(result: Plan) -> list[tuple[str, int, str, str | None, str, str]]:
    return [
        (c.container.list_name, c.index, c.name, c.old, c.new, c.source) for c in result.changes
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan(case: Case) -> None:
    before = copy.deepcopy(case.obj)
    result = plan(case.obj, lambda namespace, tag: case.tags.get((namespace, tag)))
    assert summary(result) == case.changes
    assert result.problems == case.problems
    assert case.obj == before  # planning never mutates the object


def test_plan_resolves_each_trigger_of_a_container_once() -> None:
    asked: list[tuple[str, str]] = []

    def resolve(namespace: str, tag: str) -> str | None:
        asked.append((namespace, tag))
        return TAGS.get((namespace, tag))

    obj = workload(
        [
            trigger("stream-1:1", NAMED.format("test")),
            trigger("stream-1:1", "spec.template.spec.containers[0].image"),
            trigger("stream-9:1", NAMED.format("test"), paused=True),
        ],
        {"test": ""},
    )
    plan(obj, resolve)
    assert asked == [("other", "stream-1:1")]


def change(
    index: int,
    name: str,
    old: str | None,
    new: str,
    *,
    init: bool = False,
) -> Change:
    return Change(
        container=ContainerPath(init=init, name=name),
        index=index,
        name=name,
        old=old,
        new=new,
        namespace="ns",
        tag="is:tag",
    )


@pytest.mark.parametrize(
    ("changes", "spec_path", "expected"),
    [
        ([], "spec.template.spec", []),
        (
            [change(0, "app", "old", "new")],
            "spec.template.spec",
            [
                {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"},
                {"op": "test", "path": "/spec/template/spec/containers/0/image", "value": "old"},
                {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "new"},
            ],
        ),
        (
            [change(2, "app", "", "new")],
            "/spec/template/spec",
            [
                {"op": "test", "path": "/spec/template/spec/containers/2/name", "value": "app"},
                {"op": "test", "path": "/spec/template/spec/containers/2/image", "value": ""},
                {"op": "replace", "path": "/spec/template/spec/containers/2/image", "value": "new"},
            ],
        ),
        (
            [change(1, "app", None, "new")],
            "spec.template.spec",
            [
                {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "app"},
                {"op": "add", "path": "/spec/template/spec/containers/1/image", "value": "new"},
            ],
        ),
        (
            [change(0, "app", "a", "b"), change(0, "init", "c", "d", init=True)],
            "spec.jobTemplate.spec.template.spec",
            [
                {
                    "op": "test",
                    "path": "/spec/jobTemplate/spec/template/spec/containers/0/name",
                    "value": "app",
                },
                {
                    "op": "test",
                    "path": "/spec/jobTemplate/spec/template/spec/containers/0/image",
                    "value": "a",
                },
                {
                    "op": "replace",
                    "path": "/spec/jobTemplate/spec/template/spec/containers/0/image",
                    "value": "b",
                },
                {
                    "op": "test",
                    "path": "/spec/jobTemplate/spec/template/spec/initContainers/0/name",
                    "value": "init",
                },
                {
                    "op": "test",
                    "path": "/spec/jobTemplate/spec/template/spec/initContainers/0/image",
                    "value": "c",
                },
                {
                    "op": "replace",
                    "path": "/spec/jobTemplate/spec/template/spec/initContainers/0/image",
                    "value": "d",
                },
            ],
        ),
    ],
)
def test_json_patch(changes: list[Change], spec_path: str, expected: list[dict[str, Any]]) -> None:
    assert json_patch(Plan(changes=changes), spec_path) == expected


def test_json_patch_of_a_plan() -> None:
    obj = workload(
        [
            trigger("stream-1:1", "spec.template.spec.containers[1].image"),
            trigger("own:1", NAMED.format("a"), namespace=""),
        ],
        {"a": None, "b": "old"},
        kind="Deployment",
    )
    result = plan(obj, lambda namespace, tag: TAGS.get((namespace, tag)))
    assert json_patch(result, "spec.template.spec") == [
        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "b"},
        {"op": "test", "path": "/spec/template/spec/containers/1/image", "value": "old"},
        {
            "op": "replace",
            "path": "/spec/template/spec/containers/1/image",
            "value": "image-lookup-1",
        },
        {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "a"},
        {"op": "add", "path": "/spec/template/spec/containers/0/image", "value": "image-own-1"},
    ]


def test_change_source() -> None:
    assert change(0, "app", "a", "b").source == "ns/is:tag"


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (workload(None, {"a": ""}), []),
        (workload("not json", {"a": ""}), []),
        (workload('[{"fieldPath":"p"}]', {"a": ""}), []),
        (workload([], {"a": ""}), []),
        (
            workload([trigger("stream-1:1", NAMED.format("a"))], {"a": ""}),
            [("other", "stream-1", "1")],
        ),
        (
            workload([trigger("app:latest", NAMED.format("a"), namespace="")], {"a": ""}),
            [("default", "app", "latest")],
        ),
        (
            # Paused triggers are watched; other kinds and malformed names are not;
            # a tag followed twice is listed once.
            workload(
                [
                    trigger("a:1", NAMED.format("a"), paused=True),
                    trigger("quay.io/x:1", NAMED.format("b"), kind="DockerImage"),
                    trigger("nocolon", NAMED.format("c")),
                    trigger("a:1", NAMED.format("d")),
                    trigger("b:2", "anything at all", namespace=""),
                ],
                {},
            ),
            [("other", "a", "1"), ("default", "b", "2")],
        ),
    ],
)
def test_watched_tags(obj: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert watched_tags(obj) == expected


def test_watched_tags_of_objects_without_metadata() -> None:
    assert watched_tags({}) == []
    assert watched_tags({"metadata": {"annotations": None}}) == []


# -- a hostile annotation is a problem of its own object, never an exception ------


def test_a_deeply_nested_annotation_is_a_problem_not_a_recursion_error() -> None:
    obj = workload("[" * 1024, {"test": "x"})
    assert watched_tags(obj) == []
    result = plan(obj, lambda _namespace, _tag: "image")
    assert result.changes == []
    (problem,) = result.problems
    assert problem.startswith(f"annotation {IMAGE_TRIGGERS_ANNOTATION}: not JSON: ")
    assert "nested more than 100 levels deep" in problem
