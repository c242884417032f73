"""The Build reconciler: New -> Pending -> Running -> Complete/Failed/Error/Cancelled.

Level-driven: every call reads the Build and its pod and converges from
whatever it finds, so a restarted controller (or two reconciles of the same
key) does the right thing.  The rules that make that safe:

- the pod name is deterministic (``<build>-build``): AlreadyExists on create
  means the pod is ours (checked by owner uid), never a second pod;
- the output tag is moved *before* the Build is marked Complete, and moving
  it is idempotent (see ``record_tag_event``), so a crash between the two
  steps repeats the first harmlessly and the digest is recorded once;
- status writes carry the resourceVersion read; a Conflict means someone
  else wrote in between, and the key is simply reconciled again.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from builder.api import (
    Build,
    BuildError,
    BuildPhase,
    ObjectReference,
    StatusReason,
    now_time,
    parse_time,
)
from builder.api.build import BuildStatusOutput, BuildStatusOutputTo
from builder.api.buildconditions import sync_conditions
from builder.api.constants import BUILD_RUN_POLICY_LABEL, POD_UID_ANNOTATION
from builder.api.labels import build_config_selector
from builder.api.reasons import STATUS_MESSAGES
from builder.controller import events
from builder.controller.authz import AccessDeniedError, Authorizer, build_identity
from builder.controller.buildpod import build_pod
from builder.controller.config import ControllerConfig
from builder.controller.imagestreams import output_target, record_tag_event, resolve_reference
from builder.controller.metrics import Metrics
from builder.controller.podstatus import interpret_pod
from builder.kube import AlreadyExists, Conflict, Forbidden, Invalid, Kube, NotFound
from builder.pipeline.from_build import source_image_role
from builder.rules.instantiate import record_input_image
from builder.rules.names import build_number, config_name, pod_name
from builder.streams.buildtriggers import strategy_input, tag_key
from builder.streams.tags import KIND_DOCKER_IMAGE, KIND_STREAM_IMAGE, KIND_STREAM_TAG

log = logging.getLogger(__name__)

_REASONS = {r.value for r in StatusReason}
TERMINAL = {BuildPhase.COMPLETE, BuildPhase.FAILED, BuildPhase.ERROR, BuildPhase.CANCELLED}
ACTIVE = {BuildPhase.NEW, BuildPhase.PENDING, BuildPhase.RUNNING}
# A Build waiting for an input (a stream tag with no image yet) is woken by the
# stream's change (the manager's INPUT index); this is only the safety net.
WAIT_SECONDS = 300.0
# ...unless the stream lies outside the namespace a namespace-limited
# controller watches: no event can come from there, so it is polled.
UNWATCHED_WAIT_SECONDS = 10.0
# A build pod the API server refused (Pod Security, a quota, a webhook) is
# tried again this often: an administrator's change (a namespace label, a
# larger quota) is what lets it through, and nothing notifies us of it.
POD_REFUSED_RETRY_SECONDS = 30.0


@dataclass
class Result:
    """What the manager should do after a reconcile."""

    requeue_after: float | None = None
    # Other keys to reconcile now: the next queued build, the BuildConfig.
    also: list[tuple[str, str, str]] = field(default_factory=list)


def recorded_pod_uid(build: Build) -> str:
    """The uid of the pod this controller created for ``build`` (see POD_UID_ANNOTATION)."""
    return (build.metadata.annotations or {}).get(POD_UID_ANNOTATION, "")


def _seconds_between(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    return max(0.0, (parse_time(end) - parse_time(start)).total_seconds())


class BuildReconciler:
    def __init__(
        self,
        kube: Kube,
        config: ControllerConfig,
        metrics: Metrics,
        on_write: Callable[[Build], None] = lambda _build: None,
        *,
        authorizer: Authorizer,
    ) -> None:
        self.kube = kube
        self.config = config
        self.metrics = metrics
        # Every input or output in another namespace is checked for the
        # Build's service account before it is read or written.
        self.authorizer = authorizer
        # Told the resourceVersion of every status we write, so the manager
        # can ignore the watch events our own writes cause.
        self.on_write = on_write

    # -- entry point ---------------------------------------------------------

    def reconcile(self, namespace: str, name: str) -> Result:
        try:
            build = self.kube.builds.get(namespace, name)
        except NotFound:
            return Result()
        phase = build.status.phase
        if phase in TERMINAL:
            return Result()
        if build.status.cancelled:
            return self._cancel(build, "The build was cancelled by the user.")
        if phase == BuildPhase.NEW:
            return self._start(build)
        return self._follow_pod(build)

    # -- New: queueing and the pod -------------------------------------------

    def _siblings(self, build: Build) -> list[Build]:
        bc = config_name(build)
        if not bc:
            return []
        builds, _ = self.kube.builds.list(
            build.metadata.namespace, label_selector=build_config_selector(bc)
        )
        return [
            b for b in builds if b.metadata.name != build.metadata.name and config_name(b) == bc
        ]

    def _queue_position(self, build: Build) -> Result | None:
        """Apply the run policy; a Result means "not now"."""
        policy = (build.metadata.labels or {}).get(BUILD_RUN_POLICY_LABEL, "Serial")
        if policy == "Parallel":
            return None
        number = build_number(build)
        siblings = self._siblings(build)
        active = [b for b in siblings if b.status.phase in ACTIVE and not b.status.cancelled]
        if policy == "SerialLatestOnly" and any(
            b.status.phase == BuildPhase.NEW and build_number(b) > number for b in active
        ):
            return self._cancel(build, "Cancelled: a newer build is queued (SerialLatestOnly).")
        running = [b for b in active if b.status.phase != BuildPhase.NEW]
        earlier = [
            b for b in active if b.status.phase == BuildPhase.NEW and build_number(b) < number
        ]
        if running or earlier:
            # Re-checked when a sibling finishes (the manager enqueues us) and
            # periodically, in case that notification is lost.
            return Result(requeue_after=60.0)
        return None

    def _check_input(self, build: Build, ref: ObjectReference) -> None:
        """A stream of another namespace is read only if the Build's service account may."""
        ns = build.metadata.namespace
        if ref.kind in (KIND_STREAM_TAG, KIND_STREAM_IMAGE) and ref.namespace not in ("", ns):
            identity = build_identity(
                ns, build.spec.service_account, self.config.default_service_account
            )
            reason = StatusReason.INVALID_IMAGE_REFERENCE
            self.authorizer.check_read(identity, ref.namespace, reason)

    def _check_output(self, build: Build) -> None:
        """A tag of another namespace is moved only if the Build's service account may push."""
        ns = build.metadata.namespace
        to = build.spec.output.to
        if to is not None and to.kind == KIND_STREAM_TAG and to.namespace not in ("", ns):
            identity = build_identity(
                ns, build.spec.service_account, self.config.default_service_account
            )
            reason = StatusReason.INVALID_OUTPUT_REFERENCE
            self.authorizer.check_write(identity, to.namespace, reason)

    def _resolved_copy(self, build: Build) -> tuple[Build, str, str | None]:
        """The Build with every image resolved to a DockerImage pull spec."""
        ns = build.metadata.namespace
        resolved = copy.deepcopy(build)
        strategy = resolved.spec.strategy
        for strat, role in (
            (strategy.source_strategy, "the builder image"),
            (strategy.docker_strategy, "dockerStrategy.from"),
            (strategy.custom_strategy, "the custom builder image (customStrategy.from)"),
        ):
            if strat is not None and strat.from_ is not None and strat.from_.name:
                self._check_input(build, strat.from_)
                spec = resolve_reference(self.kube, strat.from_, ns, role)
                strat.from_ = ObjectReference(kind="DockerImage", name=spec)
        for index, image in enumerate(resolved.spec.source.images):
            # Another namespace's stream is read as a builder image is: only
            # if the Build's service account may get its layers.
            role = source_image_role(index)
            self._check_input(build, image.from_)
            spec = resolve_reference(self.kube, image.from_, ns, role)
            image.from_ = ObjectReference(kind="DockerImage", name=spec)
        output_ref, stream_target = "", None
        if resolved.spec.output.to is not None:
            output_ref, stream_target = output_target(self.config, resolved.spec.output.to, ns)
            resolved.spec.output.to = ObjectReference(kind="DockerImage", name=output_ref)
        return resolved, output_ref, stream_target

    def _pin_input(self, build: Build) -> Build:
        """Name a stream-tag input by the image it has now, once and for good.

        A Build instantiated while its input tag had no image still names
        the tag; the first time the tag resolves, the BuildConfig records the
        image as its trigger's ``lastTriggeredImageID`` and then the Build's
        spec is rewritten to the pull spec (what OpenShift's instantiate
        writes), so a restart, a retry or the ImageChange trigger all see
        which image this build is for.
        """
        source = strategy_input(build.spec.strategy)
        if source is None or source.kind not in (KIND_STREAM_TAG, KIND_STREAM_IMAGE):
            return build
        ns = build.metadata.namespace
        role = "the builder image" if build.spec.strategy.source_strategy else "dockerStrategy.from"
        self._check_input(build, source)
        image = resolve_reference(self.kube, source, ns, role)
        bc = config_name(build)
        if bc and source.kind == KIND_STREAM_TAG:
            record_input_image(self.kube.live, ns, bc, tag_key(source, ns), image)
        pinned = ObjectReference(kind=KIND_DOCKER_IMAGE, name=image)
        strategy = build.spec.strategy
        if strategy.source_strategy is not None:
            strategy.source_strategy.from_ = pinned
        elif strategy.docker_strategy is not None:
            strategy.docker_strategy.from_ = pinned
        elif strategy.custom_strategy is not None:
            strategy.custom_strategy.from_ = pinned
        return self.kube.builds.replace(build)

    def _wait_seconds(self, build: Build) -> float:
        """How long a build waiting for its input sleeps before it looks again."""
        watched = self.config.namespace
        ref = strategy_input(build.spec.strategy)
        elsewhere = ref is not None and ref.namespace not in ("", build.metadata.namespace)
        if watched and elsewhere and ref is not None and ref.namespace != watched:
            return UNWATCHED_WAIT_SECONDS
        return WAIT_SECONDS

    def _start(self, build: Build) -> Result:  # noqa: PLR0911 (one return per outcome)
        waiting = self._queue_position(build)
        if waiting is not None:
            return waiting
        try:
            self._check_output(build)
            build = self._pin_input(build)
            resolved, output_ref, _ = self._resolved_copy(build)
        except AccessDeniedError as err:
            # Only a RoleBinding changes this; the next build will see it.
            events.record(self.kube, build, "Warning", "Forbidden", err.detail)
            return self._finish(build, BuildPhase.FAILED, err.reason.value, err.detail)
        except BuildError as err:
            # Late binding: the input may appear later (a first push, an import).
            if build.status.reason != err.reason.value or build.status.message != err.detail:
                build.status.reason = err.reason.value
                build.status.message = err.detail
                self._write(build)
                events.record(self.kube, build, "Warning", err.reason.value, err.detail)
            return Result(requeue_after=self._wait_seconds(build))
        try:
            pod = build_pod(build, self.config, pod_build=resolved)
        except BuildError as err:
            # Nothing will change this Build's spec (unsupported input, a field
            # kbuild does not implement): end it rather than retry forever.
            return self._finish(build, BuildPhase.ERROR, err.reason.value, err.detail)
        ns = build.metadata.namespace
        try:
            created = self.kube.create_pod(ns, pod)
        except (Forbidden, Invalid) as err:
            return self._pod_refused(build, err)
        except AlreadyExists:
            existing = self.kube.get_pod(ns, pod_name(build))
            meta = existing.get("metadata") or {}
            if meta.get("uid") and meta.get("uid") == recorded_pod_uid(build):
                created = existing  # ours: created before a restart, recorded
            else:
                owners = meta.get("ownerReferences") or []
                if not any(o.get("uid") == build.metadata.uid for o in owners):
                    return self._finish(
                        build, BuildPhase.ERROR, StatusReason.BUILD_POD_EXISTS.value,
                        f"pod {pod_name(build)} exists and does not belong to this build",
                    )  # fmt: skip
                # Owned by the Build but not recorded as ours: anyone who may
                # create pods can make one like it.  Replace it with our own.
                log.warning("build %s/%s: replacing a pod the controller did not record",
                            ns, build.metadata.name)  # fmt: skip
                with contextlib.suppress(NotFound):
                    self.kube.delete_pod(ns, pod_name(build), grace_seconds=0)
                return Result(requeue_after=1.0)
        uid = str((created.get("metadata") or {}).get("uid", ""))
        if uid and uid != recorded_pod_uid(build):
            build = self.kube.builds.patch_metadata(
                ns, build.metadata.name, {"annotations": {POD_UID_ANNOTATION: uid}}
            )
        build.status.phase = BuildPhase.PENDING
        build.status.reason = ""
        build.status.message = ""
        build.status.output_docker_image_reference = output_ref
        bc = config_name(build)
        if bc:
            build.status.config = ObjectReference(
                kind="BuildConfig", namespace=build.metadata.namespace, name=bc
            )
        self._write(build)
        self.metrics.transition(build.status.phase.value, "")
        # The BuildConfig's triggers look again now that this build's input is fixed.
        return Result(also=[("BuildConfig", build.metadata.namespace, bc)] if bc else [])

    def _pod_refused(self, build: Build, err: Forbidden | Invalid) -> Result:
        """The API server refused the build pod: say so on the Build, and try again later.

        What OpenShift's build controller does: reason CannotCreateBuildPod,
        a Warning event ``FailedCreate`` with the server's words, the Build
        left New and retried.  kbuild also puts the server's sentence in
        ``status.message`` (``pods "x-build" is forbidden: violates
        PodSecurity "restricted:latest": ...``), which names what to change;
        a Build that only showed "Failed creating build pod." would send its
        owner to the controller's log, which tenants cannot read.  The event
        is recorded when the refusal changes, not at every retry.
        """
        detail = err.server_message
        reason = StatusReason.CANNOT_CREATE_BUILD_POD.value
        log.warning("build %s/%s: the API server refused the build pod (%s): %s",
                    build.metadata.namespace, build.metadata.name, err.status, detail)  # fmt: skip
        if build.status.reason != reason or build.status.message != detail:
            build.status.reason = reason
            build.status.message = detail
            self._write(build)
            events.record(
                self.kube, build, "Warning", "FailedCreate", f"Error creating build pod: {detail}"
            )
        return Result(requeue_after=POD_REFUSED_RETRY_SECONDS)

    # -- Pending/Running: follow the pod -------------------------------------

    def _follow_pod(self, build: Build) -> Result:
        try:
            pod = self.kube.get_pod(build.metadata.namespace, pod_name(build))
        except NotFound:
            return self._finish(
                build, BuildPhase.ERROR, StatusReason.BUILD_POD_DELETED.value,
                "the build pod was deleted before the build completed",
            )  # fmt: skip
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        if not uid or uid != recorded_pod_uid(build):
            # Not the pod this controller created (ours was deleted and another
            # made in its place): its report is not to be believed.
            return self._finish(
                build, BuildPhase.ERROR, StatusReason.BUILD_POD_DELETED.value,
                f"pod {pod_name(build)} is not the pod the controller created for this build",
            )  # fmt: skip
        outcome = interpret_pod(pod)
        if outcome.phase in (BuildPhase.PENDING, BuildPhase.RUNNING):
            changed = False
            if outcome.phase != build.status.phase:
                build.status.phase = outcome.phase
                changed = True
                if outcome.phase == BuildPhase.RUNNING:
                    who = f"{build.metadata.namespace}/{build.metadata.name}"
                    events.record(
                        self.kube, build, "Normal", "BuildStarted", f"Build {who} is now running"
                    )
            if outcome.phase == BuildPhase.RUNNING and not build.status.start_timestamp:
                build.status.start_timestamp = now_time()
                changed = True
            if outcome.message != build.status.message:
                build.status.message = outcome.message
                changed = True
            if changed:
                self._write(build)
                self.metrics.transition(build.status.phase.value, "")
            return Result()
        build.status.stages = list(outcome.stages)
        if outcome.stop_pod:
            # Its containers can never be created: the kubelet would retry until
            # activeDeadlineSeconds.  Nothing ran, so there is no log to keep.
            with contextlib.suppress(NotFound):
                self.kube.delete_pod(build.metadata.namespace, pod_name(build), grace_seconds=0)
        if outcome.phase == BuildPhase.COMPLETE:
            return self._complete(build, outcome.digest)
        build.status.log_snippet = outcome.log_snippet
        reason = outcome.reason or StatusReason.GENERIC_BUILD_FAILED.value
        return self._finish(build, outcome.phase, reason, outcome.detail or outcome.message)

    def _complete(self, build: Build, digest: str) -> Result:
        if build.spec.output.to is not None:
            if not digest:
                return self._finish(
                    build, BuildPhase.FAILED, StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED.value,
                    "the build container reported no pushed digest",
                )  # fmt: skip
            _, stream_target = output_target(
                self.config, build.spec.output.to, build.metadata.namespace
            )
            if stream_target is not None:
                try:
                    # Again at the end: a RoleBinding may be gone since the start.
                    self._check_output(build)
                except AccessDeniedError as err:
                    events.record(self.kube, build, "Warning", "Forbidden", err.detail)
                    return self._finish(build, BuildPhase.FAILED, err.reason.value, err.detail)
                record_tag_event(self.kube.live, self.config, stream_target, digest)
            build.status.output = BuildStatusOutput(to=BuildStatusOutputTo(image_digest=digest))
        return self._finish(build, BuildPhase.COMPLETE, "", "")

    # -- terminal transitions -------------------------------------------------

    def _cancel(self, build: Build, message: str) -> Result:
        with contextlib.suppress(NotFound):
            self.kube.delete_pod(build.metadata.namespace, pod_name(build), grace_seconds=0)
        build.status.cancelled = True
        return self._finish(
            build, BuildPhase.CANCELLED, StatusReason.CANCELLED_BUILD.value, message
        )

    def _finish(self, build: Build, phase: BuildPhase, reason: str, detail: str) -> Result:
        """Enter a terminal phase.

        ``status.reason`` is OpenShift's reason string; ``status.message`` is
        the specific one-line cause when there is one (what the user needs to
        fix), else OpenShift's fixed sentence for the reason.
        """
        now = now_time()
        build.status.phase = phase
        build.status.reason = reason
        fixed = STATUS_MESSAGES.get(StatusReason(reason), "") if reason in _REASONS else ""
        build.status.message = detail or fixed
        build.status.start_timestamp = build.status.start_timestamp or now
        build.status.completion_timestamp = now
        seconds = _seconds_between(build.status.start_timestamp, now)
        build.status.duration = int(seconds * 1e9)
        self._write(build)
        who = f"{build.metadata.namespace}/{build.metadata.name}"
        if phase == BuildPhase.COMPLETE:
            events.record(
                self.kube, build, "Normal", "BuildCompleted", f"Build {who} completed successfully"
            )
        elif phase == BuildPhase.CANCELLED:
            events.record(
                self.kube, build, "Normal", "BuildCancelled", f"Build {who} has been cancelled"
            )
        else:
            failed = f"Build {who} failed: {build.status.reason}: {detail}"
            events.record(self.kube, build, "Warning", "BuildFailed", failed)
        self.metrics.finished(phase.value, build.status.reason, seconds)
        follow: list[tuple[str, str, str]] = []
        bc = config_name(build)
        if bc:
            follow.append(("BuildConfig", build.metadata.namespace, bc))
            queued = [s for s in self._siblings(build) if s.status.phase == BuildPhase.NEW]
            follow.extend(("Build", s.metadata.namespace, s.metadata.name) for s in queued)
        return Result(also=follow)

    def _write(self, build: Build) -> Build:
        """Status write with optimistic concurrency; Conflict propagates to the manager.

        Every write passes here, so the conditions follow whatever phase it sets.
        """
        sync_conditions(build.status, now_time())
        written = self.kube.builds.replace_status(build)
        self.on_write(written)
        return written


__all__ = ["BuildReconciler", "Conflict", "Result"]
