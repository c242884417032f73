"""Classifying git source URIs and keeping their passwords out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import BuildError, StatusReason
from builder.source import Transport, parse_git_uri, redact_url


@pytest.mark.parametrize(
    ("uri", "transport", "host"),
    [
        ("https://github.com/openshift/ruby-hello-world.git", Transport.HTTP, "github.com"),
        ("http://127.0.0.1:8080/app.git", Transport.HTTP, "127.0.0.1:8080"),
        ("ssh://git@github.com/openshift/app.git", Transport.SSH, "github.com"),
        ("ssh://git@127.0.0.1:2222/srv/app.git", Transport.SSH, "127.0.0.1:2222"),
        ("git+ssh://git@example.com/app.git", Transport.SSH, "example.com"),
        ("git@github.com:openshift/app.git", Transport.SSH, "github.com"),
        ("github.com:openshift/app.git", Transport.SSH, "github.com"),
        ("git@[::1]:srv/app.git", Transport.SSH, "::1"),
        ("git://example.com/app.git", Transport.GIT, "example.com"),
        ("file:///srv/git/app.git", Transport.FILE, ""),
    ],
)
def test_transports(uri: str, transport: Transport, host: str) -> None:
    parsed = parse_git_uri(uri)
    assert parsed.transport is transport
    assert parsed.host == host
    assert parsed.display == uri
    assert parsed.fetch_url == uri


@pytest.mark.parametrize("uri", ["/srv/git/app", "./app", "../app", "app", "dir/with:colon"])
def test_local_paths_are_made_absolute_for_git(uri: str) -> None:
    parsed = parse_git_uri(uri)
    assert parsed.transport is Transport.FILE
    assert parsed.is_local
    assert parsed.display == uri
    assert parsed.fetch_url == str(Path(uri).absolute())


def test_password_is_split_out_of_http_urls() -> None:
    parsed = parse_git_uri("https://bob:p%40ss%3Aword@git.example.com:8443/team/app.git")

    assert parsed.username == "bob"
    assert parsed.password == "p@ss:word"  # noqa: S105 - test data
    assert parsed.display == "https://bob@git.example.com:8443/team/app.git"
    assert parsed.fetch_url == "https://git.example.com:8443/team/app.git"
    assert parsed.anonymous_url == "https://git.example.com:8443/team/app.git"
    assert "p%40ss" not in parsed.display + parsed.fetch_url


def test_user_without_password_is_kept() -> None:
    parsed = parse_git_uri("https://bob@git.example.com/app.git")
    assert parsed.fetch_url == "https://bob@git.example.com/app.git"
    assert parsed.anonymous_url == "https://git.example.com/app.git"
    assert parsed.password == ""


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (" https://example.com/app.git", "whitespace"),
        ("https://example.com/a\npp.git", "control characters"),
        ("-uhttps://example.com/app.git", "starts with '-'"),
        ("ext::sh -c touch% /tmp/pwned", "remote helper"),
        ("fd::17", "remote helper"),
        ("ftp://example.com/app.git", "unsupported scheme 'ftp'"),
        ("https:///app.git", "no host"),
        ("https://example.com:99999/app.git", "out of range"),
        ("ssh://git:hunter2@example.com/app.git", "passwords in ssh"),
    ],
)
def test_refused_uris(uri: str, why: str) -> None:
    with pytest.raises(BuildError) as caught:
        parse_git_uri(uri)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert why in caught.value.detail
    assert "hunter2" not in caught.value.detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://u:pw@h/x", "https://u:***@h/x"),
        (
            "fatal: 'http://bob:s3cret@127.0.0.1:9/a.git/' x",
            "fatal: 'http://bob:***@127.0.0.1:9/a.git/' x",
        ),
        ("https://u@h/x", "https://u@h/x"),
        ("no url here", "no url here"),
        ("a http://a:b@h and https://c:d@i", "a http://a:***@h and https://c:***@i"),
    ],
)
def test_redact_url(text: str, expected: str) -> None:
    assert redact_url(text) == expected


# -- any text: a GitURI or a BuildError ---------------------------------------------


def test_an_unknown_home_directory_is_a_build_error() -> None:
    # Path.expanduser raised RuntimeError for ~user of an unknown user.
    with pytest.raises(BuildError, match="home directory is unknown"):
        parse_git_uri("~no-such-user-kbuild/repo")


URI_PARTS = st.sampled_from(
    ["https://", "http://", "ssh://", "git://", "file://", "ext::", "git@", "user:pa%ss@",
     "example.com", ":", "/", "[::1]", "[", "]", ":99999", ":-1", "~", "~root", "..", "-",
     "?q", "#f", "%zz", "\u2100", "\uff03", " ", "\t", "a" * 40]
)  # fmt: skip


def only_typed(text: str) -> None:
    try:
        uri = parse_git_uri(text)
    except BuildError as err:
        assert err.reason is StatusReason.FETCH_SOURCE_FAILED
        return
    assert uri.raw == text


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=60))
def test_property_arbitrary_text(text: str) -> None:
    only_typed(text)


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(URI_PARTS, max_size=8))
def test_property_made_of_uri_parts(parts: list[str]) -> None:
    only_typed("".join(parts))
