"""API requests counted by verb and resource, where every request passes (``_call``)."""

from __future__ import annotations

from typing import Any

import pytest

from builder.kube.client import REQUESTS, RequestCounter, _call, path_request, request_of


@pytest.mark.parametrize(
    ("method", "args", "expected"),
    [
        ("get_namespaced_custom_object", ("build.openshift.io", "v1", "ns", "builds", "b"),
         ("get", "builds")),
        ("list_cluster_custom_object", ("build.openshift.io", "v1", "buildconfigs"),
         ("list", "buildconfigs")),
        ("replace_namespaced_custom_object_status", ("image.openshift.io", "v1", "ns",
         "imagestreams", "s", {}), ("update", "imagestreams/status")),
        ("replace_namespaced_custom_object", ("apps.openshift.io", "v1", "ns",
         "deploymentconfigs", "d", {}), ("update", "deploymentconfigs")),
        ("patch_namespaced_custom_object", ("g", "v1", "ns", "builds", "b", {}),
         ("patch", "builds")),
        ("delete_namespaced_custom_object", ("g", "v1", "ns", "builds", "b"),
         ("delete", "builds")),
        ("create_namespaced_custom_object", ("g", "v1", "ns", "other", {}),
         ("create", "customobjects")),
        ("read_namespaced_pod", ("p", "ns"), ("get", "pods")),
        ("read_namespaced_pod_log", ("p", "ns"), ("get", "pods/log")),
        ("list_pod_for_all_namespaces", (), ("list", "pods")),
        ("list_namespaced_pod", ("ns",), ("list", "pods")),
        ("delete_namespaced_pod", ("p", "ns"), ("delete", "pods")),
        ("patch_namespaced_stateful_set", ("s", "ns", []), ("patch", "statefulsets")),
        ("list_cron_job_for_all_namespaces", (), ("list", "cronjobs")),
        ("read_namespaced_replication_controller", ("r", "ns"),
         ("get", "replicationcontrollers")),
        ("create_namespaced_event", ("ns", {}), ("create", "events")),
        ("create_subject_access_review", ({},), ("create", "subjectaccessreviews")),
        ("replace_namespaced_lease", ("l", "ns", {}), ("update", "leases")),
        ("read_namespaced_secret", ("s", "ns"), ("get", "secrets")),
    ],
)  # fmt: skip
def test_client_calls_by_verb_and_resource(
    method: str, args: tuple[Any, ...], expected: tuple[str, str]
) -> None:
    assert request_of(method, args) == expected


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


def test_call_counts_what_it_sends() -> None:
    def replace_namespaced_custom_object_status(*args: Any, **kwargs: Any) -> str:
        return "ok"

    before = REQUESTS.snapshot().get(("update", "builds/status"), 0)
    assert (
        _call(replace_namespaced_custom_object_status, "g", "v1", "ns", "builds", "b", {}) == "ok"
    )
    assert _call(lambda **_kw: "x", _counted_as=("patch", "deployments")) == "x"
    after = REQUESTS.snapshot()
    assert after[("update", "builds/status")] == before + 1
    assert after[("patch", "deployments")] >= 1
