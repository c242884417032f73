"""``kbuild get is|istag``: the OpenShift API server's image stream columns (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from builder.api import ImageStream, dump, parse_as
from builder.cli.common import IMAGE_STREAM_TAGS, IMAGE_STREAMS, CliError
from builder.cli.get import (
    istag_object,
    istag_row,
    parse_targets,
    render_objects,
    render_stream_tags,
    render_streams,
    sort_status_tags,
    stream_row,
    stream_tag,
    stream_tags,
    tags_up_to_width,
)
from tests.unit.cli.helpers import NOW

D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
REPO = "registry.kbuild.local:5000/dev/app"


def event(created: str, image: str = D1, ref: str = "", generation: int = 1) -> dict[str, Any]:
    return {
        "created": created,
        "dockerImageReference": ref or f"{REPO}@{image}",
        "image": image,
        "generation": generation,
    }


def stream(
    name: str = "app",
    tags: dict[str, list[dict[str, Any]]] | None = None,
    *,
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    namespace: str = "dev",
) -> ImageStream:
    return parse_as(
        ImageStream,
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": "uid-1",
                "resourceVersion": "42",
                "labels": {"app": name},
            },
            "spec": spec or {},
            "status": {
                "dockerImageRepository": REPO,
                "tags": [{"tag": t, "items": items} for t, items in (tags or {}).items()],
                **(status or {}),
            },
        },
    )


def named_tags(*names: str) -> dict[str, list[dict[str, Any]]]:
    return {n: [event("2024-05-01T11:00:00Z")] for n in names}


# ---------------------------------------------------------------------------
# get is


def test_status_tags_are_ordered_newest_first_to_the_second_then_by_name() -> None:
    s = stream(
        tags={
            "old": [event("2024-05-01T09:00:00Z")],
            "b": [event("2024-05-01T11:00:00.400Z")],
            "a": [event("2024-05-01T11:00:00Z")],
            "rounded-up": [event("2024-05-01T11:00:00.600Z")],
            "empty": [],
        }
    )
    assert sort_status_tags(dump(s)) == ["rounded-up", "a", "b", "old", "empty"]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["latest"], "latest"),
        ([f"tag-0{i}" for i in range(1, 6)], "tag-01,tag-02,tag-03,tag-04,tag-05"),
        ([f"tag-0{i}" for i in range(1, 9)], "tag-01,tag-02,tag-03,tag-04,tag-05 + 3 more..."),
        # a little over the width is kept when it fills the line more evenly
        (["a" * 20, "b" * 20, "c"], f"{'a' * 20},{'b' * 20} + 1 more..."),
        # the first tag is always shown
        (["x" * 50, "y"], f"{'x' * 50} + 1 more..."),
    ],
)
def test_tags_column_fits_forty_characters(names: list[str], expected: str) -> None:
    assert tags_up_to_width(dump(stream(tags=named_tags(*names)))) == expected


def test_stream_row() -> None:
    s = stream(
        tags={
            "latest": [event("2024-05-01T11:58:00Z"), event("2024-05-01T08:00:00Z", D2)],
            "v1": [event("2024-05-01T10:00:00Z")],
        }
    )
    assert stream_row(dump(s), NOW) == ["app", REPO, "latest,v1", "2 minutes ago"]


def test_stream_row_repository_and_updated_as_the_server_picks_them() -> None:
    s = stream(spec={"dockerImageRepository": "quay.io/acme/app"})
    assert stream_row(dump(s), NOW) == ["app", "quay.io/acme/app", "", ""]
    public = stream(
        spec={"dockerImageRepository": "quay.io/acme/app"},
        status={"publicDockerImageRepository": "registry.example.com/dev/app"},
    )
    assert stream_row(dump(public), NOW)[1] == "registry.example.com/dev/app"


def test_render_streams() -> None:
    streams = [
        dump(stream(tags={"latest": [event("2024-05-01T11:00:00Z")]})),
        dump(stream("ruby", namespace="ci")),
    ]
    assert render_streams(streams, NOW) == (
        "NAME   IMAGE REPOSITORY                     TAGS     UPDATED\n"
        f"app    {REPO}   latest   About an hour ago\n"
        f"ruby   {REPO}            \n"
    )
    kind_name = "imagestream.image.openshift.io/ruby"
    assert render_streams(streams[1:], NOW, all_namespaces=True, with_kind=True) == (
        f"NAMESPACE   {'NAME'.ljust(len(kind_name) + 3)}{'IMAGE REPOSITORY'.ljust(len(REPO) + 3)}"
        "TAGS   UPDATED\n"
        f"ci          {kind_name}   {REPO}          \n"
    )


# ---------------------------------------------------------------------------
# get istag

LOCAL_SPEC = {
    "tags": [
        {
            "name": "latest",
            "from": {"kind": "DockerImage", "name": "quay.io/acme/app:1"},
            "referencePolicy": {"type": "Local"},
            "annotations": {"description": "the app"},
            "generation": 3,
        }
    ]
}


def test_stream_tags_are_the_tags_with_an_image() -> None:
    s = stream(
        tags={
            "v2": [event("2024-05-01T11:00:00Z")],
            "failed": [],
            "ref": [event("2024-05-01T11:00:00Z", image="", ref="quay.io/x/y:1")],
            "latest": [event("2024-05-01T10:00:00Z")],
        }
    )
    assert [t.name for t in stream_tags(s)] == ["app:latest", "app:v2"]


@pytest.mark.parametrize("name", ["app:failed", "app:missing", "app:ref"])
def test_a_tag_without_image_is_not_found(name: str) -> None:
    s = stream(tags={"failed": [], "ref": [event("2024-05-01T11:00:00Z", image="", ref="q/x:1")]})
    with pytest.raises(CliError, match=f'imagestreamtags.image.openshift.io "{name}" not found'):
        stream_tag(s, name)


def test_istag_row_honours_the_reference_policy() -> None:
    source = f"quay.io/acme/app@{D1}"
    s = stream(tags={"latest": [event("2024-05-01T11:00:00Z", ref=source)]})
    assert istag_row(stream_tag(s, "app:latest"), NOW) == [
        "app:latest",
        source,
        "About an hour ago",
    ]
    local = stream(tags={"latest": [event("2024-05-01T11:00:00Z", ref=source)]}, spec=LOCAL_SPEC)
    assert istag_row(stream_tag(local, "app:latest"), NOW, wide=True) == [
        "app:latest",
        f"{REPO}@{D1}",
        "About an hour ago",
        D1,
    ]


def test_render_stream_tags_wide_and_all_namespaces() -> None:
    s = stream(
        tags={"latest": [event("2024-05-01T11:59:00Z")], "v1": [event("2024-04-01T12:00:00Z", D2)]}
    )
    items = stream_tags(s)
    reference = f"{REPO}@{D1}"
    column = len(reference) + 3
    assert render_stream_tags(items, NOW) == (
        f"NAME         {'IMAGE REFERENCE'.ljust(column)}UPDATED\n"
        f"app:latest   {reference}   About a minute ago\n"
        f"app:v1       {REPO}@{D2}   4 weeks ago\n"
    )
    wide = render_stream_tags(items[:1], NOW, all_namespaces=True, wide=True, with_kind=True)
    kind_name = "imagestreamtag.image.openshift.io/app:latest"
    assert wide.splitlines() == [
        f"NAMESPACE   {'NAME'.ljust(len(kind_name) + 3)}{'IMAGE REFERENCE'.ljust(column)}"
        f"{'UPDATED'.ljust(len('About a minute ago') + 3)}IMAGE NAME",
        f"dev         {kind_name}   {reference}   About a minute ago   {D1}",
    ]


def test_istag_object_is_an_image_stream_tag() -> None:
    s = stream(
        tags={"latest": [event("2024-05-01T11:00:00Z", generation=3)]},
        spec=LOCAL_SPEC,
    )
    assert istag_object(stream_tag(s, "app:latest")) == {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStreamTag",
        "metadata": {
            "name": "app:latest",
            "namespace": "dev",
            "creationTimestamp": "2024-05-01T11:00:00Z",
            "resourceVersion": "42",
            "uid": "uid-1",
            "labels": {"app": "app"},
            "annotations": {"description": "the app"},
        },
        "tag": LOCAL_SPEC["tags"][0],
        "generation": 3,
        "lookupPolicy": {"local": False},
        "image": {"metadata": {"name": D1}, "dockerImageReference": f"{REPO}@{D1}"},
    }


def test_istag_object_of_a_pushed_tag_with_a_failed_reimport() -> None:
    failure = {
        "type": "ImportSuccess",
        "status": "False",
        "reason": "NotFound",
        "message": "gone",
        "generation": 2,
    }
    pushed = {"tag": "dev", "items": [event("2024-05-01T11:00:00Z")], "conditions": [failure]}
    data = istag_object(stream_tag(stream(status={"tags": [pushed]}), "app:dev"))
    assert data["tag"] is None
    assert data["conditions"] == [failure]
    assert "annotations" not in data["metadata"]


def test_render_objects_for_streams_and_tags() -> None:
    s = stream(tags={"latest": [event("2024-05-01T11:00:00Z")]})
    tag = stream_tag(s, "app:latest")
    assert render_objects([s, tag], "name", single=False) == (
        "imagestream.image.openshift.io/app\nimagestreamtag.image.openshift.io/app:latest\n"
    )
    one = yaml.safe_load(render_objects([tag], "yaml", single=True))
    assert one["kind"] == "ImageStreamTag"
    listed = json.loads(render_objects([s, tag], "json", single=False))
    assert [i["kind"] for i in listed["items"]] == ["ImageStream", "ImageStreamTag"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["is"], [(IMAGE_STREAMS, None)]),
        (["istag", "app:latest"], [(IMAGE_STREAM_TAGS, "app:latest")]),
        (["is,istag"], [(IMAGE_STREAMS, None), (IMAGE_STREAM_TAGS, None)]),
        (["imagestreamtag/app:v1"], [(IMAGE_STREAM_TAGS, "app:v1")]),
    ],
)
def test_parse_targets_for_streams(args: list[str], expected: list[object]) -> None:
    assert parse_targets(args) == expected
