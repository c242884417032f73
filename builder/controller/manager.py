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
- ImageStreams: any change but the controller's own status writes, for the
  stream itself (imports, tag resolution); and every change, its own
  included, for what watches the stream: the BuildConfigs whose
  ImageChange triggers name one of its tags, and the workloads whose
  ``image.openshift.io/triggers`` annotation does (``triggerindex``).
- Deployments, StatefulSets, DaemonSets, CronJobs and Jobs carrying the
  trigger annotation: when the annotation or the spec changes (status
  updates of rollouts are ignored).
- DeploymentConfigs and their ReplicationControllers: ``dcwatch`` (any change
  but the reconciler's own status writes; every RC change of a rollout).
- Registry push notifications (``POST /registry/notifications``): each
  scheduled tag importing the pushed ``repository:tag`` is checked at once.
- Webhooks (``POST /apis/build.openshift.io/v1/namespaces/NS/buildconfigs/
  NAME/webhooks/SECRET/TYPE``, OpenShift's path): a build, at once.
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

from builder.api import Build, BuildConfig, ImageStream, ManifestError
from builder.api.constants import BUILD_ANNOTATION, BUILD_LABEL, IMAGE_TRIGGERS_ANNOTATION
from builder.controller import events
from builder.controller.authz import Authorizer, build_config_reader
from builder.controller.build import BuildReconciler, Result
from builder.controller.buildconfig import BuildConfigReconciler
from builder.controller.config import ControllerConfig
from builder.controller.dcwatch import KIND as DEPLOYMENT_CONFIG
from builder.controller.dcwatch import DeploymentConfigWatches
from builder.controller.imagestream import ImageStreamReconciler
from builder.controller.importer import Importer, ImportOutcome
from builder.controller.leader import LeaderElector
from builder.controller.metrics import Metrics, serve
from builder.controller.notifications import PATH as NOTIFICATIONS_PATH
from builder.controller.notifications import NotificationReceiver
from builder.controller.notifytoken import notifications_token
from builder.controller.queue import WorkQueue
from builder.controller.ratelimit import TokenBucket
from builder.controller.triggerindex import Index, SourceIndex, StreamTag
from builder.controller.webhooks import PREFIX as WEBHOOKS_PREFIX
from builder.controller.webhooks import WebhookReceiver
from builder.controller.workloads import WorkloadTriggerReconciler
from builder.kube import WORKLOADS, Conflict, CoreResource, Gone, Kube, KubeError, WatchEvent
from builder.streams.buildtriggers import watched_tags as bc_watched_tags
from builder.streams.workloads import watched_tags as workload_watched_tags

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (kind, namespace, name)
MAX_INVALID_REMEMBERED = 10_000
StreamKey = tuple[str, str]  # (namespace, stream)
BUILD_CONFIG = "BuildConfig"
BUILD = "Build"
IMAGE_STREAM = "ImageStream"


class Manager:
    def __init__(self, kube: Kube, config: ControllerConfig) -> None:
        self.kube = kube
        self.config = config
        self.metrics = Metrics()
        self.queue: WorkQueue[Key] = WorkQueue()
        self.authorizer = Authorizer(kube)
        self.builds = BuildReconciler(
            kube, config, self.metrics, on_write=self._wrote, authorizer=self.authorizer
        )
        readable = build_config_reader(self.authorizer, config.default_service_account)
        self.build_configs = BuildConfigReconciler(kube, readable)
        bucket = TokenBucket(config.import_qps, config.import_burst)
        self.image_streams = ImageStreamReconciler(
            kube, config, Importer(kube, config, bucket, authorizer=self.authorizer),
            on_write=self._wrote_stream, on_import=self._imported, authorizer=self.authorizer,
        )  # fmt: skip
        self.workloads = WorkloadTriggerReconciler(kube, config, authorizer=self.authorizer)
        # Who watches which stream: BuildConfigs (ImageChange) and workloads (annotation).
        self.watchers: Index[Key, StreamKey] = Index()
        self.sources = SourceIndex()
        self.notifications = NotificationReceiver(
            self.sources,
            self._pushed,
            notifications_token(
                kube,
                config.notifications_token,
                config.lease_namespace,
                config.notifications_token_secret,
            ),
        )
        self.webhooks = WebhookReceiver(kube, readable)
        ns = config.namespace or None
        self.dcs = DeploymentConfigWatches(kube, ns, self.watchers, self.authorizer)
        self.dcs.on_invalid(self._invalid_object)
        self.stop = threading.Event()
        self._written: dict[tuple[str, str], str] = {}
        self._streams_written: dict[tuple[str, str], str] = {}
        self._bc_seen: dict[tuple[str, str], tuple[int, str]] = {}
        self._workloads_seen: dict[Key, tuple[int, str]] = {}
        self._lock = threading.Lock()
        self._alive: dict[str, float] = {}
        identity = config.identity or f"{socket.gethostname()}-{os.getpid()}"
        self.elector = LeaderElector(kube, config.lease_namespace, config.lease_name, identity)
        # Objects the API server stored but the models refuse: one event per
        # version, and they are skipped instead of stopping a whole list.
        self._invalid_reported: dict[tuple[str, str], str] = {}
        for resources in (kube.build_configs, kube.builds, kube.image_streams):
            resources.on_invalid = self._invalid_object

    def _invalid_object(self, raw: dict[str, Any], err: ManifestError) -> None:
        meta = raw.get("metadata") or {}
        key = (str(meta.get("uid", "")), str(raw.get("kind", "")))
        version = str(meta.get("resourceVersion", ""))
        with self._lock:
            if self._invalid_reported.get(key) == version:
                return
            if len(self._invalid_reported) > MAX_INVALID_REMEMBERED:
                self._invalid_reported.clear()
            self._invalid_reported[key] = version
        events.record_for(
            self.kube, raw, "Warning", "InvalidObject",
            f"kbuild ignores this object until it is fixed: {err}",
        )  # fmt: skip

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

    def _wrote_stream(self, stream: ImageStream) -> None:
        with self._lock:
            key = (stream.metadata.namespace, stream.metadata.name)
            self._streams_written[key] = stream.metadata.resource_version

    def _own_stream_write(self, stream: ImageStream) -> bool:
        with self._lock:
            key = (stream.metadata.namespace, stream.metadata.name)
            return self._streams_written.get(key) == stream.metadata.resource_version

    def _imported(self, outcome: ImportOutcome, seconds: float) -> None:
        self.metrics.imports.labels(result=outcome.reason or "Success").inc()
        self.metrics.import_seconds.observe(seconds)

    def _pushed(self, stream_tag: StreamTag, digest: str) -> None:
        namespace, name, tag = stream_tag
        if self.config.namespace and namespace != self.config.namespace:
            return
        self.image_streams.notify(namespace, name, tag, digest)
        self.queue.add((IMAGE_STREAM, namespace, name))

    def _notification(self, path: str, headers: Any, body: bytes) -> tuple[int, bytes]:
        if path != NOTIFICATIONS_PATH:
            return 404, b"not found\n"
        if not self.elector.is_leader.is_set():
            # Only the leader watches streams; the registry retries the delivery.
            code, answer = 503, b"not the leader, try again\n"
        else:
            code, answer = self.notifications.handle(headers, body)
        self.metrics.notifications.labels(code=str(code)).inc()
        return code, answer

    def _index_build_config(self, kind: str, bc: BuildConfig) -> None:
        key = (BUILD_CONFIG, bc.metadata.namespace, bc.metadata.name)
        if kind == "DELETED":
            self.watchers.remove(key)
            return
        streams = {(ns, name.partition(":")[0]) for ns, name in bc_watched_tags(bc)}
        self.watchers.put(key, frozenset(streams))

    def _workload_changed(self, resource: CoreResource, kind: str, obj: dict[str, Any]) -> bool:
        """Index the workload's triggers; whether the change deserves a reconcile."""
        meta = obj.get("metadata") or {}
        key = (resource.kind, str(meta.get("namespace", "")), str(meta.get("name", "")))
        annotation = (meta.get("annotations") or {}).get(IMAGE_TRIGGERS_ANNOTATION)
        if kind == "DELETED" or annotation is None:
            self.watchers.remove(key)
            with self._lock:
                self._workloads_seen.pop(key, None)
            self.workloads.forget(key)
            return False
        tags = workload_watched_tags(obj)
        self.watchers.put(key, frozenset((ns, stream) for ns, stream, _ in tags))
        fingerprint = (int(meta.get("generation") or 0), annotation)
        with self._lock:
            changed = self._workloads_seen.get(key) != fingerprint
            self._workloads_seen[key] = fingerprint
        return changed

    def _dependents(self, namespace: str, name: str) -> set[Key]:
        return self.watchers.watchers((namespace, name))

    # -- watches ---------------------------------------------------------------

    def _watch_loop(
        self,
        name: str,
        list_keys: Callable[[], tuple[list[Key], str]],
        watch: Callable[[str], Iterator[WatchEvent[Any]]],
        to_keys: Callable[[WatchEvent[Any]], list[Key]],
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
                        for target in to_keys(event):
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
        for bc in items:
            self._index_build_config("ADDED", bc)
        return [(BUILD_CONFIG, b.metadata.namespace, b.metadata.name) for b in items], version

    def _list_image_streams(self) -> tuple[list[Key], str]:
        items, version = self.kube.image_streams.list(self.config.namespace or None)
        for stream in items:
            self.sources.update(stream)
        return [(IMAGE_STREAM, s.metadata.namespace, s.metadata.name) for s in items], version

    def _stream_keys(self, event: WatchEvent[ImageStream]) -> list[Key]:
        stream = event.object
        if stream is None:
            return []
        ns, name = stream.metadata.namespace, stream.metadata.name
        if event.type == "DELETED":
            self.queue.discard((IMAGE_STREAM, ns, name))
            self.sources.remove(ns, name)
            with self._lock:
                self._streams_written.pop((ns, name), None)
        else:
            self.sources.update(stream)
        keys = sorted(self._dependents(ns, name))
        if event.type != "DELETED" and not self._own_stream_write(stream):
            keys.append((IMAGE_STREAM, ns, name))
        return keys

    def _list_workloads(self, resource: CoreResource) -> tuple[list[Key], str]:
        items, version = self.kube.list_objects(resource, self.config.namespace or None)
        keys: list[Key] = []
        for obj in items:
            meta = obj.get("metadata") or {}
            try:
                self._workload_changed(resource, "ADDED", obj)
            except Exception:
                # One tenant's object must not stop the list for every other
                # one; its reconcile reports what is wrong as an event.
                log.exception(
                    "%s %s/%s: cannot index its image triggers",
                    resource.kind, meta.get("namespace", ""), meta.get("name", ""),
                )  # fmt: skip
            if IMAGE_TRIGGERS_ANNOTATION in (meta.get("annotations") or {}):
                keys.append((resource.kind, meta.get("namespace", ""), meta.get("name", "")))
        return keys, version

    def _workload_keys(
        self, resource: CoreResource, event: WatchEvent[dict[str, Any]]
    ) -> list[Key]:
        obj = event.object
        if obj is None or not self._workload_changed(resource, event.type, obj):
            return []
        meta = obj.get("metadata") or {}
        return [(resource.kind, str(meta.get("namespace", "")), str(meta.get("name", "")))]

    def _list_builds(self) -> tuple[list[Key], str]:
        items, version = self.kube.builds.list(self.config.namespace or None)
        return [(BUILD, b.metadata.namespace, b.metadata.name) for b in items], version

    def _list_pods(self) -> tuple[list[Key], str]:
        pods, version = self.kube.list_pods(self.config.namespace or None, BUILD_LABEL)
        return [k for p in pods for k in self._pod_key(p)], version

    @staticmethod
    def _pod_key(pod: dict[str, Any] | None) -> list[Key]:
        meta = (pod or {}).get("metadata") or {}
        build = (meta.get("annotations") or {}).get(BUILD_ANNOTATION) or (
            meta.get("labels") or {}
        ).get(BUILD_LABEL)
        return [(BUILD, meta.get("namespace", ""), build)] if build else []

    def _build_key(self, event: WatchEvent[Build]) -> list[Key]:
        build = event.object
        if build is not None and event.type == "DELETED":
            self.queue.discard((BUILD, build.metadata.namespace, build.metadata.name))
        if build is None or event.type == "DELETED" or self._own_write(build):
            return []
        return [(BUILD, build.metadata.namespace, build.metadata.name)]

    def _bc_key(self, event: WatchEvent[BuildConfig]) -> list[Key]:
        bc = event.object
        if bc is None:
            return []
        self._index_build_config(event.type, bc)
        if event.type == "DELETED":
            self.queue.discard((BUILD_CONFIG, bc.metadata.namespace, bc.metadata.name))
        if not self._bc_changed(event.type, bc):
            return []
        return [(BUILD_CONFIG, bc.metadata.namespace, bc.metadata.name)]

    def _resync_loop(self) -> None:
        while not self.stop.wait(self.config.resync_seconds):
            self._resync()

    def _resync(self) -> None:
        """List everything once and queue it; a lister that fails skips only its kind.

        Nothing raised here may end the resync thread: it is what recovers
        from every missed event, for every tenant.
        """
        listers: list[tuple[str, Callable[[], tuple[list[Key], str]]]] = [
            ("buildconfigs", self._list_build_configs), ("builds", self._list_builds),
            ("imagestreams", self._list_image_streams),
        ]  # fmt: skip
        listers.extend((r.plural, self._workload_lister(r)) for r in WORKLOADS.values())
        listers.extend(self.dcs.listers())
        for name, lister in listers:
            try:
                keys = lister()[0]
            except KubeError as err:
                log.warning("resync of %s failed: %s", name, err)
                continue
            except Exception:
                log.exception("resync of %s crashed", name)
                continue
            for key in keys:
                self.queue.add(key)

    # -- workers ---------------------------------------------------------------

    def _workload_lister(self, resource: CoreResource) -> Callable[[], tuple[list[Key], str]]:
        return lambda: self._list_workloads(resource)

    def _dispatch(self, key: Key) -> Result:
        kind, namespace, name = key
        if kind == BUILD:
            return self.builds.reconcile(namespace, name)
        if kind == BUILD_CONFIG:
            return self.build_configs.reconcile(namespace, name)
        if kind == IMAGE_STREAM:
            return self.image_streams.reconcile(namespace, name)
        if kind == DEPLOYMENT_CONFIG:
            return self.dcs.reconcile(namespace, name)
        return self.workloads.reconcile(kind, namespace, name)

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
            except ManifestError as err:
                # Stored by the API server, refused by the models: retrying
                # cannot help; the next change of the object queues it again.
                log.warning("reconcile %s: invalid object: %s", key, err)
                self.metrics.reconciles.labels(kind=key[0], result="invalid").inc()
                self.queue.forget(key)
            except Exception as err:
                delay = self.queue.add_rate_limited(key)
                if isinstance(err, KubeError):
                    # Expected trouble (API server down, RBAC): one line, no traceback.
                    log.warning("reconcile %s: %s; retrying in %.0fs", key, err, delay)
                else:
                    log.exception("reconcile %s failed; retrying in %.0fs", key, delay)
                self.metrics.reconciles.labels(kind=key[0], result="error").inc()
            else:
                self.queue.forget(key)
                self.metrics.reconciles.labels(kind=key[0], result="ok").inc()
                if result.requeue_after is not None:
                    self.queue.add_after(key, result.requeue_after)
                for other in result.also:
                    self.queue.add(other)
            finally:
                self.queue.done(key)

    # -- lifecycle ---------------------------------------------------------------

    def _watch_workloads(self, resource: CoreResource, ns: str | None) -> None:
        self._thread(
            self._watch_loop, f"watch-{resource.plural}", resource.plural,
            self._workload_lister(resource),
            lambda rv: self.kube.watch_objects(resource, ns, rv),
            lambda e: self._workload_keys(resource, e),
        )  # fmt: skip

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
        internal = {NOTIFICATIONS_PATH: self._notification}
        webhooks = {WEBHOOKS_PREFIX: self.webhooks.handle}
        if self.config.webhook_port and self.config.webhook_port != self.config.metrics_port:
            serve(None, self.config.webhook_port, self.healthy, self.elector.is_leader.is_set,
                  webhooks, name="webhooks")  # fmt: skip
        elif self.config.webhook_port:
            internal.update(webhooks)
        if self.config.metrics_port:
            serve(self.metrics, self.config.metrics_port, self.healthy,
                  self.elector.is_leader.is_set, internal)  # fmt: skip
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
        self._thread(
            self._watch_loop, "watch-imagestreams", "imagestreams", self._list_image_streams,
            lambda rv: self.kube.image_streams.watch(ns, rv), self._stream_keys,
        )  # fmt: skip
        for resource in WORKLOADS.values():
            self._watch_workloads(resource, ns)
        for name, lister, watch, keys in self.dcs.watches():
            self._thread(self._watch_loop, f"watch-{name}", name, lister, watch, keys)
        self._thread(self._resync_loop, "resync")
        workers = [self._thread(self._worker, f"worker-{i}") for i in range(self.config.workers)]
        log.info("controller running with %d workers", len(workers))
        while not self.stop.wait(1.0):
            pass
        self.queue.close()
