"""``start_fetch``: the git fetch ``kbuild build`` runs in a child process while it loads.

Real git, real processes: whatever the fetch gives or raises in the child
must arrive in the parent as the in-process ``fetch`` would give it (the
source info, the stages, the BuildError with its reason), its log lines
while they happen, and nothing may be left behind (workspace, child).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from builder.api import BuildError, StatusReason
from builder.pipeline.fetch import StartedFetch, fetch, start_fetch
from builder.pipeline.plan import BuildPlan, GitInput, SourcePlan, SourceStrategyPlan
from builder.pipeline.stages import StageRecorder
from builder.pipeline.workspace import Workspace
from tests.integration.pipeline.conftest import make_repo

# A git whose fetch (and ls-remote) never ends: a clone of a large repository.
SLOW_GIT = """#!/bin/bash
for arg in "$@"; do
    if [[ $arg == fetch || $arg == ls-remote ]]; then exec sleep {marker}; fi
done
exec {git} "$@"
"""


@pytest.fixture(autouse=True)
def no_other_thread(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Count only this thread, as ``kbuild build`` sees itself when it forks.

    The test runner may hold threads of its own (a session fixture's
    server), and with any other thread ``StartedFetch`` rightly takes the
    thread fallback: the fork tests then tested nothing (a unit and
    integration run without the cluster tier failed six of them so).  The
    child only runs git and writes to its pipe, so the runner's threads
    missing from it do not matter here.  The fallback's own test keeps
    the real count.
    """
    if "another_thread_running" not in request.node.name:
        monkeypatch.setattr(threading, "active_count", lambda: 1)


def plan_for(repo: Path, ref: str = "", context_dir: str = "") -> BuildPlan:
    return BuildPlan(
        source=SourcePlan(git=GitInput(str(repo), ref), context_dir=context_dir),
        strategy=SourceStrategyPlan("registry.test/builder:1"),
    )


def to_stderr(line: str) -> None:
    os.write(2, f"{line}\n".encode())


def in_process(plan: BuildPlan, tmp_path: Path) -> tuple[object, StageRecorder]:
    """What the same fetch gives (or raises) without a child."""
    stages = StageRecorder()
    ws = Workspace(tmp_path / "in-process").create()
    try:
        return fetch(plan, ws, to_stderr, stages), stages
    except BuildError as err:
        return err, stages


