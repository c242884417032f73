"""What each entry point loads at start-up: the heavy modules only where they are used.

A structural check, not a timing: bench/cli_startup.py and bench/local_build.py
print the figures.  pydantic costs ~0.2 s to start (the models ~0.07 s more)
and the ``kubernetes`` client package ~0.45 s; a flag-driven ``kbuild build``
(and each build pod container before it reads its Build) needs neither, and
nothing of kbuild needs the client package at all.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        ("import builder.cli.build, builder.pipeline", {"pydantic", "kubernetes"}),
        ("import builder.kube", {"pydantic", "kubernetes", "urllib3", "requests"}),
        ("from builder.kube import Kube; Kube(None)", {"pydantic"}),
        ("import builder.controller.manager", {"kubernetes"}),
    ],
)
def test_entry_points_leave_heavy_modules_unloaded(code: str, absent: set[str]) -> None:
    assert _loaded(code) & absent == set()
