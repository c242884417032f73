"""The ``image.openshift.io/triggers`` annotation on Kubernetes workloads.

The value is a JSON list of library-go's ``ObjectFieldTrigger``: which image
stream tag to follow (``from``), which field of the object receives its pull
spec (``fieldPath``), and whether the trigger is ``paused``.  It is a schema
like the custom resources', so it lives here, and the same annotation text
reads and writes the same way in ``oc`` and kbuild.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import StrictBool, StrictStr, ValidationError

from builder.api.base import KubeModel
from builder.api.constants import KIND_IMAGE_STREAM_TAG
from builder.api.manifest import validation_problems


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
        data = json.loads(text)
    except ValueError as err:
        raise TriggerAnnotationError(f"not JSON: {err}") from None
    if not isinstance(data, list):
        raise TriggerAnnotationError("must be a JSON list of triggers")
    triggers: list[ObjectFieldTrigger] = []
    problems: list[str] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            problems.append(f"trigger [{index}]: expected an object, got {json.dumps(item)}")
            continue
        try:
            triggers.append(ObjectFieldTrigger.model_validate(item))
        except ValidationError as err:
            problems.extend(validation_problems(err, ObjectFieldTrigger, f"trigger [{index}]"))
    if problems:
        raise TriggerAnnotationError("; ".join(problems))
    return triggers


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
