"""``kbuild tag SOURCE DEST...``: point image stream tags at an image, as ``oc tag``.

SOURCE is read as oc reads it: with a registry it is a container image
(``DockerImage``), ``stream@sha256:...`` an image of a stream
(``ImageStreamImage``), ``stream:tag`` a tag of a stream
(``ImageStreamTag``); ``--source`` overrides the guess.  Unless ``--alias``
asks the destination to follow the source tag, a ``stream:tag`` source is
pinned to the image it points to now (``stream@sha256:...``), so later
moves of the source do not carry over; ``stream@<digest prefix>`` is
expanded to the full digest of the stream's image.  This is also the
rollback: ``kbuild tag app@sha256:OLD app:latest``.

Each DEST gets a spec tag written with ``generation: 0``, the request the
kbuild controller answers by importing or resolving the tag (what
OpenShift's API server does); the stream is created if missing, as oc does.
``-d`` removes the spec tag and the tag's history (status), as deleting an
ImageStreamTag does on OpenShift.  Messages are oc's.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from builder.api import BuildError
from builder.api.constants import KIND_DOCKER_IMAGE, KIND_IMAGE_STREAM_IMAGE, KIND_IMAGE_STREAM_TAG
from builder.cli.common import (
    IMAGE_STREAM_TAGS,
    CliError,
    add_cluster_flags,
    connect,
    not_found,
    run_guarded,
)
from builder.cli.streams_common import (
    DockerRef,
    copy_stream,
    get_stream,
    parse_docker_ref,
    split_stream_tag,
    write_stream,
    write_stream_status,
)

if TYPE_CHECKING:
    from builder.api import ImageStream
    from builder.api.image import TagReference
    from builder.kube import Kube

SOURCE_KINDS = {
    "istag": KIND_IMAGE_STREAM_TAG,
    "imagestreamtag": KIND_IMAGE_STREAM_TAG,
    "imagestreamtags": KIND_IMAGE_STREAM_TAG,
    "isimage": KIND_IMAGE_STREAM_IMAGE,
    "imagestreamimage": KIND_IMAGE_STREAM_IMAGE,
    "imagestreamimages": KIND_IMAGE_STREAM_IMAGE,
    "docker": KIND_DOCKER_IMAGE,
    "dockerimage": KIND_DOCKER_IMAGE,
}
VALID_SOURCES = "docker, dockerimage, imagestreamimage, imagestreamtag, isimage, istag"
REFERENCE_POLICIES = {"source": "Source", "local": "Local"}
USAGE_HINT = "\nSee 'kbuild tag -h' for help and examples"


@dataclass(frozen=True)
class Flags:
    """The command line's switches (``oc tag``'s)."""

    source: str = ""
    delete: bool = False
    alias: bool = False
    reference: bool = False
    scheduled: bool = False
    insecure: bool = False
    reference_policy: str = "source"


@dataclass(frozen=True)
class Dest:
    namespace: str
    stream: str
    tag: str
    text: str  # ``stream:tag`` as written, for messages


@dataclass(frozen=True)
class TagRequest:
    """A validated ``tag`` invocation; ``kind``/``source`` are empty when deleting."""

    flags: Flags
    namespace: str
    kind: str
    source: DockerRef
    source_text: str
    dests: tuple[Dest, ...]


# ---------------------------------------------------------------------------
# Reading the command line (pure)


def source_kind(hint: str) -> str:
    kind = SOURCE_KINDS.get(hint.lower())
    if kind is None:
        raise CliError(f"invalid source {hint!r}; valid values are {VALID_SOURCES}{USAGE_HINT}")
    return kind


def parse_source(text: str, kind: str, namespace: str) -> tuple[str, DockerRef]:
    """SOURCE and the ``--source`` kind (or "") to (kind, reference), guessing as oc does.

    A stream's image may be named by a digest prefix (``app@sha256:4f2c``);
    a container image needs its full digest.
    """
    try:
        ref = parse_docker_ref(text, short_id=True)
        if kind == KIND_DOCKER_IMAGE or (not kind and ref.registry):
            ref = parse_docker_ref(text)
    except ValueError as err:
        raise CliError(f"invalid SOURCE: {err}") from None
    if kind in (KIND_IMAGE_STREAM_TAG, KIND_IMAGE_STREAM_IMAGE):
        if ref.registry:
            raise CliError("server in SOURCE is only allowed when providing a container image")
        if ref.namespace == "library":
            ref = DockerRef(namespace=namespace, name=ref.name, tag=ref.tag, id=ref.id)
        if kind == KIND_IMAGE_STREAM_TAG and not ref.tag:
            raise CliError("--source=ImageStreamTag requires a valid <name>:<tag> in SOURCE")
        if kind == KIND_IMAGE_STREAM_IMAGE and not ref.id:
            raise CliError("--source=ImageStreamImage requires a valid <name>@<id> in SOURCE")
        return kind, ref
    if kind:
        return kind, ref
    if ref.registry:
        return KIND_DOCKER_IMAGE, ref
    if ref.id:
        return KIND_IMAGE_STREAM_IMAGE, ref
    if ref.tag:
        return KIND_IMAGE_STREAM_TAG, ref
    return KIND_DOCKER_IMAGE, ref


def parse_dest(text: str, namespace: str) -> Dest:
    """``[ns/]stream:tag``."""
    if "/" in text:
        parts = text.split("/")
        if len(parts) != 2:
            raise CliError(f"invalid image stream {text!r}")
        namespace, rest = parts
        if not namespace:
            raise CliError(f"invalid namespace {namespace!r} for image stream {text!r}")
        if not rest:
            raise CliError(f"invalid name {rest!r} for image stream {text!r}")
    else:
        rest = text
    split = split_stream_tag(rest)
    if split is None:
        raise CliError(f"{rest!r} must be of the form <stream_name>:<tag>")
    return Dest(namespace, split[0], split[1], rest)


def _check_flags(flags: Flags, kind: str, source: DockerRef, dests: tuple[Dest, ...]) -> None:
    if flags.delete and flags.alias:
        raise CliError("--alias and --delete may not be both specified")
    if flags.reference_policy not in REFERENCE_POLICIES:
        raise CliError("reference policy must be set to 'source' or 'local'")
    if flags.delete:
        if flags.source:
            raise CliError("cannot specify a source kind when deleting")
        if flags.scheduled or flags.insecure:
            raise CliError("cannot set flags for importing images when deleting a tag")
    elif not source.exact():
        raise CliError("a source is required")
    if not dests:
        raise CliError("at least a destination is required")
    if not flags.delete and kind != KIND_DOCKER_IMAGE and (flags.scheduled or flags.insecure):
        raise CliError("only container images can have importing flags set")


def _check_alias(request: TagRequest) -> None:
    if request.flags.scheduled or request.flags.insecure:
        raise CliError("cannot set a container image tag as an alias and also set import flags")
    for dest in request.dests:
        if dest.namespace != request.namespace or dest.stream != request.source.name:
            raise CliError("cannot set alias across different Image Streams")


def plan(args: list[str], flags: Flags, namespace: str) -> TagRequest:
    """Validate the arguments as ``oc tag`` does, with its messages."""
    if not args and not flags.delete:
        raise CliError(
            "you must specify a source and at least one destination or one or more tags "
            f"to delete{USAGE_HINT}"
        )
    kind, source, source_text = "", DockerRef(), ""
    if not flags.delete:
        source_text, args = args[0], args[1:]
        hint = source_kind(flags.source) if flags.source else ""
        kind, source = parse_source(source_text, hint, namespace)
    dests = tuple(parse_dest(a, namespace) for a in args)
    _check_flags(flags, kind, source, dests)
    request = TagRequest(flags, namespace, kind, source, source_text, dests)
    if flags.alias:
        _check_alias(request)
    return request


# ---------------------------------------------------------------------------
# What gets written (pure)


def pin_source(request: TagRequest, stream: ImageStream) -> tuple[str, DockerRef]:
    """The source as written: a stream tag pinned to its image, an image prefix expanded.

    ``stream`` is the source stream.  Only called for a non-alias
    ImageStreamTag or an ImageStreamImage source.
    """
    from builder.streams.tags import find_image, latest_event  # noqa: PLC0415

    source = request.source
    if request.kind == KIND_IMAGE_STREAM_IMAGE:
        try:
            image = find_image(stream, source.id).image
        except BuildError as err:
            raise CliError(err.detail) from None
        return KIND_IMAGE_STREAM_IMAGE, DockerRef(
            namespace=source.namespace, name=source.name, id=image
        )
    event = latest_event(stream, source.tag)
    if event is None:
        raise CliError(
            f"{request.source_text!r} is not currently pointing to an image, "
            "cannot use it as the source of a tag"
        )
    if not event.image:
        try:
            return KIND_DOCKER_IMAGE, parse_docker_ref(event.docker_image_reference)
        except ValueError as err:
            raise CliError(
                f"the image stream tag {request.source_text!r} has an invalid pull spec "
                f"and cannot be used to tag: {err}"
            ) from None
    return KIND_IMAGE_STREAM_IMAGE, DockerRef(
        namespace=source.namespace, name=source.name, id=event.image
    )


def tag_reference(request: TagRequest, dest: Dest) -> TagReference:
    """The spec tag ``dest`` gets: oc's ImageStreamTag ``tag``, with ``generation: 0``."""
    from builder.api import ObjectReference  # noqa: PLC0415
    from builder.api.image import (  # noqa: PLC0415
        TagImportPolicy,
        TagReference,
        TagReferencePolicy,
        TagReferencePolicyType,
    )

    flags, source = request.flags, request.source
    if request.kind == KIND_DOCKER_IMAGE:
        origin = ObjectReference(kind=request.kind, name=source.exact())
    else:
        namespace = source.namespace
        if not namespace and dest.namespace != request.namespace:
            namespace = request.namespace
        origin = ObjectReference(kind=request.kind, name=source.name_string())
        if namespace:
            origin.namespace = namespace
    ref = TagReference(
        name=dest.tag,
        from_=origin,
        generation=0,
        reference_policy=TagReferencePolicy(
            type=TagReferencePolicyType(REFERENCE_POLICIES[flags.reference_policy])
        ),
    )
    if flags.reference:
        ref.reference = True
    if flags.scheduled or flags.insecure:
        ref.import_policy = TagImportPolicy(insecure=flags.insecure, scheduled=flags.scheduled)
    return ref


