"""Tag history rules of an ImageStream, as OpenShift's image API applies them.

Pure functions over the ``builder.api`` models, so the rules that decide
when a tag moves are table-tested without a cluster.  They follow
openshift/origin's ``pkg/image/apis/image/helper.go`` and the image stream
registry strategy:

- a tag's current image is the first (newest) entry of its history;
- adding an entry that names the same image and pull spec as the head only
  refreshes the head's generation ("collapse"), so re-imports never repeat
  an entry; any real change clears the tag's conditions;
- a spec tag ``from: {kind: ImageStreamTag, name: other}`` naming a tag of
  the same stream tracks it: whenever ``other`` moves, the tag moves too;
- the pull spec a consumer gets depends on the tag's ``referencePolicy``:
  ``Source`` is the image's own location, ``Local`` the stream's repository
  in the controller's registry.
"""

from __future__ import annotations

from builder.api import BuildError, ImageStream, NamedTagEventList, StatusReason, TagEvent
from builder.api.core import ConditionStatus
from builder.api.image import (
    TagEventCondition,
    TagEventConditionType,
    TagReference,
    TagReferencePolicyType,
)

KIND_DOCKER_IMAGE = "DockerImage"
KIND_STREAM_TAG = "ImageStreamTag"
KIND_STREAM_IMAGE = "ImageStreamImage"


def split_tag(name: str, *, what: str = "ImageStreamTag") -> tuple[str, str]:
    """``stream:tag`` to its parts; anything else is an InvalidImageReference."""
    stream, sep, tag = name.partition(":")
    if not sep or not stream or not tag or ":" in tag:
        raise BuildError(
            StatusReason.INVALID_IMAGE_REFERENCE,
            f"{what} {name!r} must be of the form <stream>:<tag>",
        )
    return stream, tag


def parse_from(kind: str, name: str, own_stream: str) -> tuple[str, str]:
    """A spec tag's ImageStreamTag/ImageStreamImage ``from.name`` to (stream, tag or image).

    As OpenShift's strategy reads it, a bare ``<tag>`` or ``<id>`` means the
    stream itself.
    """
    separator = ":" if kind == KIND_STREAM_TAG else "@"
    parts = name.split(separator)
    if len(parts) == 1 and parts[0]:
        return own_stream, parts[0]
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0], parts[1]
    shape = "<tag> or <stream>:<tag>" if kind == KIND_STREAM_TAG else "<id> or <stream>@<id>"
    raise BuildError(
        StatusReason.INVALID_IMAGE_REFERENCE, f"{kind} {name!r} must be of the form {shape}"
    )


# ---------------------------------------------------------------------------
# Reading


def spec_tag(stream: ImageStream, tag: str) -> TagReference | None:
    return next((t for t in stream.spec.tags if t.name == tag), None)


def status_tag(stream: ImageStream, tag: str) -> NamedTagEventList | None:
    return next((t for t in stream.status.tags if t.tag == tag), None)


def latest_event(stream: ImageStream, tag: str) -> TagEvent | None:
    """The tag's current image, or None if it has none."""
    named = status_tag(stream, tag)
    return named.items[0] if named is not None and named.items else None


def pull_spec(stream: ImageStream, tag: str, event: TagEvent) -> str:
    """What a consumer pulls for ``event`` of ``tag``, honouring its referencePolicy.

    ``Local`` points at the stream's own repository by digest (where the
    controller mirrored the image); it falls back to the source when the
    stream has no repository or the entry no digest, as OpenShift does.
    """
    ref = spec_tag(stream, tag)
    local = ref is not None and ref.reference_policy.type == TagReferencePolicyType.LOCAL
    repository = stream.status.docker_image_repository
    if local and repository and event.image:
        return f"{repository}@{event.image}"
    return event.docker_image_reference


def current_pull_spec(stream: ImageStream, tag: str) -> str | None:
    """The pull spec of the tag's current image, or None if it has no image yet."""
    event = latest_event(stream, tag)
    return pull_spec(stream, tag, event) if event is not None else None


def latest_observed_generation(stream: ImageStream, tag: str) -> int:
    """The newest spec generation the tag's status reflects: head entry or import condition."""
    named = status_tag(stream, tag)
    if named is None:
        return 0
    observed = named.items[0].generation if named.items else 0
    for condition in named.conditions:
        if condition.type == TagEventConditionType.IMPORT_SUCCESS.value:
            observed = max(observed, condition.generation)
            break
    return observed


def tag_importable(ref: TagReference) -> bool:
    """Imported from a registry: a DockerImage source that is not a mere reference."""
    return ref.from_ is not None and ref.from_.kind == KIND_DOCKER_IMAGE and not ref.reference


def generation_pending(stream: ImageStream, ref: TagReference) -> bool:
    """The spec tag changed since its status was last written (OpenShift's tagNeedsImport)."""
    if ref.generation is None or ref.generation == 0:
        return False  # not yet assigned (see ``generations``)
    return ref.generation > latest_observed_generation(stream, ref.name)


