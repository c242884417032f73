"""What the image stream verbs share: oc's reading of pull specs and tags, and the write loop.

``oc`` reads a SOURCE such as ``ruby:3.0`` or ``ns/app@sha256:...`` with
library-go's ``reference.Parse``, which does *no* Docker Hub defaulting: a
first path component is a registry only if it contains ``.`` or ``:`` or is
``localhost``.  That decides whether ``kbuild tag ruby:3.0 app:base`` means
an image stream tag (it does) or a Docker Hub image, so the rule is kept
exactly, as are ``FollowTagReference`` (tags that point at a tag of the same
stream) and ``PrioritizeTags`` (the order ``describe`` lists tags in).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cmp_to_key
from typing import TYPE_CHECKING

from builder.cli.common import IMAGE_STREAMS, CliError, not_found

if TYPE_CHECKING:
    from builder.api import ImageStream
    from builder.api.image import TagReference
    from builder.kube import Kube

"""On an ImageStream: ``"true"`` lets imports use HTTP or unverified TLS (OpenShift's name)."""
DEFAULT_TAG = "latest"

# ---------------------------------------------------------------------------
# Pull specs, as library-go's reference.Parse reads them

_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_SHORT_ID = r"(?:sha256:)?[0-9a-f]+"
_NAME_MAX = 255


def _reference_re(digest: str) -> re.Pattern[str]:
    return re.compile(rf"((?:{_DOMAIN}/)?{_PATH}(?:/{_PATH})*)(?::({_TAG}))?(?:@({digest}))?")


_REFERENCE = _reference_re(_DIGEST)
_REFERENCE_SHORT_ID = _reference_re(f"{_DIGEST}|{_SHORT_ID}")


@dataclass(frozen=True)
class DockerRef:
    """library-go's ``DockerImageReference``: the parts exactly as written, no defaults."""

    registry: str = ""
    namespace: str = ""
    name: str = ""
    tag: str = ""
    id: str = ""

    def name_string(self) -> str:
        """``name:tag`` or ``name@id`` (or the bare name)."""
        if not self.name:
            return ""
        if self.id:
            return f"{self.name}@{self.id}"
        return f"{self.name}:{self.tag}" if self.tag else self.name

    def exact(self) -> str:
        """``DockerImageReferenceExact``: registry/namespace/name[:tag|@id] as given."""
        prefix = f"{self.registry}/" if self.registry else ""
        if self.namespace:
            prefix += f"{self.namespace}/"
        name = self.name_string()
        if not name:
            return prefix if self.registry else ""
        return prefix + name


def parse_docker_ref(text: str, *, short_id: bool = False) -> DockerRef:
    """Parse a pull spec as ``reference.Parse``; ValueError as distribution words it.

    ``short_id`` also accepts ``name@<hex prefix>``: an ImageStreamImage may
    name its image by a unique digest prefix, which no registry would accept.
    """
    match = (_REFERENCE_SHORT_ID if short_id else _REFERENCE).fullmatch(text)
    if match is None:
        if not text:
            raise ValueError("repository name must have at least one component")
        if (_REFERENCE_SHORT_ID if short_id else _REFERENCE).fullmatch(text.lower()):
            raise ValueError("repository name must be lowercase")
        raise ValueError("invalid reference format")
    name, tag, digest = match.group(1), match.group(2) or "", match.group(3) or ""
    if len(name) > _NAME_MAX:
        raise ValueError(f"repository name must not be more than {_NAME_MAX} characters")
    slash = name.find("/")
    registry_only = slash == -1 and ("." in name or name.startswith("localhost"))
    if registry_only:
        whole = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
        return DockerRef(registry=whole, id=digest)
    first = name[:slash]
    if slash == -1 or (not any(c in first for c in ":.") and first != "localhost"):
        registry, rest = "", name
    else:
        registry, rest = first, name[slash + 1 :]
    namespace, sep, short = rest.partition("/")
    if not sep:
        namespace, short = "", rest
    return DockerRef(registry=registry, namespace=namespace, name=short, tag=tag, id=digest)


# ---------------------------------------------------------------------------
# Tags that point at tags of the same stream (oc's FollowTagReference)


class FollowError(Enum):
    CIRCULAR = "circular"
    NOT_FOUND = "not found"
    CROSS_STREAM = "cross stream"
    INVALID = "invalid"


@dataclass(frozen=True)
class Followed:
    """Where a chain of same-stream ImageStreamTag spec tags ends."""

    tag: str
    ref: TagReference | None
    multiple: bool
    error: FollowError | None = None


def follow_tag_reference(stream: ImageStream, tag: str) -> Followed:
    """Walk spec tags ``from: ImageStreamTag`` within the stream to the tag that names a source."""
    multiple = False
    seen: set[str] = set()
    own_name, own_namespace = stream.metadata.name, stream.metadata.namespace
    while True:
        if tag in seen:
            return Followed(tag, None, multiple, FollowError.CIRCULAR)
        seen.add(tag)
        ref = next((t for t in stream.spec.tags if t.name == tag), None)
        if ref is None:
            return Followed(tag, None, multiple, FollowError.NOT_FOUND)
        source = ref.from_
        if source is None or source.kind != "ImageStreamTag":
            return Followed(tag, ref, multiple)
        if source.namespace and source.namespace != own_namespace:
            return Followed(tag, None, multiple, FollowError.CROSS_STREAM)
        if ":" in source.name:
            name, _, target = source.name.partition(":")
            if name != own_name:
                return Followed(tag, None, multiple, FollowError.CROSS_STREAM)
            tag = target or DEFAULT_TAG
        else:
            tag = source.name
        multiple = True


# ---------------------------------------------------------------------------
# Tag order (library-go's PrioritizeTags)

_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_MINOR = re.compile(r"\d+\.\d+")
_MINOR_WITH_PATCH = re.compile(r"(\d+\.\d+)-\w+")

_LATEST, _MINOR_PRIORITY, _FULL, _OTHER = range(4)

Semver = tuple[int, int, int, tuple[str, ...]]


def parse_semver(text: str) -> Semver | None:
    """blang/semver's strict ``Parse``: ``1.2.3[-pre][+build]``, build metadata ignored."""
    match = _SEMVER.fullmatch(text)
    if match is None:
        return None
    pre = tuple(match.group(4).split(".")) if match.group(4) else ()
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), pre


