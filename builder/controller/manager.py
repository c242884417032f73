"""Wiring: what to watch, the queue, the workers, leadership, health.

Kept apart from the reconcilers (which only know how to converge one object)
so that what triggers a reconcile is visible in one place:

- BuildConfigs: added, spec changed (``metadata.generation``) or annotations
  changed (the paused annotation).  Status-only updates, such as the
  ``lastVersion`` bump of every start-build, are ignored.
- Builds: any change except the status writes this controller made itself
  (recognised by the resourceVersion each write returned).  Other status
  writes matter: ``kbuild cancel-build`` sets ``status.cancelled``.
- Build pods (label ``openshift.io/build.name``): any change, mapped to
  their Build.
- Everything again every ``resync_seconds``; a watch that ends is re-opened
  from its last resourceVersion, and one that answers 410 Gone is relisted.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from builder.api import Build, BuildConfig
from builder.api.constants import BUILD_ANNOTATION, BUILD_LABEL
from builder.controller.build import BuildReconciler, Result
from builder.controller.buildconfig import BuildConfigReconciler
from builder.controller.config import ControllerConfig
from builder.controller.leader import LeaderElector
from builder.controller.metrics import Metrics, serve
from builder.controller.queue import WorkQueue
from builder.kube import Conflict, Gone, Kube, KubeError, WatchEvent

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (kind, namespace, name)
MAX_BACKOFF = 300.0


class Manager:
    def __init__(self, kube: Kube, config: ControllerConfig) -> None:
        self.kube = kube
        self.config = config
        self.metrics = Metrics()
        self.queue: WorkQueue[Key] = WorkQueue()
        self.builds = BuildReconciler(kube, config, self.metrics, on_write=self._wrote)
        self.build_configs = BuildConfigReconciler(kube)
        self.stop = threading.Event()
        self._written: dict[tuple[str, str], str] = {}
        self._bc_seen: dict[tuple[str, str], tuple[int, str]] = {}
        self._failures: dict[Key, int] = {}
        self._lock = threading.Lock()
        self._alive: dict[str, float] = {}
        identity = config.identity or f"{socket.gethostname()}-{os.getpid()}"
        self.elector = LeaderElector(kube, config.lease_namespace, config.lease_name, identity)

    # -- filters -------------------------------------------------------------

    def _wrote(self, build: Build) -> None:
        with self._lock:
            key = (build.metadata.namespace, build.metadata.name)
            self._written[key] = build.metadata.resource_version

    def _own_write(self, build: Build) -> bool:
        with self._lock:
            key = (build.metadata.namespace, build.metadata.name)
            return self._written.get(key) == build.metadata.resource_version

    @staticmethod
    def _fingerprint(bc: BuildConfig) -> tuple[int, str]:
        """What a BuildConfig change must touch to matter: spec or annotations."""
        return (bc.metadata.generation or 0, repr(sorted((bc.metadata.annotations or {}).items())))

    def _bc_changed(self, kind: str, bc: BuildConfig) -> bool:
        key = (bc.metadata.namespace, bc.metadata.name)
        fingerprint = self._fingerprint(bc)
        with self._lock:
            if kind == "DELETED":
                self._bc_seen.pop(key, None)
                return False
            changed = self._bc_seen.get(key) != fingerprint
            self._bc_seen[key] = fingerprint
        return changed

    # -- watches ---------------------------------------------------------------

    def _watch_loop(
        self,
        name: str,
        list_keys: Callable[[], tuple[list[Key], str]],
        watch: Callable[[str], Iterator[WatchEvent[Any]]],
        to_key: Callable[[WatchEvent[Any]], Key | None],
    ) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            try:
                keys, version = list_keys()
                for key in keys:
                    self.queue.add(key)
                self._alive[name] = time.monotonic()
                backoff = 1.0
                while not self.stop.is_set():
                    for event in watch(version):
                        self._alive[name] = time.monotonic()
                        version = event.resource_version or version
                        if event.object is None:
                            continue
                        target = to_key(event)
                        if target is not None:
                            self.queue.add(target)
                    # The server closed the watch (timeout): re-open from where we were.
            except Gone:
                log.info("%s watch: resourceVersion too old, relisting", name)
            except (KubeError, OSError, ValueError) as err:
                log.warning("%s watch failed: %s; retrying in %.0fs", name, err, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception:  # a watch thread must never die silently
                log.exception("%s watch crashed; restarting it in %.0fs", name, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _list_build_configs(self) -> tuple[list[Key], str]:
        items, version = self.kube.build_configs.list(self.config.namespace or None)
        with self._lock:
            for bc in items:
                self._bc_seen[(bc.metadata.namespace, bc.metadata.name)] = self._fingerprint(bc)
        return [("BuildConfig", b.metadata.namespace, b.metadata.name) for b in items], version

    def _list_builds(self) -> tuple[list[Key], str]:
        items, version = self.kube.builds.list(self.config.namespace or None)
        return [("Build", b.metadata.namespace, b.metadata.name) for b in items], version

    def _list_pods(self) -> tuple[list[Key], str]:
        pods, version = self.kube.list_pods(self.config.namespace or None, BUILD_LABEL)
        keys = [k for k in (self._pod_key(p) for p in pods) if k is not None]
        return keys, version

    @staticmethod
    def _pod_key(pod: dict[str, Any]) -> Key | None:
        meta = pod.get("metadata") or {}
        build = (meta.get("annotations") or {}).get(BUILD_ANNOTATION) or (
            meta.get("labels") or {}
        ).get(BUILD_LABEL)
        return ("Build", meta.get("namespace", ""), build) if build else None

    def _build_key(self, event: WatchEvent[Build]) -> Key | None:
        build = event.object
        if build is None or event.type == "DELETED" or self._own_write(build):
            return None
        return ("Build", build.metadata.namespace, build.metadata.name)

    def _bc_key(self, event: WatchEvent[BuildConfig]) -> Key | None:
        bc = event.object
        if bc is None or not self._bc_changed(event.type, bc):
            return None
        return ("BuildConfig", bc.metadata.namespace, bc.metadata.name)

    def _resync_loop(self) -> None:
        while not self.stop.wait(self.config.resync_seconds):
            try:
                for lister in (self._list_build_configs, self._list_builds):
                    for key in lister()[0]:
                        self.queue.add(key)
            except KubeError as err:
                log.warning("resync failed: %s", err)

    # -- workers ---------------------------------------------------------------

    def _dispatch(self, key: Key) -> Result:
        kind, namespace, name = key
        if kind == "Build":
            return self.builds.reconcile(namespace, name)
        return self.build_configs.reconcile(namespace, name)

    def _worker(self) -> None:
        while not self.stop.is_set():
            key = self.queue.get(timeout=1.0)
            if key is None:
                continue
            self.metrics.queue_depth.set(len(self.queue))
            try:
                result = self._dispatch(key)
            except Conflict:
                self.metrics.reconciles.labels(kind=key[0], result="conflict").inc()
                self.queue.add(key)  # someone wrote in between: read again
            except Exception as err:
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                delay = min(2.0**failures, MAX_BACKOFF)
                if isinstance(err, KubeError):
                    # Expected trouble (API server down, RBAC): one line, no traceback.
                    log.warning("reconcile %s: %s; retrying in %.0fs", key, err, delay)
                else:
                    log.exception("reconcile %s failed; retrying in %.0fs", key, delay)
                self.metrics.reconciles.labels(kind=key[0], result="error").inc()
                self.queue.add_after(key, delay)
            else:
                self._failures.pop(key, None)
                self.metrics.reconciles.labels(kind=key[0], result="ok").inc()
                if result.requeue_after is not None:
                    self.queue.add_after(key, result.requeue_after)
                for other in result.also:
                    self.queue.add(other)
            finally:
                self.queue.done(key)

    # -- lifecycle ---------------------------------------------------------------

    def healthy(self) -> bool:
        if not self.elector.is_leader.is_set():
            return True  # a follower is healthy while it waits
        horizon = time.monotonic() - 2 * self.config.resync_seconds
        return all(seen > horizon for seen in self._alive.values())

    def _thread(self, target: Callable[..., None], name: str, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, args=args, daemon=True)
        thread.start()
        return thread

    def run(self, on_lost: Callable[[], None]) -> None:
        if self.config.metrics_port:
            serve(
                self.metrics, self.config.metrics_port, self.healthy, self.elector.is_leader.is_set
            )
        self._thread(self.elector.run, "leader", on_lost, self.stop)
        log.info(
            "waiting for the leader lease %s/%s",
            self.config.lease_namespace,
            self.config.lease_name,
        )
        while not self.elector.is_leader.wait(1.0):
            if self.stop.is_set():
                return
        self.metrics.leader.set(1)
        ns = self.config.namespace or None
        self._thread(
            self._watch_loop, "watch-buildconfigs", "buildconfigs", self._list_build_configs,
            lambda rv: self.kube.build_configs.watch(ns, rv), self._bc_key,
        )  # fmt: skip
        self._thread(
            self._watch_loop, "watch-builds", "builds", self._list_builds,
            lambda rv: self.kube.builds.watch(ns, rv), self._build_key,
        )  # fmt: skip
        self._thread(
            self._watch_loop, "watch-pods", "pods", self._list_pods,
            lambda rv: self.kube.watch_pods(ns, BUILD_LABEL, rv),
            lambda e: self._pod_key(e.object),
        )  # fmt: skip
        self._thread(self._resync_loop, "resync")
        workers = [self._thread(self._worker, f"worker-{i}") for i in range(self.config.workers)]
        log.info("controller running with %d workers", len(workers))
        while not self.stop.wait(1.0):
            pass
        self.queue.close()
