"""``kbuild logs [-f] build/NAME|bc/NAME|dc/NAME|pod/NAME|NAME``: logs as ``oc logs`` prints them.

``dc/NAME`` is a DeploymentConfig's latest rollout (``builder.cli.dclogs``).

``bc/NAME`` means its latest build (``status.lastVersion``), or another one
with ``--version``.  A build's output is the build pod's init containers in
order, then the build container, with nothing between them, as OpenShift's
build log endpoint returns it.  Builds with no log to give (cancelled, never
started, pod deleted or pruned) say so in one ``error:`` line.

``pod/NAME`` or a bare ``NAME`` is a pod, as with ``oc logs``: ``-c`` picks
the container; without it a pod of one container needs none, and otherwise
the ``kubectl.kubernetes.io/default-container`` annotation or the first
container is used, with kubectl's "Defaulted container" note on stderr.

``--tail N``, ``--since DURATION`` and ``--timestamps`` are the log
endpoint's options, for builds and pods alike (``builder.cli.follow.LogOptions``).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from builder.cli.args import duration_seconds
from builder.cli.common import (
    BUILD_CONFIGS,
    BUILDS,
    CliError,
    Resource,
    _aliases,
    add_cluster_flags,
    connect,
    not_found,
    run_guarded,
    split_ref,
)
from builder.cli.follow import LogOptions, stream_build_logs

PODS = Resource("Pod", "pods", "pod", _aliases("", "pod", "pods", "po"), "")
LOGGABLE = (BUILDS, BUILD_CONFIGS, PODS)
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "logs",
        help="print the log of a build or a pod (oc logs build/NAME, bc/NAME, pod/NAME)",
        description=(
            "Print the log of build/NAME, or of the latest build of bc/NAME (the init "
            "containers in order, then the build container), or of a pod: pod/NAME or NAME."
        ),
    )
    p.add_argument("target", metavar="build/NAME|bc/NAME|dc/NAME|pod/NAME|NAME")
    p.add_argument("-f", "--follow", action="store_true", help="stream the log as it is written")
    p.add_argument(
        "--version", type=int, default=0, help="with bc/NAME, dc/NAME: this build or rollout"
    )
    p.add_argument("-c", "--container", default="", help="with a pod: the container's log")
    p.add_argument(
        "--tail", type=int, default=-1, metavar="N", help="only the last N lines (-1: all)"
    )
    p.add_argument(
        "--since",
        type=duration_seconds,
        default=None,
        metavar="DURATION",
        help="only lines newer than this, e.g. 30s, 5m, 2h",
    )
    p.add_argument(
        "--timestamps", action="store_true", help="start each line with its RFC3339 timestamp"
    )
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def build_name_for(target: str, version: int, last_version: int) -> str:
    """``bc/NAME``'s build: ``NAME-<version>``, the latest when version is 0."""
    number = version or last_version
    if number <= 0:
        raise CliError(f"buildconfig {target} has no builds yet (status.lastVersion is 0)")
    return f"{target}-{number}"


def log_options(ns: argparse.Namespace) -> LogOptions:
    if ns.tail < -1:
        raise CliError("--tail must be -1 (all lines) or a number of lines")
    since = None
    if ns.since is not None:
        if ns.since <= 0:
            raise CliError("--since must be greater than 0")
        since = max(1, math.ceil(ns.since))
    return LogOptions(tail=ns.tail, since_seconds=since, timestamps=ns.timestamps)


def pod_container(pod: dict[str, Any], wanted: str) -> tuple[str, str | None]:
    """(container, note): ``-c``'s, else the only one, else kubectl's default and its note."""
    names = [str(c.get("name", "")) for c in (pod.get("spec") or {}).get("containers") or []]
    inits = [str(c.get("name", "")) for c in (pod.get("spec") or {}).get("initContainers") or []]
    pod_name = (pod.get("metadata") or {}).get("name", "")
    if wanted:
        if wanted not in names and wanted not in inits:
            raise CliError(
                f"container {wanted} is not valid for pod {pod_name} "
                f"(containers: {', '.join(names + inits)})"
            )
        return wanted, None
    if not names:
        raise CliError(f"pod {pod_name} has no containers")
    if len(names) == 1:
        return names[0], None
    annotated = ((pod.get("metadata") or {}).get("annotations") or {}).get(
        DEFAULT_CONTAINER_ANNOTATION, ""
    )
    chosen = annotated if annotated in names else names[0]
    note = f'Defaulted container "{chosen}" out of: {", ".join(names + inits)}'
    if inits:
        note += f" ({', '.join(inits)} are init containers)"
    return chosen, note


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _pod_logs(ns: argparse.Namespace, name: str, options: LogOptions) -> int:
    from builder.kube import NotFound  # noqa: PLC0415

    kube, namespace = connect(ns)
    try:
        pod = kube.get_pod(namespace, name)
    except NotFound:
        raise not_found(PODS, name) from None
    container, note = pod_container(pod, ns.container)
    if note:
        _note(note)
    for line in kube.pod_log(namespace, name, container, follow=ns.follow, **options.endpoint()):
        _write(line + "\n")
    return 0


def run(ns: argparse.Namespace) -> int:
    from builder.cli.dc import DEPLOYMENT_CONFIGS  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    kind, _, dc_name = ns.target.partition("/")
    if kind.lower() in DEPLOYMENT_CONFIGS.aliases and dc_name:
        from builder.cli.dclogs import print_log  # noqa: PLC0415

        kube, namespace = connect(ns)
        print_log(kube, namespace, dc_name, version=ns.version, follow=ns.follow, write=_write)
        return 0
    options = log_options(ns)
    resource, name = split_ref(ns.target, PODS, LOGGABLE)
    if resource is PODS:
        if ns.version:
            raise CliError("--version applies to bc/NAME only")
        return _pod_logs(ns, name, options)
    if ns.container:
        raise CliError("-c applies to pods only (a build's log is all its containers)")
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
    stream_build_logs(kube, build, follow=ns.follow, write=_write, note=_note, options=options)
    return 0
