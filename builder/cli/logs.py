"""``kbuild logs [-f] build/NAME|bc/NAME``: the log of a build, as ``oc logs`` prints it.

``bc/NAME`` means its latest build (``status.lastVersion``), or another one
with ``--version``.  The output is the build pod's init containers in order,
then the build container, with nothing between them, as OpenShift's build
log endpoint returns it.  Builds with no log to give (cancelled, never
started, pod deleted or pruned) say so in one ``error:`` line.
"""

from __future__ import annotations

import argparse
import sys

from builder.cli.common import (
    BUILD_CONFIGS,
    BUILDS,
    CliError,
    add_cluster_flags,
    connect,
    not_found,
    run_guarded,
    split_ref,
)
from builder.cli.follow import stream_build_logs


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "logs",
        help="print the log of a build (oc logs build/NAME, bc/NAME)",
        description=(
            "Print the log of build/NAME, or of the latest build of bc/NAME: the init "
            "containers in order, then the build container."
        ),
    )
    p.add_argument("target", metavar="build/NAME|bc/NAME")
    p.add_argument("-f", "--follow", action="store_true", help="stream the log as it is written")
    p.add_argument(
        "--version", type=int, default=0, help="with bc/NAME: the build with this number"
    )
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def build_name_for(target: str, version: int, last_version: int) -> str:
    """``bc/NAME``'s build: ``NAME-<version>``, the latest when version is 0."""
    number = version or last_version
    if number <= 0:
        raise CliError(f"buildconfig {target} has no builds yet (status.lastVersion is 0)")
    return f"{target}-{number}"


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(ns: argparse.Namespace) -> int:
    from builder.kube import NotFound  # noqa: PLC0415

    if "/" not in ns.target:
        raise CliError(
            f"expected build/NAME or bc/NAME, got {ns.target!r} (kbuild logs shows build logs)"
        )
    resource, name = split_ref(ns.target, None)
    kube, namespace = connect(ns)
    if resource is BUILD_CONFIGS:
        try:
            bc = kube.build_configs.get(namespace, name)
        except NotFound:
            raise not_found(BUILD_CONFIGS, name) from None
        name = build_name_for(name, ns.version, bc.status.last_version)
    elif ns.version:
        raise CliError("--version applies to bc/NAME only")
    try:
        build = kube.builds.get(namespace, name)
    except NotFound:
        raise not_found(BUILDS, name) from None
    stream_build_logs(kube, build, follow=ns.follow, write=_write, note=_note)
    return 0
