"""Prometheus metrics and the health endpoint of the controller.

Each controller process owns one registry (not the library's global one), so
tests can run several controllers in one interpreter.  The API requests the
process made (``builder.kube.client.REQUESTS``, counted where every request
passes) are read at each scrape as ``kbuild_api_requests_total{verb,resource}``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from builder.kube.client import REQUESTS, RequestCounter


class ApiRequestCollector(Collector):
    """``kbuild_api_requests_total{verb,resource}``, read from a RequestCounter at each scrape.

    The counter is the process's own (every API call passes ``builder.kube``),
    so it is exported as it stands rather than copied into a second counter.
    """

    def __init__(self, requests: RequestCounter) -> None:
        self.requests = requests

    def describe(self) -> Iterator[Metric]:
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for (verb, resource), count in sorted(self.requests.snapshot().items()):
            family.add_metric([verb, resource], count)
        yield family

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily(
            "kbuild_api_requests",
            "Requests this process sent the API server, by verb and resource "
            "(watches counted when opened).",
            labels=["verb", "resource"],
        )


class Metrics:
    def __init__(self, requests: RequestCounter = REQUESTS) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(ApiRequestCollector(requests))
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


def body_length(values: list[str]) -> int | None:
    """The body length the ``Content-Length`` header(s) announce; None if malformed.

    Only ASCII digits count: ``int()`` would take ``-1`` (``read(-1)`` reads
    to the end of the stream, past any limit), ``+5``, ``1_0`` or ``\u0661``.
    """
    if not values:
        return 0
    if len(set(values)) != 1 or not values[0].isascii() or not values[0].isdigit():
        return None
    return int(values[0])


# The controller's HTTP ports face untrusted callers (a webhook URL is public):
# every connection's socket operations time out, a request body must arrive
# whole within BODY_DEADLINE, and at most MAX_CONNECTIONS are served at once;
# one more is answered 503 at once instead of taking a thread.
SOCKET_TIMEOUT = 10.0
BODY_DEADLINE = 30.0
MAX_CONNECTIONS = 32
_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 5\r\nConnection: close\r\n\r\nbusy\n"
)


class BoundedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, but never more than ``max_connections`` threads."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def read_body(rfile: Any, connection: socket.socket, length: int, deadline: float) -> bytes | None:
    """``length`` bytes of body, or None if they did not all arrive by ``deadline``.

    A socket timeout bounds each read, not the whole: a sender trickling a
    byte every few seconds would otherwise hold the thread for hours.
    """
    chunks: list[bytes] = []
    left = length
    while left > 0:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        connection.settimeout(min(remaining, SOCKET_TIMEOUT))
        try:
            chunk = rfile.read1(min(left, 65536))
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def serve(
    metrics: Metrics | None,
    port: int,
    healthy: Callable[[], bool],
    ready: Callable[[], bool],
    posts: Mapping[str, PostHandler] | None = None,
    *,
    name: str = "metrics",
    max_connections: int = MAX_CONNECTIONS,
    body_deadline: float = BODY_DEADLINE,
    tls: ssl.SSLContext | None = None,
) -> ThreadingHTTPServer:
    """Serve the ``posts`` endpoints on ``port``, in a thread; with ``metrics``, also
    /metrics, /healthz and /readyz (the internal port; webhooks get a port of their own).

    With ``tls`` (the admission webhook's port), connections are TLS; the
    handshake happens in the connection's thread, under the socket timeout,
    so a client that never finishes it holds no more than its own slot.
    """
    routes = sorted((posts or {}).items(), key=lambda item: -len(item[0]))

    class Handler(BaseHTTPRequestHandler):
        timeout = SOCKET_TIMEOUT

        def handle(self) -> None:
            if isinstance(self.connection, ssl.SSLSocket):
                try:
                    self.connection.do_handshake()
                except OSError:  # ssl.SSLError included: a bad client, not our error
                    self.close_connection = True
                    return
            super().handle()

        def do_POST(self) -> None:
            path = self.path.partition("?")[0]
            handler = next((h for prefix, h in routes if path.startswith(prefix)), None)
            if handler is None:
                self._send(404, b"not found\n")
                return
            if self.headers.get("Transfer-Encoding"):
                # Not decoded here: reading it as an empty body would drop the payload.
                self._send(411, b"length required\n")
                return
            length = body_length(self.headers.get_all("Content-Length") or [])
            if length is None:
                self._send(400, b"bad Content-Length\n")
                return
            if length > MAX_POST_BYTES:
                self._send(413, b"too large\n")
                return
            body = read_body(self.rfile, self.connection, length, time.monotonic() + body_deadline)
            if body is None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self._send(408, b"request body too slow\n")
                return
            self.connection.settimeout(SOCKET_TIMEOUT)
            code, answer = handler(path, {k.title(): v for k, v in self.headers.items()}, body)
            self._send(code, answer)

        def do_GET(self) -> None:
            if metrics is not None and self.path == "/metrics":
                self._send(200, metrics.exposition(), CONTENT_TYPE_LATEST)
            elif metrics is not None and self.path == "/healthz":
                ok = healthy()
                self._send(200 if ok else 503, b"ok\n" if ok else b"unhealthy\n")
            elif metrics is not None and self.path == "/readyz":
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

    server = BoundedHTTPServer(("0.0.0.0", port), Handler, max_connections)  # noqa: S104 - probes come from the kubelet
    if tls is not None:
        server.socket = tls.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server
