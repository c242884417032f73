"""``rollout cancel|retry|pause|resume`` and ``kbuild rollback``: oc's writes, from the client.

Each follows ``oc`` (``pkg/cli/rollout/cancel.go``, ``retry.go``, the
DeploymentConfig pauser and resumer of ``oc rollout pause|resume``,
``pkg/cli/rollback/rollback.go`` with the API server's rollback generator):

- **cancel** marks every rollout still New, Pending or Running with
  ``openshift.io/deployment.cancelled: "true"`` and the reason ``cancelled by
  the user``; the controller then stops it (its hook pods deleted), marks it
  Failed, scales it to zero and the last complete rollout back up, and the
  ``Progressing`` condition says ``RolloutCancelled``.
- **retry** takes the latest rollout, only if it Failed, back to ``New``
  (reason and cancelled mark removed) after deleting its hook pods; the
  controller runs it again from the start, hooks included.
- **pause** / **resume** set ``spec.paused``.
- **rollback** puts the template of the chosen rollout back (with
  ``--change-triggers``, ``--change-scaling-settings``,
  ``--change-strategy`` its triggers, replicas and selector, strategy too),
  turns every image trigger's ``automatic`` off (so a tag move does not undo
  the rollback) and asks for a new version, as OpenShift's rollback endpoint
  does.

ReplicationControllers are patched with JSON patches that first ``test`` the
resourceVersion read, so a rollout that moved on meanwhile is not marked by
a stale decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from builder.cli.common import CliError
from builder.cli.dc import DEPLOYMENT_CONFIGS, get_dc, rollouts_of

if TYPE_CHECKING:
    from builder.api.apps import DeploymentConfig
    from builder.kube import Kube

IN_PROGRESS = ("New", "Pending", "Running")


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _annotation_ops(
    rc: Mapping[str, Any], set_: Mapping[str, str], remove: Sequence[str] = ()
) -> list[dict[str, Any]]:
    meta = rc.get("metadata") or {}
    current = meta.get("annotations") or {}
    ops: list[dict[str, Any]] = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": meta.get("resourceVersion")}
    ]
    if not current:
        ops.append({"op": "add", "path": "/metadata/annotations", "value": {}})
    ops.extend(
        {"op": "add", "path": f"/metadata/annotations/{_escape(k)}", "value": v}
        for k, v in set_.items()
    )
    ops.extend(
        {"op": "remove", "path": f"/metadata/annotations/{_escape(k)}"}
        for k in remove
        if k in current
    )
    return ops


def _patch_rc(kube: Kube, namespace: str, rc: Mapping[str, Any], ops: list[dict[str, Any]]) -> None:
    from builder.kube import REPLICATION_CONTROLLERS, Invalid  # noqa: PLC0415

    name = str((rc.get("metadata") or {}).get("name", ""))
    try:
        kube.patch_object(REPLICATION_CONTROLLERS, namespace, name, ops)
    except Invalid as err:
        # A failed ``test``: the rollout changed since it was read.
        raise CliError(
            f"replication controller {name!r} changed while it was updated; try again "
            f"({err.server_message})"
        ) from None


# ---------------------------------------------------------------------------
# cancel


@dataclass(frozen=True)
class CancelResult:
    lines: list[str]
    """What oc prints on stdout."""
    errors: list[str]
    """oc's errors (the command fails with them after doing what it could)."""


