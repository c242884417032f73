"""``apps.openshift.io/v1``: DeploymentConfig.

Field names, JSON names and optionality follow openshift/api
``apps/v1/types.go``.  The pod template is kept as given (the API server
validates it when the controller creates the ReplicationController of a
rollout, and says exactly what is wrong there).

What kbuild does not implement is marked ``Unimplemented`` and refused by
name when set (a DeploymentConfig that uses it is not rolled out; its
``Progressing`` condition says why): the ``Custom`` strategy, and the fields
that only configure OpenShift's deployer pod (kbuild runs the strategies in
the controller, there is no deployer pod).  Lifecycle hooks are run
(``builder.controller.dchooks``): ``execNewPod`` as a hook pod,
``tagImages`` by the controller.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr, WithJsonSchema

from builder.api.base import AlwaysDump, FreeFormObject, KubeModel, Time, Unimplemented
from builder.api.core import ConditionStatus, EnvVar, ObjectMeta, ObjectReference

APPS_GROUP: Final = "apps.openshift.io"
APPS_API_VERSION: Final = "apps.openshift.io/v1"
KIND_DEPLOYMENT_CONFIG: Final = "DeploymentConfig"
PLURAL_DEPLOYMENT_CONFIGS: Final = "deploymentconfigs"

# --- OpenShift's labels and annotations (openshift/api apps/v1 consts) --------

DEPLOYMENT_CONFIG_ANNOTATION: Final = "openshift.io/deployment-config.name"
"""On a ReplicationController (annotation and label) and its pods: the DeploymentConfig."""
DEPLOYMENT_CONFIG_LABEL: Final = "openshift.io/deployment-config.name"
DEPLOYMENT_VERSION_ANNOTATION: Final = "openshift.io/deployment-config.latest-version"
"""On a ReplicationController: the DeploymentConfig's latestVersion it deploys."""
DEPLOYMENT_PHASE_ANNOTATION: Final = "openshift.io/deployment.phase"
"""On a ReplicationController: New, Pending, Running, Complete or Failed."""
DEPLOYMENT_ENCODED_CONFIG_ANNOTATION: Final = "openshift.io/encoded-deployment-config"
"""On a ReplicationController: the DeploymentConfig (JSON) as it was deployed."""
DEPLOYMENT_STATUS_REASON_ANNOTATION: Final = "openshift.io/deployment.status-reason"
"""On a ReplicationController: why it was deployed, or why it failed."""
DEPLOYMENT_CANCELLED_ANNOTATION: Final = "openshift.io/deployment.cancelled"
"""On a ReplicationController: ``"true"`` once the rollout was cancelled."""
DEPLOYMENT_REPLICAS_ANNOTATION: Final = "openshift.io/deployment.replicas"
"""On a ReplicationController: the replicas the rollout aims at."""
DESIRED_REPLICAS_ANNOTATION: Final = "kubectl.kubernetes.io/desired-replicas"
DEPLOYMENT_NAME_ANNOTATION: Final = "openshift.io/deployment.name"
"""On a rollout's pods: the ReplicationController."""
DEPLOYMENT_LABEL: Final = "deployment"
"""On a rollout's pods (and in its selector): the ReplicationController's name."""
DEPLOYMENT_CONFIG_POD_LABEL: Final = "deploymentconfig"
"""On a rollout's pods (and in its selector): the DeploymentConfig's name."""
# kbuild's own, where OpenShift's deployer pod keeps the state in its process.
DEPLOYMENT_STARTED_ANNOTATION: Final = "apps.kbuild.io/rollout-started"
"""On a ReplicationController: when its rollout started (for ``timeoutSeconds``)."""
DEPLOYMENT_SCALED_ANNOTATION: Final = "apps.kbuild.io/last-scaled"
"""On a ReplicationController: when the rollout last scaled (for ``updatePeriodSeconds``)."""
DEPLOYMENT_LOG_ANNOTATION: Final = "apps.kbuild.io/rollout-log"
"""On a ReplicationController: the rollout's log, the lines OpenShift's deployer pod prints."""
HOOK_ANNOTATION_PREFIX: Final = "apps.kbuild.io/hook-"
"""``apps.kbuild.io/hook-pre`` etc. on a ReplicationController: the hook's outcome
(``Running``, ``Complete``, ``Failed``); ``...-pod`` the uid of the hook pod created."""
DEPLOYMENT_CANCELLED_BY_USER: Final = "cancelled by the user"
"""The status reason ``rollout cancel`` writes (OpenShift's ``DeploymentCancelledByUser``)."""
# Hook pods (OpenShift's deployer pod labels, which its hook pods carry too).
DEPLOYER_POD_FOR_LABEL: Final = "openshift.io/deployer-pod-for.name"
"""On a hook pod: the ReplicationController (rollout) it runs for."""
DEPLOYER_POD_TYPE_LABEL: Final = "openshift.io/deployer-pod.type"
"""On a hook pod: ``hook-pre``, ``hook-mid`` or ``hook-post``."""
HOOK_CONTAINER_NAME: Final = "lifecycle"
"""The one container of a hook pod, as OpenShift names it."""

