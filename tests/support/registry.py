"""Run a real distribution registry (Debian's ``docker-registry``) for tests.

Each registry gets its own free 127.0.0.1 port, a throw-away filesystem
storage and a config file written here, so tests never depend on (or
disturb) a registry the machine may already run on :5000.  Options:

* ``htpasswd={"user": "password"}`` - Basic auth (distribution only reads bcrypt).
* ``token=TokenServer(...)`` (started) - Bearer token auth against that server.
* ``tls=True`` - serve HTTPS with a self-signed certificate (``.ca_cert``).
* ``notify=("http://host:port/path", "token")`` - send push/pull notifications
  (distribution's ``notifications.endpoints``) there, with that bearer token.

``RunningRegistry.restart()`` starts a stopped registry again on the same
port and storage (a registry that went away and came back).

``start_registry`` returns once ``/v2/`` answers (200, or 401 with auth on).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import yaml

from tests.support.tls import self_signed
from tests.support.token_server import TokenServer

REGISTRY_BINARY = os.environ.get("KBUILD_TEST_REGISTRY_BINARY", "docker-registry")


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago; the registry start retries if it is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def registry_available() -> bool:
    return shutil.which(REGISTRY_BINARY) is not None


@dataclass
class RunningRegistry:
    """A registry process; ``host`` is ``127.0.0.1:PORT``, ``url`` its base URL."""

    host: str
    url: str
    workdir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    users: dict[str, str] = field(default_factory=dict)
    token_server: TokenServer | None = None
    ca_cert: Path | None = None

    @property
    def port(self) -> int:
        return int(self.host.rpartition(":")[2])

    @property
    def tls(self) -> bool:
        return self.url.startswith("https:")

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def credentials(self) -> tuple[str, str]:
        """The first configured user, for ``--creds`` and ``Credential``."""
        if not self.users:
            raise RuntimeError("this registry has no users")
        user, password = next(iter(self.users.items()))
        return user, password

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the process (idempotent); the storage stays until ``cleanup``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def restart(self, timeout: float = 30.0) -> None:
        """Start the stopped registry again: same config, port and storage."""
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(self.workdir / "config.yml")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.running:
            if _probe(f"{self.url}/v2/") in (200, 401):
                return
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not come back:\n{self.log()[-2000:]}")

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RunningRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _write_htpasswd(path: Path, users: Mapping[str, str]) -> None:
    lines = [
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}"
        for user, password in users.items()
    ]
    path.write_text("\n".join(lines) + "\n")


def _config(
    workdir: Path,
    port: int,
    *,
    listen: str,
    htpasswd: Mapping[str, str] | None,
    token: TokenServer | None,
    tls_files: tuple[Path, Path] | None,
    notify: tuple[str, str] | None = None,
) -> dict[str, object]:
    http: dict[str, object] = {
        "addr": f"{listen}:{port}",
        "secret": secrets.token_hex(16),
    }
    if tls_files:
        http["tls"] = {"certificate": str(tls_files[0]), "key": str(tls_files[1])}
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "storage")},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": http,
    }
    if notify is not None:
        url, bearer = notify
        config["notifications"] = {
            "endpoints": [
                {
                    "name": "kbuild",
                    "url": url,
                    "headers": {"Authorization": [f"Bearer {bearer}"]} if bearer else {},
                    "timeout": "2s",
                    "threshold": 3,
                    "backoff": "1s",
                }
            ]
        }
    if htpasswd is not None and token is not None:
        raise ValueError("choose htpasswd or token auth, not both")
    if htpasswd is not None:
        path = workdir / "htpasswd"
        _write_htpasswd(path, htpasswd)
        config["auth"] = {"htpasswd": {"realm": "kbuild-test", "path": str(path)}}
    if token is not None:
        config["auth"] = {
            "token": {
                "realm": token.realm,
                "service": token.service,
                "issuer": token.issuer,
                "rootcertbundle": str(token.rootcertbundle),
            }
        }
    return config


def _probe(url: str) -> int | None:
    """HTTP status of ``GET url`` or None when nothing answers yet."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as err:
        return err.code
    except (urllib.error.URLError, OSError):
        return None


def start_registry(
    workdir: Path | None = None,
    *,
    htpasswd: Mapping[str, str] | None = None,
    token: TokenServer | None = None,
    tls: bool = False,
    timeout: float = 30.0,
    attempts: int = 3,
    listen: str = "127.0.0.1",
    notify: tuple[str, str] | None = None,
    port: int | None = None,
) -> RunningRegistry:
    """Start a registry and wait until ``/v2/`` answers; raises RuntimeError with its log.

    ``listen`` is the address to bind: loopback by default; the cluster tests
    use the address pods reach this machine on.  ``port``: that one (a range
    agreed on a shared machine) instead of a free one.
    """
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="kbuild-registry-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tls_files: tuple[Path, Path] | None = None
    ca_cert: Path | None = None
    if tls:
        cert = self_signed(workdir, "registry-tls")
        tls_files = (cert.cert_path, cert.key_path)
        ca_cert = cert.cert_path
    scheme = "https" if tls else "http"

    last_log = ""
    for attempt in range(attempts):
        port = port or free_port(listen)
        config = _config(
            workdir, port, listen=listen, htpasswd=htpasswd, token=token, tls_files=tls_files,
            notify=notify,
        )  # fmt: skip
        config_path = workdir / "config.yml"
        config_path.write_text(yaml.safe_dump(config))
        log_path = workdir / f"registry-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        registry = RunningRegistry(
            host=f"{listen}:{port}",
            url=f"{scheme}://{listen}:{port}",
            workdir=workdir,
            process=process,
            log_path=log_path,
            users=dict(htpasswd or {}),
            token_server=token,
            ca_cert=ca_cert,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and registry.running:
            if _probe(f"{registry.url}/v2/") in (200, 401):
                return registry
            time.sleep(0.05)
        registry.stop()
        last_log = registry.log()
        if "address already in use" not in last_log:
            break
    raise RuntimeError(f"docker-registry did not come up in {workdir}:\n{last_log[-2000:]}")
