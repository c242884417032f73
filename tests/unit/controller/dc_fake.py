"""The in-memory fake of ``tenancy_fake``, with DeploymentConfigs and ReplicationControllers.

ReplicationControllers are plain dicts as the API server returns them: a
create sets uid, resourceVersion and ``generation`` 1, a spec change bumps the
generation, and JSON patches are applied (``replace``/``add``/``remove``/``test`` on a path).
Pods are listed by ``key=value`` selectors and have logs (``pod_logs``).
``run_rcs`` plays kube-controller-manager's RC controller: each RC gets
``status.replicas`` = ``spec.replicas``, and as many ready and available pods
as ``healthy`` says (all of them by default), with ``observedGeneration``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from builder.api.apps import DeploymentConfig
from builder.kube import AlreadyExists, Invalid, NotFound
from tests.unit.controller.tenancy_fake import FakeKube, Store

_counter = itertools.count(1000)


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


class DCFakeKube(FakeKube):
    def __init__(self, grants: set[tuple[str, str, str]] | None = None) -> None:
        super().__init__(grants)
        self.deployment_configs: Store[Any] = Store()
        self.rcs: dict[tuple[str, str], dict[str, Any]] = {}
        self.deleted_rcs: list[str] = []
        self.slow_termination = False
        """When set, a scaled-down RC loses one pod per ``run_rcs`` (pods take time to stop)."""
        self.pod_logs: dict[tuple[str, str, str], list[str]] = {}
        self.refuse_rc: str = ""
        """When set, creating an RC fails with Invalid and this message."""

    # ReplicationControllers
    def list_objects(
        self, resource: Any, namespace: str | None, label_selector: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        assert resource.kind == "ReplicationController"
        key, sep, value = label_selector.partition("=")
        out = []
        for (ns, _), rc in sorted(self.rcs.items()):
            labels = rc["metadata"].get("labels") or {}
            if namespace not in (None, ns):
                continue
            if key and (key not in labels or (sep and labels[key] != value)):
                continue
            out.append(copy.deepcopy(rc))
        return out, "1"

    def create_object(self, resource: Any, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        assert resource.kind == "ReplicationController"
        name = body["metadata"]["name"]
        if (namespace, name) in self.rcs:
            raise AlreadyExists(409, "exists")
        if self.refuse_rc:
            raise Invalid(422, self.refuse_rc)
        rc = copy.deepcopy(body)
        meta = rc["metadata"]
        meta["uid"] = f"rc-{next(_counter)}"
        meta["resourceVersion"] = str(next(_counter))
        meta["generation"] = 1
        meta["namespace"] = namespace
        rc.setdefault("status", {"replicas": 0})
        self.rcs[(namespace, name)] = rc
        return copy.deepcopy(rc)

    def get_object(self, resource: Any, namespace: str, name: str) -> dict[str, Any]:
        if getattr(resource, "kind", "") != "ReplicationController":
            return super().get_object(resource, namespace, name)
        try:
            return copy.deepcopy(self.rcs[(namespace, name)])
        except KeyError:
            raise NotFound(404, "no rc") from None

    def patch_object(
        self, resource: Any, namespace: str, name: str, patch: list[dict[str, Any]]
    ) -> dict[str, Any]:
        if getattr(resource, "kind", "") != "ReplicationController":
            return super().patch_object(resource, namespace, name, patch)
        self.patches.append(patch)
        try:
            rc = self.rcs[(namespace, name)]
        except KeyError:
            raise NotFound(404, "no rc") from None
        for op in patch:
            assert op["op"] in ("add", "replace", "remove", "test"), op
            *parents, last = [_unescape(p) for p in op["path"].split("/")[1:]]
            node = rc
            for part in parents:
                node = node.setdefault(part, {})
            if op["op"] == "test":
                if node.get(last) != op["value"]:
                    raise Invalid(422, "the server rejected our request: test failed")
                continue
            if op["op"] == "remove":
                if last not in node:
                    raise Invalid(422, f"the server rejected our request: no {op['path']}")
                del node[last]
                continue
            if parents and parents[0] == "spec" and node.get(last) != op["value"]:
                rc["metadata"]["generation"] += 1
            node[last] = op["value"]
        rc["metadata"]["resourceVersion"] = str(next(_counter))
        return copy.deepcopy(rc)

    def delete_object(self, resource: Any, namespace: str, name: str) -> None:
        assert resource.kind == "ReplicationController"
        if self.rcs.pop((namespace, name), None) is None:
            raise NotFound(404, "no rc")
        self.deleted_rcs.append(name)

    # pods: selectors with values, and logs
    def list_pods(self, namespace: str | None, label_selector: str) -> tuple[list[Any], str]:
        key, sep, value = label_selector.partition("=")
        pods = [
            copy.deepcopy(p)
            for (ns, _), p in sorted(self.pods.items())
            if namespace in (None, ns)
            and key in (p["metadata"].get("labels") or {})
            and (not sep or p["metadata"]["labels"][key] == value)
        ]
        return pods, "1"

    def pod_log(
        self, namespace: str, name: str, container: str, *, follow: bool = False
    ) -> Iterator[str]:
        del follow
        if (namespace, name) not in self.pods:
            raise NotFound(404, "no pod")
        yield from self.pod_logs.get((namespace, name, container), [])

    # the RC controller
    def run_rcs(self, healthy: Callable[[str], bool] = lambda _name: True) -> None:
        for (_, name), rc in self.rcs.items():
            want = rc["spec"].get("replicas", 1)
            current = (rc.get("status") or {}).get("replicas", 0)
            if self.slow_termination and current > want:
                want = current - 1
            ok = want if healthy(name) else 0
            rc["status"] = {
                "replicas": want,
                "readyReplicas": ok,
                "availableReplicas": ok,
                "observedGeneration": rc["metadata"]["generation"],
            }

    def rc(self, namespace: str, name: str) -> dict[str, Any]:
        return self.rcs[(namespace, name)]

    def dc(self, namespace: str, name: str) -> DeploymentConfig:
        found: DeploymentConfig = self.deployment_configs.get(namespace, name)
        return found

    def replicas(self, namespace: str) -> dict[str, int]:
        return {
            n: rc["spec"]["replicas"] for (ns, n), rc in sorted(self.rcs.items()) if ns == namespace
        }
