"""``kbuild pipeline fetch|prepare|pull|build|push``: one build step, as a pod container runs it.

Hidden from ``kbuild --help``: people run ``kbuild build``; this verb is the
build pod's entry point (``builder.controller.buildpod`` writes the argv),
reading the Build from ``$BUILD`` and reporting in the termination message.
"""

from __future__ import annotations

import argparse

STEPS = ("fetch", "prepare", "pull", "build", "push")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # No help=: argparse lists only subcommands given one, so this stays hidden.
    p = subparsers.add_parser(
        "pipeline",
        description=(
            "Run one step of a build inside a build pod: the Build comes from $BUILD, the "
            "log goes to stdout and the outcome to the container's termination message."
        ),
    )
    p.add_argument("step", choices=STEPS)
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    # Imported here so that other verbs do not pay for the build pod's imports.
    from builder.pipeline.pod import run_step  # noqa: PLC0415

    return run_step(ns.step)
