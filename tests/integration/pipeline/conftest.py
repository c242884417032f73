"""Fixtures for end-to-end local builds: builder images, sample repos, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.gitdaemon import git, make_repo
from tests.support.registry import RunningRegistry

__all__ = ["git", "make_repo"]  # the pipeline tests import them from here

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Images:
    base: str
    s2i_python: str


@pytest.fixture(scope="session")
def images(registry: RunningRegistry) -> Images:
    """The project's own base and S2I builder, pushed into the session registry.

    images/build.sh skips work whose inputs did not change (archives cached
    under KBUILD_CACHE_DIR), so after the first run this is a copy, not a build.
    """
    done = subprocess.run(
        ["bash", str(REPO / "images" / "build.sh"), "--registry", registry.host,
         "--tls-verify=false", "base", "s2i-python"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"images/build.sh failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    return Images(
        base=f"{registry.host}/kbuild/base:bookworm",
        s2i_python=f"{registry.host}/kbuild/s2i-python:3.11",
    )


@pytest.fixture
def python_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path, "python-hello")


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


KbuildRunner = Callable[..., Ran]


@pytest.fixture
def kbuild() -> KbuildRunner:
    def run(*args: str, check: bool = False) -> Ran:
        done = subprocess.run(
            [sys.executable, "-m", "builder.cli.main", *args],
            capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        ran = Ran(done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"kbuild {' '.join(args)} failed:\n{done.stderr}")
        return ran

    return run
