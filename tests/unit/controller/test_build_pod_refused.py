"""A build pod the API server refuses, or that no node can start, shows on the Build.

Before: a Pod Security 403 on the pod's creation left the Build New with an
empty status and no event, the controller retrying it in its own log only;
a node without the seccomp profile left the Build Pending for a week.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from builder.api import Build, BuildPhase, StatusReason, parse_as
from builder.controller.authz import Authorizer
from builder.controller.build import POD_REFUSED_RETRY_SECONDS, BuildReconciler
from builder.controller.config import ControllerConfig
from builder.controller.metrics import Metrics
from builder.kube import Forbidden, Invalid, KubeError

from .tenancy_fake import FakeKube

REGISTRY = "registry.test:5000"
CONFIG = ControllerConfig(registry=REGISTRY, build_pod_image=f"{REGISTRY}/kbuild/buildpod:1")
BUILDER = f"{REGISTRY}/kbuild/s2i@sha256:" + "1" * 64
POD_SECURITY = (
    'pods "app-1-build" is forbidden: violates PodSecurity "restricted:latest": '
    'allowPrivilegeEscalation != false (containers "git-clone", "manage-dockerfile", '
    '"sti-build" must set securityContext.allowPrivilegeEscalation=false)'
)
INVALID = 'Pod "app-1-build" is invalid: spec.containers[0].image: Required value'


def status_body(code: int, reason: str, message: str) -> str:
    """The body the API server answers with, as the kubernetes client hands it over."""
    return json.dumps({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": {"name": "app-1-build", "kind": "pods"},
        "code": code,
    })  # fmt: skip


class RefusingKube(FakeKube):
    """FakeKube whose pod creations fail with ``refusal`` until it is cleared."""

    def __init__(self, refusal: KubeError | None) -> None:
        super().__init__()
        self.refusal = refusal
        self.attempts = 0

    def create_pod(self, namespace: str, pod: dict[str, Any]) -> dict[str, Any]:
        self.attempts += 1
        if self.refusal is not None:
            raise self.refusal
        return super().create_pod(namespace, pod)


def make_build() -> Build:
    return parse_as(Build, {
        "apiVersion": "build.openshift.io/v1", "kind": "Build",
        "metadata": {"name": "app-1", "namespace": "tenant"},
        "spec": {
            "source": {"git": {"uri": "https://git.test/app.git"}},
            "strategy": {"type": "Source",
                         "sourceStrategy": {"from": {"kind": "DockerImage", "name": BUILDER}}},
            "output": {"to": {"kind": "DockerImage", "name": f"{REGISTRY}/tenant/app:latest"}},
        },
    })  # fmt: skip


def reconciler(kube: FakeKube) -> BuildReconciler:
    return BuildReconciler(kube, CONFIG, Metrics(), authorizer=Authorizer(kube))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("refusal", "server_says"),
    [
        (Forbidden(403, status_body(403, "Forbidden", POD_SECURITY)), POD_SECURITY),
        (Invalid(422, status_body(422, "Invalid", INVALID)), INVALID),
        # Not every answer is a Status object (a proxy's, say): the text as it came.
        (Forbidden(403, "forbidden by the proxy"), "forbidden by the proxy"),
    ],
    ids=["pod-security-403", "invalid-422", "plain-text-403"],
)
def test_a_refused_build_pod_is_reported_on_the_build(refusal: KubeError, server_says: str) -> None:
    kube = RefusingKube(refusal)
    kube.builds.create(make_build())
    result = reconciler(kube).reconcile("tenant", "app-1")

    build = kube.builds.get("tenant", "app-1")
    # OpenShift: reason CannotCreateBuildPod, the Build stays New and is retried.
    assert build.status.phase == BuildPhase.NEW
    assert build.status.reason == StatusReason.CANNOT_CREATE_BUILD_POD.value
    assert build.status.message == server_says
    assert result.requeue_after == POD_REFUSED_RETRY_SECONDS
    [event] = kube.events
    assert event["type"] == "Warning"
    assert event["reason"] == "FailedCreate"
    assert event["message"] == f"Error creating build pod: {server_says}"
    assert event["involvedObject"]["name"] == "app-1"
    assert kube.pods == {}


def test_a_refusal_is_recorded_once_and_cleared_when_the_pod_is_admitted() -> None:
    kube = RefusingKube(Forbidden(403, status_body(403, "Forbidden", POD_SECURITY)))
    kube.builds.create(make_build())
    r = reconciler(kube)
    r.reconcile("tenant", "app-1")
    version = kube.builds.get("tenant", "app-1").metadata.resource_version
    r.reconcile("tenant", "app-1")
    assert kube.attempts == 2
    assert len(kube.events) == 1, "the same refusal again: no new event, no status write"
    assert kube.builds.get("tenant", "app-1").metadata.resource_version == version

    kube.refusal = None  # an administrator relabels the namespace
    r.reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    assert build.status.phase == BuildPhase.PENDING
    assert build.status.reason == ""
    assert build.status.message == ""
    assert ("tenant", "app-1-build") in kube.pods


def test_other_api_errors_still_reach_the_manager() -> None:
    # A 500 is not the server's verdict on the pod: the manager retries with backoff.
    kube = RefusingKube(KubeError(500, "etcdserver: request timed out"))
    kube.builds.create(make_build())
    with pytest.raises(KubeError):
        reconciler(kube).reconcile("tenant", "app-1")
    assert kube.builds.get("tenant", "app-1").status.reason == ""


def test_a_node_without_the_seccomp_profile_errors_the_build_and_deletes_its_pod() -> None:
    kube = RefusingKube(None)
    kube.builds.create(make_build())
    r = reconciler(kube)
    r.reconcile("tenant", "app-1")
    pod = kube.pods[("tenant", "app-1-build")]
    path = "/var/lib/kubelet/seccomp/kbuild/buildah-v1.json"
    pod["spec"]["nodeName"] = "node-7"
    pod["status"] = {
        "phase": "Pending",
        "initContainerStatuses": [{"name": "git-clone", "state": {"waiting": {
            "reason": "CreateContainerError",
            "message": f'failed to create containerd container: cannot load seccomp profile '
                       f'"{path}": open {path}: no such file or directory',
        }}}],
    }  # fmt: skip
    r.reconcile("tenant", "app-1")

    build = kube.builds.get("tenant", "app-1")
    assert build.status.phase == BuildPhase.ERROR
    assert build.status.reason == StatusReason.CANNOT_CREATE_BUILD_POD.value
    assert "node node-7 has no seccomp profile kbuild/buildah-v1.json" in build.status.message
    assert kube.pods == {}, "a pod that can never start is not left Pending for a week"
    assert any(e["reason"] == "BuildFailed" for e in kube.events)
