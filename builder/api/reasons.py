"""Typed build failure reasons, shared by every layer.

OpenShift reports a failed Build as ``status.reason`` (a machine-readable
StatusReason) plus ``status.message`` (a fixed human sentence).  Users script
against the reason, so we keep OpenShift's exact strings; our own failures that
OpenShift has no name for reuse the nearest OpenShift reason and put the
detail in the message instead of inventing new reason strings that tooling
written for OpenShift would not recognise.

``BuildError`` is the single exception type the pipeline layers raise for
anything a user can cause.  Everything else escaping a layer is a bug.
"""

from __future__ import annotations

from enum import StrEnum


class StatusReason(StrEnum):
    """``build.openshift.io/v1`` StatusReason values (openshift/api build/v1)."""

    ERROR = "Error"
    CANNOT_CREATE_BUILD_POD_SPEC = "CannotCreateBuildPodSpec"
    CANNOT_CREATE_BUILD_POD = "CannotCreateBuildPod"
    INVALID_OUTPUT_REFERENCE = "InvalidOutputReference"
    INVALID_IMAGE_REFERENCE = "InvalidImageReference"
    CANCEL_BUILD_FAILED = "CancelBuildFailed"
    BUILD_POD_DELETED = "BuildPodDeleted"
    EXCEEDED_RETRY_TIMEOUT = "ExceededRetryTimeout"
    MISSING_PUSH_SECRET = "MissingPushSecret"  # noqa: S105 - a reason name, not a secret
    POST_COMMIT_HOOK_FAILED = "PostCommitHookFailed"
    PUSH_IMAGE_TO_REGISTRY_FAILED = "PushImageToRegistryFailed"
    PULL_BUILDER_IMAGE_FAILED = "PullBuilderImageFailed"
    FETCH_SOURCE_FAILED = "FetchSourceFailed"
    FETCH_IMAGE_CONTENT_FAILED = "FetchImageContentFailed"
    MANAGE_DOCKERFILE_FAILED = "ManageDockerfileFailed"
    INVALID_CONTEXT_DIRECTORY = "InvalidContextDirectory"
    CANCELLED_BUILD = "CancelledBuild"
    DOCKER_BUILD_FAILED = "DockerBuildFailed"
    BUILD_POD_EXISTS = "BuildPodExists"
    NO_BUILD_CONTAINER_STATUS = "NoBuildContainerStatus"
    FAILED_CONTAINER = "FailedContainer"
    UNRESOLVABLE_ENVIRONMENT_VARIABLE = "UnresolvableEnvironmentVariable"
    GENERIC_BUILD_FAILED = "GenericBuildFailed"
    OUT_OF_MEMORY_KILLED = "OutOfMemoryKilled"
    CANNOT_RETRIEVE_SERVICE_ACCOUNT = "CannotRetrieveServiceAccount"
    BUILD_POD_EVICTED = "BuildPodEvicted"


# OpenShift's fixed status messages, keyed by reason.  The Build's
# ``status.message`` uses these; the specific cause goes to the log and to the
# one-line CLI error.
STATUS_MESSAGES: dict[StatusReason, str] = {
    StatusReason.ERROR: "The build failed.",
    StatusReason.CANNOT_CREATE_BUILD_POD_SPEC: "Failed to create pod spec.",
    StatusReason.CANNOT_CREATE_BUILD_POD: "Failed creating build pod.",
    StatusReason.INVALID_OUTPUT_REFERENCE: "Output image could not be resolved.",
    StatusReason.INVALID_IMAGE_REFERENCE: "Referenced image could not be resolved.",
    StatusReason.CANCEL_BUILD_FAILED: "Failed to cancel build.",
    StatusReason.BUILD_POD_DELETED: (
        "The pod for this build was deleted before the build completed."
    ),
    StatusReason.EXCEEDED_RETRY_TIMEOUT: "Build did not complete and retrying timed out.",
    StatusReason.MISSING_PUSH_SECRET: "Missing push secret.",
    StatusReason.POST_COMMIT_HOOK_FAILED: "Build failed because of post commit hook.",
    StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED: "Failed to push the image to the registry.",
    StatusReason.PULL_BUILDER_IMAGE_FAILED: "Failed pulling builder image.",
    StatusReason.FETCH_SOURCE_FAILED: "Failed to fetch the input source.",
    StatusReason.FETCH_IMAGE_CONTENT_FAILED: "Failed to extract image content.",
    StatusReason.MANAGE_DOCKERFILE_FAILED: "Failed to manage Dockerfile.",
    StatusReason.INVALID_CONTEXT_DIRECTORY: "The supplied context directory does not exist.",
    StatusReason.CANCELLED_BUILD: "The build was cancelled by the user.",
    StatusReason.DOCKER_BUILD_FAILED: "Docker build strategy has failed.",
    StatusReason.BUILD_POD_EXISTS: (
        "The pod for this build already exists and is older than the build."
    ),
    StatusReason.NO_BUILD_CONTAINER_STATUS: "The pod for this build has no container statuses.",
    StatusReason.FAILED_CONTAINER: (
        "The pod for this build has at least one container with a non-zero exit status."
    ),
    StatusReason.UNRESOLVABLE_ENVIRONMENT_VARIABLE: (
        "Unable to resolve build environment variable reference."
    ),
    StatusReason.GENERIC_BUILD_FAILED: "Generic Build failure - check logs for details.",
    StatusReason.OUT_OF_MEMORY_KILLED: (
        "The build pod was killed due to an out of memory condition."
    ),
    StatusReason.CANNOT_RETRIEVE_SERVICE_ACCOUNT: (
        "Unable to look up the service account secrets for this build."
    ),
    StatusReason.BUILD_POD_EVICTED: "The build pod was evicted.",
}


class BuildError(Exception):
    """A failure the user can cause and fix, carrying its OpenShift reason.

    ``detail`` is the specific, one-line cause ("git ref 'nope' not found in
    https://..."); it is what ``kbuild build`` prints and what the build log ends
    with.  ``str()`` gives ``Reason: detail`` so a bare ``print(err)`` is useful.
    """

    def __init__(self, reason: StatusReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail

    @property
    def message(self) -> str:
        """The fixed OpenShift message for this reason, for ``status.message``."""
        return STATUS_MESSAGES[self.reason]
