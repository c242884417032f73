"""Registry credentials from docker config files, and HTTP auth challenges.

Pull and push secrets reach a build as docker config JSON in one of its
historical shapes: ``~/.docker/config.json`` and containers' ``auth.json``
(``{"auths": {...}}``), a mounted ``kubernetes.io/dockerconfigjson`` secret
(the same, in a file named ``.dockerconfigjson``) or a legacy
``kubernetes.io/dockercfg`` secret (a bare ``{host: entry}`` map in
``.dockercfg``).  Keys are written by many tools, so they come as
``host``, ``host:port``, ``https://host/v1/``, ``host/namespace`` or
``*.domain``; we normalise them all and pick the most specific match, as the
kubelet does, so a secret that works for a pod works for its build.

The registry tells us how to authenticate in ``WWW-Authenticate`` (RFC 7235):
``Bearer realm=...,service=...,scope=...`` for token auth, ``Basic realm=...``
for htpasswd.  Several challenges may share one header.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from builder.api.nesting import load_json
from builder.record import Record, field
from builder.registry.errors import CredentialsError
from builder.registry.httpconn import basic_authorization

DOCKERCONFIGJSON_KEY = ".dockerconfigjson"
DOCKERCFG_KEY = ".dockercfg"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HUB = "docker.io"


class Credential(Record):
    """A username/password pair; the password never appears in a repr or log."""

    username: str
    password: str = field(repr=False)

    def basic_header(self) -> str:
        """The ``Authorization`` value for HTTP Basic."""
        return basic_authorization(self.username, self.password)


class _Entry(Record):
    host: str  # normalised, may start with "*."
    path: str  # repository prefix, "" for the whole registry
    credential: Credential
    source: str


def _normalise_host(host: str) -> str:
    host = host.lower()
    return _HUB if host in _HUB_ALIASES else host


def normalise_key(key: str) -> tuple[str, str]:
    """Reduce a config key to ``(host, repository-prefix)``.

    ``https://index.docker.io/v1/`` -> ``("docker.io", "")``;
    ``quay.io/team`` -> ``("quay.io", "team")``.
    """
    text = key.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    host, _, path = text.partition("/")
    path = path.strip("/")
    # "/v1" and "/v2" are API version suffixes that old clients wrote, not namespaces.
    if path in ("v1", "v2"):
        path = ""
    return _normalise_host(host), path


def _host_matches(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    # Like the kubelet: "*" stands for exactly one DNS label, ports must agree.
    pattern_labels = pattern.split(".")
    host_labels = host.split(".")
    if len(pattern_labels) != len(host_labels):
        return False
    return all(p in ("*", h) for p, h in zip(pattern_labels, host_labels, strict=True))


def _decode_entry(key: str, entry: object, source: str) -> Credential | None:
    if not isinstance(entry, Mapping):
        raise CredentialsError(f"{source}: entry for {key!r} is not a JSON object")
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error, non-ASCII text, UnicodeDecodeError
            raise CredentialsError(
                f"{source}: 'auth' for {key!r} is not base64 of 'username:password'"
            ) from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise CredentialsError(
                f"{source}: 'auth' for {key!r} decodes to no 'username:password' pair"
            )
        return Credential(username, password)
    name = entry.get("username")
    secret = entry.get("password")
    if isinstance(name, str) and name:
        return Credential(name, secret if isinstance(secret, str) else "")
    # Entries left by credential helpers ({}), or holding only an identity
    # token, carry nothing we can send.
    return None


class CredentialStore:
    """Credentials by registry, looked up the way the kubelet's keyring does."""

    def __init__(
        self,
        auths: Mapping[str, Credential] | None = None,
        *,
        source: str = "credentials",
    ) -> None:
        self._entries: list[_Entry] = []
        for key, credential in (auths or {}).items():
            host, path = normalise_key(key)
            self._entries.append(_Entry(host, path, credential, source))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        keys = ", ".join(f"{e.host}/{e.path}".rstrip("/") for e in self._entries)
        return f"CredentialStore([{keys}])"

    @property
    def sources(self) -> list[str]:
        """Where the entries came from, for error messages ("no creds in ...")."""
        return sorted({e.source for e in self._entries})

    @classmethod
    def from_docker_config(cls, data: str | bytes, *, source: str) -> CredentialStore:
        """Parse ``config.json``/``auth.json``/``.dockerconfigjson`` or legacy ``.dockercfg``."""
        try:
            document = load_json(data, what="the docker config")
        except ValueError as err:
            raise CredentialsError(f"{source}: not valid JSON ({err})") from None
        if not isinstance(document, Mapping):
            raise CredentialsError(f"{source}: top level is not a JSON object")
        auths = document.get("auths")
        if auths is None:
            # A .dockercfg is the bare map.  A config.json without "auths"
            # (only credsStore, proxies, ...) has nothing for us.
            looks_legacy = document and all(isinstance(v, Mapping) for v in document.values())
            auths = document if looks_legacy else {}
        if not isinstance(auths, Mapping):
            raise CredentialsError(f"{source}: 'auths' is not a JSON object")
        store = cls(source=source)
        for key, entry in auths.items():
            credential = _decode_entry(str(key), entry, source)
            if credential is not None:
                host, path = normalise_key(str(key))
                store._entries.append(_Entry(host, path, credential, source))
        return store

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> CredentialStore:
        """Read one docker config file; a missing file is an error here."""
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as err:
            raise CredentialsError(f"cannot read credentials file {file}: {err.strerror}") from None
        return cls.from_docker_config(data, source=str(file))

    @classmethod
    def from_secret_dir(cls, directory: str | os.PathLike[str]) -> CredentialStore:
        """Read a mounted dockerconfigjson or dockercfg secret volume."""
        root = Path(directory)
        for name in (DOCKERCONFIGJSON_KEY, DOCKERCFG_KEY):
            candidate = root / name
            if candidate.is_file():
                return cls.from_file(candidate)
        raise CredentialsError(
            f"{root} holds no {DOCKERCONFIGJSON_KEY} or {DOCKERCFG_KEY}: "
            "is it a kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg secret?"
        )

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        home: str | os.PathLike[str] | None = None,
    ) -> CredentialStore:
        """What buildah/skopeo and docker would use: ``$REGISTRY_AUTH_FILE``, then docker's.

        ``$REGISTRY_AUTH_FILE`` must exist when set (a typo there should not
        silently mean "anonymous"); docker's own file is optional.
        """
        env = os.environ if environ is None else environ
        stores: list[CredentialStore] = []
        auth_file = env.get("REGISTRY_AUTH_FILE")
        if auth_file:
            stores.append(cls.from_file(auth_file))
        docker_dir = env.get("DOCKER_CONFIG")
        if docker_dir:
            docker_file = Path(docker_dir) / "config.json"
        else:
            docker_file = Path(home if home is not None else Path.home()) / ".docker/config.json"
        if docker_file.is_file():
            stores.append(cls.from_file(docker_file))
        return cls.merge(stores)

    @classmethod
    def merge(cls, stores: Iterable[CredentialStore]) -> CredentialStore:
        """One store from several; for equally specific keys the earlier store wins."""
        merged = cls()
        for store in stores:
            merged._entries.extend(store._entries)
        return merged

    def scoped(self, registry: str, path: str) -> CredentialStore:
        """The credentials this store has for ``registry``, usable only under ``path``.

        Each entry that would serve ``registry/path...`` is kept with its
        repository prefix narrowed to ``path``, so the result answers no
        other host and no other repository.
        """
        host = _normalise_host(registry)
        path = path.strip("/")
        scoped = CredentialStore()
        for entry in self._entries:
            if not _host_matches(entry.host, host):
                continue
            if entry.path and not (path == entry.path or path.startswith(entry.path + "/")):
                continue
            scoped._entries.append(_Entry(host, path, entry.credential, entry.source))
        return scoped

    def lookup(self, registry: str, repository: str = "") -> Credential | None:
        """The credential for ``registry`` (``host[:port]``) and ``repository``, if any.

        Among matching keys the one with the longest repository prefix wins,
        then an exact host over a wildcard, then the earliest entry.
        """
        host = _normalise_host(registry)
        best: tuple[int, int, int] | None = None
        found: Credential | None = None
        for index, entry in enumerate(self._entries):
            if not _host_matches(entry.host, host):
                continue
            if entry.path and not (
                repository == entry.path or repository.startswith(entry.path + "/")
            ):
                continue
            rank = (len(entry.path), 0 if entry.host.startswith("*.") else 1, -index)
            if best is None or rank > best:
                best, found = rank, entry.credential
        return found


