"""The DeploymentConfig reconciler: image triggers, rollouts, strategies, status.

One reconcile of a DeploymentConfig does, in order, what OpenShift splits
across its image trigger controller, its DeploymentConfig controller and its
deployer pods (``dcrollout`` says why there is no deployer pod here):

1. refuse what kbuild does not implement (lifecycle hooks, the Custom
   strategy, deployer pod settings), by name, in the ``Progressing``
   condition (reason ``UnsupportedField``) and a Warning event; nothing is
   rolled out rather than rolled out without them;
2. ImageChange triggers: put each ``automatic`` trigger's current image into
   the named containers and ``lastTriggeredImage`` (a spec write).  A stream
   of another namespace is followed only if the service account the pods run
   as may ``get imagestreams/layers`` there (``authz``); a denial is a
   Warning event ``InvalidImageTrigger``, the template is left alone;
3. a new rollout when a trigger fired (``status.latestVersion`` + 1 with
   ``details.causes``), or when ``kbuild rollout latest|undo`` asked for one
   (they bump ``latestVersion`` as OpenShift's instantiate endpoint does);
4. the ReplicationController ``<dc>-<version>`` of the latest version,
   created at zero replicas with OpenShift's labels and annotations;
5. one step of the strategy (Recreate, Rolling), a timeout that fails the
   rollout and scales the last complete one back up, superseded rollouts
   marked cancelled;
6. old rollouts beyond ``revisionHistoryLimit`` deleted; the status counts and
   the ``Available``/``Progressing`` conditions written (only when changed, so
   the status write does not wake the controller again).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from builder.api import StatusReason, format_time, now_time, parse_time
from builder.api.apps import (
    DEPLOYMENT_CANCELLED_ANNOTATION,
    DEPLOYMENT_CONFIG_LABEL,
    DEPLOYMENT_LOG_ANNOTATION,
    DEPLOYMENT_PHASE_ANNOTATION,
    DEPLOYMENT_REPLICAS_ANNOTATION,
    DEPLOYMENT_SCALED_ANNOTATION,
    DEPLOYMENT_STARTED_ANNOTATION,
    DEPLOYMENT_STATUS_REASON_ANNOTATION,
    DeploymentConfig,
    DeploymentPhase,
    DeploymentReason,
    LifecycleHookFailurePolicy,
    rc_name,
)
from builder.api.base import to_dict
from builder.api.core import ConditionStatus
from builder.controller import dchooks, dcrollout, dctags, events
from builder.controller.authz import (
    DEFAULT_SERVICE_ACCOUNT,
    AccessDeniedError,
    Authorizer,
    Identity,
)
from builder.controller.build import Result
from builder.kube import (
    REPLICATION_CONTROLLERS,
    AlreadyExists,
    Invalid,
    Kube,
    KubeError,
    NotFound,
    Unreachable,
)
from builder.streams.tags import current_pull_spec

log = logging.getLogger(__name__)

Key = tuple[str, str]
Override = tuple[ConditionStatus, str, str]
LOG_LINES = 200
"""The rollout log kept on a ReplicationController: its last lines only (annotations are small)."""
HOOK_POLL_SECONDS = 2.0
"""How often a running hook pod is looked at."""


class HookStep:
    """What a hook lets the rollout do now: go on, wait for its pod, or abort (why)."""

    GO: HookStep
    WAIT: HookStep

    def __init__(self, kind: str, message: str = "") -> None:
        self.kind = kind
        self.message = message


HookStep.GO = HookStep("go")
HookStep.WAIT = HookStep("wait")


def _escape(key: str) -> str:
    """A map key as one JSON pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def _involved(dc: DeploymentConfig) -> dict[str, Any]:
    return {
        "apiVersion": dc.api_version,
        "kind": dc.kind,
        "metadata": {
            "name": dc.metadata.name,
            "namespace": dc.metadata.namespace,
            "uid": dc.metadata.uid,
            "resourceVersion": dc.metadata.resource_version,
        },
    }


