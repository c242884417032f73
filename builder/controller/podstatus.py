"""What a build pod says about its Build: phase, reason, message, digest, stages.

A pure function of the pod (a plain dict as the API server returns it), so
every case is table-tested without a cluster.  The build containers report in
their termination messages (``builder.pipeline.pod``); the pod's own status
covers what no container can report.  OpenShift's build controller decides the
same cases this way (openshift-controller-manager ``handleActiveBuild``):

- the pod is Pending until the ``git-clone`` init container starts; from then
  the build is Running, although the pod stays Pending until init containers
  finish;
- OOMKilled (the pod's reason or any container's) is Failed/OutOfMemoryKilled;
- an evicted pod (reason ``Evicted``) is Failed/BuildPodEvicted, with the
  kubelet's message;
- anything else that fails the pod, ``DeadlineExceeded`` from
  ``completionDeadlineSeconds`` included, is Failed/GenericBuildFailed
  ("Generic Build failure - check logs for details."); kbuild adds a detail
  naming the cause;
- a failed pod being deleted is Error/BuildPodDeleted; a succeeded pod without
  container statuses is Error/NoBuildContainerStatus.

kbuild's additions: a container that failed says why in its termination
message, which gives the Build that container's reason (FetchSourceFailed,
DockerBuildFailed, ...) and log snippet, as OpenShift's builder does by
updating the Build itself.  A failed container with no readable message is
GenericBuildFailed.  A build that must push but reports no digest is
Failed/PushImageToRegistryFailed, never Complete.

A build container the runtime cannot create because the node lacks the
pod's Localhost seccomp profile (``CreateContainerError``, "cannot load
seccomp profile") is Error/CannotCreateBuildPod with a detail naming the
profile and the node: the kubelet would retry it for as long as the pod
lives, and only an administrator installing the profile
(deploy/seccomp-installer.yaml) changes that.  The outcome asks for the
pod's deletion: it never ran, and left Pending it would be retried for a week.

The same for AppArmor (``--apparmor-profile``): a node that enforces
AppArmor but has not loaded the pod's Localhost profile fails container
creation ("apparmor profile not found"), and a node without AppArmor has
its kubelet refuse the whole pod (phase Failed, reason ``AppArmor``);
both are Error/CannotCreateBuildPod saying which, and what to change.

Image pulls of the build pod image (ErrImagePull, ImagePullBackOff) keep the
Build Pending with a message saying so: the kubelet keeps retrying, so a
registry that is briefly down costs time, not the build, and the pod's
activeDeadlineSeconds (completionDeadlineSeconds, else OpenShift's one-week
default) bounds the wait, ending in DeadlineExceeded.  OpenShift does the same
(it leaves the Build Pending while its pod cannot start).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from builder.api import STATUS_MESSAGES, BuildPhase, StatusReason
from builder.api.build import SourceRevision, StageInfo
from builder.api.nesting import load_json
from builder.pipeline.pod import BUILD_ENV, TerminationMessage, snippet

# Waiting reasons that are simply progress, not worth a message.
_QUIET_WAITING = frozenset({"", "PodInitializing", "ContainerCreating"})
_PULL_FAILURES = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)


@dataclass(frozen=True)
class PodOutcome:
    """The Build status a pod implies.

    ``message`` is OpenShift's fixed sentence for ``reason`` on failures (and
    a progress note while Pending); ``detail`` is kbuild's one line naming the
    cause.  ``output_ref`` is the pushed ``image@digest``.
    """

    phase: BuildPhase
    reason: str = ""
    message: str = ""
    detail: str = ""
    digest: str = ""
    output_ref: str = ""
    stages: tuple[StageInfo, ...] = ()
    log_snippet: str = ""
    revision: SourceRevision | None = None
    # The container whose state decided the outcome, for logs and events.
    container: str = ""
    # The pod can never run (its containers cannot be created): delete it.
    stop_pod: bool = False

    @property
    def terminal(self) -> bool:
        return self.phase not in (BuildPhase.NEW, BuildPhase.PENDING, BuildPhase.RUNNING)


@dataclass(frozen=True)
class _Container:
    name: str
    init: bool
    image: str
    status: Mapping[str, Any]

    @property
    def terminated(self) -> Mapping[str, Any] | None:
        state = self.status.get("state") or {}
        value = state.get("terminated")
        return value if isinstance(value, dict) else None

    @property
    def waiting(self) -> Mapping[str, Any] | None:
        state = self.status.get("state") or {}
        value = state.get("waiting")
        return value if isinstance(value, dict) else None

    @property
    def running(self) -> bool:
        return bool((self.status.get("state") or {}).get("running") is not None)

    @property
    def exit_code(self) -> int | None:
        terminated = self.terminated
        if terminated is None:
            return None
        code = terminated.get("exitCode")
        return code if isinstance(code, int) else None

    @property
    def started(self) -> bool:
        return self.running or self.terminated is not None

    @property
    def message(self) -> TerminationMessage | None:
        terminated = self.terminated
        if terminated is None:
            return None
        return TerminationMessage.parse(terminated.get("message"))


def _containers(pod: Mapping[str, Any]) -> list[_Container]:
    """Init containers then main containers, in spec order, with their statuses."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    out: list[_Container] = []
    for init, spec_key, status_key in (
        (True, "initContainers", "initContainerStatuses"),
        (False, "containers", "containerStatuses"),
    ):
        statuses = {s.get("name"): s for s in status.get(status_key) or []}
        names = [c.get("name", "") for c in spec.get(spec_key) or []]
        # Statuses for containers the spec does not list (should not happen)
        # still count: a pod read from a watch may be partial.
        names += [n for n in statuses if n not in names]
        images = {c.get("name"): c.get("image", "") for c in spec.get(spec_key) or []}
        for name in names:
            out.append(_Container(name, init, images.get(name, ""), statuses.get(name) or {}))
    return out


