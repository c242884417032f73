"""DeploymentConfig lifecycle hooks as pure functions: which hook runs when, its pod, its outcome.

OpenShift's deployer pod runs a rollout's hooks: ``pre`` before the strategy
scales anything, ``mid`` (Recreate only) once the old pods are gone and
before the new ones are scaled up, ``post`` once the new rollout is
available.  kbuild runs the strategies in the controller (``dcrollout``
says why), so the controller runs the hooks too, one look per reconcile:

- ``execNewPod`` is a **hook pod** ``<rc>-hook-<stage>`` made as OpenShift's
  deployer makes it (``createHookPodManifest``): one container ``lifecycle``
  with the image, working directory, resources, security context and
  ``imagePullPolicy`` of the template's container ``containerName``, the
  hook's ``command``, that container's env with the hook's env over it plus
  ``OPENSHIFT_DEPLOYMENT_NAME``/``_NAMESPACE``, the template's volumes the
  hook names with the container's mounts of them, and the template's pull
  secrets, node selector, tolerations, service account and pod security
  context.  So a hook pod can do exactly what the rollout's own pods can, in
  the same namespace, as the same service account: nothing more.
- ``tagImages`` moves image stream tags to the image a container of the
  rollout runs; that is an act on image streams, checked by the controller
  (``deploymentconfig``), see ``docs/deploymentconfigs.md``.
- ``failurePolicy``: ``Abort`` fails the rollout when the hook fails,
  ``Retry`` makes the pod ``restartPolicy: OnFailure`` (the kubelet retries;
  a pod that still fails, at its deadline, fails the rollout as Abort does:
  OpenShift treats them alike once the pod has failed), ``Ignore`` logs the
  failure and goes on.

The hook's state lives on the ReplicationController (annotations
``apps.kbuild.io/hook-<stage>`` and ``...-pod``, the uid of the pod the
controller created: a pod of the same name someone else made is never
believed), so a restarted controller picks a running hook up where it was.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from builder.api.apps import (
    DEPLOYER_POD_FOR_LABEL,
    DEPLOYER_POD_TYPE_LABEL,
    DEPLOYMENT_NAME_ANNOTATION,
    HOOK_ANNOTATION_PREFIX,
    HOOK_CONTAINER_NAME,
    DeploymentConfig,
    DeploymentStrategyType,
    LifecycleHook,
    LifecycleHookFailurePolicy,
)
from builder.api.base import to_dict

HOOK_GRACE_SECONDS = 10
"""The hook pod's ``terminationGracePeriodSeconds`` (OpenShift's)."""


class Stage(StrEnum):
    PRE = "pre"
    MID = "mid"
    POST = "post"


class HookState(StrEnum):
    """A hook's outcome, as kept on the ReplicationController."""

    RUNNING = "Running"
    COMPLETE = "Complete"
    FAILED = "Failed"
    """Failed and ignored (``failurePolicy: Ignore``); an aborting failure fails the rollout."""


def state_annotation(stage: Stage) -> str:
    return f"{HOOK_ANNOTATION_PREFIX}{stage.value}"


def pod_annotation(stage: Stage) -> str:
    return f"{HOOK_ANNOTATION_PREFIX}{stage.value}-pod"


def hook_annotations() -> list[str]:
    """Every annotation a hook keeps on the RC (cleared when a rollout starts again)."""
    return [a for s in Stage for a in (state_annotation(s), pod_annotation(s))]


def hook_pod_name(rc_name: str, stage: Stage) -> str:
    """``<rc>-hook-<stage>``: OpenShift's ``namer.GetPodName(rc, "hook-pre")``."""
    return f"{rc_name}-hook-{stage.value}"


