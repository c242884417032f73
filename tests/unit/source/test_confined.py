"""builder.source.confined: paths of the tree resolve inside it, or a typed refusal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.api import BuildError, StatusReason
from builder.source.confined import (
    MAX_LINKS,
    mode_inside,
    read_inside,
    resolve_inside,
    write_inside,
)

REASON = StatusReason.MANAGE_DOCKERFILE_FAILED
SECRET = b'{"auths":{"registry.test":{"auth":"c2VjcmV0OnRva2Vu"}}}'


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A checkout next to a pod-like secret, with links of every kind."""
    secret = tmp_path / "var/run/secrets/openshift.io/push/.dockerconfigjson"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(SECRET)
    root = tmp_path / "workspace" / "source"
    (root / "tools/bin").mkdir(parents=True)
    (root / "tools/bin/assemble").write_text("#!/bin/sh\n")
    (root / "env").write_text("A=1\n")
    (root / "sub/deeper").mkdir(parents=True)
    links = {
        "bin": "tools/bin",  # inward, relative
        "abs-in": str(root / "env"),  # inward, absolute
        "sub/up-in": "../env",  # inward through ..
        "sub/deeper/up-up-in": "../../tools",  # inward, two levels
        "chain": "bin",  # a link to a link
        "out-abs": str(secret),
        "out-rel": "../../var/run/secrets/openshift.io/push/.dockerconfigjson",
        "out-pod": "/var/run/secrets/openshift.io/push/.dockerconfigjson",
        "out-dir": str(secret.parent),
        "up": "..",
        "sub/up-up": "../..",
        "dot-dot-in-target": "tools/../../workspace/source/env",  # leaves, then comes back
        "loop": "loop",
        "dangling": "nowhere",
    }
    for path, target in links.items():
        (root / path).symlink_to(target)
    return root


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("env", "env"),
        ("./env", "env"),
        ("tools//bin/assemble", "tools/bin/assemble"),
        ("bin/assemble", "tools/bin/assemble"),
        ("chain/assemble", "tools/bin/assemble"),
        ("abs-in", "env"),
        ("sub/up-in", "env"),
        ("sub/deeper/up-up-in/bin/assemble", "tools/bin/assemble"),
        ("sub/../env", "env"),
        ("bin/../bin/assemble", "tools/bin/assemble"),
        (".", "."),
    ],
)
def test_paths_that_stay_inside_resolve_to_their_real_place(
    tree: Path, relative: str, expected: str
) -> None:
    resolved = resolve_inside(tree, relative, what="the file", reason=REASON)
    assert resolved.exists
    assert resolved.path == (tree / expected).resolve()
    assert resolved.relative == expected


@pytest.mark.parametrize(
    ("relative", "why"),
    [
        ("out-abs", "through a symbolic link ('out-abs')"),
        ("out-rel", "through a symbolic link ('out-rel')"),
        ("out-pod", "through a symbolic link ('out-pod')"),
        ("out-dir/.dockerconfigjson", "through a symbolic link ('out-dir')"),
        ("up/env", "through a symbolic link ('up')"),
        ("sub/up-up/x", "through a symbolic link ('sub/up-up')"),
        # Leaving the tree for a moment is leaving it (openat2's RESOLVE_BENEATH agrees).
        ("dot-dot-in-target", "through a symbolic link ('dot-dot-in-target')"),
        ("..", "'..' escapes"),
        ("sub/../../x", "'..' escapes"),
        ("/etc/passwd", "relative to the source root"),
        ("bad\x00name", "NUL"),
        ("loop", "too many levels of symbolic links"),
        ("env/x", "runs through a file ('env')"),
    ],
)
def test_paths_that_leave_are_refused_with_the_callers_reason(
    tree: Path, relative: str, why: str
) -> None:
    with pytest.raises(BuildError) as caught:
        resolve_inside(tree, relative, what="the file", reason=REASON)
    assert caught.value.reason is REASON
    assert why in caught.value.detail
    assert caught.value.detail.startswith(f"the file {relative!r} ")
    assert "\n" not in caught.value.detail


