"""Binary input that is a git checkout carries its HEAD commit, as with oc."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from git import Actor, Repo

from builder.source import build_env, build_labels, copy_directory, extract_archive, fetch_binary

if TYPE_CHECKING:
    from conftest import Upstream

pytestmark = pytest.mark.integration


def test_directory_that_is_a_checkout_reports_its_head(upstream: Upstream, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    info = copy_directory(upstream.path, dest)

    assert info.commit_id == upstream.commits["c4"]
    assert (info.author_name, info.author_email) == upstream.author
    assert info.date == upstream.date_git
    assert info.message == "Add vendored library"
    assert info.uri == ""
    assert (dest / "app/index.txt").read_text() == "v3\n"
    assert (dest / ".git").exists()
    # OpenShift sets no OPENSHIFT_BUILD_* source variables for binary builds,
    # but the commit labels follow the commit.
    assert build_env(info) == []
    assert dict(build_labels(info))["io.openshift.build.commit.id"] == upstream.commits["c4"]


def test_subdirectory_of_a_checkout_reports_the_checkout_head(
    upstream: Upstream, tmp_path: Path
) -> None:
    info = fetch_binary(upstream.path / "app", tmp_path / "src")

    assert info.commit_id == upstream.commits["c4"]
    assert (tmp_path / "src" / "index.txt").read_text() == "v3\n"


def test_plain_directory_has_no_commit(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.txt").write_text("a")

    info = copy_directory(plain, tmp_path / "src")

    assert info.commit_id == ""
    assert build_labels(info) == []


def test_archive_of_a_checkout_reports_its_head(upstream: Upstream, tmp_path: Path) -> None:
    archive = tmp_path / "upload.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(upstream.path, arcname=".")

    info = extract_archive(archive, tmp_path / "src")

    assert info.commit_id == upstream.commits["c4"]
    assert (tmp_path / "src" / "README.md").read_text() == "hello\n"


def test_archive_extracted_inside_another_checkout_does_not_borrow_its_head(
    tmp_path: Path,
) -> None:
    outer = tmp_path / "outer"
    with Repo.init(outer) as repo:
        (outer / "x.txt").write_text("x")
        repo.index.add(["x.txt"])
        someone = Actor("Someone", "someone@example.com")
        repo.index.commit("Outer commit", author=someone, committer=someone)
    payload = tmp_path / "payload.txt"
    payload.write_text("payload")
    archive = tmp_path / "upload.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(payload, arcname="payload.txt")

    info = extract_archive(archive, outer / "build")

    assert (outer / "build" / "payload.txt").read_text() == "payload"
    assert info.commit_id == ""