def hooks_of(dc: DeploymentConfig) -> dict[Stage, LifecycleHook]:
    """The hooks of the strategy in use, by stage."""
    strategy = dc.spec.strategy
    found: dict[Stage, LifecycleHook | None] = {}
    if (strategy.type or DeploymentStrategyType.ROLLING) == DeploymentStrategyType.RECREATE:
        params = strategy.recreate_params
        if params is not None:
            found = {Stage.PRE: params.pre, Stage.MID: params.mid, Stage.POST: params.post}
    else:
        rolling = strategy.rolling_params
        if rolling is not None:
            found = {Stage.PRE: rolling.pre, Stage.POST: rolling.post}
    return {stage: hook for stage, hook in found.items() if hook is not None}


def _template_spec(dc: DeploymentConfig) -> dict[str, Any]:
    spec = (dc.spec.template or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def _containers(spec: Mapping[str, Any], key: str = "containers") -> dict[str, dict[str, Any]]:
    items = spec.get(key)
    if not isinstance(items, list):
        return {}
    return {str(c.get("name")): c for c in items if isinstance(c, dict)}


def problems(dc: DeploymentConfig) -> list[str]:
    """What makes a hook unrunnable, by path (OpenShift's API validation of hooks)."""
    strategy = dc.spec.strategy
    kind = strategy.type or DeploymentStrategyType.ROLLING
    where = "recreateParams" if kind == DeploymentStrategyType.RECREATE else "rollingParams"
    spec = _template_spec(dc)
    containers = _containers(spec)
    every = {**_containers(spec, "initContainers"), **containers}
    volumes = {str(v.get("name")) for v in spec.get("volumes") or [] if isinstance(v, dict)}
    found: list[str] = []
    for stage, hook in hooks_of(dc).items():
        path = f"spec.strategy.{where}.{stage.value}"
        if hook.failure_policy is None:
            found.append(f"{path}.failurePolicy: must be Abort, Retry or Ignore")
        if (hook.exec_new_pod is None) == (not hook.tag_images):
            found.append(f"{path}: exactly one of execNewPod or tagImages is required")
        if hook.exec_new_pod is not None:
            exec_ = hook.exec_new_pod
            if not exec_.command:
                found.append(f"{path}.execNewPod.command: a command is required")
            if exec_.container_name not in containers:
                found.append(
                    f"{path}.execNewPod.containerName: no container "
                    f"{exec_.container_name!r} in the pod template"
                )
            found.extend(
                f"{path}.execNewPod.volumes: no volume {name!r} in the pod template"
                for name in exec_.volumes
                if name not in volumes
            )
        for index, action in enumerate(hook.tag_images):
            at = f"{path}.tagImages[{index}]"
            if action.container_name not in every:
                found.append(
                    f"{at}.containerName: no container {action.container_name!r} in the pod "
                    "template"
                )
            name, colon, tag = action.to.name.partition(":")
            if action.to.kind not in ("", "ImageStreamTag") or not colon or not name or not tag:
                found.append(f"{at}.to: must be an ImageStreamTag NAME:TAG")
    return found


def hook_pod(
    rc: Mapping[str, Any], stage: Stage, hook: LifecycleHook, deadline_seconds: int
) -> dict[str, Any]:
    """The hook pod of ``stage`` for the rollout ``rc`` (its template, as deployed).

    ``problems`` has checked that the container exists and the command is set.
    """
    exec_ = hook.exec_new_pod
    if exec_ is None:
        raise ValueError("not an execNewPod hook")
    meta = rc.get("metadata") or {}
    rc_name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
    spec = ((rc.get("spec") or {}).get("template") or {}).get("spec") or {}
    base = _containers(spec)[exec_.container_name]
    env: dict[str, dict[str, Any]] = {}
    for item in base.get("env") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            env[item["name"]] = copy.deepcopy(item)
    for var in exec_.env:
        env[var.name] = to_dict(var)
    env.pop("OPENSHIFT_DEPLOYMENT_NAME", None)
    env.pop("OPENSHIFT_DEPLOYMENT_NAMESPACE", None)
    merged = [*env.values(),
              {"name": "OPENSHIFT_DEPLOYMENT_NAME", "value": rc_name},
              {"name": "OPENSHIFT_DEPLOYMENT_NAMESPACE", "value": namespace}]  # fmt: skip
    wanted = set(exec_.volumes)
    volumes = [
        copy.deepcopy(v) for v in spec.get("volumes") or []
        if isinstance(v, dict) and v.get("name") in wanted
    ]  # fmt: skip
    mounts = [
        copy.deepcopy(m) for m in base.get("volumeMounts") or []
        if isinstance(m, dict) and m.get("name") in wanted
    ]  # fmt: skip
    container: dict[str, Any] = {
        "name": HOOK_CONTAINER_NAME,
        "image": base.get("image", ""),
        "command": list(exec_.command),
        "env": merged,
    }
    for key in ("imagePullPolicy", "workingDir", "resources", "securityContext"):
        if base.get(key) not in (None, "", {}):
            container[key] = copy.deepcopy(base[key])
    if mounts:
        container["volumeMounts"] = mounts
    retry = hook.failure_policy == LifecycleHookFailurePolicy.RETRY
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "restartPolicy": "OnFailure" if retry else "Never",
        "activeDeadlineSeconds": max(1, deadline_seconds),
        "terminationGracePeriodSeconds": HOOK_GRACE_SECONDS,
    }
    if volumes:
        pod_spec["volumes"] = volumes
    for key in ("securityContext", "imagePullSecrets", "nodeSelector", "tolerations",
                "serviceAccountName"):  # fmt: skip
        if spec.get(key) not in (None, "", {}, []):
            pod_spec[key] = copy.deepcopy(spec[key])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": hook_pod_name(rc_name, stage),
            "namespace": namespace,
            "labels": {
                DEPLOYER_POD_FOR_LABEL: rc_name,
                DEPLOYER_POD_TYPE_LABEL: f"hook-{stage.value}",
            },
            "annotations": {DEPLOYMENT_NAME_ANNOTATION: rc_name},
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ReplicationController",
                    "name": rc_name,
                    "uid": str(meta.get("uid", "")),
                    "controller": True,
                }
            ],
        },
        "spec": pod_spec,
    }


