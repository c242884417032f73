"""HTTP to the API server: where to connect, with which credentials, and the wire.

kbuild speaks JSON to the API server and never needs a client library's
typed models.  The ``kubernetes`` package cost ~0.45 s to import (its config
loader pulls in every model class, oauthlib, dateutil, requests), more than
the whole of ``kbuild get`` may take (issue 11: 0.3 s of client-side
start-up), and the controller carried all of it in memory.  What kbuild
needs of it is here, on the standard library's ``http.client``:

- **kubeconfig as kubectl reads it**: ``--kubeconfig`` or ``$KUBECONFIG``
  (several files, the first to set a name wins) or ``~/.kube/config``; a
  context by name or ``current-context``; file paths relative to the file
  that names them; CA, client certificate and key inline or as files;
  ``token``, ``tokenFile``, basic auth, ``exec`` credential plugins
  (``client.authentication.k8s.io``), ``tls-server-name``,
  ``insecure-skip-tls-verify`` and impersonation (``as``, ``as-groups``).
  What kbuild cannot honour (``proxy-url``, ``auth-provider``) is an error
  naming the field, never silently ignored.
- **in-cluster**: the pod's service account token (re-read each minute: the
  kubelet rotates bound tokens) and CA.
- **the wire**: one keep-alive connection per thread (the controller's
  workers call concurrently), a client-side timeout on every request, one
  retry when a reused connection turns out to have been closed by the server
  before it answered, and streams (watches, followed logs) on connections of
  their own.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
CONNECT_TIMEOUT_SECONDS = 30.0
"""A stream's connection attempt (its reads have their own timeout, or none for a log)."""
TOKEN_FILE_REFRESH_SECONDS = 60.0
EXEC_TIMEOUT_SECONDS = 60.0

# The connection errors that mean "the server closed this keep-alive
# connection while it sat idle": the request never reached it, so sending it
# again on a new connection is safe.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
          http.client.CannotSendRequest)  # fmt: skip


class ConfigError(Exception):
    """The kubeconfig (or the in-cluster environment) cannot give a usable connection."""


@dataclass
class Reply:
    """One answer: status, the headers kbuild reads, and the body as sent."""

    status: int
    reason: str
    body: bytes
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class Endpoint:
    """Where and how to connect, resolved from a kubeconfig context or the pod."""

    server: str
    ca_pem: str = ""
    """Trusted CAs as PEM text; empty means the system's."""
    insecure: bool = False
    tls_server_name: str = ""
    cert_pem: str = ""
    key_pem: str = ""
    token: str = ""
    token_file: str = ""
    username: str = ""
    password: str = ""
    exec_spec: dict[str, Any] | None = None
    impersonate_user: str = ""
    impersonate_groups: list[str] = field(default_factory=list)
    namespace: str = ""


# ---------------------------------------------------------------------------
# kubeconfig


def _kubeconfig_paths(explicit: str | None) -> list[Path]:
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml  # noqa: PLC0415 - only a kubeconfig needs it; in a pod it is never read

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when built
        data = yaml.load(path.read_text(), Loader=loader)  # noqa: S506 - a safe loader
    except OSError as err:
        raise ConfigError(f"cannot read kubeconfig {path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"kubeconfig {path} is not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"kubeconfig {path} is not a mapping")
    return data


def _named(entries: Any, what: str, path: Path) -> list[tuple[str, dict[str, Any]]]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ConfigError(f"kubeconfig {path}: {what} is not a list")
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"kubeconfig {path}: an entry of {what} has no name")
        body = entry.get(what[:-1]) or {}
        if not isinstance(body, dict):
            raise ConfigError(f"kubeconfig {path}: {what[:-1]} {entry['name']!r} is not a mapping")
        found.append((entry["name"], body))
    return found


@dataclass
class _Merged:
    """Several kubeconfig files merged as kubectl merges them: the first to set a name wins."""

    current: str = ""
    clusters: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)


def _merge(paths: list[Path], explicit: bool) -> _Merged:
    merged = _Merged()
    read = 0
    for path in paths:
        if not explicit and not path.exists():
            continue  # kubectl skips missing files of $KUBECONFIG
        data = _load_yaml(path)
        read += 1
        base = path.resolve().parent
        merged.current = merged.current or str(data.get("current-context") or "")
        for name, body in _named(data.get("clusters"), "clusters", path):
            merged.clusters.setdefault(name, (body, base))
        for name, body in _named(data.get("contexts"), "contexts", path):
            merged.contexts.setdefault(name, body)
        for name, body in _named(data.get("users"), "users", path):
            merged.users.setdefault(name, (body, base))
    if not read:
        where = ", ".join(str(p) for p in paths)
        raise ConfigError(f"no kubeconfig found ({where}); pass --kubeconfig or set KUBECONFIG")
    return merged


