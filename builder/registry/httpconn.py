"""HTTP/1.1 for the registry client on the standard library's ``http.client``.

Every ``kbuild build`` and every build pod container that reads a registry
used to import ``requests`` (with urllib3, idna, charset_normalizer): ~0.1 s
of a command whose whole overhead over buildah is measured in tenths.  What
the registry client needs of HTTP is small, and written out here:

* one kept-alive connection per (scheme, host, port, TLS policy, proxy), a
  request on a connection the server dropped while idle sent again once on a
  fresh one (when its body can be replayed);
* a connect timeout and a read timeout, as ``requests`` took them;
* TLS verified against the system store, a given CA bundle only, or not at
  all, per request;
* redirects, at most ``MAX_REDIRECTS``, only to http(s): 303 (and 301/302
  after a POST) become a GET without body, 307/308 replay method and body;
  ``Authorization`` never follows a redirect to another host (a blob's
  redirect to storage must not carry the registry's token);
* proxies from the environment (``https_proxy``, ``http_proxy``,
  ``all_proxy``, ``no_proxy``, either case) as curl, buildah and ``requests``
  read them: CONNECT tunnels for https, absolute URIs for http,
  ``Proxy-Authorization`` from the proxy URL's user part;
* no content coding: ``Accept-Encoding: identity``, so a body's bytes are the
  bytes whose digest we check.

Failures are three exception types the transport maps to registry errors:
``ConnectError`` (nothing was sent: the next scheme may be tried),
``ExchangeError`` (the connection broke or timed out mid-exchange) and
``HTTPProtocolError`` (the server spoke something that is not HTTP, or redirected
too often or elsewhere than http(s)).
"""

from __future__ import annotations

import base64
import http.client
import io
import os
import socket
import ssl
from collections.abc import Iterator, Mapping
from typing import IO
from urllib.parse import unquote, urlencode, urljoin, urlsplit

from builder.record import Record

