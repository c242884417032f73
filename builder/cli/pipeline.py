"""``kbuild pipeline STEP...``: build steps, in order, as a build pod's container runs them.

Hidden from ``kbuild --help``: people run ``kbuild build``; this verb is the
build pod's entry point (``builder.controller.buildpod`` writes the argv),
reading the Build from ``$BUILD`` and reporting in the termination message.
Several steps run in order in one process: the controller gives consecutive
steps that need no secret one container (``builder.controller.podlayout``).
"""

from __future__ import annotations

import argparse

# custom-report: the Custom strategy's pod, after the user's builder (builder.pipeline.custom).
STEPS = ("fetch", "prepare", "pull", "build", "push", "custom-report")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # No help=: argparse lists only subcommands given one, so this stays hidden.
    p = subparsers.add_parser(
        "pipeline",
        description=(
            "Run steps of a build, in order, inside a build pod: the Build comes from $BUILD, the "
            "log goes to stdout and the outcome to the container's termination message."
        ),
    )
    p.add_argument("steps", nargs="+", choices=STEPS, metavar="STEP")
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    # Imported here so that other verbs do not pay for the build pod's imports.
    from builder.pipeline.pod import run_steps  # noqa: PLC0415

    return run_steps(ns.steps)