DEFAULT_REVISION_HISTORY_LIMIT: Final = 10
DEFAULT_TIMEOUT_SECONDS: Final = 600
DEFAULT_PERIOD_SECONDS: Final = 1
DEFAULT_SURGE: Final = "25%"


class DeploymentPhase(StrEnum):
    """The phase of one rollout (a ReplicationController's ``deployment.phase``)."""

    NEW = "New"
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETE = "Complete"
    FAILED = "Failed"


class DeploymentStrategyType(StrEnum):
    RECREATE = "Recreate"
    ROLLING = "Rolling"
    CUSTOM = "Custom"


class DeploymentTriggerType(StrEnum):
    IMAGE_CHANGE = "ImageChange"
    CONFIG_CHANGE = "ConfigChange"


class DeploymentConditionType(StrEnum):
    AVAILABLE = "Available"
    PROGRESSING = "Progressing"
    REPLICA_FAILURE = "ReplicaFailure"


class DeploymentReason(StrEnum):
    """The reasons of the ``Progressing`` condition (OpenShift's, then kbuild's own)."""

    NEW_RC_CREATED = "NewReplicationControllerCreated"
    RC_CREATE_ERROR = "ReplicationControllerCreateError"
    RC_UPDATED = "ReplicationControllerUpdated"
    NEW_RC_AVAILABLE = "NewReplicationControllerAvailable"
    TIMED_OUT = "ProgressDeadlineExceeded"
    PAUSED = "DeploymentConfigPaused"
    CANCELLED = "RolloutCancelled"
    # kbuild: the DeploymentConfig uses what kbuild does not implement, or is invalid.
    UNSUPPORTED = "UnsupportedField"
    INVALID = "InvalidDeploymentConfig"


_PERCENT = re.compile(r"[0-9]{1,9}%\Z", re.ASCII)


def _int_or_percent(value: int | str) -> int | str:
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"must not be negative, got {value}")
        return value
    if not _PERCENT.match(value):
        raise ValueError(f"must be an integer or a percentage such as '25%', got {value[:40]!r}")
    return value


IntOrPercent = Annotated[
    StrictInt | StrictStr,
    AfterValidator(_int_or_percent),
    WithJsonSchema({"x-kubernetes-int-or-string": True}),
]
"""``intstr.IntOrString`` as the rolling parameters use it: ``5`` or ``"25%"``."""

_NO_DEPLOYER = "kbuild runs the strategies in the controller, there is no deployer pod"


class LifecycleHookFailurePolicy(StrEnum):
    ABORT = "Abort"
    """A failed hook fails the rollout."""
    RETRY = "Retry"
    """The hook pod is restarted until it succeeds (``restartPolicy: OnFailure``)."""
    IGNORE = "Ignore"
    """A failed hook is logged and the rollout goes on."""


