"""A ``Kube`` that reads from informer stores and writes to the API server.

What controller-runtime's client is to shipwright: the reconcilers keep
calling ``kube.builds.get`` and ``kube.get_pod``, and those answers come from
memory, so a reconcile that finds nothing to do makes no request.  Writes
(create, replace, status, patch, delete) go to the API server unchanged.

Read-your-writes: a store lags the API server by one watch event.  Every
write's answer is remembered (its resourceVersion) until the store has
caught up with it; until then ``get`` of that object asks the API server, so
a reconcile never acts on a state older than one it wrote itself (a Build
seen New after its pod was created would create the pod again).  An object
created here and not in the store yet is read from the API server for the
same reason.  Everything else missing from a store does not exist.

``live`` is the API server itself, for the few reads that must be fresh:
the read-modify-write of ``instantiate`` under optimistic concurrency, and
a retry after a Conflict.
"""

from __future__ import annotations

import copy
import threading
from typing import Any, Generic, cast

from builder.kube.client import CustomResources, Kube, M
from builder.kube.errors import NotFound
from builder.kube.informer import Store, meta_of, newer
from builder.kube.resources import CoreResource

# Writes whose watch event has not reached the store yet; entries leave as
# soon as it does, so this stays small.  A hard cap bounds a store that
# stopped following (its informer's watch is down): the oldest are dropped.
MAX_PENDING_WRITES = 10_000


class _Written:
    """resourceVersions written by this process that a store has not seen yet."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def wrote(self, obj: Any) -> None:
        namespace, name, version = meta_of(obj)
        with self._lock:
            if len(self._versions) >= MAX_PENDING_WRITES:
                self._versions.pop(next(iter(self._versions)))
            self._versions[(namespace, name)] = version

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._versions.pop((namespace, name), None)

    def stale(self, namespace: str, name: str, cached: Any) -> bool:
        """Whether ``cached`` (None: not stored) is older than our last write of it."""
        with self._lock:
            written = self._versions.get((namespace, name))
            if written is None:
                return False
            if cached is not None and not newer(written, meta_of(cached)[2]):
                del self._versions[(namespace, name)]  # the store caught up
                return False
            return True


class CachedResources(Generic[M]):
    """``CustomResources``' interface: reads from a store, the rest from ``live``."""

    def __init__(self, live: CustomResources[M], store: Store[M], scope: str | None = None) -> None:
        self.live: CustomResources[M] = live
        self.store: Store[M] = store
        # The one namespace the informer watches (None: all).  Reads of any
        # other namespace (an input stream of another team) go to the API
        # server: the store cannot know them.
        self.scope = scope
        self._written = _Written()

    def _outside(self, namespace: str | None) -> bool:
        return self.scope is not None and namespace != self.scope

    def __getattr__(self, name: str) -> Any:
        return getattr(self.live, name)  # resource, model, on_invalid, watch

    def get(self, namespace: str, name: str) -> M:
        if self._outside(namespace):
            return self.live.get(namespace, name)
        cached = self.store.get(namespace, name)
        if self._written.stale(namespace, name, cached):
            return self.live.get(namespace, name)
        if cached is None:
            raise NotFound(404, f"{namespace}/{name} not found")
        return cached.model_copy(deep=True)

    def list(self, namespace: str | None = None, label_selector: str = "") -> tuple[list[M], str]:
        """Stored objects matching an equality selector (``k=v,k2=v2``, what kbuild uses)."""
        if self._outside(namespace):
            return self.live.list(namespace, label_selector)
        wanted = [
            (k.strip(), v.strip())
            for k, _, v in (part.partition("=") for part in label_selector.split(",") if part)
        ]
        items = [
            o.model_copy(deep=True)
            for o in self.store.objects(namespace)
            if all((o.metadata.labels or {}).get(k) == v for k, v in wanted)
        ]
        items.sort(key=lambda o: (o.metadata.namespace, o.metadata.name))
        return items, ""

    def _wrote(self, obj: M) -> M:
        self._written.wrote(obj)
        return obj

    def create(self, obj: M) -> M:
        return self._wrote(self.live.create(obj))

    def replace(self, obj: M) -> M:
        return self._wrote(self.live.replace(obj))

    def replace_status(self, obj: M) -> M:
        return self._wrote(self.live.replace_status(obj))

    def patch_metadata(self, namespace: str, name: str, metadata: dict[str, Any]) -> M:
        return self._wrote(self.live.patch_metadata(namespace, name, metadata))

    def delete(self, namespace: str, name: str) -> None:
        self.live.delete(namespace, name)
        self._written.forget(namespace, name)


class CachedKube:
    """``Kube``'s interface: reads from the stores given, everything else through ``live``.

    Not a subclass: whatever it does not answer from memory is the live
    client's own method (``__getattr__``), so no request can slip past the
    live client's error translation and timeouts.  ``as_kube`` hands it to
    code typed for ``Kube``.
    """

    def __init__(
        self,
        live: Kube,
        *,
        build_configs: Store[Any],
        builds: Store[Any],
        image_streams: Store[Any],
        pods: Store[dict[str, Any]],
        workloads: dict[str, Store[dict[str, Any]]],
        scope: str | None = None,
    ) -> None:
        self.live = live
        self.build_configs: CachedResources[Any] = CachedResources(
            live.build_configs, build_configs, scope
        )
        self.builds: CachedResources[Any] = CachedResources(live.builds, builds, scope)
        self.image_streams: CachedResources[Any] = CachedResources(
            live.image_streams, image_streams, scope
        )
        self._pods = pods
        self._pods_written = _Written()
        self._workloads = workloads
        self._workloads_written = _Written()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.live, name)

    def as_kube(self) -> Kube:
        return cast("Kube", self)

    def create_pod(self, namespace: str, pod: dict[str, Any]) -> dict[str, Any]:
        created = self.live.create_pod(namespace, pod)
        self._pods_written.wrote(created)
        return created

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        cached = self._pods.get(namespace, name)
        if cached is None or self._pods_written.stale(namespace, name, cached):
            # A missing pod ends its Build (BuildPodDeleted): be sure, ask.
            return self.live.get_pod(namespace, name)
        return _copy(cached)

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        self.live.delete_pod(namespace, name, grace_seconds)
        self._pods_written.forget(namespace, name)

    def get_object(self, resource: CoreResource, namespace: str, name: str) -> dict[str, Any]:
        store = self._workloads.get(resource.kind)
        if store is None:
            return self.live.get_object(resource, namespace, name)
        cached = store.get(namespace, name)
        if self._workloads_written.stale(namespace, name, cached):
            return self.live.get_object(resource, namespace, name)
        if cached is None:
            raise NotFound(404, f"{resource.plural} {namespace}/{name} not found")
        obj = _copy(cached)
        obj.setdefault("kind", resource.kind)
        obj.setdefault("apiVersion", resource.api_version)
        return obj

    def patch_object(
        self, resource: CoreResource, namespace: str, name: str, patch: list[dict[str, Any]]
    ) -> dict[str, Any]:
        patched = self.live.patch_object(resource, namespace, name, patch)
        self._workloads_written.wrote(patched)
        return patched


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy a reconciler may change without changing the store."""
    return copy.deepcopy(obj)


__all__ = ["CachedKube", "CachedResources"]
