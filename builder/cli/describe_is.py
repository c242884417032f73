"""``kbuild describe is/NAME``: oc's image stream describer, as text.

Follows oc's ``DescribeImageStream`` and ``formatImageStreamTags``
(pkg/helpers/describe) line for line: the header, one block per tag in
``PrioritizeTags`` order (``latest``, versions newest first, the rest by
name), where a tag came from, failed imports, and the tag's history with
the current image marked ``*``.  Tags that only follow another tag of the
same stream are listed in parentheses after it, not as blocks of their own,
and still count in ``Tags:``.  Quirks are kept (an entry without an image
id counts as one more unique image, whatever its pull spec), because people
compare this text with oc's.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from builder.api.constants import OBSERVED_TAGS_ANNOTATION
from builder.cli.common import human_duration, parse_when, since
from builder.cli.describe import Text, describe_meta
from builder.cli.streams_common import follow_tag_reference, parse_docker_ref, prioritize_tags
from builder.streams.tags import (
    latest_observed_generation,
    spec_tag,
    status_tag,
    unique_images,
)

if TYPE_CHECKING:
    from builder.api import ImageStream, NamedTagEventList
    from builder.api.image import TagReference

# Go's zero time is this far in the past as a Duration (it saturates): "292 years".
_ZERO_TIME_SECONDS = (2**63 - 1) / 1e9


def _ago(value: str | None, now: datetime) -> str:
    moment = parse_when(value)
    seconds = since(moment, now) if moment is not None else _ZERO_TIME_SECONDS
    return f"{human_duration(seconds)} ago"


# Per source kind: the line for a reference tag, a scheduled tag, any other tag.
_SOURCE_LINES = {
    "ImageStreamTag": ("reference to {}", "updates automatically from {}", "tagged from {}"),
    "DockerImage": (
        "reference to registry {}",
        "updates automatically from registry {}",
        "tagged from {}",
    ),
    "ImageStreamImage": ("reference to image {}", "tagged from {}", "tagged from {}"),
}


def _source_line(ref: TagReference | None, stream: ImageStream) -> str:
    if ref is None:
        return "  no spec tag\n"
    source = ref.from_
    if source is None:
        return "  tag without source image\n"
    name = source.name
    if source.namespace and source.namespace != stream.metadata.namespace:
        name = f"{source.namespace}/{source.name}"
    lines = _SOURCE_LINES.get(source.kind)
    if lines is None:
        name = f"{source.kind} {name}"
        lines = ("reference to {}", "updates from {}", "updates from {}")
    reference, scheduled, other = lines
    if ref.reference:
        return f"  {reference.format(name)}\n"
    return f"  {(scheduled if ref.import_policy.scheduled else other).format(name)}\n"


def _spec_annotations(ref: TagReference | None) -> str:
    annotations = (ref.annotations if ref is not None else None) or {}
    lines = ""
    if annotations.get("description"):
        lines += f"  {annotations['description']}\n"
    if annotations.get("tags"):
        lines += f"  Tags: {', '.join(annotations['tags'].split(','))}\n"
    if annotations.get("supports"):
        lines += f"  Supports: {', '.join(annotations['supports'].split(','))}\n"
    if annotations.get("sampleRepo"):
        lines += f"  Example Repo: {annotations['sampleRepo']}\n"
    return lines + "\n" if lines else ""


def _history(named: NamedTagEventList | None, now: datetime) -> str:
    lines = ""
    for condition in named.conditions if named is not None else []:
        if condition.type == "ImportSuccess" and condition.status.value == "False":
            lines += (
                f"  ! error: Import failed ({condition.reason}): {condition.message}\n"
                f"      {_ago(condition.last_transition_time, now)}\n"
            )
    for i, item in enumerate((named.items if named is not None else None) or []):
        lines += (
            f"  * {item.docker_image_reference}\n"
            if i == 0
            else (f"    {item.docker_image_reference}\n")
        )
        try:
            digest = parse_docker_ref(item.docker_image_reference).id
        except ValueError:
            digest = None
        if item.image and digest is not None and digest != item.image:
            lines += f"      {_ago(item.created, now)}\t{item.image}\n"
        else:
            lines += f"      {_ago(item.created, now)}\n"
    return lines


def _tag_block(stream: ImageStream, tag: str, followers: list[str], now: datetime) -> str:
    ref = spec_tag(stream, tag)
    importing = False
    extra = ""
    if ref is not None and ref.from_ is not None:
        generation = ref.generation
        observed = latest_observed_generation(stream, tag)
        importing = not ref.reference and generation is not None and generation > observed
        if ref.import_policy.insecure:
            extra += "    will use insecure HTTPS or HTTP connections\n"
    policy = ref.reference_policy.type if ref is not None else None
    if policy is not None and policy.value == "Local":
        extra += "    prefer registry pullthrough when referencing this tag\n"
    header = f"{tag} ({', '.join(prioritize_tags(followers))})\n" if followers else f"{tag}\n"
    text = header + _source_line(ref, stream) + extra + "\n" + _spec_annotations(ref)
    if importing:
        text += "  ~ importing latest image ...\n"
    return text + _history(status_tag(stream, tag), now)


def _tags(out: Text, stream: ImageStream, now: datetime) -> None:
    if not stream.status.tags and not stream.spec.tags:
        out.raw("Tags:\t<none>\n")
        return
    ordered = [named.tag for named in stream.status.tags]
    followers: dict[str, set[str]] = {}
    local: set[str] = set()
    for ref in stream.spec.tags:
        followed = follow_tag_reference(stream, ref.name)
        if followed.error is None and followed.multiple:
            local.add(ref.name)
            followers.setdefault(followed.tag, set()).add(ref.name)
        if status_tag(stream, ref.name) is None:
            ordered.append(ref.name)
    out.raw(f"Unique Images:\t{unique_images(stream)}\nTags:\t{len(ordered)}\n\n")
    blocks = [
        _tag_block(stream, tag, sorted(followers.get(tag, ())), now)
        for tag in prioritize_tags(ordered)
        if tag not in local
    ]
    out.raw("\n".join(blocks))


def describe_image_stream(stream: ImageStream, now: datetime) -> str:
    """oc's ``DescribeImageStream`` of ``stream`` as seen at ``now``."""
    out = Text()
    # The controller's record of spec tag sources is bookkeeping, not the user's.
    describe_meta(out, stream.metadata, now, frozenset({OBSERVED_TAGS_ANNOTATION}))
    status = stream.status
    out.field(
        "Image Repository", status.public_docker_image_repository or status.docker_image_repository
    )
    out.field("Image Lookup", f"local={'true' if stream.spec.lookup_policy.local else 'false'}")
    _tags(out, stream, now)
    return out.render()