class ExecNewPodHook(KubeModel):
    command: list[StrictStr] = Field(default_factory=list)
    """The hook pod's command (required)."""
    env: list[EnvVar] = Field(default_factory=list)
    """Added to (and overriding) the base container's environment."""
    container_name: StrictStr = ""
    """The template's container whose image, env, mounts and resources the hook pod uses."""
    volumes: list[StrictStr] = Field(default_factory=list)
    """Volumes of the pod template the hook pod mounts (as the base container does)."""


class TagImageHook(KubeModel):
    container_name: StrictStr = ""
    """The template's container whose image is tagged."""
    to: ObjectReference = Field(default_factory=ObjectReference)
    """The ImageStreamTag ``NAME:TAG`` that gets the image (``namespace`` optional)."""


class LifecycleHook(KubeModel):
    """A deployment lifecycle action: a hook pod (``execNewPod``) or tags (``tagImages``)."""

    failure_policy: LifecycleHookFailurePolicy | None = None
    exec_new_pod: ExecNewPodHook | None = None
    tag_images: list[TagImageHook] = Field(default_factory=list)


Hook = LifecycleHook | None


class CustomDeploymentStrategyParams(KubeModel):
    image: StrictStr = ""
    environment: list[EnvVar] = Field(default_factory=list)
    command: list[StrictStr] = Field(default_factory=list)


class RecreateDeploymentStrategyParams(KubeModel):
    timeout_seconds: StrictInt | None = None
    """How long the rollout may take before it fails (default 600)."""
    pre: Hook = None
    mid: Hook = None
    post: Hook = None


class RollingDeploymentStrategyParams(KubeModel):
    update_period_seconds: StrictInt | None = None
    """Least time between two scaling steps (default 1)."""
    interval_seconds: StrictInt | None = None
    """Time between two looks at the rollout's progress (default 1)."""
    timeout_seconds: StrictInt | None = None
    """How long the rollout may take before it fails (default 600)."""
    max_unavailable: IntOrPercent | None = None
    """Pods that may be unavailable during the rollout, of ``replicas`` (default 25%)."""
    max_surge: IntOrPercent | None = None
    """Pods that may run above ``replicas`` during the rollout (default 25%)."""
    pre: Hook = None
    post: Hook = None


class DeploymentStrategy(KubeModel):
    type: DeploymentStrategyType | None = None
    """Recreate or Rolling (the default); Custom is refused."""
    custom_params: Annotated[
        CustomDeploymentStrategyParams | None,
        Unimplemented("the Custom deployment strategy (a deployer image) is not implemented"),
    ] = None
    recreate_params: RecreateDeploymentStrategyParams | None = None
    rolling_params: RollingDeploymentStrategyParams | None = None
    resources: Annotated[FreeFormObject, Unimplemented(_NO_DEPLOYER)] = Field(default_factory=dict)
    labels: Annotated[dict[str, StrictStr], Unimplemented(_NO_DEPLOYER)] = Field(
        default_factory=dict
    )
    annotations: Annotated[dict[str, StrictStr], Unimplemented(_NO_DEPLOYER)] = Field(
        default_factory=dict
    )
    active_deadline_seconds: Annotated[
        StrictInt | None, Unimplemented(f"{_NO_DEPLOYER}; use timeoutSeconds")
    ] = None


class DeploymentTriggerImageChangeParams(KubeModel):
    automatic: StrictBool = False
    """Put a new image of the tag into the template (and so roll out)."""
    container_names: list[StrictStr] = Field(default_factory=list)
    """The containers (or init containers) whose image follows the tag."""
    from_: ObjectReference = Field(default_factory=ObjectReference)
    """The ImageStreamTag followed (``namespace`` defaults to the DeploymentConfig's)."""
    last_triggered_image: StrictStr = ""
    """The pull spec last put into the template."""


class DeploymentTriggerPolicy(KubeModel):
    type: DeploymentTriggerType | None = None
    image_change_params: DeploymentTriggerImageChangeParams | None = None