def _main(containers: Sequence[_Container]) -> _Container | None:
    mains = [c for c in containers if not c.init]
    return mains[0] if mains else None


def _stage_models(messages: Sequence[TerminationMessage]) -> tuple[StageInfo, ...]:
    """The stages of the latest message that has any (each step adds to the earlier ones)."""
    for message in reversed(messages):
        if message.stages:
            stages: list[StageInfo] = []
            for data in message.stages:
                try:
                    stages.append(StageInfo.model_validate(data, by_alias=True, by_name=False))
                except ValueError:
                    continue
            return tuple(stages)
    return ()


def _revision(messages: Sequence[TerminationMessage]) -> SourceRevision | None:
    for message in reversed(messages):
        if message.revision:
            try:
                return SourceRevision.model_validate(message.revision, by_alias=True, by_name=False)
            except ValueError:
                continue
    return None


def _expects_output(pod: Mapping[str, Any]) -> bool:
    """Whether the Build the pod runs pushes an image (``spec.output.to`` in ``$BUILD``)."""
    spec = pod.get("spec") or {}
    for container in spec.get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name") != BUILD_ENV:
                continue
            try:
                build = load_json(env.get("value") or "", what=BUILD_ENV)
            except ValueError:
                return False
            output = (
                ((build.get("spec") or {}).get("output") or {}) if isinstance(build, dict) else {}
            )
            return bool(output.get("to"))
    return False


def _fixed(reason: StatusReason) -> str:
    return STATUS_MESSAGES[reason]


def _raw_snippet(container: _Container) -> str:
    terminated = container.terminated or {}
    text = terminated.get("message")
    if not isinstance(text, str) or not text.strip():
        return ""
    return snippet(text.splitlines())


def _failed_container(containers: Sequence[_Container]) -> _Container | None:
    for container in containers:
        code = container.exit_code
        if code is not None and code != 0:
            return container
    return None


def _oom_killed(pod: Mapping[str, Any], containers: Sequence[_Container]) -> _Container | None:
    """The OOM-killed container, or the main one when only the pod says OOMKilled."""
    for container in containers:
        if (container.terminated or {}).get("reason") == "OOMKilled":
            return container
    if (pod.get("status") or {}).get("reason") == "OOMKilled":
        return _main(containers) or _Container("", False, "", {})
    return None


def _pending_message(pod: Mapping[str, Any], containers: Sequence[_Container]) -> str:
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            why = condition.get("message") or condition.get("reason") or "not scheduled yet"
            return f"The build pod is not scheduled yet: {why}"
    for container in containers:
        waiting = container.waiting
        if waiting is None:
            continue
        reason = waiting.get("reason") or ""
        if reason in _QUIET_WAITING:
            continue
        detail = waiting.get("message") or ""
        if reason in _PULL_FAILURES:
            text = f"Cannot pull the build image {container.image} ({reason})"
        else:
            text = f"Container {container.name} cannot start ({reason})"
        return f"{text}: {detail}" if detail else text
    return ""


@dataclass(frozen=True)
class _Pod:
    """The parts of a pod every decision below reads."""

    raw: Mapping[str, Any]
    phase: str
    reason: str
    message: str
    containers: list[_Container]
    messages: list[TerminationMessage]

    @classmethod
    def read(cls, pod: Mapping[str, Any]) -> _Pod:
        status = pod.get("status") or {}
        containers = _containers(pod)
        return cls(
            raw=pod,
            phase=status.get("phase") or "Pending",
            reason=status.get("reason") or "",
            message=status.get("message") or "",
            containers=containers,
            messages=[m for m in (c.message for c in containers) if m is not None],
        )

    def failure(
        self,
        reason: StatusReason,
        detail: str,
        *,
        phase: BuildPhase = BuildPhase.FAILED,
        message: str | None = None,
        container: _Container | None = None,
        log_snippet: str = "",
    ) -> PodOutcome:
        return PodOutcome(
            phase=phase,
            reason=reason.value,
            message=_fixed(reason) if message is None else message,
            detail=detail,
            stages=_stage_models(self.messages),
            log_snippet=log_snippet,
            revision=_revision(self.messages),
            container=container.name if container is not None else "",
        )


