"""Fetch a build's source: git repositories, binary input, and its contextDir.

Everything here raises ``BuildError`` for failures a user can cause
(``FetchSourceFailed``, ``InvalidContextDirectory``) and returns a
``SourceInfo`` from which the image's OpenShift labels and environment follow.

The names below load their module when first used, not with the package: a
git build must not pay for the archive readers (tarfile, zipfile) of binary
input, nor a binary build for git's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from builder.api.lazy import lazy_export

if TYPE_CHECKING:
    from builder.source.binary import copy_directory, extract_archive, fetch_binary, place_file
    from builder.source.confined import (
        Resolved,
        mode_inside,
        read_inside,
        resolve_inside,
        write_inside,
    )
    from builder.source.contextdir import resolve_context_dir
    from builder.source.git import fetch_git
    from builder.source.gituri import GitURI, Transport, parse_git_uri, redact_url
    from builder.source.info import LABEL_PREFIX, SourceInfo, build_env, build_labels
    from builder.source.s2iignore import IgnoreResult, apply_s2iignore

_WHERE = {
    "copy_directory": "builder.source.binary",
    "extract_archive": "builder.source.binary",
    "fetch_binary": "builder.source.binary",
    "place_file": "builder.source.binary",
    "Resolved": "builder.source.confined",
    "mode_inside": "builder.source.confined",
    "read_inside": "builder.source.confined",
    "resolve_inside": "builder.source.confined",
    "write_inside": "builder.source.confined",
    "resolve_context_dir": "builder.source.contextdir",
    "fetch_git": "builder.source.git",
    "GitURI": "builder.source.gituri",
    "Transport": "builder.source.gituri",
    "parse_git_uri": "builder.source.gituri",
    "redact_url": "builder.source.gituri",
    "LABEL_PREFIX": "builder.source.info",
    "SourceInfo": "builder.source.info",
    "build_env": "builder.source.info",
    "build_labels": "builder.source.info",
    "IgnoreResult": "builder.source.s2iignore",
    "apply_s2iignore": "builder.source.s2iignore",
}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, globals(), _WHERE, name)


__all__ = [
    "LABEL_PREFIX",
    "GitURI",
    "IgnoreResult",
    "Resolved",
    "SourceInfo",
    "Transport",
    "apply_s2iignore",
    "build_env",
    "build_labels",
    "copy_directory",
    "extract_archive",
    "fetch_binary",
    "fetch_git",
    "mode_inside",
    "parse_git_uri",
    "place_file",
    "read_inside",
    "redact_url",
    "resolve_context_dir",
    "resolve_inside",
    "write_inside",
]
