"""API groups, kinds, resources, and OpenShift's well-known labels and annotations.

Values are OpenShift's (openshift/api ``build/v1/consts.go`` and the image
trigger annotation), so tooling written for OpenShift finds what it expects.
"""

from __future__ import annotations

from typing import Final

# --- groups and versions ----------------------------------------------------

BUILD_GROUP: Final = "build.openshift.io"
IMAGE_GROUP: Final = "image.openshift.io"
VERSION: Final = "v1"
BUILD_API_VERSION: Final = "build.openshift.io/v1"
IMAGE_API_VERSION: Final = "image.openshift.io/v1"
LEGACY_API_VERSION: Final = "v1"
"""OpenShift 3's ungrouped apiVersion; kbuild serves only the group form."""

# --- kinds and resources ----------------------------------------------------

KIND_BUILD_CONFIG: Final = "BuildConfig"
KIND_BUILD: Final = "Build"
KIND_BUILD_REQUEST: Final = "BuildRequest"
KIND_IMAGE_STREAM: Final = "ImageStream"
KIND_IMAGE_STREAM_TAG: Final = "ImageStreamTag"
KIND_IMAGE_STREAM_IMAGE: Final = "ImageStreamImage"
KIND_DOCKER_IMAGE: Final = "DockerImage"

PLURAL_BUILD_CONFIGS: Final = "buildconfigs"
PLURAL_BUILDS: Final = "builds"
PLURAL_IMAGE_STREAMS: Final = "imagestreams"

# --- annotations ------------------------------------------------------------

BUILD_CONFIG_ANNOTATION: Final = "openshift.io/build-config.name"
"""On a Build: the BuildConfig it was created from."""
BUILD_NUMBER_ANNOTATION: Final = "openshift.io/build.number"
"""On a Build: its sequence number within the BuildConfig."""
BUILD_ANNOTATION: Final = "openshift.io/build.name"
"""On a build pod: the Build it runs."""
BUILD_POD_NAME_ANNOTATION: Final = "openshift.io/build.pod-name"
"""On a Build: the name of its pod."""
BUILD_CLONE_ANNOTATION: Final = "openshift.io/build.clone-of"
"""On a Build: the build it was cloned from."""
BUILD_CONFIG_PAUSED_ANNOTATION: Final = "openshift.io/build-config.paused"
"""On a BuildConfig: ``"true"`` stops new builds from being started."""
# A prefix of annotation names, no secret:
_SECRET_MATCH_PREFIX = "build.openshift.io/source-secret-match-uri-"  # noqa: S105
BUILD_SOURCE_SECRET_MATCH_URI_ANNOTATION_PREFIX: Final = _SECRET_MATCH_PREFIX
"""Prefix of Secret annotations naming source URIs the secret applies to."""
IMAGE_TRIGGERS_ANNOTATION: Final = "image.openshift.io/triggers"
"""On workloads: JSON list of image stream tag triggers."""
DOCKER_REPOSITORY_CHECK_ANNOTATION: Final = "openshift.io/image.dockerRepositoryCheck"
"""On an ImageStream: when its tags were last imported from their registries."""
INSECURE_REPOSITORY_ANNOTATION: Final = "openshift.io/image.insecureRepository"
"""On an ImageStream: ``"true"`` lets spec.dockerImageRepository come from an insecure registry."""
IMPORTER_PREFER_OS_ANNOTATION: Final = "importer.image.openshift.io/prefer-os"
"""On a spec tag: the OS whose entry an import takes from a manifest list (default linux)."""
IMPORTER_PREFER_ARCH_ANNOTATION: Final = "importer.image.openshift.io/prefer-arch"
"""On a spec tag: the architecture whose entry an import takes from a manifest list (amd64)."""
GENERATED_BY_ANNOTATION: Final = "openshift.io/generated-by"
"""On objects ``new-app``/``new-build`` create: ``OpenShiftNewApp`` / ``OpenShiftNewBuild``."""

# kbuild's own annotations, where OpenShift keeps the state in its API server.
OBSERVED_TAGS_ANNOTATION: Final = "image.kbuild.io/observed-tags"
"""On an ImageStream: each spec tag's source as the controller last saw it.

OpenShift's API server gives a spec tag a new ``generation`` when its
``from`` changes; a CRD has no such hook, so the controller compares the
spec with this record and assigns the generation itself."""
REPOSITORY_IMPORT_ERROR_ANNOTATION: Final = "image.kbuild.io/repository-import-error"
"""On an ImageStream: why importing spec.dockerImageRepository failed (``Reason: message``).

OpenShift answers a repository import synchronously; here the controller
leaves the failure where ``kbuild import-image --all`` (and people) read it,
and removes it once an import succeeds."""
IMPORT_INTERVAL_ANNOTATION: Final = "image.kbuild.io/import-interval"
"""On an ImageStream, or in a spec tag's ``annotations``: how often its
scheduled tags are re-imported (``90s``, ``5m``, ``1h``), overriding the
controller's ``--scheduled-import-interval``; never below its minimum."""

POD_UID_ANNOTATION: Final = "build.kbuild.io/pod-uid"
"""On a Build: the uid of the pod the controller created for it.  Only that
pod's report moves a tag: anyone who may create pods could make one with the
Build's name and owner reference."""

# --- labels -----------------------------------------------------------------

BUILD_CONFIG_LABEL: Final = "openshift.io/build-config.name"
"""On a Build: the BuildConfig name (may be truncated to the label length)."""
BUILD_CONFIG_LABEL_DEPRECATED: Final = "buildconfig"
"""Older spelling of BUILD_CONFIG_LABEL, still set for compatibility."""
BUILD_LABEL: Final = "openshift.io/build.name"
"""On a build pod: the Build name (may be truncated)."""
BUILD_RUN_POLICY_LABEL: Final = "openshift.io/build.start-policy"
"""On a Build: the run policy it was started with."""

# --- keys and environment ---------------------------------------------------

WEBHOOK_SECRET_KEY: Final = "WebHookSecretKey"  # noqa: S105 (a key name, no secret)
"""Key of the webhook secret in a Secret named by ``secretReference``."""
CUSTOM_BUILD_STRATEGY_BASE_IMAGE_KEY: Final = "OPENSHIFT_CUSTOM_BUILD_BASE_IMAGE"
ALLOWED_BUILD_ENV_NAMES: Final = (
    "BUILD_LOGLEVEL",
    "GIT_SSL_NO_VERIFY",
    "LANG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
"""Environment variables OpenShift passes from the build into S2I containers."""
