"""``build.openshift.io/v1``: BuildConfig, Build and BuildRequest.

Field names, JSON names and optionality follow openshift/api ``build/v1``.
Attributes are the snake_case of the JSON name (``from`` is ``from_``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from builder.api.base import AlwaysDump, KubeModel, Time, Unimplemented
from builder.api.constants import BUILD_API_VERSION
from builder.api.core import (
    ConditionStatus,
    ConfigMapVolumeSource,
    CSIVolumeSource,
    EnvVar,
    LocalObjectReference,
    ObjectMeta,
    ObjectReference,
    ResourceRequirements,
    SecretVolumeSource,
)

# ---------------------------------------------------------------------------
# Enumerations


class BuildSourceType(StrEnum):
    """Kind of build input."""

    GIT = "Git"
    DOCKERFILE = "Dockerfile"
    BINARY = "Binary"
    IMAGE = "Image"
    NONE = "None"


class BuildStrategyType(StrEnum):
    """Way of performing a build."""

    DOCKER = "Docker"
    SOURCE = "Source"
    CUSTOM = "Custom"
    JENKINS_PIPELINE = "JenkinsPipeline"


class ImageOptimizationPolicy(StrEnum):
    """Layer optimisations a Docker strategy build may apply."""

    NONE = "None"
    SKIP_LAYERS = "SkipLayers"
    SKIP_LAYERS_AND_WARN = "SkipLayersAndWarn"


class BuildVolumeSourceType(StrEnum):
    """Kind of volume mounted into a build."""

    SECRET = "Secret"  # noqa: S105 (a kind name, no secret)
    CONFIG_MAP = "ConfigMap"
    CSI = "CSI"


class BuildRunPolicy(StrEnum):
    """How builds of one BuildConfig are scheduled."""

    PARALLEL = "Parallel"
    SERIAL = "Serial"
    SERIAL_LATEST_ONLY = "SerialLatestOnly"


class BuildTriggerType(StrEnum):
    """Kind of build trigger; the lowercase spellings are OpenShift's deprecated forms."""

    GITHUB = "GitHub"
    GITHUB_DEPRECATED = "github"
    GENERIC = "Generic"
    GENERIC_DEPRECATED = "generic"
    GITLAB = "GitLab"
    BITBUCKET = "Bitbucket"
    IMAGE_CHANGE = "ImageChange"
    IMAGE_CHANGE_DEPRECATED = "imageChange"
    CONFIG_CHANGE = "ConfigChange"


class BuildPhase(StrEnum):
    """Point in a build's lifecycle."""

    NEW = "New"
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETE = "Complete"
    FAILED = "Failed"
    ERROR = "Error"
    CANCELLED = "Cancelled"


class StageName(StrEnum):
    """OpenShift's build stage names (``StageInfo.name`` is a plain string)."""

    FETCH_INPUTS = "FetchInputs"
    PULL_IMAGES = "PullImages"
    BUILD = "Build"
    POST_COMMIT = "PostCommit"
    PUSH_IMAGE = "PushImage"


class StepName(StrEnum):
    """OpenShift's build step names (``StepInfo.name`` is a plain string)."""

    EXEC_POST_COMMIT_HOOK = "RunPostCommitHook"
    FETCH_GIT_SOURCE = "FetchGitSource"
    PULL_BASE_IMAGE = "PullBaseImage"
    PULL_INPUT_IMAGE = "PullInputImage"
    PUSH_IMAGE = "PushImage"
    PUSH_DOCKER_IMAGE = "PushDockerImage"
    DOCKER_BUILD = "DockerBuild"


# ---------------------------------------------------------------------------
# Source


class BinaryBuildSource(KubeModel):
    """Binary input uploaded when the build is started."""

    as_file: StrictStr = ""
    """Place the upload as this single file instead of extracting it as an archive."""


