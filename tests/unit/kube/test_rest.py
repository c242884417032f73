"""The API server connection: kubeconfig as kubectl reads it, credentials, and the wire.

The wire is tested against real local HTTP(S) servers (``http.server``), not
a mock of ``http.client``: keep-alive, chunked watch streams, a server that
drops an idle connection, TLS with a client certificate.
"""

from __future__ import annotations

import base64
import json
import ssl
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from builder.kube import Gone, Kube, NotFound, Unreachable
from builder.kube.client import Api
from builder.kube.rest import (
    ConfigError,
    Endpoint,
    Rest,
    kubeconfig_namespace,
    load_incluster,
    load_kubeconfig,
)
from tests.support.tls import self_signed

# ---------------------------------------------------------------------------
# kubeconfig


def _config(
    current: str = "c",
    *,
    clusters: list[dict[str, Any]] | None = None,
    contexts: list[dict[str, Any]] | None = None,
    users: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": clusters if clusters is not None
        else [{"name": "k", "cluster": {"server": "https://k.test:6443/"}}],
        "contexts": contexts if contexts is not None
        else [{"name": "c", "context": {"cluster": "k", "user": "u", "namespace": "team"}}],
        "users": users if users is not None else [{"name": "u", "user": {"token": "t0"}}],
    }  # fmt: skip


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_current_context_names_server_user_and_namespace(tmp_path: Path) -> None:
    endpoint = load_kubeconfig(str(_write(tmp_path / "config", _config())))
    assert endpoint.server == "https://k.test:6443"
    assert endpoint.token == "t0"  # noqa: S105 - a test value
    assert endpoint.namespace == "team"
    # The CLI takes its default namespace from the same reading of the file.
    assert Kube.connect(str(tmp_path / "config")).namespace == "team"


def test_files_of_kubeconfig_merge_first_name_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _write(tmp_path / "a", _config(
        "a", contexts=[{"name": "a", "context": {"cluster": "k", "user": "u",
                                                 "namespace": "team-a"}}],
    ))  # fmt: skip
    second = _write(tmp_path / "b", _config(
        "b",
        clusters=[{"name": "k", "cluster": {"server": "https://ignored"}},
                  {"name": "other", "cluster": {"server": "http://other.test"}}],
        contexts=[{"name": "a", "context": {"cluster": "k", "namespace": "ignored"}},
                  {"name": "b", "context": {"cluster": "other", "user": "u2",
                                            "namespace": "team-b"}}],
        users=[{"name": "u2", "user": {"username": "me", "password": "pw"}}],
    ))  # fmt: skip
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", f"{missing}:{first}:{second}")
    assert load_kubeconfig().namespace == "team-a"
    assert load_kubeconfig().server == "https://k.test:6443"
    b = load_kubeconfig(context="b")
    assert (b.server, b.username, b.password, b.namespace) == (
        "http://other.test", "me", "pw", "team-b",
    )  # fmt: skip
    assert kubeconfig_namespace(None, "b") == "team-b"


