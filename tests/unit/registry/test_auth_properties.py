"""Docker configs (a tenant's pull secrets) and ``WWW-Authenticate`` headers (a registry's).

``CredentialStore.from_docker_config`` raises only ``CredentialsError``;
``parse_challenges`` raises nothing (it keeps what it could read) and takes
time linear in the header.
"""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.registry.auth import Challenge, CredentialStore, parse_challenges
from builder.registry.errors import CredentialsError

PROPERTY = settings(max_examples=150, deadline=None)


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 100_000,  # RecursionError out of json
        b'{"auths": {"r": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"auths": {"r": {"auth": ' + b"1" * 5000 + b"}}}",
    ],
    ids=["deep", "deep-entry", "long-integer"],
)
def test_hostile_docker_configs(data: bytes) -> None:
    with pytest.raises(CredentialsError, match="secret ns/pull: "):
        CredentialStore.from_docker_config(data, source="secret ns/pull")


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
AUTH = base64.b64encode(b"user:pass").decode()


@PROPERTY
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_property_arbitrary_docker_configs(data: bytes) -> None:
    with contextlib.suppress(CredentialsError):
        CredentialStore.from_docker_config(data, source="s")


@PROPERTY
@given(
    where=st.sampled_from(["auths", "entry", "auth", "username", "password", "key"]),
    junk=JUNK,
)
def test_property_a_docker_config_with_one_part_replaced(where: str, junk: object) -> None:
    entry: dict[str, object] = {"auth": AUTH, "username": "u", "password": "p"}
    auths: dict[str, object] = {"quay.io": entry}
    document: dict[str, object] = {"auths": auths}
    if where == "auths":
        document["auths"] = junk
    elif where == "entry":
        auths["quay.io"] = junk
    elif where == "key":
        auths[str(junk)] = entry
    else:
        entry[where] = junk
    try:
        store = CredentialStore.from_docker_config(json.dumps(document), source="s")
    except CredentialsError:
        return
    store.lookup("quay.io", "team/app")


@PROPERTY
@given(header=st.text(max_size=300) | st.text(alphabet=' ,="\\=aB', max_size=300))
def test_property_challenges_never_raise(header: str) -> None:
    challenges = parse_challenges(header)
    assert all(isinstance(c, Challenge) and c.scheme == c.scheme.lower() for c in challenges)


@PROPERTY
@given(
    realm=st.text(alphabet=st.characters(blacklist_characters='"\\'), max_size=20),
    service=st.text(alphabet=st.characters(blacklist_characters='"\\'), max_size=20),
    junk=st.text(max_size=20),
)
def test_property_a_bearer_challenge_is_read_before_junk(
    realm: str, service: str, junk: str
) -> None:
    header = f'Bearer realm="{realm}",service="{service}", {junk}'
    first = parse_challenges(header)[0]
    assert (first.scheme, first.realm, first.service) == ("bearer", realm, service)


@pytest.mark.parametrize(
    "header",
    ["a" * 100_000, "a," * 30_000, 'Bearer realm="' + "\\a" * 50_000, " " * 100_000 + "!"],
)
def test_long_headers(header: str) -> None:
    # No quadratic rescans: a 200 kB header is read at once (http.client caps
    # a header line at 64 KiB anyway).
    parse_challenges(header)


def test_a_non_ascii_auth_is_a_credentials_error() -> None:
    # base64.b64decode raised a bare ValueError for it (found by the property above).
    data = json.dumps({"auths": {"quay.io": {"auth": "\x80"}}})
    with pytest.raises(CredentialsError, match="is not base64"):
        CredentialStore.from_docker_config(data, source="s")
