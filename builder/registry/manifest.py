"""Reading manifests and manifest lists, and picking a platform from a list.

Pure functions over bytes the registry returned, so that what they accept and
reject can be tested without a registry.  Problems raise ``DocumentError`` with a
short cause; the client turns that into a ``RegistryProtocolError`` that names
the image and registry.

The registry may be hostile, so ``DocumentError`` is all that comes out,
whatever the bytes: JSON nested deeper than ``nesting.MAX_DEPTH`` is refused
before it is decoded, a manifest lists at most ``MAX_DESCRIPTORS`` layers or
entries, and every digest must be well formed with an algorithm kbuild can
verify (``sha256``, ``sha384``, ``sha512``): a digest is put into request
paths and hashed with, so ``sha999:...`` or ``sha256:../x`` is refused here
rather than sent or looked up in ``hashlib``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from builder.api.nesting import load_json
from builder.record import Record
from builder.registry import mediatypes
from builder.registry.errors import DocumentError, InvalidReferenceError
from builder.registry.reference import ImageReference, validate_digest

MAX_DESCRIPTORS = 1000
"""Most layers of an image manifest, or entries of a manifest list, accepted."""


class Descriptor(Record):
    """A content-addressed pointer to a blob or manifest (OCI descriptor)."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None


class Platform(Record):
    """``os/architecture[/variant]``, as in ``--platform linux/arm64/v8``."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"platform {text!r} is not os/arch[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    def _effective_variant(self) -> str | None:
        # Variants that are implied when absent, as containerd's platform matcher treats them.
        if self.variant:
            return self.variant
        return {"arm64": "v8", "arm": "v7"}.get(self.architecture)

    def matches(self, candidate: Platform) -> bool:
        """Whether a manifest list entry for ``candidate`` can run where ``self`` is wanted."""
        if (self.os, self.architecture) != (candidate.os, candidate.architecture):
            return False
        if self.variant is None:
            return True
        return self._effective_variant() == candidate._effective_variant()


class ManifestInfo(Record):
    """What a reference resolved to.

    ``digest`` is always the single-platform image manifest's.  When the
    reference named a manifest list (or OCI index), ``list_digest`` is the
    list's and ``platform`` the entry picked from it; ``top_digest`` is then
    what the tag points at, the value a ``buildah push --digestfile`` reports
    for a multi-arch push.
    """

    reference: ImageReference
    digest: str
    media_type: str
    size: int
    config: Descriptor
    layers: tuple[Descriptor, ...]
    list_digest: str | None = None
    list_media_type: str | None = None
    platform: Platform | None = None

    @property
    def top_digest(self) -> str:
        return self.list_digest or self.digest

    @property
    def pinned(self) -> ImageReference:
        """The reference pinned to the platform manifest, usable to pull exactly this image."""
        return self.reference.with_digest(self.digest)


def compute_digest(body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def load_json_object(body: bytes, what: str) -> Mapping[str, object]:
    try:
        document = load_json(body, what=what)
    except ValueError as err:
        raise DocumentError(f"{what} is not valid JSON ({err})") from None
    if not isinstance(document, dict):
        raise DocumentError(f"{what} is not a JSON object")
    return document


def detect_media_type(document: Mapping[str, object], content_type: str | None) -> str:
    """The manifest's media type: its own field, else the header, else its shape.

    Some registries send ``application/json`` or ``text/plain``; OCI
    manifests may omit ``mediaType``.  The body is what we parse, so it wins.
    """
    declared = document.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    header = (content_type or "").split(";")[0].strip()
    if header in mediatypes.IMAGE_MANIFESTS | mediatypes.MANIFEST_LISTS:
        return header
    if document.get("schemaVersion") == 1:
        return mediatypes.DOCKER_MANIFEST_SCHEMA1
    if "manifests" in document:
        return mediatypes.OCI_INDEX
    if "config" in document and "layers" in document:
        return mediatypes.OCI_MANIFEST
    raise DocumentError(f"cannot tell what kind of manifest this is (Content-Type {header!r})")


def _descriptor(raw: object, what: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise DocumentError(f"{what} is not a descriptor object")
    media_type = raw.get("mediaType")
    digest = raw.get("digest")
    size = raw.get("size")
    if not isinstance(digest, str) or ":" not in digest:
        raise DocumentError(f"{what} has no valid digest")
    try:
        validate_digest(digest)
    except InvalidReferenceError as err:
        raise DocumentError(f"{what}: {err.problem}") from None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise DocumentError(f"{what} has no valid size")
    platform = None
    raw_platform = raw.get("platform")
    if isinstance(raw_platform, dict):
        os_name = raw_platform.get("os")
        arch = raw_platform.get("architecture")
        variant = raw_platform.get("variant")
        if isinstance(os_name, str) and isinstance(arch, str):
            platform = Platform(os_name, arch, variant if isinstance(variant, str) else None)
    return Descriptor(media_type if isinstance(media_type, str) else "", digest, size, platform)


def parse_image_manifest(
    document: Mapping[str, object],
) -> tuple[Descriptor, tuple[Descriptor, ...]]:
    """The config and layer descriptors of a schema2 or OCI image manifest."""
    config = _descriptor(document.get("config"), "manifest config")
    raw_layers = document.get("layers")
    if not isinstance(raw_layers, list):
        raise DocumentError("manifest has no layers list")
    if len(raw_layers) > MAX_DESCRIPTORS:
        raise DocumentError(f"manifest has {len(raw_layers)} layers, more than {MAX_DESCRIPTORS}")
    layers = tuple(_descriptor(layer, f"layer {i}") for i, layer in enumerate(raw_layers))
    return config, layers


def parse_manifest_list(document: Mapping[str, object]) -> tuple[Descriptor, ...]:
    raw = document.get("manifests")
    if not isinstance(raw, list):
        raise DocumentError("manifest list has no manifests array")
    if len(raw) > MAX_DESCRIPTORS:
        raise DocumentError(f"manifest list has {len(raw)} entries, more than {MAX_DESCRIPTORS}")
    return tuple(_descriptor(entry, f"manifest list entry {i}") for i, entry in enumerate(raw))


def select_platform(entries: tuple[Descriptor, ...], wanted: Platform) -> Descriptor | None:
    """The first entry for ``wanted``; an exact variant match beats an implied one."""
    candidates = [e for e in entries if e.platform is not None and wanted.matches(e.platform)]
    for entry in candidates:
        if entry.platform is not None and entry.platform.variant == wanted.variant:
            return entry
    return candidates[0] if candidates else None


def available_platforms(entries: tuple[Descriptor, ...]) -> list[str]:
    return sorted({str(e.platform) for e in entries if e.platform is not None})
