"""HTTP to a registry: scheme choice, authentication, and connection failures.

Kept apart from the client so the distribution-spec logic (manifests, blobs,
digests) reads without the plumbing every request shares:

* Scheme.  A registry is HTTPS with certificate checks unless configured
  insecure; an insecure one is tried over HTTPS without verification first,
  then plain HTTP, as docker and containers/image do.  The scheme that
  answered is remembered per host.  Loopback hosts count as insecure by
  default because a local test or cache registry almost never has a cert.
* Auth.  The first request goes anonymous; a 401 names the scheme.  For
  ``Bearer`` we fetch a token from the realm (Basic-authenticated when we have
  credentials and the realm is HTTPS or an insecure-configured host) for
  ``repository:<repo>:pull`` and cache it per ``(realm, service, scope)``
  until it expires; for ``Basic`` we send the
  credentials.  Later requests to that host send the cached authorization
  up front, saving the 401 round-trip.
* Failures become ``RegistryUnreachable``/``Unauthorized``/``RegistryProtocolError``
  with a one-line cause (``connection refused``, ``TLS: certificate verify
  failed``), never a traceback.  The HTTP itself is ``builder.registry.httpconn``.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Protocol
from urllib.parse import urlsplit

from builder.api.nesting import load_json
from builder.record import Record
from builder.registry import httpconn
from builder.registry.auth import Challenge, Credential, parse_challenges
from builder.registry.errors import RegistryProtocolError, RegistryUnreachable, Unauthorized
from builder.registry.reference import ImageReference

USER_AGENT = "kbuild-registry-client"
# The distribution spec's minimum token lifetime, used when a server omits expires_in.
_DEFAULT_TOKEN_SECONDS = 60
_TOKEN_EXPIRY_SLACK = 5.0
_MAX_TOKEN_RESPONSE = 1 << 20
_MAX_ERROR_BODY = 64 << 10

Timeout = float | tuple[float, float]
InsecureSpec = Iterable[str] | Callable[[str], bool] | None


class CredentialLookup(Protocol):
    """Anything that maps a registry (and repository) to a credential, e.g. ``CredentialStore``."""

    def lookup(self, registry: str, repository: str = "") -> Credential | None: ...


def api_host(registry: str) -> str:
    """The host that serves ``/v2/`` for a reference's registry name."""
    return "registry-1.docker.io" if registry == "docker.io" else registry


def split_host_port(host: str) -> tuple[str, str | None]:
    """``"[::1]:5000"`` -> ``("::1", "5000")``; ``"quay.io"`` -> ``("quay.io", None)``."""
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1 :]
        return name, rest[1:] if rest.startswith(":") else None
    name, colon, port = host.rpartition(":")
    if not colon:
        return host, None
    return name, port


def is_loopback(host: str) -> bool:
    name, _ = split_host_port(host)
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_policy(spec: InsecureSpec, *, loopback: bool = True) -> Callable[[str], bool]:
    """Turn the ``insecure=`` argument into a predicate over ``host[:port]``.

    A listed ``host`` without a port covers every port of that host.
    """
    if callable(spec):
        predicate = spec
    else:
        listed = {h.lower() for h in (spec or ())}

        def predicate(host: str) -> bool:
            lowered = host.lower()
            return lowered in listed or split_host_port(lowered)[0] in listed

    if not loopback:
        return predicate
    return lambda host: is_loopback(host) or predicate(host)


class Fetched(Record):
    """A finished response: status, headers and the (size-capped) body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


class _Token(Record, frozen=False):
    value: str
    expires_at: float


class BodyTooLarge(Exception):  # noqa: N818 - internal signal, never escapes the package
    pass


def _describe_one(exc: BaseException) -> str | None:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: certificate verify failed ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        if exc.reason == "WRONG_VERSION_NUMBER":
            return "TLS handshake failed: the server seems to speak plain HTTP (insecure registry?)"
        return f"TLS: {exc.reason or exc}"
    causes: list[tuple[type[BaseException], str]] = [
        (ConnectionRefusedError, "connection refused"),
        (ConnectionResetError, "connection reset"),
        (socket.gaierror, "host name does not resolve"),
    ]
    for kind, text in causes:
        if isinstance(exc, kind):
            return text
    return None


def describe_connection_error(exc: BaseException) -> str:
    """A short cause for a failed connection, found by walking the exception chain."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    timed_out = False
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        described = _describe_one(current)
        if described:
            return described
        timed_out = timed_out or isinstance(current, TimeoutError)
        for attr in ("reason", "__cause__", "__context__"):
            nested = getattr(current, attr, None)
            if isinstance(nested, BaseException):
                stack.append(nested)
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
    if timed_out:
        return "timed out"
    # Not one of the causes above: the error's own words (a proxy refused, an
    # unreadable CA bundle) say more than its class name.
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def _copy_body(response: httpconn.Response, sink: IO[bytes], max_bytes: int) -> None:
    """Stream a (large) body into ``sink`` instead of memory: blobs being copied."""
    total = 0
    for chunk in response.chunks(1 << 20):
        total += len(chunk)
        if total > max_bytes:
            raise BodyTooLarge
        sink.write(chunk)