class GitBuildSource(KubeModel):
    """A Git repository to build from."""

    uri: StrictStr
    """Repository URL."""
    ref: StrictStr = ""
    """Branch, tag or other ref; the remote default branch when empty."""
    http_proxy: StrictStr | None = None
    """Proxy used to reach the repository over http."""
    https_proxy: StrictStr | None = None
    """Proxy used to reach the repository over https."""
    no_proxy: StrictStr | None = None
    """Domains for which the proxy is not used."""


class ImageSourcePath(KubeModel):
    """A path copied from a source image into the build context."""

    source_path: StrictStr
    """Absolute path in the image."""
    destination_dir: StrictStr
    """Relative directory in the build context."""


class ImageSource(KubeModel):
    """Content taken from another image."""

    from_: ObjectReference
    """ImageStreamTag, ImageStreamImage or DockerImage to copy from."""
    as_: Annotated[
        list[StrictStr] | None,
        Unimplemented(
            "replacing the FROM and COPY --from names of a multi-stage Dockerfile with an "
            "image source (source.images[].as) is not implemented; use paths"
        ),
    ] = None
    """Image names this source replaces in a multi-stage Dockerfile."""
    paths: list[ImageSourcePath] | None = None
    """Paths to copy into the build context."""
    pull_secret: LocalObjectReference | None = None
    """Secret for pulling the image."""


class SecretBuildSource(KubeModel):
    """A secret copied into the build context for the build only."""

    secret: LocalObjectReference
    """The secret."""
    destination_dir: StrictStr = ""
    """Directory, relative to the context, the files go to."""


class ConfigMapBuildSource(KubeModel):
    """A configmap copied into the build context for the build only."""

    config_map: LocalObjectReference
    """The configmap."""
    destination_dir: StrictStr = ""
    """Directory, relative to the context, the files go to."""


class BuildSource(KubeModel):
    """The input of a build."""

    type: BuildSourceType | None = None
    """Kind of input; derived from the fields set when omitted."""
    binary: BinaryBuildSource | None = None
    """Binary input given when the build is started."""
    dockerfile: StrictStr | None = None
    """Raw Dockerfile content; replaces any Dockerfile in the context dir."""
    git: GitBuildSource | None = None
    """Git repository."""
    images: list[ImageSource] = Field(default_factory=list)
    """Images to take content from."""
    context_dir: StrictStr = ""
    """Sub-directory of the source to build."""
    source_secret: LocalObjectReference | None = None
    """Secret with credentials for fetching the source."""
    secrets: list[SecretBuildSource] = Field(default_factory=list)
    """Secrets available during the build only."""
    config_maps: list[ConfigMapBuildSource] = Field(default_factory=list)
    """Configmaps available during the build only."""

    @model_validator(mode="after")
    def _default_binary(self) -> BuildSource:
        """OpenShift's defaulting: ``type: Binary`` alone means ``binary: {}``."""
        if self.type == BuildSourceType.BINARY and self.binary is None:
            self.binary = BinaryBuildSource()
        return self


class SourceControlUser(KubeModel):
    """Identity of a source control user."""

    name: StrictStr = ""
    """Name."""
    email: StrictStr = ""
    """Email address."""


class GitSourceRevision(KubeModel):
    """A Git commit."""

    commit: StrictStr = ""
    """Commit hash."""
    author: SourceControlUser = Field(default_factory=SourceControlUser)
    """Author of the commit."""
    committer: SourceControlUser = Field(default_factory=SourceControlUser)
    """Committer of the commit."""
    message: StrictStr = ""
    """Commit message."""


class SourceRevision(KubeModel):
    """The revision of the source a build used."""

    type: BuildSourceType
    """Kind of source."""
    git: GitSourceRevision | None = None
    """Git commit details."""


# ---------------------------------------------------------------------------
# Strategy


class BuildVolumeMount(KubeModel):
    """Where a build volume is mounted."""

    destination_path: StrictStr
    """Absolute path in the build's runtime environment."""


