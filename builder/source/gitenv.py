"""The environment git runs in: source-secret credentials, CA, proxies, policy.

OpenShift mounts a build's source secret as a directory of files and its
builder turns each known file into git configuration (``username``,
``password``, ``token``, ``ssh-privatekey``, ``ca.crt``, ``.gitconfig``).
We do the same, with two rules of our own: secrets never appear in argv or
in a URL (a store-format file in a private temporary directory feeds git's
credential helper), and every setting travels as ``GIT_CONFIG_*`` environment
entries, so nothing is written to the user's or the checkout's config.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from builder.api import BuildError, StatusReason
from builder.record import Record, field
from builder.source.gituri import GitURI, Transport

USERNAME_KEY = "username"
PASSWORD_KEY = "password"  # noqa: S105 - a file name in the secret, not a password
TOKEN_KEY = "token"  # noqa: S105 - likewise
SSH_KEY = "ssh-privatekey"
KNOWN_HOSTS_KEY = "known_hosts"
CA_CERT_KEY = "ca.crt"
GITCONFIG_KEY = ".gitconfig"

# OpenShift's builder uses this name when a secret has a password but no user.
DEFAULT_USERNAME = "builder"

SSH_CONNECT_TIMEOUT_SECONDS = 30


class GitEnvironment(Record, frozen=False):
    """Variables to add to git's environment, the URL to fetch, what to redact."""

    fetch_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)


