"""``start-build --from-webhook``: the request oc sends, and how answers are reported.

A real HTTP server on the loopback plays the webhook endpoint: it records
what it receives and answers what the row says.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from builder.cli import main
from builder.cli.common import CliError
from builder.cli.fromwebhook import ChangedRef, event, parse_post_receive, trigger
from builder.cli.startbuild import from_webhook

SECRET = "s3cr3t-webhook-token"  # noqa: S105 - a test value


class Endpoint:
    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        self.headers: dict[str, str] = {}
        self.requests: list[tuple[str, str, bytes, str]] = []


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, str]]:
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append(
                (self.command, self.path, self.rfile.read(length),
                 self.headers.get("Content-Type", ""))
            )  # fmt: skip
            self.send_response(state.status)
            for key, value in state.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path, b"", ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/apis/build.openshift.io/v1/namespaces/dev/buildconfigs/app/webhooks/{SECRET}/generic"
    try:
        yield state, url
    finally:
        server.shutdown()
        server.server_close()


BUILD = {"kind": "Build", "apiVersion": "build.openshift.io/v1", "metadata": {"name": "app-3"}}


def test_an_empty_post_starts_the_build(endpoint: tuple[Endpoint, str]) -> None:
    state, url = endpoint
    state.body = json.dumps(BUILD).encode()
    assert trigger(url, "", None) == "build.build.openshift.io/app-3"
    [(method, path, body, media)] = state.requests
    assert (method, body, media) == ("POST", b"", "application/json")
    assert path.endswith(f"/webhooks/{SECRET}/generic")


def test_post_receive_lines_become_the_generic_event(
    endpoint: tuple[Endpoint, str], tmp_path: Any
) -> None:
    state, url = endpoint
    lines = tmp_path / "post-receive"
    lines.write_text(f"{'0' * 40} {'a' * 40} refs/heads/main\n{'b' * 40} {'b' * 40} refs/heads/x\n")
    trigger(url, str(lines), None)
    [(_, _, body, _)] = state.requests
    assert json.loads(body) == {"git": {"refs": [{"ref": "refs/heads/main", "commit": "a" * 40}]}}


@pytest.mark.parametrize(
    ("status", "answer", "message"),
    [
        (403, b'{"kind":"Status","message":"the secret does not match"}',
         "server rejected our request 403\nremote: the secret does not match"),
        (500, b"boom", "server rejected our request 500\nremote: boom"),
    ],
)  # fmt: skip
def test_a_refusal_is_reported_with_the_servers_message(
    endpoint: tuple[Endpoint, str], status: int, answer: bytes, message: str
) -> None:
    state, url = endpoint
    state.status, state.body = status, answer
    with pytest.raises(CliError) as err:
        trigger(url, "", None)
    assert str(err.value) == message


def test_a_redirect_is_not_followed(endpoint: tuple[Endpoint, str]) -> None:
    state, url = endpoint
    state.status, state.headers = 302, {"Location": url.replace("/generic", "/elsewhere")}
    assert trigger(url, "", None) is None
    assert [r[0] for r in state.requests] == ["POST"]


def test_the_secret_is_never_in_an_error() -> None:
    with pytest.raises(CliError) as err:
        trigger(f"http://127.0.0.1:1/webhooks/{SECRET}/generic", "", None)
    assert SECRET not in str(err.value)
    assert "http://127.0.0.1:1" in str(err.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/x/generic", "generic"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(CliError, match="http:// or https://"):
        trigger(url, "", None)


def test_post_receive_parsing() -> None:
    assert parse_post_receive(["a b refs/heads/main", "", "c d refs/tags/v1"]) == [
        ChangedRef("a", "b", "refs/heads/main"),
        ChangedRef("c", "d", "refs/tags/v1"),
    ]
    with pytest.raises(CliError, match="line 1"):
        parse_post_receive(["only two"])
    assert event([], None) is None


@pytest.mark.parametrize(
    "argv",
    [["app", "--from-webhook", "http://h/generic"],
     ["--from-build", "app-1", "--from-webhook", "http://h/generic"],
     ["--from-dir", ".", "--from-webhook", "http://h/generic"]],
)  # fmt: skip
def test_from_webhook_takes_no_build_config(argv: list[str]) -> None:
    with pytest.raises(CliError, match="incompatible with arguments"):
        from_webhook(main.parser().parse_args(["start-build", *argv]))