def find_image(stream: ImageStream, image_id: str) -> TagEvent:
    """The entry for an image of the stream by digest or unique digest prefix (ImageStreamImage)."""
    wanted = image_id.removeprefix("sha256:")
    found: dict[str, TagEvent] = {}
    for named in stream.status.tags:
        for item in named.items or []:
            digest = item.image.removeprefix("sha256:")
            if item.image and (digest.startswith(wanted) or item.image.startswith(image_id)):
                found.setdefault(item.image, item)
    who = f"{stream.metadata.namespace}/{stream.metadata.name}"
    if not found:
        raise BuildError(
            StatusReason.INVALID_IMAGE_REFERENCE, f"image {image_id} is not in image stream {who}"
        )
    if len(found) > 1:
        raise BuildError(
            StatusReason.INVALID_IMAGE_REFERENCE,
            f"image prefix {image_id} is ambiguous in image stream {who}: "
            + ", ".join(sorted(found)),
        )
    return next(iter(found.values()))


def unique_images(stream: ImageStream) -> int:
    """How many distinct images the stream's history names (``Unique Images:``).

    As oc counts them: by image id, so entries without one (reference tags)
    count once together.
    """
    items = [i for t in stream.status.tags for i in t.items or []]
    with_id = {i.image for i in items if i.image}
    no_id = any(not i.image and i.docker_image_reference for i in items)
    return len(with_id) + (1 if no_id else 0)


# ---------------------------------------------------------------------------
# Writing


def _named(stream: ImageStream, tag: str) -> NamedTagEventList:
    named = status_tag(stream, tag)
    if named is None:
        named = NamedTagEventList(tag=tag, items=[])
        stream.status.tags.append(named)
    if named.items is None:
        named.items = []
    return named


def add_tag_event(stream: ImageStream, tag: str, event: TagEvent) -> bool:
    """Make ``event`` the tag's current image; returns whether the status changed.

    OpenShift's ``AddTagEventToImageStream``: an entry for the image already
    at the head (same pull spec and image) only takes the new generation;
    a head with the same pull spec or the same image is corrected in place;
    anything else is pushed on top.  Any change clears the tag's conditions
    (a successful import ends an import failure).
    """
    named = _named(stream, tag)
    items = named.items or []
    if not items:
        named.items = [event]
        named.conditions = []
        return True
    head = items[0]
    same_ref = head.docker_image_reference == event.docker_image_reference
    same_image = head.image == event.image
    if same_ref and same_image and head.generation == event.generation:
        return False
    if same_ref and same_image:
        pass
    elif same_ref:
        head.image = event.image
    elif same_image:
        head.docker_image_reference = event.docker_image_reference
    else:
        named.items = [event, *items]
        named.conditions = []
        return True
    head.generation = event.generation
    named.conditions = []
    return True


def update_tracking_tags(stream: ImageStream, updated: str, event: TagEvent) -> list[str]:
    """Move every spec tag that tracks ``updated`` in the same stream; returns the moved tags."""
    moved: list[str] = []
    own = stream.metadata.name
    for ref in stream.spec.tags:
        source = ref.from_
        if source is None or source.kind != KIND_STREAM_TAG or ref.name == updated:
            continue
        if (source.namespace or stream.metadata.namespace) != stream.metadata.namespace:
            continue
        try:
            stream_name, tag = parse_from(KIND_STREAM_TAG, source.name, own)
        except BuildError:
            continue
        if stream_name != own or tag != updated:
            continue
        tracked = TagEvent(
            created=event.created,
            docker_image_reference=event.docker_image_reference,
            image=event.image,
            generation=event.generation,
        )
        if add_tag_event(stream, ref.name, tracked):
            moved.append(ref.name)
    return moved


def set_import_condition(
    stream: ImageStream,
    tag: str,
    *,
    reason: str,
    message: str,
    generation: int,
    now: str,
) -> bool:
    """Record a failed import on the tag, keeping its history; returns whether it changed."""
    named = _named(stream, tag)
    existing = next(
        (c for c in named.conditions if c.type == TagEventConditionType.IMPORT_SUCCESS.value),
        None,
    )
    if (
        existing is not None
        and existing.status == ConditionStatus.FALSE
        and existing.reason == reason
        and existing.message == message
        and existing.generation == generation
    ):
        return False
    condition = TagEventCondition(
        type=TagEventConditionType.IMPORT_SUCCESS.value,
        status=ConditionStatus.FALSE,
        last_transition_time=(
            existing.last_transition_time
            if existing is not None and existing.status == ConditionStatus.FALSE
            else now
        ),
        reason=reason,
        message=message,
        generation=generation,
    )
    named.conditions = [
        c for c in named.conditions if c.type != TagEventConditionType.IMPORT_SUCCESS.value
    ] + [condition]
    return True


def clear_import_condition(stream: ImageStream, tag: str) -> bool:
    named = status_tag(stream, tag)
    if named is None or not named.conditions:
        return False
    named.conditions = []
    return True


def import_failure(stream: ImageStream, tag: str) -> TagEventCondition | None:
    """The tag's failed-import condition, if its last import failed."""
    named = status_tag(stream, tag)
    if named is None:
        return None
    return next(
        (
            c
            for c in named.conditions
            if c.type == TagEventConditionType.IMPORT_SUCCESS.value
            and c.status == ConditionStatus.FALSE
        ),
        None,
    )
