"""``kbuild rollout latest|status|history|undo|cancel|retry|pause|resume dc/NAME``: oc's verbs.

- ``latest``: start a new rollout (``deploymentconfig.apps.openshift.io/NAME
  rolled out``); refused while paused or while the latest one is running.
- ``status``: oc's messages until the latest rollout is done (exit 0) or
  failed (exit 1); ``-w=false`` prints once.
- ``history``: REVISION STATUS CAUSE of the rollouts kept; ``--revision N``
  shows that revision's pod template.
- ``undo``: back to the previous complete revision (or ``--to-revision``);
  automatic image triggers are turned off, with oc's warning.

- ``cancel``: stop the rollout in progress (``...NAME cancelling``), or say
  none is (``No rollout is in progress (latest rollout #2 complete 3 minutes
  ago)``);
- ``retry``: run the latest failed rollout again (``...NAME retried rollout #2``);
- ``pause`` / ``resume``: ``spec.paused`` (``...NAME paused``, ``resumed``).

``builder.cli.dcactions`` has their rules (oc's).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from builder.cli.common import CliError, add_cluster_flags, connect, run_guarded, typed_names
from builder.cli.dc import (
    DEPLOYMENT_CONFIGS,
    get_dc,
    history_text,
    request_rollout,
    rollback,
    rollouts_of,
    status_text,
)

if TYPE_CHECKING:
    from builder.kube import Kube

ACTIONS = ("latest", "status", "history", "undo", "cancel", "retry", "pause", "resume")
_USAGE = "dc/NAME or dc NAME"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "rollout",
        help="start, watch, list, undo, cancel, retry, pause and resume DeploymentConfig "
        "rollouts (oc rollout)",
        description="Manage the rollouts of a DeploymentConfig: " + ", ".join(ACTIONS) + ".",
    )
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("args", nargs="+", metavar="dc/NAME")
    p.add_argument("--revision", type=int, default=0,
                   help="history: show this revision's template; status: wait for it")  # fmt: skip
    p.add_argument("--to-revision", type=int, default=0,
                   help="undo: the revision to go back to (default: the previous one)")  # fmt: skip
    p.add_argument("-w", "--watch", default=True, type=_bool,
                   help="status: wait until the rollout ends (default true)")  # fmt: skip
    p.add_argument("--timeout", type=float, default=0.0,
                   help="status: give up after this many seconds (0: never)")  # fmt: skip
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def _bool(text: str) -> bool:
    lowered = text.lower().removeprefix("=")  # -w=false, as kubectl spells it
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {text!r}")


def run(ns: argparse.Namespace) -> int:
    refs = typed_names(ns.args, (DEPLOYMENT_CONFIGS,), _USAGE)
    if len(refs) != 1:
        raise CliError(f"rollout {ns.action} takes one DeploymentConfig")
    name = refs[0][1]
    kube, namespace = connect(ns)
    ref = DEPLOYMENT_CONFIGS.ref(name)
    if ns.action == "latest":
        request_rollout(kube, namespace, name)
        print(f"{ref} rolled out")
        return 0
    if ns.action == "undo":
        disabled = rollback(kube, namespace, name, ns.to_revision)
        if disabled:
            print(
                "Warning: the following images triggers were disabled: "
                f"{', '.join(disabled)}\n  You can re-enable them with: "
                f"kbuild set triggers dc/{name} --auto",
                file=sys.stderr,
            )
        print(f"{ref} rolled back")
        return 0
    if ns.action == "history":
        return _history(kube, namespace, name, ns.revision)
    if ns.action in ("cancel", "retry", "pause", "resume"):
        return _act(kube, namespace, name, ns.action)
    return _status(kube, namespace, name, ns)


def _act(kube: Kube, namespace: str, name: str, action: str) -> int:
    from datetime import UTC, datetime  # noqa: PLC0415

    from builder.cli import dcactions  # noqa: PLC0415

    if action == "cancel":
        result = dcactions.cancel(kube, namespace, name, datetime.now(UTC))
        for line in result.lines:
            print(line, flush=True)
        if result.errors:
            raise CliError("\n".join(result.errors))
        return 0
    if action == "retry":
        print(dcactions.retry(kube, namespace, name), flush=True)
        return 0
    print(dcactions.set_paused(kube, namespace, name, action == "pause"), flush=True)
    return 0


def _history(kube: Kube, namespace: str, name: str, revision: int) -> int:
    import yaml  # noqa: PLC0415

    from builder.controller.dcrollout import deployed_template, rollout_of  # noqa: PLC0415

    dc = get_dc(kube, namespace, name)
    rcs = rollouts_of(kube, dc)
    if not revision:
        sys.stdout.write(history_text(dc, rcs))
        return 0
    for rc in rcs:
        if rollout_of(rc).version == revision:
            template = deployed_template(rc) or {}
            print(f'deploymentconfigs "{name}" with revision #{revision}')
            sys.stdout.write(yaml.safe_dump(template, default_flow_style=False, sort_keys=True))
            return 0
    raise CliError(f"unable to find the specified revision {revision}")


def _status(kube: Kube, namespace: str, name: str, ns: argparse.Namespace) -> int:
    deadline = time.monotonic() + ns.timeout if ns.timeout else None
    last = ""
    while True:
        dc = get_dc(kube, namespace, name)
        if ns.revision and dc.status.latest_version != ns.revision:
            raise CliError(
                f"desired revision ({ns.revision}) is different from the running revision "
                f"({dc.status.latest_version})"
            )
        message, done, error = status_text(dc)
        if error:
            raise CliError(error)
        if message and message != last:
            sys.stdout.write(message)
            sys.stdout.flush()
            last = message
        if done or not ns.watch:
            return 0
        if deadline is not None and time.monotonic() > deadline:
            raise CliError(f"timed out waiting for the rollout of dc/{name}")
        time.sleep(1.0)
