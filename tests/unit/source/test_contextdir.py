"""contextDir resolution: inside the checkout or InvalidContextDirectory."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.api import BuildError, StatusReason
from builder.source import resolve_context_dir


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout with nested dirs, a file and inward/outward symlinks."""
    root = tmp_path / "checkout"
    (root / "services/api").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "README.md").write_text("hi")
    (root / "link-in").symlink_to("services")
    (root / "link-abs-in").symlink_to(root / "docs")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link-out").symlink_to(outside)
    (root / "link-up").symlink_to("..")
    (root / "link-etc").symlink_to("/etc")
    (root / "services/link-up-up").symlink_to("../..")
    (root / "loop").symlink_to("loop")
    (root / "dangling").symlink_to("does-not-exist")
    return root


@pytest.mark.parametrize(
    ("context_dir", "expected"),
    [
        ("", "."),
        (".", "."),
        ("./", "."),
        ("services", "services"),
        ("services/api", "services/api"),
        ("services/api/", "services/api"),
        ("./services//api", "services/api"),
        ("services/../docs", "docs"),
        ("link-in/api", "services/api"),
        ("link-abs-in", "docs"),
    ],
)
def test_resolves_inside_the_checkout(checkout: Path, context_dir: str, expected: str) -> None:
    assert resolve_context_dir(checkout, context_dir) == (checkout / expected).resolve()


@pytest.mark.parametrize(
    ("context_dir", "message"),
    [
        ("..", "'..' escapes"),
        ("../outside", "'..' escapes"),
        ("services/../../outside", "'..' escapes"),
        ("/etc", "not absolute"),
        ("/services", "not absolute"),
        ("link-out", "through a symbolic link"),
        ("link-up", "through a symbolic link"),
        ("link-etc", "through a symbolic link"),
        ("services/link-up-up", "through a symbolic link"),
        ("nope", "does not exist"),
        ("services/nope", "does not exist"),
        ("dangling", "does not exist"),
        ("README.md", "is not a directory"),
        ("loop", "cannot be resolved"),
        ("bad\x00name", "NUL"),
    ],
)
def test_refuses_with_invalid_context_directory(
    checkout: Path, context_dir: str, message: str
) -> None:
    with pytest.raises(BuildError) as caught:
        resolve_context_dir(checkout, context_dir)

    assert caught.value.reason is StatusReason.INVALID_CONTEXT_DIRECTORY
    assert message in caught.value.detail
    assert repr(context_dir) in caught.value.detail


def test_checkout_given_through_a_symlink_still_works(checkout: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(checkout)
    assert resolve_context_dir(alias, "services") == (checkout / "services").resolve()
