"""builder.kube: the only package that talks to the Kubernetes API server."""

from builder.kube.client import CustomResources, Kube, Unreachable, WatchEvent
from builder.kube.errors import AlreadyExists, Conflict, Gone, Invalid, KubeError, NotFound
from builder.kube.resources import BUILD_CONFIGS, BUILDS, IMAGE_STREAMS, CustomResource

__all__ = [
    "BUILDS",
    "BUILD_CONFIGS",
    "IMAGE_STREAMS",
    "AlreadyExists",
    "Conflict",
    "CustomResource",
    "CustomResources",
    "Gone",
    "Invalid",
    "Kube",
    "KubeError",
    "NotFound",
    "Unreachable",
    "WatchEvent",
]
