"""Docker image references: ``[registry[:port]/]path/name[:tag][@algo:hex]``.

Users write references the way docker and ``oc`` accept them, so we follow the
same grammar (distribution's ``reference`` package) and the same
normalisation: a first path component is a registry host only if it contains
``.`` or ``:``, is ``localhost``, or has an upper-case letter; otherwise the
image lives on Docker Hub, whose single-component names sit under
``library/``.  Getting this wrong would send ``myregistry:5000/app`` to Docker
Hub or look ``ubuntu`` up on a host called ``ubuntu``.

``ImageReference`` is always fully qualified once parsed; ``str()`` gives the
canonical form that other tools (buildah, skopeo, the kubelet) read the same way.
"""

from __future__ import annotations

import re

from builder.record import Record, replace
from builder.registry.errors import InvalidReferenceError

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
# Docker Hub answers the registry API on a different host than its name.
_LEGACY_HUB_NAMES = frozenset({"index.docker.io", "registry-1.docker.io"})
_NAME_TOTAL_LENGTH_MAX = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:.]+\])"
_DOMAIN_RE = re.compile(rf"{_HOST}(?::[0-9]+)?")
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
# ASCII, as in distribution's grammar (Go's \w); Python's \w also takes "täg²".
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST_RE = re.compile(r"([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")
_ANCHORED_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
# Hex lengths of the digest algorithms the OCI image spec registers.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def validate_digest(digest: str, *, text: str | None = None) -> str:
    """Check ``algo:hex`` and return it; registries reject anything else anyway."""
    shown = digest if text is None else text
    match = _DIGEST_RE.fullmatch(digest)
    if match is None:
        raise InvalidReferenceError(shown, f"malformed digest {digest!r} (want sha256:<64 hex>)")
    algorithm, hex_part = match.groups()
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise InvalidReferenceError(shown, f"unsupported digest algorithm {algorithm!r}")
    if len(hex_part) != expected or not re.fullmatch(r"[a-f0-9]+", hex_part):
        raise InvalidReferenceError(
            shown, f"{algorithm} digest must be {expected} lower-case hex characters"
        )
    return digest


def _split_registry(name: str) -> tuple[str, str]:
    """Apply docker's rule for whether the first component names a host."""
    first, slash, rest = name.partition("/")
    is_host = slash and (
        "." in first or ":" in first or first == "localhost" or first.lower() != first
    )
    if not is_host:
        registry, remainder = DEFAULT_REGISTRY, name
    else:
        registry, remainder = first, rest
    if registry in _LEGACY_HUB_NAMES:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = f"library/{remainder}"
    return registry, remainder


class ImageReference(Record):
    """A fully qualified image reference.

    ``tag`` and ``digest`` may both be set (``repo:tag@sha256:...``); a
    registry then serves the digest and the tag is informational, as with
    docker.  At least one of them is always set on a parsed reference.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        text = self._format()
        if not self.registry or not _DOMAIN_RE.fullmatch(self.registry):
            raise InvalidReferenceError(text, f"invalid registry host {self.registry!r}")
        if not self.repository:
            raise InvalidReferenceError(text, "repository name is empty")
        for component in self.repository.split("/"):
            if not component:
                raise InvalidReferenceError(text, "repository has an empty path component")
            if component.lower() != component:
                raise InvalidReferenceError(text, "repository name must be lowercase")
            if not _PATH_COMPONENT_RE.fullmatch(component):
                raise InvalidReferenceError(
                    text,
                    f"invalid repository path component {component!r} (allowed: a-z, 0-9, "
                    "separated by '.', '_', '__' or dashes)",
                )
        if len(f"{self.registry}/{self.repository}") > _NAME_TOTAL_LENGTH_MAX:
            raise InvalidReferenceError(
                text, f"repository name longer than {_NAME_TOTAL_LENGTH_MAX} characters"
            )
        if self.tag is not None and not _TAG_RE.fullmatch(self.tag):
            raise InvalidReferenceError(
                text, f"invalid tag {self.tag!r} (allowed: up to 128 of A-Za-z0-9_.-)"
            )
        if self.digest is not None:
            validate_digest(self.digest, text=text)

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        """Parse what a user typed; default to ``latest`` only when untagged and undigested."""
        if not text:
            raise InvalidReferenceError(text, "reference is empty")
        if text != text.strip() or any(ch.isspace() for ch in text):
            raise InvalidReferenceError(text, "reference contains whitespace")
        if "://" in text:
            raise InvalidReferenceError(
                text, "a reference has no URL scheme (write host/repository:tag)"
            )
        if _ANCHORED_IDENTIFIER_RE.fullmatch(text):
            raise InvalidReferenceError(
                text, "a 64-character hex string is an image ID, not a repository name"
            )

        name, at, digest = text.partition("@")
        if at and not digest:
            raise InvalidReferenceError(text, "digest is empty after '@'")
        if "@" in digest:
            raise InvalidReferenceError(text, "more than one '@'")
        if at:
            validate_digest(digest, text=text)

        tag: str | None = None
        last_slash = name.rfind("/")
        colon = name.rfind(":")
        if colon > last_slash:
            name, tag = name[:colon], name[colon + 1 :]
            if not tag:
                raise InvalidReferenceError(text, "tag is empty after ':'")
        if not name:
            raise InvalidReferenceError(text, "repository name is empty")

        registry, repository = _split_registry(name)
        if tag is None and not at:
            tag = DEFAULT_TAG
        try:
            return cls(registry, repository, tag, digest if at else None)
        except InvalidReferenceError as err:
            # Report the user's own text, not our normalised rendering of it.
            raise InvalidReferenceError(text, err.problem) from None

    @property
    def name(self) -> str:
        """``registry/repository``, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def manifest_reference(self) -> str:
        """What goes after ``/manifests/`` in the API: the digest wins over the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: str) -> ImageReference:
        """Same image name with ``tag``; an existing digest is kept (docker's WithTag)."""
        return replace(self, tag=tag)

    def with_digest(self, digest: str) -> ImageReference:
        """Same image name pinned to ``digest``; an existing tag is kept (docker's WithDigest)."""
        return replace(self, digest=digest)

    def without_tag(self) -> ImageReference:
        """Digest-only form, the one to store once an image is resolved."""
        if self.digest is None:
            raise InvalidReferenceError(self._format(), "cannot drop the tag: no digest")
        return replace(self, tag=None)

    def _format(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def __str__(self) -> str:
        return self._format()