class BuildVolumeSource(KubeModel):
    """Source of a build volume."""

    type: BuildVolumeSourceType
    """Kind of source: Secret, ConfigMap or CSI."""
    secret: SecretVolumeSource | None = None
    """Secret volume."""
    config_map: ConfigMapVolumeSource | None = None
    """ConfigMap volume."""
    csi: CSIVolumeSource | None = None
    """CSI ephemeral volume."""


class BuildVolume(KubeModel):
    """A volume mounted into the build's runtime environment."""

    name: StrictStr
    """Unique name of the volume."""
    source: BuildVolumeSource
    """Where the volume content comes from."""
    mounts: list[BuildVolumeMount]
    """Mount points."""


class SecretSpec(KubeModel):
    """A secret mounted into a custom build pod."""

    secret_source: LocalObjectReference
    """The secret."""
    mount_path: StrictStr
    """Mount path."""


class SourceBuildStrategy(KubeModel):
    """Source-to-image build parameters."""

    from_: ObjectReference
    """Builder image: DockerImage, ImageStreamTag or ImageStreamImage."""
    pull_secret: LocalObjectReference | None = None
    """Secret for pulling the builder image."""
    env: list[EnvVar] = Field(default_factory=list)
    """Environment for the assemble step."""
    scripts: StrictStr = ""
    """URL of the S2I scripts, overriding the image's."""
    incremental: StrictBool | None = None
    """Reuse artifacts (save-artifacts) of the previous output image."""
    force_pull: StrictBool = False
    """Always pull the builder image."""
    volumes: list[BuildVolume] = Field(default_factory=list)
    """Volumes mounted read-only into the build's RUN steps."""

    @model_validator(mode="after")
    def _default_kind(self) -> SourceBuildStrategy:
        """OpenShift's defaulting: a ``from`` with no kind is an ImageStreamTag."""
        if not self.from_.kind:
            self.from_.kind = "ImageStreamTag"
        return self


class DockerBuildStrategy(KubeModel):
    """Dockerfile build parameters."""

    from_: ObjectReference | None = None
    """Image that replaces the last FROM of the Dockerfile."""
    pull_secret: LocalObjectReference | None = None
    """Secret for pulling base images."""
    no_cache: StrictBool = False
    """Build without the layer cache."""
    env: list[EnvVar] = Field(default_factory=list)
    """Environment added to the Dockerfile."""
    force_pull: StrictBool = False
    """Always pull base images."""
    dockerfile_path: StrictStr = ""
    """Path of the Dockerfile relative to the context dir; ``Dockerfile`` when empty."""
    build_args: list[EnvVar] = Field(default_factory=list)
    """Build arguments (only name and value are used)."""
    image_optimization_policy: ImageOptimizationPolicy | None = None
    """Layer optimisation policy: ``SkipLayers`` (and ``SkipLayersAndWarn``, the
    same under buildah) commits the Dockerfile's new layers as one."""
    volumes: list[BuildVolume] = Field(default_factory=list)
    """Volumes mounted read-only into the build's RUN steps."""

    @model_validator(mode="after")
    def _default_kind(self) -> DockerBuildStrategy:
        """OpenShift's defaulting: a ``from`` with no kind is an ImageStreamTag."""
        if self.from_ is not None and not self.from_.kind:
            self.from_.kind = "ImageStreamTag"
        return self


class CustomBuildStrategy(KubeModel):
    """Custom builder image parameters."""

    from_: ObjectReference
    """The custom builder image."""
    pull_secret: LocalObjectReference | None = None
    """Secret for pulling the builder image."""
    env: list[EnvVar] = Field(default_factory=list)
    """Environment of the builder container."""
    expose_docker_socket: StrictBool = False
    """Expose the node's container engine socket."""
    force_pull: StrictBool = False
    """Always pull the builder image."""
    secrets: list[SecretSpec] = Field(default_factory=list)
    """Secrets mounted into the build pod."""
    build_api_version: StrictStr = Field(default="", alias="buildAPIVersion")
    """API version of the Build object passed to the builder."""

    @model_validator(mode="after")
    def _default_kind(self) -> CustomBuildStrategy:
        """OpenShift's defaulting: a ``from`` with no kind is an ImageStreamTag."""
        if not self.from_.kind:
            self.from_.kind = "ImageStreamTag"
        return self


