"""``kbuild set triggers KIND/NAME``: list, add, pause and remove triggers, as ``oc set triggers``.

BuildConfigs and DeploymentConfigs (``builder.cli.settriggers_dc``) keep
their triggers in ``spec.triggers``; Deployments,
StatefulSets, DaemonSets, CronJobs and Jobs in the ``image.openshift.io/triggers``
annotation.  Without a change flag the verb prints oc's table
(``NAME TYPE VALUE AUTO``); with one it edits the object and prints
``deployment.apps/NAME triggers updated``.

The rules are oc's (``pkg/cli/set/triggers.go``), with these differences,
each because oc's behaviour loses something:

- ``--manual`` pauses image triggers (``paused: true``, on BuildConfigs too)
  instead of deleting them, so ``--auto`` can bring them back.
- ``--from-image X -c C`` replaces only container C's trigger; oc rewrites
  the container list of an existing trigger on X, dropping the others.
- ``-c`` may be left out when the pod template has a single container.
- A trigger on an init container is written with an ``initContainers[...]``
  path (oc writes ``containers[...]``, which no controller can follow).
- Annotation entries kbuild cannot read (an unknown field path) are kept
  as they are; an emptied annotation is removed rather than set to ``null``.

As in oc, a Deployment's config-change trigger is ``spec.paused``:
``--manual``, ``--remove-all`` and ``--remove --from-config`` pause it;
``--auto`` and ``--from-config`` resume it.  Setting triggers never changes
a container image itself: the controller does that when the tag moves (so
a new trigger on a Deployment rolls it out once the tag has an image).

Writes are compare-and-swap: a BuildConfig is replaced with its
resourceVersion (re-read and retried on Conflict), a workload is patched
with a JSON patch that first tests the annotation's old value, so a
concurrent edit is never overwritten.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from builder.cli.common import (
    BUILD_CONFIGS,
    RESOURCES,
    WORKLOADS,
    CliError,
    Resource,
    add_cluster_flags,
    connect,
    default_namespace,
    not_found,
    resource_named,
    run_guarded,
    tabwrite,
    typed_names,
)
from builder.cli.dc import DEPLOYMENT_CONFIGS

if TYPE_CHECKING:
    from builder.api import BuildConfig, BuildTriggerPolicy, ObjectFieldTrigger
    from builder.kube import Kube

KIND_IMAGE_STREAM_TAG = "ImageStreamTag"
_ANNOTATION_PATH = "/metadata/annotations/image.openshift.io~1triggers"
_STREAM_NAME = re.compile(r"^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$")
_WEBHOOKS = (
    # flag attribute, BuildConfig trigger type, its field, oc's table type, oc's name for it
    ("generic", "Generic", "generic", "webhook", "web hooks"),
    ("github", "GitHub", "github", "github", "GitHub web hooks"),
    ("gitlab", "GitLab", "gitlab", "gitlab", "GitLab web hooks"),
    ("bitbucket", "Bitbucket", "bitbucket", "bitbucket", "Bitbucket web hooks"),
)
_DEPRECATED_TYPES = {"github": "GitHub", "generic": "Generic", "imageChange": "ImageChange"}


# ---------------------------------------------------------------------------
# Flags


@dataclass(frozen=True)
class TriggerFlags:
    """What the user asked for, validated as ``oc set triggers`` validates it."""

    remove: bool = False
    remove_all: bool = False
    auto: bool = False
    manual: bool = False
    from_config: bool = False
    from_image: str = ""
    """``stream:tag``."""
    from_image_namespace: str = ""
    """The stream's namespace when not the object's own."""
    containers: tuple[str, ...] = ()
    github: bool = False
    generic: bool = False
    generic_allow_env: bool = False
    gitlab: bool = False
    bitbucket: bool = False

    @property
    def count(self) -> int:
        """How many trigger types the flags name (oc allows one at a time)."""
        named = (
            self.from_config, bool(self.from_image), self.github, self.generic,
            self.generic_allow_env, self.gitlab, self.bitbucket,
        )  # fmt: skip
        return sum(named)

    @property
    def reset(self) -> bool:
        """``--auto`` or ``--manual`` alone: every trigger at once."""
        return self.count == 0 and (self.auto or self.manual)

    @property
    def print_table(self) -> bool:
        return self.count == 0 and not (self.remove or self.remove_all or self.auto or self.manual)

    def webhook(self, kind: str) -> bool:
        if kind == "generic":
            return self.generic or self.generic_allow_env
        return bool(getattr(self, kind))


def parse_from_image(value: str, namespace: str) -> tuple[str, str]:
    """``[ns/]stream:tag`` to (``stream:tag``, namespace or "" when it is ``namespace``)."""
    if "@" in value or value.count("/") > 1:
        raise CliError("the value of --from-image must point to an image stream tag on this server")
    stream_ns, slash, rest = value.rpartition("/")
    if slash and ("." in stream_ns or ":" in stream_ns or stream_ns == "localhost"):
        raise CliError("the value of --from-image must point to an image stream tag on this server")
    stream, colon, tag = rest.partition(":")
    if not _STREAM_NAME.match(stream) or (slash and not _STREAM_NAME.match(stream_ns)):
        raise CliError(
            "the value of --from-image does not appear to be a valid reference to an image: "
            f"{value!r} is not [namespace/]stream:tag"
        )
    if not colon or not tag:
        raise CliError("the value of --from-image must include the tag you wish to pull from")
    if not re.fullmatch(r"[\w][\w.-]{0,127}", tag):
        raise CliError(
            "the value of --from-image does not appear to be a valid reference to an image: "
            f"invalid tag {tag!r}"
        )
    return f"{stream}:{tag}", "" if stream_ns == namespace else stream_ns


def _containers(values: Sequence[str] | None) -> tuple[str, ...]:
    names: list[str] = []
    for value in values or ():
        names.extend(n.strip() for n in value.split(",") if n.strip())
    return tuple(dict.fromkeys(names))


def flags_from_args(ns: argparse.Namespace, namespace: str) -> TriggerFlags:
    """The flags, or the CliError oc gives for the combination."""
    image, image_ns = ("", "")
    if ns.from_image:
        image, image_ns = parse_from_image(ns.from_image, namespace)
    flags = TriggerFlags(
        remove=ns.remove,
        remove_all=ns.remove_all,
        auto=ns.auto,
        manual=ns.manual,
        from_config=ns.from_config,
        from_image=image,
        from_image_namespace=image_ns,
        containers=_containers(ns.containers),
        github=ns.from_github,
        generic=ns.from_webhook,
        generic_allow_env=ns.from_webhook_allow_env,
        gitlab=ns.from_gitlab,
        bitbucket=ns.from_bitbucket,
    )
    validate(flags)
    return flags


def validate(flags: TriggerFlags) -> None:
    count = flags.count
    if flags.auto and flags.manual:
        raise CliError("you must specify at most one of --auto or --manual")
    if flags.remove and flags.remove_all:
        raise CliError("you must specify either --remove or --remove-all")
    if flags.remove_all and (count or flags.auto or flags.manual):
        raise CliError("--remove-all may not be used with any other flag")
    if flags.remove and count < 1:
        raise CliError("--remove requires a flag defining a trigger type to be specified")
    if count > 1:
        raise CliError("you may only set one trigger type at a time")
    if flags.containers and not flags.from_image:
        raise CliError("--containers applies to --from-image only")


# ---------------------------------------------------------------------------
# BuildConfigs


def _trigger_type(trigger: BuildTriggerPolicy) -> str:
    kind = trigger.type.value
    return _DEPRECATED_TYPES.get(kind, kind)


def _normal_namespace(namespace: str, own: str) -> str:
    return "" if namespace == own else namespace


def strategy_target(bc: BuildConfig) -> tuple[str, str] | None:
    """The image stream tag the strategy builds from: what an empty ImageChange trigger follows."""
    from builder.streams.buildtriggers import strategy_input  # noqa: PLC0415

    source = strategy_input(bc.spec.strategy)
    if source is None or source.kind != KIND_IMAGE_STREAM_TAG:
        return None
    return source.name, _normal_namespace(source.namespace, bc.metadata.namespace)


def image_target(bc: BuildConfig, trigger: BuildTriggerPolicy) -> tuple[str, str] | None:
    """The (``stream:tag``, namespace or "") an ImageChange trigger follows."""
    change = trigger.image_change
    if change is None or change.from_ is None:
        return strategy_target(bc)
    return change.from_.name, _normal_namespace(change.from_.namespace, bc.metadata.namespace)


def _paused(trigger: BuildTriggerPolicy) -> bool:
    return trigger.image_change is not None and trigger.image_change.paused


def _image_value(target: tuple[str, str], names: Sequence[str] = ()) -> str:
    name, namespace = target
    text = f"{namespace}/{name}" if namespace else name
    return f"{text} ({', '.join(names)})" if names else text


def _flag(value: bool) -> str:
    return "true" if value else "false"


def build_config_rows(bc: BuildConfig) -> list[list[str]]:
    """(TYPE, VALUE, AUTO) rows of oc's table, in oc's order.

    The strategy's image stream tag is listed even without a trigger on it
    (AUTO false), as oc does: ``--auto`` would add that trigger.
    """
    triggers = bc.spec.triggers
    rows = [["config", "", _flag(any(_trigger_type(t) == "ConfigChange" for t in triggers))]]
    strategy_listed = False
    for trigger in triggers:
        if _trigger_type(trigger) != "ImageChange":
            continue
        target = image_target(bc, trigger)
        if target is None:
            continue
        if trigger.image_change is None or trigger.image_change.from_ is None:
            strategy_listed = True
        rows.append(["image", _image_value(target), _flag(not _paused(trigger))])
    strategy = strategy_target(bc)
    if strategy is not None and not strategy_listed:
        rows.append(["image", _image_value(strategy), "false"])
    for _flag_name, kind, field, label, _ in _WEBHOOKS:
        for trigger in triggers:
            if _trigger_type(trigger) != kind:
                continue
            hook = getattr(trigger, field)
            value = "<secret>"
            if hook is not None and hook.allow_env:
                value += ", allowenv"
            rows.append([label, value, ""])
    return rows


def _policy(data: dict[str, Any]) -> BuildTriggerPolicy:
    from builder.api import BuildTriggerPolicy, parse_as  # noqa: PLC0415

    return parse_as(BuildTriggerPolicy, data)


def _with_paused(trigger: BuildTriggerPolicy, paused: bool) -> BuildTriggerPolicy:
    from builder.api import to_dict  # noqa: PLC0415

    if _paused(trigger) == paused:
        return trigger
    data = to_dict(trigger)
    change = dict(data.get("imageChange") or {})
    change.pop("paused", None)
    if paused:
        change["paused"] = True
    data["imageChange"] = change
    return _policy(data)


def _new_image_trigger(bc: BuildConfig, flags: TriggerFlags) -> BuildTriggerPolicy:
    change: dict[str, Any] = {}
    if (flags.from_image, flags.from_image_namespace) != strategy_target(bc):
        source = {"kind": KIND_IMAGE_STREAM_TAG, "name": flags.from_image}
        if flags.from_image_namespace:
            source["namespace"] = flags.from_image_namespace
        change["from"] = source
    if flags.manual:
        change["paused"] = True
    return _policy({"type": "ImageChange", "imageChange": change})


def _new_webhook(kind: str, field: str, secret: str, allow_env: bool) -> BuildTriggerPolicy:
    hook: dict[str, Any] = {"secret": secret}
    if allow_env:
        hook["allowEnv"] = True
    return _policy({"type": kind, field: hook})


def edit_build_config(
    bc: BuildConfig, flags: TriggerFlags, secret: Callable[[], str]
) -> list[BuildTriggerPolicy]:
    """The BuildConfig's new ``spec.triggers``; existing triggers keep their place and fields."""
    if flags.containers:
        raise CliError(
            f"{BUILD_CONFIGS.ref(bc.metadata.name)}: --containers applies to workloads; "
            "a build config's image trigger starts a build"
        )
    triggers = list(bc.spec.triggers)
    if flags.remove_all:
        return []
    if flags.remove:
        return [t for t in triggers if not _removed_from_bc(bc, t, flags)]
    if flags.reset:
        return _reset_bc(bc, triggers, auto=flags.auto)
    if flags.from_config and not any(_trigger_type(t) == "ConfigChange" for t in triggers):
        triggers.append(_policy({"type": "ConfigChange"}))
    if flags.from_image:
        wanted = (flags.from_image, flags.from_image_namespace)
        matching = [
            i
            for i, t in enumerate(triggers)
            if _trigger_type(t) == "ImageChange" and image_target(bc, t) == wanted
        ]
        for i in matching:
            triggers[i] = _with_paused(triggers[i], flags.manual)
        if not matching:
            triggers.append(_new_image_trigger(bc, flags))
    for flag_name, kind, field, _label, _ in _WEBHOOKS:
        if flags.webhook(flag_name):
            allow_env = flag_name == "generic" and flags.generic_allow_env
            triggers.append(_new_webhook(kind, field, secret(), allow_env))
    return triggers