def _read_first_line(path: Path) -> str:
    """The first line of a secret file, as OpenShift's ``readSecret`` does."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as err:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED,
            f"cannot read source secret key {path.name!r}: {err.__class__.__name__}",
        ) from None
    lines = text.splitlines()
    return lines[0].rstrip("\r") if lines else ""


def _config_entries(base: Mapping[str, str], entries: list[tuple[str, str]]) -> dict[str, str]:
    """``GIT_CONFIG_COUNT``/``KEY_n``/``VALUE_n``, appended to any already set."""
    try:
        start = int(base.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        start = 0
    env: dict[str, str] = {"GIT_CONFIG_COUNT": str(start + len(entries))}
    for offset, (key, value) in enumerate(entries):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    return env


def _proxy_env(
    http_proxy: str | None, https_proxy: str | None, no_proxy: str | None
) -> tuple[dict[str, str], list[str]]:
    """Both spellings, because libcurl reads ``http_proxy`` only in lower case."""
    env: dict[str, str] = {}
    secrets: list[str] = []
    for names, value in (
        (("http_proxy", "HTTP_PROXY"), http_proxy),
        (("https_proxy", "HTTPS_PROXY"), https_proxy),
        (("no_proxy", "NO_PROXY"), no_proxy),
    ):
        if not value:
            continue
        for name in names:
            env[name] = value
        try:
            password = urlsplit(value).password
        except ValueError:
            password = None
        if password:
            secrets.append(password)
    return env, secrets


def _http_credentials(
    uri: GitURI, secret_dir: Path | None, scratch: Path, result: GitEnvironment
) -> list[tuple[str, str]]:
    """Username/password for http(s), with OpenShift's precedence.

    Username: secret, then URL.  Password: ``token``, then ``password``, then
    URL.  No password and no new username means there is nothing to add.
    """
    secret_user = secret_password = secret_token = ""
    if secret_dir is not None:
        secret_user = _read_first_line(secret_dir / USERNAME_KEY)
        secret_password = _read_first_line(secret_dir / PASSWORD_KEY)
        secret_token = _read_first_line(secret_dir / TOKEN_KEY)
    username = secret_user or uri.username
    password = secret_token or secret_password or uri.password
    if not password and username == uri.username:
        return []
    username = username or DEFAULT_USERNAME
    if password:
        result.secrets.append(password)
        if quote(password, safe="") != password:
            result.secrets.append(quote(password, safe=""))

    store = scratch / "credentials"
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{uri.host}"
    fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"{uri.scheme}://{netloc}\n")
    result.descriptions.append(f"username/password for {uri.host}")
    # The empty helper first resets any helper the user configured, so a
    # stale keychain entry cannot win over the build's secret.
    return [("credential.helper", ""), ("credential.helper", f"store --file={store}")]


def _ssh_command(secret_dir: Path | None, scratch: Path, result: GitEnvironment) -> str:
    """An ssh command line using the secret's key and host-key policy, or "".

    Without ssh material in the secret we leave the user's own ssh setup
    (``GIT_SSH_COMMAND``, ``core.sshCommand``, ``~/.ssh``) alone.  The key is
    copied to a 0600 file because ssh refuses keys readable by others and
    Kubernetes mounts secrets 0644 by default.  With a ``known_hosts`` key the
    host must match it; without one we accept the host's key on first use,
    which is all a fresh build pod can do.
    """
    if secret_dir is None:
        return ""
    key = secret_dir / SSH_KEY
    known_hosts = secret_dir / KNOWN_HOSTS_KEY
    if not key.is_file() and not known_hosts.is_file():
        return ""
    args = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT_SECONDS}"]
    if key.is_file():
        private = scratch / "ssh-privatekey"
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.read_bytes())
        args += ["-i", str(private), "-o", "IdentitiesOnly=yes"]
        result.descriptions.append("ssh private key")
    if known_hosts.is_file():
        args += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
        result.descriptions.append("known_hosts")
    else:
        accepted = scratch / "known_hosts"
        args += ["-o", "StrictHostKeyChecking=accept-new", "-o", f"UserKnownHostsFile={accepted}"]
    return shlex.join(args)


def git_environment(
    uri: GitURI,
    secret_dir: Path | None,
    scratch: Path,
    *,
    http_proxy: str | None = None,
    https_proxy: str | None = None,
    no_proxy: str | None = None,
    base_env: Mapping[str, str] | None = None,
) -> GitEnvironment:
    """Everything git needs to fetch ``uri`` non-interactively.

    ``scratch`` must be a private directory that outlives the fetch and is
    removed afterwards; credential and key copies live there.
    """
    if secret_dir is not None and not secret_dir.is_dir():
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED,
            f"source secret directory {str(secret_dir)!r} does not exist",
        )
    result = GitEnvironment(fetch_url=uri.fetch_url)
    config: list[tuple[str, str]] = [
        ("advice.detachedHead", "false"),
        # Hooks from a user's global config or template have no business
        # running inside a build's checkout.
        ("core.hooksPath", os.devnull),
    ]
    if uri.is_local:
        # git refuses file-transport submodules by default (CVE-2022-39253)
        # because a remote repository could use them to read the builder's
        # disk.  A local superproject is already on that disk, so allow it.
        config.append(("protocol.file.allow", "always"))
    if secret_dir is not None:
        gitconfig = secret_dir / GITCONFIG_KEY
        if gitconfig.is_file():
            config.append(("include.path", str(gitconfig.absolute())))
            result.descriptions.append(".gitconfig")
        ca_cert = secret_dir / CA_CERT_KEY
        if ca_cert.is_file():
            # Like OpenShift, the secret's CA replaces the system bundle.  The
            # environment variable is set too because git lets an inherited
            # GIT_SSL_CAINFO override any configuration.
            config.append(("http.sslCAInfo", str(ca_cert.absolute())))
            result.env["GIT_SSL_CAINFO"] = str(ca_cert.absolute())
            result.descriptions.append("ca.crt")
    if uri.transport is Transport.HTTP:
        credentials = _http_credentials(uri, secret_dir, scratch, result)
        if credentials:
            # The helper supplies the user name; one left in the URL would
            # make git ask the helper for that user only, and miss.
            config += credentials
            result.fetch_url = uri.anonymous_url

    env = {
        **result.env,
        # Never wait for a password on a terminal or a GUI prompt.
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
    }
    ssh_command = _ssh_command(secret_dir, scratch, result)
    if ssh_command:
        env["GIT_SSH_COMMAND"] = ssh_command
    proxies, proxy_secrets = _proxy_env(http_proxy, https_proxy, no_proxy)
    env.update(proxies)
    result.secrets += proxy_secrets
    env.update(_config_entries(os.environ if base_env is None else base_env, config))
    result.env = env
    return result
