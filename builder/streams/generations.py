"""Spec tag generations: what OpenShift's API server does on every stream update.

On OpenShift a spec tag whose ``from`` changed (or whose generation is
unset, or set to 0 to ask for a re-import) is given the stream's generation
by the server, and a tag whose generation is newer than its status is
imported or resolved.  A CRD has no such hook, so the controller does it:
it keeps each spec tag's source as last seen in the annotation
``image.kbuild.io/observed-tags`` and, when a tag is new, changed, or has
generation 0 or none, writes the stream's current generation into it.

The generation written is ``metadata.generation`` as read, i.e. the
generation of the user's change; the controller's own write then moves the
stream one generation on, which is harmless: only "tag generation newer
than its status" matters.
"""

from __future__ import annotations

import json

from builder.api import ImageStream
from builder.api.constants import OBSERVED_TAGS_ANNOTATION
from builder.api.image import TagReference
from builder.api.nesting import load_json


def source_key(ref: TagReference, namespace: str) -> str:
    """What identifies a spec tag's source: kind, namespace (defaulted) and name."""
    source = ref.from_
    if source is None:
        return ""
    return f"{source.kind}/{source.namespace or namespace}/{source.name}"


def observed_sources(stream: ImageStream) -> dict[str, str]:
    raw = (stream.metadata.annotations or {}).get(OBSERVED_TAGS_ANNOTATION, "")
    try:
        data = load_json(raw, what="the annotation") if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


def assign_generations(stream: ImageStream) -> bool:
    """Give new or changed spec tags the stream's generation; True if ``stream`` changed.

    Also brings the observed-sources annotation up to date (dropping tags no
    longer in the spec).  The caller writes the stream when it changed.
    """
    namespace = stream.metadata.namespace
    generation = stream.metadata.generation or 1
    seen = observed_sources(stream)
    now: dict[str, str] = {}
    changed = False
    for ref in stream.spec.tags:
        key = source_key(ref, namespace)
        now[ref.name] = key
        if not key:
            continue
        moved = seen.get(ref.name) != key
        if (moved or not ref.generation) and ref.generation != generation:
            ref.generation = generation
            changed = True
    record = json.dumps(now, sort_keys=True, separators=(",", ":"))
    if stream.metadata.annotations.get(OBSERVED_TAGS_ANNOTATION) != record:
        stream.metadata.annotations = {
            **stream.metadata.annotations,
            OBSERVED_TAGS_ANNOTATION: record,
        }
        changed = True
    return changed
