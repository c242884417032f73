"""API answers as typed errors; the server's own sentence out of a Status body."""

from __future__ import annotations

import json

import pytest

from builder.kube import AlreadyExists, Conflict, Forbidden, Invalid, KubeError, NotFound
from builder.kube.errors import classify


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (403, "pods is forbidden", Forbidden),
        (404, "not found", NotFound),
        (409, 'pods "x" already exists', AlreadyExists),
        (409, "the object has been modified", Conflict),
        (422, "is invalid", Invalid),
        (500, "boom", KubeError),
    ],
)
def test_classify(status: int, message: str, kind: type[KubeError]) -> None:
    err = classify(status, message)
    assert type(err) is kind
    assert err.status == status


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (json.dumps({"kind": "Status", "message": 'pods "a" is forbidden: violates PodSecurity'}),
         'pods "a" is forbidden: violates PodSecurity'),
        ("plain text from a proxy", "plain text from a proxy"),
        (json.dumps({"kind": "Status"}), json.dumps({"kind": "Status"})),
        (json.dumps(["not", "a", "status"]), json.dumps(["not", "a", "status"])),
        ("", ""),
    ],
)  # fmt: skip
def test_server_message(body: str, expected: str) -> None:
    assert KubeError(403, body).server_message == expected
