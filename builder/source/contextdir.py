"""Resolve a build's ``contextDir`` inside the fetched source, and only inside.

The context directory becomes the build context handed to buildah, so a
path that climbs out of the checkout (``..``, an absolute path, or a symlink
committed to the repository pointing at ``/``) would let a repository author
feed the builder's own files (the pod's mounted secrets) into an image.
OpenShift cleans the path lexically; we resolve it with
``builder.source.confined`` like every other path of the tree, and refuse
absolute paths, which OpenShift silently re-roots.
"""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.source.confined import resolve_inside


def _invalid(context_dir: str, why: str) -> BuildError:
    return BuildError(StatusReason.INVALID_CONTEXT_DIRECTORY, f"contextDir {context_dir!r} {why}")


def resolve_context_dir(checkout: Path, context_dir: str) -> Path:
    """The real path of ``checkout/context_dir``, proven to lie inside ``checkout``."""
    if "\x00" in context_dir:
        raise _invalid(context_dir, "contains a NUL character")
    if context_dir.startswith(("/", "\\")):
        raise _invalid(context_dir, "must be a path relative to the source root, not absolute")
    cleaned = posixpath.normpath(context_dir) if context_dir else "."
    if cleaned == ".." or cleaned.startswith("../"):
        raise _invalid(context_dir, "points outside the source ('..' escapes the source root)")
    resolved = resolve_inside(
        checkout, context_dir, what="contextDir", reason=StatusReason.INVALID_CONTEXT_DIRECTORY
    )
    if not resolved.exists:
        raise _invalid(context_dir, "does not exist in the source")
    if not stat.S_ISDIR(os.lstat(resolved.path).st_mode):
        raise _invalid(context_dir, "is not a directory")
    return resolved.path
