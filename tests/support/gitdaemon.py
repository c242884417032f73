"""A ``git daemon`` for cluster tests: build pods clone from it like from a forge.

Pods cannot see this machine's files, so sources are served over git:// on
an address the pods reach (the node address of the local cluster, or
``KBUILD_TEST_GIT_HOST`` for another cluster).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.registry import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.com",
         *args],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


def make_repo(root: Path, example: str, name: str | None = None) -> Path:
    """A one-commit repository holding a copy of examples/<example>."""
    repo = root / (name or example)
    shutil.copytree(REPO_ROOT / "examples" / example, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"{example} sample")
    return repo


@dataclass(frozen=True)
class GitDaemon:
    base: Path
    url: str  # git://host:port

    def uri(self, name: str) -> str:
        return f"{self.url}/{name}"

    def add_example(self, example: str, name: str | None = None) -> Path:
        """Serve a copy of examples/<example> as a one-commit repository."""
        return make_repo(self.base, example, name)


@contextmanager
def git_daemon(host: str, base: Path) -> Iterator[GitDaemon]:
    base.mkdir(parents=True, exist_ok=True)
    port = free_port(host)
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={base}",
         f"--listen={host}", f"--port={port}", "--informative-errors", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex((host, port)) == 0:
                    break
            if daemon.poll() is not None or time.monotonic() > deadline:
                err = daemon.stderr.read().decode() if daemon.stderr else ""
                raise RuntimeError(f"git daemon did not start on {host}:{port}: {err}")
            time.sleep(0.2)
        yield GitDaemon(base, f"git://{host}:{port}")
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
