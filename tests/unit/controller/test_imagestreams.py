from __future__ import annotations

import pytest

from builder.api import BuildError, ObjectReference
from builder.controller.config import ControllerConfig
from builder.controller.imagestreams import output_target

CONFIG = ControllerConfig(registry="reg:5000", build_pod_image="reg:5000/kbuild/buildpod")


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
