"""``new-app ... --as-deployment-config``: the application as a DeploymentConfig, as oc made it.

oc made a DeploymentConfig for ``new-app`` until 4.x (seed 000:
``deploymentconfig "nodejs-ex" created``), and still does with
``--as-deployment-config``.  The objects are new-app's usual ones
(``builder.cli.appobjects``) with the Deployment turned into oc's
DeploymentConfig:

- ``replicas: 1``, ``selector`` and pod labels ``deploymentconfig: NAME``
  (plus ``-l``), where the Deployment has ``deployment: NAME``;
- the container's image is the image stream tag's name (oc's placeholder;
  the ImageChange trigger puts the built image there, and the first rollout
  waits for it);
- ``triggers``: ``ConfigChange``, and ``ImageChange`` (``automatic: true``)
  on the tag the Deployment's ``image.openshift.io/triggers`` followed, for
  that container;
- the Service selects ``deploymentconfig: NAME``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

_TRIGGERS_ANNOTATION = "image.openshift.io/triggers"
DC_LABEL = "deploymentconfig"


def _pod_labels(labels: Mapping[str, str], name: str) -> dict[str, str]:
    out = {DC_LABEL: name}
    out.update({k: v for k, v in labels.items() if k != "deployment"})
    return out


def _source(deployment: Mapping[str, Any]) -> dict[str, str]:
    annotations = (deployment.get("metadata") or {}).get("annotations") or {}
    triggers = json.loads(annotations.get(_TRIGGERS_ANNOTATION) or "[]")
    source = dict(triggers[0]["from"]) if triggers else {}
    return {"kind": "ImageStreamTag", **{k: str(v) for k, v in source.items() if v}}


def deployment_config(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """oc's DeploymentConfig for new-app's Deployment."""
    meta = copy.deepcopy(dict(deployment.get("metadata") or {}))
    name = str(meta["name"])
    annotations = dict(meta.get("annotations") or {})
    source = _source(deployment)
    annotations.pop(_TRIGGERS_ANNOTATION, None)
    meta["annotations"] = annotations
    template = copy.deepcopy((deployment.get("spec") or {}).get("template") or {})
    labels = _pod_labels((template.get("metadata") or {}).get("labels") or {}, name)
    template.setdefault("metadata", {})["labels"] = labels
    containers = (template.get("spec") or {}).get("containers") or []
    for container in containers:
        container["image"] = source.get("name", container.get("image", ""))
    return {
        "apiVersion": "apps.openshift.io/v1",
        "kind": "DeploymentConfig",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": dict(labels),
            "template": template,
            "test": False,
            "triggers": [
                {"type": "ConfigChange"},
                {
                    "type": "ImageChange",
                    "imageChangeParams": {
                        "automatic": True,
                        "containerNames": [str(c.get("name")) for c in containers],
                        "from": source,
                    },
                },
            ],
        },
    }


def as_deployment_config(objects: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """new-app's objects with the Deployment a DeploymentConfig and the Service selecting it."""
    out: list[dict[str, Any]] = []
    for obj in objects:
        if obj.get("kind") == "Deployment":
            out.append(deployment_config(obj))
        elif obj.get("kind") == "Service":
            service = copy.deepcopy(dict(obj))
            selector = service.get("spec", {}).get("selector") or {}
            name = str(service["metadata"]["name"])
            service["spec"]["selector"] = _pod_labels(selector, name)
            out.append(service)
        else:
            out.append(copy.deepcopy(dict(obj)))
    return out


__all__ = ["as_deployment_config", "deployment_config"]