class Challenge(Record):
    """One ``WWW-Authenticate`` challenge: a scheme (lower-cased) and its parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # noqa: S105 - RFC 7230 "token", not a secret
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})")
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))')
_TOKEN68_RE = re.compile(r"\s*[A-Za-z0-9._~+/-]+=*\s*(?=,|$)")
_SEPARATOR_RE = re.compile(r"\s*,")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value into its challenges, tolerating junk.

    A malformed tail is dropped rather than raised: the caller can still act
    on the challenges before it, and reports "no usable challenge" otherwise.
    """
    challenges: list[Challenge] = []
    pos = 0
    length = len(header)
    while pos < length:
        separator = _SEPARATOR_RE.match(header, pos)
        if separator:
            pos = separator.end()
            continue
        scheme_match = _SCHEME_RE.match(header, pos)
        if scheme_match is None:
            break
        scheme = scheme_match.group(1).lower()
        pos = scheme_match.end()
        params: dict[str, str] = {}
        token68 = _TOKEN68_RE.match(header, pos)
        if token68 and not _PARAM_RE.match(header, pos):
            pos = token68.end()
        while True:
            param = _PARAM_RE.match(header, pos)
            if param is None:
                break
            name, quoted, bare = param.groups()
            value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
            params[name.lower()] = value
            pos = param.end()
            separator = _SEPARATOR_RE.match(header, pos)
            if separator is None:
                break
            # After a comma either another parameter or a new challenge follows.
            if _PARAM_RE.match(header, separator.end()) is None:
                break
            pos = separator.end()
        challenges.append(Challenge(scheme, params))
        rest = header[pos:].lstrip()
        if rest and not rest.startswith(","):
            break
    return challenges