def test_credential_files_are_relative_to_their_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_text("CA PEM")
    (tmp_path / "pki" / "token").write_text("from-file\n")
    config = _config(
        clusters=[{"name": "k", "cluster": {"server": "https://k.test",
                                            "certificate-authority": "pki/ca.crt"}}],
        users=[{"name": "u", "user": {
            "tokenFile": "pki/token",
            "client-key-data": base64.b64encode(b"KEY PEM").decode(),
            "client-certificate-data": base64.b64encode(b"CERT PEM").decode(),
        }}],
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    endpoint = load_kubeconfig(str(_write(tmp_path / "config", config)))
    assert endpoint.ca_pem == "CA PEM"
    assert endpoint.token_file == str(tmp_path / "pki" / "token")
    assert (endpoint.cert_pem, endpoint.key_pem) == ("CERT PEM", "KEY PEM")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"current-context": ""}, "no current-context"),
        ({"current-context": "nope"}, "context 'nope' is not in the kubeconfig"),
        ({"contexts": [{"name": "c", "context": {"cluster": "x", "user": "u"}}]},
         "cluster 'x' is not in the kubeconfig"),
        ({"contexts": [{"name": "c", "context": {"cluster": "k", "user": "x"}}]},
         "user 'x' is not in the kubeconfig"),
        ({"clusters": [{"name": "k", "cluster": {"server": "https://k", "proxy-url": "http://p"}}]},
         "proxy-url is not supported"),
        ({"users": [{"name": "u", "user": {"auth-provider": {"name": "gcp"}}}]},
         "auth-provider is not supported"),
        ({"users": [{"name": "u", "user": {"token": "t", "as-uid": "1"}}]},
         "as-uid is not supported"),
        ({"users": [{"name": "u", "user": {"token": "t", "as-user-extra": {"a": ["b"]}}}]},
         "as-user-extra is not supported"),
        ({"users": [{"name": "u", "user": {"exec": {"command": "x", "provideClusterInfo": True}}}]},
         "provideClusterInfo is not supported"),
        ({"clusters": [{"name": "k", "cluster": {}}]}, "has no server"),
        ({"clusters": "oops"}, "clusters is not a list"),
        ({"users": [{"name": "u", "user": {"client-certificate": "/nonexistent/c.crt"}}]},
         "cannot read client-certificate /nonexistent/c.crt"),
    ],
)  # fmt: skip
def test_what_cannot_be_used_is_said(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    config = {**_config(), **change}
    with pytest.raises(ConfigError, match=message):
        load_kubeconfig(str(_write(tmp_path / "config", config)))


def test_a_missing_or_broken_kubeconfig_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read kubeconfig"):
        load_kubeconfig(str(tmp_path / "none"))
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_kubeconfig(str(broken))
    with pytest.raises(Unreachable, match="not valid YAML"):
        Kube.connect(str(broken))


def test_in_cluster_reads_the_service_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ca.crt").write_text("CA")
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "namespace").write_text("kbuild-system\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    endpoint = load_incluster(tmp_path)
    assert endpoint.server == "https://[fd00::1]:443"
    assert endpoint.token_file == str(tmp_path / "token")
    assert endpoint.namespace == "kbuild-system"
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    with pytest.raises(ConfigError, match="not in a pod"):
        load_incluster(tmp_path)


# ---------------------------------------------------------------------------
# a real local server

Handler = Callable[[BaseHTTPRequestHandler], None]


class Recorder:
    """What the server saw, and how it answers: ``answer`` is swapped per test."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.connections: set[tuple[str, int]] = set()
        self.answer: Handler = lambda h: reply(h, 200, {"kind": "Status"})


def reply(handler: BaseHTTPRequestHandler, status: int, body: Any, **headers: str) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(data)


def _serve(recorder: Recorder, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorder.requests.append((self.command, self.path, dict(self.headers), body))
            recorder.connections.add(self.client_address)
            recorder.answer(self)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any  # noqa: N815

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[str]:
    yield from _serve(recorder)


def test_requests_reuse_one_connection_and_send_json(server: str, recorder: Recorder) -> None:
    rest = Rest(Endpoint(server=server, token="secret"))  # noqa: S106 - a test value
    api = Api(rest)
    api.call("POST", "/api/v1/namespaces/ns/events", body={"reason": "X"})
    api.call("GET", "/api/v1/namespaces/ns/events", [("fieldSelector", "a=b,c=d")])
    assert len(recorder.connections) == 1
    (method, path, headers, body), (_, query_path, _, _) = recorder.requests
    assert (method, path) == ("POST", "/api/v1/namespaces/ns/events")
    assert headers["Authorization"] == "Bearer secret"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"reason": "X"}
    assert query_path == "/api/v1/namespaces/ns/events?fieldSelector=a%3Db%2Cc%3Dd"


def test_a_connection_the_server_closed_is_replaced_once(server: str, recorder: Recorder) -> None:
    """The server drops the kept-alive connection after its answer; the next call reconnects."""

    def close_after(h: BaseHTTPRequestHandler) -> None:
        reply(h, 200, {"ok": True})
        h.close_connection = True  # no Connection: close header: the client finds out late

    recorder.answer = close_after
    api = Api(Rest(Endpoint(server=server)))
    assert api.call("GET", "/api/v1/namespaces/a") == {"ok": True}
    assert api.call("GET", "/api/v1/namespaces/b") == {"ok": True}
    assert [p for _, p, _, _ in recorder.requests] == ["/api/v1/namespaces/a",
                                                       "/api/v1/namespaces/b"]  # fmt: skip


def test_status_answers_become_typed_errors_and_warnings_are_kept(
    server: str, recorder: Recorder
) -> None:
    recorder.answer = lambda h: reply(
        h, 404, {"kind": "Status", "message": 'builds "x" not found', "code": 404},
        Warning='299 - "v1 Foo is deprecated"',
    )  # fmt: skip
    kube = Kube(Api(Rest(Endpoint(server=server))))
    with pytest.raises(NotFound) as caught:
        kube.get_pod("ns", "x")
    assert caught.value.server_message == 'builds "x" not found'
    assert kube.server_warnings == ["v1 Foo is deprecated"]


def test_nothing_listening_is_unreachable() -> None:
    import socket  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = Api(Rest(Endpoint(server=f"http://127.0.0.1:{port}")))
    with pytest.raises(Unreachable, match="cannot reach the API server"):
        api.call("GET", "/api/v1/namespaces")


def _watch_stream(events: list[bytes]) -> Handler:
    def answer(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for event in events:  # one chunk may hold half an event, or two
            h.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    return answer


def _event(kind: str, name: str, version: str) -> bytes:
    obj = {"metadata": {"name": name, "namespace": "ns", "resourceVersion": version}}
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


def test_a_watch_streams_events_split_across_chunks(server: str, recorder: Recorder) -> None:
    added, modified = _event("ADDED", "a", "5"), _event("MODIFIED", "a", "6")
    bookmark = json.dumps({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}})
    recorder.answer = _watch_stream([added[:10], added[10:] + modified, bookmark.encode() + b"\n"])
    kube = Kube(Api(Rest(Endpoint(server=server))))
    events = list(kube.watch_pods("ns", "app=x", "4"))
    assert [(e.type, e.resource_version) for e in events] == [
        ("ADDED", "5"), ("MODIFIED", "6"), ("BOOKMARK", "9"),
    ]  # fmt: skip
    _, path, _, _ = recorder.requests[0]
    assert path.startswith("/api/v1/namespaces/ns/pods?watch=true&allowWatchBookmarks=true")
    assert "resourceVersion=4" in path
    assert "labelSelector=app%3Dx" in path


def test_a_watch_too_old_is_gone_in_both_shapes(server: str, recorder: Recorder) -> None:
    kube = Kube(Api(Rest(Endpoint(server=server))))
    recorder.answer = lambda h: reply(h, 410, {"kind": "Status", "code": 410})
    with pytest.raises(Gone):
        list(kube.watch_pods("ns", "", "1"))
    expired = {"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                           "message": "too old resource version"}}  # fmt: skip
    recorder.answer = _watch_stream([json.dumps(expired).encode() + b"\n"])
    with pytest.raises(Gone, match="too old"):
        list(kube.watch_pods("ns", "", "1"))


def test_a_followed_log_is_read_line_by_line(server: str, recorder: Recorder) -> None:
    recorder.answer = _watch_stream([b"one\ntw", b"o\nthree"])
    kube = Kube(Api(Rest(Endpoint(server=server))))
    lines = list(kube.pod_log("ns", "p", "c", follow=True, tail_lines=3))
    assert lines == ["one", "two", "three"]
    assert recorder.requests[0][1] == (
        "/api/v1/namespaces/ns/pods/p/log?container=c&tailLines=3&follow=true"
    )


def test_a_rotated_token_file_is_read_again_on_401(
    server: str, recorder: Recorder, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("old")

    accepted = {"Bearer old"}

    def check(h: BaseHTTPRequestHandler) -> None:
        ok = h.headers.get("Authorization") in accepted
        reply(h, 200 if ok else 401, {"kind": "Status"})

    recorder.answer = check
    api = Api(Rest(Endpoint(server=server, token_file=str(token))))
    api.call("GET", "/api/v1/namespaces")  # reads "old" and keeps it for a minute
    token.write_text("new")  # the kubelet rotates it, the server stops taking the old one
    accepted = {"Bearer new"}
    assert api.call("GET", "/api/v1/namespaces") == {"kind": "Status"}
    assert [r[2]["Authorization"] for r in recorder.requests] == [
        "Bearer old", "Bearer old", "Bearer new",
    ]  # fmt: skip


def test_an_exec_plugin_gives_the_token(server: str, recorder: Recorder, tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, os\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "assert info['kind'] == 'ExecCredential'\n"
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential',\n"
        "  'status': {'token': os.environ['GIVE'],\n"
        "             'expirationTimestamp': '2999-01-01T00:00:00Z'}}))\n"
    )
    config = _config(
        clusters=[{"name": "k", "cluster": {"server": server}}],
        users=[{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
            "args": [str(plugin)], "env": [{"name": "GIVE", "value": "from-plugin"}],
        }}}],
    )  # fmt: skip
    kube = Kube.connect(str(_write(tmp_path / "config", config)))
    kube.get_lease("ns", "l")
    assert recorder.requests[0][2]["Authorization"] == "Bearer from-plugin"


def test_a_failing_exec_plugin_is_said(tmp_path: Path) -> None:
    config = _config(users=[{"name": "u", "user": {"exec": {
        "command": sys.executable, "args": ["-c", "import sys; sys.exit('login first')"],
    }}}])  # fmt: skip
    api = Api(Rest(load_kubeconfig(str(_write(tmp_path / "config", config)))))
    with pytest.raises(Unreachable, match="login first"):
        api.call("GET", "/api/v1/namespaces")


# ---------------------------------------------------------------------------
# TLS


@pytest.fixture
def tls_server(recorder: Recorder, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """HTTPS that trusts one client certificate; (url, server cert, client pair dir)."""
    served = self_signed(tmp_path / "server", "apiserver", hosts=("k8s.internal",))
    client = self_signed(tmp_path / "client", "admin")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(served.cert_path, served.key_path)
    context.load_verify_locations(client.cert_path)
    context.verify_mode = ssl.CERT_REQUIRED
    for url in _serve(recorder, context):
        yield url, served.cert_path, tmp_path / "client"


def test_tls_with_inline_ca_client_pair_and_server_name(
    tls_server: tuple[str, Path, Path], recorder: Recorder, tmp_path: Path
) -> None:
    url, server_cert, client_dir = tls_server

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    cluster = {"server": url, "certificate-authority-data": b64(server_cert),
               "tls-server-name": "k8s.internal"}  # fmt: skip
    user = {"client-certificate-data": b64(client_dir / "admin.crt"),
            "client-key-data": b64(client_dir / "admin.key")}  # fmt: skip
    config = _config(clusters=[{"name": "k", "cluster": cluster}],
                     users=[{"name": "u", "user": user}])  # fmt: skip
    kube = Kube.connect(str(_write(tmp_path / "config", config)))
    kube.get_lease("ns", "l")
    assert recorder.requests[0][1] == "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l"

    # the name checked is the one configured: without it, 127.0.0.1 does not match
    del cluster["tls-server-name"]
    kube = Kube.connect(str(_write(tmp_path / "config", config)))
    with pytest.raises(Unreachable, match=r"CERTIFICATE_VERIFY_FAILED|match"):
        kube.get_lease("ns", "l")


def test_the_client_key_never_stays_on_disk(
    tls_server: tuple[str, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, server_cert, client_dir = tls_server
    written: list[tuple[Path, int]] = []
    real_load = ssl.SSLContext.load_cert_chain

    def spy(self: ssl.SSLContext, certfile: Any, *args: Any, **kwargs: Any) -> None:
        path = Path(certfile)
        written.append((path, stat.S_IMODE(path.stat().st_mode)))
        real_load(self, certfile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    Rest(Endpoint(server=url, ca_pem=server_cert.read_text(),
                  cert_pem=(client_dir / "admin.crt").read_text(),
                  key_pem=(client_dir / "admin.key").read_text()))  # fmt: skip
    ((path, mode),) = written
    assert mode == 0o600
    assert not path.exists() and not path.parent.exists()
