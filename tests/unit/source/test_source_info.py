"""OpenShift's image labels and build environment from a SourceInfo."""

from __future__ import annotations

import pytest

from builder.record import FrozenRecordError, replace
from builder.source import SourceInfo, build_env, build_labels

FULL = SourceInfo(
    uri="https://git.example.com/team/app.git",
    ref="release-1",
    commit_id="3f1c0a9e0d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a",
    author_name="Alice Author",
    author_email="alice@example.com",
    committer_name="Carl Committer",
    committer_email="carl@example.com",
    date="Tue Jan 2 03:04:05 2024 +0100",
    message="Fix the thing",
    context_dir="services/api",
    head_ref="HEAD",
)


def test_all_labels_with_openshift_names_and_author_format() -> None:
    assert dict(build_labels(FULL)) == {
        "io.openshift.build.commit.author": "Alice Author <alice@example.com>",
        "io.openshift.build.commit.date": "Tue Jan 2 03:04:05 2024 +0100",
        "io.openshift.build.commit.id": "3f1c0a9e0d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a",
        "io.openshift.build.commit.message": "Fix the thing",
        "io.openshift.build.commit.ref": "release-1",
        "io.openshift.build.source-context-dir": "services/api",
        "io.openshift.build.source-location": "https://git.example.com/team/app.git",
    }


def test_labels_are_sorted_by_key() -> None:
    keys = [key for key, _ in build_labels(FULL)]
    assert keys == sorted(keys)
    assert len(keys) == 7


def test_context_dir_label_only_when_set() -> None:
    labels = dict(build_labels(replace(FULL, context_dir="")))
    assert "io.openshift.build.source-context-dir" not in labels
    assert len(labels) == 6


def test_requested_ref_wins_over_gits_view_of_head() -> None:
    info = replace(FULL, ref="v1.0", head_ref="HEAD")
    assert dict(build_labels(info))["io.openshift.build.commit.ref"] == "v1.0"


def test_without_a_requested_ref_the_checked_out_branch_is_the_ref() -> None:
    info = replace(FULL, ref="", head_ref="main")
    assert dict(build_labels(info))["io.openshift.build.commit.ref"] == "main"


def test_author_label_needs_an_author_name() -> None:
    info = replace(FULL, author_name="", author_email="x@example.com")
    assert "io.openshift.build.commit.author" not in dict(build_labels(info))


def test_author_with_empty_email_keeps_the_brackets() -> None:
    info = replace(FULL, author_email="")
    assert dict(build_labels(info))["io.openshift.build.commit.author"] == "Alice Author <>"


def test_empty_source_info_has_no_labels() -> None:
    assert build_labels(SourceInfo()) == []


def test_env_in_openshift_order() -> None:
    assert build_env(FULL) == [
        ("OPENSHIFT_BUILD_SOURCE", "https://git.example.com/team/app.git"),
        ("OPENSHIFT_BUILD_REFERENCE", "release-1"),
        ("OPENSHIFT_BUILD_COMMIT", "3f1c0a9e0d7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a"),
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ref": ""}, ["OPENSHIFT_BUILD_SOURCE", "OPENSHIFT_BUILD_COMMIT"]),
        ({"commit_id": ""}, ["OPENSHIFT_BUILD_SOURCE", "OPENSHIFT_BUILD_REFERENCE"]),
        ({"ref": "", "commit_id": ""}, ["OPENSHIFT_BUILD_SOURCE"]),
        # No URI means not a git source (binary input): OpenShift sets none.
        ({"uri": ""}, []),
    ],
)
def test_env_entries_only_when_known(changes: dict[str, str], expected: list[str]) -> None:
    names = [name for name, _ in build_env(replace(FULL, **changes))]
    assert names == expected


def test_source_info_is_frozen() -> None:
    with pytest.raises(FrozenRecordError):
        FULL.ref = "other"  # type: ignore[misc]
