"""Read-only registry client: resolve a reference, read its config, test existence.

The build pipeline needs three answers from a registry without pulling an
image: which digest a tag points at (to pin the builder and to check what a
push produced), the builder image's labels and USER (to render the S2I
Dockerfile), and whether an image exists.  All three are a manifest GET or
HEAD and at most one blob GET over the distribution API, so we speak it
directly instead of shelling out to skopeo.

Digests are checked, not trusted: we hash every manifest and blob we read and
compare with what was asked for and with ``Docker-Content-Digest``, so a
resolved digest is one the content really has.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import IO, TypeVar
from urllib.parse import urlsplit

from builder.api.nesting import load_json
from builder.registry import mediatypes
from builder.registry.errors import (
    ImageNotFound,
    InvalidReferenceError,
    PlatformNotFound,
    RegistryError,
    RegistryProtocolError,
    RegistryUnreachable,
)
from builder.registry.image_config import ImageConfig, parse_image_config
from builder.registry.manifest import (
    ManifestInfo,
    Platform,
    available_platforms,
    compute_digest,
    detect_media_type,
    load_json_object,
    parse_image_manifest,
    parse_manifest_list,
    select_platform,
)
from builder.registry.reference import ImageReference
from builder.registry.transport import (
    CredentialLookup,
    Fetched,
    InsecureSpec,
    Timeout,
    Transport,
    api_host,
    insecure_policy,
)

_T = TypeVar("_T")

DEFAULT_PLATFORM = "linux/amd64"
# distribution refuses manifests over 4 MiB; configs are small but unbounded in principle.
MAX_MANIFEST_BYTES = 4 << 20
MAX_CONFIG_BYTES = 16 << 20
# A layer being copied (referencePolicy Local) goes to a temporary file, never memory.
MAX_BLOB_BYTES = 64 << 30


def _error_codes(body: bytes) -> list[str]:
    """The ``errors[].code`` values of a distribution error body, if it has one."""
    try:
        document = load_json(body, what="error body")
    except ValueError:
        return []
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return []
    return [str(e.get("code")) for e in errors if isinstance(e, dict) and e.get("code")]


class RegistryClient:
    """Reads manifests and image configs over the OCI distribution API.

    ``credentials`` is anything with ``lookup(registry, repository)``, such
    as ``CredentialStore.from_secret_dir(...)``.  ``insecure`` lists hosts
    (``host`` or ``host:port``) or is a predicate; those are reached over
    HTTPS without verification, falling back to plain HTTP.  Loopback hosts
    are insecure unless ``insecure_loopback=False``.  ``ca_bundle`` is a PEM
    file trusted for secure hosts.  Use one client per thread.
    """

    def __init__(
        self,
        credentials: CredentialLookup | None = None,
        insecure: InsecureSpec = None,
        timeout: Timeout = 30.0,
        *,
        insecure_loopback: bool = True,
        ca_bundle: str | None = None,
    ) -> None:
        self._settings = (credentials, insecure, timeout, insecure_loopback, ca_bundle)
        self._transport = Transport(
            credentials=credentials,
            insecure=insecure_policy(insecure, loopback=insecure_loopback),
            timeout=timeout,
            ca_bundle=ca_bundle,
        )
        self._ahead: dict[tuple[str, str], _ReadAhead] = {}

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public API --------------------------------------------------------

    def resolve(
        self, ref: ImageReference | str, platform: str | Platform = DEFAULT_PLATFORM
    ) -> ManifestInfo:
        """The image manifest ``ref`` names for ``platform``.

        A manifest list or OCI index is followed to the entry for
        ``platform``; its own digest is kept as ``list_digest``.
        """
        ref = _as_reference(ref)
        wanted = platform if isinstance(platform, Platform) else Platform.parse(platform)
        fetched, digest, media_type = self._get_manifest(ref, ref.manifest_reference)
        document = self._json(ref, fetched.body, "manifest")

        if media_type in mediatypes.MANIFEST_LISTS:
            entries = self._guard(ref, lambda: parse_manifest_list(document))
            entry = select_platform(entries, wanted)
            if entry is None:
                have = ", ".join(available_platforms(entries)) or "none"
                raise PlatformNotFound(
                    f"image {ref} on {ref.registry} has no {wanted} variant (has: {have})",
                    ref,
                )
            child, child_digest, child_type = self._get_manifest(ref, entry.digest)
            if child_type not in mediatypes.IMAGE_MANIFESTS:
                raise RegistryProtocolError(
                    f"manifest list {ref} on {ref.registry} points for {wanted} at a "
                    f"{child_type or 'unknown'} manifest, not an image manifest",
                    ref,
                )
            child_document = self._json(ref, child.body, "manifest")
            config, layers = self._guard(ref, lambda: parse_image_manifest(child_document))
            return ManifestInfo(
                reference=ref,
                digest=child_digest,
                media_type=child_type,
                size=len(child.body),
                config=config,
                layers=layers,
                list_digest=digest,
                list_media_type=media_type,
                platform=entry.platform,
            )

        if media_type not in mediatypes.IMAGE_MANIFESTS:
            raise self._unsupported(ref, media_type)
        config, layers = self._guard(ref, lambda: parse_image_manifest(document))
        return ManifestInfo(
            reference=ref,
            digest=digest,
            media_type=media_type,
            size=len(fetched.body),
            config=config,
            layers=layers,
        )

    def read_ahead(
        self, ref: ImageReference | str, platform: str | Platform = DEFAULT_PLATFORM
    ) -> None:
        """Start reading ``ref``'s config in the background; ``image_config`` takes it.

        For a caller that knows it will ask soon and has other waiting to do
        first (``kbuild build`` reads the builder's config while git fetches).
        The read runs on a client of its own, with this one's settings, since
        a client's connections are not shared across threads.  The next
        ``image_config`` of the same reference and platform waits for it and
        returns its result or raises its error, once; a later call reads the
        registry again, so a moved tag is never answered from memory.
        """
        try:
            key = (str(_as_reference(ref)), str(platform))
        except InvalidReferenceError:
            return  # image_config says what is wrong with it, where it is asked
        if key in self._ahead:
            return
        credentials, insecure, timeout, loopback, ca_bundle = self._settings
        other = RegistryClient(
            credentials, insecure, timeout, insecure_loopback=loopback, ca_bundle=ca_bundle
        )
        self._ahead[key] = _ReadAhead(lambda: other.image_config(ref, platform), other.close)

    def image_config(
        self, ref: ImageReference | str, platform: str | Platform = DEFAULT_PLATFORM
    ) -> ImageConfig:
        """Labels, USER, env and the rest of the image's config, for ``platform``."""
        if self._ahead:
            ahead = self._ahead.pop((str(_as_reference(ref)), str(platform)), None)
            if ahead is not None:
                return ahead.result()
        info = self.resolve(ref, platform)
        ref = info.reference
        blob = self._get_blob(ref, info.config.digest)
        document = self._json(ref, blob, "image config")
        return self._guard(
            ref,
            lambda: parse_image_config(
                document,
                manifest_digest=info.digest,
                config_digest=info.config.digest,
                list_digest=info.list_digest,
            ),
        )

    def list_tags(self, ref: ImageReference | str, limit: int = 1000) -> list[str]:
        """The repository's tags (at most ``limit``), following the registry's pagination.

        The registry is untrusted: pagination stops after ``MAX_TAG_PAGES``
        pages, at a page that brings nothing new, at a link already followed,
        and a ``Link`` to another host is refused (it would send our
        credentials there).
        """
        ref = _as_reference(ref)
        tags: list[str] = []
        seen_tags: set[str] = set()
        path: str | None = f"/v2/{ref.repository}/tags/list?n={min(limit, 1000)}"
        followed: set[str] = set()
        while path and len(tags) < limit and len(followed) < MAX_TAG_PAGES:
            followed.add(path)
            fetched = self._transport.request(ref, "GET", path, max_bytes=MAX_MANIFEST_BYTES)
            if fetched.status != 200:
                raise self._status_error(ref, fetched, "tag list")
            document = self._json(ref, fetched.body, "tag list")
            page = document.get("tags") or []
            if not isinstance(page, list):
                raise RegistryProtocolError(
                    f"registry {ref.registry} sent a tag list without a list of tags", ref
                )
            if not all(isinstance(t, str) for t in page):
                raise RegistryProtocolError(
                    f"registry {ref.registry} sent a tag list with tags that are not strings",
                    ref,
                )
            new = [t for t in page if t not in seen_tags]
            seen_tags.update(new)
            tags.extend(new)
            if not new:
                break  # an empty or repeated page that still says "next": a loop
            path = next_page(ref, fetched.headers.get("Link", ""))
            if path in followed:
                break
        return tags[:limit]

    # -- copying (image streams' referencePolicy Local) -----------------------

    def copy(
        self, source: ImageReference | str, destination: ImageReference | str, tag: str = ""
    ) -> str:
        """Copy the image ``source`` names into ``destination``'s repository, digest unchanged.

        Manifests are copied byte for byte (a manifest list with every entry),
        so the image keeps its digest and ``<destination>@<digest>`` pulls the
        same image.  Blobs the destination already has are skipped; within one
        registry they are mounted rather than sent; otherwise each goes
        through a temporary file (spilling to disk past 16 MiB), never whole
        into memory.  The copy is stored by digest, and also under ``tag`` if
        one is given (a tag in ``destination`` itself is ignored).  Returns the digest.
        """
        src, dst = _as_reference(source), _as_reference(destination)
        fetched, digest, media_type = self._get_manifest(src, src.manifest_reference)
        document = self._json(src, fetched.body, "manifest")
        if media_type in mediatypes.MANIFEST_LISTS:
            for entry in self._guard(src, lambda: parse_manifest_list(document)):
                self.copy(src.with_digest(entry.digest), dst)
        else:
            config, layers = self._guard(src, lambda: parse_image_manifest(document))
            for blob in (config, *layers):
                self._copy_blob(src, dst, blob.digest)
        for identifier in (digest, tag) if tag else (digest,):
            done = self._transport.request(
                dst, "PUT", f"/v2/{dst.repository}/manifests/{identifier}", max_bytes=0,
                push=True, data=fetched.body, content_type=media_type,
            )  # fmt: skip
            if done.status != 201:
                raise self._status_error(dst, done, "manifest", identifier)
        return digest

    def _copy_blob(self, src: ImageReference, dst: ImageReference, digest: str) -> None:
        if self._has_blob(dst, digest):
            return
        uploads = f"/v2/{dst.repository}/blobs/uploads/"
        if src.registry == dst.registry:
            mounted = self._transport.request(
                dst, "POST", f"{uploads}?mount={digest}&from={src.repository}", max_bytes=0,
                push=True,
            )  # fmt: skip
            if mounted.status == 201:
                return
        with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
            fetched = self._transport.request(
                src, "GET", f"/v2/{src.repository}/blobs/{digest}", max_bytes=MAX_BLOB_BYTES,
                sink=spool,
            )  # fmt: skip
            if fetched.status != 200:
                raise self._status_error(src, fetched, f"blob {digest}")
            spool.seek(0)
            hasher = hashlib.new(digest.partition(":")[0] or "sha256")
            for chunk in iter(lambda: spool.read(1 << 20), b""):
                hasher.update(chunk)
            if f"{digest.partition(':')[0]}:{hasher.hexdigest()}" != digest:
                raise RegistryProtocolError(
                    f"registry {src.registry} served blob {digest} with other content", src
                )
            spool.seek(0)
            self._upload_blob(dst, digest, spool)

    # -- writing: small artifacts (binary build sources) ----------------------

    def push_blob(self, ref: ImageReference | str, data: bytes) -> str:
        """Upload ``data`` as a blob of ``ref``'s repository (monolithic upload)."""
        ref = _as_reference(ref)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if not self._has_blob(ref, digest):
            self._upload_blob(ref, digest, data)
        return digest

    def _has_blob(self, ref: ImageReference, digest: str) -> bool:
        path = f"/v2/{ref.repository}/blobs/{digest}"
        return self._transport.request(ref, "HEAD", path, max_bytes=0, push=True).status == 200

    def _upload_blob(self, ref: ImageReference, digest: str, data: bytes | IO[bytes]) -> None:
        """A monolithic upload: POST for a session, one PUT with the whole blob."""
        started = self._transport.request(
            ref, "POST", f"/v2/{ref.repository}/blobs/uploads/", max_bytes=0, push=True
        )
        location = started.headers.get("Location", "")
        if started.status != 202 or not location:
            raise self._status_error(ref, started, "blob upload")
        separator = "&" if "?" in location else "?"
        done = self._transport.request(
            ref, "PUT", f"{location}{separator}digest={digest}", max_bytes=0, push=True,
            data=data, content_type="application/octet-stream",
        )  # fmt: skip
        if done.status != 201:
            raise self._status_error(ref, done, "blob upload")

    def push_manifest(self, ref: ImageReference | str, body: bytes, media_type: str) -> str:
        """Put a manifest under ``ref``'s tag (or digest); returns its digest."""
        ref = _as_reference(ref)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        done = self._transport.request(
            ref, "PUT", f"/v2/{ref.repository}/manifests/{ref.tag or digest}", max_bytes=0,
            push=True, data=body, content_type=media_type,
        )  # fmt: skip
        if done.status != 201:
            raise self._status_error(ref, done, "manifest", ref.tag or digest)
        return digest

    def blob(self, ref: ImageReference | str, digest: str, max_bytes: int) -> bytes:
        """A blob of ``ref``'s repository, checked against its digest."""
        ref = _as_reference(ref)
        fetched = self._transport.request(
            ref, "GET", f"/v2/{ref.repository}/blobs/{digest}", max_bytes=max_bytes
        )
        if fetched.status != 200:
            raise self._status_error(ref, fetched, f"blob {digest}")
        self._check_digest(ref, fetched.body, digest, None)
        return fetched.body

    def exists(self, ref: ImageReference | str) -> bool:
        """Whether the tag or digest exists; auth and connection failures still raise."""
        ref = _as_reference(ref)
        fetched = self._transport.request(
            ref,
            "HEAD",
            f"/v2/{ref.repository}/manifests/{ref.manifest_reference}",
            accept=mediatypes.MANIFEST_ACCEPT,
            max_bytes=0,
        )
        if fetched.status == 200:
            return True
        if fetched.status == 404:
            return False
        raise self._status_error(ref, fetched, "manifest")

    # -- internals ---------------------------------------------------------

    def _get_manifest(self, ref: ImageReference, identifier: str) -> tuple[Fetched, str, str]:
        fetched = self._transport.request(
            ref,
            "GET",
            f"/v2/{ref.repository}/manifests/{identifier}",
            accept=mediatypes.MANIFEST_ACCEPT,
            max_bytes=MAX_MANIFEST_BYTES,
        )
        if fetched.status != 200:
            raise self._status_error(ref, fetched, "manifest", identifier)
        digest = self._check_digest(
            ref,
            fetched.body,
            identifier if ":" in identifier else None,
            fetched.headers.get("Docker-Content-Digest"),
        )
        document = self._json(ref, fetched.body, "manifest")
        media_type = self._guard(
            ref, lambda: detect_media_type(document, fetched.headers.get("Content-Type"))
        )
        if media_type in mediatypes.SCHEMA1_MANIFESTS:
            raise self._unsupported(ref, media_type)
        return fetched, digest, media_type

    def _get_blob(self, ref: ImageReference, digest: str) -> bytes:
        fetched = self._transport.request(
            ref,
            "GET",
            f"/v2/{ref.repository}/blobs/{digest}",
            max_bytes=MAX_CONFIG_BYTES,
        )
        if fetched.status != 200:
            raise self._status_error(ref, fetched, f"config blob {digest}")
        self._check_digest(ref, fetched.body, digest, None)
        return fetched.body

    @staticmethod
    def _check_digest(
        ref: ImageReference, body: bytes, expected: str | None, header: str | None
    ) -> str:
        """The body's digest, refusing content that does not hash to what was promised."""
        algorithm = expected.partition(":")[0] if expected else "sha256"
        if algorithm not in ("sha256", "sha384", "sha512"):
            algorithm = "sha256"
        actual = compute_digest(body, algorithm)
        if expected is not None and actual != expected:
            raise RegistryProtocolError(
                f"registry {ref.registry} served content for {expected} that hashes to "
                f"{actual} ({ref})",
                ref,
            )
        if header and header.partition(":")[0] == algorithm and header != actual:
            raise RegistryProtocolError(
                f"registry {ref.registry} says {ref} is {header} but its content hashes "
                f"to {actual}",
                ref,
            )
        return actual

    @staticmethod
    def _json(ref: ImageReference, body: bytes, what: str) -> Mapping[str, object]:
        return RegistryClient._guard(ref, lambda: load_json_object(body, what))

    @staticmethod
    def _guard(ref: ImageReference, parse: Callable[[], _T]) -> _T:
        try:
            return parse()
        except ValueError as err:
            raise RegistryProtocolError(
                f"registry {ref.registry} sent unusable data for {ref}: {err}",
                ref,
            ) from None

    @staticmethod
    def _unsupported(ref: ImageReference, media_type: str) -> RegistryProtocolError:
        if media_type in mediatypes.SCHEMA1_MANIFESTS:
            hint = "Docker schema 1 manifests are not supported; push the image again"
        else:
            hint = f"unsupported manifest type {media_type!r}"
        return RegistryProtocolError(f"image {ref} on {ref.registry}: {hint}", ref)

    def _repository_exists(self, ref: ImageReference) -> bool:
        """Tell "no such repository" from "no such tag" for the error message.

        distribution answers MANIFEST_UNKNOWN for both on a manifest GET, but
        NAME_UNKNOWN on the tag list of a repository it has never seen.  Only
        called on the error path; any trouble here means "assume it exists".
        """
        try:
            fetched = self._transport.request(
                ref, "GET", f"/v2/{ref.repository}/tags/list?n=1", max_bytes=64 << 10
            )
        except RegistryError:
            return True
        return not (fetched.status == 404 and "NAME_UNKNOWN" in _error_codes(fetched.body))

    def _status_error(
        self, ref: ImageReference, fetched: Fetched, what: str, identifier: str | None = None
    ) -> RegistryError:
        codes = _error_codes(fetched.body)
        if fetched.status == 404:
            if "NAME_UNKNOWN" in codes or not self._repository_exists(ref):
                cause = f"repository {ref.repository} does not exist"
            elif what == "manifest":
                cause = f"no manifest for {identifier or ref.manifest_reference}"
            else:
                cause = f"{what} is missing"
            return ImageNotFound(f"image {ref} not found on {ref.registry}: {cause}", ref)
        suffix = f" ({', '.join(codes)})" if codes else ""
        if fetched.status in (502, 503, 504):
            return RegistryUnreachable(
                f"registry {ref.registry} is unavailable (HTTP {fetched.status}) for {ref}",
                ref,
            )
        return RegistryProtocolError(
            f"registry {ref.registry} answered HTTP {fetched.status} for the {what} of "
            f"{ref}{suffix}",
            ref,
        )


_LINK = re.compile(r"<([^<>]*)>\s*((?:;\s*[^;,]*)*)")
_REL_NEXT = re.compile(r';\s*rel\s*=\s*"?next"?\s*(?:;|$)', re.IGNORECASE)


class _ReadAhead:
    """One ``image_config`` read on a thread of its own, for ``RegistryClient.read_ahead``."""

    def __init__(self, read: Callable[[], ImageConfig], close: Callable[[], None]) -> None:
        self._read, self._close = read, close
        self._outcome: ImageConfig | BaseException | None = None
        # A daemon: a build that fails before it needs the answer exits
        # without waiting for it.
        self._thread = threading.Thread(target=self._run, name="registry-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = self._read()
        except BaseException as err:  # handed to the reader as it is
            self._outcome = err
        finally:
            self._close()

    def result(self) -> ImageConfig:
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        if self._outcome is None:  # pragma: no cover - _run always sets it
            raise RuntimeError("registry read-ahead ended without an outcome")
        return self._outcome


def next_page(ref: ImageReference, link: str) -> str | None:
    """The path of the next tag-list page a ``Link`` header (RFC 8288) names, if any.

    ``Link: </v2/REPO/tags/list?n=..&last=..>; rel="next"``.  The target is
    followed only if it stays on the registry's own host and the same
    repository's tag list: the request carries that registry's credentials,
    and a link to another host or path would hand them over.  Anything else
    is a ``RegistryProtocolError``.
    """
    for match in _LINK.finditer(link):
        target, params = match.groups()
        if not _REL_NEXT.search(params):
            continue
        try:
            parts = urlsplit(target)
        except ValueError:  # e.g. an unclosed [IPv6 literal
            parts = urlsplit("invalid://invalid")
        same_host = not parts.netloc or parts.netloc.lower() == api_host(ref.registry).lower()
        expected = f"/v2/{ref.repository}/tags/list"
        if not same_host or parts.path != expected or parts.fragment:
            raise RegistryProtocolError(
                f"registry {ref.registry} sent a tag list whose next page is not its own "
                f"({target[:100]!r}) for {ref}",
                ref,
            )
        return f"{parts.path}?{parts.query}" if parts.query else parts.path
    return None


def _as_reference(ref: ImageReference | str) -> ImageReference:
    return ref if isinstance(ref, ImageReference) else ImageReference.parse(ref)


# A repository import reads at most this many pages of tags.
MAX_TAG_PAGES = 100
