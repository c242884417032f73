"""API requests counted by verb and resource, where every request passes (``Api.send``)."""

from __future__ import annotations

from typing import Any

import pytest

from builder.kube.client import REQUESTS, Api, RequestCounter, path_request
from builder.kube.rest import Reply


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1", ("get", "discovery")),
        ("GET", "/apis/apps/v1", ("get", "discovery")),
        ("GET", "/api/v1/namespaces/ns/services/web", ("get", "services")),
        ("GET", "/apis/apps/v1/namespaces/ns/deployments", ("list", "deployments")),
        ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/web?fieldManager=kbuild",
         ("patch", "deployments")),
        ("POST", "/apis/template.openshift.io/v1/namespaces/ns/templates", ("create", "templates")),
        ("PUT", "/apis/build.openshift.io/v1/namespaces/ns/builds/b/status",
         ("update", "builds/status")),
        ("GET", "/api/v1/namespaces", ("list", "namespaces")),
        ("GET", "/api/v1/namespaces/ns", ("get", "namespaces")),
    ],
)  # fmt: skip
def test_generic_requests_by_path(method: str, path: str, expected: tuple[str, str]) -> None:
    assert path_request(method, path) == expected


def test_every_call_is_counted_once_and_watches_apart() -> None:
    counter = RequestCounter()
    counter.add("get", "builds")
    counter.add("get", "builds")
    counter.add("update", "builds/status")
    counter.add("watch", "builds")
    assert counter.snapshot() == {
        ("get", "builds"): 2,
        ("update", "builds/status"): 1,
        ("watch", "builds"): 1,
    }
    assert counter.total() == 3
    assert counter.total(watches=True) == 4


class AnsweringRest:
    """Answers every request 200 with an empty object, remembering what was asked."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def call(self, method: str, path: str, *_: Any, **__: Any) -> Reply:
        self.sent.append((method, path))
        return Reply(200, "OK", b"{}", ['299 - "deprecated"'])


def test_every_request_is_counted_as_it_is_sent() -> None:
    rest = AnsweringRest()
    api = Api(rest)  # type: ignore[arg-type]
    before = REQUESTS.snapshot()
    api.call("PUT", "/apis/build.openshift.io/v1/namespaces/ns/builds/b/status", body={})
    api.call("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d", body=[])
    after = REQUESTS.snapshot()
    assert after[("update", "builds/status")] == before.get(("update", "builds/status"), 0) + 1
    assert after[("patch", "deployments")] == before.get(("patch", "deployments"), 0) + 1
    assert len(rest.sent) == 2
    assert api.server_warnings == ["deprecated", "deprecated"]
