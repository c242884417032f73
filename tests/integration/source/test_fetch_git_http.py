"""fetch_git over http(s) against ``git http-backend`` on 127.0.0.1."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from builder.api import BuildError, StatusReason
from builder.source import fetch_git

if TYPE_CHECKING:
    from conftest import Checkout, ServerFactory, TLSFiles, Upstream

pytestmark = pytest.mark.integration


def _secret(tmp_path: Path, **keys: str) -> Path:
    """A source secret as Kubernetes mounts it: one file per key."""
    secret = tmp_path / "secret"
    secret.mkdir(parents=True)
    for name, value in keys.items():
        (secret / {"ca_crt": "ca.crt"}.get(name, name)).write_text(value + "\n")
    return secret


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_from_secret_dir(
    upstream: Upstream,
    git_http_server: ServerFactory,
    tmp_path: Path,
    checkout: type[Checkout],
    log_lines: list[str],
) -> None:
    server = git_http_server()
    uri = f"{server.url}/upstream.git"
    secret = _secret(tmp_path, username=server.user, password=server.password)

    info = fetch_git(uri, "feature", tmp_path / "src", secret_dir=secret, log=log_lines.append)

    assert info.commit_id == upstream.commits["feature"]
    assert info.uri == uri
    assert checkout.is_shallow(tmp_path / "src")
    assert _basic(server.user, server.password) in server.authorizations
    assert not any(server.password in line for line in log_lines)


def test_credentials_in_the_uri_are_used_but_never_stored_or_shown(
    upstream: Upstream,
    git_http_server: ServerFactory,
    tmp_path: Path,
    log_lines: list[str],
) -> None:
    server = git_http_server()
    host = server.url.removeprefix("http://")
    uri = f"http://{server.user}:{server.password}@{host}/upstream.git"
    dest = tmp_path / "src"

    info = fetch_git(uri, "v1.0", dest, log=log_lines.append)

    assert info.commit_id == upstream.commits["c2"]
    assert info.uri == f"http://{server.user}@{host}/upstream.git"
    assert server.password not in (dest / ".git" / "config").read_text()
    assert not any(server.password in line for line in log_lines)
    assert _basic(server.user, server.password) in server.authorizations


def test_token_key_wins_over_password_key(
    upstream: Upstream, git_http_server: ServerFactory, tmp_path: Path
) -> None:
    server = git_http_server()
    stale = "stale-password"
    secret = _secret(tmp_path, username=server.user, password=stale, token=server.password)

    info = fetch_git(f"{server.url}/upstream.git", "feature", tmp_path / "src", secret_dir=secret)

    assert info.commit_id == upstream.commits["feature"]
    assert _basic(server.user, stale) not in server.authorizations


def test_wrong_password_is_an_auth_failure_without_the_password(
    git_http_server: ServerFactory, tmp_path: Path, log_lines: list[str]
) -> None:
    server = git_http_server()
    uri = f"{server.url}/upstream.git"
    wrong = "Wr0ng-Secret-Value"
    secret = _secret(tmp_path, username=server.user, password=wrong)

    with pytest.raises(BuildError) as caught:
        fetch_git(uri, "main", tmp_path / "src", secret_dir=secret, log=log_lines.append)

    detail = caught.value.detail
    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert detail.startswith(f"cannot fetch ref 'main' from {uri}: authentication failed")
    assert wrong not in detail
    assert wrong not in str(caught.value)
    assert not any(wrong in line for line in log_lines)
    assert _basic(server.user, wrong) in server.authorizations  # it was really tried


def test_wrong_password_in_uri_is_redacted(git_http_server: ServerFactory, tmp_path: Path) -> None:
    server = git_http_server()
    host = server.url.removeprefix("http://")
    wrong = "Uri-Pa55-Leak"
    with pytest.raises(BuildError) as caught:
        fetch_git(f"http://{server.user}:{wrong}@{host}/upstream.git", "", tmp_path / "src")

    assert "authentication failed" in caught.value.detail
    assert wrong not in caught.value.detail
    assert f"http://{server.user}@{host}/upstream.git" in caught.value.detail


def test_no_credentials_fails_without_prompting(
    git_http_server: ServerFactory, tmp_path: Path
) -> None:
    server = git_http_server()
    with pytest.raises(BuildError, match="authentication failed"):
        fetch_git(f"{server.url}/upstream.git", "main", tmp_path / "src")


def test_missing_repository_over_http(git_http_server: ServerFactory, tmp_path: Path) -> None:
    server = git_http_server(auth=False)
    uri = f"{server.url}/nothing-here.git"
    with pytest.raises(BuildError) as caught:
        fetch_git(uri, "main", tmp_path / "src")

    assert caught.value.detail.startswith(
        f"cannot fetch ref 'main' from {uri}: repository not found"
    )


def test_protocol_v0_server_falls_back_to_history_for_unadvertised_commit(
    upstream: Upstream,
    git_http_server: ServerFactory,
    tmp_path: Path,
    checkout: type[Checkout],
    log_lines: list[str],
) -> None:
    server = git_http_server(auth=False, protocol_v2=False)
    sha = upstream.commits["c3"]

    info = fetch_git(f"{server.url}/upstream.git", sha, tmp_path / "src", log=log_lines.append)

    assert info.commit_id == sha == checkout.head(tmp_path / "src")
    assert not checkout.is_shallow(tmp_path / "src")
    assert any("refused" in line and "fetching branches and tags" in line for line in log_lines)


def test_http_superproject_may_not_pull_file_submodules(
    git_http_server: ServerFactory, tmp_path: Path
) -> None:
    """The upstream's submodules are local paths; from a remote they are refused."""
    server = git_http_server(auth=False)
    with pytest.raises(BuildError) as caught:
        fetch_git(f"{server.url}/upstream.git", "main", tmp_path / "src")

    assert "transport not allowed" in caught.value.detail


def test_https_needs_the_secret_ca(
    upstream: Upstream, git_http_server: ServerFactory, tls_files: TLSFiles, tmp_path: Path
) -> None:
    server = git_http_server(tls=tls_files)
    uri = f"{server.url}/upstream.git"
    assert uri.startswith("https://127.0.0.1:")

    untrusted = _secret(tmp_path / "a", username=server.user, password=server.password)
    with pytest.raises(BuildError) as caught:
        fetch_git(uri, "feature", tmp_path / "src-a", secret_dir=untrusted)
    assert "TLS certificate verification failed" in caught.value.detail

    trusted = _secret(
        tmp_path / "b",
        username=server.user,
        password=server.password,
        ca_crt=tls_files.cert.read_text().strip(),
    )
    info = fetch_git(uri, "feature", tmp_path / "src-b", secret_dir=trusted)
    assert info.commit_id == upstream.commits["feature"]


def test_proxy_is_used_and_no_proxy_bypasses_it(
    upstream: Upstream, git_http_server: ServerFactory, tmp_path: Path, closed_port: int
) -> None:
    server = git_http_server(auth=False)
    uri = f"{server.url}/upstream.git"
    proxy = f"http://proxy-user:Pr0xy-Secret@127.0.0.1:{closed_port}"

    with pytest.raises(BuildError) as caught:
        fetch_git(uri, "feature", tmp_path / "via-proxy", http_proxy=proxy)
    assert "server unreachable" in caught.value.detail
    assert str(closed_port) in caught.value.detail
    assert "Pr0xy-Secret" not in caught.value.detail
    assert server.requests == []

    info = fetch_git(uri, "feature", tmp_path / "direct", http_proxy=proxy, no_proxy="127.0.0.1")
    assert info.commit_id == upstream.commits["feature"]
