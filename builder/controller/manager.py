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
  stream itself (imports, tag resolution); and every change that moves a
  tag, its own writes included, for what watches that tag: the BuildConfigs
  whose ImageChange triggers name it, the New Builds waiting for it as
  their input, and the workloads whose ``image.openshift.io/triggers``
  annotation names it (``caches.moved_tags``; a spec change wakes every
  watcher of the stream).
- Deployments, StatefulSets, DaemonSets, CronJobs and Jobs carrying the
  trigger annotation: when the annotation or the spec changes (status
  updates of rollouts are ignored).
- DeploymentConfigs and their ReplicationControllers: ``dcwatch`` (any change
  but the reconciler's own status writes; every RC change of a rollout).
- Registry push notifications (``POST /registry/notifications``): each
  scheduled tag importing the pushed ``repository:tag`` is checked at once.
- Webhooks (``POST /apis/build.openshift.io/v1/namespaces/NS/buildconfigs/
  NAME/webhooks/SECRET/TYPE``, OpenShift's path): a build, at once.
- Everything again every ``resync_seconds``, from the caches: a resync
  makes no API request.

Every kind is read through an informer (``builder.controller.caches``): the
reconcilers read those stores and write to the API server
(``builder.kube.cached``), so a reconcile with nothing to do costs no
request.  Workers start once every informer has listed.  A stream change
wakes what watches the tags it moved, not the whole stream: see
``caches.moved_tags``.

Two pools of workers: ``workers`` reconcile BuildConfigs, Builds and
workloads; ``stream_workers`` reconcile image streams, whose imports wait on
registries (token bucket, slow or trickling hosts).  A stalled registry
holds the stream pool only.  A reconcile running longer than
``reconcile_deadline`` makes ``healthy()`` false (``/healthz`` fails and the
kubelet restarts a stuck process): Python cannot interrupt a thread, so the
deadline is enforced by the liveness probe.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from builder.api import Build, BuildConfig, ImageStream, ManifestError
from builder.api.constants import IMAGE_TRIGGERS_ANNOTATION
from builder.controller import admissionserver, events
from builder.controller.admissioncert import CertificateKeeper, service_names
from builder.controller.admissionserver import ImageLookupWebhook
from builder.controller.admissionsweep import LookupSweep
from builder.controller.authz import Authorizer, build_config_reader
from builder.controller.build import BuildReconciler, Result
from builder.controller.buildconfig import BuildConfigReconciler
from builder.controller.caches import INPUT, TAGS, build_of_pod, make_caches, moved_tags
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
from builder.kube import Conflict, Kube, KubeError, NotFound
from builder.kube.client import REQUESTS, WATCH_TIMEOUT_SECONDS
from builder.kube.webhookconfig import WebhookTLSStore

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (kind, namespace, name)
StreamKey = tuple[str, str]  # (namespace, stream)
MAX_INVALID_REMEMBERED = 10_000
REQUEST_LOG_SECONDS = 60
BUILD_CONFIG = "BuildConfig"
BUILD = "Build"
IMAGE_STREAM = "ImageStream"


class Manager:
    def __init__(self, kube: Kube, config: ControllerConfig) -> None:
        self.kube = kube
        self.config = config
        self.metrics = Metrics()
        # Reconciles of BuildConfigs, Builds and workloads; and of image streams
        # (registry I/O), drained by separate pools.
        self.queue: WorkQueue[Key] = WorkQueue()
        self.stream_queue: WorkQueue[Key] = WorkQueue()
        self.caches = make_caches(kube, config.namespace or None)
        # Reads from the caches, writes to the API server.
        self.reader = self.caches.reader(kube).as_kube()
        self.authorizer = Authorizer(kube)
        self.builds = BuildReconciler(
            self.reader, config, self.metrics, on_write=self._wrote, authorizer=self.authorizer
        )
        readable = build_config_reader(self.authorizer, config.default_service_account)
        self.build_configs = BuildConfigReconciler(self.reader, readable)
        bucket = TokenBucket(config.import_qps, config.import_burst)
        self.image_streams = ImageStreamReconciler(
            self.reader, config, Importer(kube, config, bucket, authorizer=self.authorizer),
            on_write=self._wrote_stream, on_import=self._imported, authorizer=self.authorizer,
        )  # fmt: skip
        self.workloads = WorkloadTriggerReconciler(self.reader, config, authorizer=self.authorizer)
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
        self.image_lookup = ImageLookupWebhook(self._lookup_stream, self.authorizer)
        ns = config.namespace or None
        # Which DeploymentConfigs watch which stream (their ImageChange triggers).
        self.dc_watchers: Index[Key, StreamKey] = Index()
        self.dcs = DeploymentConfigWatches(kube, ns, self.dc_watchers, self.authorizer)
        self.dcs.on_invalid(self._invalid_object)
        self.caches.others.extend(self.dcs.informers(self.enqueue))
        self.stop = threading.Event()
        # resourceVersions of our own status writes whose watch event has not
        # come back yet: an entry leaves when its event arrives (or the object goes).
        self._written: dict[tuple[str, str], str] = {}
        self._streams_written: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        # What each worker is reconciling, and since when (the deadline's clock).
        self._busy: dict[str, tuple[Key, float]] = {}
        identity = config.identity or f"{socket.gethostname()}-{os.getpid()}"
        self.elector = LeaderElector(kube, config.lease_namespace, config.lease_name, identity)
        # Objects the API server stored but the models refuse: one event per
        # version, and they are skipped instead of stopping a whole list.
        self._invalid_reported: dict[tuple[str, str], str] = {}
        for resources in (kube.build_configs, kube.builds, kube.image_streams):
            resources.on_invalid = self._invalid_object
        self.caches.build_configs.add_handler(self._on_build_config)
        self.caches.builds.add_handler(self._on_build)
        self.caches.pods.add_handler(self._on_pod)
        self.caches.image_streams.add_handler(self._on_stream)
        for kind, informer in self.caches.workloads.items():
            informer.add_handler(self._workload_handler(kind))

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

    # -- queues ----------------------------------------------------------------

    def enqueue(self, key: Key) -> None:
        """Queue a reconcile on the pool that serves its kind."""
        (self.stream_queue if key[0] == IMAGE_STREAM else self.queue).add(key)

    def _enqueue_after(self, key: Key, seconds: float) -> None:
        (self.stream_queue if key[0] == IMAGE_STREAM else self.queue).add_after(key, seconds)

    def _discard(self, key: Key) -> None:
        (self.stream_queue if key[0] == IMAGE_STREAM else self.queue).discard(key)

    # -- own writes ------------------------------------------------------------

    def _wrote(self, build: Build) -> None:
        with self._lock:
            key = (build.metadata.namespace, build.metadata.name)
            self._written[key] = build.metadata.resource_version

    def _own_write(self, build: Build) -> bool:
        """Whether this event is our own status write (answered once, then forgotten)."""
        key = (build.metadata.namespace, build.metadata.name)
        with self._lock:
            if self._written.get(key) == build.metadata.resource_version:
                del self._written[key]
                return True
            return False

    def _wrote_stream(self, stream: ImageStream) -> None:
        with self._lock:
            key = (stream.metadata.namespace, stream.metadata.name)
            self._streams_written[key] = stream.metadata.resource_version

    def _own_stream_write(self, stream: ImageStream) -> bool:
        key = (stream.metadata.namespace, stream.metadata.name)
        with self._lock:
            if self._streams_written.get(key) == stream.metadata.resource_version:
                del self._streams_written[key]
                return True
            return False

    # -- metrics, notifications --------------------------------------------------

    def _imported(self, outcome: ImportOutcome, seconds: float) -> None:
        self.metrics.imports.labels(result=outcome.reason or "Success").inc()
        self.metrics.import_seconds.observe(seconds)

    def _pushed(self, stream_tag: StreamTag, digest: str) -> None:
        namespace, name, tag = stream_tag
        if self.config.namespace and namespace != self.config.namespace:
            return
        self.image_streams.notify(namespace, name, tag, digest)
        self.enqueue((IMAGE_STREAM, namespace, name))

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

    def _lookup_stream(self, namespace: str, name: str) -> ImageStream:
        """A stream for the image-lookup webhook: cached on the leader, else live.

        A cached stream that would not resolve (none, or no local lookup) is
        read again live: ``set image-lookup`` followed at once by ``kubectl
        create`` must not lose the race with the watch.  One GET per short
        name that does not resolve; none for those that do.
        """
        if self.caches.image_streams.synced.is_set():
            try:
                cached = self.reader.image_streams.get(namespace, name)
            except NotFound:
                cached = None
            if cached is not None and cached.spec.lookup_policy.local:
                return cached
        return self.kube.image_streams.get(namespace, name)

    def _start_admission(self) -> None:
        config = self.config
        keeper = CertificateKeeper(
            WebhookTLSStore(self.kube),
            config.lease_namespace,
            config.admission_secret,
            config.admission_webhook_config,
            service_names(config.admission_service, config.lease_namespace),
        )
        admissionserver.start(keeper, self.image_lookup, config.admission_port, self.stop)

    # -- informer handlers: what each change wakes --------------------------------

    @staticmethod
    def _fingerprint(bc: BuildConfig) -> tuple[int, str]:
        """What a BuildConfig change must touch to matter: spec or annotations."""
        return (bc.metadata.generation or 0, repr(sorted((bc.metadata.annotations or {}).items())))

    def _on_build_config(self, kind: str, old: BuildConfig | None, new: BuildConfig | None) -> None:
        bc = new if new is not None else old
        if bc is None:
            return
        key = (BUILD_CONFIG, bc.metadata.namespace, bc.metadata.name)
        if new is None:
            self._discard(key)
            return
        if kind == "SYNC" or old is None or self._fingerprint(old) != self._fingerprint(new):
            self.enqueue(key)

    def _on_build(self, kind: str, old: Build | None, new: Build | None) -> None:
        if new is None:
            if old is not None:
                namespace, name = old.metadata.namespace, old.metadata.name
                self._discard((BUILD, namespace, name))
                with self._lock:
                    self._written.pop((namespace, name), None)
            return
        if kind != "SYNC" and self._own_write(new):
            return
        self.enqueue((BUILD, new.metadata.namespace, new.metadata.name))

    def _on_pod(self, kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        del kind
        pod = new if new is not None else old
        if pod is not None:
            for namespace, build in build_of_pod(pod):
                self.enqueue((BUILD, namespace, build))

    def _on_stream(self, kind: str, old: ImageStream | None, new: ImageStream | None) -> None:
        stream = new if new is not None else old
        if stream is None:
            return
        ns, name = stream.metadata.namespace, stream.metadata.name
        if new is None:
            self._discard((IMAGE_STREAM, ns, name))
            self.sources.remove(ns, name)
            with self._lock:
                self._streams_written.pop((ns, name), None)
        else:
            self.sources.update(new)
        for key in self.dependents(old, new):
            self.enqueue(key)
        if new is not None and (kind == "SYNC" or not self._own_stream_write(new)):
            self.enqueue((IMAGE_STREAM, ns, name))

    def dependents(self, old: ImageStream | None, new: ImageStream | None) -> list[Key]:
        """Who must look again after a stream went from ``old`` to ``new``: by tag moved."""
        stream = new if new is not None else old
        if stream is None:
            return []
        ns, name = stream.metadata.namespace, stream.metadata.name
        moved = moved_tags(old, new)
        if moved is None:  # the spec changed: everything that watches the stream
            moved = {t.tag for s in (old, new) if s is not None for t in s.status.tags}
            moved |= {t.name for s in (old, new) if s is not None for t in s.spec.tags}
        keys: set[Key] = set()
        for tag in moved:
            stream_tag = (ns, f"{name}:{tag}")
            for bc_ns, bc_name in self.caches.build_configs.store.index_keys(TAGS, stream_tag):
                keys.add((BUILD_CONFIG, bc_ns, bc_name))
            for b_ns, b_name in self.caches.builds.store.index_keys(INPUT, stream_tag):
                keys.add((BUILD, b_ns, b_name))
            for kind, informer in self.caches.workloads.items():
                for w_ns, w_name in informer.store.index_keys(TAGS, (ns, name, tag)):
                    keys.add((kind, w_ns, w_name))
        if moved:
            keys |= self.dc_watchers.watchers((ns, name))
        return sorted(keys)

    def _workload_handler(
        self, kind: str
    ) -> Callable[[str, dict[str, Any] | None, dict[str, Any] | None], None]:
        def handle(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            obj = new if new is not None else old
            if obj is None:
                return
            meta = obj.get("metadata") or {}
            key = (kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            if new is None:
                self._discard(key)
                self.workloads.forget(key)
                return
            if (
                event == "SYNC"
                or old is None
                or _workload_fingerprint(old) != (_workload_fingerprint(new))
            ):
                self.enqueue(key)

        return handle

    # -- resync ------------------------------------------------------------------

    def _resync_loop(self) -> None:
        while not self.stop.wait(self.config.resync_seconds):
            self._resync()

    def _resync(self) -> None:
        """Every cached object to its handler again: no API request.

        Nothing raised here may end the resync thread: it is what recovers
        from every lost wake-up, for every tenant.
        """
        for informer in self.caches.all():
            try:
                informer.resync()
            except Exception:
                log.exception("resync of %s crashed", informer.name)

    # -- workers ---------------------------------------------------------------

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

    def process(self, queue: WorkQueue[Key], timeout: float = 1.0) -> bool:
        """Take one key from ``queue`` and reconcile it; False if none came."""
        key = queue.get(timeout=timeout)
        if key is None:
            return False
        me = threading.current_thread().name
        with self._lock:
            self._busy[me] = (key, time.monotonic())
        self.metrics.queue_depth.set(len(self.queue) + len(self.stream_queue))
        try:
            result = self._dispatch(key)
        except Conflict:
            self.metrics.reconciles.labels(kind=key[0], result="conflict").inc()
            queue.add(key)  # someone wrote in between: read again
        except ManifestError as err:
            # Stored by the API server, refused by the models: retrying
            # cannot help; the next change of the object queues it again.
            log.warning("reconcile %s: invalid object: %s", key, err)
            self.metrics.reconciles.labels(kind=key[0], result="invalid").inc()
            queue.forget(key)
        except Exception as err:
            delay = queue.add_rate_limited(key)
            if isinstance(err, KubeError):
                # Expected trouble (API server down, RBAC): one line, no traceback.
                log.warning("reconcile %s: %s; retrying in %.0fs", key, err, delay)
            else:
                log.exception("reconcile %s failed; retrying in %.0fs", key, delay)
            self.metrics.reconciles.labels(kind=key[0], result="error").inc()
        else:
            queue.forget(key)
            self.metrics.reconciles.labels(kind=key[0], result="ok").inc()
            if result.requeue_after is not None:
                queue.add_after(key, result.requeue_after)
            for other in result.also:
                self.enqueue(other)
        finally:
            with self._lock:
                self._busy.pop(me, None)
            queue.done(key)
        return True

    def _worker(self, queue: WorkQueue[Key]) -> None:
        while not self.stop.is_set():
            self.process(queue)

    # -- health ------------------------------------------------------------------

    def stuck(self) -> list[tuple[str, Key, float]]:
        """Workers in one reconcile for longer than the deadline: (thread, key, seconds)."""
        now = time.monotonic()
        with self._lock:
            busy = list(self._busy.items())
        return [
            (thread, key, now - since)
            for thread, (key, since) in busy
            if now - since > self.config.reconcile_deadline
        ]

    def healthy(self) -> bool:
        """False when a worker is stuck past the deadline or an informer went silent."""
        stuck = self.stuck()
        for thread, key, seconds in stuck:
            log.error("%s: reconcile of %s running for %.0fs (deadline %.0fs)",
                      thread, key, seconds, self.config.reconcile_deadline)  # fmt: skip
        if stuck:
            return False
        if not self.elector.is_leader.is_set():
            return True  # a follower is healthy while it waits
        horizon = time.monotonic() - 2 * max(self.config.resync_seconds, WATCH_TIMEOUT_SECONDS)
        return all(i.alive > horizon for i in self.caches.all() if i.synced.is_set())

    # -- lifecycle ---------------------------------------------------------------

    def _thread(self, target: Callable[..., None], name: str, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, args=args, daemon=True)
        thread.start()
        return thread

    def _log_requests(self) -> None:
        """The API requests of each minute (watches apart), for operators and bench/scale.py."""
        last = REQUESTS.total()
        while not self.stop.wait(REQUEST_LOG_SECONDS):
            total = REQUESTS.total()
            log.info("API requests in the last %ds: %d (total %d, watches opened %d)",
                     REQUEST_LOG_SECONDS, total - last, total,
                     REQUESTS.total(watches=True) - total)  # fmt: skip
            last = total

    def wait_synced(self) -> bool:
        """Block until every informer has listed once (False if stopped first)."""
        for informer in self.caches.all():
            while not informer.synced.wait(1.0):
                if self.stop.is_set():
                    return False
        return True

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
        if self.config.admission_port:
            self._start_admission()  # every replica answers admission reviews
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
        started = time.monotonic()
        for informer in self.caches.all():
            self._thread(informer.run, f"informer-{informer.name}", self.stop)
        if not self.wait_synced():
            return
        log.info("caches synced in %.1fs", time.monotonic() - started)
        self._thread(self._resync_loop, "resync")
        self._thread(self._log_requests, "requests")
        if self.config.admission_port:
            sweep = LookupSweep(
                self.kube, self.caches.image_streams.store.objects, self.image_lookup
            )
            self._thread(sweep.run, "lookup-sweep", self.stop, float(self.config.resync_seconds))
        workers = [
            self._thread(self._worker, f"worker-{i}", self.queue)
            for i in range(self.config.workers)
        ]
        workers += [
            self._thread(self._worker, f"stream-worker-{i}", self.stream_queue)
            for i in range(self.config.stream_workers)
        ]
        log.info(
            "controller running with %d reconcile and %d stream workers",
            self.config.workers, self.config.stream_workers,
        )  # fmt: skip
        while not self.stop.wait(1.0):
            pass
        self.queue.close()
        self.stream_queue.close()


def _workload_fingerprint(obj: dict[str, Any]) -> tuple[int, str]:
    """What a workload change must touch to matter: the annotation or the spec."""
    meta = obj.get("metadata") or {}
    annotation = (meta.get("annotations") or {}).get(IMAGE_TRIGGERS_ANNOTATION)
    return int(meta.get("generation") or 0), str(annotation)
