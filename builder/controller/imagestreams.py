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
    ObjectMeta,
    ObjectReference,
    StatusReason,
    TagEvent,
)
from builder.controller.config import ControllerConfig
from builder.kube import AlreadyExists, Kube, NotFound
from builder.rules.retry import TooManyConflicts, update_with_retry
from builder.streams.tags import (
    KIND_STREAM_IMAGE,
    KIND_STREAM_TAG,
    add_tag_event,
    current_pull_spec,
    find_image,
    latest_event,
    spec_tag,
    split_tag,
    update_tracking_tags,
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stream(kube: Kube, namespace: str, name: str, role: str) -> ImageStream:
    try:
        return kube.image_streams.get(namespace, name)
    except NotFound:
        raise BuildError(
            StatusReason.INVALID_IMAGE_REFERENCE,
            f"{role}: image stream {namespace}/{name} does not exist",
        ) from None


def resolve_reference(kube: Kube, ref: ObjectReference, default_namespace: str, role: str) -> str:
    """A pull spec for a build input: DockerImage as is, stream references by digest."""
    if ref.kind in ("", "DockerImage"):
        if not ref.name:
            raise BuildError(StatusReason.INVALID_IMAGE_REFERENCE, f"{role} names no image")
        return ref.name
    namespace = ref.namespace or default_namespace
    if ref.kind == KIND_STREAM_TAG:
        stream_name, tag = split_tag(ref.name)
        spec = current_pull_spec(_stream(kube, namespace, stream_name, role), tag)
        if spec is None:
            raise BuildError(
                StatusReason.INVALID_IMAGE_REFERENCE,
                f"{role}: image stream tag {namespace}/{ref.name} has no image yet",
            )
        return spec
    if ref.kind == KIND_STREAM_IMAGE:
        stream_name, sep, digest = ref.name.partition("@")
        if not sep or not stream_name or not digest:
            raise BuildError(
                StatusReason.INVALID_IMAGE_REFERENCE,
                f"{role}: ImageStreamImage {ref.name!r} must be <stream>@<digest>",
            )
        stream = _stream(kube, namespace, stream_name, role)
        try:
            return find_image(stream, digest).docker_image_reference
        except BuildError as err:
            raise BuildError(err.reason, f"{role}: {err.detail}") from None
    raise BuildError(
        StatusReason.INVALID_IMAGE_REFERENCE, f"{role}: unsupported reference kind {ref.kind!r}"
    )


def latest_image(kube: Kube, namespace: str, name: str) -> str | None:
    """The pull spec of ``namespace/stream:tag``'s current image; None without one."""
    try:
        stream_name, tag = split_tag(name)
        return current_pull_spec(kube.image_streams.get(namespace, stream_name), tag)
    except (BuildError, NotFound):
        return None


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

    def read() -> ImageStream:
        try:
            return kube.image_streams.get(namespace, stream_name)
        except NotFound:
            pass
        try:
            created = kube.image_streams.create(
                ImageStream(metadata=ObjectMeta(name=stream_name, namespace=namespace))
            )
        except AlreadyExists:
            return kube.image_streams.get(namespace, stream_name)
        log(f"created image stream {namespace}/{stream_name}")
        return created

    def mutate(stream: ImageStream) -> ImageStream | None:
        newest = latest_event(stream, tag)
        if newest is not None and newest.image == digest:
            return None
        # The generation OpenShift's status strategy gives a pushed entry:
        # the spec tag's, else the stream's.
        ref = spec_tag(stream, tag)
        generation = (ref.generation if ref is not None else None) or stream.metadata.generation
        event = TagEvent(
            created=_now(),
            docker_image_reference=f"{repository}@{digest}",
            image=digest,
            generation=generation or 0,
        )
        add_tag_event(stream, tag, event)
        update_tracking_tags(stream, tag, event)
        stream.status.docker_image_repository = repository
        return stream

    try:
        moved = update_with_retry(
            read, mutate, kube.image_streams.replace_status,
            what=f"image stream {namespace}/{stream_name}",
        )  # fmt: skip
    except TooManyConflicts:
        raise BuildError(
            StatusReason.GENERIC_BUILD_FAILED,
            f"could not update image stream {namespace}/{stream_name}: too many concurrent updates",
        ) from None
    return moved.written is not None
