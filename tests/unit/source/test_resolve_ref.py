"""Mapping a requested ref onto what ``git ls-remote --symref`` advertised."""

from __future__ import annotations

import pytest

from builder.source.git import RefKind, RemoteRefs, resolve_ref

MAIN = "1" * 40
DEV = "2" * 40
TAG_OBJECT = "3" * 40
TAGGED = "4" * 40
SAME_NAME_TAG = "5" * 40
PR = "6" * 40
SHARED_PREFIX_A = "abcdef" + "7" * 34
SHARED_PREFIX_B = "abcdef" + "8" * 34

LS_REMOTE = f"""ref: refs/heads/main\tHEAD
{MAIN}\tHEAD
{DEV}\trefs/heads/dev
{MAIN}\trefs/heads/main
{SAME_NAME_TAG}\trefs/heads/both
{SHARED_PREFIX_A}\trefs/heads/a
{SHARED_PREFIX_B}\trefs/heads/b
{PR}\trefs/pull/7/head
{SAME_NAME_TAG}\trefs/tags/both
{TAG_OBJECT}\trefs/tags/v1.0
{TAGGED}\trefs/tags/v1.0^{{}}
"""


@pytest.fixture
def remote() -> RemoteRefs:
    return RemoteRefs.parse(LS_REMOTE)


def test_parse(remote: RemoteRefs) -> None:
    assert remote.head == "refs/heads/main"
    assert remote.refs["refs/tags/v1.0"] == TAG_OBJECT
    assert remote.peeled == {"refs/tags/v1.0": TAGGED}
    assert remote.commit_of("refs/tags/v1.0") == TAGGED
    assert remote.commit_of("refs/heads/dev") == DEV


@pytest.mark.parametrize(
    ("ref", "kind", "name", "commit"),
    [
        ("", RefKind.BRANCH, "refs/heads/main", MAIN),
        ("HEAD", RefKind.BRANCH, "refs/heads/main", MAIN),
        ("dev", RefKind.BRANCH, "refs/heads/dev", DEV),
        ("refs/heads/dev", RefKind.BRANCH, "refs/heads/dev", DEV),
        ("heads/dev", RefKind.BRANCH, "refs/heads/dev", DEV),
        ("v1.0", RefKind.TAG, "refs/tags/v1.0", TAGGED),
        # gitrevisions(7): a tag wins over a branch of the same name.
        ("both", RefKind.TAG, "refs/tags/both", SAME_NAME_TAG),
        ("refs/pull/7/head", RefKind.OTHER, "refs/pull/7/head", PR),
        ("pull/7/head", RefKind.OTHER, "refs/pull/7/head", PR),
        (DEV, RefKind.COMMIT, DEV, DEV),
        (DEV[:7], RefKind.COMMIT, DEV[:7], DEV),
        (TAGGED[:12], RefKind.COMMIT, TAGGED[:12], TAGGED),
        # Not advertised, or ambiguous among tips: the fetch has to find out.
        ("9" * 40, RefKind.COMMIT, "9" * 40, ""),
        ("abcdef", RefKind.COMMIT, "abcdef", ""),
        ("ABCDEF7", RefKind.COMMIT, "ABCDEF7", SHARED_PREFIX_A),
    ],
)
def test_resolve(remote: RemoteRefs, ref: str, kind: RefKind, name: str, commit: str) -> None:
    target = resolve_ref(remote, ref)
    assert target is not None
    assert (target.kind, target.name, target.commit) == (kind, name, commit)


@pytest.mark.parametrize("ref", ["nope", "abc", "feature/x", "refs/heads/nope", "v1"])
def test_unknown_refs(remote: RemoteRefs, ref: str) -> None:
    assert resolve_ref(remote, ref) is None


def test_default_branch_needs_a_symref() -> None:
    remote = RemoteRefs.parse(f"{MAIN}\tHEAD\n{MAIN}\trefs/heads/main\n")
    assert resolve_ref(remote, "") is None
    assert resolve_ref(remote, "main") is not None
