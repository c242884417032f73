"""Git source locations: which transport they use and how to show them safely.

A BuildConfig's ``source.git.uri`` may carry ``user:password@``.  That
password must reach git only through a credential helper, never through argv,
``.git/config``, logs, labels or error messages, so parsing splits a URI into
the form git fetches from, the form people may see, and the credentials.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from builder.api import BuildError, StatusReason
from builder.record import Record


class Transport(StrEnum):
    HTTP = "http"
    SSH = "ssh"
    GIT = "git"
    FILE = "file"


# Schemes git itself accepts for these transports.  Anything else (ext::,
# fd::, remote helpers) can run arbitrary commands or read the build pod's
# files, so it is refused rather than passed to git.
_SCHEMES = {
    "http": Transport.HTTP,
    "https": Transport.HTTP,
    "ssh": Transport.SSH,
    "git+ssh": Transport.SSH,
    "ssh+git": Transport.SSH,
    "git": Transport.GIT,
    "file": Transport.FILE,
}

# git's scp-like syntax: [user@]host:path, recognised only when the colon comes
# before any slash (otherwise "./a:b" is a local path).
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>[^@/:\[\]]+|\[[^\]]+\]):(?P<path>.*)$")

_REMOTE_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")

# The scheme is bounded so that a long run of letters is not rescanned from
# every position looking for "://" (quadratic in the text's length).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]{0,31}://[^/@\s:]*):[^@/\s]*@")


class GitURI(Record):
    """A parsed source location.

    ``fetch_url`` is what git is told (no password); ``anonymous_url`` drops
    the user name too, for when a credential helper supplies both;
    ``display`` is what labels, logs and messages show (no password);
    ``username``/``password`` are credentials embedded in an http(s) URL.
    """

    raw: str
    transport: Transport
    fetch_url: str
    display: str
    anonymous_url: str = ""
    scheme: str = ""
    host: str = ""
    username: str = ""
    password: str = ""

    @property
    def is_local(self) -> bool:
        return self.transport is Transport.FILE


def _refuse(uri: str, why: str) -> BuildError:
    return BuildError(
        StatusReason.FETCH_SOURCE_FAILED, f"invalid git source URI {redact_url(uri)!r}: {why}"
    )


def redact_url(text: str) -> str:
    """Replace the password part of any ``scheme://user:password@`` in text."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)


def _without_userinfo(parts: SplitResult, keep_user: bool) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if keep_user and parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def parse_git_uri(uri: str) -> GitURI:
    """Classify ``uri`` the way git does and strip credentials out of it.

    Any text gives a ``GitURI`` or a ``BuildError`` (``FetchSourceFailed``),
    never another exception.
    """
    if not uri or not uri.strip():
        raise _refuse(uri, "it is empty")
    if uri != uri.strip():
        raise _refuse(uri, "it starts or ends with whitespace")
    if any(ord(c) < 0x20 or c == "\x7f" for c in uri):
        raise _refuse(uri, "it contains control characters")
    if uri.startswith("-"):
        raise _refuse(uri, "it starts with '-'")

    if "://" in uri:
        return _parse_url(uri)
    if _REMOTE_HELPER.match(uri):
        raise _refuse(uri, "remote helper transports ('<helper>::') are not supported")

    first_slash = uri.find("/")
    colon = uri.find(":")
    match = _SCP_LIKE.match(uri)
    if match and colon != -1 and (first_slash == -1 or colon < first_slash):
        host = match.group("host").strip("[]")
        return GitURI(
            raw=uri,
            transport=Transport.SSH,
            fetch_url=uri,
            display=uri,
            anonymous_url=uri,
            host=host,
        )

    # A local path.  Made absolute because git runs inside the checkout.
    try:
        path = str(Path(uri).expanduser().absolute())
    except RuntimeError:  # ~user of a user this machine does not know
        raise _refuse(uri, "its ~user home directory is unknown here") from None
    return GitURI(
        raw=uri, transport=Transport.FILE, fetch_url=path, display=uri, anonymous_url=path
    )


def _parse_url(uri: str) -> GitURI:
    try:
        parts = urlsplit(uri)
        port = parts.port  # validates the port
    except ValueError as err:
        raise _refuse(uri, str(err)) from None
    scheme = parts.scheme.lower()
    transport = _SCHEMES.get(scheme)
    if transport is None:
        raise _refuse(uri, f"unsupported scheme {scheme!r} (use https, http, ssh, git or file)")
    if transport is not Transport.FILE and not parts.hostname:
        raise _refuse(uri, "it has no host")
    username = unquote(parts.username or "")
    password = unquote(parts.password or "")
    host = parts.hostname or ""
    if port is not None:
        host = f"{host}:{port}"

    if transport is Transport.HTTP:
        display = _without_userinfo(parts, keep_user=True) if password else uri
        # With a password the credentials go to the helper; git sees no userinfo.
        fetch_url = _without_userinfo(parts, keep_user=False) if password else uri
    elif password:
        # ssh/git/file URLs cannot use an embedded password non-interactively.
        raise _refuse(uri, "passwords in ssh, git or file URLs are not supported")
    else:
        display = fetch_url = uri
    return GitURI(
        raw=uri,
        transport=transport,
        fetch_url=fetch_url,
        display=display,
        anonymous_url=_without_userinfo(parts, keep_user=False),
        scheme=scheme,
        host=host,
        username=username,
        password=password,
    )
