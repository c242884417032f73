"""Image stream tag triggers on workloads: which tags an object follows, what to change.

The ``image.openshift.io/triggers`` annotation asks that a container of a
Deployment, StatefulSet, DaemonSet, CronJob or Job always runs the current
image of an image stream tag.  Two questions are answered here, without the
API server, so both can be table-tested:

- ``watched_tags``: which tags an object follows, so the controller knows
  which workloads to look at when a tag moves;
- ``plan``: given each tag's current pull spec, which container images must
  change, and what is wrong with the annotation (one line per problem, for
  an event the user sees on the object).

A plan becomes a JSON patch whose ``test`` operations pin the values it was
computed from: if someone edits the object in between, the API server
refuses the whole patch instead of overwriting their change with a stale
plan, and the controller simply plans again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from builder.api.constants import IMAGE_TRIGGERS_ANNOTATION, KIND_IMAGE_STREAM_TAG
from builder.api.triggers import ObjectFieldTrigger, TriggerAnnotationError, parse_triggers
from builder.streams.fieldpath import (
    POD_SPEC_PATHS,
    ContainerPath,
    FieldPathError,
    parse_field_path,
    pod_spec,
)

Resolver = Callable[[str, str], str | None]
"""(namespace, ``stream:tag``) -> the tag's current pull spec, or None while it has no image."""


@dataclass(frozen=True)
class Change:
    """One container image to set."""

    container: ContainerPath
    """The container as the trigger names it."""
    index: int
    """Its position in ``containers`` or ``initContainers``."""
    name: str
    """Its name, which the patch checks so a reordered list is never written by position."""
    old: str | None
    """The current image; None when the container has no ``image`` key."""
    new: str
    """The tag's current pull spec."""
    namespace: str
    """Namespace of the image stream."""
    tag: str
    """``stream:tag``."""

    @property
    def source(self) -> str:
        """The tag as events name it: ``namespace/stream:tag``."""
        return f"{self.namespace}/{self.tag}"


@dataclass
class Plan:
    """What a reconcile must do to a workload: changes to apply, problems to report."""

    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _annotation(obj: dict[str, Any]) -> str | None:
    annotations = _meta(obj).get("annotations")
    if not isinstance(annotations, dict):
        return None
    value = annotations.get(IMAGE_TRIGGERS_ANNOTATION)
    return value if isinstance(value, str) else None


def _split(name: str) -> tuple[str, str] | None:
    stream, sep, tag = name.partition(":")
    if not sep or not stream or not tag or ":" in tag:
        return None
    return stream, tag