class DeploymentConfigReconciler:
    def __init__(
        self,
        kube: Kube,
        *,
        authorizer: Authorizer,
        on_write: Callable[[DeploymentConfig], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kube = kube
        self.authorizer = authorizer
        self.on_write = on_write
        self.clock = clock
        self._lock = threading.Lock()
        # (uid, problem) already reported as an event, so each is told once.
        self._reported: dict[Key, set[tuple[str, str]]] = {}

    # -- entry point ---------------------------------------------------------

    def reconcile(self, namespace: str, name: str) -> Result:
        try:
            dc = self.kube.deployment_configs.get(namespace, name)
        except NotFound:
            self.forget(namespace, name)
            return Result()
        if dc.metadata.deletion_timestamp:
            return Result()
        found = dcrollout.problems(dc)
        if found:
            for reason, problem in found:
                self._warn(dc, reason.value, problem)
            text = "; ".join(problem for _, problem in found)
            rcs = self._rollouts(dc)
            self._write_status(dc, rcs, (ConditionStatus.FALSE, found[0][0], text))
            return Result()
        dc = self._follow_images(dc)
        rcs = self._rollouts(dc)
        latest_rc = rcs.get(dc.status.latest_version)
        causes = dcrollout.trigger_causes(dc, latest_rc)
        if causes and (dc.status.latest_version == 0 or latest_rc is not None):
            dc.status.latest_version += 1
            dc.status.details = dcrollout.details_for(causes)
            dc = self._replace_status(dc)
            latest_rc = None
        override: Override | None = None
        if dc.status.latest_version > 0 and latest_rc is None:
            latest_rc, override = self._create_rc(dc)
            if latest_rc is not None:
                rcs[dc.status.latest_version] = latest_rc
        requeue = self._roll(dc, rcs) if latest_rc is not None else None
        rcs = self._rollouts(dc) if requeue is not None or latest_rc is not None else rcs
        self._prune(dc, rcs)
        self._write_status(dc, rcs, override)
        return Result(requeue_after=requeue)

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._reported.pop((namespace, name), None)

    # -- reading -------------------------------------------------------------

    def _rollouts(self, dc: DeploymentConfig) -> dict[int, dict[str, Any]]:
        """The DeploymentConfig's ReplicationControllers by version (only those it controls)."""
        items, _ = self.kube.list_objects(
            REPLICATION_CONTROLLERS,
            dc.metadata.namespace,
            f"{DEPLOYMENT_CONFIG_LABEL}={dc.metadata.name}",
        )
        found: dict[int, dict[str, Any]] = {}
        for rc in items:
            if not dcrollout.owned_by(rc, dc.metadata.uid):
                continue
            version = dcrollout.rollout_of(rc).version
            if version > 0 and rc_name(dc.metadata.name, version) == rc["metadata"].get("name"):
                found[version] = rc
        return found

    # -- image triggers ------------------------------------------------------

    def _follow_images(self, dc: DeploymentConfig) -> DeploymentConfig:
        """Put each automatic trigger's current image into the template (one spec write)."""
        if dc.spec.paused:
            return dc
        template = dict(dc.spec.template or {})
        service_account = (template.get("spec") or {}).get("serviceAccountName") or ""
        identity = Identity(
            dc.metadata.namespace,
            service_account if isinstance(service_account, str) and service_account
            else DEFAULT_SERVICE_ACCOUNT,
        )  # fmt: skip
        changed = False
        for _, params in dcrollout.image_triggers(dc):
            if not params.automatic:
                continue
            namespace = params.from_.namespace or dc.metadata.namespace
            stream, _, tag = params.from_.name.partition(":")
            if namespace != dc.metadata.namespace:
                try:
                    self.authorizer.check_read(
                        identity, namespace, StatusReason.INVALID_IMAGE_REFERENCE
                    )
                except AccessDeniedError as err:
                    self._warn(
                        dc, "InvalidImageTrigger",
                        f"image stream tag {namespace}/{params.from_.name}: {err.detail}",
                    )  # fmt: skip
                    continue
            try:
                image = current_pull_spec(self.kube.image_streams.get(namespace, stream), tag)
            except NotFound:
                image = None
            spec = dc.spec.template or {}
            # An edit of a followed container's image is put back, as OpenShift's image
            # trigger controller does (else each look would see an image change to roll out).
            if image is None or (
                image == params.last_triggered_image
                and dcrollout.images_are(spec, params.container_names, image)
            ):
                continue
            missing = dcrollout.set_images(spec, params.container_names, image)
            for container in missing:
                self._warn(
                    dc, "InvalidImageTrigger",
                    f"image trigger {params.from_.name}: no container {container!r} "
                    "in the template",
                )  # fmt: skip
            params.last_triggered_image = image
            changed = True
            log.info("DeploymentConfig %s/%s: %s is now %s",
                     dc.metadata.namespace, dc.metadata.name, params.from_.name, image)  # fmt: skip
        if not changed:
            return dc
        return self.kube.deployment_configs.replace(dc)

    # -- rollouts ------------------------------------------------------------

    def _create_rc(self, dc: DeploymentConfig) -> tuple[dict[str, Any] | None, Override | None]:
        version = dc.status.latest_version
        name = rc_name(dc.metadata.name, version)
        body = dcrollout.new_rc(dc, version)
        try:
            rc = self.kube.create_object(REPLICATION_CONTROLLERS, dc.metadata.namespace, body)
        except AlreadyExists:
            message = (
                f"replication controller {name!r} exists and is not controlled by this "
                "DeploymentConfig; delete it or rename the DeploymentConfig"
            )
            self._warn(dc, "DeploymentCreationFailed", message)
            return None, (ConditionStatus.FALSE, DeploymentReason.RC_CREATE_ERROR, message)
        except Invalid as err:
            message = f"cannot create replication controller {name!r}: {err.message}"
            self._warn(dc, "DeploymentCreationFailed", message)
            return None, (ConditionStatus.FALSE, DeploymentReason.RC_CREATE_ERROR, message)
        events.record_for(
            self.kube, _involved(dc), "Normal", "DeploymentCreated",
            f'Created new replication controller "{name}" for version {version}',
        )  # fmt: skip
        return rc, None

    def _patch(
        self,
        dc: DeploymentConfig,
        rc: dict[str, Any],
        *,
        replicas: int | None = None,
        annotations: dict[str, str] | None = None,
        remove: tuple[str, ...] = (),
        log: tuple[str, ...] = (),
    ) -> None:
        """One JSON patch of ``rc``; ``rc`` is updated in place to what the server returned.

        ``log`` lines are appended to the rollout log (its last ``LOG_LINES``).
        """
        meta = rc.setdefault("metadata", {})
        current = meta.get("annotations") or {}
        wanted = dict(annotations or {})
        if log:
            lines = str(current.get(DEPLOYMENT_LOG_ANNOTATION, "")).splitlines()
            lines.extend(log)
            wanted[DEPLOYMENT_LOG_ANNOTATION] = "\n".join(lines[-LOG_LINES:]) + "\n"
        ops: list[dict[str, Any]] = []
        if replicas is not None:
            ops.append({"op": "replace", "path": "/spec/replicas", "value": replicas})
        if wanted and "annotations" not in meta:
            ops.append({"op": "add", "path": "/metadata/annotations", "value": {}})
        for key, value in wanted.items():
            path = f"/metadata/annotations/{_escape(key)}"
            ops.append({"op": "add", "path": path, "value": value})
        ops.extend(
            {"op": "remove", "path": f"/metadata/annotations/{_escape(key)}"}
            for key in remove
            if key in current and key not in wanted
        )
        if ops:
            name = rc["metadata"]["name"]
            written = self.kube.patch_object(
                REPLICATION_CONTROLLERS, dc.metadata.namespace, name, ops
            )
            if isinstance(written, dict) and written.get("metadata"):
                rc.clear()
                rc.update(written)

    def _roll(self, dc: DeploymentConfig, rcs: dict[int, dict[str, Any]]) -> float | None:  # noqa: PLR0911, PLR0912 - one return per stage of the rollout
        """One step of the latest rollout; seconds until the next look, or None when settled."""
        latest_version = dc.status.latest_version
        latest_rc = rcs[latest_version]
        new = dcrollout.rollout_of(latest_rc)
        now = self.clock()
        stamp = format_time(datetime.fromtimestamp(now, UTC))
        # Superseded rollouts that never finished are cancelled, as OpenShift does.
        for version, rc in rcs.items():
            old = dcrollout.rollout_of(rc)
            if version < latest_version and not old.terminal:
                self._stop_hooks(dc, rc)
                self._patch(dc, rc, annotations={
                    DEPLOYMENT_PHASE_ANNOTATION: DeploymentPhase.FAILED.value,
                    DEPLOYMENT_CANCELLED_ANNOTATION: "true",
                    DEPLOYMENT_STATUS_REASON_ANNOTATION: dcrollout.SUPERSEDED,
                }, log=("--> Cancelled: a newer rollout superseded this one",))  # fmt: skip
        olds = [dcrollout.rollout_of(rc) for v, rc in rcs.items() if v != latest_version]
        if new.terminal:
            return self._settle(dc, rcs, new, olds)
        if new.cancelled:
            return self._cancel(dc, rcs, new, olds, latest_rc)
        if new.phase != DeploymentPhase.RUNNING:
            # Also a retried rollout (``rollout retry`` sets it back to New): its hooks run again.
            self._patch(dc, latest_rc, annotations={
                DEPLOYMENT_PHASE_ANNOTATION: DeploymentPhase.RUNNING.value,
                DEPLOYMENT_STARTED_ANNOTATION: stamp,
            }, remove=tuple(dchooks.hook_annotations()),
               log=dcrollout.start_lines(dc, new, olds))  # fmt: skip
            new = dcrollout.rollout_of(latest_rc)
            started = now
        else:
            started = _seconds(new.annotations.get(DEPLOYMENT_STARTED_ANNOTATION), now)
        update_period, interval = dcrollout.periods(dc)
        timeout = dcrollout.timeout_seconds(dc)
        if now - started > timeout:
            return self._fail(dc, rcs, new, olds, latest_rc)
        hooks = dchooks.hooks_of(self._deployed(dc, latest_rc))
        deadline = int(timeout - (now - started))
        if dchooks.Stage.PRE in hooks:
            hook = self._hook(dc, latest_rc, dchooks.Stage.PRE, hooks, deadline)
            if hook is not HookStep.GO:
                return self._after_hook(dc, rcs, new, olds, latest_rc, hook=hook)
        if dchooks.Stage.MID in hooks and all(o.settled for o in olds) and new.replicas == 0:
            hook = self._hook(dc, latest_rc, dchooks.Stage.MID, hooks, deadline)
            if hook is not HookStep.GO:
                return self._after_hook(dc, rcs, new, olds, latest_rc, hook=hook)
        result = dcrollout.step(dc, new, olds)
        if result.complete:
            if dchooks.Stage.POST in hooks:
                hook = self._hook(dc, latest_rc, dchooks.Stage.POST, hooks, deadline)
                if hook is not HookStep.GO:
                    return self._after_hook(dc, rcs, new, olds, latest_rc, hook=hook)
            replicas = 0 if dc.spec.test else None
            self._patch(dc, latest_rc, replicas=replicas, annotations={
                DEPLOYMENT_PHASE_ANNOTATION: DeploymentPhase.COMPLETE.value,
            }, log=("--> Success",))  # fmt: skip
            events.record_for(
                self.kube, _involved(dc), "Normal", "RolloutComplete",
                f'replication controller "{new.name}" successfully rolled out',
            )  # fmt: skip
            return None
        if result.scale:
            last = _seconds(new.annotations.get(DEPLOYMENT_SCALED_ANNOTATION), 0.0)
            wait = update_period - (now - last)
            if wait > 0 and last:
                return wait
            by_name = {rc["metadata"]["name"]: rc for rc in rcs.values()}
            lines = []
            for rc_name_, replicas in result.scale.items():
                before = dcrollout.rollout_of(by_name[rc_name_]).replicas
                lines.append(dcrollout.scale_line(rc_name_, before, replicas))
                if rc_name_ != new.name:
                    self._patch(dc, by_name[rc_name_], replicas=replicas)
            self._patch(
                dc, latest_rc, replicas=result.scale.get(new.name),
                annotations={DEPLOYMENT_SCALED_ANNOTATION: stamp}, log=tuple(lines),
            )  # fmt: skip
        return float(interval)

    def _after_hook(
        self,
        dc: DeploymentConfig,
        rcs: dict[int, dict[str, Any]],
        new: dcrollout.Rollout,
        olds: list[dcrollout.Rollout],
        latest_rc: dict[str, Any],
        *,
        hook: HookStep,
    ) -> float | None:
        if hook.kind == "wait":
            return HOOK_POLL_SECONDS
        return self._fail(dc, rcs, new, olds, latest_rc, hook.message)

    # -- lifecycle hooks -----------------------------------------------------

    def _deployed(self, dc: DeploymentConfig, rc: dict[str, Any]) -> DeploymentConfig:
        """The DeploymentConfig as this rollout deployed it (its hooks are the rollout's)."""
        encoded = dcrollout.deployed_config(rc)
        if encoded is None:
            return dc
        try:
            return DeploymentConfig.model_validate(encoded)
        except ValueError:
            return dc

    def _hook(  # noqa: PLR0911 - one return per state of the hook
        self,
        dc: DeploymentConfig,
        rc: dict[str, Any],
        stage: dchooks.Stage,
        hooks: dict[dchooks.Stage, Any],
        deadline: int,
    ) -> HookStep:
        """Run (or look at) the hook of ``stage``: GO once it is done, WAIT, or abort."""
        hook = hooks[stage]
        annotations = (rc.get("metadata") or {}).get("annotations") or {}
        state = annotations.get(dchooks.state_annotation(stage))
        if state in (dchooks.HookState.COMPLETE, dchooks.HookState.FAILED):
            return HookStep.GO
        if hook.tag_images:
            errors = dctags.tag_images(
                self.kube, self.authorizer, dc, rc, hook.tag_images,
                log=lambda line: self._patch(dc, rc, log=(f"--> {stage.value}: {line}",)),
            )  # fmt: skip
            return self._hook_done(dc, rc, stage, hook, "; ".join(errors) or None)
        name = dchooks.hook_pod_name(rc["metadata"]["name"], stage)
        namespace = dc.metadata.namespace
        uid = annotations.get(dchooks.pod_annotation(stage))
        if not uid:
            return self._start_hook_pod(dc, rc, stage, hook, deadline)
        try:
            pod = self.kube.get_pod(namespace, name)
        except NotFound:
            return self._hook_done(dc, rc, stage, hook, f"the hook pod {name} was deleted")
        if (pod.get("metadata") or {}).get("uid") != uid:
            return self._hook_done(dc, rc, stage, hook, f"the hook pod {name} was replaced")
        outcome = dchooks.pod_outcome(pod)
        if not outcome.done:
            return HookStep.WAIT
        message = None if outcome.succeeded else f"the hook pod {name} failed: {outcome.message}"
        return self._hook_done(dc, rc, stage, hook, message)

    def _start_hook_pod(
        self, dc: DeploymentConfig, rc: dict[str, Any], stage: dchooks.Stage, hook: Any,
        deadline: int,
    ) -> HookStep:  # fmt: skip
        namespace = dc.metadata.namespace
        body = dchooks.hook_pod(rc, stage, hook, deadline)
        name = body["metadata"]["name"]
        try:
            pod = self.kube.create_pod(namespace, body)
        except AlreadyExists:
            # Not the one this rollout recorded: a leftover of ours is removed and made
            # again; one the rollout does not own is never believed.
            try:
                existing = self.kube.get_pod(namespace, name)
            except NotFound:
                return HookStep.WAIT
            if dcrollout.owned_by(existing, str(rc["metadata"].get("uid", ""))):
                with contextlib.suppress(NotFound):
                    self.kube.delete_pod(namespace, name, 0)
                return HookStep.WAIT
            return self._hook_done(
                dc, rc, stage, hook,
                f"a pod named {name} exists and was not created for this rollout",
            )  # fmt: skip
        except Unreachable:
            raise
        except KubeError as err:
            return self._hook_done(
                dc, rc, stage, hook, f"cannot create the hook pod {name}: {err.server_message}"
            )
        self._patch(dc, rc, annotations={
            dchooks.state_annotation(stage): dchooks.HookState.RUNNING.value,
            dchooks.pod_annotation(stage): str((pod.get("metadata") or {}).get("uid", "")),
        }, log=(f"--> {stage.value}: Running hook pod ...",))  # fmt: skip
        events.record_for(
            self.kube, _involved(dc), "Normal", "Started",
            f"Running {stage.value} hook (pod {name}) for rollout {rc['metadata']['name']}",
        )  # fmt: skip
        return HookStep.WAIT

    def _hook_done(
        self,
        dc: DeploymentConfig,
        rc: dict[str, Any],
        stage: dchooks.Stage,
        hook: Any,
        error: str | None,
    ) -> HookStep:
        """Record a finished hook: GO (succeeded, or failed with Ignore), else abort."""
        key = dchooks.state_annotation(stage)
        if error is None:
            self._patch(dc, rc, annotations={key: dchooks.HookState.COMPLETE.value},
                        log=(f"--> {stage.value}: Success",))  # fmt: skip
            return HookStep.GO
        name = f"{dc.metadata.namespace}/{rc['metadata']['name']}"
        if hook.failure_policy == LifecycleHookFailurePolicy.IGNORE:
            text = f"the {stage.value} hook failed: {error} (ignore), continuing rollout of {name}"
            self._patch(dc, rc, annotations={key: dchooks.HookState.FAILED.value},
                        log=(f"--> {stage.value}: {text}",))  # fmt: skip
            events.record_for(self.kube, _involved(dc), "Warning", "FailedHook", text)
            return HookStep.GO
        text = f"the {stage.value} hook failed: {error}, aborting rollout of {name}"
        events.record_for(self.kube, _involved(dc), "Warning", "FailedHook", text)
        return HookStep("abort", text)

    def _stop_hooks(self, dc: DeploymentConfig, rc: dict[str, Any]) -> None:
        """Delete the rollout's running hook pods (a failed or cancelled rollout runs no more)."""
        annotations = (rc.get("metadata") or {}).get("annotations") or {}
        for stage in dchooks.Stage:
            if annotations.get(dchooks.state_annotation(stage)) != dchooks.HookState.RUNNING:
                continue
            name = dchooks.hook_pod_name(rc["metadata"]["name"], stage)
            with contextlib.suppress(NotFound):
                pod = self.kube.get_pod(dc.metadata.namespace, name)
                if (pod.get("metadata") or {}).get("uid") == annotations.get(
                    dchooks.pod_annotation(stage)
                ):
                    self.kube.delete_pod(dc.metadata.namespace, name, 0)

    def _cancel(
        self,
        dc: DeploymentConfig,
        rcs: dict[int, dict[str, Any]],
        new: dcrollout.Rollout,
        olds: list[dcrollout.Rollout],
        latest_rc: dict[str, Any],
    ) -> float | None:
        """``rollout cancel`` marked the running rollout: it fails, the last complete one serves."""
        self._stop_hooks(dc, latest_rc)
        self._patch(dc, latest_rc, annotations={
            DEPLOYMENT_PHASE_ANNOTATION: DeploymentPhase.FAILED.value,
        }, log=("--> Rollout cancelled",))  # fmt: skip
        events.record_for(
            self.kube, _involved(dc), "Normal", "RolloutCancelled",
            f'Rollout for "{dc.metadata.namespace}/{new.name}" cancelled',
        )  # fmt: skip
        failed = dcrollout.Rollout(**{**new.__dict__, "phase": DeploymentPhase.FAILED})
        return self._settle(dc, rcs, failed, olds)

    def _fail(  # noqa: PLR0917 - the rollout's parts, as _roll has them
        self,
        dc: DeploymentConfig,
        rcs: dict[int, dict[str, Any]],
        new: dcrollout.Rollout,
        olds: list[dcrollout.Rollout],
        latest_rc: dict[str, Any],
        why: str = "",
    ) -> float | None:
        message = why or (
            f'replication controller "{new.name}" has failed progressing: not available '
            f"within {dcrollout.timeout_seconds(dc)}s"
        )
        self._stop_hooks(dc, latest_rc)
        self._patch(dc, latest_rc, annotations={
            DEPLOYMENT_PHASE_ANNOTATION: DeploymentPhase.FAILED.value,
            DEPLOYMENT_STATUS_REASON_ANNOTATION: message,
        }, log=(f"error: {message}",))  # fmt: skip
        events.record_for(self.kube, _involved(dc), "Warning", "RolloutFailed", message)
        failed = dcrollout.Rollout(**{**new.__dict__, "phase": DeploymentPhase.FAILED})
        return self._settle(dc, rcs, failed, olds)

    def _settle(
        self,
        dc: DeploymentConfig,
        rcs: dict[int, dict[str, Any]],
        latest: dcrollout.Rollout,
        olds: list[dcrollout.Rollout],
    ) -> float | None:
        """Keep a finished rollout at its size: the complete one at ``replicas``, a failed one
        at zero with the last complete rollout serving again (OpenShift's rollback on failure)."""
        by_name = {rc["metadata"]["name"]: rc for rc in rcs.values()}
        desired = 0 if dc.spec.test else dc.spec.replicas
        active: dcrollout.Rollout | None = latest
        if latest.phase != DeploymentPhase.COMPLETE:
            if latest.replicas != 0:
                self._patch(dc, by_name[latest.name], replicas=0)
            complete = [o for o in olds if o.phase == DeploymentPhase.COMPLETE]
            active = max(complete, key=lambda o: o.version) if complete else None
        if active is not None and active.replicas != desired:
            self._patch(dc, by_name[active.name], replicas=desired, annotations={
                DEPLOYMENT_REPLICAS_ANNOTATION: str(desired),
            })  # fmt: skip
        for old in olds:
            if (active is None or old.name != active.name) and old.replicas != 0:
                self._patch(dc, by_name[old.name], replicas=0)
        return None

    def _prune(self, dc: DeploymentConfig, rcs: dict[int, dict[str, Any]]) -> None:
        rollouts = [dcrollout.rollout_of(rc) for rc in rcs.values()]
        for name in dcrollout.prunable(dc, rollouts):
            with contextlib.suppress(NotFound):
                self.kube.delete_object(REPLICATION_CONTROLLERS, dc.metadata.namespace, name)

    # -- status --------------------------------------------------------------

    def _write_status(
        self, dc: DeploymentConfig, rcs: dict[int, dict[str, Any]], override: Override | None
    ) -> None:
        before = to_dict(dc.status)
        rollouts = [dcrollout.rollout_of(rc) for rc in rcs.values()]
        latest_rc = rcs.get(dc.status.latest_version)
        latest = dcrollout.rollout_of(latest_rc) if latest_rc is not None else None
        dcrollout.status_counts(dc, rollouts, latest)
        dcrollout.set_conditions(dc, latest, now_time(), override)
        if to_dict(dc.status) != before:
            self._replace_status(dc)

    def _replace_status(self, dc: DeploymentConfig) -> DeploymentConfig:
        written = self.kube.deployment_configs.replace_status(dc)
        if self.on_write is not None:
            self.on_write(written)
        return written

    def _warn(self, dc: DeploymentConfig, reason: str, message: str) -> None:
        key = (dc.metadata.namespace, dc.metadata.name)
        with self._lock:
            seen = self._reported.setdefault(key, set())
            if (dc.metadata.uid, message) in seen:
                return
            if len(seen) > 100:
                seen.clear()
            seen.add((dc.metadata.uid, message))
        log.warning("DeploymentConfig %s/%s: %s", *key, message)
        events.record_for(self.kube, _involved(dc), "Warning", reason, message)


def _seconds(stamp: str | None, default: float) -> float:
    if not stamp:
        return default
    try:
        return parse_time(stamp).timestamp()
    except ValueError:
        return default


__all__ = ["DeploymentConfigReconciler"]