def _node(pod: _Pod) -> str:
    return str((pod.raw.get("spec") or {}).get("nodeName") or "the build pod's node")


def _localhost_profile(pod: Mapping[str, Any], field: str, container: str = "") -> str:
    """``container``'s Localhost profile of one kind: its own, else the pod's.

    ``field`` is the securityContext key, ``seccompProfile`` or ``appArmorProfile``.
    """
    spec = pod.get("spec") or {}
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            if container and c.get("name") == container:
                own = (c.get("securityContext") or {}).get(field) or {}
                if own.get("localhostProfile"):
                    return str(own["localhostProfile"])
    pod_level = (spec.get("securityContext") or {}).get(field) or {}
    return str(pod_level.get("localhostProfile") or "")


@dataclass(frozen=True)
class _MissingProfile:
    """How the runtime says a node lacks a Localhost profile of one kind, and what fixes it."""

    word: str  # in the runtime's message
    cues: tuple[str, ...]  # one of these too
    field: str  # the securityContext field naming the profile
    lacks: str
    remedy: str


_MISSING_PROFILES = (
    # containerd: cannot load seccomp profile "<kubelet root>/seccomp/<profile>":
    # open ...: no such file or directory; CRI-O's words differ but name it too.
    _MissingProfile(
        "seccomp",
        ("no such file", "not found", "cannot load"),
        "seccompProfile",
        "has no seccomp profile",
        "install it on every node with deploy/seccomp-installer.yaml",
    ),
    # containerd: apparmor profile not found <name>.
    _MissingProfile(
        "apparmor",
        ("not found", "no such"),
        "appArmorProfile",
        "has not loaded AppArmor profile",
        "load it on every node with deploy/apparmor-loader.yaml",
    ),
)


def _missing_profile(pod: _Pod) -> PodOutcome | None:
    """A container the runtime cannot create: the node lacks its seccomp or AppArmor profile.

    CreateContainerError, retried by the kubelet for as long as the pod
    lives; only an administrator installing the profile changes that.
    """
    for container in pod.containers:
        said = str((container.waiting or {}).get("message") or "")
        lowered = said.lower()
        for kind in _MISSING_PROFILES:
            if kind.word not in lowered or not any(cue in lowered for cue in kind.cues):
                continue
            profile = _localhost_profile(pod.raw, kind.field, container.name) or "(unnamed)"
            return replace(
                pod.failure(
                    StatusReason.CANNOT_CREATE_BUILD_POD,
                    f"node {_node(pod)} {kind.lacks} {profile}, so container "
                    f"{container.name} cannot be created; {kind.remedy} "
                    f"(docs/build-pod.md). The runtime said: {said}",
                    phase=BuildPhase.ERROR,
                    container=container,
                ),
                stop_pod=True,
            )
    return None


def _pod_failure(pod: _Pod) -> PodOutcome | None:
    """What the pod's own status says, which outranks any container's account."""
    oom = _oom_killed(pod.raw, pod.containers)
    if oom is not None:
        where = f"container {oom.name}" if oom.name else "the build pod"
        return pod.failure(
            StatusReason.OUT_OF_MEMORY_KILLED,
            f"{where} ran out of memory; raise the build's resources.limits.memory",
            container=oom,
        )
    if pod.reason == "Evicted":
        # OpenShift's message for an eviction is the kubelet's.
        return pod.failure(
            StatusReason.BUILD_POD_EVICTED,
            pod.message or "the build pod was evicted",
            message=pod.message or None,
        )
    if pod.reason == "DeadlineExceeded":
        deadline = (pod.raw.get("spec") or {}).get("activeDeadlineSeconds")
        limit = f" of {deadline}s" if isinstance(deadline, int) else ""
        failed = _failed_container(pod.containers)
        told = failed.message if failed is not None else None
        return pod.failure(
            StatusReason.GENERIC_BUILD_FAILED,
            f"the build exceeded its completionDeadlineSeconds{limit} and was stopped",
            container=failed,
            log_snippet=told.log_snippet if told is not None else "",
        )
    if pod.phase == "Failed" and (pod.raw.get("metadata") or {}).get("deletionTimestamp"):
        return pod.failure(
            StatusReason.BUILD_POD_DELETED,
            "the build pod was deleted before the build completed",
            phase=BuildPhase.ERROR,
        )
    return None


