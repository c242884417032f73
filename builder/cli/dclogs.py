"""``kbuild logs dc/NAME [--version N] [-f]``: a rollout's log, as ``oc logs dc/NAME`` shows it.

On OpenShift that is the deployer pod's log (``--> Scaling up web-2 from 0
to 2, ...``, ``    Scaling web-2 up to 1``, ``--> Success``) with its hook
pods' output inside it, and, once no deployer pod is left, the log of one of
the rollout's own pods.  kbuild has no deployer pod: the controller writes
the same lines to the ReplicationController (annotation
``apps.kbuild.io/rollout-log``, its last 200 lines), and this command prints
them with each hook pod's log (container ``lifecycle``) after the line that
started it, read with the caller's own rights.  A rollout without that log
(made before kbuild kept it) falls back to one of its pods, as oc does.

``-f`` prints new lines until the rollout ends; ``--version`` picks an older
rollout.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from builder.cli.common import CliError
from builder.cli.dc import get_dc, rollouts_of

if TYPE_CHECKING:
    from builder.kube import Kube

_HOOK_LINE = "--> {stage}: Running hook pod ..."
FOLLOW_SECONDS = 1.0


def _rollout(kube: Kube, namespace: str, name: str, version: int) -> dict[str, Any]:
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415

    dc = get_dc(kube, namespace, name)
    wanted = version or dc.status.latest_version
    if wanted <= 0:
        raise CliError(f'deploymentconfig "{name}" has no rollouts yet (status.latestVersion is 0)')
    for rc in rollouts_of(kube, dc):
        if rollout_of(rc).version == wanted:
            return rc
    raise CliError(f'replicationcontrollers "{name}-{wanted}" not found')


def _hook_log(kube: Kube, namespace: str, rc_name: str, line: str) -> Iterator[str]:
    """The hook pod's log after the line that started it (nothing if the pod is gone)."""
    from builder.controller.dchooks import Stage, hook_pod_name  # noqa: PLC0415
    from builder.kube import KubeError, Unreachable  # noqa: PLC0415

    for stage in Stage:
        if line.strip() != _HOOK_LINE.format(stage=stage.value):
            continue
        try:
            yield from kube.pod_log(namespace, hook_pod_name(rc_name, stage), "lifecycle")
        except Unreachable:
            raise
        except KubeError:
            return


def log_lines(kube: Kube, namespace: str, rc: Mapping[str, Any]) -> list[str]:
    """The rollout's log with its hook pods' output, or one of its pods' log."""
    from builder.api.apps import DEPLOYMENT_LABEL, DEPLOYMENT_LOG_ANNOTATION  # noqa: PLC0415

    meta = rc.get("metadata") or {}
    rc_name = str(meta.get("name", ""))
    text = (meta.get("annotations") or {}).get(DEPLOYMENT_LOG_ANNOTATION)
    if isinstance(text, str) and text:
        out: list[str] = []
        for line in text.splitlines():
            out.append(line)
            out.extend(_hook_log(kube, namespace, rc_name, line))
        return out
    pods, _ = kube.list_pods(namespace, f"{DEPLOYMENT_LABEL}={rc_name}")
    for pod in sorted(pods, key=lambda p: str((p.get("metadata") or {}).get("name", ""))):
        containers = (pod.get("spec") or {}).get("containers") or []
        if not containers:
            continue
        pod_name = str((pod.get("metadata") or {}).get("name", ""))
        return list(kube.pod_log(namespace, pod_name, str(containers[0].get("name", ""))))
    raise CliError(f"replication controller {rc_name!r} has no log and no pods")


def print_log(
    kube: Kube,
    namespace: str,
    name: str,
    *,
    version: int = 0,
    follow: bool = False,
    write: Callable[[str], object] = sys.stdout.write,
) -> None:
    from builder.controller.dcrollout import rollout_of  # noqa: PLC0415

    printed = 0
    while True:
        rc = _rollout(kube, namespace, name, version)
        lines = log_lines(kube, namespace, rc)
        for line in lines[printed:]:
            write(line + "\n")
        printed = max(printed, len(lines))
        if not follow or rollout_of(rc).terminal:
            return
        version = rollout_of(rc).version
        time.sleep(FOLLOW_SECONDS)


__all__ = ["log_lines", "print_log"]
