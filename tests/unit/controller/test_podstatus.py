"""interpret_pod: what a build pod's status means for its Build (pure, table-driven).

Pods are build_pod()'s own manifests with a status attached, shaped as the
kubelet reports it; termination messages come from TerminationMessage, the
writer the build containers use.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from builder.api import STATUS_MESSAGES, Build, BuildPhase, StatusReason, parse_as
from builder.controller.buildpod import build_pod
from builder.controller.config import ControllerConfig
from builder.controller.podstatus import PodOutcome, interpret_pod
from builder.pipeline.pod import TerminationMessage

REGISTRY = "registry.test:5000"
DIGEST = "sha256:" + "c" * 64
IMAGE = f"{REGISTRY}/dev/app@{DIGEST}"
STAGE_FETCH = {
    "name": "FetchInputs",
    "startTime": "2024-05-01T10:00:00Z",
    "durationMilliseconds": 800,
    "steps": [{"name": "FetchGitSource", "startTime": "2024-05-01T10:00:00Z",
               "durationMilliseconds": 800}],
}  # fmt: skip
STAGE_BUILD = {
    "name": "Build",
    "startTime": "2024-05-01T10:00:05Z",
    "durationMilliseconds": 9000,
    "steps": [{"name": "DockerBuild", "startTime": "2024-05-01T10:00:05Z",
               "durationMilliseconds": 9000}],
}  # fmt: skip
REVISION = {
    "type": "Git",
    "git": {
        "commit": "a" * 40,
        "author": {"name": "Ada", "email": "ada@example.com"},
        "committer": {"name": "Ada", "email": "ada@example.com"},
        "message": "first",
    },
}


def make_pod(*, output: bool = True, docker: bool = False) -> dict[str, Any]:
    strategy = (
        {"dockerStrategy": {}}
        if docker
        else {"sourceStrategy": {"from": {"kind": "DockerImage", "name": f"{REGISTRY}/b:1"}}}
    )
    spec: dict[str, Any] = {
        "source": {"git": {"uri": "https://git.test/app.git"}},
        "strategy": strategy,
    }
    if output:
        spec["output"] = {"to": {"kind": "DockerImage", "name": f"{REGISTRY}/dev/app:latest"}}
    build = parse_as(
        Build,
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "Build",
            "metadata": {"name": "app-1", "namespace": "dev", "uid": "u"},
            "spec": spec,
        },
    )
    # The five-container pod: the cases below name each step's container.
    config = ControllerConfig(
        registry=REGISTRY,
        build_pod_image=f"{REGISTRY}/kbuild/buildpod:1",
        build_pod_containers="per-step",
    )
    pod = build_pod(build, config, pod_build=build)
    pod["spec"]["nodeName"] = "kbuild-node"
    return pod


def waiting(reason: str, message: str = "") -> dict[str, Any]:
    return {"waiting": {"reason": reason, **({"message": message} if message else {})}}


RUNNING = {"running": {"startedAt": "2024-05-01T10:00:00Z"}}


def terminated(
    code: int, message: TerminationMessage | str | None = None, reason: str = ""
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "exitCode": code,
        "reason": reason or ("Completed" if code == 0 else "Error"),
    }
    if isinstance(message, TerminationMessage):
        state["message"] = message.encode()
    elif message is not None:
        state["message"] = message
    return {"terminated": state}


def ok(*stages: dict[str, Any], digest: str = "", image: str = "") -> TerminationMessage:
    return TerminationMessage(digest=digest, image=image, stages=stages, revision=REVISION)


def failed(reason: StatusReason, detail: str, *stages: dict[str, Any]) -> TerminationMessage:
    return TerminationMessage(
        reason=reason.value,
        message=STATUS_MESSAGES[reason],
        detail=detail,
        log_snippet=f"some output\nerror: {reason.value}: {detail}",
        stages=stages,
    )


@dataclass
class Case:
    """One pod status and the outcome expected from it."""

    id: str
    phase: str = "Pending"
    clone: dict[str, Any] | None = None
    prepare: dict[str, Any] | None = None
    main: dict[str, Any] | None = None
    pod_reason: str = ""
    pod_message: str = ""
    conditions: list[dict[str, Any]] = field(default_factory=list)
    deleting: bool = False
    output: bool = True
    apparmor: str = ""
    expect: Callable[[PodOutcome], None] = lambda _o: None

    def pod(self) -> dict[str, Any]:
        pod = copy.deepcopy(make_pod(output=self.output))
        if self.apparmor:
            pod["spec"].setdefault("securityContext", {})["appArmorProfile"] = {
                "type": "Localhost", "localhostProfile": self.apparmor,
            }  # fmt: skip
        status: dict[str, Any] = {"phase": self.phase}
        if self.pod_reason:
            status["reason"] = self.pod_reason
        if self.pod_message:
            status["message"] = self.pod_message
        if self.conditions:
            status["conditions"] = self.conditions
        inits = [("git-clone", self.clone), ("manage-dockerfile", self.prepare)]
        status["initContainerStatuses"] = [
            {"name": name, "state": state} for name, state in inits if state is not None
        ]
        if self.main is not None:
            status["containerStatuses"] = [{"name": "sti-build", "state": self.main}]
        pod["status"] = status
        if self.deleting:
            pod["metadata"]["deletionTimestamp"] = "2024-05-01T10:01:00Z"
        return pod


def is_(phase: BuildPhase, reason: str = "", **fields: Any) -> Callable[[PodOutcome], None]:
    def check(outcome: PodOutcome) -> None:
        assert outcome.phase == phase, outcome
        assert outcome.reason == reason, outcome
        for name, value in fields.items():
            actual = getattr(outcome, name)
            if callable(value):
                assert value(actual), (name, actual)
            else:
                assert actual == value, (name, actual)

    return check


def has(text: str) -> Callable[[str], bool]:
    return lambda actual: text in actual


def fixed(reason: StatusReason) -> str:
    return STATUS_MESSAGES[reason]


GENERIC = StatusReason.GENERIC_BUILD_FAILED
# What containerd 1.6.20 (the test cluster's kubelet root) says when the node
# lacks the pod's Localhost seccomp profile: observed, not made up.
NO_PROFILE = (
    "failed to create containerd container: cannot load seccomp profile "
    '"/var/lib/kbuild-cluster/kubelet/seccomp/kbuild/buildah-v1.json": open '
    "/var/lib/kbuild-cluster/kubelet/seccomp/kbuild/buildah-v1.json: no such file or directory"
)

CASES = [
    # ------------------------------------------------------------ waiting to run
    Case(
        "unscheduled",
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 node(s) didn't match node selector.",
            }
        ],
        expect=is_(BuildPhase.PENDING, message=has("didn't match node selector")),
    ),
    Case(
        "scheduled, init container being created",
        clone=waiting("PodInitializing"),
        prepare=waiting("PodInitializing"),
        main=waiting("PodInitializing"),
        conditions=[{"type": "PodScheduled", "status": "True"}],
        expect=is_(BuildPhase.PENDING, message=""),
    ),
    Case(
        "build image cannot be pulled: stays Pending, says why",
        clone=waiting("ImagePullBackOff", 'Back-off pulling image "registry.test:5000/x"'),
        expect=is_(
            BuildPhase.PENDING,
            message=lambda m: (
                "registry.test:5000/kbuild/buildpod:1" in m
                and "ImagePullBackOff" in m
                and "Back-off pulling" in m
            ),
        ),
    ),
    Case(
        "a secret volume is missing: stays Pending, says why",
        clone=waiting("CreateContainerConfigError", 'secret "git-creds" not found'),
        expect=is_(BuildPhase.PENDING, message=has('secret "git-creds" not found')),
    ),
    # ------------------------------------------------------------ running
    Case(
        "git-clone running: the build runs though the pod is Pending",
        clone=RUNNING,
        expect=is_(BuildPhase.RUNNING, message=""),
    ),
    Case(
        "git-clone done, prepare running: stages so far",
        clone=terminated(0, ok(STAGE_FETCH)),
        prepare=RUNNING,
        expect=is_(
            BuildPhase.RUNNING,
            stages=lambda s: [x.name for x in s] == ["FetchInputs"],
            revision=lambda r: r is not None and r.git.commit == "a" * 40,
        ),
    ),
    Case(
        "main container pulling after init containers: Running with a note",
        clone=terminated(0, ok(STAGE_FETCH)),
        prepare=terminated(0, ok(STAGE_FETCH)),
        main=waiting("ErrImagePull", "connection refused"),
        expect=is_(BuildPhase.RUNNING, message=has("ErrImagePull")),
    ),
    Case(
        "pod Running",
        phase="Running",
        clone=terminated(0, ok(STAGE_FETCH)),
        prepare=terminated(0, ok(STAGE_FETCH)),
        main=RUNNING,
        expect=is_(BuildPhase.RUNNING),
    ),
    Case(
        "node not reporting",
        phase="Unknown",
        clone=terminated(0),
        main=RUNNING,
        expect=is_(BuildPhase.RUNNING, message=has("Unknown")),
    ),
    # ------------------------------------------------------------ complete
    Case(
        "main container pushed: Complete with the digest",
        phase="Succeeded",
        clone=terminated(0, ok(STAGE_FETCH)),
        prepare=terminated(0, ok(STAGE_FETCH)),
        main=terminated(0, ok(STAGE_FETCH, STAGE_BUILD, digest=DIGEST, image=IMAGE)),
        expect=is_(
            BuildPhase.COMPLETE,
            digest=DIGEST,
            output_ref=IMAGE,
            message="",
            log_snippet="",
            container="sti-build",
            stages=lambda s: (
                [x.name for x in s] == ["FetchInputs", "Build"]
                and s[1].steps[0].name == "DockerBuild"
                and s[1].duration_milliseconds == 9000
                and s[1].start_time == "2024-05-01T10:00:05Z"
            ),
            revision=lambda r: r is not None and r.git.author.email == "ada@example.com",
        ),
    ),
    Case(
        "main exited 0 while the pod still says Running: Complete already",
        phase="Running",
        clone=terminated(0),
        prepare=terminated(0),
        main=terminated(0, ok(digest=DIGEST, image=IMAGE)),
        expect=is_(BuildPhase.COMPLETE, digest=DIGEST),
    ),
    Case(
        "no output to push: Complete without a digest",
        phase="Succeeded",
        output=False,
        clone=terminated(0),
        prepare=terminated(0),
        main=terminated(0, ok(STAGE_BUILD)),
        expect=is_(BuildPhase.COMPLETE, digest=""),
    ),
    Case(
        "an output but no digest reported",
        phase="Succeeded",
        clone=terminated(0),
        prepare=terminated(0),
        main=terminated(0, ok(STAGE_BUILD)),
        expect=is_(
            BuildPhase.FAILED,
            StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED.value,
            message=fixed(StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED),
            detail=has("no pushed digest"),
        ),
    ),
    Case(
        "main exited 0 without a termination message",
        phase="Succeeded",
        clone=terminated(0),
        prepare=terminated(0),
        main=terminated(0),
        expect=is_(BuildPhase.FAILED, GENERIC.value, detail=has("without a readable")),
    ),
    # ------------------------------------------------------------ a container failed
    Case(
        "git-clone failed: its reason, message, detail and snippet",
        phase="Failed",
        clone=terminated(
            1, failed(StatusReason.FETCH_SOURCE_FAILED, "ref 'nope' not found", STAGE_FETCH)
        ),
        prepare=waiting("PodInitializing"),
        main=waiting("PodInitializing"),
        expect=is_(
            BuildPhase.FAILED,
            "FetchSourceFailed",
            message="Failed to fetch the input source.",
            detail="ref 'nope' not found",
            log_snippet="some output\nerror: FetchSourceFailed: ref 'nope' not found",
            container="git-clone",
            stages=lambda s: [x.name for x in s] == ["FetchInputs"],
        ),
    ),
    Case(
        "prepare failed while the pod phase lags",
        phase="Pending",
        clone=terminated(0, ok(STAGE_FETCH)),
        prepare=terminated(
            1, failed(StatusReason.PULL_BUILDER_IMAGE_FAILED, "builder image x: not found")
        ),
        expect=is_(
            BuildPhase.FAILED,
            "PullBuilderImageFailed",
            container="manage-dockerfile",
            # The failed container's message had no stages: the earlier ones remain.
            stages=lambda s: [x.name for x in s] == ["FetchInputs"],
        ),
    ),
    Case(
        "assemble failed in the main container",
        phase="Failed",
        clone=terminated(0, ok(STAGE_FETCH)),
        prepare=terminated(0, ok(STAGE_FETCH)),
        main=terminated(
            1,
            failed(
                StatusReason.DOCKER_BUILD_FAILED,
                "assemble script failed: exit status 1",
                STAGE_FETCH,
                STAGE_BUILD,
            ),
        ),
        expect=is_(
            BuildPhase.FAILED,
            "DockerBuildFailed",
            message="Docker build strategy has failed.",
            detail="assemble script failed: exit status 1",
            log_snippet=has("error: DockerBuildFailed"),
            stages=lambda s: [x.name for x in s] == ["FetchInputs", "Build"],
        ),
    ),
    Case(
        "a container failed without a message: GenericBuildFailed with what there is",
        phase="Failed",
        clone=terminated(0),
        prepare=terminated(2, "Traceback (most recent call last):\nboom"),
        expect=is_(
            BuildPhase.FAILED,
            GENERIC.value,
            message=fixed(GENERIC),
            detail=lambda d: "manage-dockerfile" in d and "exited 2" in d,
            log_snippet="Traceback (most recent call last):\nboom",
        ),
    ),
    Case(
        "a message with a reason OpenShift does not have",
        phase="Failed",
        clone=terminated(
            1,
            TerminationMessage(reason="Exploded", message="?", detail="kaboom", log_snippet="x"),
        ),
        expect=is_(BuildPhase.FAILED, GENERIC.value, detail="kaboom"),
    ),
    # ------------------------------------------------------------ the pod's own reasons
    Case(
        "OOMKilled container",
        phase="Failed",
        clone=terminated(0),
        prepare=terminated(0),
        main=terminated(137, reason="OOMKilled"),
        expect=is_(
            BuildPhase.FAILED,
            "OutOfMemoryKilled",
            message="The build pod was killed due to an out of memory condition.",
            container="sti-build",
        ),
    ),
    Case(
        "OOMKilled init container, even with a failure message",
        phase="Failed",
        clone=terminated(
            137, failed(StatusReason.FETCH_SOURCE_FAILED, "killed"), reason="OOMKilled"
        ),
        expect=is_(BuildPhase.FAILED, "OutOfMemoryKilled", container="git-clone"),
    ),
    Case(
        "pod reason OOMKilled",
        phase="Failed",
        pod_reason="OOMKilled",
        expect=is_(BuildPhase.FAILED, "OutOfMemoryKilled"),
    ),
    Case(
        "evicted: the kubelet's message",
        phase="Failed",
        pod_reason="Evicted",
        pod_message="The node was low on resource: ephemeral-storage.",
        clone=terminated(0),
        prepare=terminated(0),
        main=terminated(137),
        expect=is_(
            BuildPhase.FAILED,
            "BuildPodEvicted",
            message="The node was low on resource: ephemeral-storage.",
            detail="The node was low on resource: ephemeral-storage.",
        ),
    ),
    Case(
        "deadline exceeded: GenericBuildFailed, as OpenShift reports it",
        phase="Failed",
        pod_reason="DeadlineExceeded",
        pod_message="Pod was active on the node longer than the specified deadline",
        clone=terminated(0, ok(STAGE_FETCH)),
        prepare=terminated(0, ok(STAGE_FETCH)),
        main=terminated(
            143,
            failed(GENERIC, "the step was stopped by SIGTERM", STAGE_FETCH, STAGE_BUILD),
        ),
        expect=is_(
            BuildPhase.FAILED,
            GENERIC.value,
            message="Generic Build failure - check logs for details.",
            detail=has("completionDeadlineSeconds of 604800s"),
            log_snippet=has("SIGTERM"),
            stages=lambda s: [x.name for x in s] == ["FetchInputs", "Build"],
        ),
    ),
    Case(
        "deadline exceeded before any container ran",
        phase="Failed",
        pod_reason="DeadlineExceeded",
        clone=waiting("ImagePullBackOff"),
        expect=is_(BuildPhase.FAILED, GENERIC.value, detail=has("completionDeadlineSeconds")),
    ),
    Case(
        "failed pod being deleted",
        phase="Failed",
        deleting=True,
        clone=terminated(0),
        main=terminated(143),
        expect=is_(BuildPhase.ERROR, "BuildPodDeleted"),
    ),
    Case(
        "succeeded without any container status",
        phase="Succeeded",
        expect=is_(
            BuildPhase.ERROR,
            "NoBuildContainerStatus",
            message="The pod for this build has no container statuses.",
        ),
    ),
    # ------------------------------------------------------------ seccomp profile
    Case(
        "the node has no seccomp profile: Error naming the profile and the node",
        clone=waiting("CreateContainerError", NO_PROFILE),
        main=waiting("PodInitializing"),
        expect=is_(
            BuildPhase.ERROR,
            StatusReason.CANNOT_CREATE_BUILD_POD.value,
            message="Failed creating build pod.",
            detail=lambda d: (
                "node kbuild-node has no seccomp profile kbuild/buildah-v1.json" in d
                and "deploy/seccomp-installer.yaml" in d
                and "no such file or directory" in d
            ),
            container="git-clone",
            stop_pod=True,
        ),
    ),
    # ------------------------------------------------------------ AppArmor profile
    Case(
        "a node without AppArmor refuses the pod that asks for a profile: Error saying so",
        phase="Failed",
        # The kubelet's admission refusal (pkg/security/apparmor): no container ever exists.
        pod_reason="AppArmor",
        pod_message="Cannot enforce AppArmor: AppArmor is not enabled on the host",
        apparmor="kbuild-buildah-v1",
        expect=is_(
            BuildPhase.ERROR,
            StatusReason.CANNOT_CREATE_BUILD_POD.value,
            detail=lambda d: (
                "node kbuild-node refused the build pod, which asks for AppArmor profile "
                "kbuild-buildah-v1: Cannot enforce AppArmor"
                in d
                and "--apparmor-profile" in d
            ),
            stop_pod=True,
        ),
    ),
    Case(
        "a node with AppArmor has not loaded the profile: Error naming it and the loader",
        clone=waiting("CreateContainerError", "apparmor profile not found kbuild-buildah-v1"),
        main=waiting("PodInitializing"),
        apparmor="kbuild-buildah-v1",
        expect=is_(
            BuildPhase.ERROR,
            StatusReason.CANNOT_CREATE_BUILD_POD.value,
            detail=lambda d: (
                "node kbuild-node has not loaded AppArmor profile kbuild-buildah-v1" in d
                and "deploy/apparmor-loader.yaml" in d
            ),
            container="git-clone",
            stop_pod=True,
        ),
    ),
    Case(
        "another container cannot be created: stays Pending, says why",
        clone=waiting("CreateContainerError", "failed to create containerd task: no space left"),
        expect=is_(
            BuildPhase.PENDING,
            message=has("cannot start (CreateContainerError): failed to create containerd task"),
            stop_pod=False,
        ),
    ),
    Case(
        "failed with nothing but the pod's word",
        phase="Failed",
        pod_reason="UnexpectedAdmissionError",
        pod_message="Allocate failed",
        expect=is_(
            BuildPhase.FAILED,
            GENERIC.value,
            detail="the build pod failed: UnexpectedAdmissionError: Allocate failed",
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_interpret_pod(case: Case) -> None:
    outcome = interpret_pod(case.pod())
    case.expect(outcome)
    terminal = outcome.phase in (
        BuildPhase.COMPLETE,
        BuildPhase.FAILED,
        BuildPhase.ERROR,
        BuildPhase.CANCELLED,
    )
    assert outcome.terminal is terminal
    if outcome.phase in (BuildPhase.FAILED, BuildPhase.ERROR):
        assert outcome.reason in {r.value for r in StatusReason}
        assert outcome.message
        assert outcome.detail
        assert "\n" not in outcome.detail
    else:
        assert outcome.reason == ""


def test_docker_build_main_container_is_read_too() -> None:
    pod = make_pod(docker=True)
    pod["status"] = {
        "phase": "Succeeded",
        "initContainerStatuses": [
            {"name": "git-clone", "state": terminated(0)},
            {"name": "manage-dockerfile", "state": terminated(0)},
        ],
        "containerStatuses": [
            {"name": "docker-build", "state": terminated(0, ok(digest=DIGEST, image=IMAGE))}
        ],
    }
    outcome = interpret_pod(pod)
    assert outcome.phase == BuildPhase.COMPLETE
    assert outcome.container == "docker-build"
    assert outcome.digest == DIGEST


def test_a_pod_without_status_is_pending() -> None:
    assert interpret_pod(make_pod()) == PodOutcome(phase=BuildPhase.PENDING)


def test_stages_are_api_models_ready_for_build_status() -> None:
    from builder.api.build import BuildStatus  # noqa: PLC0415

    case = next(c for c in CASES if c.id.startswith("main container pushed"))
    outcome = interpret_pod(case.pod())
    status = BuildStatus(stages=list(outcome.stages))
    assert status.stages[0].steps[0].name == "FetchGitSource"
