"""Image stream tags as build inputs and outputs.

The ImageStream is the source of truth for ``stream:tag``: a tag's current
image is the newest TagEvent in ``status.tags``.  Builds resolve their inputs
here when the pod is created (late binding), and a completed build appends
its pushed digest here, which is what moves the tag.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from builder.api import (
    BuildError,
    ImageStream,
    NamedTagEventList,
    ObjectMeta,
    ObjectReference,
    StatusReason,
    TagEvent,
)
from builder.controller.config import ControllerConfig
from builder.kube import AlreadyExists, Conflict, Kube, NotFound

MAX_ATTEMPTS = 10


def split_tag(name: str, *, what: str = "ImageStreamTag") -> tuple[str, str]:
    stream, sep, tag = name.partition(":")
    if not sep or not stream or not tag or ":" in tag:
        raise BuildError(
            StatusReason.INVALID_IMAGE_REFERENCE,
            f"{what} {name!r} must be of the form <stream>:<tag>",
        )
    return stream, tag


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_image(stream: ImageStream, tag: str) -> TagEvent | None:
    for named in stream.status.tags:
        if named.tag == tag and named.items:
            return named.items[0]
    return None


def resolve_reference(kube: Kube, ref: ObjectReference, default_namespace: str, role: str) -> str:
    """A pull spec for a build input: DockerImage as is, stream references by digest."""
    if ref.kind in ("", "DockerImage"):
        if not ref.name:
            raise BuildError(StatusReason.INVALID_IMAGE_REFERENCE, f"{role} names no image")
        return ref.name
    namespace = ref.namespace or default_namespace
    if ref.kind == "ImageStreamTag":
        stream_name, tag = split_tag(ref.name)
        try:
            stream = kube.image_streams.get(namespace, stream_name)
        except NotFound:
            raise BuildError(
                StatusReason.INVALID_IMAGE_REFERENCE,
                f"{role}: image stream {namespace}/{stream_name} does not exist",
            ) from None
        event = current_image(stream, tag)
        if event is None:
            raise BuildError(
                StatusReason.INVALID_IMAGE_REFERENCE,
                f"{role}: image stream tag {namespace}/{ref.name} has no image yet",
            )
        return event.docker_image_reference
    if ref.kind == "ImageStreamImage":
        stream_name, sep, digest = ref.name.partition("@")
        if not sep:
            raise BuildError(
                StatusReason.INVALID_IMAGE_REFERENCE,
                f"{role}: ImageStreamImage {ref.name!r} must be <stream>@<digest>",
            )
        try:
            stream = kube.image_streams.get(namespace, stream_name)
        except NotFound:
            raise BuildError(
                StatusReason.INVALID_IMAGE_REFERENCE,
                f"{role}: image stream {namespace}/{stream_name} does not exist",
            ) from None
        for named in stream.status.tags:
            for item in named.items or []:
                if item.image == digest:
                    return item.docker_image_reference
        raise BuildError(
            StatusReason.INVALID_IMAGE_REFERENCE,
            f"{role}: image {digest} is not in image stream {namespace}/{stream_name}",
        )
    raise BuildError(
        StatusReason.INVALID_IMAGE_REFERENCE, f"{role}: unsupported reference kind {ref.kind!r}"
    )


def output_target(
    config: ControllerConfig, ref: ObjectReference, default_namespace: str
) -> tuple[str, str | None]:
    """Where a build pushes: the pull spec, and for stream outputs ``ns/stream:tag``."""
    if ref.kind in ("", "DockerImage"):
        if not ref.name:
            raise BuildError(StatusReason.INVALID_OUTPUT_REFERENCE, "output.to names no image")
        return ref.name, None
    if ref.kind != "ImageStreamTag":
        raise BuildError(
            StatusReason.INVALID_OUTPUT_REFERENCE,
            f"output.to must be DockerImage or ImageStreamTag, not {ref.kind!r}",
        )
    namespace = ref.namespace or default_namespace
    stream, tag = split_tag(ref.name, what="output ImageStreamTag")
    return f"{config.output_repository(namespace, stream)}:{tag}", f"{namespace}/{stream}:{tag}"


def record_tag_event(
    kube: Kube,
    config: ControllerConfig,
    target: str,
    digest: str,
    log: Callable[[str], None] = lambda _line: None,
) -> bool:
    """Make ``digest`` the newest image of ``ns/stream:tag``; create the stream if missing.

    Idempotent: if the tag's newest image already is ``digest`` nothing is
    written, so a reconcile retried after a crash never adds a second entry.
    Returns whether the tag moved.
    """
    namespace, _, stream_tag = target.partition("/")
    stream_name, tag = split_tag(stream_tag)
    repository = config.output_repository(namespace, stream_name)
    for _ in range(MAX_ATTEMPTS):
        try:
            stream = kube.image_streams.get(namespace, stream_name)
        except NotFound:
            try:
                kube.image_streams.create(
                    ImageStream(metadata=ObjectMeta(name=stream_name, namespace=namespace))
                )
                log(f"created image stream {namespace}/{stream_name}")
            except AlreadyExists:
                pass
            continue
        newest = current_image(stream, tag)
        if newest is not None and newest.image == digest:
            return False
        event = TagEvent(
            created=_now(),
            docker_image_reference=f"{repository}@{digest}",
            image=digest,
            generation=stream.metadata.generation or 0,
        )
        named = next((t for t in stream.status.tags if t.tag == tag), None)
        if named is None:
            stream.status.tags.append(NamedTagEventList(tag=tag, items=[event]))
        else:
            named.items = [event, *(named.items or [])]
        stream.status.docker_image_repository = repository
        try:
            kube.image_streams.replace_status(stream)
        except Conflict:
            continue
        return True
    raise BuildError(
        StatusReason.GENERIC_BUILD_FAILED,
        f"could not update image stream {namespace}/{stream_name}: too many concurrent updates",
    )
