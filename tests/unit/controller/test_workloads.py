"""The image trigger reconciler's pure parts: reading the API server's refusals, event texts."""

from __future__ import annotations

import json

import pytest

from builder.controller.workloads import describe_change, patch_is_stale, refusal_message
from builder.streams.fieldpath import ContainerPath
from builder.streams.workloads import Change


def status(message: str, causes: list[str] | None = None) -> str:
    """A Kubernetes Status body, as builder.kube hands it over in KubeError.message."""
    details = {"causes": [{"message": c} for c in causes]} if causes else {}
    body = {"kind": "Status", "status": "Failure", "message": message, "reason": "Invalid"}
    return json.dumps({**body, "details": details, "code": 422})


@pytest.mark.parametrize(
    ("message", "stale"),
    [
        (
            status(
                "the server rejected our request due to an error in our request",
                ["testing value /spec/template/spec/containers/0/image failed: test failed"],
            ),
            True,
        ),
        ("Testing value /spec/template/spec/containers/0/image failed", True),
        (
            status(
                "the server rejected our request due to an error in our request",
                [
                    "test operation does not apply: is missing path: "
                    "/spec/template/spec/containers/3/name"
                ],
            ),
            True,
        ),
        ("replace operation does not apply: doc is missing key: /spec/x", True),
        (
            status(
                'Job.batch "pi" is invalid: spec.template: Invalid value: core.PodTemplateSpec{}: '
                "field is immutable"
            ),
            False,
        ),
        # Bare: cannot be told from the message; the reconciler re-reads the object.
        (status("the server rejected our request due to an error in our request"), False),
    ],
)
def test_patch_is_stale(message: str, stale: bool) -> None:
    assert patch_is_stale(message) is stale


def change(name: str, *, init: bool = False) -> Change:
    return Change(
        container=ContainerPath(init=init, name=name),
        index=0,
        name=name,
        old="old",
        new="reg/ns/app@sha256:abc",
        namespace="ns",
        tag="app:latest",
    )


@pytest.mark.parametrize(
    ("item", "text"),
    [
        (
            change("app"),
            'container "app" image set to reg/ns/app@sha256:abc from image stream tag '
            "ns/app:latest",
        ),
        (
            change("migrate", init=True),
            'init container "migrate" image set to reg/ns/app@sha256:abc from image stream '
            "tag ns/app:latest",
        ),
    ],
)
def test_describe_change(item: Change, text: str) -> None:
    assert describe_change(item) == text


def test_refusal_of_a_job_explains_immutability() -> None:
    body = status(
        'Job.batch "pi" is invalid: spec.template: Invalid value: core.PodTemplateSpec{}: '
        "field is immutable"
    )
    assert refusal_message("Job", [change("app")], body) == (
        'cannot set container "app" to reg/ns/app@sha256:abc (ns/app:latest): a Job\'s pod '
        "template cannot be changed once the Job is created, so image triggers cannot "
        "update this Job; create a new Job with that image, or use a CronJob, whose job "
        "template triggers do update for later runs"
    )


@pytest.mark.parametrize(
    ("kind", "body", "reason"),
    [
        (
            "Deployment",
            status('Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: x'),
            'Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: x',
        ),
        # A Job refused for another reason is not blamed on immutability.
        ("Job", status("admission webhook denied"), "admission webhook denied"),
        ("StatefulSet", "not a Status body", "not a Status body"),
    ],
)
def test_refusal_quotes_the_server(kind: str, body: str, reason: str) -> None:
    text = refusal_message(kind, [change("app"), change("init", init=True)], body)
    assert text == (
        'cannot set container "app" to reg/ns/app@sha256:abc (ns/app:latest); '
        'init container "init" to reg/ns/app@sha256:abc (ns/app:latest): '
        f"the API server refused the change: {reason}"
    )
