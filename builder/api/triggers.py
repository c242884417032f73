"""The ``image.openshift.io/triggers`` annotation on Kubernetes workloads.

The value is a JSON list of library-go's ``ObjectFieldTrigger``: which image
stream tag to follow (``from``), which field of the object receives its pull
spec (``fieldPath``), and whether the trigger is ``paused``.  It is a schema
like the custom resources', so it lives here, and the same annotation text
reads and writes the same way in ``oc`` and kbuild.

Any tenant can write the annotation, and the controller parses it for
every workload it lists, so ``parse_triggers`` raises nothing but
``TriggerAnnotationError``, whatever the text: nesting is bounded
(``nesting.MAX_DEPTH``), a list holds at most ``MAX_TRIGGERS`` triggers, and
the message quotes at most ``MAX_PROBLEMS`` problems, each value shortened.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import StrictBool, StrictStr, ValidationError

from builder.api.base import KubeModel
from builder.api.constants import KIND_IMAGE_STREAM_TAG
from builder.api.nesting import load_json
from builder.api.validation import validation_problems

MAX_TRIGGERS = 100
"""Most triggers one annotation may hold (a pod has a few containers)."""

MAX_PROBLEMS = 10
"""Most problems one error message lists; the rest are counted."""


class TriggerSource(KubeModel):
    """The image stream tag a trigger follows."""

    kind: StrictStr = KIND_IMAGE_STREAM_TAG
    """Only ``ImageStreamTag`` is acted on."""
    name: StrictStr = ""
    """``stream:tag``."""
    namespace: StrictStr = ""
    """Namespace of the stream; the workload's own when empty."""
    api_version: StrictStr = ""
    """Ignored, accepted for compatibility."""


class ObjectFieldTrigger(KubeModel):
    """One trigger: put the tag's current pull spec into ``field_path``."""

    from_: TriggerSource
    """The tag to follow."""
    field_path: StrictStr
    """E.g. ``spec.template.spec.containers[?(@.name=="app")].image``."""
    paused: StrictBool = False
    """A paused trigger leaves the field alone."""


class TriggerAnnotationError(ValueError):
    """The annotation is not a valid trigger list; the message says where."""


def parse_triggers(text: str) -> list[ObjectFieldTrigger]:
    """The triggers in an annotation value; ``TriggerAnnotationError`` says what is wrong."""
    try:
        data = load_json(text, what="the annotation")
    except ValueError as err:
        raise TriggerAnnotationError(f"not JSON: {err}") from None
    if not isinstance(data, list):
        raise TriggerAnnotationError("must be a JSON list of triggers")
    if len(data) > MAX_TRIGGERS:
        raise TriggerAnnotationError(
            f"holds {len(data)} triggers, more than the {MAX_TRIGGERS} accepted"
        )
    triggers: list[ObjectFieldTrigger] = []
    problems: list[str] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            problems.append(f"trigger [{index}]: expected an object, got {_shorten(item)}")
            continue
        try:
            triggers.append(ObjectFieldTrigger.model_validate(item))
        except ValidationError as err:
            problems.extend(validation_problems(err, ObjectFieldTrigger, f"trigger [{index}]"))
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"and {len(problems) - MAX_PROBLEMS} more problems")
        raise TriggerAnnotationError("; ".join(shown))
    return triggers


def _shorten(value: Any, limit: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _dump_source(source: TriggerSource) -> dict[str, str]:
    """Go's encoding of library-go's ObjectReference: kind and name always, the rest if set."""
    out = {"kind": source.kind, "name": source.name}
    if source.namespace:
        out["namespace"] = source.namespace
    if source.api_version:
        out["apiVersion"] = source.api_version
    return out


def dump_triggers(triggers: list[ObjectFieldTrigger]) -> str:
    """The annotation value as ``oc set triggers`` writes it: compact, ``paused`` only if true."""
    items: list[dict[str, Any]] = []
    for trigger in triggers:
        item: dict[str, Any] = {
            "from": _dump_source(trigger.from_),
            "fieldPath": trigger.field_path,
        }
        if trigger.paused:
            item["paused"] = True
        items.append(item)
    return json.dumps(items, separators=(",", ":"))