class JenkinsPipelineBuildStrategy(KubeModel):
    """Jenkins pipeline parameters (deprecated in OpenShift)."""

    jenkinsfile_path: StrictStr = ""
    """Path of the Jenkinsfile relative to the context dir."""
    jenkinsfile: StrictStr = ""
    """Inline Jenkinsfile."""
    env: list[EnvVar] = Field(default_factory=list)
    """Environment of the pipeline."""


class BuildStrategy(KubeModel):
    """How to build: exactly one strategy is set."""

    type: BuildStrategyType | None = None
    """Kind of strategy; derived from the strategy set when omitted."""
    docker_strategy: DockerBuildStrategy | None = None
    """Dockerfile build."""
    source_strategy: SourceBuildStrategy | None = None
    """Source-to-image build."""
    custom_strategy: CustomBuildStrategy | None = None
    """Custom builder image."""
    jenkins_pipeline_strategy: Annotated[
        JenkinsPipelineBuildStrategy | None,
        Unimplemented("the JenkinsPipeline strategy is not implemented (deprecated in OpenShift)"),
    ] = None
    """Jenkins pipeline."""

    @model_validator(mode="after")
    def _default_docker(self) -> BuildStrategy:
        """OpenShift's defaulting: ``type: Docker`` alone means ``dockerStrategy: {}``.

        Nothing here refuses a strategy whose ``type`` and struct disagree:
        a model that raised would make every list of BuildConfigs fail for
        one tenant's object.  ``strategy_problem`` reports it where it is used.
        """
        if self.type == BuildStrategyType.DOCKER and self.docker_strategy is None:
            self.docker_strategy = DockerBuildStrategy()
        return self

    def strategy_problem(self) -> str:
        """Why this strategy is invalid as OpenShift validates it, or ``""``."""
        set_fields = [
            (kind, name)
            for kind, name, value in (
                (BuildStrategyType.SOURCE, "sourceStrategy", self.source_strategy),
                (BuildStrategyType.DOCKER, "dockerStrategy", self.docker_strategy),
                (BuildStrategyType.CUSTOM, "customStrategy", self.custom_strategy),
                (
                    BuildStrategyType.JENKINS_PIPELINE,
                    "jenkinsPipelineStrategy",
                    self.jenkins_pipeline_strategy,
                ),
            )
            if value is not None
        ]
        if len(set_fields) != 1:
            given = ", ".join(name for _, name in set_fields) or "none"
            return (
                "spec.strategy must set exactly one of sourceStrategy, dockerStrategy, "
                f"customStrategy or jenkinsPipelineStrategy (given: {given})"
            )
        kind, name = set_fields[0]
        if self.type is not None and self.type != kind:
            return f"spec.strategy.type is {self.type.value} but spec.strategy sets {name}"
        return ""


# ---------------------------------------------------------------------------
# Output and hooks


class ImageLabel(KubeModel):
    """A label applied to the output image."""

    name: StrictStr
    """Label name."""
    value: StrictStr = ""
    """Label value."""


class BuildOutput(KubeModel):
    """Where the built image goes."""

    to: ObjectReference | None = None
    """ImageStreamTag or DockerImage to push to; no push when unset."""
    push_secret: LocalObjectReference | None = None
    """Secret for pushing."""
    image_labels: list[ImageLabel] = Field(default_factory=list)
    """Labels applied to the output image; the last of a name wins."""