def _file_or_data(body: Mapping[str, Any], key: str, base: Path) -> str:
    """PEM text of ``key-data`` (base64) or of the file ``key`` (relative to its kubeconfig)."""
    data = body.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=False).decode()
        except (ValueError, UnicodeDecodeError):
            raise ConfigError(f"{key}-data is not base64 of PEM text") from None
    name = body.get(key)
    if not name:
        return ""
    path = Path(str(name)).expanduser()
    path = path if path.is_absolute() else base / path
    try:
        return path.read_text()
    except OSError as err:
        raise ConfigError(f"cannot read {key} {path}: {err.strerror or err}") from None


def kubeconfig_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    """The namespace of ``context`` (else the current one); empty when it sets none."""
    merged = _merge(_kubeconfig_paths(kubeconfig), explicit=bool(kubeconfig))
    chosen = merged.contexts.get(context or merged.current) or {}
    return str(chosen.get("namespace") or "")


UNSUPPORTED_CLUSTER_FIELDS = ("proxy-url",)
UNSUPPORTED_USER_FIELDS = ("auth-provider", "as-uid", "as-user-extra")


def load_kubeconfig(kubeconfig: str | None = None, context: str | None = None) -> Endpoint:
    """The endpoint of ``context`` (else the current context) of the kubeconfig files."""
    merged = _merge(_kubeconfig_paths(kubeconfig), explicit=bool(kubeconfig))
    name = context or merged.current
    if not name:
        raise ConfigError("the kubeconfig has no current-context; pass --context")
    ctx = merged.contexts.get(name)
    if ctx is None:
        raise ConfigError(f"context {name!r} is not in the kubeconfig")
    cluster_name = str(ctx.get("cluster") or "")
    if cluster_name not in merged.clusters:
        raise ConfigError(f"context {name!r}: cluster {cluster_name!r} is not in the kubeconfig")
    cluster, cluster_base = merged.clusters[cluster_name]
    user_name = str(ctx.get("user") or "")
    user, user_base = merged.users.get(user_name, ({}, cluster_base))
    if user_name and user_name not in merged.users:
        raise ConfigError(f"context {name!r}: user {user_name!r} is not in the kubeconfig")
    for key in UNSUPPORTED_CLUSTER_FIELDS:
        if cluster.get(key):
            raise ConfigError(f"cluster {cluster_name!r}: {key} is not supported by kbuild")
    for key in UNSUPPORTED_USER_FIELDS:
        if user.get(key):
            raise ConfigError(
                f"user {user_name!r}: {key} is not supported by kbuild (use an exec plugin)"
            )
    server = str(cluster.get("server") or "")
    if not server:
        raise ConfigError(f"cluster {cluster_name!r} has no server")
    exec_spec = user.get("exec")
    if exec_spec is not None and not isinstance(exec_spec, dict):
        raise ConfigError(f"user {user_name!r}: exec is not a mapping")
    if exec_spec and exec_spec.get("provideClusterInfo"):
        raise ConfigError(f"user {user_name!r}: exec provideClusterInfo is not supported by kbuild")
    token_file = str(user.get("tokenFile") or "")
    if token_file and not Path(token_file).is_absolute():
        token_file = str(user_base / token_file)
    groups = user.get("as-groups") or []
    return Endpoint(
        server=server.rstrip("/"),
        ca_pem=_file_or_data(cluster, "certificate-authority", cluster_base),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        tls_server_name=str(cluster.get("tls-server-name") or ""),
        cert_pem=_file_or_data(user, "client-certificate", user_base),
        key_pem=_file_or_data(user, "client-key", user_base),
        token=str(user.get("token") or ""),
        token_file=token_file,
        username=str(user.get("username") or ""),
        password=str(user.get("password") or ""),
        exec_spec=exec_spec,
        impersonate_user=str(user.get("as") or ""),
        impersonate_groups=[str(g) for g in groups] if isinstance(groups, list) else [],
        namespace=str(ctx.get("namespace") or ""),
    )


