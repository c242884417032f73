"""DeploymentConfigs in the CLI: ``get dc``, ``describe dc``, and what ``rollout`` reads and writes.

The table and the texts follow oc's (openshift's DeploymentConfig printer,
``oc describe dc``, ``oc rollout status|history``), computed by pure functions
of the DeploymentConfig and its ReplicationControllers so they are
table-tested.  Writes are OpenShift's instantiate and rollback endpoints,
done from the client (a CRD has no such subresources):

- ``rollout latest``: ``status.latestVersion`` + 1 with a ``Manual`` cause
  (the controller creates the ReplicationController of that version);
- ``rollout undo``: the template of the chosen revision back into the spec,
  automatic image triggers turned off (as oc does, with the same warning so
  a tag move does not undo the undo), then a new version if the controller
  did not start one itself on the change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from builder.cli.common import CliError, Resource, _aliases, parse_when, table

if TYPE_CHECKING:
    from builder.api.apps import DeploymentConfig
    from builder.kube import Kube

APPS_GROUP = "apps.openshift.io"
DEPLOYMENT_CONFIGS = Resource(
    "DeploymentConfig",
    "deploymentconfigs",
    "deploymentconfig",
    _aliases(APPS_GROUP, "deploymentconfig", "deploymentconfigs", "dc"),
    APPS_GROUP,
)
DC_HEADERS = ["NAME", "REVISION", "DESIRED", "CURRENT", "TRIGGERED BY"]


# ---------------------------------------------------------------------------
# get dc


def _container_names(dc: DeploymentConfig) -> set[str]:
    spec = (dc.spec.template or {}).get("spec") or {}
    return {str(c.get("name")) for c in spec.get("containers") or [] if isinstance(c, dict)}


def triggered_by(dc: DeploymentConfig) -> str:
    """oc's TRIGGERED BY: ``config,image(app:latest)``, ``manual`` without triggers."""
    from builder.api.apps import DeploymentTriggerType, trigger_policies  # noqa: PLC0415

    containers = _container_names(dc)
    found: set[str] = set()
    for trigger in trigger_policies(dc):
        if trigger.type == DeploymentTriggerType.CONFIG_CHANGE:
            found.add("config")
        elif trigger.type == DeploymentTriggerType.IMAGE_CHANGE:
            params = trigger.image_change_params
            if params is None or not params.automatic:
                continue
            prefix = ""
            if len(containers) != 1 and not containers.issuperset(params.container_names):
                prefix = ",".join(sorted(params.container_names)) + ":"
            found.add(f"image({prefix}{params.from_.name})")
    text = ",".join(sorted(found)) or "manual"
    if dc.spec.test:
        text += " (test)"
    if dc.spec.paused:
        text += " (paused)"
    return text


def dc_row(dc: DeploymentConfig) -> list[str]:
    return [
        dc.metadata.name,
        str(dc.status.latest_version),
        str(dc.spec.replicas),
        str(dc.status.replicas),
        triggered_by(dc),
    ]


def render_deployment_configs(
    dcs: Sequence[DeploymentConfig], *, all_namespaces: bool = False, with_kind: bool = False
) -> str:
    rows = []
    for dc in sorted(dcs, key=lambda d: (d.metadata.namespace, d.metadata.name)):
        row = dc_row(dc)
        if with_kind:
            row[0] = DEPLOYMENT_CONFIGS.ref(row[0])
        rows.append([dc.metadata.namespace, *row] if all_namespaces else row)
    headers = ["NAMESPACE", *DC_HEADERS] if all_namespaces else DC_HEADERS
    return table(headers, rows)


# ---------------------------------------------------------------------------
# ReplicationControllers


def rollouts_of(kube: Kube, dc: DeploymentConfig) -> list[dict[str, Any]]:
    """The DeploymentConfig's ReplicationControllers, oldest version first."""
    from builder.api.apps import DEPLOYMENT_CONFIG_LABEL  # noqa: PLC0415
    from builder.controller.dcrollout import owned_by, rollout_of  # noqa: PLC0415
    from builder.kube import REPLICATION_CONTROLLERS  # noqa: PLC0415

    items, _ = kube.list_objects(
        REPLICATION_CONTROLLERS,
        dc.metadata.namespace,
        f"{DEPLOYMENT_CONFIG_LABEL}={dc.metadata.name}",
    )
    mine = [rc for rc in items if owned_by(rc, dc.metadata.uid)]
    return sorted(mine, key=lambda rc: rollout_of(rc).version)


