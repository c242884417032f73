"""Real git repositories and servers for the source-fetching tests.

Everything runs on this machine: repositories in tmp directories, an HTTP(S)
server on 127.0.0.1 that hands requests to ``git http-backend`` (optionally
behind basic auth and TLS), and an ``sshd`` on a 127.0.0.1 port when
openssh-server is installed and we are root.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest
from git import Git, Repo

ALICE = ("Alice Author", "alice@example.com")
CARL = ("Carl Committer", "carl@example.com")
# Git's default date format for this instant, which is what OpenShift labels carry.
DATE_ISO = "2024-01-02T03:04:05+01:00"
DATE_GIT = "Tue Jan 2 03:04:05 2024 +0100"
FEATURE_SUBJECT = "Feature work: " + "lorem ipsum dolor sit amet " * 4
HTTP_USER = "builder-user"
HTTP_PASSWORD = "s3cr3t-Pa55word"  # noqa: S105 - the test server's password


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git for fixture setup, with file-transport submodules allowed."""
    base = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "protocol.file.allow",
        "GIT_CONFIG_VALUE_0": "always",
        "GIT_AUTHOR_NAME": ALICE[0],
        "GIT_AUTHOR_EMAIL": ALICE[1],
        "GIT_AUTHOR_DATE": DATE_ISO,
        "GIT_COMMITTER_NAME": CARL[0],
        "GIT_COMMITTER_EMAIL": CARL[1],
        "GIT_COMMITTER_DATE": DATE_ISO,
    }
    base.update(env or {})
    return str(Git(str(cwd)).execute(["git", *args], env=base))


def commit(repo: Path, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        run_git(repo, "add", name)
    run_git(repo, "commit", "-q", "-m", message)
    return run_git(repo, "rev-parse", "HEAD")


@dataclass(frozen=True)
class Upstream:
    """The repository under test and what is known about it.

    main:    c1 "Initial commit" (tag ``light``) - c2 (tag ``v1.0``, annotated)
             - c3 (no ref points at it) - c4 "Add vendored library" (submodule
             vendor/lib, which itself has submodule ``inner``)
    feature: c2 - feature (long subject, adds feature.txt)
    Every commit: author ALICE, committer CARL, date DATE_ISO.
    """

    path: Path
    bare: Path
    commits: dict[str, str]
    author: tuple[str, str] = ALICE
    committer: tuple[str, str] = CARL
    date_git: str = DATE_GIT
    feature_subject: str = FEATURE_SUBJECT

    @property
    def file_url(self) -> str:
        return f"file://{self.path}"


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    root = tmp_path_factory.mktemp("upstream")

    inner = root / "inner"
    run_git(root, "init", "-q", "-b", "main", str(inner))
    commit(inner, "Inner commit", {"inner.txt": "inner\n"})

    lib = root / "lib"
    run_git(root, "init", "-q", "-b", "main", str(lib))
    commit(lib, "Library commit", {"lib.txt": "lib\n"})
    run_git(lib, "submodule", "add", "-q", str(inner), "inner")
    run_git(lib, "commit", "-q", "-m", "Add inner")

    app = root / "app"
    run_git(root, "init", "-q", "-b", "main", str(app))
    commits = {
        "c1": commit(app, "Initial commit", {"README.md": "hello\n", "app/index.txt": "v1\n"}),
    }
    run_git(app, "tag", "light")
    commits["c2"] = commit(app, "Second commit\n\nWith a body.", {"app/index.txt": "v2\n"})
    run_git(app, "tag", "-a", "v1.0", "-m", "Release 1.0")
    run_git(app, "checkout", "-q", "-b", "feature")
    commits["feature"] = commit(app, FEATURE_SUBJECT, {"feature.txt": "feature\n"})
    run_git(app, "checkout", "-q", "main")
    commits["c3"] = commit(app, "Third commit", {"app/index.txt": "v3\n"})
    run_git(app, "submodule", "add", "-q", str(lib), "vendor/lib")
    run_git(app, "commit", "-q", "-m", "Add vendored library")
    commits["c4"] = run_git(app, "rev-parse", "HEAD")

    bare = root / "srv" / "upstream.git"
    run_git(root, "clone", "-q", "--bare", str(app), str(bare))
    return Upstream(path=app, bare=bare, commits=commits)


@pytest.fixture
def log_lines() -> list[str]:
    """Collects what fetch_git logs: pass ``log=log_lines.append``."""
    return []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    return _free_port()


class Checkout:
    """Questions the tests ask of a fetched checkout, answered by git itself."""

    @staticmethod
    def is_shallow(path: Path) -> bool:
        with Repo(path) as repo:
            return str(repo.git.rev_parse("--is-shallow-repository")) == "true"

    @staticmethod
    def commit_count(path: Path) -> int:
        with Repo(path) as repo:
            return int(repo.git.rev_list("--count", "HEAD"))

    @staticmethod
    def head(path: Path) -> str:
        with Repo(path) as repo:
            return str(repo.git.rev_parse("HEAD"))


@pytest.fixture
def checkout() -> type[Checkout]:
    return Checkout


# --------------------------------------------------------------------------- http


@dataclass
class GitHTTPServer:
    """What the tests need to know about a running ``git http-backend`` server."""

    url: str
    user: str = HTTP_USER
    password: str = HTTP_PASSWORD
    requests: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, *_args: object) -> None:
        return

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        state = self.server.state
        state.requests.append(self.path)
        auth = self.headers.get("Authorization", "")
        state.authorizations.append(auth)
        body = self._body()
        if self.server.credentials is not None:
            expected = (
                "Basic " + base64.b64encode(":".join(self.server.credentials).encode()).decode()
            )
            if auth != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.project_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(path),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": HTTP_USER if self.server.credentials else "",
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.server.protocol_v2 and self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        result = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = result.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        project_root: Path,
        credentials: tuple[str, str] | None,
        protocol_v2: bool,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.project_root = project_root
        self.credentials = credentials
        self.protocol_v2 = protocol_v2
        self.state = GitHTTPServer(url="")


