"""DeploymentConfig rollouts as pure functions: the ReplicationControllers, the steps, the status.

OpenShift runs each rollout in a deployer pod (``openshift/origin-deployer``)
that scales the ReplicationControllers.  kbuild runs the same strategies in
the controller instead, one step per reconcile:

- there is no deployer image to pull on a plain cluster, and the pod would
  need its own service account with rights to scale the namespace's
  ReplicationControllers: the controller already holds them, and a tenant
  cannot tamper with a rollout it cannot see as a pod;
- the rollout's state lives on the ReplicationController (OpenShift's
  ``deployment.phase`` annotation, plus when the rollout started and last
  scaled), so a controller restart, or a leader change, resumes it where it
  stood, instead of orphaning a deployer pod mid-way.

Everything here is a function of the DeploymentConfig, its
ReplicationControllers (plain dicts, as the API server returns them) and the
time, so the strategies and conditions are table-tested without a cluster.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from builder.api.apps import (
    DEFAULT_PERIOD_SECONDS,
    DEFAULT_REVISION_HISTORY_LIMIT,
    DEFAULT_SURGE,
    DEFAULT_TIMEOUT_SECONDS,
    DEPLOYMENT_CANCELLED_ANNOTATION,
    DEPLOYMENT_CONFIG_ANNOTATION,
    DEPLOYMENT_CONFIG_LABEL,
    DEPLOYMENT_CONFIG_POD_LABEL,
    DEPLOYMENT_ENCODED_CONFIG_ANNOTATION,
    DEPLOYMENT_LABEL,
    DEPLOYMENT_NAME_ANNOTATION,
    DEPLOYMENT_PHASE_ANNOTATION,
    DEPLOYMENT_REPLICAS_ANNOTATION,
    DEPLOYMENT_STATUS_REASON_ANNOTATION,
    DEPLOYMENT_VERSION_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION,
    DeploymentCause,
    DeploymentCondition,
    DeploymentConditionType,
    DeploymentConfig,
    DeploymentDetails,
    DeploymentPhase,
    DeploymentReason,
    DeploymentStrategyType,
    DeploymentTriggerType,
    rc_name,
    trigger_policies,
)
from builder.api.base import to_dict, unimplemented_fields_in_use
from builder.api.core import ConditionStatus
from builder.controller import dchooks

TERMINAL = (DeploymentPhase.COMPLETE, DeploymentPhase.FAILED)
AVAILABLE_MESSAGE = "Deployment config has minimum availability."
UNAVAILABLE_MESSAGE = "Deployment config does not have minimum availability."
PAUSED_MESSAGE = "Deployment config is paused"
SUPERSEDED = "cancelled as a newer deployment was found running"


# ---------------------------------------------------------------------------
# ReplicationControllers


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class Rollout:
    """One ReplicationController of a DeploymentConfig, as the strategies read it."""

    name: str
    version: int
    phase: DeploymentPhase
    replicas: int
    """``spec.replicas``: what the rollout asked for."""
    current: int
    """``status.replicas``: pods that exist."""
    ready: int
    available: int
    observed: bool
    """The RC controller has seen the last spec change (its counts are current)."""
    cancelled: bool
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL

    @property
    def settled(self) -> bool:
        """Scaled to zero and no pod left."""
        return self.replicas == 0 and self.current == 0 and self.observed


def rollout_of(rc: Mapping[str, Any]) -> Rollout:
    meta = rc.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    spec = rc.get("spec") or {}
    status = rc.get("status") or {}
    try:
        phase = DeploymentPhase(annotations.get(DEPLOYMENT_PHASE_ANNOTATION, "New"))
    except ValueError:
        phase = DeploymentPhase.NEW
    version_text = str(annotations.get(DEPLOYMENT_VERSION_ANNOTATION, "0"))
    version = int(version_text) if version_text.isascii() and version_text.isdigit() else 0
    replicas = spec.get("replicas")
    return Rollout(
        name=str(meta.get("name", "")),
        version=version if len(version_text) < 10 else 0,
        phase=phase,
        replicas=1 if replicas is None else _int(replicas),
        current=_int(status.get("replicas")),
        ready=_int(status.get("readyReplicas")),
        available=_int(status.get("availableReplicas")),
        observed=_int(status.get("observedGeneration")) >= _int(meta.get("generation")),
        cancelled=annotations.get(DEPLOYMENT_CANCELLED_ANNOTATION) == "true",
        annotations=dict(annotations),
    )


def owned_by(rc: Mapping[str, Any], uid: str) -> bool:
    """Only RCs the DeploymentConfig controls are its rollouts (a label is easy to copy)."""
    refs = (rc.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == uid and r.get("controller") for r in refs if isinstance(r, dict))


def _object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else empty: templates are the tenant's free-form JSON."""
    return value if isinstance(value, dict) else {}