def cancel(kube: Kube, namespace: str, name: str, now: datetime) -> CancelResult:
    """``oc rollout cancel dc/NAME``."""
    from builder.api.apps import (  # noqa: PLC0415
        DEPLOYMENT_CANCELLED_ANNOTATION,
        DEPLOYMENT_CANCELLED_BY_USER,
        DEPLOYMENT_STATUS_REASON_ANNOTATION,
    )
    from builder.cli.common import human_duration, parse_when, since  # noqa: PLC0415
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415

    dc = get_dc(kube, namespace, name)
    errors = []
    if dc.spec.paused:
        # oc reports it and still goes on (pkg/cli/rollout/cancel.go).
        errors.append(f"unable to cancel paused deployment {namespace}/{name}")
    rcs = list(reversed(rollouts_of(kube, dc)))
    if not rcs:
        raise CliError(f"there have been no replication controllers for {namespace}/{name}")
    ref = DEPLOYMENT_CONFIGS.ref(name)
    lines: list[str] = []
    cancelled = False
    for rc in rcs:
        rollout = rollout_of(rc)
        if rollout.phase.value not in IN_PROGRESS:
            continue
        if rollout.cancelled:
            lines.append(f"{ref} already cancelled")
            cancelled = False
            continue
        ops = _annotation_ops(rc, {
            DEPLOYMENT_CANCELLED_ANNOTATION: "true",
            DEPLOYMENT_STATUS_REASON_ANNOTATION: DEPLOYMENT_CANCELLED_BY_USER,
        })  # fmt: skip
        _patch_rc(kube, namespace, rc, ops)
        lines.append(f"{ref} cancelling")
        cancelled = True
    if not cancelled:
        latest = rollout_of(rcs[0])
        maybe = " (cancelling)" if latest.cancelled and not latest.terminal else ""
        created = parse_when((rcs[0].get("metadata") or {}).get("creationTimestamp"))
        ago = human_duration(since(created, now)).lower() if created else "unknown time"
        lines.append(
            f"No rollout is in progress (latest rollout #{latest.version} "
            f"{latest.phase.value.lower()}{maybe} {ago} ago)"
        )
    return CancelResult(lines, errors)


# ---------------------------------------------------------------------------
# retry


def retry(kube: Kube, namespace: str, name: str) -> str:
    """``oc rollout retry dc/NAME``: the latest failed rollout back to New; oc's line."""
    from builder.api.apps import (  # noqa: PLC0415
        DEPLOYER_POD_FOR_LABEL,
        DEPLOYMENT_CANCELLED_ANNOTATION,
        DEPLOYMENT_PHASE_ANNOTATION,
        DEPLOYMENT_STATUS_REASON_ANNOTATION,
        DeploymentPhase,
        rc_name,
    )
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    dc = get_dc(kube, namespace, name)
    if dc.spec.paused:
        raise CliError(f"unable to retry paused deployment config {name!r}".replace("'", '"'))
    version = dc.status.latest_version
    if version == 0:
        raise CliError(f'no rollouts found for "{name}"')
    latest_name = rc_name(name, version)
    rc = next((r for r in rollouts_of(kube, dc) if rollout_of(r).version == version), None)
    if rc is None:
        raise CliError(
            f"unable to find the latest rollout (#{version}).\n"
            f"You can start a new rollout with 'kbuild rollout latest dc/{name}'."
        )
    rollout = rollout_of(rc)
    if rollout.phase != DeploymentPhase.FAILED:
        message = (
            f"rollout #{version} is {rollout.phase.value.lower()}; "
            "only failed deployments can be retried.\n"
        )
        if rollout.phase == DeploymentPhase.COMPLETE:
            message += f"You can start a new deployment with 'kbuild rollout latest dc/{name}'."
        else:
            hint = f"'kbuild rollout cancel dc/{name}'"
            message += f"Optionally, you can cancel this deployment with {hint}."
        raise CliError(message)
    pods, _ = kube.list_pods(namespace, f"{DEPLOYER_POD_FOR_LABEL}={latest_name}")
    for pod in pods:
        pod_name = str((pod.get("metadata") or {}).get("name", ""))
        try:
            kube.delete_pod(namespace, pod_name, 0)
        except NotFound:
            continue
    ops = _annotation_ops(
        rc,
        {DEPLOYMENT_PHASE_ANNOTATION: DeploymentPhase.NEW.value},
        [DEPLOYMENT_STATUS_REASON_ANNOTATION, DEPLOYMENT_CANCELLED_ANNOTATION],
    )
    _patch_rc(kube, namespace, rc, ops)
    return f"{DEPLOYMENT_CONFIGS.ref(name)} retried rollout #{version}"