def history_text(dc: DeploymentConfig, rcs: Sequence[Mapping[str, Any]]) -> str:
    """``oc rollout history dc/NAME``: REVISION STATUS CAUSE, one line per rollout kept."""
    from builder.api.apps import DEPLOYMENT_STATUS_REASON_ANNOTATION  # noqa: PLC0415
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415

    rows = []
    for rc in rcs:
        rollout = rollout_of(rc)
        cause = rollout.annotations.get(DEPLOYMENT_STATUS_REASON_ANNOTATION) or "<unknown>"
        rows.append([str(rollout.version), rollout.phase.value, cause])
    head = f'deploymentconfigs "{dc.metadata.name}"\n'
    if not rows:
        return head + "No rollout history found.\n"
    return head + table(["REVISION", "STATUS", "CAUSE"], rows)


def status_text(dc: DeploymentConfig) -> tuple[str, bool, str]:  # noqa: PLR0911 - as oc
    """oc's DeploymentConfig status viewer: (message, done, error); error ends the command."""
    from builder.api.apps import DeploymentReason  # noqa: PLC0415
    from builder.controller.dcrollout import condition_of, image_triggers  # noqa: PLC0415

    name = dc.metadata.name
    if dc.status.latest_version == 0:
        if image_triggers(dc):
            return f'Deployment config "{name}" waiting on image update\n', False, ""
        if dc.spec.triggers is not None and not dc.spec.triggers:
            return "", True, (
                f'Deployment config "{name}" waiting on manual update '
                f"(use 'kbuild rollout latest {name}')"
            )  # fmt: skip
    cond = condition_of(dc, "Progressing")
    status = dc.status
    if dc.metadata.generation > status.observed_generation:
        return (
            "Waiting for latest deployment config spec to be observed by the controller loop...\n",
            False,
            "",
        )
    reason = cond.reason if cond is not None else ""
    if reason == DeploymentReason.NEW_RC_AVAILABLE:
        return f"{cond.message}\n" if cond else "", True, ""
    if reason in (DeploymentReason.TIMED_OUT, DeploymentReason.CANCELLED):
        return "", True, cond.message if cond else reason
    if reason in (DeploymentReason.UNSUPPORTED, DeploymentReason.INVALID,
                  DeploymentReason.RC_CREATE_ERROR):  # fmt: skip
        return "", True, cond.message if cond else reason
    if reason == DeploymentReason.PAUSED:
        return "", True, (
            f'Deployment config "{name}" is paused. '
            "Resume to continue watching the status of the rollout."
        )  # fmt: skip
    if status.updated_replicas < dc.spec.replicas:
        return (
            f"Waiting for rollout to finish: {status.updated_replicas} out of "
            f"{dc.spec.replicas} new replicas have been updated...\n", False, ""
        )  # fmt: skip
    if status.replicas > status.updated_replicas:
        return (
            f"Waiting for rollout to finish: {status.replicas - status.updated_replicas} "
            "old replicas are pending termination...\n", False, ""
        )  # fmt: skip
    if status.available_replicas < status.updated_replicas:
        return (
            f"Waiting for rollout to finish: {status.available_replicas} of "
            f"{status.updated_replicas} updated replicas are available...\n", False, ""
        )  # fmt: skip
    return "Waiting for deployment config spec update to be observed...\n", False, ""


# ---------------------------------------------------------------------------
# describe dc


def _triggers_line(dc: DeploymentConfig) -> str:
    from builder.api.apps import DeploymentTriggerType, trigger_policies  # noqa: PLC0415

    parts = []
    for trigger in trigger_policies(dc):
        if trigger.type == DeploymentTriggerType.CONFIG_CHANGE:
            parts.append("Config")
        elif trigger.image_change_params is not None:
            params = trigger.image_change_params
            stream, _, tag = params.from_.name.partition(":")
            where = f"{params.from_.namespace}/" if params.from_.namespace else ""
            auto = "true" if params.automatic else "false"
            parts.append(f"Image({where}{stream}@{tag}, auto={auto})")
    return ", ".join(parts) or "<none>"