def _compare_pre(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    if not a or not b:
        return (not a) - (not b)  # a release sorts above its pre-releases
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def compare_semver(a: Semver, b: Semver) -> int:
    if a[:3] != b[:3]:
        return -1 if a[:3] < b[:3] else 1
    return _compare_pre(a[3], b[3])


@dataclass(frozen=True)
class _Prioritized:
    tag: str
    priority: int
    version: Semver = (0, 0, 0, ())
    prefix: str = ""


def _prioritize(tag: str) -> _Prioritized:
    if tag == "latest":
        return _Prioritized(tag, _LATEST)
    prefix, short = ("v", tag[1:]) if tag.startswith("v") else ("", tag)
    full = parse_semver(short)
    if full is not None:
        return _Prioritized(tag, _FULL, full, prefix)
    if _MINOR.fullmatch(short):
        minor = parse_semver(short + ".0")
        if minor is not None:
            return _Prioritized(tag, _MINOR_PRIORITY, minor, prefix)
    patch = _MINOR_WITH_PATCH.fullmatch(short)
    if patch is not None:
        version = parse_semver(short.replace(patch.group(1), patch.group(1) + ".0", 1))
        if version is not None:
            return _Prioritized(tag, _MINOR_PRIORITY, version, prefix)
    return _Prioritized(tag, _OTHER, prefix=prefix)


def _less(a: _Prioritized, b: _Prioritized) -> bool:
    if a.priority != b.priority:
        return a.priority < b.priority
    if a.priority == _OTHER:
        return a.tag < b.tag
    order = compare_semver(a.version, b.version)
    return order > 0 or (order == 0 and a.prefix < b.prefix)


def prioritize_tags(tags: list[str]) -> list[str]:
    """``latest``, then minor versions newest first, then full versions, then the rest by name."""

    def compare(a: _Prioritized, b: _Prioritized) -> int:
        return -1 if _less(a, b) else (1 if _less(b, a) else 0)

    return [p.tag for p in sorted(map(_prioritize, tags), key=cmp_to_key(compare))]


# ---------------------------------------------------------------------------
# Names


def split_stream_tag(text: str) -> tuple[str, str] | None:
    """imageutil's ``SplitImageStreamTag``: ``stream:tag`` (empty tag: latest); None if no ':'."""
    stream, sep, tag = text.partition(":")
    if not sep:
        return None
    return stream, tag or DEFAULT_TAG


def stream_ref(name: str) -> str:
    """``imagestream.image.openshift.io/NAME``, as oc's name printer writes it."""
    return IMAGE_STREAMS.ref(name)


# ---------------------------------------------------------------------------
# Writing a stream: read, edit, write, and again on Conflict


def write_stream(
    kube: Kube,
    namespace: str,
    name: str,
    edit: Callable[[ImageStream | None], ImageStream | None],
) -> ImageStream | None:
    """Apply ``edit`` to the stream as it is now (None: missing) and write the result.

    ``edit`` returns the stream to write (created if it was missing), or
    None for "nothing to write".  A Conflict (someone wrote in between) or
    AlreadyExists (someone created it in between) re-reads and edits again,
    so a concurrent write by the controller is never overwritten.  Returns
    the stream as written (or as read, when nothing was written).
    """
    from builder.kube import AlreadyExists, Conflict, NotFound  # noqa: PLC0415
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    def read() -> ImageStream | None:
        try:
            return kube.image_streams.get(namespace, name)
        except NotFound:
            return None

    def mutate(current: ImageStream | None) -> tuple[ImageStream, bool] | None:
        wanted = edit(current)
        return None if wanted is None else (wanted, current is None)

    def write(change: tuple[ImageStream, bool]) -> ImageStream:
        wanted, missing = change
        return kube.image_streams.create(wanted) if missing else kube.image_streams.replace(wanted)

    try:
        # AlreadyExists: someone created the stream between our read and create.
        updated = update_with_retry(
            read, mutate, write, what=f"image stream {namespace}/{name}",
            retry_on=(Conflict, AlreadyExists),
        )  # fmt: skip
    except TooManyConflicts:
        raise CliError(
            f"image stream {namespace}/{name} kept changing while writing it; try again"
        ) from None
    return updated.written if updated.written is not None else updated.seen


def write_stream_status(
    kube: Kube,
    namespace: str,
    name: str,
    edit: Callable[[ImageStream], bool],
) -> ImageStream:
    """Edit the status subresource (``edit`` returns whether it changed), retrying on Conflict."""
    from builder.kube import NotFound  # noqa: PLC0415
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    try:
        updated = update_with_retry(
            lambda: kube.image_streams.get(namespace, name),
            lambda current: current if edit(current) else None,
            kube.image_streams.replace_status,
            what=f"image stream {namespace}/{name}",
        )
    except NotFound:
        raise not_found(IMAGE_STREAMS, name) from None
    except TooManyConflicts:
        raise CliError(
            f"image stream {namespace}/{name} kept changing while writing it; try again"
        ) from None
    return updated.written if updated.written is not None else updated.seen


def get_stream(kube: Kube, namespace: str, name: str) -> ImageStream:
    from builder.kube import NotFound  # noqa: PLC0415

    try:
        return kube.image_streams.get(namespace, name)
    except NotFound:
        raise not_found(IMAGE_STREAMS, name) from None


def copy_stream(stream: ImageStream) -> ImageStream:
    """A deep copy whose edits show in ``dump`` (pydantic's copy keeps the set-fields record)."""
    return stream.model_copy(deep=True)