@dataclass(frozen=True)
class TLSFiles:
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return TLSFiles(cert=cert, key=key)


ServerFactory = Callable[..., GitHTTPServer]


@pytest.fixture
def git_http_server(upstream: Upstream) -> Iterator[ServerFactory]:
    """Start ``git http-backend`` servers over ``upstream``'s bare repository.

    ``auth``: require HTTP_USER/HTTP_PASSWORD; ``tls``: a TLSFiles to serve
    https; ``protocol_v2=False`` makes the server speak protocol v0, which
    refuses to hand out commits no ref points at.
    """
    servers: list[_Server] = []

    def start(
        *, auth: bool = True, tls: TLSFiles | None = None, protocol_v2: bool = True
    ) -> GitHTTPServer:
        server = _Server(
            upstream.bare.parent, (HTTP_USER, HTTP_PASSWORD) if auth else None, protocol_v2
        )
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.cert, tls.key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            scheme = "https"
        host, port = server.server_address[:2]
        server.state.url = f"{scheme}://{host!s}:{port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- ssh


@dataclass(frozen=True)
class SSHServer:
    port: int
    client_key: Path
    host_public_key: str

    def url(self, path: Path) -> str:
        return f"ssh://root@127.0.0.1:{self.port}{path}"

    @property
    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_public_key}"


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    sshd_bin = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(sshd_bin).exists() or shutil.which("ssh-keygen") is None:
        pytest.skip("openssh-server is not installed")
    if os.geteuid() != 0:
        pytest.skip("a local sshd that accepts logins needs root")
    root = tmp_path_factory.mktemp("sshd")
    _keygen(root / "host_key")
    _keygen(root / "client_key")
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    port = _free_port()
    config = root / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {root / 'host_key'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\n"
        f"PidFile {root / 'sshd.pid'}\n"
        "StrictModes no\n"
        "UsePAM no\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\n"
    )
    # sshd insists on its privilege-separation directory (normally made by
    # the service unit, which this machine does not run).
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    process = subprocess.Popen(
        [sshd_bin, "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(root / "sshd.log").open("wb"),
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"sshd did not start: {(root / 'sshd.log').read_text()}")
            time.sleep(0.05)
    host_public = (root / "host_key.pub").read_text().split()
    try:
        yield SSHServer(
            port=port,
            client_key=root / "client_key",
            host_public_key=f"{host_public[0]} {host_public[1]}",
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