class DeploymentConfigSpec(KubeModel):
    strategy: DeploymentStrategy = Field(default_factory=DeploymentStrategy)
    min_ready_seconds: StrictInt = 0
    """Seconds a new pod must be ready to count as available."""
    triggers: list[DeploymentTriggerPolicy] | None = None
    """What starts a rollout; ``null`` means a ConfigChange trigger, ``[]`` none."""
    replicas: StrictInt = 0
    revision_history_limit: StrictInt | None = None
    """Old ReplicationControllers kept for rollbacks (default 10)."""
    test: StrictBool = False
    """Scale to zero once each rollout completes."""
    paused: StrictBool = False
    """No new rollouts (from triggers or changes) while set."""
    selector: dict[str, StrictStr] = Field(default_factory=dict)
    """Labels of the pods; defaults to the template's labels."""
    template: FreeFormObject | None = None
    """The pod template (``PodTemplateSpec``)."""


class DeploymentCauseImageTrigger(KubeModel):
    from_: ObjectReference = Field(default_factory=ObjectReference)


class DeploymentCause(KubeModel):
    type: StrictStr
    """ConfigChange, ImageChange, or Manual (``rollout latest``)."""
    image_trigger: DeploymentCauseImageTrigger | None = None


class DeploymentDetails(KubeModel):
    message: StrictStr = ""
    causes: list[DeploymentCause] = Field(default_factory=list)


class DeploymentCondition(KubeModel):
    type: StrictStr
    status: ConditionStatus
    last_update_time: Time | None = None
    last_transition_time: Time | None = None
    reason: StrictStr = ""
    message: StrictStr = ""


class DeploymentConfigStatus(KubeModel):
    latest_version: StrictInt = 0
    observed_generation: StrictInt = 0
    replicas: StrictInt = 0
    updated_replicas: StrictInt = 0
    available_replicas: StrictInt = 0
    unavailable_replicas: StrictInt = 0
    details: DeploymentDetails | None = None
    conditions: list[DeploymentCondition] = Field(default_factory=list)
    ready_replicas: StrictInt = 0


class DeploymentConfig(KubeModel):
    """A pod template rolled out as one ReplicationController per version."""

    api_version: Annotated[Literal["apps.openshift.io/v1"], AlwaysDump()] = APPS_API_VERSION
    kind: Annotated[Literal["DeploymentConfig"], AlwaysDump()] = "DeploymentConfig"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: DeploymentConfigSpec = Field(default_factory=DeploymentConfigSpec)
    status: DeploymentConfigStatus = Field(default_factory=DeploymentConfigStatus)


def condition(dc: DeploymentConfig, kind: str) -> DeploymentCondition | None:
    return next((c for c in dc.status.conditions if c.type == kind), None)


def trigger_policies(dc: DeploymentConfig) -> list[DeploymentTriggerPolicy]:
    """The triggers as OpenShift defaults them: ``null`` is one ConfigChange trigger."""
    if dc.spec.triggers is None:
        return [DeploymentTriggerPolicy(type=DeploymentTriggerType.CONFIG_CHANGE)]
    return list(dc.spec.triggers)


def rc_name(dc_name: str, version: int) -> str:
    return f"{dc_name}-{version}"


def template_dict(dc: DeploymentConfig) -> dict[str, Any]:
    return dict(dc.spec.template or {})


__all__ = [
    "APPS_API_VERSION",
    "DeploymentCause",
    "DeploymentCondition",
    "DeploymentConfig",
    "DeploymentConfigSpec",
    "DeploymentConfigStatus",
    "DeploymentDetails",
    "DeploymentPhase",
    "DeploymentReason",
    "DeploymentStrategyType",
    "DeploymentTriggerImageChangeParams",
    "DeploymentTriggerPolicy",
    "DeploymentTriggerType",
    "LifecycleHook",
    "LifecycleHookFailurePolicy",
    "condition",
    "rc_name",
    "trigger_policies",
]