def _container_failure(pod: _Pod) -> PodOutcome | None:
    """The first container that exited non-zero: with restartPolicy Never, the build is over."""
    failed = _failed_container(pod.containers)
    if failed is None:
        return None
    told = failed.message
    if told is not None and told.failed:
        try:
            reason = StatusReason(told.reason)
        except ValueError:
            reason = StatusReason.GENERIC_BUILD_FAILED
        return pod.failure(
            reason,
            told.detail or f"container {failed.name} failed",
            message=told.message or _fixed(reason),
            container=failed,
            log_snippet=told.log_snippet,
        )
    why = (failed.terminated or {}).get("reason") or "Error"
    return pod.failure(
        StatusReason.GENERIC_BUILD_FAILED,
        f"container {failed.name} exited {failed.exit_code} ({why}) without a termination message",
        container=failed,
        log_snippet=_raw_snippet(failed),
    )


def _completion(pod: _Pod) -> PodOutcome | None:
    """The main container exited 0: Complete, if it says what it pushed."""
    main = _main(pod.containers)
    if main is None or main.exit_code != 0:
        return None
    told = main.message
    if told is None or told.failed:
        return pod.failure(
            StatusReason.GENERIC_BUILD_FAILED,
            f"container {main.name} exited 0 without a readable termination message, "
            "so the pushed image is unknown",
            container=main,
            log_snippet=_raw_snippet(main),
        )
    if not told.digest and _expects_output(pod.raw):
        return pod.failure(
            StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED,
            f"container {main.name} succeeded but reported no pushed digest",
            container=main,
        )
    return PodOutcome(
        phase=BuildPhase.COMPLETE,
        digest=told.digest,
        output_ref=told.image,
        stages=_stage_models(pod.messages),
        revision=_revision(pod.messages),
        container=main.name,
    )


def _pod_ended(pod: _Pod) -> PodOutcome | None:
    """A finished pod that no container explains."""
    if pod.phase == "Succeeded":
        return pod.failure(
            StatusReason.NO_BUILD_CONTAINER_STATUS,
            "the build pod succeeded but reports no build container status",
            phase=BuildPhase.ERROR,
        )
    if pod.phase == "Failed":
        cause = ": ".join(p for p in (pod.reason, pod.message) if p) or "no reason given"
        return pod.failure(StatusReason.GENERIC_BUILD_FAILED, f"the build pod failed: {cause}")
    return None


def _progress(pod: _Pod) -> PodOutcome:
    """Pending or Running, with a note when something holds the pod up."""
    # OpenShift: the build runs once git-clone has started, although the pod
    # stays Pending until every init container is done.
    started = any(c.started for c in pod.containers)
    note = _pending_message(pod.raw, pod.containers)
    if pod.phase not in ("Running", "Unknown") and not started:
        return PodOutcome(phase=BuildPhase.PENDING, message=note)
    if pod.phase == "Unknown":
        note = "The build pod's node is not reporting its state (pod phase Unknown)."
    return PodOutcome(
        phase=BuildPhase.RUNNING,
        message=note,
        stages=_stage_models(pod.messages),
        revision=_revision(pod.messages),
    )


def _apparmor_refused(pod: _Pod) -> PodOutcome | None:
    """A build pod the kubelet refused: it asks for an AppArmor profile, the node has no AppArmor.

    Phase Failed, reason ``AppArmor``, "Cannot enforce AppArmor: ...", before
    any container exists.  (A node with AppArmor that has not loaded the
    Localhost profile fails each container's creation instead:
    ``_missing_profile``.)
    """
    told = f"{pod.reason}: {pod.message}".lower()
    if pod.phase != "Failed" or "apparmor" not in told or any(c.started for c in pod.containers):
        return None
    armor = ((pod.raw.get("spec") or {}).get("securityContext") or {}).get("appArmorProfile") or {}
    profile = _localhost_profile(pod.raw, "appArmorProfile") or armor.get("type") or "(unnamed)"
    return replace(
        pod.failure(
            StatusReason.CANNOT_CREATE_BUILD_POD,
            f"node {_node(pod)} refused the build pod, which asks for AppArmor profile {profile}: "
            f"{pod.message or pod.reason}. Set the controller's --apparmor-profile only "
            "where every node enforces AppArmor (docs/build-pod.md)",
            phase=BuildPhase.ERROR,
        ),
        stop_pod=True,
    )


def interpret_pod(pod: Mapping[str, Any]) -> PodOutcome:
    """The Build status that ``pod`` (a build pod from ``build_pod``) implies now."""
    read = _Pod.read(pod)
    for decide in (
        _pod_failure,
        _apparmor_refused,
        _container_failure,
        _completion,
        _pod_ended,
        _missing_profile,
    ):
        outcome = decide(read)
        if outcome is not None:
            return outcome
    return _progress(read)


__all__ = [
    "PodOutcome",
    "interpret_pod",
]
