from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from builder.registry.auth import (
    Challenge,
    Credential,
    CredentialStore,
    normalise_key,
    parse_challenges,
)
from builder.registry.errors import CredentialsError


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def config_json(auths: dict[str, dict[str, str]]) -> str:
    return json.dumps({"auths": auths})


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("quay.io", ("quay.io", "")),
        ("https://quay.io", ("quay.io", "")),
        ("http://quay.io/", ("quay.io", "")),
        ("https://index.docker.io/v1/", ("docker.io", "")),
        ("registry-1.docker.io", ("docker.io", "")),
        ("Docker.IO", ("docker.io", "")),
        ("myreg:5000", ("myreg:5000", "")),
        ("https://myreg:5000/v2/", ("myreg:5000", "")),
        ("quay.io/team", ("quay.io", "team")),
        ("quay.io/team/app/", ("quay.io", "team/app")),
        ("*.example.com", ("*.example.com", "")),
    ],
)
def test_normalise_key(key: str, expected: tuple[str, str]) -> None:
    assert normalise_key(key) == expected


# (config keys -> user), lookup (registry, repository), expected user or None
LOOKUPS = [
    ({"quay.io": "a"}, ("quay.io", "x/y"), "a"),
    ({"https://quay.io": "a"}, ("quay.io", "x"), "a"),
    ({"https://index.docker.io/v1/": "hub"}, ("docker.io", "library/busybox"), "hub"),
    ({"quay.io": "a"}, ("quay.io:443", "x"), None),  # ports must agree
    ({"myreg:5000": "a"}, ("myreg", "x"), None),
    ({"myreg:5000": "a"}, ("myreg:5000", "x"), "a"),
    ({"quay.io": "a"}, ("other.io", "x"), None),
    # The longest repository prefix wins; a prefix must end at a component.
    ({"quay.io": "a", "quay.io/team": "t"}, ("quay.io", "team/app"), "t"),
    ({"quay.io": "a", "quay.io/team": "t"}, ("quay.io", "teamx/app"), "a"),
    ({"quay.io/team": "t"}, ("quay.io", "other/app"), None),
    ({"quay.io/team/app": "x", "quay.io/team": "t"}, ("quay.io", "team/app"), "x"),
    # Wildcards stand for one DNS label; exact hosts beat wildcards.
    ({"*.example.com": "w"}, ("reg.example.com", "x"), "w"),
    ({"*.example.com": "w"}, ("a.reg.example.com", "x"), None),
    ({"*.example.com": "w", "reg.example.com": "e"}, ("reg.example.com", "x"), "e"),
    ({"127.0.0.1:5000": "l"}, ("127.0.0.1:5000", "x"), "l"),
]


@pytest.mark.parametrize(("keys", "query", "expected"), LOOKUPS)
def test_lookup(keys: dict[str, str], query: tuple[str, str], expected: str | None) -> None:
    document = config_json({k: {"auth": b64(f"{u}:pw-{u}")} for k, u in keys.items()})
    store = CredentialStore.from_docker_config(document, source="test")
    found = store.lookup(*query)
    if expected is None:
        assert found is None
    else:
        assert found == Credential(expected, f"pw-{expected}")


def test_auth_field_and_username_password_fields() -> None:
    document = config_json(
        {
            "a.io": {"auth": b64("alice:pa:ss:word")},  # password may contain ':'
            "b.io": {"username": "bob", "password": "secret"},
            "c.io": {},  # left by a credential helper
            "d.io": {"auth": ""},
            "e.io": {"identitytoken": "opaque"},
        }
    )
    store = CredentialStore.from_docker_config(document, source="cfg")
    assert store.lookup("a.io") == Credential("alice", "pa:ss:word")
    assert store.lookup("b.io") == Credential("bob", "secret")
    assert store.lookup("c.io") is None
    assert store.lookup("d.io") is None
    assert store.lookup("e.io") is None
    assert len(store) == 2


def test_legacy_dockercfg_shape() -> None:
    document = json.dumps({"https://quay.io": {"auth": b64("u:p"), "email": "u@example.com"}})
    store = CredentialStore.from_docker_config(document, source="dockercfg")
    assert store.lookup("quay.io") == Credential("u", "p")


def test_config_without_auths_is_empty() -> None:
    store = CredentialStore.from_docker_config('{"credsStore": "desktop"}', source="cfg")
    assert len(store) == 0


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"auths": []}', "'auths' is not a JSON object"),
        ('{"auths": {"q.io": "x"}}', "entry for 'q.io' is not a JSON object"),
        ('{"auths": {"q.io": {"auth": "!!!"}}}', "not base64"),
        (config_json({"q.io": {"auth": b64("nocolon")}}), "no 'username:password'"),
    ],
)
def test_malformed_config(document: str, fragment: str) -> None:
    with pytest.raises(CredentialsError) as info:
        CredentialStore.from_docker_config(document, source="/secret/.dockerconfigjson")
    assert fragment in info.value.detail
    assert "/secret/.dockerconfigjson" in info.value.detail