def with_spec_tag(
    stream: ImageStream | None, namespace: str, name: str, ref: TagReference
) -> ImageStream:
    """``stream`` (or a new one) with spec tag ``ref.name`` replaced by ``ref``."""
    from builder.api import ImageStream, ObjectMeta  # noqa: PLC0415
    from builder.api.image import ImageStreamSpec  # noqa: PLC0415

    if stream is None:
        return ImageStream(
            metadata=ObjectMeta(name=name, namespace=namespace),
            spec=ImageStreamSpec(tags=[ref]),
        )
    updated = copy_stream(stream)
    tags = list(updated.spec.tags)
    index = next((i for i, t in enumerate(tags) if t.name == ref.name), None)
    if index is None:
        tags.append(ref)
    else:
        tags[index] = ref
    updated.spec.tags = tags
    return updated


def without_spec_tag(stream: ImageStream | None, tag: str) -> ImageStream | None:
    """``stream`` without spec tag ``tag``; None when there is nothing to remove."""
    from builder.streams.tags import spec_tag  # noqa: PLC0415

    if stream is None or spec_tag(stream, tag) is None:
        return None
    updated = copy_stream(stream)
    updated.spec.tags = [t for t in updated.spec.tags if t.name != tag]
    return updated


def drop_status_tag(stream: ImageStream, tag: str) -> bool:
    """Remove the tag's history from ``stream``; whether there was one."""
    from builder.streams.tags import status_tag  # noqa: PLC0415

    if status_tag(stream, tag) is None:
        return False
    stream.status.tags = [t for t in stream.status.tags if t.tag != tag]
    return True


