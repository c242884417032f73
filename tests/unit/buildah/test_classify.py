"""buildah's failure output, mapped to the reasons OpenShift users script against."""

from __future__ import annotations

import pytest

from builder.api import StatusReason
from builder.buildah import Completed, classify_build_failure


@pytest.mark.parametrize(
    ("tail", "reason", "detail"),
    [
        (
            [
                "STEP 6/7: RUN /usr/libexec/s2i/assemble",
                "boom",
                'error building at STEP "RUN /usr/libexec/s2i/assemble": exit status 1',
            ],
            StatusReason.DOCKER_BUILD_FAILED,
            "assemble script failed: exit status 1",
        ),
        (
            ['Error: error building at STEP "RUN make": while running runtime: exit status 2'],
            StatusReason.DOCKER_BUILD_FAILED,
            'step "RUN make" failed: while running runtime: exit status 2',
        ),
        (
            [
                "STEP 1/3: FROM 127.0.0.1:5000/nope:1",
                "Error: creating build container: initializing source docker://127.0.0.1:5000/nope:1:"
                " reading manifest 1 in 127.0.0.1:5000/nope: manifest unknown",
            ],
            StatusReason.PULL_BUILDER_IMAGE_FAILED,
            "manifest unknown",
        ),
        (
            ["Error: the Dockerfile (Containerfile) has a syntax error"],
            StatusReason.DOCKER_BUILD_FAILED,
            "syntax error",
        ),
    ],
)
def test_classify(tail: list[str], reason: StatusReason, detail: str) -> None:
    err = classify_build_failure(Completed(("buildah", "bud"), 1, tuple(tail)))
    assert err.reason is reason
    assert detail in err.detail


def test_missing_buildah() -> None:
    err = classify_build_failure(Completed(("buildah",), 127, ("buildah: command not found",)))
    assert err.reason is StatusReason.GENERIC_BUILD_FAILED
