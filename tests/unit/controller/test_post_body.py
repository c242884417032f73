"""The controller's POST endpoints (notifications, webhooks) read a body only by a sane length.

``int(Content-Length)`` on ``abc`` raised inside the handler (the caller got
no answer at all), and ``-1`` read until the client closed the connection,
past ``MAX_POST_BYTES``.  Both are a 400 now.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping

import pytest

from builder.controller.metrics import Metrics, serve

PORT = 5131  # this area's test port range is 5130-5139


BODIES: list[bytes] = []


def _handler(path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
    del path, headers
    BODIES.append(body)
    return 200, b"ok\n"


@pytest.fixture(scope="module")
def running() -> Iterator[None]:
    # One server for the module: each shutdown waits out a 0.5 s poll.
    http = serve(Metrics(), PORT, lambda: True, lambda: True, {"/hook": _handler})
    try:
        yield
    finally:
        http.shutdown()
        http.server_close()


@pytest.fixture
def server(running: None) -> list[bytes]:
    del running
    BODIES.clear()
    return BODIES


def post(length: str, body: bytes = b"{}") -> bytes:
    with socket.create_connection(("127.0.0.1", PORT), timeout=5) as conn:
        conn.sendall(
            b"POST /hook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + f"Content-Length: {length}\r\n\r\n".encode()
            + body
        )
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "\u0661"])
def test_a_bad_content_length_is_a_400(server: list[bytes], length: str) -> None:
    answer = post(length)
    assert answer.startswith(b"HTTP/1.0 400 "), answer
    assert server == []


def test_a_good_content_length_reaches_the_handler(server: list[bytes]) -> None:
    assert post("2").startswith(b"HTTP/1.0 200 ")
    assert server == [b"{}"]
