"""The build pipeline: fetch source, prepare the Dockerfile, build and push.

One implementation, two runners: the build pod's containers call the steps one
at a time; ``kbuild build`` calls ``run_build``.  Which step runs in which
container follows the secrets each needs (see ``builder.pipeline.steps``).

The names below load their module when first used, not with the package:
``kbuild build`` starts fetching the source (``builder.pipeline.fetch``,
light) while the registry, buildah and rendering code is still loading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from builder.api.lazy import lazy_export

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
    "BinaryInput": "builder.pipeline.plan",
    "BuildPlan": "builder.pipeline.plan",
    "DockerStrategyPlan": "builder.pipeline.plan",
    "GitInput": "builder.pipeline.plan",
    "PostCommitPlan": "builder.pipeline.plan",
    "SourcePlan": "builder.pipeline.plan",
    "SourceStrategyPlan": "builder.pipeline.plan",
    "BuildOutcome": "builder.pipeline.run",
    "run_build": "builder.pipeline.run",
    "StageInfo": "builder.pipeline.stages",
    "StageRecorder": "builder.pipeline.stages",
    "StepInfo": "builder.pipeline.stages",
    "Output": "builder.pipeline.steps",
    "Prepared": "builder.pipeline.steps",
    "Staged": "builder.pipeline.steps",
    "build_and_push": "builder.pipeline.steps",
    "prepare": "builder.pipeline.steps",
    "render_dockerfile": "builder.pipeline.steps",
    "fetch": "builder.pipeline.fetch",
    "Workspace": "builder.pipeline.workspace",
}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, globals(), _WHERE, name)


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
