"""The registry client's HTTP, against real local servers (``http.server``), no mocks.

Keep-alive and a connection the server dropped while idle, redirects (which
method, which body, whose ``Authorization``), proxies from the environment
(an absolute URI for http, a CONNECT tunnel for https), TLS with a given CA
bundle, timeouts, and the headers' case-insensitive reading.
"""

from __future__ import annotations

import io
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from builder.registry import RegistryClient, RegistryUnreachable, httpconn
from tests.support.tls import self_signed


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int


@dataclass
class Recorder:
    seen: list[Seen] = field(default_factory=list)
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = field(default_factory=dict)
    connections: int = 0


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            recorder.connections += 1
            self.connection_number = recorder.connections

        def log_message(self, *_args: object) -> None:
            return None

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorder.seen.append(
                Seen(self.command, self.path, dict(self.headers), body, self.connection_number)
            )
            route = recorder.routes.get(self.path.split("?")[0])
            if route is not None:
                route(self)
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = do_PUT = do_HEAD = do_PATCH = _any  # noqa: N815

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", recorder
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy_from_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def _get(session: httpconn.Session, url: str, **kwargs: object) -> tuple[int, bytes]:
    response = session.request(
        str(kwargs.pop("method", "GET")), url, headers=kwargs.pop("headers", {}),  # type: ignore[arg-type]
        verify=kwargs.pop("verify", True), data=kwargs.pop("data", None),  # type: ignore[arg-type]
    )  # fmt: skip
    try:
        return response.status, b"".join(response.chunks(1 << 16))
    finally:
        response.close()


def _redirect(status: int, location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "4")
        handler.end_headers()
        handler.wfile.write(b"gone")

    return reply


