"""Typed failures of registry access.

Every error here is something a user can cause and fix (a typo in an image
name, a missing pull secret, a registry that is down), so each one is a
``BuildError``: the pipeline may let it propagate and the Build still ends with
a typed reason and a one-line message.  The default reason suits the most
common caller (reading the builder image); callers with a different role, such
as verifying a pushed digest, re-raise with their own reason::

    except RegistryError as err:
        raise BuildError(StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED, err.detail) from err

The class names follow the vocabulary the rest of the project uses
(``ImageNotFound``, ``Unauthorized``), hence the ``N818`` waivers.
"""

from __future__ import annotations

from typing import Protocol

from builder.api import BuildError, StatusReason


class _Reference(Protocol):
    """What an error needs of an image reference (avoids importing ``reference``)."""

    @property
    def registry(self) -> str: ...


class InvalidReferenceError(BuildError, ValueError):
    """An image reference that does not follow the docker reference grammar.

    It is a ``ValueError`` too, so code that validates user input generically
    (pydantic validators, argparse types) treats it as bad input.
    """

    def __init__(self, text: str, problem: str) -> None:
        super().__init__(
            StatusReason.INVALID_IMAGE_REFERENCE,
            f"invalid image reference {text!r}: {problem}",
        )
        self.text = text
        self.problem = problem


class DocumentError(ValueError):
    """A manifest, index or image config the registry sent that kbuild cannot use.

    The only exception the pure parsers of ``manifest`` and ``image_config``
    raise on a registry's bytes; the client wraps it in a
    ``RegistryProtocolError`` that names the image and registry.
    """


class RegistryError(BuildError):
    """Base of everything that can go wrong talking to a registry.

    ``reference`` is the image (normalised, as text) and ``registry`` the
    registry it was looked up on, or empty when no image was involved; both
    also appear in ``detail``.
    """

    default_reason = StatusReason.PULL_BUILDER_IMAGE_FAILED

    def __init__(
        self,
        detail: str,
        ref: _Reference | None = None,
        *,
        reason: StatusReason | None = None,
    ) -> None:
        super().__init__(reason or self.default_reason, detail)
        self.reference = str(ref) if ref is not None else ""
        self.registry = ref.registry if ref is not None else ""


class ImageNotFound(RegistryError):  # noqa: N818
    """The repository, tag, manifest or blob does not exist on the registry."""


class PlatformNotFound(ImageNotFound):
    """A manifest list exists but has no entry for the wanted platform."""


class Unauthorized(RegistryError):  # noqa: N818
    """The registry refused us: missing or wrong credentials, or access denied."""


class RegistryUnreachable(RegistryError):  # noqa: N818
    """No usable connection: refused, DNS failure, timeout, TLS failure, 5xx gateway."""


class RegistryProtocolError(RegistryError):
    """The registry answered, but not as the distribution spec says it should."""


class CredentialsError(RegistryError):
    """A docker config / pull secret that cannot be read or parsed."""

    default_reason = StatusReason.CANNOT_RETRIEVE_SERVICE_ACCOUNT
