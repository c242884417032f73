"""``kbuild describe is/NAME``: oc's image stream describer, as text (pure).

The golden files in data/ were checked line by line against oc's
``DescribeImageStream``/``formatImageStreamTags`` (pkg/helpers/describe);
their tab alignment against Go's own text/tabwriter.  The stream below has
one tag of every kind the describer tells apart.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from builder.api import ImageStream, parse_as
from builder.cli.common import IMAGE_STREAMS
from builder.cli.describe import targets
from builder.cli.describe_is import describe_image_stream
from builder.cli.streams_common import prioritize_tags
from tests.unit.cli.helpers import NOW

DATA = Path(__file__).parent / "data"
D1, D2, D3, D4, D5, D6 = (f"sha256:{c * 64}" for c in "123456")
HUB = "docker.io/library/ruby"
LOCAL = "registry.kbuild.local:5000/dev/ruby"


def item(ref: str, image: str, created: str, generation: int) -> dict[str, Any]:
    return {
        "created": created,
        "dockerImageReference": ref,
        "image": image,
        "generation": generation,
    }


def docker_tag(name: str, source: str, generation: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "from": {"kind": "DockerImage", "name": source},
        "generation": generation,
        **extra,
    }


STREAM: dict[str, Any] = {
    "apiVersion": "image.openshift.io/v1",
    "kind": "ImageStream",
    "metadata": {
        "name": "ruby",
        "namespace": "dev",
        "creationTimestamp": "2024-04-29T09:00:00Z",
        "labels": {"app": "ruby"},
        "annotations": {
            "description": "Ruby builder images",
            "openshift.io/image.dockerRepositoryCheck": "2024-05-01T11:58:00Z",
        },
    },
    "spec": {
        "tags": [
            docker_tag(
                "latest",
                f"{HUB}:3.3",
                4,
                importPolicy={"scheduled": True, "insecure": True},
                referencePolicy={"type": "Local"},
                annotations={
                    "description": "Ruby 3.3",
                    "tags": "builder,ruby",
                    "supports": "ruby:3.3,ruby",
                    "sampleRepo": "https://git.example.com/ruby-ex.git",
                },
            ),
            {
                "name": "stable",
                "from": {"kind": "ImageStreamTag", "name": "latest"},
                "generation": 4,
            },
            {
                "name": "tip",
                "from": {"kind": "ImageStreamTag", "name": "ruby:stable"},
                "generation": 4,
            },
            docker_tag("3.1", f"{HUB}:3.1", 3),
            {
                "name": "3.0",
                "from": {"kind": "ImageStreamTag", "name": "ruby:3.0", "namespace": "openshift"},
                "generation": 2,
            },
            docker_tag("2.7", f"{HUB}:2.7", 5),
            {
                "name": "rollback",
                "from": {"kind": "ImageStreamImage", "name": f"ruby@{D2}"},
                "generation": 4,
            },
            docker_tag("ext", "quay.io/acme/ruby:edge", 2, reference=True),
            {"name": "draft"},
            docker_tag("v3.2.1", f"{HUB}:3.2.1", 2, importPolicy={"scheduled": True}),
            docker_tag("3.2.0", f"{HUB}:3.2.0", 6),
        ]
    },
    "status": {
        "dockerImageRepository": LOCAL,
        "tags": [
            {
                "tag": "latest",
                "items": [
                    item(f"{HUB}@{D1}", D1, "2024-05-01T11:58:00Z", 4),
                    item(f"{HUB}:3.3", D2, "2024-04-30T10:00:00Z", 2),
                    item(f"{LOCAL}@{D3}", D3, "2024-04-10T12:00:00Z", 1),
                ],
            },
            {"tag": "stable", "items": [item(f"{HUB}@{D1}", D1, "2024-05-01T11:58:00Z", 4)]},
            {"tag": "tip", "items": [item(f"{HUB}@{D1}", D1, "2024-05-01T11:58:00Z", 4)]},
            {
                "tag": "3.1",
                "items": [],
                "conditions": [
                    {
                        "type": "ImportSuccess",
                        "status": "False",
                        "reason": "NotFound",
                        "message": f"{HUB}:3.1: manifest unknown",
                        "generation": 3,
                        "lastTransitionTime": "2024-05-01T11:59:30Z",
                    }
                ],
            },
            {
                "tag": "3.0",
                "items": [
                    item(
                        f"{LOCAL.replace('/dev/', '/openshift/')}@{D3}",
                        D3,
                        "2024-04-20T12:00:00Z",
                        2,
                    )
                ],
            },
            {"tag": "2.7", "items": [item(f"{HUB}@{D4}", D4, "2024-03-01T12:00:00Z", 2)]},
            {"tag": "rollback", "items": [item(f"{HUB}:3.3", D2, "2024-05-01T11:00:00Z", 4)]},
            {
                "tag": "ext",
                "items": [item("quay.io/acme/ruby:edge", "", "2024-05-01T11:59:59Z", 2)],
            },
            {"tag": "v3.2.1", "items": [item(f"{HUB}@{D6}", D6, "2023-01-01T00:00:00Z", 2)]},
            {"tag": "dev", "items": [item(f"{LOCAL}@{D5}", D5, "2024-05-01T11:30:00Z", 0)]},
        ],
    },
}


def stream(data: dict[str, Any] | None = None) -> ImageStream:
    return parse_as(ImageStream, copy.deepcopy(STREAM if data is None else data))


def golden(name: str) -> str:
    return (DATA / name).read_text()


def test_describe_every_kind_of_tag() -> None:
    assert describe_image_stream(stream(), NOW) == golden("describe_is_full.txt")


def test_describe_a_stream_without_tags() -> None:
    data = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {
            "name": "app",
            "namespace": "dev",
            "creationTimestamp": "2024-05-01T11:59:58Z",
        },
    }
    assert describe_image_stream(stream(data), NOW) == golden("describe_is_empty.txt")


def test_public_repository_is_shown_when_set() -> None:
    data = copy.deepcopy(STREAM)
    data["status"]["publicDockerImageRepository"] = "registry.example.com/dev/ruby"
    text = describe_image_stream(stream(data), NOW)
    assert "Image Repository:\tregistry.example.com/dev/ruby\n" in text


def test_entries_without_image_id_count_once_as_oc_counts_them() -> None:
    data = copy.deepcopy(STREAM)
    data["status"]["tags"] = [
        {"tag": "a", "items": [item("quay.io/a:1", "", "2024-05-01T11:00:00Z", 1)]},
        {"tag": "b", "items": [item("quay.io/b:1", "", "2024-05-01T11:00:00Z", 1)]},
        {"tag": "c", "items": [item(f"{HUB}@{D1}", D1, "2024-05-01T11:00:00Z", 1)]},
    ]
    data["spec"]["tags"] = []
    assert "Unique Images:\t\t2\nTags:\t\t\t3\n" in describe_image_stream(stream(data), NOW)


def test_a_failure_without_transition_time_is_as_old_as_go_zero_time() -> None:
    data = copy.deepcopy(STREAM)
    del data["status"]["tags"][3]["conditions"][0]["lastTransitionTime"]
    text = describe_image_stream(stream(data), NOW)
    assert "manifest unknown\n      292 years ago\n" in text


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["b", "latest", "a"], ["latest", "a", "b"]),
        (["1.0", "2.0", "1.10", "v1.10"], ["2.0", "1.10", "v1.10", "1.0"]),
        (["3.2.1", "3.2", "latest", "v3.3.0", "x"], ["latest", "3.2", "v3.3.0", "3.2.1", "x"]),
        (["5.1-rc1", "5.1", "5.0"], ["5.1", "5.1-rc1", "5.0"]),
        (
            ["1.2.3-rc.1", "1.2.3", "1.2.3-rc.10", "1.2.3-rc.2"],
            ["1.2.3", "1.2.3-rc.10", "1.2.3-rc.2", "1.2.3-rc.1"],
        ),
        (["01.2", "1.02.3", "v", "vv1.0"], ["01.2", "1.02.3", "v", "vv1.0"]),
    ],
)
def test_tag_order_is_prioritize_tags(tags: list[str], expected: list[str]) -> None:
    assert prioritize_tags(tags) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["is/ruby"], [(IMAGE_STREAMS, "ruby")]),
        (["imagestream", "ruby", "app"], [(IMAGE_STREAMS, "ruby"), (IMAGE_STREAMS, "app")]),
        (["imagestreams.image.openshift.io"], [(IMAGE_STREAMS, None)]),
    ],
)
def test_describe_accepts_image_streams(args: list[str], expected: list[object]) -> None:
    assert targets(args) == expected
