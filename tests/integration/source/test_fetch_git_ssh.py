"""fetch_git over ssh:// against a throwaway sshd on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from builder.api import BuildError, StatusReason
from builder.source import fetch_git

if TYPE_CHECKING:
    from conftest import Checkout, SSHServer, Upstream

pytestmark = pytest.mark.integration


def _keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def _secret(tmp_path: Path, sshd: SSHServer, known_hosts: str | None) -> Path:
    secret = tmp_path / "secret"
    secret.mkdir()
    key = secret / "ssh-privatekey"
    shutil.copyfile(sshd.client_key, key)
    key.chmod(0o644)  # as Kubernetes mounts it; ssh would refuse this file
    if known_hosts is not None:
        (secret / "known_hosts").write_text(known_hosts + "\n")
    return secret


def test_key_and_known_hosts_from_secret(
    upstream: Upstream,
    sshd: SSHServer,
    tmp_path: Path,
    checkout: type[Checkout],
    log_lines: list[str],
) -> None:
    secret = _secret(tmp_path, sshd, sshd.known_hosts_line)
    uri = sshd.url(upstream.bare)

    info = fetch_git(uri, "feature", tmp_path / "src", secret_dir=secret, log=log_lines.append)

    assert info.commit_id == upstream.commits["feature"]
    assert info.uri == uri
    assert checkout.is_shallow(tmp_path / "src")
    assert any("ssh private key" in line and "known_hosts" in line for line in log_lines)


def test_unknown_host_is_accepted_on_first_use_without_known_hosts(
    upstream: Upstream, sshd: SSHServer, tmp_path: Path
) -> None:
    secret = _secret(tmp_path, sshd, None)

    info = fetch_git(sshd.url(upstream.bare), "v1.0", tmp_path / "src", secret_dir=secret)

    assert info.commit_id == upstream.commits["c2"]


def test_mismatching_known_hosts_is_refused(
    upstream: Upstream, sshd: SSHServer, tmp_path: Path
) -> None:
    other = " ".join(_keygen(tmp_path / "other").with_suffix(".pub").read_text().split()[:2])
    secret = _secret(tmp_path, sshd, f"[127.0.0.1]:{sshd.port} {other}")
    uri = sshd.url(upstream.bare)

    with pytest.raises(BuildError) as caught:
        fetch_git(uri, "feature", tmp_path / "src", secret_dir=secret)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert caught.value.detail.startswith(
        f"cannot fetch ref 'feature' from {uri}: ssh host key verification failed"
    )


def test_unauthorized_key_is_an_auth_failure(
    upstream: Upstream, sshd: SSHServer, tmp_path: Path
) -> None:
    secret = _secret(tmp_path, sshd, sshd.known_hosts_line)
    shutil.copyfile(_keygen(tmp_path / "wrong"), secret / "ssh-privatekey")

    with pytest.raises(BuildError) as caught:
        fetch_git(sshd.url(upstream.bare), "feature", tmp_path / "src", secret_dir=secret)

    assert "authentication failed" in caught.value.detail


def test_missing_repository_over_ssh(sshd: SSHServer, tmp_path: Path) -> None:
    secret = _secret(tmp_path, sshd, sshd.known_hosts_line)
    uri = sshd.url(tmp_path / "nothing.git")

    with pytest.raises(BuildError) as caught:
        fetch_git(uri, "main", tmp_path / "src", secret_dir=secret)

    assert caught.value.detail.startswith(
        f"cannot fetch ref 'main' from {uri}: repository not found"
    )
