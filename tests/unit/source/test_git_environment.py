"""Source secret files turned into git's environment, without leaking them."""

from __future__ import annotations

import shlex
import stat
from pathlib import Path

import pytest

from builder.api import BuildError
from builder.source import parse_git_uri
from builder.source.gitenv import GitEnvironment, git_environment


def _config(env: dict[str, str]) -> list[tuple[str, str]]:
    count = int(env["GIT_CONFIG_COUNT"])
    return [(env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"]) for i in range(count)]


def _secret(tmp_path: Path, files: dict[str, str]) -> Path:
    """A source secret as Kubernetes mounts it: one file per key."""
    secret = tmp_path / "secret"
    secret.mkdir()
    for name, text in files.items():
        (secret / name).write_text(text)
    return secret


def _setup(uri: str, secret: Path | None, tmp_path: Path, **kwargs: str) -> GitEnvironment:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return git_environment(parse_git_uri(uri), secret, scratch, base_env={}, **kwargs)


def test_basics_without_a_secret(tmp_path: Path) -> None:
    setup = _setup("https://git.example.com/app.git", None, tmp_path)

    assert setup.env["GIT_TERMINAL_PROMPT"] == "0"
    assert setup.env["GIT_ASKPASS"] == ""
    assert "GIT_SSH_COMMAND" not in setup.env
    assert ("core.hooksPath", "/dev/null") in _config(setup.env)
    assert not any(key.startswith("credential") for key, _ in _config(setup.env))
    assert setup.fetch_url == "https://git.example.com/app.git"
    assert setup.secrets == []


def test_username_password_go_to_a_private_credential_store(tmp_path: Path) -> None:
    secret = _secret(
        tmp_path, {"username": "bob\n", "password": "p@ss word\nignored second line\n"}
    )
    setup = _setup("https://git.example.com:8443/app.git", secret, tmp_path)

    config = _config(setup.env)
    assert config[-2] == ("credential.helper", "")
    helper_key, helper = config[-1]
    assert helper_key == "credential.helper"
    store = Path(helper.removeprefix("store --file="))
    assert store.read_text() == "https://bob:p%40ss%20word@git.example.com:8443\n"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert "p@ss word" in setup.secrets
    assert "p%40ss%20word" in setup.secrets
    assert all("p@ss" not in value for value in setup.env.values())


def test_token_beats_password_and_default_username(tmp_path: Path) -> None:
    secret = _secret(tmp_path, {"password": "old", "token": "tok3n"})
    setup = _setup("https://git.example.com/app.git", secret, tmp_path)

    store = Path(_config(setup.env)[-1][1].removeprefix("store --file="))
    assert store.read_text() == "https://builder:tok3n@git.example.com\n"


def test_credentials_from_the_url_drop_userinfo_from_the_fetch_url(tmp_path: Path) -> None:
    setup = _setup("http://alice:pw1@git.example.com/app.git", None, tmp_path)

    store = Path(_config(setup.env)[-1][1].removeprefix("store --file="))
    assert store.read_text() == "http://alice:pw1@git.example.com\n"
    assert setup.fetch_url == "http://git.example.com/app.git"


def test_secret_username_overrides_url_username(tmp_path: Path) -> None:
    secret = _secret(tmp_path, {"username": "bob", "password": "pw"})
    setup = _setup("https://alice@git.example.com/app.git", secret, tmp_path)

    store = Path(_config(setup.env)[-1][1].removeprefix("store --file="))
    assert store.read_text() == "https://bob:pw@git.example.com\n"
    # Left in the URL, "alice" would make git ask the helper for alice only.
    assert setup.fetch_url == "https://git.example.com/app.git"


def test_password_keys_are_ignored_for_ssh(tmp_path: Path) -> None:
    secret = _secret(tmp_path, {"username": "bob", "password": "pw"})
    setup = _setup("git@github.com:team/app.git", secret, tmp_path)

    assert not any(key == "credential.helper" for key, _ in _config(setup.env))


def test_ssh_key_with_known_hosts_is_strict(tmp_path: Path) -> None:
    secret = _secret(tmp_path, {"ssh-privatekey": "KEY", "known_hosts": "host ssh-ed25519 A"})
    (secret / "ssh-privatekey").chmod(0o644)
    setup = _setup("ssh://git@example.com/app.git", secret, tmp_path)

    argv = shlex.split(setup.env["GIT_SSH_COMMAND"])
    key = Path(argv[argv.index("-i") + 1])
    assert key.read_text() == "KEY"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.parent == tmp_path / "scratch"
    assert "StrictHostKeyChecking=yes" in argv
    assert f"UserKnownHostsFile={secret / 'known_hosts'}" in argv
    assert "BatchMode=yes" in argv
    assert "IdentitiesOnly=yes" in argv


def test_ssh_key_without_known_hosts_accepts_new_hosts(tmp_path: Path) -> None:
    secret = _secret(tmp_path, {"ssh-privatekey": "KEY"})
    setup = _setup("git@example.com:app.git", secret, tmp_path)

    argv = shlex.split(setup.env["GIT_SSH_COMMAND"])
    assert "StrictHostKeyChecking=accept-new" in argv
    assert f"UserKnownHostsFile={tmp_path / 'scratch' / 'known_hosts'}" in argv


def test_ca_and_gitconfig(tmp_path: Path) -> None:
    secret = _secret(tmp_path, {"ca.crt": "PEM", ".gitconfig": "[core]\n"})
    setup = _setup("https://git.example.com/app.git", secret, tmp_path)

    config = _config(setup.env)
    assert ("http.sslCAInfo", str(secret / "ca.crt")) in config
    assert ("include.path", str(secret / ".gitconfig")) in config
    assert setup.env["GIT_SSL_CAINFO"] == str(secret / "ca.crt")
    assert setup.descriptions == [".gitconfig", "ca.crt"]


def test_local_sources_may_use_file_submodules_remote_ones_may_not(tmp_path: Path) -> None:
    local = _setup("/srv/git/app", None, tmp_path)
    remote = _setup("https://git.example.com/app.git", None, tmp_path)

    assert ("protocol.file.allow", "always") in _config(local.env)
    assert ("protocol.file.allow", "always") not in _config(remote.env)


def test_proxies_in_both_spellings_and_their_passwords_are_secret(tmp_path: Path) -> None:
    setup = _setup(
        "https://git.example.com/app.git",
        None,
        tmp_path,
        http_proxy="http://u:proxypw@proxy:3128",
        https_proxy="http://proxy:3129",
        no_proxy=".cluster.local",
    )

    assert setup.env["http_proxy"] == setup.env["HTTP_PROXY"] == "http://u:proxypw@proxy:3128"
    assert setup.env["https_proxy"] == setup.env["HTTPS_PROXY"] == "http://proxy:3129"
    assert setup.env["no_proxy"] == setup.env["NO_PROXY"] == ".cluster.local"
    assert setup.secrets == ["proxypw"]


def test_existing_config_entries_are_appended_to(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    setup = git_environment(
        parse_git_uri("https://git.example.com/app.git"),
        None,
        scratch,
        base_env={"GIT_CONFIG_COUNT": "2"},
    )

    assert setup.env["GIT_CONFIG_KEY_2"] == "advice.detachedHead"
    assert "GIT_CONFIG_KEY_0" not in setup.env


def test_missing_secret_directory(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="does not exist"):
        _setup("https://git.example.com/app.git", tmp_path / "nope", tmp_path)