class BuildPostCommitSpec(KubeModel):
    """A command run in the output image before it is pushed."""

    command: list[StrictStr] = Field(default_factory=list)
    """Command (exec form); not with ``script``."""
    args: list[StrictStr] = Field(default_factory=list)
    """Arguments to the command, the script or the entrypoint."""
    script: StrictStr = ""
    """Shell script run with ``/bin/sh -ic``; not with ``command``."""


# ---------------------------------------------------------------------------
# Spec shared by BuildConfig and Build


class CommonSpec(KubeModel):
    """The inputs of a build, shared by BuildConfigSpec and BuildSpec."""

    service_account: StrictStr = ""
    """Service account of the build pod."""
    source: BuildSource = Field(default_factory=BuildSource)
    """The build input."""
    revision: SourceRevision | None = None
    """The source revision to build."""
    strategy: BuildStrategy
    """How to build."""
    output: BuildOutput = Field(default_factory=BuildOutput)
    """Where the image goes."""
    resources: ResourceRequirements = Field(default_factory=ResourceRequirements)
    """Resources of the build pod."""
    post_commit: BuildPostCommitSpec = Field(default_factory=BuildPostCommitSpec)
    """Hook run before the push."""
    completion_deadline_seconds: StrictInt | None = None
    """Seconds a build pod may run before it is stopped."""
    node_selector: dict[str, StrictStr] | None = None
    """Node selector of the build pod; null means the cluster default."""
    mount_trusted_ca: StrictBool | None = Field(default=None, alias="mountTrustedCA")
    """Mount the cluster's trusted certificate authorities into the build."""


# ---------------------------------------------------------------------------
# Triggers


class SecretLocalReference(KubeModel):
    """A secret in the same namespace."""

    name: StrictStr
    """Name of the secret."""


class WebHookTrigger(KubeModel):
    """A webhook that starts builds."""

    secret: StrictStr = ""
    """Secret in the webhook URL (deprecated: use secretReference)."""
    allow_env: StrictBool = False
    """Whether the payload may set environment variables (Generic only)."""
    secret_reference: SecretLocalReference | None = None
    """Secret whose key ``WebHookSecretKey`` holds the webhook secret."""


class ImageChangeTrigger(KubeModel):
    """Starts builds when an image stream tag changes."""

    last_triggered_image_id: StrictStr = Field(default="", alias="lastTriggeredImageID")
    """Deprecated: image that last triggered a build (see status.imageChangeTriggers)."""
    from_: ObjectReference | None = None
    """ImageStreamTag to watch; the strategy's image when unset."""
    paused: StrictBool = False
    """Temporarily disabled."""


class BuildTriggerPolicy(KubeModel):
    """A trigger that starts new builds."""

    type: BuildTriggerType
    """Kind of trigger."""
    github: WebHookTrigger | None = None
    """GitHub webhook."""
    generic: WebHookTrigger | None = None
    """Generic webhook."""
    image_change: ImageChangeTrigger | None = None
    """Image change."""
    gitlab: WebHookTrigger | None = None
    """GitLab webhook."""
    bitbucket: WebHookTrigger | None = None
    """Bitbucket webhook."""


class GenericWebHookCause(KubeModel):
    """A generic webhook that triggered a build."""

    revision: SourceRevision | None = None
    """Source revision from the payload."""
    secret: StrictStr = ""
    """Obfuscated webhook secret."""


class GitHubWebHookCause(KubeModel):
    """A GitHub webhook that triggered a build."""

    revision: SourceRevision | None = None
    """Source revision from the payload."""
    secret: StrictStr = ""
    """Obfuscated webhook secret."""


class CommonWebHookCause(KubeModel):
    """A webhook that triggered a build."""

    revision: SourceRevision | None = None
    """Source revision from the payload."""
    secret: StrictStr = ""
    """Obfuscated webhook secret."""


class GitLabWebHookCause(CommonWebHookCause):
    """A GitLab webhook that triggered a build."""


