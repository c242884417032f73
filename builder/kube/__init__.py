"""builder.kube: the only package that talks to the Kubernetes API server."""

from builder.kube.client import CustomResources, Kube, Unreachable, WatchEvent
from builder.kube.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    KubeError,
    NotFound,
)
from builder.kube.resources import (
    BUILD_CONFIGS,
    BUILDS,
    CORE_RESOURCES,
    CRON_JOBS,
    DAEMON_SETS,
    DEPLOYMENTS,
    IMAGE_STREAMS,
    JOBS,
    SERVICES,
    STATEFUL_SETS,
    WORKLOADS,
    CoreResource,
    CustomResource,
)

__all__ = [
    "BUILDS",
    "BUILD_CONFIGS",
    "CORE_RESOURCES",
    "CRON_JOBS",
    "DAEMON_SETS",
    "DEPLOYMENTS",
    "IMAGE_STREAMS",
    "JOBS",
    "SERVICES",
    "STATEFUL_SETS",
    "WORKLOADS",
    "AlreadyExists",
    "Conflict",
    "CoreResource",
    "CustomResource",
    "CustomResources",
    "Forbidden",
    "Gone",
    "Invalid",
    "Kube",
    "KubeError",
    "NotFound",
    "Unreachable",
    "WatchEvent",
]