def load_incluster(directory: Path = SERVICE_ACCOUNT_DIR) -> Endpoint:
    """The pod's own API server and service account."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise ConfigError("not in a pod: KUBERNETES_SERVICE_HOST is not set")
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        ca = (directory / "ca.crt").read_text()
    except OSError as err:
        raise ConfigError(f"cannot read the service account CA: {err}") from None
    namespace = directory / "namespace"
    return Endpoint(
        server=f"https://{host}:{port}",
        ca_pem=ca,
        token_file=str(directory / "token"),
        namespace=namespace.read_text().strip() if namespace.exists() else "",
    )


# ---------------------------------------------------------------------------
# credentials


class _Credentials:
    """The Authorization header, refreshed as its source requires."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._lock = threading.Lock()
        self._token = endpoint.token
        self._expires = float("inf")
        self._read_at = 0.0

    def header(self, *, refresh: bool = False) -> str:
        ep = self.endpoint
        if ep.token:
            return f"Bearer {ep.token}"
        if ep.token_file:
            return f"Bearer {self._from_file(refresh)}"
        if ep.exec_spec is not None:
            return f"Bearer {self._from_exec(refresh)}"
        if ep.username:
            pair = f"{ep.username}:{ep.password}".encode()
            return f"Basic {base64.b64encode(pair).decode()}"
        return ""

    def _from_file(self, refresh: bool) -> str:
        with self._lock:
            now = time.monotonic()
            if refresh or not self._token or now - self._read_at > TOKEN_FILE_REFRESH_SECONDS:
                try:
                    self._token = Path(self.endpoint.token_file).read_text().strip()
                except OSError as err:
                    raise ConfigError(f"cannot read the token file: {err}") from None
                self._read_at = now
            return self._token

    def _from_exec(self, refresh: bool) -> str:
        with self._lock:
            if refresh or not self._token or time.time() >= self._expires - 10:
                self._token, self._expires = run_exec_plugin(self.endpoint.exec_spec or {})
            return self._token


def run_exec_plugin(spec: Mapping[str, Any]) -> tuple[str, float]:
    """Run a ``client.authentication.k8s.io`` exec plugin: its token and when it expires."""
    command = spec.get("command")
    if not command:
        raise ConfigError("exec plugin: no command")
    api_version = str(spec.get("apiVersion") or "client.authentication.k8s.io/v1")
    env = dict(os.environ)
    for item in spec.get("env") or []:
        if isinstance(item, dict) and "name" in item:
            env[str(item["name"])] = str(item.get("value", ""))
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    )
    argv = [str(command), *[str(a) for a in spec.get("args") or []]]
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=EXEC_TIMEOUT_SECONDS,
            check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ConfigError(f"exec plugin {command}: {err}") from None
    if done.returncode != 0:
        raise ConfigError(
            f"exec plugin {command} exited {done.returncode}: {done.stderr.strip()[-500:]}"
        )
    try:
        status = json.loads(done.stdout).get("status") or {}
    except (ValueError, AttributeError):
        raise ConfigError(f"exec plugin {command} did not print an ExecCredential") from None
    token = str(status.get("token") or "")
    if not token:
        what = "a client certificate" if status.get("clientCertificateData") else "no token"
        raise ConfigError(f"exec plugin {command} gave {what}; kbuild supports tokens only")
    expires = float("inf")
    stamp = str(status.get("expirationTimestamp") or "")
    if stamp:
        from datetime import datetime  # noqa: PLC0415

        try:
            expires = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise ConfigError(f"exec plugin {command}: bad expirationTimestamp {stamp!r}") from None
    return token, expires


# ---------------------------------------------------------------------------
# the wire


