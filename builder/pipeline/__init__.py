"""The build pipeline: fetch source, prepare the Dockerfile, build and push.

One implementation, two runners: the build pod's containers call the steps one
at a time; ``kbuild build`` calls ``run_build``.  Which step runs in which
container follows the secrets each needs (see ``builder.pipeline.steps``).

The names below load their module when first used, not with the package:
``kbuild build`` starts fetching the source (``builder.pipeline.fetch``,
light) while the registry, buildah and rendering code is still loading.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from builder.pipeline.fetch import fetch
    from builder.pipeline.plan import (
        BinaryInput,
        BuildPlan,
        DockerStrategyPlan,
        GitInput,
        PostCommitPlan,
        SourcePlan,
        SourceStrategyPlan,
    )
    from builder.pipeline.run import BuildOutcome, run_build
    from builder.pipeline.stages import StageInfo, StageRecorder, StepInfo
    from builder.pipeline.steps import (
        Output,
        Prepared,
        Staged,
        build_and_push,
        prepare,
        render_dockerfile,
    )
    from builder.pipeline.workspace import Workspace

_WHERE = {
    "BinaryInput": "plan",
    "BuildPlan": "plan",
    "DockerStrategyPlan": "plan",
    "GitInput": "plan",
    "PostCommitPlan": "plan",
    "SourcePlan": "plan",
    "SourceStrategyPlan": "plan",
    "BuildOutcome": "run",
    "run_build": "run",
    "StageInfo": "stages",
    "StageRecorder": "stages",
    "StepInfo": "stages",
    "Output": "steps",
    "Prepared": "steps",
    "Staged": "steps",
    "build_and_push": "steps",
    "prepare": "steps",
    "render_dockerfile": "steps",
    "fetch": "fetch",
    "Workspace": "workspace",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "BinaryInput",
    "BuildOutcome",
    "BuildPlan",
    "DockerStrategyPlan",
    "GitInput",
    "Output",
    "PostCommitPlan",
    "Prepared",
    "SourcePlan",
    "SourceStrategyPlan",
    "StageInfo",
    "StageRecorder",
    "Staged",
    "StepInfo",
    "Workspace",
    "build_and_push",
    "fetch",
    "prepare",
    "render_dockerfile",
    "run_build",
]