def message(request: TagRequest, dest: Dest, source: DockerRef) -> str:
    """oc's line for one destination; ``source`` is the source as written."""
    same = dest.namespace == request.namespace
    where = dest.text if same else f"{dest.namespace}/{dest.text}"
    if request.flags.alias:
        return f"Tag {where} set up to track {source.exact()}."
    if request.flags.scheduled:
        if same:
            return f"Tag {where} set to import {source.exact()} periodically."
        return f"Tag {where} set to {source.exact()} periodically."  # sic, as oc
    return f"Tag {where} set to {source.exact()}."


# ---------------------------------------------------------------------------
# The verb


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "tag",
        help="point image stream tags at an image (oc tag)",
        description=(
            "Tag existing images into image streams: set DEST tags ([NS/]STREAM:TAG) to "
            "SOURCE (a container image, STREAM:TAG or STREAM@DIGEST), or delete tags with -d. "
            "A STREAM:TAG source is pinned to its current image unless --alias."
        ),
    )
    p.add_argument("args", nargs="*", metavar="SOURCE DEST [DEST...] | -d DEST...")
    p.add_argument(
        "--source",
        default="",
        help="source type: imagestreamtag|istag, imagestreamimage|isimage, docker|dockerimage",
    )
    p.add_argument("-d", "--delete", action="store_true", help="delete the given spec tags")
    p.add_argument(
        "--alias",
        action="store_true",
        help="follow the source tag whenever it moves (same image stream only)",
    )
    p.add_argument(
        "--reference",
        action="store_true",
        help="pull from the source's location instead of importing the image",
    )
    p.add_argument(
        "--scheduled",
        action="store_true",
        help="re-import the container image periodically from its registry",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="the registry needs HTTP or has a certificate that cannot be verified",
    )
    p.add_argument(
        "--reference-policy",
        default="source",
        help="'local' to serve the image through the stream's registry (default 'source')",
    )
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def flags_of(ns: argparse.Namespace) -> Flags:
    return Flags(
        source=ns.source,
        delete=ns.delete,
        alias=ns.alias,
        reference=ns.reference,
        scheduled=ns.scheduled,
        insecure=ns.insecure,
        reference_policy=ns.reference_policy,
    )


