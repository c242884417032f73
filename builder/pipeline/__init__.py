"""The build pipeline: fetch source, prepare the Dockerfile, build and push.

One implementation, two runners: the build pod's containers call the steps one
at a time; ``kbuild build`` calls ``run_build``.  Which step runs in which
container follows the secrets each needs (see ``builder.pipeline.steps``).
"""

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
    fetch,
    prepare,
    render_dockerfile,
)
from builder.pipeline.workspace import Workspace

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
