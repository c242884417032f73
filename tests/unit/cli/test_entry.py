"""The console scripts' entry point: a build's GC threshold, its exit without finalization.

Run in a child interpreter: ``entry`` ends the process it runs in.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# main() replaced by one that writes to both streams (block-buffered: they
# are pipes here) and registers an exit handler, which finalization runs.
_CHILD = """
import atexit, gc, sys
import builder.cli.main as cli

def fake_main(args):
    print("result on stdout, gc threshold", gc.get_threshold()[0])
    print("log on stderr", file=sys.stderr)
    atexit.register(print, "finalized", file=sys.stderr)
    return 3

cli.main = fake_main
sys.argv = ["kbuild", *sys.argv[1:]]
cli.entry()
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("verb", ["build", "pipeline"])
def test_a_build_verb_exits_at_once_with_its_output_flushed(verb: str) -> None:
    done = _run("--insecure-skip-tls-verify", verb, "x")

    assert done.returncode == 3
    assert done.stdout == "result on stdout, gc threshold 100000\n"
    assert done.stderr == "log on stderr\n"  # no "finalized": no finalization ran


def test_other_verbs_exit_the_ordinary_way() -> None:
    done = _run("get", "bc")

    assert done.returncode == 3
    assert done.stdout == "result on stdout, gc threshold 700\n"
    assert done.stderr == "log on stderr\nfinalized\n"
