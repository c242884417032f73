"""fetch_git against real repositories on this machine (paths and file:// URLs)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from git import Repo

from builder.api import BuildError, StatusReason
from builder.source import build_env, build_labels, fetch_git

if TYPE_CHECKING:
    from conftest import Checkout, Upstream

pytestmark = pytest.mark.integration


def test_default_branch_is_shallow_with_metadata_and_submodules(
    upstream: Upstream, tmp_path: Path, checkout: type[Checkout], log_lines: list[str]
) -> None:
    dest = tmp_path / "src"
    info = fetch_git(str(upstream.path), "", dest, log=log_lines.append)

    assert info.commit_id == upstream.commits["c4"] == checkout.head(dest)
    assert (info.author_name, info.author_email) == upstream.author
    assert (info.committer_name, info.committer_email) == upstream.committer
    assert info.date == upstream.date_git
    assert info.message == "Add vendored library"
    assert info.ref == ""
    assert info.head_ref == "main"
    assert info.uri == str(upstream.path)
    assert checkout.is_shallow(dest)
    assert checkout.commit_count(dest) == 1
    # Recursive submodules: vendor/lib and, inside it, inner.
    assert (dest / "vendor/lib/lib.txt").read_text() == "lib\n"
    assert (dest / "vendor/lib/inner/inner.txt").read_text() == "inner\n"
    assert (dest / "app/index.txt").read_text() == "v3\n"

    assert log_lines[0] == f'Cloning "{upstream.path}" ...'
    assert any(line.startswith(f"\tCommit:\t{info.commit_id}") for line in log_lines)

    labels = dict(build_labels(info))
    assert labels["io.openshift.build.commit.ref"] == "main"
    assert labels["io.openshift.build.commit.author"] == "Alice Author <alice@example.com>"
    assert build_env(info) == [
        ("OPENSHIFT_BUILD_SOURCE", str(upstream.path)),
        ("OPENSHIFT_BUILD_COMMIT", upstream.commits["c4"]),
    ]


def test_branch_by_name_is_shallow_and_on_a_tracking_branch(
    upstream: Upstream, tmp_path: Path, checkout: type[Checkout]
) -> None:
    dest = tmp_path / "src"
    info = fetch_git(upstream.file_url, "feature", dest)

    assert info.commit_id == upstream.commits["feature"]
    assert info.ref == "feature"
    assert info.head_ref == "feature"
    # OpenShift's %<(80,trunc)%s: 78 columns and "..".
    assert info.message == upstream.feature_subject[:78] + ".."
    assert (dest / "feature.txt").is_file()
    assert checkout.is_shallow(dest)
    assert checkout.commit_count(dest) == 1
    with Repo(dest) as repo:
        assert repo.active_branch.name == "feature"
        assert repo.git.rev_parse("--abbrev-ref", "feature@{upstream}") == "origin/feature"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("v1.0", "c2"), ("light", "c1"), ("refs/tags/v1.0", "c2")],
)
def test_tags_annotated_and_lightweight_are_shallow_and_detached(
    upstream: Upstream, tmp_path: Path, checkout: type[Checkout], ref: str, expected: str
) -> None:
    dest = tmp_path / "src"
    info = fetch_git(upstream.file_url, ref, dest, submodules=True)

    assert info.commit_id == upstream.commits[expected]
    assert info.head_ref == "HEAD"
    assert dict(build_labels(info))["io.openshift.build.commit.ref"] == ref
    assert dict(build_env(info))["OPENSHIFT_BUILD_REFERENCE"] == ref
    assert checkout.is_shallow(dest)
    assert checkout.commit_count(dest) == 1


def test_full_sha_of_unadvertised_commit_is_fetched_shallow_over_protocol_v2(
    upstream: Upstream, tmp_path: Path, checkout: type[Checkout]
) -> None:
    dest = tmp_path / "src"
    sha = upstream.commits["c3"]
    info = fetch_git(upstream.file_url, sha, dest)

    assert info.commit_id == sha == checkout.head(dest)
    assert (dest / "app/index.txt").read_text() == "v3\n"
    assert not (dest / "vendor").exists()
    assert checkout.is_shallow(dest)


def test_short_sha_of_unadvertised_commit_needs_history(
    upstream: Upstream, tmp_path: Path, checkout: type[Checkout], log_lines: list[str]
) -> None:
    dest = tmp_path / "src"
    info = fetch_git(str(upstream.path), upstream.commits["c3"][:8], dest, log=log_lines.append)

    assert info.commit_id == upstream.commits["c3"]
    assert info.ref == upstream.commits["c3"][:8]
    assert not checkout.is_shallow(dest)
    assert any("Fetching branches and tags" in line for line in log_lines)


def test_short_sha_of_a_branch_tip_is_fetched_shallow(
    upstream: Upstream, tmp_path: Path, checkout: type[Checkout]
) -> None:
    dest = tmp_path / "src"
    info = fetch_git(upstream.file_url, upstream.commits["feature"][:10], dest)

    assert info.commit_id == upstream.commits["feature"]
    assert checkout.is_shallow(dest)


def test_submodules_can_be_skipped(upstream: Upstream, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    fetch_git(upstream.file_url, "main", dest, submodules=False)

    assert (dest / ".gitmodules").is_file()
    assert not (dest / "vendor/lib/lib.txt").exists()


def test_context_dir_is_recorded_for_labels(upstream: Upstream, tmp_path: Path) -> None:
    info = fetch_git(upstream.file_url, "main", tmp_path / "src", context_dir="app")

    assert dict(build_labels(info))["io.openshift.build.source-context-dir"] == "app"


def test_missing_ref_names_ref_and_uri_and_leaves_dest_empty(
    upstream: Upstream, tmp_path: Path
) -> None:
    dest = tmp_path / "src"
    with pytest.raises(BuildError) as caught:
        fetch_git(upstream.file_url, "nope", dest)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert caught.value.detail == f"ref 'nope' not found in {upstream.file_url}"
    assert dest.is_dir()
    assert list(dest.iterdir()) == []


def test_unknown_commit_is_a_missing_ref(upstream: Upstream, tmp_path: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(BuildError) as caught:
        fetch_git(str(upstream.path), sha, tmp_path / "src")

    assert caught.value.detail == f"ref '{sha}' not found in {upstream.path}"


def test_nonexistent_path_is_repository_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-repo"
    with pytest.raises(BuildError) as caught:
        fetch_git(str(missing), "main", tmp_path / "src")

    detail = caught.value.detail
    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert detail.startswith(f"cannot fetch ref 'main' from {missing}: repository not found")
    assert "\n" not in detail


def test_unreachable_url_names_uri_and_cause(tmp_path: Path, closed_port: int) -> None:
    port = closed_port
    uri = f"http://127.0.0.1:{port}/app.git"
    with pytest.raises(BuildError) as caught:
        fetch_git(uri, "", tmp_path / "src")

    detail = caught.value.detail
    assert detail.startswith(f"cannot fetch the default branch from {uri}: server unreachable")
    assert str(port) in detail


def test_empty_repository_is_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    Repo.init(empty).close()
    with pytest.raises(BuildError) as caught:
        fetch_git(str(empty), "", tmp_path / "src")

    assert caught.value.detail == f"cannot fetch the default branch from {empty}: " + (
        "the repository is empty"
    )


def test_non_empty_destination_is_refused(upstream: Upstream, tmp_path: Path) -> None:
    dest = tmp_path / "src"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(BuildError, match="destination exists and is not empty"):
        fetch_git(upstream.file_url, "main", dest)

    assert (dest / "keep.txt").read_text() == "mine"


def test_option_like_ref_is_refused_before_git_runs(upstream: Upstream, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="invalid ref"):
        fetch_git(upstream.file_url, "--upload-pack=touch /tmp/pwned", tmp_path / "src")
    assert not (tmp_path / "src").exists()


def test_gitconfig_from_secret_is_included(upstream: Upstream, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / ".gitconfig").write_text(
        f'[url "{upstream.path.parent}/"]\n\tinsteadOf = https://git.example.invalid/\n'
    )
    info = fetch_git(
        "https://git.example.invalid/app", "feature", tmp_path / "src", secret_dir=secret
    )

    assert info.commit_id == upstream.commits["feature"]
    assert info.uri == "https://git.example.invalid/app"


def test_local_checkout_is_not_polluted_by_user_hooks(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    marker = tmp_path / "hook-ran"
    hook = hooks / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks))

    fetch_git(upstream.file_url, "feature", tmp_path / "src")

    assert not marker.exists()


def test_an_enclosing_repository_s_config_does_not_reach_the_fetch(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remote's refs are listed outside the clone (in the fetch's scratch
    directory); a repository around $TMPDIR must not lend that command its
    config, as it cannot lend it to commands run inside the clone."""
    enclosing = tmp_path / "enclosing"
    Repo.init(enclosing)
    with (enclosing / ".git" / "config").open("a") as config:
        config.write(f'[url "{tmp_path}/nowhere/"]\n\tinsteadOf = {upstream.path.parent}/\n')
    monkeypatch.setattr(tempfile, "tempdir", str(enclosing))

    info = fetch_git(str(upstream.path), "feature", tmp_path / "src")

    assert info.commit_id == upstream.commits["feature"]