def watched_tags(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The (namespace, stream, tag) of each ImageStreamTag trigger, paused ones included.

    Paused triggers count: the index only says which objects to look at, and
    ``plan`` decides what to do.  An annotation that does not parse watches
    nothing (``plan`` reports it).
    """
    text = _annotation(obj)
    if text is None:
        return []
    try:
        triggers = parse_triggers(text)
    except TriggerAnnotationError:
        return []
    own = str(_meta(obj).get("namespace") or "")
    found: list[tuple[str, str, str]] = []
    for trigger in triggers:
        if trigger.from_.kind != KIND_IMAGE_STREAM_TAG:
            continue
        parts = _split(trigger.from_.name)
        if parts is None:
            continue
        key = (trigger.from_.namespace or own, *parts)
        if key not in found:
            found.append(key)
    return found


def _find(containers: list[Any], where: ContainerPath) -> tuple[int, dict[str, Any]] | None:
    if where.index is not None:
        if where.index < len(containers) and isinstance(containers[where.index], dict):
            return where.index, containers[where.index]
        return None
    for index, container in enumerate(containers):
        if isinstance(container, dict) and container.get("name") == where.name:
            return index, container
    return None


def _missing(where: ContainerPath, containers: list[Any], label: str) -> str:
    if where.index is None:
        return f"no {where.describe()} in {label}"
    what = "init containers" if where.init else "containers"
    return f"no {where.describe()} in {label}: it has {len(containers)} {what}"


@dataclass(frozen=True)
class _Target:
    """A trigger checked against the object: where it writes and what it follows."""

    number: int
    container: ContainerPath
    index: int
    entry: dict[str, Any]
    namespace: str
    tag: str


def _target(
    number: int,
    trigger: ObjectFieldTrigger,
    *,
    kind: str,
    own: str,
    spec: dict[str, Any],
    label: str,
) -> _Target | str:
    """The trigger's target, or the problem that stops it."""
    prefix = f"trigger [{number}]"
    source = trigger.from_
    if source.kind != KIND_IMAGE_STREAM_TAG:
        return (
            f"{prefix}: from.kind {source.kind!r} is not supported; "
            f"only {KIND_IMAGE_STREAM_TAG} triggers update images"
        )
    if _split(source.name) is None:
        return f"{prefix}: from.name {source.name!r} must be of the form <stream>:<tag>"
    try:
        where = parse_field_path(kind, trigger.field_path)
    except FieldPathError as err:
        return f"{prefix}: {err}"
    containers = spec.get(where.list_name)
    containers = containers if isinstance(containers, list) else []
    found = _find(containers, where)
    if found is None:
        return f"{prefix}: {_missing(where, containers, label)}"
    index, entry = found
    return _Target(number, where, index, entry, source.namespace or own, source.name)


def plan(obj: dict[str, Any], resolve: Resolver) -> Plan:
    """The image changes the object's triggers ask for, and what is wrong with them.

    Paused triggers are skipped, and so is a trigger whose tag has no image
    yet (it applies once the tag gets one).  Problems do not depend on the
    tags' state, so the same annotation always reports the same problems.
    Two triggers writing one container from different tags is an error: the
    first one is applied and the second reported.
    """
    result = Plan()
    meta = _meta(obj)
    kind = str(obj.get("kind") or "")
    own = str(meta.get("namespace") or "")
    label = f"{kind or 'object'} {own}/{meta.get('name', '')}"
    text = _annotation(obj)
    if text is None:
        return result
    try:
        triggers = parse_triggers(text)
    except TriggerAnnotationError as err:
        result.problems.append(f"annotation {IMAGE_TRIGGERS_ANNOTATION}: {err}")
        return result
    if kind not in POD_SPEC_PATHS:
        result.problems.append(f"{label} has no pod template image triggers can update")
        return result
    spec = pod_spec(obj, kind)
    claimed: dict[tuple[bool, int], _Target] = {}
    targets: list[_Target] = []
    for number, trigger in enumerate(triggers):
        if trigger.paused:
            continue
        target = _target(number, trigger, kind=kind, own=own, spec=spec, label=label)
        if isinstance(target, str):
            result.problems.append(target)
            continue
        slot = (target.container.init, target.index)
        first = claimed.get(slot)
        if first is None:
            claimed[slot] = target
            targets.append(target)
        elif (first.namespace, first.tag) != (target.namespace, target.tag):
            what = "init container" if target.container.init else "container"
            result.problems.append(
                f'trigger [{number}]: {what} "{_name(target)}" already follows image stream '
                f"tag {first.namespace}/{first.tag} (trigger [{first.number}]); "
                f"ignoring {target.namespace}/{target.tag}"
            )
    for target in targets:
        new = resolve(target.namespace, target.tag)
        if not new:
            continue
        old = target.entry.get("image")
        old = old if isinstance(old, str) else None
        if old == new:
            continue
        result.changes.append(
            Change(
                container=target.container,
                index=target.index,
                name=_name(target),
                old=old,
                new=new,
                namespace=target.namespace,
                tag=target.tag,
            )
        )
    return result


def _name(target: _Target) -> str:
    name = target.entry.get("name")
    return name if isinstance(name, str) else ""


def _pointer(pod_spec_path: str) -> str:
    if pod_spec_path.startswith("/"):
        return pod_spec_path.rstrip("/")
    return "/" + pod_spec_path.replace(".", "/")


def json_patch(plan: Plan, pod_spec_path: str) -> list[dict[str, Any]]:
    """RFC 6902 operations applying the plan only to the object it was computed from.

    ``pod_spec_path`` is where the kind keeps its pod spec, dotted as in
    ``POD_SPEC_PATHS`` or as a JSON pointer.  Each change first tests the
    container's name (so a reordered list fails instead of writing the wrong
    container) and its current image, then writes the new one: ``replace``
    when the container has an image, ``add`` when it has none.
    """
    base = _pointer(pod_spec_path)
    ops: list[dict[str, Any]] = []
    for change in plan.changes:
        container = f"{base}/{change.container.list_name}/{change.index}"
        if change.name:
            ops.append({"op": "test", "path": f"{container}/name", "value": change.name})
        if change.old is None:
            ops.append({"op": "add", "path": f"{container}/image", "value": change.new})
        else:
            ops.append({"op": "test", "path": f"{container}/image", "value": change.old})
            ops.append({"op": "replace", "path": f"{container}/image", "value": change.new})
    return ops