class BitbucketWebHookCause(CommonWebHookCause):
    """A Bitbucket webhook that triggered a build."""


class ImageChangeCause(KubeModel):
    """An image change that triggered a build."""

    image_id: StrictStr = Field(default="", alias="imageID")
    """Image that triggered the build."""
    from_ref: ObjectReference | None = None
    """The image stream tag that changed."""


class BuildTriggerCause(KubeModel):
    """Why a build was started."""

    message: StrictStr = ""
    """Human readable reason, e.g. ``Manually triggered``."""
    generic_web_hook: GenericWebHookCause | None = None
    """Generic webhook details."""
    github_web_hook: GitHubWebHookCause | None = None
    """GitHub webhook details."""
    image_change_build: ImageChangeCause | None = None
    """Image change details."""
    gitlab_web_hook: GitLabWebHookCause | None = None
    """GitLab webhook details."""
    bitbucket_web_hook: BitbucketWebHookCause | None = None
    """Bitbucket webhook details."""


# ---------------------------------------------------------------------------
# BuildConfig


class BuildConfigSpec(CommonSpec):
    """When and how builds are created."""

    triggers: list[BuildTriggerPolicy] = Field(default_factory=list)
    """Triggers that start builds; none means builds start only on request."""
    run_policy: BuildRunPolicy | None = None
    """Scheduling of builds; Serial when unset."""
    successful_builds_history_limit: StrictInt | None = None
    """Successful builds to keep."""
    failed_builds_history_limit: StrictInt | None = None
    """Failed builds to keep."""


class ImageStreamTagReference(KubeModel):
    """An image stream tag by namespace and name."""

    namespace: StrictStr = ""
    """Namespace of the tag."""
    name: StrictStr = ""
    """Name of the tag, ``stream:tag``."""


class ImageChangeTriggerStatus(KubeModel):
    """State of one image change trigger."""

    last_triggered_image_id: StrictStr = Field(default="", alias="lastTriggeredImageID")
    """Image of the tag when the last build started."""
    from_: ImageStreamTagReference = Field(default_factory=ImageStreamTagReference)
    """The image stream tag of the trigger."""
    last_trigger_time: Time | None = None
    """When this trigger last started a build."""


class BuildConfigStatus(KubeModel):
    """Observed state of a BuildConfig."""

    last_version: StrictInt = 0
    """Number of the last build created."""
    image_change_triggers: list[ImageChangeTriggerStatus] = Field(default_factory=list)
    """State of each image change trigger."""


class BuildConfig(KubeModel):
    """Defines how to build an image and when to start builds."""

    api_version: Annotated[Literal["build.openshift.io/v1"], AlwaysDump()] = BUILD_API_VERSION
    """API version."""
    kind: Annotated[Literal["BuildConfig"], AlwaysDump()] = "BuildConfig"
    """Kind."""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: BuildConfigSpec
    """Desired behaviour."""
    status: BuildConfigStatus = Field(default_factory=BuildConfigStatus)
    """Observed state."""


# ---------------------------------------------------------------------------
# Build


class BuildSpec(CommonSpec):
    """The inputs of one build."""

    triggered_by: list[BuildTriggerCause] | None = None
    """Why the build was started."""


class StepInfo(KubeModel):
    """Timing of a build step."""

    name: StrictStr = ""
    """Step name (see StepName)."""
    start_time: Time | None = None
    """When the step started."""
    duration_milliseconds: StrictInt = 0
    """How long the step took."""


class StageInfo(KubeModel):
    """Timing of a build stage."""

    name: StrictStr = ""
    """Stage name (see StageName)."""
    start_time: Time | None = None
    """When the stage started."""
    duration_milliseconds: StrictInt = 0
    """How long the stage took."""
    steps: list[StepInfo] = Field(default_factory=list)
    """Steps of the stage."""


class BuildStatusOutputTo(KubeModel):
    """The pushed image."""

    image_digest: StrictStr = ""
    """Digest of the pushed image."""


