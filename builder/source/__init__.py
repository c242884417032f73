"""Fetch a build's source: git repositories, binary input, and its contextDir.

Everything here raises ``BuildError`` for failures a user can cause
(``FetchSourceFailed``, ``InvalidContextDirectory``) and returns a
``SourceInfo`` from which the image's OpenShift labels and environment follow.
"""

from __future__ import annotations

from builder.source.binary import copy_directory, extract_archive, fetch_binary, place_file
from builder.source.confined import Resolved, mode_inside, read_inside, resolve_inside, write_inside
from builder.source.contextdir import resolve_context_dir
from builder.source.git import fetch_git
from builder.source.gituri import GitURI, Transport, parse_git_uri, redact_url
from builder.source.info import LABEL_PREFIX, SourceInfo, build_env, build_labels
from builder.source.s2iignore import IgnoreResult, apply_s2iignore

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
