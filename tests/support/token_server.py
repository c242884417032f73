"""A minimal Docker token server, so a real registry can run with ``auth: token``.

distribution's token auth delegates authentication to a separate service: on
401 the registry points clients at ``realm``; the client fetches a JWT there
and sends it as ``Bearer``.  The registry trusts tokens whose ``x5c`` header
chains to its ``rootcertbundle``, whose ``iss``/``aud`` match its config, and
whose ``access`` claim grants the requested actions.  This server issues
exactly that, ES256-signed, and records every request so tests can check
that a client caches tokens.

Policy: a request with valid Basic credentials gets every action it asks
for; one with wrong credentials gets 401; an anonymous one gets ``pull`` if
``anonymous_pull`` and otherwise a token granting nothing (so the registry,
not the token server, refuses it, as with Docker Hub).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support.tls import SelfSigned, self_signed


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class TokenRequest:
    """One request the server answered: who asked, for what, and what it said."""

    user: str | None
    service: str | None
    scopes: tuple[str, ...]
    status: int


@dataclass
class TokenServer:
    """Issues registry JWTs on ``http://127.0.0.1:<port>/token``; start() before use."""

    workdir: Path
    users: Mapping[str, str] = field(default_factory=dict)
    anonymous_pull: bool = False
    service: str = "kbuild-test-registry"
    issuer: str = "kbuild-test-token-issuer"
    expires_in: int = 300
    requests: list[TokenRequest] = field(default_factory=list)
    _signer: SelfSigned | None = None
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rootcertbundle(self) -> Path:
        """The PEM file the registry's ``auth.token.rootcertbundle`` must name."""
        if self._signer is None:
            raise RuntimeError("token server not started")
        return self._signer.cert_path

    @property
    def realm(self) -> str:
        if self._server is None:
            raise RuntimeError("token server not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self) -> TokenServer:
        self._signer = self_signed(self.workdir, "token-signer", hosts=("localhost",))
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def requests_for(self, scope: str) -> list[TokenRequest]:
        with self._lock:
            return [r for r in self.requests if scope in r.scopes]

    # -- token issuing -------------------------------------------------------

    def issue(self, subject: str, access: list[dict[str, object]]) -> str:
        """A signed JWT the registry accepts, granting ``access``."""
        if self._signer is None:
            raise RuntimeError("token server not started")
        now = int(time.time())
        header = {
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [base64.b64encode(self._signer.der).decode("ascii")],
        }
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + self.expires_in,
            "nbf": now - 5,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        der = self._signer.key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        # JWS ES256 signatures are r || s, each a 32-byte big-endian integer.
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{_b64url(signature)}"

    def _grant(self, user: str | None, scopes: list[str]) -> list[dict[str, object]]:
        access: list[dict[str, object]] = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            wanted = [a for a in actions.split(",") if a]
            if user is not None:
                granted = wanted
            elif self.anonymous_pull:
                granted = [a for a in wanted if a == "pull"]
            else:
                granted = []
            access.append({"type": kind, "name": name, "actions": granted})
        return access

    def _authenticate(self, header: str | None) -> tuple[bool, str | None]:
        """(valid, user): no header is valid and anonymous."""
        if not header:
            return True, None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False, None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False, None
        expected = self.users.get(user)
        if expected is None or not secrets.compare_digest(expected, password):
            return False, user
        return True, user

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                return

            def _reply(self, status: int, document: Mapping[str, object]) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                service = query.get("service", [None])[0]
                scopes = [s for value in query.get("scope", []) for s in value.split(" ")]
                valid, user = server._authenticate(self.headers.get("Authorization"))
                if url.path != "/token":
                    status: int = 404
                elif service != server.service:
                    status = 400
                elif not valid:
                    status = 401
                else:
                    status = 200
                with server._lock:
                    server.requests.append(TokenRequest(user, service, tuple(scopes), status))
                if status != 200:
                    self._reply(status, {"errors": [{"code": "DENIED", "message": "no"}]})
                    return
                token = server.issue(user or "", server._grant(user, scopes))
                self._reply(
                    200,
                    {"token": token, "access_token": token, "expires_in": server.expires_in},
                )

        return Handler