def _read_body(response: httpconn.Response, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    for chunk in response.chunks(64 << 10):
        total += len(chunk)
        if total > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class Transport:
    """One registry session; not thread-safe (its connections are not)."""

    def __init__(
        self,
        *,
        credentials: CredentialLookup | None,
        insecure: Callable[[str], bool],
        timeout: Timeout,
        ca_bundle: str | None = None,
    ) -> None:
        self._credentials = credentials
        self._insecure = insecure
        self._ca_bundle = ca_bundle
        self._session = httpconn.Session(timeout=timeout, user_agent=USER_AGENT)
        self._schemes: dict[str, str] = {}
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str, str], _Token] = {}

    def close(self) -> None:
        self._session.close()

    def _verify(self, url_host: str) -> bool | str:
        if self._insecure(url_host):
            return False
        return self._ca_bundle or True

    def _send(
        self,
        ref: ImageReference,
        host: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        max_bytes: int,
        data: bytes | IO[bytes] | None = None,
        sink: IO[bytes] | None = None,
    ) -> Fetched:
        insecure = self._insecure(host)
        remembered = self._schemes.get(host)
        schemes = [remembered] if remembered else (["https", "http"] if insecure else ["https"])
        failure: BaseException | None = None
        for scheme in schemes:
            # Upload sessions hand back absolute URLs (Location); use them as given.
            url = path if "://" in path else f"{scheme}://{host}{path}"
            try:
                response = self._session.request(
                    method, url, headers=headers, verify=self._verify(host), data=data
                )
            except httpconn.ConnectError as exc:
                failure = exc
                continue
            except httpconn.ExchangeError as exc:
                raise self._unreachable(ref, host, exc) from None
            except httpconn.HTTPProtocolError as exc:
                raise RegistryProtocolError(
                    f"registry {ref.registry} gave an unusable answer for {ref}: "
                    f"{describe_connection_error(exc)}",
                    ref,
                ) from None
            self._schemes[host] = scheme
            limit = max_bytes if response.status < 300 else _MAX_ERROR_BODY
            try:
                if sink is not None and response.status == 200:
                    _copy_body(response, sink, max_bytes)
                    body = b""
                else:
                    body = _read_body(response, limit)
            except BodyTooLarge:
                raise RegistryProtocolError(
                    f"registry {ref.registry} sent more than {limit} bytes for {ref}",
                    ref,
                ) from None
            except httpconn.ExchangeError as exc:
                raise self._unreachable(ref, host, exc) from None
            finally:
                response.close()
            return Fetched(response.status, response.headers, body, response.url)
        raise self._unreachable(ref, host, failure or httpconn.ConnectError("no scheme to try"))

    @staticmethod
    def _unreachable(ref: ImageReference, host: str, exc: BaseException) -> RegistryUnreachable:
        via = "" if host == ref.registry else f" ({host})"
        return RegistryUnreachable(
            f"cannot reach registry {ref.registry}{via} for {ref}: "
            f"{describe_connection_error(exc)}",
            ref,
        )

    def request(
        self,
        ref: ImageReference,
        method: str,
        path: str,
        *,
        accept: str | None = None,
        max_bytes: int,
        data: bytes | IO[bytes] | None = None,
        content_type: str | None = None,
        push: bool = False,
        sink: IO[bytes] | None = None,
    ) -> Fetched:
        """Send one request for ``ref``'s repository, authenticating as the registry asks.

        Returns any status except an unresolved 401/403, which raise ``Unauthorized``.
        ``push`` asks for a token that may also write to the repository.  A file
        as ``data`` is streamed; with ``sink`` a 200 body is written there, not
        kept (both are rewound if the request has to be sent again).
        """
        start = data.tell() if data is not None and not isinstance(data, bytes) else 0
        host = api_host(ref.registry)
        scope = f"repository:{ref.repository}:{'pull,push' if push else 'pull'}"
        credential = (
            self._credentials.lookup(ref.registry, ref.repository) if self._credentials else None
        )
        headers: dict[str, str] = {}
        if accept:
            headers["Accept"] = accept
        if content_type:
            headers["Content-Type"] = content_type
        authorization = self._known_authorization(host, scope, credential)
        if authorization:
            headers["Authorization"] = authorization
        fetched = self._send(
            ref, host, method, path, headers=headers, max_bytes=max_bytes, data=data, sink=sink
        )
        if fetched.status == 401:
            challenge = self._pick_challenge(fetched)
            if challenge is None:
                raise Unauthorized(
                    f"registry {ref.registry} refused {ref} without saying how to authenticate",
                    ref,
                )
            self._challenges[host] = challenge
            if challenge.scheme == "bearer":
                self._tokens.pop(self._token_key(challenge, scope), None)
            authorization = self._authorize(ref, challenge, scope, credential)
            if headers.get("Authorization") != authorization:
                headers["Authorization"] = authorization
                if data is not None and not isinstance(data, bytes):
                    data.seek(start)
                if sink is not None:
                    sink.seek(0)
                    sink.truncate()
                fetched = self._send(
                    ref, host, method, path, headers=headers, max_bytes=max_bytes, data=data,
                    sink=sink,
                )  # fmt: skip
        if fetched.status in (401, 403):
            raise self._unauthorized(ref, fetched, credential)
        return fetched

    @staticmethod
    def _pick_challenge(fetched: Fetched) -> Challenge | None:
        challenges = parse_challenges(fetched.headers.get("WWW-Authenticate", ""))
        for scheme in ("bearer", "basic"):
            for challenge in challenges:
                if challenge.scheme == scheme:
                    return challenge
        return None

    @staticmethod
    def _token_key(challenge: Challenge, scope: str) -> tuple[str, str, str]:
        return (challenge.realm or "", challenge.service or "", scope)

    def _known_authorization(
        self, host: str, scope: str, credential: Credential | None
    ) -> str | None:
        challenge = self._challenges.get(host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return credential.basic_header() if credential else None
        token = self._tokens.get(self._token_key(challenge, scope))
        if token and token.expires_at > time.monotonic():
            return f"Bearer {token.value}"
        return None

    def _authorize(
        self,
        ref: ImageReference,
        challenge: Challenge,
        scope: str,
        credential: Credential | None,
    ) -> str:
        if challenge.scheme == "basic":
            if credential is None:
                raise Unauthorized(
                    f"registry {ref.registry} requires a login to pull {ref}, "
                    f"and there are no credentials for {ref.registry}",
                    ref,
                )
            return credential.basic_header()
        token = self._fetch_token(ref, challenge, scope, credential)
        return f"Bearer {token}"

    def _credential_for_realm(
        self, scheme: str, realm_host: str, credential: Credential | None
    ) -> Credential | None:
        """The registry's credentials go to its token realm only over TLS.

        The realm is whatever URL the registry's 401 names, usually another
        host (Docker Hub's is auth.docker.io), so its host cannot be pinned;
        but over plain HTTP a password would cross the network in the clear,
        so it is sent there only when that host is itself configured insecure
        (or is loopback).  Otherwise the token is asked for anonymously and
        a registry that needs a login answers Unauthorized.
        """
        if credential is None or scheme == "https" or self._insecure(realm_host):
            return credential
        return None

    def _fetch_token(
        self,
        ref: ImageReference,
        challenge: Challenge,
        scope: str,
        credential: Credential | None,
    ) -> str:
        realm = challenge.realm or ""
        parsed = urlsplit(realm)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RegistryProtocolError(
                f"registry {ref.registry} sent a Bearer challenge without a usable realm "
                f"({realm!r}) for {ref}",
                ref,
            )
        params = {"scope": scope}
        if challenge.service:
            params["service"] = challenge.service
        credential = self._credential_for_realm(parsed.scheme, parsed.netloc, credential)
        basic = {"Authorization": credential.basic_header()} if credential else {}
        try:
            response = self._session.request(
                "GET", realm, headers=basic, params=params, verify=self._verify(parsed.netloc)
            )
            try:
                body = _read_body(response, _MAX_TOKEN_RESPONSE)
            finally:
                response.close()
        except BodyTooLarge:
            raise RegistryProtocolError(
                f"token server {realm} sent an oversized answer for {ref}",
                ref,
            ) from None
        except (httpconn.ConnectError, httpconn.ExchangeError, httpconn.HTTPProtocolError) as exc:
            raise RegistryUnreachable(
                f"cannot reach token server {realm} for {ref}: {describe_connection_error(exc)}",
                ref,
            ) from None
        if response.status in (401, 403):
            who = f"user {credential.username!r}" if credential else "anonymous access"
            raise Unauthorized(
                f"token server {realm} rejected {who} for {ref} (HTTP {response.status})",
                ref,
            )
        token, lifetime = self._parse_token(body, response.status)
        if token is None:
            raise RegistryProtocolError(
                f"token server {realm} gave no token for {ref} (HTTP {response.status})",
                ref,
            )
        expires = time.monotonic() + max(lifetime - _TOKEN_EXPIRY_SLACK, 1.0)
        self._tokens[self._token_key(challenge, scope)] = _Token(token, expires)
        return token

    @staticmethod
    def _parse_token(body: bytes, status: int) -> tuple[str | None, float]:
        if status != 200:
            return None, 0
        try:
            document = load_json(body, what="token answer")
        except ValueError:
            return None, 0
        if not isinstance(document, dict):
            return None, 0
        token = document.get("token") or document.get("access_token")
        lifetime = document.get("expires_in")
        if not isinstance(lifetime, int | float) or lifetime < _DEFAULT_TOKEN_SECONDS:
            lifetime = _DEFAULT_TOKEN_SECONDS
        return (token if isinstance(token, str) and token else None), float(lifetime)

    def _unauthorized(
        self, ref: ImageReference, fetched: Fetched, credential: Credential | None
    ) -> Unauthorized:
        if fetched.status == 403:
            cause = "access denied"
        elif credential is None:
            cause = f"authentication required and there are no credentials for {ref.registry}"
        else:
            cause = f"credentials of user {credential.username!r} were not accepted"
        return Unauthorized(
            f"not authorized to pull {ref} from {ref.registry}: {cause}",
            ref,
        )