def _removed_from_bc(bc: BuildConfig, trigger: BuildTriggerPolicy, flags: TriggerFlags) -> bool:
    kind = _trigger_type(trigger)
    if flags.from_config and kind == "ConfigChange":
        return True
    if flags.from_image and kind == "ImageChange":
        # As oc: the namespace is not compared when removing.
        target = image_target(bc, trigger)
        return target is not None and target[0] == flags.from_image
    return any(flags.webhook(flag) and kind == wk for flag, wk, *_ in _WEBHOOKS)


def _reset_bc(
    bc: BuildConfig, triggers: list[BuildTriggerPolicy], *, auto: bool
) -> list[BuildTriggerPolicy]:
    """``--auto``/``--manual`` alone: the config trigger on/off, every image trigger (un)paused."""
    has_config = any(_trigger_type(t) == "ConfigChange" for t in triggers)
    result = [
        _with_paused(t, not auto) if _trigger_type(t) == "ImageChange" else t
        for t in triggers
        if auto or _trigger_type(t) != "ConfigChange"
    ]
    if auto and not has_config:
        result.append(_policy({"type": "ConfigChange"}))
    strategy = strategy_target(bc)
    follows_strategy = any(
        _trigger_type(t) == "ImageChange" and image_target(bc, t) == strategy for t in triggers
    )
    if auto and strategy is not None and not follows_strategy:
        result.append(_policy({"type": "ImageChange", "imageChange": {}}))
    return result