# ---------------------------------------------------------------------------
# pause, resume


def set_paused(kube: Kube, namespace: str, name: str, paused: bool) -> str:
    """``oc rollout pause|resume dc/NAME``: ``spec.paused``; oc's line, or its error."""
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    def flip(dc: DeploymentConfig) -> DeploymentConfig:
        if dc.spec.paused == paused:
            state = "is already paused" if paused else "is not paused"
            raise CliError(f'{DEPLOYMENT_CONFIGS.qualified} "{name}" {state}')
        dc.spec.paused = paused
        return dc

    try:
        update_with_retry(
            lambda: get_dc(kube, namespace, name),
            flip,
            kube.deployment_configs.replace,
            what=DEPLOYMENT_CONFIGS.ref(name),
        )
    except TooManyConflicts:
        raise CliError(f"deploymentconfig {name!r} keeps changing; try again") from None
    return f"{DEPLOYMENT_CONFIGS.ref(name)} {'paused' if paused else 'resumed'}"


# ---------------------------------------------------------------------------
# rollback


@dataclass(frozen=True)
class RollbackOptions:
    to_version: int = 0
    change_triggers: bool = False
    change_scaling: bool = False
    change_strategy: bool = False


def rolled_back_config(
    current: DeploymentConfig, target: Mapping[str, Any], options: RollbackOptions
) -> DeploymentConfig:
    """OpenShift's rollback generator: the current config with the target's parts."""
    from builder.api.apps import DeploymentConfig, DeploymentTriggerType  # noqa: PLC0415
    from builder.controller.dcrollout import deployed_config  # noqa: PLC0415

    encoded = deployed_config(target)
    name = str((target.get("metadata") or {}).get("name", ""))
    if encoded is None:
        raise CliError(f"{name} does not record the deployment config it deployed")
    try:
        old = DeploymentConfig.model_validate(encoded)
    except ValueError:
        raise CliError(f"{name} records a deployment config kbuild cannot read") from None
    rolled = current.model_copy(deep=True)
    rolled.spec.template = old.spec.template
    if options.change_scaling:
        rolled.spec.replicas = old.spec.replicas
        rolled.spec.selector = old.spec.selector
    if options.change_triggers:
        rolled.spec.triggers = old.spec.triggers
    if options.change_strategy:
        rolled.spec.strategy = old.spec.strategy
    for trigger in rolled.spec.triggers or []:
        params = trigger.image_change_params
        if trigger.type == DeploymentTriggerType.IMAGE_CHANGE and params is not None:
            params.automatic = False
    return rolled


def find_target(
    dc: DeploymentConfig, rcs: Sequence[Mapping[str, Any]], version: int
) -> Mapping[str, Any]:
    """``--to-version`` N, else the newest complete rollout older than the latest (oc's)."""
    from builder.api.apps import DeploymentPhase  # noqa: PLC0415
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415

    for rc in sorted(rcs, key=lambda r: -rollout_of(r).version):
        rollout = rollout_of(rc)
        if version > 0:
            if rollout.version == version:
                return rc
        elif (
            rollout.version < dc.status.latest_version and rollout.phase == DeploymentPhase.COMPLETE
        ):
            return rc
    raise CliError("couldn't find deployment for rollback")