@dataclass(frozen=True)
class PodOutcome:
    """What a hook pod says: still running, succeeded, or failed (and why)."""

    done: bool
    succeeded: bool = False
    message: str = ""


def pod_outcome(pod: Mapping[str, Any]) -> PodOutcome:
    """The outcome of a hook pod from its status (phase, then the container's termination)."""
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return PodOutcome(done=True, succeeded=True)
    if phase != "Failed":
        return PodOutcome(done=False)
    reason = str(status.get("reason") or "")
    detail = str(status.get("message") or "")
    for item in status.get("containerStatuses") or []:
        if not isinstance(item, dict):
            continue
        terminated = (item.get("state") or {}).get("terminated") or {}
        if terminated:
            code = terminated.get("exitCode")
            why = terminated.get("reason") or reason
            return PodOutcome(done=True, message=f"exit code {code}" + (f" ({why})" if why else ""))
    text = reason + (f": {detail}" if detail else "")
    return PodOutcome(done=True, message=text or "the hook pod failed")


def container_image(rc: Mapping[str, Any], name: str) -> str | None:
    """The image the rollout's container (or init container) ``name`` runs."""
    spec = ((rc.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = {**_containers(spec, "initContainers"), **_containers(spec)}.get(name)
    image = found.get("image") if found is not None else None
    return image if isinstance(image, str) and image else None


__all__ = [
    "HookState",
    "PodOutcome",
    "Stage",
    "container_image",
    "hook_annotations",
    "hook_pod",
    "hook_pod_name",
    "hooks_of",
    "pod_annotation",
    "pod_outcome",
    "problems",
    "state_annotation",
]