def test_password_never_in_repr() -> None:
    store = CredentialStore.from_docker_config(
        config_json({"q.io": {"auth": b64("user:hunter2")}}), source="cfg"
    )
    credential = store.lookup("q.io")
    assert credential is not None
    assert "hunter2" not in repr(credential)
    assert "hunter2" not in repr(store)
    assert credential.basic_header() == "Basic " + b64("user:hunter2")


def test_secret_dir_dockerconfigjson_and_dockercfg(tmp_path: Path) -> None:
    new = tmp_path / "new"
    new.mkdir()
    (new / ".dockerconfigjson").write_text(config_json({"q.io": {"auth": b64("n:1")}}))
    old = tmp_path / "old"
    old.mkdir()
    (old / ".dockercfg").write_text(json.dumps({"q.io": {"auth": b64("o:2")}}))
    assert CredentialStore.from_secret_dir(new).lookup("q.io") == Credential("n", "1")
    assert CredentialStore.from_secret_dir(old).lookup("q.io") == Credential("o", "2")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CredentialsError, match="dockerconfigjson"):
        CredentialStore.from_secret_dir(empty)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="cannot read"):
        CredentialStore.from_file(tmp_path / "nope.json")


def test_environment_precedence(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    (home / ".docker/config.json").write_text(
        config_json({"q.io": {"auth": b64("docker:d")}, "only-docker.io": {"auth": b64("x:y")}})
    )
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(config_json({"q.io": {"auth": b64("containers:c")}}))

    plain = CredentialStore.from_environment({}, home=home)
    assert plain.lookup("q.io") == Credential("docker", "d")

    both = CredentialStore.from_environment({"REGISTRY_AUTH_FILE": str(auth_file)}, home=home)
    assert both.lookup("q.io") == Credential("containers", "c")
    assert both.lookup("only-docker.io") == Credential("x", "y")

    docker_dir = tmp_path / "dockercfgdir"
    docker_dir.mkdir()
    (docker_dir / "config.json").write_text(config_json({"q.io": {"auth": b64("dc:1")}}))
    via_env = CredentialStore.from_environment({"DOCKER_CONFIG": str(docker_dir)}, home=home)
    assert via_env.lookup("q.io") == Credential("dc", "1")

    assert len(CredentialStore.from_environment({}, home=tmp_path / "nohome")) == 0
    with pytest.raises(CredentialsError):
        CredentialStore.from_environment({"REGISTRY_AUTH_FILE": str(tmp_path / "x")}, home=home)


def test_store_from_mapping() -> None:
    store = CredentialStore({"https://127.0.0.1:5000": Credential("u", "p")})
    assert store.lookup("127.0.0.1:5000") == Credential("u", "p")


# header -> [(scheme, params)]
CHALLENGES = [
    (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull"',
        [
            (
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/busybox:pull",
                },
            )
        ],
    ),
    ('Basic realm="Registry Realm"', [("basic", {"realm": "Registry Realm"})]),
    ('basic REALM="x"', [("basic", {"realm": "x"})]),
    (
        'Bearer realm="http://t/token", scope="repository:a/b:pull,push"',
        [("bearer", {"realm": "http://t/token", "scope": "repository:a/b:pull,push"})],
    ),
    (
        'Basic realm="a", Bearer realm="b",service="s"',
        [("basic", {"realm": "a"}), ("bearer", {"realm": "b", "service": "s"})],
    ),
    ("Bearer realm=unquoted,service=svc", [("bearer", {"realm": "unquoted", "service": "svc"})]),
    ('Bearer realm="with \\"quote\\""', [("bearer", {"realm": 'with "quote"'})]),
    ('Bearer realm="comma,inside"', [("bearer", {"realm": "comma,inside"})]),
    ("Negotiate abc123==, Basic realm=x", [("negotiate", {}), ("basic", {"realm": "x"})]),
    ("Bearer", [("bearer", {})]),
    ("", []),
    ("   ", []),
    ('Bearer realm="unterminated', [("bearer", {})]),
]


@pytest.mark.parametrize(("header", "expected"), CHALLENGES)
def test_parse_challenges(header: str, expected: list[tuple[str, dict[str, str]]]) -> None:
    parsed = parse_challenges(header)
    assert [(c.scheme, dict(c.params)) for c in parsed] == expected


def test_challenge_accessors() -> None:
    (challenge,) = parse_challenges('Bearer realm="r",service="s",scope="x"')
    assert (challenge.realm, challenge.service, challenge.scope) == ("r", "s", "x")
    assert Challenge("basic").realm is None
