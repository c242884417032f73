"""Informers: list, then watch, into an indexed in-memory store.

What client-go's shared informers give OpenShift's controllers, small:

- ``Informer.run`` lists once, fills its ``Store`` and sets ``synced``; then
  it watches from the list's resourceVersion, applying every event to the
  store before handing ``(old, new)`` to the handler, so a handler (and any
  reconcile it queues) reads a store at least as new as the event.
- A watch the server closes is re-opened from the last resourceVersion seen
  (bookmarks included); a 410 Gone relists, and the relist's differences
  with the store are delivered as events (deletes included), so nothing
  missed while the watch was down is lost.
- ``resync`` hands every stored object to the handler again as ``(obj,
  obj)`` without any API call: the periodic "look at everything" of a
  level-driven controller costs no request.
- Memory is bounded by what the controller needs: ``keep`` drops objects
  the controller has no use for (a workload without the trigger
  annotation), deletes prune, and raw objects lose ``managedFields``.

Handlers and index functions are the caller's code: one that raises is
logged and skipped for that object; it never stops the informer for every
other object.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from builder.kube.client import WatchEvent
from builder.kube.errors import Gone, KubeError

log = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[str, str]  # (namespace, name)
IndexFunc = Callable[[T], Iterable[Hashable]]
Handler = Callable[[str, "T | None", "T | None"], None]
"""``handler(type, old, new)``: ADDED (old None), MODIFIED, DELETED (new None), SYNC."""

MAX_BACKOFF = 30.0


def meta_of(obj: Any) -> tuple[str, str, str]:
    """(namespace, name, resourceVersion) of a pydantic model or a raw JSON dict."""
    if isinstance(obj, dict):
        meta = obj.get("metadata") or {}
        return (
            str(meta.get("namespace") or ""),
            str(meta.get("name") or ""),
            str(meta.get("resourceVersion") or ""),
        )
    meta = obj.metadata
    return meta.namespace or "", meta.name, meta.resource_version or ""


def slim(obj: Any) -> Any:
    """A raw object without ``managedFields``: often half its size, never read by kbuild."""
    if isinstance(obj, dict):
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            meta.pop("managedFields", None)
    return obj


def newer(version: str, than: str) -> bool:
    """Whether resourceVersion ``version`` is newer than ``than``.

    resourceVersions are opaque to clients in general; every API server
    kbuild runs against (etcd3) makes them integers that only grow, and a
    version that is not one is treated as "not known to be newer".
    """
    if version.isdigit() and than.isdigit():
        return int(version) > int(than)
    return False


class Store(Generic[T]):
    """Objects by (namespace, name), with secondary indexes; safe across threads."""

    def __init__(self, indexers: dict[str, IndexFunc[T]] | None = None) -> None:
        self._objects: dict[Key, T] = {}
        self._indexers: dict[str, IndexFunc[T]] = dict(indexers or {})
        # index name -> value -> keys; and what each key was filed under.
        self._indexes: dict[str, dict[Hashable, set[Key]]] = {n: {} for n in self._indexers}
        self._filed: dict[Key, dict[str, frozenset[Hashable]]] = {}
        self._lock = threading.RLock()

    def _values(self, name: str, obj: T) -> frozenset[Hashable]:
        try:
            return frozenset(self._indexers[name](obj))
        except Exception:  # the index function reads tenant data
            log.exception("index %s: cannot index %s/%s", name, *meta_of(obj)[:2])
            return frozenset()

    def _unfile(self, key: Key) -> None:
        for name, values in self._filed.pop(key, {}).items():
            index = self._indexes[name]
            for value in values:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]

    def put(self, obj: T) -> T | None:
        """Store ``obj``; the object it replaces, if any."""
        namespace, name, _ = meta_of(obj)
        key = (namespace, name)
        with self._lock:
            old = self._objects.get(key)
            self._unfile(key)
            self._objects[key] = obj
            filed: dict[str, frozenset[Hashable]] = {}
            for index_name in self._indexers:
                values = self._values(index_name, obj)
                filed[index_name] = values
                for value in values:
                    self._indexes[index_name].setdefault(value, set()).add(key)
            self._filed[key] = filed
            return old

    def delete(self, namespace: str, name: str) -> T | None:
        with self._lock:
            self._unfile((namespace, name))
            return self._objects.pop((namespace, name), None)

    def get(self, namespace: str, name: str) -> T | None:
        with self._lock:
            return self._objects.get((namespace, name))

    def objects(self, namespace: str | None = None) -> list[T]:
        with self._lock:
            return [o for (ns, _), o in self._objects.items() if namespace in (None, ns)]

    def keys(self) -> list[Key]:
        with self._lock:
            return list(self._objects)

    def by_index(self, index: str, value: Hashable) -> list[T]:
        with self._lock:
            keys = self._indexes[index].get(value, set())
            return [self._objects[k] for k in sorted(keys)]

    def index_keys(self, index: str, value: Hashable) -> list[Key]:
        with self._lock:
            return sorted(self._indexes[index].get(value, set()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)


class Informer(Generic[T]):
    """One kind, listed then watched into ``store``; see the module docstring."""

    def __init__(
        self,
        name: str,
        list_fn: Callable[[], tuple[list[T], str]],
        watch_fn: Callable[[str], Iterator[WatchEvent[T]]],
        *,
        indexers: dict[str, IndexFunc[T]] | None = None,
        keep: Callable[[T], bool] = lambda _obj: True,
    ) -> None:
        self.name = name
        self._list = list_fn
        self._watch = watch_fn
        self._keep = keep
        self.store: Store[T] = Store(indexers)
        self.synced = threading.Event()
        self._handlers: list[Handler[T]] = []
        # When the informer last heard from the API server (list or event).
        self.alive = 0.0
        self.relists = 0

    def add_handler(self, handler: Handler[T]) -> None:
        self._handlers.append(handler)

    def _emit(self, kind: str, old: T | None, new: T | None) -> None:
        for handler in self._handlers:
            try:
                handler(kind, old, new)
            except Exception:  # one object's handler must not stop the informer
                obj = new if new is not None else old
                log.exception("%s: handler failed on %s %s/%s", self.name, kind, *meta_of(obj)[:2])

    def apply(self, kind: str, obj: T) -> None:
        """Apply one watch event to the store and tell the handlers."""
        namespace, name, _ = meta_of(obj)
        if kind == "DELETED" or not self._keep(obj):
            old = self.store.delete(namespace, name)
            if old is not None or kind == "DELETED":
                self._emit("DELETED", old if old is not None else obj, None)
            return
        obj = slim(obj)
        old = self.store.put(obj)
        self._emit("ADDED" if old is None else "MODIFIED", old, obj)

    def replace(self, items: list[T]) -> None:
        """A (re)list: store exactly ``items``, telling the handlers what changed."""
        seen: set[Key] = set()
        for obj in items:
            namespace, name, version = meta_of(obj)
            if not self._keep(obj):
                continue
            seen.add((namespace, name))
            current = self.store.get(namespace, name)
            if current is not None and meta_of(current)[2] == version:
                continue  # unchanged since the last list or event
            self.apply("ADDED", obj)
        for namespace, name in self.store.keys():  # noqa: SIM118 - a copy, not a view
            if (namespace, name) not in seen:
                old = self.store.delete(namespace, name)
                if old is not None:
                    self._emit("DELETED", old, None)

    def resync(self) -> None:
        """Every stored object to the handlers again, without asking the API server."""
        for obj in self.store.objects():
            self._emit("SYNC", obj, obj)

    def run(self, stop: threading.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            try:
                items, version = self._list()
                self.replace(items)
                self.alive = time.monotonic()
                self.synced.set()
                backoff = 1.0
                while not stop.is_set():
                    for event in self._watch(version):
                        self.alive = time.monotonic()
                        version = event.resource_version or version
                        if event.object is not None and event.type != "BOOKMARK":
                            self.apply(event.type, event.object)
                        if stop.is_set():
                            return
                    # The server closed the watch (its timeout): it was there all along;
                    # re-open from where we were.
                    self.alive = time.monotonic()
            except Gone:
                self.relists += 1
                log.info("%s watch: resourceVersion too old, relisting", self.name)
            except (KubeError, OSError, ValueError) as err:
                log.warning("%s watch failed: %s; retrying in %.0fs", self.name, err, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except Exception:  # an informer thread must never die silently
                log.exception("%s informer crashed; restarting it in %.0fs", self.name, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)


__all__ = ["Informer", "Store", "meta_of", "newer", "slim"]
