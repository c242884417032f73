"""The ``kbuild`` command: ``oc``'s verbs and flags, for what kbuild covers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from builder import __version__
from builder.cli import (
    build,
    cancelbuild,
    controller,
    describe,
    get,
    importimage,
    logs,
    newapp,
    pipeline,
    settriggers,
    startbuild,
    tag,
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="kbuild",
        description="OpenShift-style image builds and image streams for plain Kubernetes.",
    )
    root.add_argument("--version", action="version", version=f"kbuild {__version__}")
    subparsers = root.add_subparsers(dest="verb", metavar="COMMAND")
    build.add_parser(subparsers)
    pipeline.add_parser(subparsers)
    controller.add_parser(subparsers)
    startbuild.add_parser(subparsers)
    cancelbuild.add_parser(subparsers)
    logs.add_parser(subparsers)
    get.add_parser(subparsers)
    describe.add_parser(subparsers)
    importimage.add_parser(subparsers)
    tag.add_parser(subparsers)
    settriggers.add_parser(subparsers)
    newapp.add_parser(subparsers)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    ns = p.parse_args(argv)
    if not getattr(ns, "run", None):
        p.print_help(sys.stderr)
        return 2
    status: int = ns.run(ns)
    return status


if __name__ == "__main__":
    sys.exit(main())
