"""Reading images from registries over the OCI distribution API.

Used by the pipeline to learn a builder image's labels and USER and to verify
pushed digests, and by image stream imports.  Imports only ``builder.api``.
"""

from builder.registry.auth import Challenge, Credential, CredentialStore, parse_challenges
from builder.registry.client import DEFAULT_PLATFORM, RegistryClient
from builder.registry.errors import (
    CredentialsError,
    DocumentError,
    ImageNotFound,
    InvalidReferenceError,
    PlatformNotFound,
    RegistryError,
    RegistryProtocolError,
    RegistryUnreachable,
    Unauthorized,
)
from builder.registry.image_config import ImageConfig
from builder.registry.manifest import Descriptor, ManifestInfo, Platform
from builder.registry.reference import ImageReference
from builder.registry.transport import insecure_policy

__all__ = [
    "DEFAULT_PLATFORM",
    "Challenge",
    "Credential",
    "CredentialStore",
    "CredentialsError",
    "Descriptor",
    "DocumentError",
    "ImageConfig",
    "ImageNotFound",
    "ImageReference",
    "InvalidReferenceError",
    "ManifestInfo",
    "Platform",
    "PlatformNotFound",
    "RegistryClient",
    "RegistryError",
    "RegistryProtocolError",
    "RegistryUnreachable",
    "Unauthorized",
    "insecure_policy",
    "parse_challenges",
]