def _strategy_lines(dc: DeploymentConfig) -> str:
    from builder.controller import dcrollout  # noqa: PLC0415

    kind = dcrollout.strategy_type(dc).value
    lines = f"Strategy:\t{kind}\n"
    if kind == "Rolling":
        update, interval = dcrollout.periods(dc)
        params = dc.spec.strategy.rolling_params
        surge = params.max_surge if params and params.max_surge is not None else "25%"
        unavailable = (
            params.max_unavailable if params and params.max_unavailable is not None else "25%"
        )
        lines += (
            f"  Update Period:\t{update}s\n  Interval:\t{interval}s\n"
            f"  Timeout:\t{dcrollout.timeout_seconds(dc)}s\n"
            f"  MaxUnavailable:\t{unavailable}\n  MaxSurge:\t{surge}\n"
        )
    else:
        lines += f"  Timeout:\t{dcrollout.timeout_seconds(dc)}s\n"
    return lines + _hook_lines(dc)


def _hook_lines(dc: DeploymentConfig) -> str:
    """oc's ``printHook``: each lifecycle hook of the strategy in use."""
    from builder.controller.dchooks import hooks_of  # noqa: PLC0415

    titles = {"pre": "Pre-deployment", "mid": "Mid-deployment", "post": "Post-deployment"}
    lines = ""
    for stage, hook in hooks_of(dc).items():
        prefix = titles[stage.value]
        policy = hook.failure_policy.value if hook.failure_policy else ""
        if hook.exec_new_pod is not None:
            exec_ = hook.exec_new_pod
            lines += f"  {prefix} hook (pod type, failure policy: {policy}):\n"
            lines += f"    Container:\t{exec_.container_name}\n"
            lines += f"    Command:\t{' '.join(exec_.command)}\n"
            if exec_.env:
                env = ", ".join(f"{e.name}={e.value}" for e in exec_.env)
                lines += f"    Env:\t{env}\n"
        if hook.tag_images:
            lines += f"  {prefix} hook (tag images, failure policy: {policy}):\n"
            for action in hook.tag_images:
                to = action.to
                target = " ".join(
                    p for p in (to.kind or "ImageStreamTag", to.name, to.namespace) if p
                )
                lines += f"    Tag:\tcontainer {action.container_name} to {target}\n"
    return lines


def _labels(items: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(items.items())) or "<none>"


def _template_lines(template: Mapping[str, Any]) -> str:
    meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    lines = "Pod Template:\n"
    lines += f"  Labels:\t{_labels(meta.get('labels') or {})}\n"
    if spec.get("serviceAccountName"):
        lines += f"  Service Account:\t{spec['serviceAccountName']}\n"
    for key, title in (("initContainers", "Init Containers"), ("containers", "Containers")):
        containers = [c for c in spec.get(key) or [] if isinstance(c, dict)]
        if not containers and key == "initContainers":
            continue
        lines += f"  {title}:\n"
        for container in containers:
            lines += f"   {container.get('name', '')}:\n"
            lines += f"    Image:\t{container.get('image', '')}\n"
            ports = [
                f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}"
                for p in container.get("ports") or []
                if isinstance(p, dict)
            ]
            lines += f"    Port:\t{', '.join(ports) or '<none>'}\n"
            env = [e for e in container.get("env") or [] if isinstance(e, dict)]
            if env:
                lines += "    Environment:\n"
                lines += "".join(f"      {e.get('name')}:\t{e.get('value', '')}\n" for e in env)
            else:
                lines += "    Environment:\t<none>\n"
    return lines


