"""The fetch step: put the build's source in the workspace.

Apart from the other steps so that it loads little (the source package, not
the registry client, buildah or the renderer): ``kbuild build`` starts a git
fetch on a thread (``start_fetch``) while the rest of the pipeline's code is
still being imported, which is most of the fetch's time on a local clone.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from builder.api import BuildError, StatusReason
from builder.pipeline.plan import BinaryInput, BuildPlan
from builder.pipeline.stages import StageRecorder
from builder.pipeline.workspace import Workspace
from builder.source.confined import write_inside
from builder.source.contextdir import resolve_context_dir
from builder.source.git import fetch_git
from builder.source.info import SourceInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from builder.registry import RegistryClient

    LogFn = Callable[[str], None]


def _fetch_binary(
    binary: BinaryInput, ws: Workspace, registry: RegistryClient | None, log: LogFn
) -> SourceInfo:
    as_file = binary.as_file
    path = binary.path
    if binary.artifact:
        # Only an uploaded input needs it (and, through it, the registry client).
        from builder.pipeline.binary_source import InputKind, download  # noqa: PLC0415

        if registry is None:
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED, "an uploaded build input needs a registry client"
            )
        path, kind = download(registry, binary.artifact, ws.root / "binary-input")
        log(f"Receiving source from {binary.artifact} ({kind.value} {path.name})")
        if kind == InputKind.FILE:
            as_file = as_file or path.name
    if path is None:
        raise BuildError(StatusReason.FETCH_SOURCE_FAILED, "the binary build has no input")
    # Only a binary build needs the archive readers.
    from builder.source.binary import fetch_binary  # noqa: PLC0415

    return fetch_binary(path, ws.source, as_file=as_file, log=log)


def fetch(
    plan: BuildPlan,
    ws: Workspace,
    log: LogFn,
    stages: StageRecorder,
    registry: RegistryClient | None = None,
) -> SourceInfo:
    """Put the source in ``ws.source`` and validate ``contextDir`` against it.

    ``registry`` is needed only for uploaded binary input (``start-build --from-*``).
    """
    ws.create()
    if ws.source.exists():
        # A restarted init container starts again from a clean checkout.
        shutil.rmtree(ws.source)
    src = plan.source
    with stages.stage("FetchInputs", "FetchGitSource" if src.git else "FetchBinarySource"):
        if src.git is not None:
            info = fetch_git(
                src.git.uri,
                src.git.ref,
                ws.source,
                secret_dir=src.secret_dir,
                http_proxy=src.git.http_proxy,
                https_proxy=src.git.https_proxy,
                no_proxy=src.git.no_proxy,
                log=log,
            )
        elif src.binary is not None:
            info = _fetch_binary(src.binary, ws, registry, log)
        elif src.dockerfile is not None:
            ws.source.mkdir(parents=True)
            info = SourceInfo(uri="", ref="")
        else:
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED,
                "the build has no source: give a git URI, binary input or an inline Dockerfile",
            )
    resolve_context_dir(ws.source, src.context_dir)
    if src.dockerfile is not None:
        # OpenShift: an inline Dockerfile replaces any Dockerfile in contextDir,
        # a committed link named Dockerfile included (never written through).
        write_inside(
            ws.source,
            posixpath.join(src.context_dir, "Dockerfile"),
            src.dockerfile.encode(),
            what="the inline Dockerfile's place",
            reason=StatusReason.MANAGE_DOCKERFILE_FAILED,
        )
    if src.context_dir:
        info = SourceInfo(**{**asdict(info), "context_dir": src.context_dir})
    ws.source_info.write_text(json.dumps(asdict(info)))
    return info


def load_source_info(ws: Workspace) -> SourceInfo:
    return SourceInfo(**json.loads(ws.source_info.read_text()))


class StartedFetch:
    """A git fetch running on a thread of its own, into a workspace it made.

    ``run_build`` takes it over (the workspace, the stage timings, the
    result or the error).  Only a git source starts early: it needs no
    registry, and it is the one whose time is spent waiting on git.
    """

    def __init__(self, plan: BuildPlan, log: LogFn) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kbuild-"))
        self.ws = Workspace(self.root).create()
        self.stages = StageRecorder()
        self._outcome: SourceInfo | BaseException | None = None
        # A daemon: an interrupted build does not wait for git to finish.
        self._thread = threading.Thread(
            target=self._run, args=(plan, log), name="fetch", daemon=True
        )
        self._thread.start()

    def _run(self, plan: BuildPlan, log: LogFn) -> None:
        try:
            self._outcome = fetch(plan, self.ws, log, self.stages)
        except BaseException as err:  # handed to the caller as it is
            self._outcome = err

    def result(self) -> SourceInfo:
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        if self._outcome is None:  # pragma: no cover - _run always sets it
            raise RuntimeError("the source fetch ended without an outcome")
        return self._outcome

    def discard(self) -> None:
        """Remove the workspace, once the fetch is over (a build that never ran)."""
        self._thread.join()
        shutil.rmtree(self.root, ignore_errors=True)


def start_fetch(plan: BuildPlan, log: LogFn) -> StartedFetch | None:
    """Begin fetching a git source now; None for sources fetched in the build."""
    if plan.source.git is None:
        return None
    return StartedFetch(plan, log)
