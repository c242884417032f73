"""``kbuild rollback dc/NAME|rc/NAME-N [--to-version N]``: oc's rollback of a DeploymentConfig.

The template of the chosen rollout (``--to-version``, else the newest
complete one older than the latest; or the named ReplicationController)
goes back into the DeploymentConfig, every image trigger is turned off,
and a new version is asked for: ``builder.cli.dcactions`` has oc's rules.
The output is oc's: ``deploymentconfig.apps.openshift.io/NAME deployment #3
rolled back to NAME-1``, then one warning per image trigger it turned off.
"""

from __future__ import annotations

import argparse

from builder.cli.common import add_cluster_flags, connect, run_guarded


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "rollback",
        help="revert a deployment config to a previous rollout (oc rollback)",
        description=(
            "Revert dc/NAME to the template of a previous rollout (the last complete one, or "
            "--to-version), or to rc/NAME-N's.  Image triggers are turned off so a tag move "
            "does not undo the rollback; re-enable them with 'kbuild set triggers dc/NAME --auto'."
        ),
    )
    p.add_argument("target", metavar="dc/NAME|rc/NAME-N|NAME")
    p.add_argument("--to-version", type=int, default=0,
                   help="the config version to go back to (0: the last complete one)")  # fmt: skip
    p.add_argument("--change-triggers", action="store_true",
                   help="also restore the triggers of that version")  # fmt: skip
    p.add_argument("--change-scaling-settings", action="store_true",
                   help="also restore replicas and selector")  # fmt: skip
    p.add_argument("--change-strategy", action="store_true",
                   help="also restore the deployment strategy")  # fmt: skip
    p.add_argument("--dry-run", action="store_true",
                   help="print what would be rolled back, change nothing")  # fmt: skip
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def run(ns: argparse.Namespace) -> int:
    from builder.cli.dcactions import RollbackOptions, rollback, rollback_message  # noqa: PLC0415

    options = RollbackOptions(
        to_version=ns.to_version,
        change_triggers=ns.change_triggers,
        change_scaling=ns.change_scaling_settings,
        change_strategy=ns.change_strategy,
    )
    kube, namespace = connect(ns)
    rolled, target = rollback(kube, namespace, ns.target, options, dry_run=ns.dry_run)
    print(rollback_message(rolled, target, dry_run=ns.dry_run), flush=True)
    return 0