def _ssl_context(endpoint: Endpoint) -> ssl.SSLContext:
    # A cluster CA given is the only one trusted (as kubectl): the system's
    # CAs are loaded only when the kubeconfig names none.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not endpoint.ca_pem:
        context.load_default_certs()
    if endpoint.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif endpoint.ca_pem:
        try:
            context.load_verify_locations(cadata=endpoint.ca_pem)
        except (ssl.SSLError, ValueError) as err:
            raise ConfigError(
                f"the cluster's certificate authority is not valid PEM: {err}"
            ) from None
    if endpoint.cert_pem or endpoint.key_pem:
        # ssl loads a key pair from files only: a private directory, removed at once.
        with tempfile.TemporaryDirectory(prefix="kbuild-tls-") as tmp:
            pair = Path(tmp) / "client.pem"
            fd = os.open(pair, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(endpoint.key_pem.rstrip() + "\n" + endpoint.cert_pem)
            try:
                context.load_cert_chain(pair)
            except ssl.SSLError as err:
                raise ConfigError(f"the client certificate or key is not usable: {err}") from None
    return context


class Rest:
    """Requests to one API server; thread-safe, one keep-alive connection per thread."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        url = urlsplit(endpoint.server)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"server {endpoint.server!r} is not an http(s) URL")
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port or (443 if self._https else 80)
        self._prefix = url.path.rstrip("/")
        self._ssl = _ssl_context(endpoint) if self._https else None
        self._credentials = _Credentials(endpoint)
        self._local = threading.local()

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        if self._ssl is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=self._ssl
            )
            if self.endpoint.tls_server_name:
                # http.client checks the name it connects to; SNI and the check
                # must use the kubeconfig's tls-server-name instead.
                name = self.endpoint.tls_server_name
                ctx = self._ssl

                def connect(c: Any = conn) -> None:
                    sock = socket.create_connection((c.host, c.port), c.timeout)
                    c.sock = ctx.wrap_socket(sock, server_hostname=name)

                conn.connect = connect  # type: ignore[method-assign]
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        return conn

    def _headers(self, content_type: str, accept: str, refresh: bool) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": "kbuild"}
        if content_type:
            headers["Content-Type"] = content_type
        auth = self._credentials.header(refresh=refresh)
        if auth:
            headers["Authorization"] = auth
        if self.endpoint.impersonate_user:
            headers["Impersonate-User"] = self.endpoint.impersonate_user
        return headers

    def _send(
        self, conn: http.client.HTTPConnection, method: str, url: str, data: bytes | None,
        headers: dict[str, str],
    ) -> http.client.HTTPResponse:  # fmt: skip
        conn.putrequest(method, url, skip_accept_encoding=True)
        for key, value in headers.items():
            conn.putheader(key, value)
        for group in self.endpoint.impersonate_groups:
            conn.putheader("Impersonate-Group", group)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        return conn.getresponse()

    def url(self, path: str, query: list[tuple[str, str]] | None = None) -> str:
        return self._prefix + path + (f"?{urlencode(query)}" if query else "")

    def call(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        *,
        content_type: str = "application/json",
        accept: str = "application/json",
        timeout: float | None = None,
    ) -> Reply:
        """One request on this thread's connection; OSError when the server cannot be reached."""
        url = self.url(path, query)
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(3):
            conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._connect(timeout)
                self._local.conn = conn
            elif conn.sock is not None:
                conn.sock.settimeout(timeout)
            conn.timeout = timeout
            headers = self._headers(content_type if data is not None else "", accept, attempt > 0)
            try:
                response = self._send(conn, method, url, data, headers)
                payload = response.read()
            except _STALE:
                self._drop()
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                self._drop()
                raise
            if response.will_close:
                self._drop()
            reply = Reply(response.status, response.reason, payload,
                          response.headers.get_all("Warning") or [])  # fmt: skip
            if reply.status == 401 and attempt < 2 and self._refreshable():
                continue  # a rotated token or an expired exec credential: read it again
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _refreshable(self) -> bool:
        return bool(self.endpoint.token_file or self.endpoint.exec_spec is not None)

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def stream(
        self,
        path: str,
        query: list[tuple[str, str]] | None,
        *,
        read_timeout: float | None,
        accept: str = "application/json",
    ) -> Generator[bytes, None, None]:
        """Lines of a long answer (a watch, a followed log), on a connection of its own.

        Raises ``StreamRefused`` with the reply when the server answers with
        an error instead of starting the stream.
        """
        conn = self._connect(CONNECT_TIMEOUT_SECONDS)
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(read_timeout)
            response = self._send(conn, "GET", self.url(path, query),
                                  None, self._headers("", accept, False))  # fmt: skip
            if not 200 <= response.status <= 299:
                reply = Reply(response.status, response.reason, response.read())
                raise StreamRefused(reply)
            while True:
                line = response.readline()
                if not line:
                    return
                yield line
        finally:
            conn.close()


class StreamRefused(Exception):  # noqa: N818 - carries the server's answer
    def __init__(self, reply: Reply) -> None:
        super().__init__(f"{reply.status} {reply.reason}")
        self.reply = reply


__all__ = [
    "ConfigError",
    "Endpoint",
    "Reply",
    "Rest",
    "StreamRefused",
    "kubeconfig_namespace",
    "load_incluster",
    "load_kubeconfig",
    "run_exec_plugin",
]