MAX_REDIRECTS = 10
Timeout = float | tuple[float, float]
Body = bytes | IO[bytes] | None
_REDIRECTS = (301, 302, 303, 307, 308)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Uploads are read from their file in blocks this big (http.client's default is 8 KiB).
_BLOCK = 1 << 16


class ConnectError(Exception):
    """No connection (refused, DNS, TLS handshake, proxy tunnel): nothing was sent."""


class ExchangeError(Exception):
    """The connection broke or timed out after the request started."""


class HTTPProtocolError(Exception):
    """An answer that is not usable HTTP, or a redirect kbuild will not follow."""


class Headers(Mapping[str, str]):
    """Response headers, case-insensitive; a repeated header's values joined by ``", "``."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        joined: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            key = name.lower()
            if key in joined:
                joined[key] = (joined[key][0], f"{joined[key][1]}, {value}")
            else:
                joined[key] = (name, value)
        self._items = joined

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items


class _Endpoint(Record):
    """Where a connection goes: the origin, how it is verified, which proxy carries it."""

    scheme: str
    host: str
    port: int
    verify: bool | str
    proxy: str


class Response:
    """An answer whose body is read in chunks; ``close`` returns the connection to the pool."""

    def __init__(
        self, session: Session, endpoint: _Endpoint, raw: http.client.HTTPResponse, url: str
    ) -> None:
        self._session = session
        self._endpoint = endpoint
        self._raw = raw
        self.status = raw.status
        self.headers = Headers(raw.getheaders())
        self.url = url

    def chunks(self, size: int) -> Iterator[bytes]:
        try:
            while chunk := self._raw.read(size):
                yield chunk
        except (OSError, http.client.HTTPException) as exc:
            raise ExchangeError(exc) from exc

    def close(self) -> None:
        # A body left unread would be taken as the next response's start.
        self._session._release(self._endpoint, clean=self._raw.isclosed())
        self._raw.close()


def _proxy_for(scheme: str, host: str) -> str:
    """The proxy URL the environment names for ``scheme://host``, or ``""``."""
    # urllib.request reads the environment by urllib's rules, but importing
    # it costs more than the rest of a registry exchange's set-up: not when
    # no variable could name a proxy (every name it reads ends in _proxy).
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return ""
    from urllib.request import getproxies_environment, proxy_bypass  # noqa: PLC0415

    proxies = getproxies_environment()
    proxy = proxies.get(scheme) or proxies.get("all") or ""
    if proxy and proxy_bypass(host):
        return ""
    return proxy


def _proxy_parts(proxy: str) -> tuple[str, int, dict[str, str]]:
    """Host, port and the ``Proxy-Authorization`` header of an ``http://`` proxy URL."""
    parsed = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parsed.scheme != "http" or not parsed.hostname:
        raise ConnectError(
            f"proxy {parsed.scheme}://{parsed.hostname or ''}: only http:// proxies are supported"
        )
    headers: dict[str, str] = {}
    if parsed.username is not None:
        headers["Proxy-Authorization"] = basic_authorization(
            unquote(parsed.username), unquote(parsed.password or "")
        )
    return parsed.hostname, parsed.port or 80, headers


def _endpoint(url: str, verify: bool | str) -> tuple[_Endpoint, str]:
    """The connection ``url`` needs and the request target to send on it."""
    parsed = urlsplit(url)
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.hostname:
        raise HTTPProtocolError(f"cannot request {parsed.scheme or 'a relative'} URL")
    try:
        port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    except ValueError:
        raise HTTPProtocolError(f"a URL with an invalid port: {parsed.netloc}") from None
    endpoint = _Endpoint(
        parsed.scheme,
        parsed.hostname,
        port,
        verify if parsed.scheme == "https" else False,
        _proxy_for(parsed.scheme, parsed.hostname),
    )
    target = parsed.path or "/"
    if parsed.query:
        target = f"{target}?{parsed.query}"
    return endpoint, target


def _authority(url: str) -> tuple[str, int]:
    """Host and effective port: what decides whether a redirect stays with one service.

    An upgrade from http to https on the same host counts as the same one,
    as browsers and ``requests`` treat it.
    """
    parsed = urlsplit(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if port is None or port == _DEFAULT_PORTS.get(parsed.scheme):
        port = 0
    return (parsed.hostname or "", port)


def _body_length(data: Body) -> int:
    if data is None:
        return 0
    if isinstance(data, bytes):
        return len(data)
    try:
        here = data.tell()
        end = data.seek(0, io.SEEK_END)
        data.seek(here)
    except (OSError, ValueError) as exc:
        raise HTTPProtocolError(f"a request body of unknown length: {exc}") from None
    return end - here


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` (or ``Proxy-Authorization``) value for HTTP Basic."""
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class Session:
    """Kept-alive connections and the request rules above; one per thread."""

    def __init__(self, *, timeout: Timeout, user_agent: str) -> None:
        self._connect_timeout, self._read_timeout = (
            timeout if isinstance(timeout, tuple) else (timeout, timeout)
        )
        self._user_agent = user_agent
        self._pool: dict[_Endpoint, http.client.HTTPConnection] = {}
        self._contexts: dict[bool | str, ssl.SSLContext] = {}

    def close(self) -> None:
        for connection in self._pool.values():
            connection.close()
        self._pool.clear()

    def _context(self, verify: bool | str) -> ssl.SSLContext:
        context = self._contexts.get(verify)
        if context is None:
            if verify is False:
                # Not create_default_context(): it loads the system's CA store
                # (~0.05 s) that an unverified connection never consults, and
                # an insecure registry is tried over TLS before plain HTTP.
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif verify is True:
                context = ssl.create_default_context()
            else:
                try:
                    context = ssl.create_default_context(cafile=verify)
                except (OSError, ssl.SSLError) as exc:
                    raise ConnectError(f"CA bundle {verify}: {exc}") from None
            self._contexts[verify] = context
        return context

    def _connection(self, endpoint: _Endpoint) -> http.client.HTTPConnection:
        connection = self._pool.get(endpoint)
        if connection is not None:
            return connection
        tunnel: tuple[dict[str, str], str, int] | None = None
        if endpoint.proxy:
            host, port, proxy_headers = _proxy_parts(endpoint.proxy)
            if endpoint.scheme == "https":
                tunnel = (proxy_headers, endpoint.host, endpoint.port)
        else:
            host, port = endpoint.host, endpoint.port
        made: http.client.HTTPConnection
        if endpoint.scheme == "https":
            context = self._context(endpoint.verify)
            made = http.client.HTTPSConnection(
                host, port, timeout=self._connect_timeout, context=context, blocksize=_BLOCK
            )
        else:
            made = http.client.HTTPConnection(
                host, port, timeout=self._connect_timeout, blocksize=_BLOCK
            )
        if tunnel is not None:
            made.set_tunnel(tunnel[1], tunnel[2], headers=tunnel[0])
        self._pool[endpoint] = made
        return made

    def _release(self, endpoint: _Endpoint, *, clean: bool) -> None:
        if not clean:
            self._drop(endpoint)

    def _drop(self, endpoint: _Endpoint) -> None:
        connection = self._pool.pop(endpoint, None)
        if connection is not None:
            connection.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        verify: bool | str,
        params: Mapping[str, str] | None = None,
        data: Body = None,
    ) -> Response:
        """Send ``method url`` and follow redirects; the caller closes the ``Response``."""
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        sent = dict(headers)
        start = data.tell() if data is not None and not isinstance(data, bytes) else 0
        origin = _authority(url)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._exchange(method, url, sent, verify, data)
            if response.status not in _REDIRECTS or "Location" not in response.headers:
                return response
            location = urljoin(url, response.headers["Location"])
            response.close()
            target = urlsplit(location)
            if target.scheme not in ("http", "https") or not target.hostname:
                raise HTTPProtocolError(f"refused a redirect to {location[:100]!r}")
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                if method != "HEAD":
                    method = "GET"
                data = None
                sent = {k: v for k, v in sent.items() if k.lower() != "content-type"}
            elif data is not None and not isinstance(data, bytes):
                data.seek(start)
            if _authority(location) != origin:
                # Another host or port is another service (a registry's blob
                # storage): it gets no credential meant for the registry.
                sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
            url = location
        raise HTTPProtocolError(f"more than {MAX_REDIRECTS} redirects")

    def _exchange(
        self, method: str, url: str, headers: Mapping[str, str], verify: bool | str, data: Body
    ) -> Response:
        endpoint, target = _endpoint(url, verify)
        all_headers = {
            "User-Agent": self._user_agent,
            "Accept-Encoding": "identity",
            **headers,
            "Content-Length": str(_body_length(data)),
        }
        if data is None and method in ("GET", "HEAD", "DELETE"):
            del all_headers["Content-Length"]
        if endpoint.proxy and endpoint.scheme == "http":
            target = url.split("#", 1)[0]  # an absolute URI, as a proxy expects
            all_headers.update(_proxy_parts(endpoint.proxy)[2])
        start = data.tell() if data is not None and not isinstance(data, bytes) else 0
        for attempt in (1, 2):
            connection = self._connection(endpoint)
            reused = connection.sock is not None
            if connection.sock is None:
                try:
                    connection.connect()
                except (OSError, http.client.HTTPException) as exc:
                    self._drop(endpoint)
                    raise ConnectError(exc) from exc
                # Connected within the connect timeout; every read gets its own.
                sock: socket.socket | None = getattr(connection, "sock", None)
                if sock is not None:
                    sock.settimeout(self._read_timeout)
            try:
                connection.request(method, target, body=data, headers=all_headers)
                raw = connection.getresponse()
            except (
                http.client.RemoteDisconnected,
                BrokenPipeError,
                ConnectionResetError,
            ) as exc:
                self._drop(endpoint)
                replayable = data is None or isinstance(data, bytes) or data.seekable()
                if reused and attempt == 1 and replayable:
                    if data is not None and not isinstance(data, bytes):
                        data.seek(start)
                    continue
                raise ExchangeError(exc) from exc
            except OSError as exc:  # timeouts included
                self._drop(endpoint)
                raise ExchangeError(exc) from exc
            except http.client.HTTPException as exc:
                self._drop(endpoint)
                raise HTTPProtocolError(exc) from exc
            return Response(self, endpoint, raw, url)
        raise AssertionError("unreachable")  # pragma: no cover
