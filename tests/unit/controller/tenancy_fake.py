"""A small in-memory stand-in for ``builder.kube.Kube``, for reconciler and manager tests.

It models what these tests depend on: resourceVersion bumps on every write,
Conflict on a stale write, uids, a RBAC-like table for SubjectAccessReviews
(``grants``: (user or group, verb, namespace)), the watch events every write
causes (``Store.events``, drained into informers by the tests), and a log of
every call that would be an API request (``FakeKube.calls``), so a test can
say "this reconcile made no request".
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Generic, TypeVar

from builder.api import Build, BuildConfig, ImageStream
from builder.kube import AlreadyExists, Conflict, KubeError, NotFound

M = TypeVar("M", Build, BuildConfig, ImageStream)
_counter = itertools.count(1)


class Store(Generic[M]):
    def __init__(self, calls: list[str] | None = None, kind: str = "") -> None:
        self.objects: dict[tuple[str, str], M] = {}
        # Watch events of every write, oldest first, until a test drains them.
        self.events: list[tuple[str, M]] = []
        self.calls = calls if calls is not None else []
        self.kind = kind
        self.on_invalid: Any = None

    def _call(self, verb: str) -> None:
        self.calls.append(f"{verb} {self.kind}")

    def _bump(self, obj: M) -> M:
        obj = obj.model_copy(deep=True)
        obj.metadata.resource_version = str(next(_counter))
        if not obj.metadata.uid:
            obj.metadata.uid = f"uid-{next(_counter)}"
        key = (obj.metadata.namespace, obj.metadata.name)
        kind = "MODIFIED" if key in self.objects else "ADDED"
        self.objects[key] = obj
        self.events.append((kind, obj.model_copy(deep=True)))
        return obj.model_copy(deep=True)

    def drain(self) -> list[tuple[str, M]]:
        events, self.events = self.events, []
        return events

    def delete(self, namespace: str, name: str) -> None:
        self._call("delete")
        obj = self.objects.pop((namespace, name), None)
        if obj is None:
            raise NotFound(404, f"{namespace}/{name} not found")
        self.events.append(("DELETED", obj))

    def get(self, namespace: str, name: str) -> M:
        self._call("get")
        try:
            return self.objects[(namespace, name)].model_copy(deep=True)
        except KeyError:
            raise NotFound(404, f"{namespace}/{name} not found") from None

    def list(self, namespace: str | None = None, label_selector: str = "") -> tuple[list[M], str]:
        self._call("list")
        key, _, value = label_selector.partition("=")
        items = [
            o.model_copy(deep=True)
            for (ns, _), o in sorted(self.objects.items())
            if namespace in (None, ns) and (not key or (o.metadata.labels or {}).get(key) == value)
        ]
        return items, "1"

    def create(self, obj: M) -> M:
        self._call("create")
        if (obj.metadata.namespace, obj.metadata.name) in self.objects:
            raise AlreadyExists(409, "exists")
        return self._bump(obj)

    def _check(self, obj: M) -> M:
        try:
            current = self.objects[(obj.metadata.namespace, obj.metadata.name)]
        except KeyError:
            raise NotFound(404, "not found") from None
        if obj.metadata.resource_version != current.metadata.resource_version:
            raise Conflict(409, "conflict")
        return current

    def replace(self, obj: M) -> M:
        self._call("replace")
        current = self._check(obj)
        obj = obj.model_copy(deep=True)
        obj.status = current.status
        return self._bump(obj)

    def replace_status(self, obj: M) -> M:
        self._call("replace_status")
        current = self._check(obj).model_copy(deep=True)
        current.status = copy.deepcopy(obj.status)
        return self._bump(current)

    def patch_metadata(self, namespace: str, name: str, metadata: dict[str, Any]) -> M:
        self._call("patch")
        try:
            current = self.objects[(namespace, name)].model_copy(deep=True)
        except KeyError:
            raise NotFound(404, "not found") from None
        annotations = dict(current.metadata.annotations or {})
        annotations.update(metadata.get("annotations") or {})
        current.metadata.annotations = annotations
        return self._bump(current)


class FakeKube:
    def __init__(self, grants: set[tuple[str, str, str]] | None = None) -> None:
        # Every call that would be an API request, as "verb kind".
        self.calls: list[str] = []
        self.build_configs: Store[BuildConfig] = Store(self.calls, "buildconfigs")
        self.builds: Store[Build] = Store(self.calls, "builds")
        self.image_streams: Store[ImageStream] = Store(self.calls, "imagestreams")
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.secrets: dict[str, list[dict[str, Any]]] = {}
        self.grants = grants or set()
        self.reviews: list[tuple[str, str, str]] = []
        self.secret_selectors: list[str] = []
        # Namespaces that have not lent their secrets to the controller (403).
        self.secrets_forbidden: set[str] = set()
        self.workloads: dict[tuple[str, str], dict[str, Any]] = {}
        self.patches: list[list[dict[str, Any]]] = []

    @property
    def live(self) -> FakeKube:
        return self

    # pods
    def create_pod(self, namespace: str, pod: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("create pods")
        name = pod["metadata"]["name"]
        if (namespace, name) in self.pods:
            raise AlreadyExists(409, "exists")
        pod = copy.deepcopy(pod)
        pod["metadata"]["uid"] = f"pod-{next(_counter)}"
        self.pods[(namespace, name)] = pod
        return copy.deepcopy(pod)

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        self.calls.append("get pods")
        try:
            return copy.deepcopy(self.pods[(namespace, name)])
        except KeyError:
            raise NotFound(404, "no pod") from None

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        del grace_seconds  # deletion here is immediate
        self.calls.append("delete pods")
        if self.pods.pop((namespace, name), None) is None:
            raise NotFound(404, "no pod")

    # events and secrets
    def list_pods(self, namespace: str | None, label_selector: str) -> tuple[list[Any], str]:
        key = label_selector.partition("=")[0]
        pods = [
            copy.deepcopy(p)
            for (ns, _), p in sorted(self.pods.items())
            if namespace in (None, ns) and key in (p["metadata"].get("labels") or {})
        ]
        return pods, "1"

    def list_objects(self, resource: Any, namespace: str | None) -> tuple[list[Any], str]:
        items = [
            copy.deepcopy(o)
            for (ns, _), o in sorted(self.workloads.items())
            if o.get("kind") == resource.kind and namespace in (None, ns)
        ]
        return items, "1"

    def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        self.events.append({**event, "namespace": namespace})

    # workloads: one object by (namespace, name); patches are recorded, not applied
    def get_object(self, resource: Any, namespace: str, name: str) -> dict[str, Any]:
        del resource
        self.calls.append("get workloads")
        try:
            return copy.deepcopy(self.workloads[(namespace, name)])
        except KeyError:
            raise NotFound(404, "no object") from None

    def patch_object(
        self, resource: Any, namespace: str, name: str, patch: list[dict[str, Any]]
    ) -> dict[str, Any]:
        self.calls.append("patch workloads")
        self.patches.append(patch)
        return self.get_object(resource, namespace, name)

    def list_secrets(self, namespace: str, field_selector: str = "") -> list[dict[str, Any]]:
        self.secret_selectors.append(field_selector)
        if namespace in self.secrets_forbidden:
            raise KubeError(403, f'cannot list resource "secrets" in {namespace}')
        wanted = field_selector.removeprefix("type=")
        return [s for s in self.secrets.get(namespace, []) if not wanted or s["type"] == wanted]

    # authorization
    def access_review(
        self, user: str, groups: list[str], resource_attributes: dict[str, str]
    ) -> tuple[bool, str]:
        verb, namespace = resource_attributes["verb"], resource_attributes["namespace"]
        assert resource_attributes["resource"] == "imagestreams"
        assert resource_attributes["subresource"] == "layers"
        self.reviews.append((user, verb, namespace))
        allowed = any((who, verb, namespace) in self.grants for who in [user, *groups])
        return allowed, "" if allowed else "no RBAC policy matched"
