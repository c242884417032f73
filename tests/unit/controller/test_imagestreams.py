from __future__ import annotations

import pytest

from builder.api import BuildError, ImageStream, ObjectReference, parse_as
from builder.controller.config import ControllerConfig
from builder.controller.imagestreams import current_image, output_target, split_tag

CONFIG = ControllerConfig(registry="reg:5000", build_pod_image="reg:5000/kbuild/buildpod")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("app:latest", ("app", "latest")), ("a-b:v1.2", ("a-b", "v1.2"))],
)
def test_split_tag(name: str, expected: tuple[str, str]) -> None:
    assert split_tag(name) == expected


@pytest.mark.parametrize("name", ["app", ":x", "app:", "a:b:c"])
def test_split_tag_refuses(name: str) -> None:
    with pytest.raises(BuildError):
        split_tag(name)


def test_output_targets() -> None:
    assert output_target(CONFIG, ObjectReference(kind="DockerImage", name="x/y:1"), "dev") == (
        "x/y:1",
        None,
    )
    assert output_target(CONFIG, ObjectReference(kind="ImageStreamTag", name="app:v1"), "dev") == (
        "reg:5000/dev/app:v1",
        "dev/app:v1",
    )
    other_ns = ObjectReference(kind="ImageStreamTag", name="app:v1", namespace="shared")
    assert output_target(CONFIG, other_ns, "dev")[1] == "shared/app:v1"
    with pytest.raises(BuildError):
        output_target(CONFIG, ObjectReference(kind="ImageStreamImage", name="a@sha256:1"), "dev")


def item(n: int) -> dict[str, object]:
    return {
        "created": f"2026-01-0{n}T00:00:00Z",
        "dockerImageReference": f"r/a@sha256:{n}",
        "image": f"sha256:{n}",
        "generation": n,
    }


def test_current_image_is_the_newest_item() -> None:
    stream = parse_as(
        ImageStream,
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": "app"},
            "status": {
                "tags": [
                    {
                        "tag": "latest",
                        "items": [item(2), item(1)],
                    }
                ]
            },
        },
    )
    newest = current_image(stream, "latest")
    assert newest is not None and newest.image == "sha256:2"
    assert current_image(stream, "other") is None