def _delete(kube: Kube, dest: Dest) -> str:
    from builder.streams.tags import spec_tag, status_tag  # noqa: PLC0415

    stream = get_stream(kube, dest.namespace, dest.stream)
    if spec_tag(stream, dest.tag) is None and status_tag(stream, dest.tag) is None:
        raise not_found(IMAGE_STREAM_TAGS, f"{dest.stream}:{dest.tag}")
    write_stream(kube, dest.namespace, dest.stream, lambda s: without_spec_tag(s, dest.tag))
    write_stream_status(kube, dest.namespace, dest.stream, lambda s: drop_status_tag(s, dest.tag))
    return f"Deleted tag {dest.namespace}/{dest.text}."


def _resolved(kube: Kube, request: TagRequest) -> TagRequest:
    """The request with its source as it will be written (reads the source stream if needed)."""
    pinned = request.kind == KIND_IMAGE_STREAM_IMAGE or (
        request.kind == KIND_IMAGE_STREAM_TAG and not request.flags.alias
    )
    if not pinned:
        return request
    namespace = request.source.namespace or request.namespace
    stream = get_stream(kube, namespace, request.source.name)
    kind, source = pin_source(request, stream)
    return TagRequest(
        request.flags, request.namespace, kind, source, request.source_text, request.dests
    )


def run(ns: argparse.Namespace) -> int:
    kube, namespace = connect(ns)
    request = plan(list(ns.args), flags_of(ns), namespace)
    if request.flags.delete:
        for dest in request.dests:
            print(_delete(kube, dest), flush=True)
        return 0
    request = _resolved(kube, request)
    for dest in request.dests:
        _set(kube, dest, tag_reference(request, dest))
        print(message(request, dest, request.source), flush=True)
    return 0


def _set(kube: Kube, dest: Dest, ref: TagReference) -> None:
    def edit(stream: ImageStream | None) -> ImageStream:
        return with_spec_tag(stream, dest.namespace, dest.stream, ref)

    write_stream(kube, dest.namespace, dest.stream, edit)