def test_requests_share_one_kept_alive_connection(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    session = httpconn.Session(timeout=5, user_agent="kbuild-test")
    for _ in range(3):
        assert _get(session, f"{url}/v2/") == (200, b"ok")
    assert {seen.connection for seen in recorder.seen} == {1}
    assert recorder.seen[0].headers["User-Agent"] == "kbuild-test"
    assert recorder.seen[0].headers["Accept-Encoding"] == "identity"
    session.close()


def test_a_body_left_unread_does_not_poison_the_next_request(
    server: tuple[str, Recorder],
) -> None:
    url, recorder = server

    def big(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(1 << 20))
        handler.end_headers()
        handler.wfile.write(b"x" * (1 << 20))

    recorder.routes["/big"] = big
    session = httpconn.Session(timeout=5, user_agent="t")
    response = session.request("GET", f"{url}/big", headers={}, verify=True)
    assert next(response.chunks(10)) == b"x" * 10
    response.close()
    assert _get(session, f"{url}/v2/") == (200, b"ok")
    assert recorder.seen[-1].connection == 2


def test_a_connection_the_server_dropped_while_idle_is_replaced_once(
    server: tuple[str, Recorder],
) -> None:
    url, recorder = server

    def then_close(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")
        handler.wfile.flush()
        # Keep-alive promised, then the socket closed: what an idle timeout does.
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    recorder.routes["/once"] = then_close
    session = httpconn.Session(timeout=5, user_agent="t")
    assert _get(session, f"{url}/once") == (200, b"ok")
    assert _get(session, f"{url}/v2/", method="PUT", data=b"body") == (200, b"ok")
    assert recorder.seen[-1].body == b"body"
    assert recorder.seen[-1].connection == 2


@pytest.mark.parametrize(
    ("status", "method", "sent_method", "sent_body"),
    [
        (303, "POST", "GET", b""),
        (302, "POST", "GET", b""),
        (301, "PUT", "PUT", b"payload"),
        (307, "PUT", "PUT", b"payload"),
        (308, "POST", "POST", b"payload"),
    ],
)
def test_redirects_change_the_method_as_http_says(
    server: tuple[str, Recorder], status: int, method: str, sent_method: str, sent_body: bytes
) -> None:
    url, recorder = server
    recorder.routes["/from"] = _redirect(status, "/to")
    session = httpconn.Session(timeout=5, user_agent="t")
    data = io.BytesIO(b"payload")
    assert _get(session, f"{url}/from", method=method, data=data) == (200, b"ok")
    followed = recorder.seen[-1]
    assert (followed.method, followed.path, followed.body) == (sent_method, "/to", sent_body)


def test_authorization_follows_a_redirect_only_on_the_same_host(
    server: tuple[str, Recorder],
) -> None:
    url, recorder = server
    port = url.rsplit(":", 1)[1]
    recorder.routes["/same"] = _redirect(307, f"http://127.0.0.1:{port}/blob")
    recorder.routes["/elsewhere"] = _redirect(307, f"http://localhost:{port}/storage")
    session = httpconn.Session(timeout=5, user_agent="t")
    secret = {"Authorization": "Bearer registry-token"}
    _get(session, f"{url}/same", headers=secret)
    assert recorder.seen[-1].headers.get("Authorization") == "Bearer registry-token"
    _get(session, f"{url}/elsewhere", headers=secret)
    assert recorder.seen[-1].path == "/storage"
    assert "Authorization" not in recorder.seen[-1].headers


def test_redirect_loops_and_other_schemes_are_refused(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.routes["/loop"] = _redirect(302, "/loop")
    recorder.routes["/file"] = _redirect(302, "file:///etc/passwd")
    session = httpconn.Session(timeout=5, user_agent="t")
    with pytest.raises(httpconn.HTTPProtocolError, match="more than 10 redirects"):
        _get(session, f"{url}/loop")
    with pytest.raises(httpconn.HTTPProtocolError, match="file:///etc/passwd"):
        _get(session, f"{url}/file")


def test_repeated_headers_are_joined_and_read_in_any_case(server: tuple[str, Recorder]) -> None:
    url, recorder = server

    def challenges(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(401)
        handler.send_header("WWW-Authenticate", 'Basic realm="r"')
        handler.send_header("www-authenticate", 'Bearer realm="https://auth.test/token"')
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    recorder.routes["/v2/"] = challenges
    session = httpconn.Session(timeout=5, user_agent="t")
    response = session.request("GET", f"{url}/v2/", headers={}, verify=True)
    response.close()
    assert response.status == 401
    assert response.headers.get("Www-Authenticate") == (
        'Basic realm="r", Bearer realm="https://auth.test/token"'
    )
    assert "WWW-AUTHENTICATE" in response.headers
    assert sorted(name.lower() for name in response.headers) == [
        "content-length", "date", "server", "www-authenticate",
    ]  # fmt: skip


def test_refused_and_unresolvable_are_connect_errors() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = httpconn.Session(timeout=5, user_agent="t")
    with pytest.raises(httpconn.ConnectError):
        _get(session, f"http://127.0.0.1:{port}/")
    with pytest.raises(httpconn.ConnectError):
        _get(session, "http://no-such-host.invalid/")


def test_a_server_that_never_answers_times_out_as_an_exchange_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        session = httpconn.Session(timeout=(5, 0.3), user_agent="t")
        with pytest.raises(httpconn.ExchangeError):
            _get(session, f"http://127.0.0.1:{port}/")


def test_tls_is_verified_against_the_given_bundle_only(
    tmp_path: Path, server: tuple[str, Recorder]
) -> None:
    _, recorder = server
    cert = self_signed(tmp_path, "registry")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert_path, cert.key_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{httpd.server_address[1]}/v2/"
    try:
        session = httpconn.Session(timeout=5, user_agent="t")
        with pytest.raises(httpconn.ConnectError) as untrusted:
            _get(session, url)
        assert isinstance(untrusted.value.__cause__, ssl.SSLCertVerificationError)
        assert _get(session, url, verify=str(cert.cert_path)) == (200, b"ok")
        assert _get(session, url, verify=False) == (200, b"ok")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_unverified_connection_does_not_load_the_system_ca_store() -> None:
    # Loading it costs ~0.05 s, and an insecure registry is tried over TLS
    # first: a build paid it for nothing (verify=False never reads a CA).
    session = httpconn.Session(timeout=5, user_agent="t")
    unverified = session._context(False)
    assert unverified.verify_mode == ssl.CERT_NONE
    assert not unverified.check_hostname
    assert unverified.cert_store_stats()["x509"] == 0
    assert unverified.minimum_version >= ssl.TLSVersion.TLSv1_2
    # A verified one still trusts the system's CAs.
    system = ssl.create_default_context().cert_store_stats()["x509"]
    assert session._context(True).cert_store_stats()["x509"] == system


class _Proxy(threading.Thread):
    """A forward proxy: absolute-URI requests relayed, CONNECT tunnelled; records what it saw."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.first_lines: list[str] = []
        self.authorizations: list[str] = []

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        text, _, rest = head.partition(b"\r\n\r\n")
        lines = text.decode().split("\r\n")
        self.first_lines.append(lines[0])
        for line in lines[1:]:
            if line.lower().startswith("proxy-authorization:"):
                self.authorizations.append(line.split(":", 1)[1].strip())
        method, target, _ = lines[0].split(" ")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            rest_of_url = target.split("://", 1)[1]
            hostport, _, path = rest_of_url.partition("/")
            host, port = hostport.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            kept = [f"{method} /{path} HTTP/1.1"] + [
                line for line in lines[1:] if not line.lower().startswith("proxy-")
            ]
            upstream.sendall("\r\n".join(kept).encode() + b"\r\n\r\n" + rest)
        self._pipe(client, upstream)

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with a, b:
            while True:
                ready, _, _ = select.select([a, b], [], [], 5)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    running = _Proxy()
    running.start()
    yield running
    running.listener.close()


def test_http_goes_through_the_environment_s_proxy_with_its_credentials(
    server: tuple[str, Recorder], proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, recorder = server
    monkeypatch.setenv("http_proxy", f"http://user:p%40ss@127.0.0.1:{proxy.port}")
    session = httpconn.Session(timeout=5, user_agent="t")
    assert _get(session, f"{url}/v2/") == (200, b"ok")
    assert proxy.first_lines == [f"GET {url}/v2/ HTTP/1.1"]
    assert proxy.authorizations == [httpconn.basic_authorization("user", "p@ss")]
    assert "Proxy-Authorization" not in recorder.seen[-1].headers


def test_https_is_tunnelled_and_no_proxy_is_honoured(
    tmp_path: Path, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    cert = self_signed(tmp_path, "registry")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert_path, cert.key_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    monkeypatch.setenv("HTTPS_PROXY", f"127.0.0.1:{proxy.port}")
    try:
        session = httpconn.Session(timeout=5, user_agent="t")
        url = f"https://127.0.0.1:{port}/v2/"
        assert _get(session, url, verify=str(cert.cert_path)) == (200, b"ok")
        assert proxy.first_lines[0].startswith(f"CONNECT 127.0.0.1:{port} HTTP/1.")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        fresh = httpconn.Session(timeout=5, user_agent="t")
        assert _get(fresh, url, verify=str(cert.cert_path)) == (200, b"ok")
        assert len(proxy.first_lines) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_proxy_spoken_to_over_tls_is_refused_by_name(
    server: tuple[str, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = server
    monkeypatch.setenv("http_proxy", "https://proxy.test:3128")
    session = httpconn.Session(timeout=5, user_agent="t")
    with pytest.raises(httpconn.ConnectError, match="only http:// proxies"):
        _get(session, f"{url}/v2/")


def test_authorization_is_dropped_for_another_port_of_the_same_host(
    server: tuple[str, Recorder],
) -> None:
    """A storage service on the registry's host but another port is another service."""
    url, recorder = server
    other = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        recorder.routes["/blob"] = _redirect(307, f"http://127.0.0.1:{other.server_address[1]}/s")
        session = httpconn.Session(timeout=5, user_agent="t")
        _get(session, f"{url}/blob", headers={"Authorization": "Bearer registry-token"})
        assert recorder.seen[-1].path == "/s"
        assert "Authorization" not in recorder.seen[-1].headers
    finally:
        other.shutdown()
        other.server_close()


def test_an_unusable_proxy_is_named_in_the_registry_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("https_proxy", "https://proxy.test:3128")
    monkeypatch.setenv("http_proxy", "https://proxy.test:3128")
    with pytest.raises(RegistryUnreachable, match="only http:// proxies are supported"):
        RegistryClient(insecure={"registry.test"}).resolve("registry.test/app:1")