def test_missing_paths_resolve_but_do_not_exist(tree: Path) -> None:
    assert not resolve_inside(tree, "nope/x", what="f", reason=REASON).exists
    assert not resolve_inside(tree, "dangling", what="f", reason=REASON).exists
    assert read_inside(tree, "dangling", what="f", reason=REASON, limit=10) is None
    assert read_inside(tree, "bin/nope", what="f", reason=REASON, limit=10) is None
    assert mode_inside(tree, "nope", what="f", reason=REASON) is None


@pytest.mark.parametrize("relative", ["out-abs", "out-rel", "out-dir/.dockerconfigjson"])
def test_reading_a_link_out_never_returns_or_names_the_content(tree: Path, relative: str) -> None:
    with pytest.raises(BuildError) as caught:
        read_inside(tree, relative, what="the file", reason=REASON, limit=1 << 20)
    assert "auths" not in str(caught.value)
    assert "c2VjcmV0OnRva2Vu" not in str(caught.value)


def test_read_inside_reads_regular_files_through_inward_links(tree: Path) -> None:
    assert read_inside(tree, "abs-in", what="f", reason=REASON, limit=100) == b"A=1\n"
    assert read_inside(tree, "bin/assemble", what="f", reason=REASON, limit=100) == b"#!/bin/sh\n"


def test_read_inside_refuses_directories_fifos_and_big_files(tree: Path) -> None:
    os.mkfifo(tree / "fifo")
    cases = {
        "tools": "is a directory",
        ".": "is a directory",
        "fifo": "not a regular file",
        "env": "larger than 2 bytes",
    }
    for relative, why in cases.items():
        with pytest.raises(BuildError) as caught:
            read_inside(tree, relative, what="f", reason=REASON, limit=2)
        assert why in caught.value.detail


def test_the_link_limit_is_the_kernels(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "file").write_text("x")
    previous = "file"
    for index in range(MAX_LINKS):
        (root / f"l{index}").symlink_to(previous)
        previous = f"l{index}"
    assert read_inside(root, previous, what="f", reason=REASON, limit=10) == b"x"
    (root / "one-more").symlink_to(previous)
    with pytest.raises(BuildError, match="too many levels"):
        read_inside(root, "one-more", what="f", reason=REASON, limit=10)


def test_a_root_given_through_a_link_works(tree: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(tree)
    assert read_inside(alias, "bin/assemble", what="f", reason=REASON, limit=100) == b"#!/bin/sh\n"


@pytest.mark.parametrize("name", ["out-abs", "out-rel", "out-pod", "dangling", "env"])
def test_write_inside_replaces_the_entry_never_writing_through_it(tree: Path, name: str) -> None:
    secret = tree.parents[1] / "var/run/secrets/openshift.io/push/.dockerconfigjson"
    written = write_inside(tree, name, b"FROM scratch\n", what="the Dockerfile", reason=REASON)
    assert written == tree.resolve() / name
    assert not written.is_symlink()
    assert written.read_bytes() == b"FROM scratch\n"
    assert secret.read_bytes() == SECRET


def test_write_inside_resolves_the_directory_like_a_read(tree: Path) -> None:
    write_inside(tree, "bin/Dockerfile", b"x", what="f", reason=REASON)
    assert (tree / "tools/bin/Dockerfile").read_bytes() == b"x"
    with pytest.raises(BuildError, match="through a symbolic link"):
        write_inside(tree, "out-dir/Dockerfile", b"x", what="f", reason=REASON)
    with pytest.raises(BuildError, match="is a directory"):
        write_inside(tree, "tools", b"x", what="f", reason=REASON)


def test_a_link_swapped_in_after_the_walk_is_refused_by_the_kernel(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O_NOFOLLOW at the open: the walk said "env" is a file, then it became a link."""
    from builder.source import confined  # noqa: PLC0415

    walk = confined.resolve_inside

    def walk_then_swap(*args: object, **kwargs: object) -> confined.Resolved:
        resolved = walk(*args, **kwargs)  # type: ignore[arg-type]
        (tree / "env").unlink()
        (tree / "env").symlink_to(tree / "out-abs")
        return resolved

    monkeypatch.setattr(confined, "resolve_inside", walk_then_swap)
    with pytest.raises(BuildError) as caught:
        read_inside(tree, "env", what="the file", reason=REASON, limit=1 << 20)
    assert "through a symbolic link" in caught.value.detail
    assert "auths" not in str(caught.value)
