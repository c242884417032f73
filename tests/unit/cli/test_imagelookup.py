"""``kbuild set image-lookup``: targets, the stream flag, the template annotation, --list."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from builder.api import ImageStream, parse_as
from builder.cli.common import IMAGE_STREAMS, CliError
from builder.cli.imagelookup import (
    RESOLVE_NAMES_ANNOTATION,
    parse_targets,
    set_local,
    stream_table,
    template_patch,
    template_resolves,
)
from builder.cli.main import parse_args

KEY = "alpha.image.policy.openshift.io~1resolve-names"


def _stream(name: str, local: bool | None = None) -> ImageStream:
    spec = {} if local is None else {"lookupPolicy": {"local": local}}
    return parse_as(
        ImageStream,
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": name, "namespace": "dev"},
            "spec": spec,
        },
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ruby"], [("ImageStream", "ruby")]),
        (["is/ruby", "imagestream/perl"], [("ImageStream", "ruby"), ("ImageStream", "perl")]),
        (["deploy/app"], [("Deployment", "app")]),
        (["dc/app", "cronjob/nightly"], [("DeploymentConfig", "app"), ("CronJob", "nightly")]),
    ],
)
def test_targets(args: list[str], expected: list[tuple[str, str]]) -> None:
    assert [(r.kind, n) for r, n in parse_targets(args)] == expected


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(CliError, match="doesn't have a resource type"):
        parse_targets(["svc/app"])


@pytest.mark.parametrize(
    ("argv", "enabled"),
    [
        (["set", "image-lookup", "ruby"], True),
        (["set", "image-lookup", "ruby", "--enabled=false"], False),
        (["set", "image-lookup", "ruby", "--enabled=true"], True),
    ],
)
def test_enabled_takes_go_booleans(argv: list[str], enabled: bool) -> None:
    assert parse_args(argv).enabled is enabled


@pytest.mark.parametrize(
    ("before", "enabled", "changed", "after"),
    [
        (None, True, True, True),
        (True, True, False, True),
        (True, False, True, False),
        (None, False, False, False),
    ],
)
def test_set_local(before: bool | None, enabled: bool, changed: bool, after: bool) -> None:
    stream = _stream("ruby", before)
    assert set_local(stream, enabled) is changed
    assert stream.spec.lookup_policy.local is after


def test_the_list_is_ocs_table() -> None:
    text = stream_table([_stream("ruby", True), _stream("perl")])
    assert text.splitlines() == ["NAME   LOCAL", "perl   false", "ruby   true"]


def _deployment(annotations: dict[str, str] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": {"app": "x"}}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"spec": {"template": {"metadata": meta, "spec": {"containers": []}}}}


def _apply(obj: dict[str, Any], patch: list[dict[str, Any]]) -> dict[str, Any]:
    """A tiny JSON patch applier (add/remove of object members), for these tests."""
    obj = copy.deepcopy(obj)
    for op in patch:
        *parents, last = [
            p.replace("~1", "/").replace("~0", "~") for p in op["path"][1:].split("/")
        ]
        target = obj
        for part in parents:
            target = target[part]
        if op["op"] == "add":
            target[last] = op["value"]
        else:
            del target[last]
    return obj


@pytest.mark.parametrize(
    ("annotations", "enabled", "ops"),
    [
        (None, True, ["add"]),
        ({}, True, ["add"]),
        ({"other": "1"}, True, ["add"]),
        ({RESOLVE_NAMES_ANNOTATION: "*"}, True, []),
        ({RESOLVE_NAMES_ANNOTATION: "*"}, False, ["remove"]),
        ({RESOLVE_NAMES_ANNOTATION: "no"}, True, ["add"]),
        (None, False, []),
    ],
)
def test_the_template_annotation(
    annotations: dict[str, str] | None, enabled: bool, ops: list[str]
) -> None:
    obj = _deployment(annotations)
    patch = template_patch(obj, "Deployment", enabled)
    assert [op["op"] for op in patch] == ops
    patched = _apply(obj, patch)
    assert template_resolves(patched, "Deployment") is enabled
    kept = {k: v for k, v in (annotations or {}).items() if k != RESOLVE_NAMES_ANNOTATION}
    got = patched["spec"]["template"]["metadata"].get("annotations") or {}
    assert {k: v for k, v in got.items() if k != RESOLVE_NAMES_ANNOTATION} == kept


def test_a_cron_jobs_template_is_under_its_job_template() -> None:
    obj = {"spec": {"jobTemplate": {"spec": {"template": {"metadata": {"annotations": {}}}}}}}
    (op,) = template_patch(obj, "CronJob", True)
    assert op["path"] == f"/spec/jobTemplate/spec/template/metadata/annotations/{KEY}"


def test_a_workload_without_a_template_is_an_error() -> None:
    with pytest.raises(CliError, match="no pod template"):
        template_patch({"spec": {}}, "Deployment", True)


def test_bare_names_are_streams() -> None:
    ((resource, _),) = parse_targets(["x"])
    assert resource is IMAGE_STREAMS