def selector_of(dc: DeploymentConfig) -> dict[str, str]:
    """``spec.selector``, defaulted to the template's labels as OpenShift's API does."""
    if dc.spec.selector:
        return dict(dc.spec.selector)
    labels = _object(_object(dc.spec.template).get("metadata")).get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def causes_text(details: DeploymentDetails | None) -> str:
    """``config change``, ``image change``, ``manual change``: oc's words for the causes."""
    if details is None:
        return ""
    if details.message:
        return details.message
    words = {
        DeploymentTriggerType.CONFIG_CHANGE.value: "config change",
        DeploymentTriggerType.IMAGE_CHANGE.value: "image change",
        "Manual": "manual change",
    }
    return ", ".join(dict.fromkeys(words.get(c.type, c.type) for c in details.causes))


def new_rc(dc: DeploymentConfig, version: int) -> dict[str, Any]:
    """The RC of rollout ``version``, at zero replicas (the strategy scales it up)."""
    name = rc_name(dc.metadata.name, version)
    template = copy.deepcopy(dc.spec.template or {})
    # problems() has checked that these are objects (or absent, or null).
    meta = template["metadata"] = _object(template.get("metadata"))
    labels = meta["labels"] = _object(meta.get("labels"))
    labels[DEPLOYMENT_LABEL] = name
    labels[DEPLOYMENT_CONFIG_POD_LABEL] = dc.metadata.name
    annotations = meta["annotations"] = _object(meta.get("annotations"))
    annotations[DEPLOYMENT_CONFIG_ANNOTATION] = dc.metadata.name
    annotations[DEPLOYMENT_VERSION_ANNOTATION] = str(version)
    annotations[DEPLOYMENT_NAME_ANNOTATION] = name
    selector = selector_of(dc)
    selector[DEPLOYMENT_LABEL] = name
    selector[DEPLOYMENT_CONFIG_POD_LABEL] = dc.metadata.name
    encoded = to_dict(dc)
    encoded.pop("status", None)
    encoded["status"] = to_dict(dc.status)
    desired = str(dc.spec.replicas)
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {
            "name": name,
            "namespace": dc.metadata.namespace,
            "labels": {DEPLOYMENT_CONFIG_LABEL: dc.metadata.name},
            "annotations": {
                DEPLOYMENT_CONFIG_ANNOTATION: dc.metadata.name,
                DEPLOYMENT_VERSION_ANNOTATION: str(version),
                DEPLOYMENT_PHASE_ANNOTATION: DeploymentPhase.NEW.value,
                DEPLOYMENT_REPLICAS_ANNOTATION: desired,
                DESIRED_REPLICAS_ANNOTATION: desired,
                DEPLOYMENT_STATUS_REASON_ANNOTATION: causes_text(dc.status.details),
                DEPLOYMENT_ENCODED_CONFIG_ANNOTATION: json.dumps(encoded, separators=(",", ":")),
            },
            "ownerReferences": [
                {
                    "apiVersion": dc.api_version,
                    "kind": dc.kind,
                    "name": dc.metadata.name,
                    "uid": dc.metadata.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": dc.spec.min_ready_seconds,
            "selector": selector,
            "template": template,
        },
    }


def deployed_config(rc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The DeploymentConfig (JSON) an RC was created from, or None if unreadable."""
    annotations = (rc.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(DEPLOYMENT_ENCODED_CONFIG_ANNOTATION)
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def deployed_template(rc: Mapping[str, Any]) -> dict[str, Any] | None:
    config = deployed_config(rc)
    spec = (config or {}).get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    return template if isinstance(template, dict) else None


# ---------------------------------------------------------------------------
# What the DeploymentConfig asks for


def _template_problems(template: dict[str, Any] | None) -> list[str]:
    """The template is the tenant's free-form JSON: the shape the rollout relies on."""
    if not template:
        return ["spec.template: a pod template is required"]
    if not isinstance(template.get("spec"), dict):
        return ["spec.template.spec: must be an object (a pod spec)"]
    meta = template.get("metadata") or {}
    if not isinstance(meta, dict):
        return ["spec.template.metadata: must be an object"]
    return [
        f"spec.template.metadata.{key}: must be an object"
        for key in ("labels", "annotations")
        if not isinstance(meta.get(key) or {}, dict)
    ]


def problems(dc: DeploymentConfig) -> list[tuple[DeploymentReason, str]]:
    """What kbuild will not roll out, one line each with its reason (empty: fine)."""
    unsupported = DeploymentReason.UNSUPPORTED
    found = [(unsupported, f"spec.{p}: {why}") for p, why in unimplemented_fields_in_use(dc.spec)]
    if dc.spec.strategy.type == DeploymentStrategyType.CUSTOM:
        found.append((unsupported, "spec.strategy.type: the Custom strategy is not implemented"))
    invalid = DeploymentReason.INVALID
    found.extend((invalid, text) for text in _template_problems(dc.spec.template))
    if dc.spec.replicas < 0:
        found.append((invalid, "spec.replicas: must not be negative"))
    for index, trigger in enumerate(trigger_policies(dc)):
        params = trigger.image_change_params
        where = f"spec.triggers[{index}]"
        if trigger.type == DeploymentTriggerType.IMAGE_CHANGE:
            if params is None:
                found.append((invalid, f"{where}: an ImageChange trigger needs imageChangeParams"))
            elif params.from_.kind not in ("", "ImageStreamTag") or ":" not in params.from_.name:
                text = f"{where}.imageChangeParams.from: must be an ImageStreamTag NAME:TAG"
                found.append((invalid, text))
            elif not params.container_names:
                text = f"{where}.imageChangeParams.containerNames: at least one is required"
                found.append((invalid, text))
        elif trigger.type is None:
            found.append((invalid, f"{where}.type: must be ConfigChange or ImageChange"))
    if not any(reason == invalid for reason, _ in found):
        found.extend((invalid, text) for text in dchooks.problems(dc))
    return found


def image_triggers(dc: DeploymentConfig) -> list[tuple[int, Any]]:
    return [
        (i, t.image_change_params)
        for i, t in enumerate(trigger_policies(dc))
        if t.type == DeploymentTriggerType.IMAGE_CHANGE and t.image_change_params is not None
    ]


def has_config_trigger(dc: DeploymentConfig) -> bool:
    return any(t.type == DeploymentTriggerType.CONFIG_CHANGE for t in trigger_policies(dc))


def _containers(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = _object(template.get("spec"))
    found: list[dict[str, Any]] = []
    for key in ("initContainers", "containers"):
        items = spec.get(key)
        if isinstance(items, list):
            found.extend(c for c in items if isinstance(c, dict))
    return found


def set_images(template: dict[str, Any], names: Sequence[str], image: str) -> list[str]:
    """Point the named containers at ``image``; the names not found (the trigger skips them)."""
    containers = {str(c.get("name")): c for c in _containers(template)}
    missing = []
    for name in names:
        if name in containers:
            containers[name]["image"] = image
        else:
            missing.append(name)
    return missing


def images_are(template: Mapping[str, Any], names: Sequence[str], image: str) -> bool:
    """Do the named containers that exist run ``image``?"""
    containers = {str(c.get("name")): c for c in _containers(template)}
    return all(containers[n].get("image") == image for n in names if n in containers)


def trigger_causes(  # noqa: PLR0911 - one return per case of OpenShift's triggerActivated
    dc: DeploymentConfig, latest: Mapping[str, Any] | None
) -> list[DeploymentCause]:
    """Why a new rollout is due now (OpenShift's ``triggerActivated``), or [] for none.

    The first rollout waits for every image trigger to have an image; later
    ones happen when an image trigger put an image the latest rollout does
    not run (``ImageChange``), or, with a ConfigChange trigger, when the
    template differs from the latest rollout's (``ConfigChange``).
    """
    if dc.spec.paused:
        return []
    images = image_triggers(dc)
    config = has_config_trigger(dc)
    if dc.status.latest_version == 0:
        if images:
            if all(p.last_triggered_image for _, p in images if p.automatic):
                return [DeploymentCause(type=DeploymentTriggerType.CONFIG_CHANGE.value)]
            return []
        return [DeploymentCause(type=DeploymentTriggerType.CONFIG_CHANGE.value)] if config else []
    if latest is None:
        return []
    deployed = deployed_template(latest)
    if deployed is None:
        return []
    running = {str(c.get("name")): c.get("image") for c in _containers(deployed)}
    causes: list[DeploymentCause] = []
    for _, params in images:
        image = params.last_triggered_image
        if not params.automatic or not image:
            continue
        if any(n in running and running[n] != image for n in params.container_names):
            ref = params.from_.model_copy()
            ref.kind = ref.kind or "ImageStreamTag"
            causes.append(
                DeploymentCause.model_validate(
                    {"type": "ImageChange", "imageTrigger": {"from": to_dict(ref)}}
                )
            )
    if causes:
        return causes
    if config and deployed != (dc.spec.template or {}):
        return [DeploymentCause(type=DeploymentTriggerType.CONFIG_CHANGE.value)]
    return []


def manual_cause() -> DeploymentCause:
    """``kbuild rollout latest``'s cause, as OpenShift's instantiate records it."""
    return DeploymentCause(type="Manual")


def condition_of(dc: DeploymentConfig, kind: str) -> DeploymentCondition | None:
    return next((c for c in dc.status.conditions if c.type == kind), None)


def details_for(causes: Sequence[DeploymentCause]) -> DeploymentDetails:
    details = DeploymentDetails(causes=list(causes))
    details.message = causes_text(details)
    return details


# ---------------------------------------------------------------------------
# Strategies


def resolve(value: int | str | None, total: int, *, round_up: bool) -> int:
    """A count from ``5`` or ``"25%"`` of ``total`` (surge rounds up, unavailable down)."""
    if value is None:
        value = DEFAULT_SURGE
    if isinstance(value, int):
        return value
    share = total * int(value.rstrip("%")) / 100
    return math.ceil(share) if round_up else math.floor(share)


def surge_and_unavailable(dc: DeploymentConfig) -> tuple[int, int]:
    params = dc.spec.strategy.rolling_params
    desired = dc.spec.replicas
    surge = resolve(params.max_surge if params else None, desired, round_up=True)
    unavailable = resolve(params.max_unavailable if params else None, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # OpenShift refuses both at zero; one pod at a time is what is meant
    return surge, unavailable


def max_unavailable(dc: DeploymentConfig) -> int:
    """How far below ``replicas`` the DeploymentConfig still counts as available."""
    if strategy_type(dc) == DeploymentStrategyType.ROLLING:
        return min(surge_and_unavailable(dc)[1], dc.spec.replicas)
    return 0


def strategy_type(dc: DeploymentConfig) -> DeploymentStrategyType:
    return dc.spec.strategy.type or DeploymentStrategyType.ROLLING


def timeout_seconds(dc: DeploymentConfig) -> int:
    strategy = dc.spec.strategy
    params: Any = (
        strategy.recreate_params
        if strategy_type(dc) == DeploymentStrategyType.RECREATE
        else strategy.rolling_params
    )
    value = params.timeout_seconds if params is not None else None
    return value if value is not None and value > 0 else DEFAULT_TIMEOUT_SECONDS


def periods(dc: DeploymentConfig) -> tuple[int, int]:
    """(updatePeriodSeconds, intervalSeconds) of a Rolling strategy; (0, 1) for Recreate."""
    params = dc.spec.strategy.rolling_params
    if strategy_type(dc) != DeploymentStrategyType.ROLLING:
        return 0, DEFAULT_PERIOD_SECONDS
    update = params.update_period_seconds if params else None
    interval = params.interval_seconds if params else None
    return (
        update if update is not None and update > 0 else DEFAULT_PERIOD_SECONDS,
        interval if interval is not None and interval > 0 else DEFAULT_PERIOD_SECONDS,
    )


def history_limit(dc: DeploymentConfig) -> int:
    limit = dc.spec.revision_history_limit
    return DEFAULT_REVISION_HISTORY_LIMIT if limit is None else max(limit, 0)


@dataclass(frozen=True)
class Step:
    """What one reconcile does for a running rollout."""

    scale: dict[str, int]
    """RC name -> new ``spec.replicas``."""
    complete: bool = False


def step(dc: DeploymentConfig, new: Rollout, olds: Sequence[Rollout]) -> Step:
    """The next scaling step of the rollout of ``new`` (every other RC is an old one)."""
    desired = dc.spec.replicas
    if not new.observed or not all(o.observed for o in olds):
        return Step({})  # the counts are stale: wait for the RC controller
    if strategy_type(dc) == DeploymentStrategyType.RECREATE:
        return _recreate(desired, new, olds)
    return _rolling(dc, desired, new, olds)


def _done(desired: int, new: Rollout, olds: Sequence[Rollout]) -> bool:
    return (
        new.replicas == desired
        and new.available >= desired
        and new.current == desired
        and all(o.settled for o in olds)
    )


def _recreate(desired: int, new: Rollout, olds: Sequence[Rollout]) -> Step:
    running = {o.name: 0 for o in olds if o.replicas > 0}
    if running:
        return Step(running)
    if any(o.current > 0 for o in olds):
        return Step({})  # old pods still terminating: never both at once
    if new.replicas != desired:
        return Step({new.name: desired})
    return Step({}, complete=_done(desired, new, olds))


def _rolling(dc: DeploymentConfig, desired: int, new: Rollout, olds: Sequence[Rollout]) -> Step:
    surge, unavailable = surge_and_unavailable(dc)
    scale: dict[str, int] = {}
    old_total = sum(o.replicas for o in olds)
    target = min(desired, max(new.replicas, desired + surge - old_total))
    if old_total == 0:
        target = desired
    if target != new.replicas:
        scale[new.name] = target
    # Scale down what may go: unavailable old pods always, available ones
    # while at least desired - maxUnavailable stay available.
    available = new.available + sum(o.available for o in olds)
    spare = max(0, available - (desired - unavailable))
    for old in sorted(olds, key=lambda o: o.version):
        if old.replicas == 0:
            continue
        idle = max(0, old.replicas - old.available)
        remove = min(old.replicas, idle + spare)
        spare -= max(0, remove - idle)
        if remove:
            scale[old.name] = old.replicas - remove
    if scale:
        return Step(scale)
    return Step({}, complete=_done(desired, new, olds))


# ---------------------------------------------------------------------------
# The rollout log (what OpenShift's deployer pod prints)


def start_lines(dc: DeploymentConfig, new: Rollout, olds: Sequence[Rollout]) -> tuple[str, ...]:
    """The first line of a rollout's log, in the words of OpenShift's strategies."""
    desired = dc.spec.replicas
    running = [o for o in olds if o.replicas > 0]
    if strategy_type(dc) == DeploymentStrategyType.RECREATE:
        lines = [f"--> Scaling {o.name} down to zero" for o in running]
        return (*lines, f"--> Scaling {new.name} to {desired}")
    surge, unavailable = surge_and_unavailable(dc)
    down = ", ".join(f"{o.name} from {o.replicas} to 0" for o in running)
    keep = max(desired - unavailable, 0)
    text = f"--> Scaling up {new.name} from {new.replicas} to {desired}"
    if down:
        text += f", scaling down {down}"
    return (text + f" (keep {keep} pods available, don't exceed {desired + surge} pods)",)


def scale_line(name: str, before: int, after: int) -> str:
    return f"    Scaling {name} {'up' if after > before else 'down'} to {after}"


# ---------------------------------------------------------------------------
# Status


def _set(  # noqa: PLR0917 - the condition's fields, in their order
    conditions: list[DeploymentCondition],
    kind: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    now: str,
) -> None:
    for index, existing in enumerate(conditions):
        if existing.type != kind:
            continue
        if (existing.status, existing.reason, existing.message) == (status, reason, message):
            return
        transition = existing.last_transition_time if existing.status == status else now
        conditions[index] = DeploymentCondition(
            type=kind, status=status, reason=reason, message=message,
            last_update_time=now, last_transition_time=transition,
        )  # fmt: skip
        return
    new = DeploymentCondition(
        type=kind, status=status, reason=reason, message=message,
        last_update_time=now, last_transition_time=now,
    )  # fmt: skip
    conditions.append(new)


def progressing(  # noqa: PLR0911 - one return per phase
    latest: Rollout | None, *, paused: bool
) -> tuple[ConditionStatus, str, str] | None:
    """The Progressing condition for the latest rollout (OpenShift's reasons and messages)."""
    if paused and (latest is None or latest.terminal):
        return ConditionStatus.UNKNOWN, DeploymentReason.PAUSED, PAUSED_MESSAGE
    if latest is None:
        return None
    name = latest.name
    if latest.phase == DeploymentPhase.COMPLETE:
        return (
            ConditionStatus.TRUE,
            DeploymentReason.NEW_RC_AVAILABLE,
            f"replication controller {name!r} successfully rolled out".replace("'", '"'),
        )
    if latest.phase == DeploymentPhase.FAILED:
        if latest.cancelled:
            return (
                ConditionStatus.FALSE,
                DeploymentReason.CANCELLED,
                f'rollout of replication controller "{name}" was cancelled',
            )
        return (
            ConditionStatus.FALSE,
            DeploymentReason.TIMED_OUT,
            f'replication controller "{name}" has failed progressing',
        )
    if latest.phase == DeploymentPhase.RUNNING:
        return (
            ConditionStatus.TRUE,
            DeploymentReason.RC_UPDATED,
            f'replication controller "{name}" is progressing',
        )
    return (
        ConditionStatus.TRUE,
        DeploymentReason.NEW_RC_CREATED,
        f'Created new replication controller "{name}" for version {latest.version}',
    )


def status_counts(
    dc: DeploymentConfig, rollouts: Sequence[Rollout], latest: Rollout | None
) -> None:
    """Replica counts over every rollout of ``dc``, written into its status."""
    status = dc.status
    status.replicas = sum(r.current for r in rollouts)
    status.ready_replicas = sum(r.ready for r in rollouts)
    status.available_replicas = sum(r.available for r in rollouts)
    status.updated_replicas = latest.current if latest is not None else 0
    status.unavailable_replicas = max(0, status.replicas - status.available_replicas)
    status.observed_generation = dc.metadata.generation


def set_conditions(
    dc: DeploymentConfig,
    latest: Rollout | None,
    now: str,
    override: tuple[ConditionStatus, str, str] | None = None,
) -> None:
    """Available and Progressing as OpenShift's ``updateConditions`` computes them.

    ``override`` replaces Progressing (a rollout that could not start: its
    typed reason and message).
    """
    status = dc.status
    conditions = list(status.conditions)
    minimum = dc.spec.replicas - max_unavailable(dc)
    if status.available_replicas >= minimum and status.available_replicas > 0:
        _set(conditions, DeploymentConditionType.AVAILABLE, ConditionStatus.TRUE, "",
             AVAILABLE_MESSAGE, now)  # fmt: skip
    else:
        _set(conditions, DeploymentConditionType.AVAILABLE, ConditionStatus.FALSE, "",
             UNAVAILABLE_MESSAGE, now)  # fmt: skip
    wanted = override or progressing(latest, paused=dc.spec.paused)
    if wanted is not None:
        _set(conditions, DeploymentConditionType.PROGRESSING, wanted[0], str(wanted[1]),
             wanted[2], now)  # fmt: skip
    status.conditions = conditions


def prunable(dc: DeploymentConfig, rollouts: Sequence[Rollout]) -> list[str]:
    """Old RCs beyond ``revisionHistoryLimit``, oldest first (only scaled-down, finished ones)."""
    latest = dc.status.latest_version
    old = sorted(
        (r for r in rollouts if r.version < latest and r.terminal), key=lambda r: r.version
    )
    excess = len(old) - history_limit(dc)
    return [r.name for r in old[: max(excess, 0)] if r.replicas == 0]


__all__ = [
    "Rollout",
    "Step",
    "causes_text",
    "condition_of",
    "deployed_config",
    "deployed_template",
    "details_for",
    "manual_cause",
    "new_rc",
    "owned_by",
    "problems",
    "prunable",
    "rollout_of",
    "set_conditions",
    "set_images",
    "status_counts",
    "step",
    "trigger_causes",
]
