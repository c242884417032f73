"""``start_fetch``: the git fetch ``kbuild build`` runs in a child process while it loads.

Real git, real processes: whatever the fetch gives or raises in the child
must arrive in the parent as the in-process ``fetch`` would give it (the
source info, the stages, the BuildError with its reason), its log lines
while they happen, and nothing may be left behind (workspace, child).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from builder.api import BuildError, StatusReason
from builder.pipeline.fetch import StartedFetch, fetch, start_fetch
from builder.pipeline.plan import BuildPlan, GitInput, SourcePlan, SourceStrategyPlan
from builder.pipeline.stages import StageRecorder
from builder.pipeline.workspace import Workspace
from tests.integration.pipeline.conftest import make_repo


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