def _rollout_block(rc: Mapping[str, Any], latest: int, now: datetime) -> str:
    from builder.cli.common import human_duration, since  # noqa: PLC0415
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415

    rollout = rollout_of(rc)
    meta = rc.get("metadata") or {}
    title = f"Deployment #{rollout.version}" + (" (latest)" if rollout.version == latest else "")
    created = parse_when(meta.get("creationTimestamp"))
    age = f"{human_duration(since(created, now))} ago" if created else "<unknown>"
    selector = (rc.get("spec") or {}).get("selector") or {}
    return (
        f"{title}:\n\tName:\t{rollout.name}\n\tCreated:\t{age}\n"
        f"\tStatus:\t{rollout.phase.value}\n"
        f"\tReplicas:\t{rollout.current} current / {rollout.replicas} desired\n"
        f"\tSelector:\t{_labels(selector)}\n"
        f"\tLabels:\t{_labels(meta.get('labels') or {})}\n"
        f"\tPods Status:\t{rollout.ready} Running / "
        f"{max(rollout.current - rollout.ready, 0)} Waiting / 0 Succeeded / 0 Failed\n"
    )


def describe_deployment_config(
    dc: DeploymentConfig,
    rcs: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    now: datetime,
) -> str:
    """``oc describe dc/NAME``: the config, its latest and previous rollouts, events."""
    from builder.cli.describe import Text, describe_meta, events_text  # noqa: PLC0415
    from builder.controller.dcrollout import selector_of  # noqa: PLC0415

    out = Text()
    describe_meta(out, dc.metadata, now)
    out.field("Latest Version", str(dc.status.latest_version) if dc.status.latest_version
              else "Not deployed")  # fmt: skip
    out.field("Selector", _labels(selector_of(dc)))
    out.field("Replicas", str(dc.spec.replicas) + (" (paused)" if dc.spec.paused else ""))
    out.field("Triggers", _triggers_line(dc))
    out.raw(_strategy_lines(dc))
    out.raw(_template_lines(dc.spec.template or {}))
    out.raw("\n")
    latest = dc.status.latest_version
    ordered = sorted(rcs, key=lambda rc: -_version(rc))
    if not ordered:
        out.raw("Latest Deployment:\t<none>\n\n")
    for rc in ordered[:2]:
        out.raw(_rollout_block(rc, latest, now) + "\n")
    for cond in dc.status.conditions:
        if cond.type == "Progressing" and cond.status.value == "False":
            out.raw(f"Rollout failure:\t{cond.reason}: {cond.message}\n\n")
    return out.render() + events_text(events, now)


def _version(rc: Mapping[str, Any]) -> int:
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415

    return rollout_of(rc).version


# ---------------------------------------------------------------------------
# writes: instantiate and rollback, as OpenShift's endpoints do them


def latest_images(kube: Kube, dc: DeploymentConfig) -> bool:
    """Put every image trigger's current image into ``dc`` (automatic or not); changed?

    OpenShift's ``rollout latest`` instantiates with ``latest: true``: "update
    the deployment config with the latest state from all triggers", which is
    how a trigger with ``automatic: false`` is deployed.  The streams are read
    with the caller's own rights.
    """
    from builder.controller.dcrollout import image_triggers, set_images  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415
    from builder.streams.tags import current_pull_spec  # noqa: PLC0415

    changed = False
    for _, params in image_triggers(dc):
        namespace = params.from_.namespace or dc.metadata.namespace
        stream, _, tag = params.from_.name.partition(":")
        try:
            image = current_pull_spec(kube.image_streams.get(namespace, stream), tag)
        except NotFound:
            image = None
        if image is None:
            continue
        template = dc.spec.template or {}
        before = json.dumps(template, sort_keys=True)
        set_images(template, params.container_names, image)
        if json.dumps(template, sort_keys=True) != before or image != params.last_triggered_image:
            params.last_triggered_image = image
            changed = True
    return changed


