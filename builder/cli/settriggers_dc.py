"""``kbuild set triggers dc/NAME``: a DeploymentConfig's own trigger list, as ``oc set triggers``.

A DeploymentConfig keeps its triggers in ``spec.triggers`` (``null`` is
OpenShift's default, one ConfigChange trigger).  oc's rules
(``pkg/cli/set/triggers.go``: ``updateTriggers`` then ``Apply``):

- ``--from-config`` adds the ConfigChange trigger, ``--remove --from-config``
  drops it;
- ``--from-image IS:TAG -c CONTAINER`` adds an ImageChange trigger, or
  updates the one on that tag (its containers, ``automatic: true``; with
  ``--manual``, ``automatic: false``); ``lastTriggeredImage`` is kept for a
  trigger that stays on the same tag, as oc's merge keeps it;
- ``--remove --from-image IS:TAG`` drops every trigger on that tag;
- ``--auto`` / ``--manual`` alone switch every image trigger's ``automatic``
  and add / drop the ConfigChange trigger;
- ``--remove-all`` leaves ``triggers: []`` (rollouts only by ``kbuild rollout
  latest``).

As for kbuild's other workloads, ``-c`` may be left out when the template has
a single container (oc insists on it).  Webhook flags are refused as oc
refuses them.  The write is a replace with the resourceVersion read, retried
on Conflict, so a concurrent edit is never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from builder.cli.common import CliError

if TYPE_CHECKING:
    from builder.api.apps import DeploymentConfig, DeploymentTriggerPolicy
    from builder.cli.settriggers import TriggerFlags
    from builder.kube import Kube

_WEBHOOK_WORDS = {
    "github": "GitHub web hooks",
    "generic": "web hooks",
    "gitlab": "GitLab web hooks",
    "bitbucket": "Bitbucket web hooks",
}


def _containers(dc: DeploymentConfig) -> tuple[list[str], list[str]]:
    spec = (dc.spec.template or {}).get("spec") or {}
    names: list[list[str]] = []
    for key in ("containers", "initContainers"):
        items = spec.get(key) if isinstance(spec, dict) else None
        names.append([
            str(c.get("name")) for c in items or [] if isinstance(c, dict)
        ])  # fmt: skip
    return names[0], names[1]


def dc_rows(dc: DeploymentConfig) -> list[list[str]]:
    """(TYPE, VALUE, AUTO) rows of oc's table for a DeploymentConfig."""
    from builder.api.apps import DeploymentTriggerType, trigger_policies  # noqa: PLC0415

    policies = trigger_policies(dc)
    config = any(t.type == DeploymentTriggerType.CONFIG_CHANGE for t in policies)
    rows = [["config", "", "true" if config else "false"]]
    for trigger in policies:
        params = trigger.image_change_params
        if trigger.type != DeploymentTriggerType.IMAGE_CHANGE or params is None:
            continue
        namespace = params.from_.namespace
        if namespace == dc.metadata.namespace:
            namespace = ""
        value = f"{namespace}/{params.from_.name}" if namespace else params.from_.name
        if params.container_names:
            value += f" ({', '.join(params.container_names)})"
        rows.append(["image", value, "true" if params.automatic else "false"])
    return rows


def _chosen(dc: DeploymentConfig, flags: TriggerFlags, label: str) -> list[str]:
    containers, inits = _containers(dc)
    known = sorted({*containers, *inits})
    if not flags.containers:
        if len(containers) == 1:
            return containers
        raise CliError(
            "you must specify --containers when setting --from-image "
            f"({label} has containers: {', '.join(known) or 'none'})"
        )
    missing = sorted(set(flags.containers) - set(known))
    if missing:
        raise CliError(
            f"not all container names exist: {', '.join(missing)} (accepts: {', '.join(known)})"
        )
    return list(flags.containers)


def _same_tag(
    trigger: DeploymentTriggerPolicy, flags: TriggerFlags, own: str, *, with_namespace: bool
) -> bool:
    params = trigger.image_change_params
    if params is None or params.from_.name != flags.from_image:
        return False
    namespace = "" if params.from_.namespace in ("", own) else params.from_.namespace
    return not with_namespace or namespace == flags.from_image_namespace


