"""Run all steps in one process: the local one-shot build (``kbuild build``).

The build pod runs the same step functions, split over its containers by the
secrets each needs (``builder.pipeline.steps``); this runner only chains them
and owns the temporary workspace.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.buildah import Buildah, LogFn
from builder.pipeline.fetch import StartedFetch, fetch
from builder.pipeline.plan import BuildPlan, SourceStrategyPlan
from builder.pipeline.stages import StageInfo, StageRecorder
from builder.pipeline.steps import (
    Output,
    Prepared,
    build_and_push,
    prepare,
    render_dockerfile,
)
from builder.pipeline.workspace import Workspace
from builder.record import Record
from builder.registry import RegistryClient
from builder.source import SourceInfo


class BuildOutcome(Record):
    source: SourceInfo
    prepared: Prepared
    output: Output | None
    stages: list[StageInfo]


def dockerfile_target(path: Path | str) -> Path:
    """Where ``--as-dockerfile PATH`` writes: ``PATH/Dockerfile`` for a directory, as s2i does.

    A path ending in ``/`` names a directory whether or not it exists yet
    (s2i appends ``Dockerfile`` to it); so does an existing directory.
    """
    text = str(path)
    target = Path(text)
    if text.endswith(("/", os.sep)) or target.is_dir():
        return target / "Dockerfile"
    return target


def _export_dockerfile(plan: BuildPlan, prepared: Prepared, target: Path) -> None:
    """Write what ``buildah bud`` would get, so it can be built by hand.

    For S2I builds the whole context (``upload/``) goes next to the Dockerfile,
    as ``s2i build --as-dockerfile`` does; a Docker-strategy Dockerfile refers
    to the source tree, which stays where it is, so only the file is written.
    A place that cannot be written is ``ManageDockerfileFailed`` naming it.
    """
    target = target.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(plan.strategy, SourceStrategyPlan):
            upload = target.parent / "upload"
            if upload.exists():
                raise BuildError(
                    StatusReason.MANAGE_DOCKERFILE_FAILED,
                    f"{upload} already exists; choose an empty directory for --as-dockerfile",
                )
            shutil.copytree(Path(prepared.context) / "upload", upload, symlinks=True)
        shutil.copyfile(prepared.dockerfile, target)
    except OSError as err:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED,
            f"cannot write --as-dockerfile {target}: {err.strerror or err}",
        ) from err


def _read_ahead(plan: BuildPlan, registry: RegistryClient) -> None:
    """Start, while git fetches, what the render step needs and the source does not decide.

    The builder's (or the Docker strategy's ``from``) config from the
    registry: a round trip the build otherwise waits for after the clone.
    Only this one-process runner can: in a pod, fetch and render are
    containers with different secrets.  A failure surfaces where render
    asks, unchanged.
    """
    strategy = plan.strategy
    if isinstance(strategy, SourceStrategyPlan):
        registry.read_ahead(strategy.builder_image)
    elif strategy.from_image:
        registry.read_ahead(strategy.from_image)


def run_build(
    plan: BuildPlan,
    *,
    registry: RegistryClient,
    buildah: Buildah,
    log: LogFn,
    workdir: Path | None = None,
    as_dockerfile: Path | str | None = None,
    started: StartedFetch | None = None,
) -> BuildOutcome:
    """Every step in this process; ``started``: the fetch ``start_fetch`` began (its workspace)."""
    if started is not None:
        stages, owned, root, ws = started.stages, True, started.root, started.ws
    else:
        stages = StageRecorder()
        owned = workdir is None
        root = Path(tempfile.mkdtemp(prefix="kbuild-")) if workdir is None else workdir
        ws = Workspace(root).create()
    try:
        _read_ahead(plan, registry)
        info = started.result() if started is not None else fetch(plan, ws, log, stages, registry)
        staged = prepare(plan, ws=ws, log=log)
        prepared = render_dockerfile(
            plan, ws=ws, info=info, staged=staged, registry=registry, log=log, stages=stages
        )
        if as_dockerfile is not None:
            target = dockerfile_target(as_dockerfile)
            _export_dockerfile(plan, prepared, target)
            log(f"Wrote {target}")
            return BuildOutcome(info, prepared, None, stages.stages)
        output = build_and_push(plan, prepared, buildah, log, stages, scratch=ws.root)
        return BuildOutcome(info, prepared, output, stages.stages)
    finally:
        if started is not None:
            started.discard()
        elif owned:
            shutil.rmtree(root, ignore_errors=True)
