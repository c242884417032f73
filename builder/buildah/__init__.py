"""buildah as a subprocess: build and push, streaming logs, typed failures."""

from builder.buildah.client import (
    Buildah,
    BuildahConfig,
    BuildResult,
    PushResult,
    classify_build_failure,
)
from builder.buildah.process import Completed, LogFn, run_streaming

__all__ = [
    "BuildResult",
    "Buildah",
    "BuildahConfig",
    "Completed",
    "LogFn",
    "PushResult",
    "classify_build_failure",
    "run_streaming",
]