def request_rollout(kube: Kube, namespace: str, name: str) -> DeploymentConfig:
    """``rollout latest``: the triggers' latest images, a new version with a Manual cause.

    oc's refusals first (paused, a rollout still running).  When the images
    changed the spec is written first, and the version is asked for only if
    the controller did not start one for that change itself (a ConfigChange
    trigger), so one ``rollout latest`` is one rollout.
    """
    from builder.controller.dcrollout import (  # noqa: PLC0415
        details_for,
        manual_cause,
        rollout_of,
    )
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    dc = get_dc(kube, namespace, name)
    if dc.spec.paused:
        raise CliError("cannot deploy a paused deployment config")
    latest = next(
        (rc for rc in rollouts_of(kube, dc)
         if rollout_of(rc).version == dc.status.latest_version),
        None,
    )  # fmt: skip
    if latest is not None and not rollout_of(latest).terminal:
        phase = rollout_of(latest).phase.value
        raise CliError(f"#{dc.status.latest_version} is already in progress ({phase}).")
    seen = dc.status.latest_version

    def bump(current: DeploymentConfig) -> DeploymentConfig | None:
        if current.status.latest_version > seen:
            return None  # the controller rolled the new images out itself
        current.status.latest_version = seen + 1
        current.status.details = details_for([manual_cause()])
        return current

    try:
        update_with_retry(
            lambda: get_dc(kube, namespace, name),
            lambda current: current if latest_images(kube, current) else None,
            kube.deployment_configs.replace,
            what=f"deploymentconfig {name!r}",
            first=dc,
        )
        updated = update_with_retry(
            lambda: get_dc(kube, namespace, name),
            bump,
            kube.deployment_configs.replace_status,
            what=f"deploymentconfig {name!r}",
        )
    except TooManyConflicts:
        raise CliError(f"deploymentconfig {name!r} keeps changing; try again") from None
    return updated.written if updated.written is not None else updated.seen


def rollback_target(
    dc: DeploymentConfig, rcs: Sequence[Mapping[str, Any]], to_revision: int
) -> Mapping[str, Any]:
    """The RC to go back to: ``to_revision``, else the newest complete one before the latest."""
    from builder.api.apps import DeploymentPhase  # noqa: PLC0415
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415

    if to_revision:
        for rc in rcs:
            if rollout_of(rc).version == to_revision:
                return rc
        raise CliError(f"unable to find the specified revision {to_revision}")
    candidates = [
        rc for rc in rcs
        if rollout_of(rc).version < dc.status.latest_version
        and rollout_of(rc).phase == DeploymentPhase.COMPLETE
    ]  # fmt: skip
    if not candidates:
        raise CliError("couldn't find deployment for rollback")
    return max(candidates, key=_version)


def rollback(kube: Kube, namespace: str, name: str, to_revision: int) -> list[str]:
    """``rollout undo``: the revision's template back, automatic image triggers off.

    Returns the tags whose triggers were turned off (oc warns about them).
    The spec is written first; then, unless the controller already started
    a version for the change (a ConfigChange trigger), a new version is
    requested, so a DeploymentConfig without triggers goes back too.
    """
    from builder.controller.dcrollout import (  # noqa: PLC0415
        deployed_template,
        details_for,
        image_triggers,
        manual_cause,
    )
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    dc = get_dc(kube, namespace, name)
    target = rollback_target(dc, rollouts_of(kube, dc), to_revision)
    template = deployed_template(target)
    if template is None:
        raise CliError(f"revision {_version(target)} does not record its template")
    dc.spec.template = template
    disabled = []
    for _, params in image_triggers(dc):
        if params.automatic:
            params.automatic = False
            disabled.append(params.from_.name)
    seen = dc.status.latest_version
    kube.deployment_configs.replace(dc)

    def bump(current: DeploymentConfig) -> DeploymentConfig | None:
        if current.status.latest_version > seen:
            return None  # the controller started a version for the change itself
        current.status.latest_version = seen + 1
        details = details_for([manual_cause()])
        details.message = f"rolled back to revision {_version(target)}"
        current.status.details = details
        return current

    try:
        update_with_retry(
            lambda: get_dc(kube, namespace, name),
            bump,
            kube.deployment_configs.replace_status,
            what=f"deploymentconfig {name!r}",
        )
    except TooManyConflicts:
        raise CliError(f"deploymentconfig {name!r} keeps changing; try again") from None
    return disabled


def get_dc(kube: Kube, namespace: str, name: str) -> DeploymentConfig:
    from builder.kube import NotFound  # noqa: PLC0415

    try:
        return kube.deployment_configs.get(namespace, name)
    except NotFound:
        raise CliError(f'deploymentconfigs.apps.openshift.io "{name}" not found') from None


__all__ = [
    "DC_HEADERS",
    "DEPLOYMENT_CONFIGS",
    "describe_deployment_config",
    "history_text",
    "render_deployment_configs",
    "request_rollout",
    "rollback",
    "status_text",
    "triggered_by",
]
