"""``kbuild describe istag``: oc's ``DescribeImage`` text from a manifest and config (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from builder.cli.describe_istag import describe_image, human_size, image_details
from tests.unit.cli.helpers import NOW

CONFIG: dict[str, Any] = {
    "created": "2024-04-17T12:00:00Z",
    "architecture": "amd64",
    "config": {
        "Entrypoint": ["container-entrypoint"],
        "Cmd": ["/bin/sh", "-c", "$STI_SCRIPTS_PATH/usage"],
        "WorkingDir": "/opt/app-root/src",
        "User": "1001",
        "ExposedPorts": {"8080/tcp": {}, "443/tcp": {}},
        "Labels": {"name": "python", "build-date": "20170801"},
        "Env": ["PATH=/usr/bin", "HOME=/opt/app-root"],
        "Volumes": {"/data": {}},
    },
}
LAYERS = [("sha256:aaa", 2_898_000), ("sha256:bbb", 72_260_000)]
REF = "reg:5000/ns/python@sha256:49c1"


def test_describe_image_as_oc_lays_it_out() -> None:
    details = image_details(LAYERS, json.dumps(CONFIG).encode())
    text = describe_image("sha256:49c1", REF, "2024-05-01T11:58:00Z", details, NOW)
    assert text == (
        "Image Name:\tsha256:49c1\n"
        "Docker Image:\treg:5000/ns/python@sha256:49c1\n"
        "Name:\t\tsha256:49c1\n"
        "Created:\t2 minutes ago\n"
        "Image Size:\t75.16MB in 2 layers\n"
        "Layers:\t\t2.898MB\tsha256:aaa\n"
        "\t\t72.26MB\tsha256:bbb\n"
        "Image Created:\t2 weeks ago\n"
        "Author:\t\t<none>\n"
        "Arch:\t\tamd64\n"
        "Entrypoint:\tcontainer-entrypoint\n"
        "Command:\t/bin/sh -c $STI_SCRIPTS_PATH/usage\n"
        "Working Dir:\t/opt/app-root/src\n"
        "User:\t\t1001\n"
        "Exposes Ports:\t443/tcp, 8080/tcp\n"
        "Docker Labels:\tbuild-date=20170801\n"
        "\t\tname=python\n"
        "Environment:\tPATH=/usr/bin\n"
        "\t\tHOME=/opt/app-root\n"
        "Volumes:\t/data\n"
    )


def test_describe_image_without_the_registry_is_what_the_stream_knows() -> None:
    text = describe_image("sha256:49c1", REF, "2024-05-01T11:58:00Z", None, NOW)
    assert text.splitlines() == [
        "Image Name:\tsha256:49c1",
        "Docker Image:\treg:5000/ns/python@sha256:49c1",
        "Name:\t\tsha256:49c1",
        "Created:\t2 minutes ago",
    ]


@pytest.mark.parametrize(
    ("config", "lines"),
    [
        ({"Cmd": ["run"]}, ["Command:\trun"]),
        ({"Entrypoint": ["ep"]}, ["Entrypoint:\tep"]),
        ({}, ["Command:\t<none>"]),
        ({"Entrypoint": ["ep", "-x"], "Cmd": ["a"]}, ["Entrypoint:\tep -x", "Command:\ta"]),
    ],
)
def test_entrypoint_and_command(config: dict[str, Any], lines: list[str]) -> None:
    details = image_details([], json.dumps({"config": config}).encode())
    text = describe_image("sha256:1", REF, "", details, NOW)
    got = [line for line in text.splitlines() if line.startswith(("Entrypoint", "Command"))]
    assert [" ".join(g.split()) for g in got] == [" ".join(x.split()) for x in lines]


def test_config_that_is_not_an_object_reads_as_empty() -> None:
    text = describe_image("sha256:1", REF, "", image_details([], b"[1, 2]"), NOW)
    assert "Layer Size:\t0B" in text
    assert "Image Created:\t292 years ago" in text


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0B"),
        (999, "999B"),
        (1000, "1kB"),
        (1536, "1.536kB"),
        (251_234_567, "251.2MB"),
        (3_000_000_000, "3GB"),
    ],
)
def test_human_size_is_go_units(size: int, text: str) -> None:
    assert human_size(size) == text


def _stream_tag(registry: str, annotated: bool) -> Any:
    from builder.api import ImageStream, parse_as  # noqa: PLC0415
    from builder.cli.get import StreamTag  # noqa: PLC0415

    annotations = {"openshift.io/image.insecureRepository": "true"} if annotated else {}
    stream = parse_as(ImageStream, {
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
        "metadata": {"name": "python", "namespace": "ns", "annotations": annotations},
        "spec": {"tags": [{"name": "1",
                           "from": {"kind": "DockerImage", "name": f"{registry}/p:1"}}]},
    })  # fmt: skip
    event = {"created": "2024-05-01T11:58:00Z", "image": "sha256:49c1", "generation": 1,
             "dockerImageReference": f"{registry}/ns/python@sha256:{64 * 'a'}"}  # fmt: skip
    from builder.api.image import TagEvent  # noqa: PLC0415

    return StreamTag(stream, "1", parse_as(TagEvent, event))


@pytest.mark.parametrize(
    ("registry", "annotated", "user_hosts", "insecure", "anonymous"),
    [
        ("reg.example:5000", False, "", set(), False),
        # the stream alone allows plain HTTP: the user's credentials stay home
        ("reg.example:5000", True, "", {"reg.example:5000"}, True),
        # the user allows it too: their choice, their credentials
        ("reg.example:5000", True, "reg.example", {"reg.example"}, False),
        ("127.0.0.1:5000", True, "", set(), False),
    ],
)
def test_plain_http_allowed_by_a_stream_sends_no_credentials(
    monkeypatch: pytest.MonkeyPatch,
    registry: str,
    annotated: bool,
    user_hosts: str,
    insecure: set[str],
    anonymous: bool,
) -> None:
    """Whoever may edit a stream must not make a describing user send a password in clear."""
    from builder.cli.describe_istag import insecure_hosts  # noqa: PLC0415

    monkeypatch.setenv("KBUILD_INSECURE_REGISTRIES", user_hosts)
    access = insecure_hosts(_stream_tag(registry, annotated))
    assert (access.insecure, access.anonymous) == (insecure, anonymous)
