"""The git command runner: environment rules, output and failures (real git)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from builder.source import gitcmd
from builder.source.commit import read_worktree
from builder.source.gitcmd import Git, GitError

IDENTITY = {
    "GIT_AUTHOR_NAME": "A",
    "GIT_AUTHOR_EMAIL": "a@example.com",
    "GIT_COMMITTER_NAME": "C",
    "GIT_COMMITTER_EMAIL": "c@example.com",
}


def _commit(git: Git, name: str = "f") -> str:
    (git.cwd / name).write_text(name)
    git("add", name)
    git("commit", "-q", "-m", f"add {name}")
    return git("rev-parse", "HEAD")


def test_output_loses_only_its_trailing_newline(tmp_path: Path) -> None:
    git = gitcmd.init(tmp_path / "repo", IDENTITY)
    commit = _commit(git)
    assert len(commit) == 40
    assert git("show", "-s", "--format=%s%n", "HEAD") == "add f\n"


def test_a_failure_carries_git_s_status_and_stderr(tmp_path: Path) -> None:
    git = gitcmd.init(tmp_path / "repo")
    with pytest.raises(GitError) as failed:
        git("rev-parse", "--verify", "no-such-ref")
    assert failed.value.status == 128
    assert "Needed a single revision" in failed.value.stderr


def test_messages_are_english_whatever_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANGUAGE", "de")
    git = Git(tmp_path)
    printed = git("-c", "alias.env=!env", "env").splitlines()
    assert "LC_ALL=C" in printed
    assert "LANGUAGE=C" in printed
    assert "GIT_TERMINAL_PROMPT=0" in printed


def test_a_hook_s_git_dir_does_not_redirect_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a git hook GIT_DIR names the hook's repository; init must not touch it."""
    outer = gitcmd.init(tmp_path / "outer", IDENTITY)
    outer_head = _commit(outer)
    monkeypatch.setenv("GIT_DIR", str(outer.cwd / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(outer.cwd))
    inner = gitcmd.init(tmp_path / "inner", IDENTITY)
    assert (inner.cwd / ".git" / "HEAD").is_file()
    assert _commit(inner, "g") != outer_head
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_WORK_TREE")
    assert Git(outer.cwd)("rev-parse", "HEAD") == outer_head


def test_stdin_is_closed(tmp_path: Path) -> None:
    # A command reading stdin gets end-of-file at once instead of hanging.
    git = gitcmd.init(tmp_path / "repo")
    assert git("hash-object", "--stdin") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_no_git_on_the_path_is_a_failure_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GitError) as failed:
        Git(tmp_path)("version")
    assert failed.value.stderr.startswith("cannot run git")


def test_an_archive_s_fsmonitor_is_not_run(tmp_path: Path) -> None:
    """A checkout from an upload may name any program in .git/config; reading it runs none."""
    git = gitcmd.init(tmp_path / "repo", IDENTITY)
    _commit(git)
    marker = tmp_path / "ran"
    hook = tmp_path / "monitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    subprocess.run(["git", "config", "core.fsmonitor", str(hook)], cwd=git.cwd, check=True)
    info = read_worktree(git.cwd, search_parents=False)
    assert info is not None
    git("status", "--porcelain")
    assert not marker.exists()


def test_read_worktree_searches_upwards_only_when_asked(tmp_path: Path) -> None:
    git = gitcmd.init(tmp_path / "repo", IDENTITY)
    commit = _commit(git)
    nested = git.cwd / "sub" / "dir"
    nested.mkdir(parents=True)
    found = read_worktree(nested, search_parents=True)
    assert found is not None
    assert found.commit_id == commit
    assert found.head_ref in ("master", "main")
    assert read_worktree(nested, search_parents=False) is None
    top = read_worktree(git.cwd, search_parents=False)
    assert top is not None
    assert top.commit_id == commit
    assert read_worktree(tmp_path / "missing", search_parents=True) is None
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    assert read_worktree(bare, search_parents=False) is None


def test_a_fetch_starts_no_maintenance_process(tmp_path: Path) -> None:
    upstream = gitcmd.init(tmp_path / "upstream", IDENTITY)
    _commit(upstream)
    trace = tmp_path / "trace"
    clone = gitcmd.init(tmp_path / "clone", {"GIT_TRACE": str(trace)})
    clone("remote", "add", "origin", str(upstream.cwd))
    clone("fetch", "--depth", "1", "origin", "HEAD")
    started = trace.read_text()
    assert "fetch" in started  # the trace is on
    # Plain git runs "git maintenance run --auto" after every fetch.
    assert "maintenance" not in started
    done = subprocess.run(
        ["git", "fetch", "--depth", "1", "origin", "HEAD"], cwd=clone.cwd, check=True,
        env={"PATH": "/usr/bin:/bin", "GIT_TRACE": str(tmp_path / "plain"), "HOME": str(tmp_path)},
        capture_output=True,
    )  # fmt: skip
    assert done.returncode == 0
    assert "maintenance run --auto" in (tmp_path / "plain").read_text()


def test_init_copies_no_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template = tmp_path / "template"
    (template / "hooks").mkdir(parents=True)
    (template / "hooks" / "post-checkout").write_text("#!/bin/sh\ntouch /tmp/pwned\n")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".gitconfig").write_text(f"[init]\n\ttemplateDir = {template}\n")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    plain = tmp_path / "plain"
    subprocess.run(["git", "init", "-q", str(plain)], check=True)
    assert (plain / ".git" / "hooks" / "post-checkout").exists()  # the control
    git = gitcmd.init(tmp_path / "repo")
    assert not (git.cwd / ".git" / "hooks").exists()
    assert git("rev-parse", "--git-dir") == ".git"


def test_a_started_command_gives_its_output_or_its_failure_when_asked(tmp_path: Path) -> None:
    git = gitcmd.init(tmp_path / "repo", IDENTITY)
    commit = _commit(git)
    found, missing = git.start("rev-parse", "HEAD"), git.start("rev-parse", "--verify", "nope")
    assert found.result() == commit
    with pytest.raises(GitError) as failed:
        missing.result()
    assert failed.value.status == 128
    with pytest.raises(GitError, match="already stopped"):
        found.result()  # one answer per command


def test_stop_kills_a_started_command_and_reaps_it(tmp_path: Path) -> None:
    git = Git(tmp_path)
    running = git.start("-c", "alias.wait=!sleep 60", "wait")
    pid = running._proc.pid if running._proc is not None else -1
    running.stop()
    running.stop()  # twice is harmless
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child left
    with pytest.raises(GitError, match="already stopped"):
        running.result()


def test_no_git_on_the_path_fails_a_started_command_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    started = Git(tmp_path).start("version")
    with pytest.raises(GitError) as failed:
        started.result()
    assert failed.value.stderr.startswith("cannot run git")