def test_the_forked_fetch_gives_what_the_in_process_one_gives(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    plan = plan_for(make_repo(tmp_path, "python-hello"))
    expected, expected_stages = in_process(plan, tmp_path)
    capfd.readouterr()

    started = start_fetch(plan, to_stderr)
    assert started is not None
    assert started._child is not None, "no other thread runs: the fetch must be forked"
    info = started.result()
    logged = capfd.readouterr().err

    assert info == expected
    assert (started.ws.source / "app.py").is_file()
    assert [(s.name, [step.name for step in s.steps]) for s in started.stages.stages] == [
        (s.name, [step.name for step in s.steps]) for s in expected_stages.stages
    ]
    assert started.stages.stages[0].steps[0].duration_milliseconds >= 0
    assert f'Cloning "{plan.source.git.uri}" ...' in logged  # type: ignore[union-attr]
    assert f"\tCommit:\t{info.commit_id}" in logged
    started.discard()
    assert not started.root.exists()


@pytest.mark.parametrize(
    ("ref", "context_dir"), [("no-such-branch", ""), ("", "no/such/dir")], ids=["ref", "contextDir"]
)
def test_a_build_error_in_the_child_arrives_with_its_reason_and_detail(
    ref: str, context_dir: str, tmp_path: Path
) -> None:
    plan = plan_for(make_repo(tmp_path, "python-hello"), ref, context_dir)
    expected, _ = in_process(plan, tmp_path)
    assert isinstance(expected, BuildError)

    started = start_fetch(plan, to_stderr)
    assert started is not None
    with pytest.raises(BuildError) as err:
        started.result()
    assert (err.value.reason, err.value.detail) == (expected.reason, expected.detail)
    assert err.value.reason in {
        StatusReason.FETCH_SOURCE_FAILED,
        StatusReason.INVALID_CONTEXT_DIRECTORY,
    }
    started.discard()
    assert not started.root.exists()


def test_a_child_that_dies_is_a_fetch_failure_not_a_hang(tmp_path: Path) -> None:
    started = StartedFetch(plan_for(make_repo(tmp_path, "python-hello")), to_stderr)
    assert started._child is not None
    pid = started._child[0]
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(BuildError) as err:
        started.result()
    assert err.value.reason == StatusReason.FETCH_SOURCE_FAILED
    assert "stopped before it finished" in err.value.detail
    started.discard()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left


def test_discard_without_result_waits_for_the_child_and_removes_the_workspace(
    tmp_path: Path,
) -> None:
    started = StartedFetch(plan_for(make_repo(tmp_path, "python-hello")), to_stderr)
    assert started._child is not None
    pid = started._child[0]
    started.discard()
    assert not started.root.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_with_another_thread_running_the_fetch_runs_on_a_thread(tmp_path: Path) -> None:
    """A fork copies only the calling thread (and locks another one may hold)."""
    plan = plan_for(make_repo(tmp_path, "python-hello"))
    expected, _ = in_process(plan, tmp_path)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        started = StartedFetch(plan, to_stderr)
        assert started._child is None
        assert started._thread is not None
        assert started.result() == expected
        started.discard()
    finally:
        stop.set()
        other.join()


def test_a_bug_in_the_child_arrives_as_an_error_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("a bug in the fetch")

    monkeypatch.setattr("builder.pipeline.fetch.fetch", broken)
    started = StartedFetch(plan_for(make_repo(tmp_path, "python-hello")), to_stderr)
    assert started._child is not None
    with pytest.raises(RuntimeError) as err:
        started.result()
    assert "the source fetch failed:" in str(err.value)
    assert "ValueError: a bug in the fetch" in str(err.value)
    assert "Traceback (most recent call last)" in str(err.value)
    started.discard()
    assert not started.root.exists()


def git_first_on_path(
    bin_dir: Path, monkeypatch: pytest.MonkeyPatch, script: str, **fields: str
) -> None:
    """Put SCRIPT (formatted with FIELDS and ``git``, the real one) first on PATH as git."""
    real = shutil.which("git")
    assert real is not None
    bin_dir.mkdir()
    (bin_dir / "git").write_text(script.format(git=real, **fields))
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


@pytest.fixture
def slow_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Put SLOW_GIT first on PATH; returns the sleep's unique argument, to find it in ps."""
    marker = f"{600 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"
    git_first_on_path(tmp_path / "slow-bin", monkeypatch, SLOW_GIT, marker=marker)
    return marker


def still_running(marker: str) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    return [line for line in ps.stdout.splitlines() if f"sleep {marker}" in line]


def test_discard_stops_a_fetch_that_still_runs(tmp_path: Path, slow_git: str) -> None:
    started = StartedFetch(plan_for(make_repo(tmp_path, "python-hello")), to_stderr)
    assert started._child is not None
    deadline = time.monotonic() + 10
    while not still_running(slow_git):
        assert time.monotonic() < deadline, "the slow git never started"
        time.sleep(0.05)
    began = time.monotonic()
    started.discard()
    assert time.monotonic() - began < 5
    assert not started.root.exists()
    assert still_running(slow_git) == []


def test_a_failure_before_the_source_is_needed_does_not_wait_for_the_clone(
    tmp_path: Path, slow_git: str
) -> None:
    """A bad --authfile fails at once, its error the last line, git stopped.

    Before, the build waited for the whole fetch (here: for ever) and printed
    git's lines after its error.
    """
    repo = make_repo(tmp_path, "python-hello")
    missing = str(tmp_path / "missing.json")
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli.main", "build", str(repo),
         "--builder", "registry.test/builder:1", "--to", "registry.test/app:1",
         "--authfile", missing],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert time.monotonic() - began < 30
    last = [line for line in done.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("error: "), done.stderr
    assert "missing.json" in last
    assert still_running(slow_git) == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_build_takes_its_fetch_and_workspace_with_it(
    tmp_path: Path, slow_git: str, sig: signal.Signals
) -> None:
    """The build process killed alone (not its group, as Ctrl-C is): git and the child end too.

    Before, the child and its git ran on until the clone ended, holding the
    build's stdout and stderr: whoever read them (``$(kbuild build ...)``)
    waited that long, and the workspace stayed in the temporary directory.
    """
    repo = make_repo(tmp_path, "python-hello")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # The Docker strategy needs the source before anything else: the build
    # waits on the fetch, so the kill lands while git runs.
    build = subprocess.Popen(
        [sys.executable, "-m", "builder.cli.main", "build", str(repo),
         "--strategy", "docker", "--to", "registry.test/app:1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not still_running(slow_git):
            assert build.poll() is None, build.communicate()
            assert time.monotonic() < deadline, "the slow git never started"
            time.sleep(0.05)
        build.send_signal(sig)
        # Both pipes reach their end: nothing of the build holds them any more.
        build.communicate(timeout=10)
        deadline = time.monotonic() + 5
        while still_running(slow_git) or any(tmp.iterdir()):
            assert time.monotonic() < deadline, (still_running(slow_git), list(tmp.iterdir()))
            time.sleep(0.05)
    finally:
        build.kill()
        subprocess.run(["pkill", "-f", f"sleep {slow_git}"], check=False)


def test_ctrl_c_as_the_child_is_forked_leaves_neither_child_nor_workspace(
    tmp_path: Path, slow_git: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C that lands just before the fork: the caller never gets the object to discard.

    Before, the KeyboardInterrupt left the workspace behind (and, a moment
    later, a child nobody would reap).
    """
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    forked: list[int] = []
    real_fork = os.fork

    def fork_after_ctrl_c() -> int:
        # To the main thread: sent to the process, the kernel may hand it
        # to any other thread of the test runner (a library's native one),
        # which does not hold it; ``kbuild build`` has no other thread.
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork_after_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        StartedFetch(plan_for(make_repo(tmp_path, "python-hello")), to_stderr)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert len(forked) == 1, "the interrupt came before the fork, not after it"
    with pytest.raises(ChildProcessError):  # stopped and reaped
        os.waitpid(forked[0], os.WNOHANG)
    assert still_running(slow_git) == []


SLOW_START_GIT = """#!/bin/bash
for arg in "$@"; do
    if [[ $arg == init || $arg == ls-remote ]]; then
        sleep 1.5 && touch "$KBUILD_TEST_ORPHAN_MARK.$arg"
        break
    fi
done
exec {git} "$@"
"""


def test_a_stop_that_lands_as_git_is_started_leaves_no_git_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM to the child between git's start and its handle reaching our code.

    Nothing then knew the process to kill it: it ran on, an orphan, and
    wrote into the workspace after the parent had removed it (a clean-clone
    run under load once found the workspace back).
    """
    repo = make_repo(tmp_path, "python-hello")
    git_first_on_path(tmp_path / "slow-start-bin", monkeypatch, SLOW_START_GIT)
    monkeypatch.setenv("KBUILD_TEST_ORPHAN_MARK", str(tmp_path / "orphan"))
    test_process = os.getpid()
    real_popen = subprocess.Popen

    def popen_then_stopped(*args: object, **kwargs: object) -> object:
        proc = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        if os.getpid() != test_process:  # the fetch's child: its handler raises here
            os.kill(os.getpid(), signal.SIGTERM)
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen_then_stopped)
    started = StartedFetch(plan_for(repo), to_stderr)
    with pytest.raises(KeyboardInterrupt):  # the child reports it was stopped
        started.result()
    started.discard()
    time.sleep(2.5)  # the slow git's start, and then some
    assert sorted(path.name for path in tmp_path.glob("orphan.*")) == []
    assert not started.root.exists()