class BuildStatusOutput(KubeModel):
    """The image a build produced."""

    to: BuildStatusOutputTo | None = None
    """The pushed image."""


class BuildCondition(KubeModel):
    """A condition of a build; its type is a phase name."""

    type: StrictStr
    """Condition type."""
    status: ConditionStatus
    """True, False or Unknown."""
    last_update_time: Time | None = None
    """When the condition was last updated."""
    last_transition_time: Time | None = None
    """When the status last changed."""
    reason: StrictStr = ""
    """Machine readable reason."""
    message: StrictStr = ""
    """Human readable details."""


class BuildStatus(KubeModel):
    """Observed state of a build."""

    phase: BuildPhase = BuildPhase.NEW
    """Lifecycle phase."""
    cancelled: StrictBool = False
    """A cancel was requested."""
    reason: StrictStr = ""
    """Failure reason, a StatusReason value (builder.api.reasons)."""
    message: StrictStr = ""
    """Human readable failure message."""
    start_timestamp: Time | None = None
    """When the build pod started running."""
    completion_timestamp: Time | None = None
    """When the build finished."""
    duration: StrictInt = 0
    """Build duration in nanoseconds."""
    output_docker_image_reference: StrictStr = ""
    """Pull spec of the image the build pushes."""
    config: ObjectReference | None = None
    """The BuildConfig the build came from."""
    output: BuildStatusOutput = Field(default_factory=BuildStatusOutput)
    """The image the build produced."""
    stages: list[StageInfo] = Field(default_factory=list)
    """Timing of the build stages."""
    log_snippet: StrictStr = ""
    """Last lines of the log of a failed build."""
    conditions: list[BuildCondition] = Field(default_factory=list)
    """Latest observations of the build's state."""


class Build(KubeModel):
    """One execution of a build: its inputs and its status."""

    api_version: Annotated[Literal["build.openshift.io/v1"], AlwaysDump()] = BUILD_API_VERSION
    """API version."""
    kind: Annotated[Literal["Build"], AlwaysDump()] = "Build"
    """Kind."""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: BuildSpec
    """The inputs of the build."""
    status: BuildStatus = Field(default_factory=BuildStatus)
    """Observed state."""


# ---------------------------------------------------------------------------
# BuildRequest


class DockerStrategyOptions(KubeModel):
    """Docker strategy overrides for one build."""

    build_args: list[EnvVar] = Field(default_factory=list)
    """Build arguments."""
    no_cache: StrictBool | None = None
    """Overrides the strategy's noCache."""


class SourceStrategyOptions(KubeModel):
    """Source strategy overrides for one build."""

    incremental: StrictBool | None = None
    """Overrides the strategy's incremental."""


class BuildRequest(KubeModel):
    """Parameters for starting a build from a BuildConfig (``instantiate``)."""

    api_version: Annotated[Literal["build.openshift.io/v1"], AlwaysDump()] = BUILD_API_VERSION
    """API version."""
    kind: Annotated[Literal["BuildRequest"], AlwaysDump()] = "BuildRequest"
    """Kind."""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Name of the BuildConfig."""
    revision: SourceRevision | None = None
    """Source revision to build."""
    triggered_by_image: ObjectReference | None = None
    """Image that triggered the build."""
    from_: ObjectReference | None = None
    """ImageStreamTag that triggered the build."""
    binary: BinaryBuildSource | None = None
    """Binary input."""
    last_version: StrictInt | None = None
    """Expected BuildConfig lastVersion."""
    env: list[EnvVar] = Field(default_factory=list)
    """Extra environment for the build."""
    triggered_by: list[BuildTriggerCause] = Field(default_factory=list)
    """Why the build is started."""
    docker_strategy_options: DockerStrategyOptions | None = None
    """Docker strategy overrides."""
    source_strategy_options: SourceStrategyOptions | None = None
    """Source strategy overrides."""
