"""The fetch step: put the build's source in the workspace.

Apart from the other steps so that it loads little (the source package, not
the registry client, buildah or the renderer): ``kbuild build`` starts a git
fetch in a child process (``start_fetch``) while the rest of the pipeline's
code is still being imported, which is most of the fetch's time on a local
clone.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from builder.api import BuildError, StatusReason
from builder.pipeline.plan import BinaryInput, BuildPlan
from builder.pipeline.stages import StageRecorder, stages_from_json, stages_json
from builder.pipeline.workspace import Workspace
from builder.record import asdict
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
    # Imported here, not with the module: ``kbuild build`` forks its fetch
    # (``StartedFetch``) before loading them, so the child loads them on a
    # core of its own while the parent loads the rest of the pipeline.
    from builder.source.confined import write_inside  # noqa: PLC0415
    from builder.source.contextdir import resolve_context_dir  # noqa: PLC0415
    from builder.source.git import fetch_git  # noqa: PLC0415

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


class _Stopped(BaseException):  # a signal, like KeyboardInterrupt: no broad except takes it
    """The child was stopped (by ``discard``, or its parent died): no build will use its fetch."""


def _stop(_signum: int, _frame: object) -> None:
    raise _Stopped


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_DEFERRED = {signal.SIGINT, signal.SIGTERM}  # held while the child is forked


def _die_with_parent(parent: int) -> None:
    """Have the kernel send this child SIGTERM when its parent dies (Linux's PR_SET_PDEATHSIG).

    A ``kbuild build`` killed by SIGTERM or SIGKILL alone (not its process
    group, as Ctrl-C is) would otherwise leave the child and its git running
    until the clone ends, holding the parent's stdout and stderr: a pipe
    reading ``$(kbuild build ...)`` stayed open that long.  A parent that
    died before the request is seen here.  Elsewhere, nothing to do.
    """
    try:
        import ctypes  # noqa: PLC0415 - the child only; the parent never loads it

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: not Linux
        return
    if os.getppid() != parent:
        raise _Stopped


def _kill_children() -> None:
    """SIGKILL and reap every process this one started and still has: it leaves none behind.

    git is killed where it is waited for; but a stop that lands while
    ``subprocess`` starts it (after the fork, before the handle reaches our
    code) leaves a process nobody holds, which ran on and wrote into the
    workspace after the parent had removed it.  The kernel still lists it
    as this process's child.
    """
    try:
        listed = Path(f"/proc/self/task/{os.getpid()}/children").read_text()
    except OSError:  # not Linux, or a kernel without CONFIG_PROC_CHILDREN
        return
    for pid in (int(word) for word in listed.split()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


class StartedFetch:
    """A git fetch running beside the rest of the build's start-up, into a workspace it made.

    ``run_build`` takes it over (the workspace, the stage timings, the
    result or the error).  Only a git source starts early: it needs no
    registry, and it is the one whose time is spent waiting on git.

    It runs in a forked child process, not a thread.  On a thread, each of
    git's six processes (init, remote add, ls-remote, fetch, checkout,
    show) waited for the interpreter's lock at every hand-over while the
    main thread loaded the pipeline: the six took 0.11-0.13 s there against
    0.07 s run by themselves.  A child has an interpreter of its own, and
    a second core.  It writes the source info where ``fetch`` always does
    (the workspace) and reports the stages or the error on a pipe; its log
    lines go straight to the same stderr, while they happen.  Where fork is
    missing, or other threads already run (a fork copies only the calling
    thread, and any lock another one held), the fetch runs on a thread.
    """

    def __init__(self, plan: BuildPlan, log: LogFn) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kbuild-"))
        self.ws = Workspace(self.root).create()
        self.stages = StageRecorder()
        self._outcome: SourceInfo | BaseException | None = None
        # The child's pid and the read end of its report pipe (-1 once read).
        self._child: tuple[int, int] | None = None
        self._report_bytes = b""
        self._pipe_write = -1  # the parent's copy of the write end, until closed
        self._thread: threading.Thread | None = None
        if hasattr(os, "fork") and threading.active_count() == 1:
            try:
                self._fork(plan, log)
            except BaseException:  # Ctrl-C as it forked: the caller never gets this object
                self.discard()
                raise
        else:
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

    def _fork(self, plan: BuildPlan, log: LogFn) -> None:
        read_end, self._pipe_write = os.pipe()
        # Whatever sits in a buffer now would be written by both processes.
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        # Ctrl-C waits until the parent has recorded the child (so ``discard``
        # can stop and reap it) and the child has its handlers.
        signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
        try:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child; its report is what the tests see
                try:
                    # ``discard`` stops a fetch no build will use, and so does
                    # the parent's death: git is killed on the way out
                    # (subprocess.run), the report says so.
                    signal.signal(signal.SIGTERM, _stop)
                    os.close(read_end)
                    with os.fdopen(self._pipe_write, "w", encoding="utf-8") as out:
                        out.write(self._report(plan, log, parent))
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    # Never back into the parent's code: no finally, no atexit.
                    os._exit(0)
            self._child = (pid, read_end)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _DEFERRED)
        self._close_write_end()

    def _close_write_end(self) -> None:
        """The parent must not hold the write end: its reads would never see the end."""
        fd, self._pipe_write = self._pipe_write, -1
        if fd >= 0:
            os.close(fd)

    def _report(self, plan: BuildPlan, log: LogFn, parent: int) -> str:
        """The child's whole answer, as one JSON object: stages, and the error if any."""
        report: dict[str, object] = {}
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _DEFERRED)
            _die_with_parent(parent)
            fetch(plan, self.ws, log, self.stages)
        except BuildError as err:
            report["error"] = {"reason": err.reason.value, "detail": err.detail}
        except (KeyboardInterrupt, _Stopped):
            report["interrupted"] = True
        except BaseException:  # a bug: its traceback goes to the parent
            import traceback  # noqa: PLC0415 - only a crash needs it

            report["crash"] = traceback.format_exc()
        # Stopped once is enough: a second stop must not cut the clean-up short.
        signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
        _kill_children()
        if report.get("interrupted") and os.getppid() != parent:
            shutil.rmtree(self.root, ignore_errors=True)  # nobody left to discard it
        report["stages"] = stages_json(self.stages.stages)
        return json.dumps(report)

    def _collect(self) -> None:
        """Wait for the child and turn its report into ``_outcome`` and the stages.

        Interrupted (Ctrl-C reaches both processes), it keeps what it read
        and the child to wait for, so ``discard`` can finish the job.
        """
        if self._child is None:
            return
        self._close_write_end()
        pid, read_end = self._child
        # Each state change is recorded before the call it stands for, so
        # an interrupted call leaves nothing to close or reap twice.
        if read_end >= 0:
            while chunk := os.read(read_end, 65536):
                self._report_bytes += chunk
            self._child = (pid, -1)
            os.close(read_end)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by an earlier, interrupted call
            status = -1
        self._child = None
        try:
            report = json.loads(self._report_bytes)
        except ValueError:
            self._outcome = BuildError(
                StatusReason.FETCH_SOURCE_FAILED,
                f"the source fetch stopped before it finished (wait status {status})",
            )
            return
        self.stages.stages = stages_from_json(report["stages"])
        if "error" in report:
            error = report["error"]
            self._outcome = BuildError(StatusReason(error["reason"]), error["detail"])
        elif report.get("interrupted"):
            self._outcome = KeyboardInterrupt()
        elif "crash" in report:
            self._outcome = RuntimeError(f"the source fetch failed:\n{report['crash']}")
        else:
            self._outcome = load_source_info(self.ws)

    def _finish(self) -> None:
        if self._thread is not None:
            self._thread.join()
        self._collect()

    def result(self) -> SourceInfo:
        self._finish()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        if self._outcome is None:  # pragma: no cover - _run and _collect always set it
            raise RuntimeError("the source fetch ended without an outcome")
        return self._outcome

    def discard(self) -> None:
        """Stop the fetch if it still runs, and remove the workspace: no build will use them.

        A build that fails before it asked for the source (a bad
        ``--authfile``) must not wait for a whole clone, nor print git's
        lines after its error.  A thread cannot be stopped: it is waited for.
        """
        if self._child is not None and self._child[1] >= 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._child[0], signal.SIGTERM)
        self._close_write_end()  # interrupted before the fork: nobody else will
        self._finish()
        shutil.rmtree(self.root, ignore_errors=True)


def start_fetch(plan: BuildPlan, log: LogFn) -> StartedFetch | None:
    """Begin fetching a git source now; None for sources fetched in the build."""
    if plan.source.git is None:
        return None
    return StartedFetch(plan, log)