def _set_image(
    dc: DeploymentConfig,
    flags: TriggerFlags,
    label: str,
    images: list[DeploymentTriggerPolicy],
) -> None:
    """The trigger on --from-image updated in place (keeping lastTriggeredImage), or added."""
    from builder.api.apps import DeploymentTriggerPolicy  # noqa: PLC0415

    names = _chosen(dc, flags, label)
    own = dc.metadata.namespace
    found = next((t for t in images if _same_tag(t, flags, own, with_namespace=True)), None)
    if found is not None and found.image_change_params is not None:
        found.image_change_params.automatic = not flags.manual
        found.image_change_params.container_names = names
        return
    source = {"kind": "ImageStreamTag", "name": flags.from_image}
    if flags.from_image_namespace:
        source["namespace"] = flags.from_image_namespace
    images.append(
        DeploymentTriggerPolicy.model_validate({
            "type": "ImageChange",
            "imageChangeParams": {
                "automatic": not flags.manual, "containerNames": names, "from": source,
            },
        })
    )  # fmt: skip


def edit_dc_triggers(
    dc: DeploymentConfig, flags: TriggerFlags, label: str
) -> list[DeploymentTriggerPolicy]:
    """The DeploymentConfig's trigger list once the flags are applied (oc's rules)."""
    from builder.api.apps import (  # noqa: PLC0415
        DeploymentTriggerPolicy,
        DeploymentTriggerType,
        trigger_policies,
    )

    for kind, words in _WEBHOOK_WORDS.items():
        if flags.webhook(kind):
            raise CliError(f"deployment configs do not support {words}")
    if flags.remove_all:
        return []
    policies = [t.model_copy(deep=True) for t in trigger_policies(dc)]
    config = any(t.type == DeploymentTriggerType.CONFIG_CHANGE for t in policies)
    images = [
        t for t in policies
        if t.type == DeploymentTriggerType.IMAGE_CHANGE and t.image_change_params is not None
    ]  # fmt: skip
    own = dc.metadata.namespace

    if flags.remove:
        if flags.from_config:
            config = False
        if flags.from_image:
            images = [t for t in images if not _same_tag(t, flags, own, with_namespace=False)]
    elif flags.reset:
        config = flags.auto
        for trigger in images:
            if trigger.image_change_params is not None:
                trigger.image_change_params.automatic = flags.auto
    else:
        if flags.from_config:
            config = True
        if flags.from_image:
            _set_image(dc, flags, label, images)
    result = [DeploymentTriggerPolicy(type=DeploymentTriggerType.CONFIG_CHANGE)] if config else []
    return result + images


def same_dc_triggers(dc: DeploymentConfig, new: Sequence[DeploymentTriggerPolicy]) -> bool:
    """``new`` means what the DeploymentConfig has now (``null`` counts as ConfigChange)."""
    from builder.api.apps import trigger_policies  # noqa: PLC0415
    from builder.api.base import to_dict  # noqa: PLC0415

    return [to_dict(t) for t in trigger_policies(dc)] == [to_dict(t) for t in new]


def update_dc(kube: Kube, namespace: str, name: str, flags: TriggerFlags) -> bool:
    """Apply the flags to dc/NAME; False when nothing changed.  Raises CliError."""
    from builder.cli.dc import DEPLOYMENT_CONFIGS, get_dc  # noqa: PLC0415
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    label = DEPLOYMENT_CONFIGS.ref(name)

    def edit(dc: DeploymentConfig) -> DeploymentConfig | None:
        triggers = edit_dc_triggers(dc, flags, label)
        if same_dc_triggers(dc, triggers):
            return None
        dc.spec.triggers = triggers
        return dc

    try:
        done = update_with_retry(
            lambda: get_dc(kube, namespace, name),
            edit,
            kube.deployment_configs.replace,
            what=label,
        )
    except TooManyConflicts:
        raise CliError(
            f"{label} kept changing while its triggers were updated; try again"
        ) from None
    return done.written is not None


__all__ = ["dc_rows", "edit_dc_triggers", "same_dc_triggers", "update_dc"]
