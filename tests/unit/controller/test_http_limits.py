"""The controller's HTTP ports against callers who hold connections open.

Before: no socket timeout and no thread cap (40 half-sent requests held 40
threads), and webhooks, metrics and notifications on one port.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from http.server import ThreadingHTTPServer

import pytest

from builder.controller import metrics as metrics_module
from builder.controller.metrics import Metrics, serve


def _ok(path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
    del path, headers
    return 200, b"got %d\n" % len(body)


@pytest.fixture
def small_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadingHTTPServer]:
    monkeypatch.setattr(metrics_module, "SOCKET_TIMEOUT", 1.0)
    http = serve(Metrics(), 0, lambda: True, lambda: True, {"/hook": _ok},
                 max_connections=4, body_deadline=1.5)  # fmt: skip
    try:
        yield http
    finally:
        http.shutdown()
        http.server_close()


def _port(http: ThreadingHTTPServer) -> int:
    return int(http.server_address[1])


def _half_sent(port: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    return conn


def test_connections_beyond_the_cap_are_answered_busy_at_once(
    small_server: ThreadingHTTPServer,
) -> None:
    port = _port(small_server)
    held = [_half_sent(port) for _ in range(4)]
    try:
        time.sleep(0.2)
        began = time.monotonic()
        with socket.create_connection(("127.0.0.1", port)) as extra:
            extra.settimeout(2)
            answer = extra.recv(200)
        assert answer.startswith(b"HTTP/1.0 503")
        assert time.monotonic() - began < 1.0
    finally:
        for conn in held:
            conn.close()


def test_a_body_that_trickles_is_cut_off_at_the_deadline(
    small_server: ThreadingHTTPServer,
) -> None:
    conn = _half_sent(_port(small_server))
    began = time.monotonic()
    conn.settimeout(5)
    try:
        for _ in range(10):  # one byte every 0.5 s: each read is quick, the whole is not
            time.sleep(0.5)
            conn.sendall(b"x")
            if time.monotonic() - began > 3:
                break
    except OSError:
        pass  # the server closed it
    try:
        answer = conn.recv(200)
    except OSError:
        answer = b""
    conn.close()
    assert answer.startswith(b"HTTP/1.0 408") or answer == b""
    assert time.monotonic() - began < 4.5


def test_a_silent_connection_is_dropped_after_the_socket_timeout(
    small_server: ThreadingHTTPServer,
) -> None:
    with socket.create_connection(("127.0.0.1", _port(small_server))) as conn:
        conn.settimeout(5)
        began = time.monotonic()
        assert conn.recv(100) == b""  # closed by the server, no request ever sent
        assert time.monotonic() - began < 3


def test_the_server_still_answers_after_all_that(small_server: ThreadingHTTPServer) -> None:
    port = _port(small_server)
    for conn in [_half_sent(port) for _ in range(4)]:
        conn.close()
    time.sleep(0.3)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/hook", data=b"12345")
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
        assert answer.read() == b"got 5\n"


def test_a_webhook_port_serves_webhooks_only() -> None:
    http = serve(None, 0, lambda: True, lambda: True, {"/apis/": _ok}, name="webhooks")
    try:
        base = f"http://127.0.0.1:{_port(http)}"
        for path in ("/metrics", "/healthz"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(base + path, timeout=5)  # noqa: S310 - loopback
            assert err.value.code == 404
        request = urllib.request.Request(base + "/apis/x", data=b"{}")  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
            assert answer.status == 200
    finally:
        http.shutdown()
        http.server_close()
