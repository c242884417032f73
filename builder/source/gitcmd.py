"""Run the git command line: the only way kbuild touches a repository.

A library wrapper (GitPython) cost every build ~0.1 s of imports and two
``git version`` processes before the first real command, for nothing we use
beyond "run git, keep stdout, raise with stderr".  This is that, and the
rules every call shares:

* ``LC_ALL=C`` and ``LANGUAGE=C``, so ``builder.source.gitfailure`` can
  match git's English messages whatever the pod's or user's locale;
* stdin is ``/dev/null`` and ``GIT_TERMINAL_PROMPT=0``: a credential prompt
  would hang a build pod forever;
* the variables that relocate a repository (``GIT_DIR``, ...) are dropped;
* ``core.fsmonitor`` off: reading a checkout from an uploaded archive must
  not run a program its ``.git/config`` names;
* ``maintenance.auto`` off: a fetch into a fresh one-commit clone would
  otherwise start ``git maintenance run --auto`` after it, a process that
  finds nothing to do (older gits ignore the key);
* stdout comes back without its trailing newline, as a string.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

_FIXED_ENV = {"LC_ALL": "C", "LANGUAGE": "C", "GIT_TERMINAL_PROMPT": "0"}
# Set by a git hook (or a user's shell) these would point every command at
# another repository than the work tree it runs in: ``git init`` included.
_LOCATING_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)
_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "maintenance.auto=false")


class GitError(Exception):
    """git exited non-zero (or could not be started); ``stderr`` is its own text."""

    def __init__(self, argv: Sequence[str], status: int, stderr: str) -> None:
        self.argv = list(argv)
        self.status = status
        self.stderr = stderr
        super().__init__(f"{' '.join(self.argv[:3])} exited {status}: {stderr.strip()[:200]}")


class Git:
    """git commands in one work tree, with extra environment variables."""

    def __init__(self, cwd: Path | str, env: Mapping[str, str] | None = None) -> None:
        self.cwd = Path(cwd)
        inherited = {k: v for k, v in os.environ.items() if k not in _LOCATING_ENV}
        self._env = {**inherited, **(env or {}), **_FIXED_ENV}

    def __call__(self, *args: str) -> str:
        """``git ARGS...`` in the work tree; stdout (trailing newline removed)."""
        return self.start(*args).result()

    def start(self, *args: str) -> Running:
        """Start ``git ARGS...`` and return at once; ``result`` waits for it.

        For commands that do not depend on each other, so that a fetch
        waits for git's processes side by side, not one after the other.
        """
        argv = ["git", *_SAFE_CONFIG, *args]
        try:
            proc = subprocess.Popen(
                argv,
                cwd=self.cwd,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as err:
            return Running(argv, None, GitError(argv, -1, f"cannot run git: {err.strerror or err}"))
        return Running(argv, proc, None)


class Running:
    """A git command started by ``Git.start``: its output, or ``stop`` it."""

    def __init__(
        self, argv: list[str], proc: subprocess.Popen[bytes] | None, error: GitError | None
    ) -> None:
        self._argv = argv
        self._proc = proc
        self._error = error

    def result(self) -> str:
        """Wait for the command; stdout (trailing newline removed), or GitError."""
        if self._proc is None:
            raise self._error or GitError(self._argv, -1, "already stopped")
        proc, self._proc = self._proc, None
        try:
            out, err = proc.communicate()
        except BaseException:
            _kill(proc)
            raise
        if proc.returncode != 0:
            raise GitError(self._argv, proc.returncode, err.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace").removesuffix("\n")

    def stop(self) -> None:
        """Kill the command if it is still running, and reap it: nobody will read it."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.communicate()


def init(path: Path | str, env: Mapping[str, str] | None = None) -> Git:
    """``git init`` ``path`` (created if missing); a ``Git`` for it.

    With no template: nothing of the machine's or the user's template
    directory (``init.templateDir``: hooks, config) reaches the clone, and
    git copies no sample hooks (about half of ``git init``'s time).
    """
    Path(path).mkdir(parents=True, exist_ok=True)
    git = Git(path, env)
    git("init", "-q", "--template=")
    return git