def same_triggers(old: Sequence[BuildTriggerPolicy], new: Sequence[BuildTriggerPolicy]) -> bool:
    from builder.api import to_dict  # noqa: PLC0415

    return [to_dict(t) for t in old] == [to_dict(t) for t in new]


# ---------------------------------------------------------------------------
# Workloads (the annotation)


def _get(obj: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _names(spec: dict[str, Any], list_name: str) -> list[str]:
    items = spec.get(list_name)
    if not isinstance(items, list):
        return []
    return [str(c.get("name")) for c in items if isinstance(c, dict) and c.get("name")]


@dataclass(frozen=True)
class Workload:
    """What set triggers reads from a workload object."""

    kind: str
    label: str
    """``deployment.apps/NAME``, for messages."""
    namespace: str
    containers: tuple[str, ...]
    init_containers: tuple[str, ...]
    annotation: str | None
    paused: bool
    """``spec.paused`` (Deployments only)."""
    resource_version: str
    has_annotations: bool

    @classmethod
    def of(cls, kind: str, label: str, obj: dict[str, Any]) -> Workload:
        from builder.api.constants import IMAGE_TRIGGERS_ANNOTATION  # noqa: PLC0415
        from builder.streams.fieldpath import pod_spec  # noqa: PLC0415

        spec = pod_spec(obj, kind)
        annotations = _get(obj, "metadata.annotations")
        has_annotations = isinstance(annotations, dict)
        value = annotations.get(IMAGE_TRIGGERS_ANNOTATION) if has_annotations else None
        return cls(
            kind=kind,
            label=label,
            namespace=str(_get(obj, "metadata.namespace") or ""),
            containers=tuple(_names(spec, "containers")),
            init_containers=tuple(_names(spec, "initContainers")),
            annotation=value if isinstance(value, str) else None,
            paused=_get(obj, "spec.paused") is True,
            resource_version=str(_get(obj, "metadata.resourceVersion") or ""),
            has_annotations=has_annotations,
        )

    @property
    def config_change(self) -> bool:
        """oc's config trigger: a Deployment that is not paused; always on for other kinds."""
        return not self.paused if self.kind == "Deployment" else True

    def container_of(self, trigger: ObjectFieldTrigger) -> str | None:
        """The container a trigger writes, if its field path names one that exists."""
        from builder.streams.fieldpath import FieldPathError, parse_field_path  # noqa: PLC0415

        try:
            where = parse_field_path(self.kind, trigger.field_path)
        except FieldPathError:
            return None
        names = self.init_containers if where.init else self.containers
        if where.index is not None:
            return names[where.index] if where.index < len(names) else None
        return where.name if where.name in names else None

    def triggers(self) -> list[ObjectFieldTrigger]:
        from builder.api.triggers import TriggerAnnotationError, parse_triggers  # noqa: PLC0415

        if self.annotation is None:
            return []
        try:
            return parse_triggers(self.annotation)
        except TriggerAnnotationError as err:
            raise CliError(
                f"{self.label}: the image.openshift.io/triggers annotation is invalid: {err} "
                "(fix it, or drop it with --remove-all)"
            ) from None


def workload_rows(workload: Workload) -> list[list[str]]:
    """(TYPE, VALUE, AUTO) rows: the config trigger, then each image trigger oc can place."""
    try:
        triggers = workload.triggers()
    except CliError:
        return [["<error>", "", "false"]]
    rows = [["config", "", _flag(workload.config_change)]]
    for trigger in triggers:
        container = workload.container_of(trigger)
        if container is None:
            continue
        target = (
            trigger.from_.name,
            _normal_namespace(trigger.from_.namespace, workload.namespace),
        )
        rows.append(["image", _image_value(target, [container]), _flag(not trigger.paused)])
    return rows


@dataclass(frozen=True)
class WorkloadEdit:
    annotation: str | None
    """The annotation's new value; None when it should not exist."""
    paused: bool | None
    """``spec.paused`` to write (Deployments), None to leave it."""

    def changes(self, workload: Workload) -> bool:
        paused = self.paused is not None and self.paused != workload.paused
        return paused or self.annotation != workload.annotation


def _unsupported_webhooks(workload: Workload, flags: TriggerFlags) -> None:
    for flag_name, _kind, _field, _label, what in _WEBHOOKS:
        if flags.webhook(flag_name):
            raise CliError(f"{workload.label} does not support {what}")


def _chosen_containers(workload: Workload, flags: TriggerFlags) -> tuple[str, ...]:
    known = set(workload.containers) | set(workload.init_containers)
    if not flags.containers:
        if len(workload.containers) == 1:
            return workload.containers
        raise CliError(
            "you must specify --containers when setting --from-image "
            f"({workload.label} has containers: {', '.join(sorted(known)) or 'none'})"
        )
    missing = sorted(set(flags.containers) - known)
    if missing:
        raise CliError(
            f"not all container names exist: {', '.join(missing)} "
            f"(accepts: {', '.join(sorted(known))})"
        )
    return flags.containers


def edit_workload(workload: Workload, flags: TriggerFlags) -> WorkloadEdit:
    """The annotation (and Deployment ``spec.paused``) after the flags are applied."""
    from builder.api.triggers import dump_triggers  # noqa: PLC0415

    is_deployment = workload.kind == "Deployment"
    _unsupported_webhooks(workload, flags)
    if flags.remove_all:
        return WorkloadEdit(None, True if is_deployment else None)
    old = workload.triggers()
    new = list(old)
    paused: bool | None = None
    if flags.remove:
        if flags.from_config:
            if not is_deployment:
                raise CliError(
                    f"{workload.label}: only a Deployment can turn its config trigger off "
                    "(it is spec.paused)"
                )
            paused = True
        if flags.from_image:
            new = [t for t in old if not _removed_from_workload(workload, t, flags)]
    elif flags.reset:
        new = [t.model_copy(update={"paused": flags.manual}) for t in old]
        paused = flags.manual if is_deployment else None
    else:
        if flags.from_config and is_deployment:
            paused = False
        if flags.from_image:
            new = _set_image_triggers(workload, old, flags)
    if dump_triggers(new) == dump_triggers(old):
        text = workload.annotation
    else:
        text = dump_triggers(new) if new else None
    return WorkloadEdit(text, paused)


def _removed_from_workload(
    workload: Workload, trigger: ObjectFieldTrigger, flags: TriggerFlags
) -> bool:
    if trigger.from_.name != flags.from_image:
        return False
    return not flags.containers or workload.container_of(trigger) in flags.containers


def _set_image_triggers(
    workload: Workload, old: list[ObjectFieldTrigger], flags: TriggerFlags
) -> list[ObjectFieldTrigger]:
    """Each chosen container follows --from-image; its old trigger is replaced in place."""
    from builder.api.triggers import ObjectFieldTrigger, TriggerSource  # noqa: PLC0415
    from builder.streams.fieldpath import container_field_path  # noqa: PLC0415

    result = list(old)
    for name in _chosen_containers(workload, flags):
        init = name in workload.init_containers and name not in workload.containers
        trigger = ObjectFieldTrigger(
            from_=TriggerSource(
                kind=KIND_IMAGE_STREAM_TAG,
                name=flags.from_image,
                namespace=flags.from_image_namespace,
            ),
            field_path=container_field_path(workload.kind, name, init=init),
            paused=flags.manual,
        )
        places = [i for i, t in enumerate(result) if workload.container_of(t) == name]
        if places:
            result[places[0]] = trigger
            result = [t for i, t in enumerate(result) if i not in places[1:]]
        else:
            result.append(trigger)
    return result


def workload_patch(workload: Workload, edit: WorkloadEdit) -> list[dict[str, Any]]:
    """A JSON patch that applies ``edit`` only if the annotation is still what was read.

    An absent annotation cannot be tested for, so then the object's
    resourceVersion is: any change at all makes the patch fail and the
    verb re-reads.
    """
    from builder.api.constants import IMAGE_TRIGGERS_ANNOTATION  # noqa: PLC0415

    ops: list[dict[str, Any]] = []
    if edit.annotation != workload.annotation:
        if workload.annotation is not None:
            ops.append({"op": "test", "path": _ANNOTATION_PATH, "value": workload.annotation})
            if edit.annotation is None:
                ops.append({"op": "remove", "path": _ANNOTATION_PATH})
            else:
                ops.append({"op": "replace", "path": _ANNOTATION_PATH, "value": edit.annotation})
        else:
            ops.append(
                {
                    "op": "test",
                    "path": "/metadata/resourceVersion",
                    "value": workload.resource_version,
                }
            )
            if workload.has_annotations:
                ops.append({"op": "add", "path": _ANNOTATION_PATH, "value": edit.annotation})
            else:
                ops.append(
                    {
                        "op": "add",
                        "path": "/metadata/annotations",
                        "value": {IMAGE_TRIGGERS_ANNOTATION: edit.annotation},
                    }
                )
    if edit.paused is not None and edit.paused != workload.paused:
        ops.append({"op": "add", "path": "/spec/paused", "value": edit.paused})
    return ops


# ---------------------------------------------------------------------------
# Output


def triggers_table(rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """oc's table: ``tabwriter(0, 2, 2, ' ')`` over NAME, TYPE, VALUE, AUTO."""
    lines = ["NAME\tTYPE\tVALUE\tAUTO"]
    lines.extend(f"{name}\t{row[0]}\t{row[1]}\t{row[2]}" for name, row in rows)
    return tabwrite("\n".join(lines) + "\n", minwidth=0, tabwidth=2, padding=2, padchar=" ")


# ---------------------------------------------------------------------------
# The verb


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "set", help="update fields of objects (oc set)", description="Update fields of objects."
    )
    p.set_defaults(run=lambda _ns: _usage(p))
    verbs = p.add_subparsers(dest="set_command", metavar="COMMAND")
    t = verbs.add_parser(
        "triggers",
        help="update the triggers of build configs, deployment configs and workloads "
        "(oc set triggers)",
        description=(
            "List, add, pause or remove the triggers of build configs (bc/NAME) and of "
            "deployment configs (dc/NAME), deployments, statefulsets, daemonsets, cronjobs and "
            "jobs (KIND/NAME).  Without a "
            "--from-*, --remove, --auto or --manual flag the triggers are listed."
        ),
    )
    t.add_argument(
        "targets",
        nargs="+",
        metavar="TYPE/NAME | TYPE NAME",
        help="e.g. bc/app, deployment/app, or bc app",
    )
    t.add_argument("--from-image", metavar="[NS/]STREAM:TAG", help="an image stream tag to follow")
    t.add_argument(
        "-c",
        "--containers",
        action="append",
        metavar="NAME[,NAME]",
        help="containers the image trigger sets (default: the only container)",
    )
    t.add_argument("--from-config", action="store_true", help="trigger on configuration changes")
    t.add_argument("--from-github", action="store_true", help="a GitHub webhook (new secret)")
    t.add_argument("--from-webhook", action="store_true", help="a generic webhook (new secret)")
    t.add_argument(
        "--from-webhook-allow-env",
        action="store_true",
        help="a generic webhook that may set build environment variables (new secret)",
    )
    t.add_argument("--from-gitlab", action="store_true", help="a GitLab webhook (new secret)")
    t.add_argument("--from-bitbucket", action="store_true", help="a Bitbucket webhook (new secret)")
    t.add_argument("--remove", action="store_true", help="remove the specified trigger(s)")
    t.add_argument("--remove-all", action="store_true", help="remove all triggers")
    t.add_argument("--auto", action="store_true", help="enable all triggers, or just this one")
    t.add_argument(
        "--manual", action="store_true", help="pause all triggers, or just the specified trigger"
    )
    add_cluster_flags(t)
    t.set_defaults(run=lambda ns: run_guarded(run, ns))
    from builder.cli import imagelookup  # noqa: PLC0415 - a verb of its own module

    imagelookup.add_subparser(verbs)


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


TRIGGERABLE = (BUILD_CONFIGS, *WORKLOADS, DEPLOYMENT_CONFIGS)


def _triggerable(resource: Resource, name: str) -> tuple[Resource, str]:
    if resource not in TRIGGERABLE:
        raise CliError(f"{resource.plural}/{name} does not support triggers")
    return resource, name


_TARGET_USAGE = "TYPE NAME... or TYPE/NAME... (bc/NAME, deployment/NAME, ...)"


def parse_target(text: str) -> tuple[Resource, str]:
    kind, sep, name = text.partition("/")
    if not sep or not kind or not name:
        raise CliError(f"expected KIND/NAME (bc/NAME, deployment/NAME, ...), got {text!r}")
    return _triggerable(resource_named(kind, among=(*TRIGGERABLE, *RESOURCES)), name)


def parse_targets(args: list[str]) -> list[tuple[Resource, str]]:
    """``bc/NAME deploy/NAME`` or ``bc NAME...``: oc takes both forms."""
    found = typed_names(args, (*TRIGGERABLE, *RESOURCES), _TARGET_USAGE)
    return [_triggerable(resource, name) for resource, name in found]


def run(ns: argparse.Namespace) -> int:
    targets = parse_targets(ns.targets)
    flags = flags_from_args(ns, ns.namespace or default_namespace(ns.kubeconfig, ns.context))
    kube, namespace = connect(ns)
    if flags.print_table:
        rows: list[tuple[str, Sequence[str]]] = []
        for resource, name in targets:
            found = _rows(kube, namespace, resource, name)
            rows.extend((f"{resource.plural}/{name}", row) for row in found)
        sys.stdout.write(triggers_table(rows))
        return 0
    for resource, name in targets:
        if resource is BUILD_CONFIGS:
            _update_build_config(kube, namespace, name, flags)
        elif resource is DEPLOYMENT_CONFIGS:
            _update_deployment_config(kube, namespace, name, flags)
        else:
            _update_workload(kube, namespace, resource, name, flags)
    return 0


def _read_workload(kube: Kube, namespace: str, resource: Resource, name: str) -> Workload:
    from builder.kube import WORKLOADS as KUBE_WORKLOADS  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    try:
        obj = kube.get_object(KUBE_WORKLOADS[resource.kind], namespace, name)
    except NotFound:
        raise not_found(resource, name) from None
    return Workload.of(resource.kind, resource.ref(name), obj)


def _read_build_config(kube: Kube, namespace: str, name: str) -> BuildConfig:
    from builder.kube import NotFound  # noqa: PLC0415

    try:
        return kube.build_configs.get(namespace, name)
    except NotFound:
        raise not_found(BUILD_CONFIGS, name) from None


def _rows(kube: Kube, namespace: str, resource: Resource, name: str) -> list[list[str]]:
    if resource is DEPLOYMENT_CONFIGS:
        from builder.cli.dc import get_dc  # noqa: PLC0415
        from builder.cli.settriggers_dc import dc_rows  # noqa: PLC0415

        return dc_rows(get_dc(kube, namespace, name))
    if resource is BUILD_CONFIGS:
        return build_config_rows(_read_build_config(kube, namespace, name))
    return workload_rows(_read_workload(kube, namespace, resource, name))


def _unchanged(label: str) -> None:
    print(f"info: {label} was not changed", file=sys.stderr, flush=True)


def _updated(label: str) -> None:
    print(f"{label} triggers updated", flush=True)


def _too_busy(label: str) -> CliError:
    return CliError(f"{label} kept changing while its triggers were updated; try again")


def _update_build_config(kube: Kube, namespace: str, name: str, flags: TriggerFlags) -> None:
    from builder.cli.appobjects import generate_secret  # noqa: PLC0415
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    def mutate(bc: BuildConfig) -> BuildConfig | None:
        triggers = edit_build_config(bc, flags, generate_secret)
        if same_triggers(bc.spec.triggers, triggers):
            return None
        bc.spec.triggers = triggers
        return bc

    label = BUILD_CONFIGS.ref(name)
    try:
        updated = update_with_retry(
            lambda: _read_build_config(kube, namespace, name),
            mutate,
            kube.build_configs.replace,
            what=label,
        )
    except TooManyConflicts:
        raise _too_busy(label) from None
    (_unchanged if updated.written is None else _updated)(label)


def _update_deployment_config(kube: Kube, namespace: str, name: str, flags: TriggerFlags) -> None:
    from builder.cli.settriggers_dc import update_dc  # noqa: PLC0415

    label = DEPLOYMENT_CONFIGS.ref(name)
    if update_dc(kube, namespace, name, flags):
        _updated(label)
    else:
        _unchanged(label)


def _update_workload(
    kube: Kube, namespace: str, resource: Resource, name: str, flags: TriggerFlags
) -> None:
    from builder.kube import WORKLOADS as KUBE_WORKLOADS  # noqa: PLC0415
    from builder.kube import Conflict, Invalid  # noqa: PLC0415
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    def mutate(workload: Workload) -> tuple[Workload, list[dict[str, Any]]] | None:
        edit = edit_workload(workload, flags)
        return (workload, workload_patch(workload, edit)) if edit.changes(workload) else None

    def write(change: tuple[Workload, list[dict[str, Any]]]) -> dict[str, Any]:
        workload, patch = change
        try:
            return kube.patch_object(KUBE_WORKLOADS[resource.kind], namespace, name, patch)
        except Invalid:
            # A failed ``test`` comes back as a bare 422 ("the server rejected
            # our request"); it is one if the object changed since it was read.
            current = _read_workload(kube, namespace, resource, name)
            if current.resource_version != workload.resource_version:
                raise Conflict(409, f"{label} changed since it was read") from None
            raise

    label = resource.ref(name)
    try:
        updated = update_with_retry(
            lambda: _read_workload(kube, namespace, resource, name), mutate, write, what=label
        )
    except TooManyConflicts:
        raise _too_busy(label) from None
    (_unchanged if updated.written is None else _updated)(label)