def _resolve(
    kube: Kube, namespace: str, target_name: str
) -> tuple[DeploymentConfig, Mapping[str, Any] | None]:
    """The DeploymentConfig and, for ``rc/NAME`` or a bare RC name, the RC to go back to."""
    from builder.api.apps import DEPLOYMENT_CONFIG_ANNOTATION  # noqa: PLC0415
    from builder.kube import REPLICATION_CONTROLLERS, NotFound  # noqa: PLC0415

    kind, slash, name = target_name.rpartition("/")
    invalid = CliError(f"{target_name} is not a valid deployment or deployment config")
    if kind in ("", "rc", "replicationcontroller", "replicationcontrollers"):
        try:
            rc = kube.get_object(REPLICATION_CONTROLLERS, namespace, name)
        except NotFound:
            if slash:
                raise invalid from None
        else:
            annotations = (rc.get("metadata") or {}).get("annotations") or {}
            owner = str(annotations.get(DEPLOYMENT_CONFIG_ANNOTATION, ""))
            if not owner:
                raise invalid
            return get_dc(kube, namespace, owner), rc
    if kind and kind not in DEPLOYMENT_CONFIGS.aliases:
        raise invalid
    try:
        return kube.deployment_configs.get(namespace, name), None
    except NotFound:
        raise invalid from None


def rollback(
    kube: Kube, namespace: str, target_name: str, options: RollbackOptions, *, dry_run: bool
) -> tuple[DeploymentConfig, str]:
    """``oc rollback``: (the rolled back config, the target RC's name); written unless dry_run.

    ``target_name`` is ``dc/NAME``, ``rc/NAME-N`` or a bare name (an RC first,
    then a DeploymentConfig, as oc looks it up).
    """
    from builder.controller.dcrollout import details_for, manual_cause  # noqa: PLC0415
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    if options.to_version < 0:
        raise CliError("the to version must be >= 0")
    dc, rc = _resolve(kube, namespace, target_name)
    if dc.spec.paused:
        raise CliError("cannot rollback a paused deployment config")
    if rc is None:
        rc = find_target(dc, rollouts_of(kube, dc), options.to_version)
    target = str((rc.get("metadata") or {}).get("name", ""))
    rolled = rolled_back_config(dc, rc, options)
    seen = dc.status.latest_version
    rolled.status.latest_version = seen + 1
    if dry_run:
        return rolled, target
    written = kube.deployment_configs.replace(rolled)

    def bump(current: DeploymentConfig) -> DeploymentConfig | None:
        if current.status.latest_version > seen:
            return None  # the controller started the rollout already
        current.status.latest_version = seen + 1
        details = details_for([manual_cause()])
        details.message = f"rolled back to {target}"
        current.status.details = details
        return current

    try:
        done = update_with_retry(
            lambda: get_dc(kube, namespace, dc.metadata.name),
            bump,
            kube.deployment_configs.replace_status,
            what=DEPLOYMENT_CONFIGS.ref(dc.metadata.name),
        )
    except TooManyConflicts:
        return written, target
    return (done.written if done.written is not None else done.seen), target


def rollback_message(rolled: DeploymentConfig, target: str, *, dry_run: bool) -> str:
    """oc's output: the name printer's line, with the disabled triggers' warnings."""
    from builder.api.apps import DeploymentTriggerType  # noqa: PLC0415

    ref = DEPLOYMENT_CONFIGS.ref(rolled.metadata.name)
    if dry_run:
        return f"{ref} rolled back to {target} (dry run)"
    message = f"deployment #{rolled.status.latest_version} rolled back to {target}"
    for trigger in rolled.spec.triggers or []:
        params = trigger.image_change_params
        if trigger.type == DeploymentTriggerType.IMAGE_CHANGE and params and not params.automatic:
            message += (
                f"\nWarning: the following images triggers were disabled: {params.from_.name}"
                "\n  You can re-enable them with: "
                f"kbuild set triggers dc/{rolled.metadata.name} --auto"
            )
    return f"{ref} {message}"


__all__ = [
    "CancelResult",
    "RollbackOptions",
    "cancel",
    "find_target",
    "retry",
    "rollback",
    "rollback_message",
    "rolled_back_config",
    "set_paused",
]
