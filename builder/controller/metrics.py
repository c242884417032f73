"""Prometheus metrics and the health endpoint of the controller.

Each controller process owns one registry (not the library's global one), so
tests can run several controllers in one interpreter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.builds = Counter(
            "kbuild_builds_total",
            "Builds that reached a phase, by phase and reason.",
            ["phase", "reason"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "kbuild_build_duration_seconds",
            "Build duration from start to a terminal phase.",
            ["phase"],
            buckets=(5, 10, 30, 60, 120, 300, 600, 1800, 3600),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "kbuild_queue_depth", "Keys waiting to be reconciled.", registry=self.registry
        )
        self.reconciles = Counter(
            "kbuild_reconciles_total",
            "Reconcile calls by kind and result.",
            ["kind", "result"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "kbuild_leader", "1 while this process holds the leader lease.", registry=self.registry
        )
        self.imports = Counter(
            "kbuild_image_imports_total",
            "Tag imports from registries, by result (the import reason on failure).",
            ["result"],
            registry=self.registry,
        )
        self.import_seconds = Histogram(
            "kbuild_image_import_seconds",
            "Time to import one tag (registry round trips, rate limiting included).",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.notifications = Counter(
            "kbuild_registry_notifications_total",
            "Registry notification deliveries, by HTTP answer.",
            ["code"],
            registry=self.registry,
        )
        self.triggered = Counter(
            "kbuild_image_triggers_total",
            "Workload containers set to a new image by the image.openshift.io/triggers annotation.",
            ["kind"],
            registry=self.registry,
        )

    def transition(self, phase: str, reason: str) -> None:
        self.builds.labels(phase=phase, reason=reason).inc()

    def finished(self, phase: str, reason: str, seconds: float) -> None:
        self.transition(phase, reason)
        self.duration.labels(phase=phase).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


# (path, headers, body) -> (HTTP status, body); keyed by the path prefix it serves.
PostHandler = Callable[[str, Mapping[str, str], bytes], tuple[int, bytes]]
MAX_POST_BYTES = 4 << 20


def serve(
    metrics: Metrics,
    port: int,
    healthy: Callable[[], bool],
    ready: Callable[[], bool],
    posts: Mapping[str, PostHandler] | None = None,
) -> ThreadingHTTPServer:
    """Start /metrics, /healthz, /readyz and the ``posts`` endpoints on ``port``, in a thread."""
    routes = sorted((posts or {}).items(), key=lambda item: -len(item[0]))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            path = self.path.partition("?")[0]
            handler = next((h for prefix, h in routes if path.startswith(prefix)), None)
            if handler is None:
                self._send(404, b"not found\n")
                return
            declared = self.headers.get("Content-Length") or "0"
            if not (declared.isascii() and declared.isdigit()):
                # int() would raise (no answer at all) or, for "-1", read to EOF.
                self._send(400, b"bad Content-Length\n")
                return
            length = int(declared)
            if length > MAX_POST_BYTES:
                self._send(413, b"too large\n")
                return
            body = self.rfile.read(length)
            code, answer = handler(path, {k.title(): v for k, v in self.headers.items()}, body)
            self._send(code, answer)

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, metrics.exposition(), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                ok = healthy()
                self._send(200 if ok else 503, b"ok\n" if ok else b"unhealthy\n")
            elif self.path == "/readyz":
                ok = ready()
                self._send(200 if ok else 503, b"ok\n" if ok else b"not ready\n")
            else:
                self._send(404, b"not found\n")

        def _send(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Probes every few seconds would drown the controller's log."""

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)  # noqa: S104 - probes come from the kubelet
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
