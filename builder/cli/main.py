"""The ``kbuild`` command: ``oc``'s verbs and flags, for what kbuild covers.

Installed as ``kbuild`` and as ``kubectl-kbuild``, so ``kubectl kbuild get
is`` runs it as a kubectl plugin.

``get`` and ``describe`` of Kubernetes' own kinds (pods, deployments), and
``logs`` of those other than pods, run kubectl, as ``oc`` does
(``builder.cli.passthrough``).

Only the module of the verb that runs is imported: ``kbuild get`` must not
pay for the build pipeline, the registry client or git (``bench/cli_startup.py``
measures it).  ``--help``, a missing or unknown verb loads every verb, so
the help lists them all.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from builder import __version__
from builder.cli.conventions import (
    accept_bool_values,
    add_global_flags,
    merge_global_flags,
    verb_of,
)

VERBS: dict[str, str] = {
    "build": "builder.cli.build",
    "pipeline": "builder.cli.pipeline",
    "controller": "builder.cli.controller",
    "start-build": "builder.cli.startbuild",
    "cancel-build": "builder.cli.cancelbuild",
    "logs": "builder.cli.logs",
    "get": "builder.cli.get",
    "describe": "builder.cli.describe",
    "apply": "builder.cli.apply",
    "create": "builder.cli.apply",
    "process": "builder.cli.process",
    "import-image": "builder.cli.importimage",
    "tag": "builder.cli.tag",
    "set": "builder.cli.settriggers",
    "rollout": "builder.cli.rollout",
    "rollback": "builder.cli.rollback",
    "new-app": "builder.cli.newapp",
    "new-build": "builder.cli.newapp",
}
"""Each verb and the module whose ``add_parser`` declares it (help lists them in this order)."""

BUILD_VERBS = frozenset({"build", "pipeline"})
"""Verbs that run a build (or a build pod's steps) once and exit: ``entry`` tunes them.

Both spend a good part of their time outside buildah loading kbuild, and
kill nothing by being quick about it:

- The cyclic garbage collector runs every 100,000 net allocations instead
  of every 700. Loading the pipeline allocates hundreds of thousands of
  objects that all live to the end, and at 700 the collector walked them
  again and again: 52 collections, 12-21 ms of a build's start-up. Cycles
  are still collected, later; the data a build moves is freed by reference
  counting.
- The process ends without Python's finalization, which frees every object
  of every loaded module (about 30 ms) just before the process's memory is
  dropped anyway. These verbs close what they open (with-blocks, an
  explicitly removed workspace) and start no thread whose work could be
  unfinished when they return (the fetch is joined; an unused registry
  read-ahead is abandoned on purpose).

The others keep Python's defaults: the controller's logging handlers and
lease threads want an ordinary exit, and its heap is long-lived.
"""


def parser(verb: str | None = None) -> argparse.ArgumentParser:
    """The parser of every verb, or of ``verb`` alone when it is a known one."""
    # As a kubectl plugin, usage lines read as the user typed the command.
    plugin = Path(sys.argv[0]).name == "kubectl-kbuild"
    root = argparse.ArgumentParser(
        prog="kubectl kbuild" if plugin else "kbuild",
        description="OpenShift-style image builds and image streams for plain Kubernetes.",
    )
    root.add_argument("--version", action="version", version=f"kbuild {__version__}")
    add_global_flags(root)
    subparsers = root.add_subparsers(dest="verb", metavar="COMMAND")
    modules = [VERBS[verb]] if verb in VERBS else list(dict.fromkeys(VERBS.values()))
    for name in modules:
        importlib.import_module(name).add_parser(subparsers)
    accept_bool_values(root)
    return root


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = list(sys.argv[1:] if argv is None else argv)
    return merge_global_flags(parser(verb_of(args)).parse_args(args))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from builder.cli import passthrough  # noqa: PLC0415

    if passthrough.delegated(args):
        # `kbuild get pod`, `kbuild describe deployment x`: kubectl's, as in oc.
        return passthrough.exec_kubectl(args)
    p = parser(verb_of(args))
    ns = merge_global_flags(p.parse_args(args))
    if not getattr(ns, "run", None):
        p.print_help(sys.stderr)
        return 2
    status: int = ns.run(ns)
    return status


def entry() -> NoReturn:
    """The console scripts' entry point: ``main``, then exit.

    For ``BUILD_VERBS``, the collector's threshold is raised first and, once
    ``main`` returned, the output is flushed and the process ends at once
    (``os._exit``); an exception or ``SystemExit`` (argparse's errors,
    ``--help``) takes the ordinary way out. Tests call ``main``, which
    never ends the process.
    """
    args = sys.argv[1:]
    build = verb_of(args) in BUILD_VERBS
    if build:
        gc.set_threshold(100_000)
    status = main(args)
    if not build:
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        # A reader that went away, or a closed stream: nothing left to say.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    entry()
