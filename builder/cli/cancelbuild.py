"""``kbuild cancel-build BUILD...``: ask the controller to stop builds, as ``oc cancel-build``.

Cancelling is a request: the CLI sets ``status.cancelled`` through the
status subresource (re-reading and retrying on Conflict, so a concurrent
status write by the controller is never overwritten), prints ``... marked
for cancellation, waiting to be cancelled``, and the controller deletes the
pod and moves the Build to Cancelled; the CLI watches for that and prints
``build.build.openshift.io/NAME cancelled``.  A build that has already
finished is left alone, with a note saying so.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from builder.cli.args import duration_seconds
from builder.cli.common import (
    BUILD_CONFIGS,
    BUILDS,
    CliError,
    add_cluster_flags,
    builds_of,
    connect,
    run_guarded,
    server_message,
    split_ref,
)
from builder.cli.follow import BuildWatch, is_terminal, stream_build_logs, who

if TYPE_CHECKING:
    from builder.api import Build
    from builder.kube import Kube

CANCELLABLE = ("new", "pending", "running")


def states(text: str) -> list[str]:
    values = [s.strip().lower() for s in text.split(",") if s.strip()]
    bad = [s for s in values if s not in CANCELLABLE]
    if bad:
        raise argparse.ArgumentTypeError(
            "invalid --state flag value, must be one of 'new', 'pending', or 'running'"
        )
    return values


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "cancel-build",
        help="cancel new, pending or running builds (oc cancel-build)",
        description=(
            "Cancel builds: BUILD names (or build/NAME), or bc/NAME for every build of a "
            "BuildConfig in --state."
        ),
    )
    p.add_argument("targets", nargs="+", metavar="BUILD|bc/NAME")
    p.add_argument(
        "--state",
        type=states,
        default=list(CANCELLABLE),
        help="only cancel builds in these states (default: new,pending,running)",
    )
    p.add_argument("--dump-logs", action="store_true", help="print the logs of the builds first")
    p.add_argument("--restart", action="store_true", help="start a copy of each cancelled build")
    p.add_argument(
        "--timeout",
        type=duration_seconds,
        default=30.0,
        help="how long to wait for the controller to cancel (default 30s)",
    )
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


@dataclass
class Outcome:
    """What happened to the requested builds; printed as it goes."""

    errors: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        self.errors.append(text)
        print(f"error: {text}", file=sys.stderr, flush=True)


def already_finished(build: Build) -> str:
    return (
        f"{BUILDS.ref(build.metadata.name)} already finished "
        f"({build.status.phase.value}): nothing to cancel"
    )


def _names(kube: Kube, namespace: str, targets: list[str]) -> list[tuple[str, bool]]:
    """(build name, named explicitly) for every target; bc/NAME expands to its builds."""
    names: list[tuple[str, bool]] = []
    for text in targets:
        resource, name = split_ref(text, BUILDS)
        if resource is BUILD_CONFIGS:
            names.extend((b.metadata.name, False) for b in builds_of(kube, namespace, name))
        else:
            names.append((name.strip(), True))
    return names


def request_cancel(kube: Kube, build: Build) -> Build | None:
    """Set status.cancelled; None if the build finished meanwhile."""
    from builder.rules.retry import TooManyConflicts, update_with_retry  # noqa: PLC0415

    def cancel(current: Build) -> Build | None:
        if is_terminal(current):
            return None
        current.status.cancelled = True
        return current

    namespace, name = build.metadata.namespace, build.metadata.name
    try:
        return update_with_retry(
            lambda: kube.builds.get(namespace, name),
            cancel,
            kube.builds.replace_status,
            what=f"build {who(build)}",
            first=build,
        ).written
    except TooManyConflicts:
        raise CliError(
            f"build {who(build)} failed to update: too many concurrent updates"
        ) from None


def _choose(kube: Kube, namespace: str, ns: argparse.Namespace, outcome: Outcome) -> list[Build]:
    from builder.kube import NotFound  # noqa: PLC0415

    chosen: list[Build] = []
    for name, explicit in _names(kube, namespace, ns.targets):
        try:
            build = kube.builds.get(namespace, name)
        except NotFound:
            outcome.error(f"build {namespace}/{name} not found")
            continue
        if is_terminal(build):
            if explicit:
                print(already_finished(build), file=sys.stderr, flush=True)
            continue
        if build.status.phase.value.lower() in ns.state:
            chosen.append(build)
    return chosen


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _dump_logs(kube: Kube, builds: list[Build], outcome: Outcome) -> None:
    from builder.kube import KubeError  # noqa: PLC0415

    for build in builds:
        if build.status.phase.value == "New":
            continue  # never scheduled: no pod, no log
        print(f"==== Build {who(build)} logs ====", flush=True)
        try:
            stream_build_logs(kube, build, follow=False, write=_write, note=_note)
        except CliError as err:
            outcome.error(f"unable to fetch logs for {who(build)}: {err}")
        except KubeError as err:
            outcome.error(f"unable to fetch logs for {who(build)}: {server_message(err.message)}")


def _mark(kube: Kube, builds: list[Build], outcome: Outcome) -> list[tuple[Build, BuildWatch]]:
    from builder.kube import KubeError  # noqa: PLC0415

    watches: list[tuple[Build, BuildWatch]] = []
    for build in builds:
        try:
            marked = request_cancel(kube, build)
        except KubeError as err:
            outcome.error(f"build {who(build)} failed to update: {server_message(err.message)}")
            continue
        if marked is None:
            print(already_finished(build), file=sys.stderr, flush=True)
            continue
        # Watch from here, so a controller quicker than this loop is not missed.
        name = marked.metadata.name
        watches.append((marked, BuildWatch(kube, marked.metadata.namespace, name)))
        print(f"{BUILDS.ref(name)} marked for cancellation, waiting to be cancelled", flush=True)
    return watches


def _await(
    watches: list[tuple[Build, BuildWatch]], timeout: float, outcome: Outcome
) -> list[Build]:
    deadline = time.monotonic() + timeout
    cancelled: list[Build] = []
    for build, watch in watches:
        try:
            final = watch.until(is_terminal, timeout=max(0.0, deadline - time.monotonic()))
        finally:
            watch.close()
        if final is None:
            outcome.error(
                f"build {who(build)} failed to cancel: timed out waiting for the condition "
                "(is the kbuild controller running?)"
            )
        elif final.status.phase.value != "Cancelled":
            outcome.error(
                f"build {who(build)} ended {final.status.phase.value} before it could be cancelled"
            )
        else:
            cancelled.append(final)
            print(f"{BUILDS.ref(build.metadata.name)} cancelled", flush=True)
    return cancelled


def _restart(kube: Kube, builds: list[Build], outcome: Outcome) -> None:
    from builder.cli.startbuild import clone  # noqa: PLC0415
    from builder.kube import KubeError  # noqa: PLC0415
    from builder.rules.instantiate import BuildOptions  # noqa: PLC0415

    for build in builds:
        try:
            copy = clone(kube, build.metadata.namespace, build.metadata.name, BuildOptions())
        except CliError as err:
            outcome.error(f"build {who(build)} failed to restart: {err}")
        except KubeError as err:
            outcome.error(f"build {who(build)} failed to restart: {server_message(err.message)}")
            continue
        print(f"{BUILDS.ref(build.metadata.name)} restarted as {copy.metadata.name}", flush=True)


def run(ns: argparse.Namespace) -> int:
    kube, namespace = connect(ns)
    outcome = Outcome()
    chosen = _choose(kube, namespace, ns, outcome)
    if ns.dump_logs:
        _dump_logs(kube, chosen, outcome)
    cancelled = _await(_mark(kube, chosen, outcome), ns.timeout, outcome)
    if ns.restart:
        _restart(kube, cancelled, outcome)
    if outcome.errors:
        raise CliError("failure during the build cancellation")
    return 0
