"""``.s2iignore``: leave out of an S2I build what the repository lists, as s2i does.

source-to-image (``pkg/ignore``) reads ``.s2iignore`` at the root of the
source (after ``contextDir``), one pattern a line, and deletes what the
patterns match from the upload before the image is built.  Its rules, kept
here:

- a line is trimmed of spaces (a trailing ``\\r`` goes with the line end);
  a line starting with ``#`` is a comment;
- a pattern is Go's ``filepath.Glob`` syntax relative to the source root
  (``*`` and ``?`` never match ``/``, ``[a-z]``, ``[^a-z]``, ``\\`` escapes),
  cleaned as ``filepath.Join`` cleans it (``./a``, ``/a`` and ``a/`` are
  ``a``); it is not recursive, as ``.dockerignore`` is not: ``*.log`` matches
  at the root only, ``*/*.log`` one level down;
- whatever matches, file or directory (a directory with all it holds), is
  removed; a symbolic link is removed as a link;
- ``!pattern`` keeps what the lines *above* it matched and it matches; a
  later line can match it again (``LICENSE.*``, ``!LICENSE.md``, ``*.md``
  removes ``LICENSE.md``), and an exclusion before any match keeps nothing.

Where kbuild differs, it is to stay inside the tree or to say what it skips:

- matching walks the upload with ``builder.source.confined``: a link inside
  the tree is followed as Go's Glob follows it; nothing is matched, listed or
  removed through a link that leads out of the tree (s2i's RemoveAll would
  delete files of the build host there), and a pattern whose ``..`` climbs
  out of the source matches nothing;
- a blank line is nothing (s2i globs it as the source root itself and
  deletes the whole upload), and a pattern that names the root (``.``,
  ``/``) is skipped with a warning;
- a malformed pattern (``[a``, a trailing ``\\``) is skipped with a warning
  naming its line number (s2i logs it at verbosity 4 only);
- the work is bounded: at most ``MAX_IGNORE_BYTES`` of file and
  ``MAX_VISITS`` directory entries examined, past which the build fails
  (``ManageDockerfileFailed``) instead of stalling.

Warnings name the line number, never the line (committer content).
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.record import Record
from builder.source.confined import read_inside, resolve_inside

FILE = ".s2iignore"
MAX_IGNORE_BYTES = 1024 * 1024
MAX_VISITS = 1_000_000
_META = frozenset("*?[\\")
_REASON = StatusReason.MANAGE_DOCKERFILE_FAILED


class PatternError(ValueError):
    """A pattern Go's ``filepath.Match`` would refuse (``ErrBadPattern``)."""


class IgnoreResult(Record):
    # Paths removed from the upload, relative to its root, sorted.
    removed: tuple[str, ...]
    warnings: tuple[str, ...]


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern):
        raise PatternError("has an unclosed character class")
    char = pattern[i]
    if char == "\\":
        if i + 1 >= len(pattern):
            raise PatternError("ends with an unfinished escape")
        return pattern[i + 1], i + 2
    if char in "-]":
        raise PatternError("has a character class Go's filepath.Match refuses")
    return char, i + 1


def _class(pattern: str, i: int) -> tuple[str, int]:
    """The regex of the class starting after ``[`` at ``i``, and where it ends."""
    negate = i < len(pattern) and pattern[i] == "^"
    i += negate
    items: list[str] = []
    while True:
        if i >= len(pattern):
            raise PatternError("has an unclosed character class")
        if pattern[i] == "]" and items:
            return ("[^" if negate else "[") + "".join(items) + "]", i + 1
        low, i = _class_char(pattern, i)
        if i < len(pattern) and pattern[i] == "-":
            high, i = _class_char(pattern, i + 1)
            if low > high:
                raise PatternError("has a character range that runs backwards")
            items.append(f"{re.escape(low)}-{re.escape(high)}")
        else:
            items.append(re.escape(low))


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Go's ``filepath.Match`` syntax as a regex matching a whole (relative) path."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "\\":
            if i + 1 >= len(pattern):
                raise PatternError("ends with an unfinished escape")
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif char == "[":
            regex, i = _class(pattern, i + 1)
            out.append(regex)
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def _clean(spec: str) -> str:
    """The pattern as ``filepath.Join(root, spec)`` leaves it, relative to the root."""
    rest = spec.lstrip("/")
    return posixpath.normpath(rest) if rest else "."


class _Tree(Record, frozen=False):
    """The upload being matched, walked only through ``confined``."""

    root: Path
    visits: int = 0

    def count(self, entries: int) -> None:
        self.visits += entries
        if self.visits > MAX_VISITS:
            raise BuildError(
                _REASON,
                f"{FILE}: matching its patterns examined more than {MAX_VISITS} entries",
            )

    def directory(self, relative: str) -> Path | None:
        """The real directory ``relative`` leads to inside the tree, if it is one."""
        try:
            resolved = resolve_inside(self.root, relative or ".", what=FILE, reason=_REASON)
        except BuildError:
            return None  # through a link out, or through a file: nothing beneath
        if not resolved.exists or not stat.S_ISDIR(os.lstat(resolved.path).st_mode):
            return None
        return resolved.path

    def entry(self, relative: str) -> Path | None:
        """Where the entry ``relative`` is (its last component not followed), if it exists."""
        head, _, name = relative.rpartition("/")
        parent = self.directory(head)
        if parent is None:
            return None
        path = parent / name
        return path if os.path.lexists(path) else None

    def expand(self, pattern: str) -> list[str]:
        """What ``pattern`` matches, as Go's Glob would list it below the root."""
        matched = [""]
        parts = pattern.split("/")
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            found: list[str] = []
            for prefix in matched:
                found.extend(self._step(prefix, part))
            matched = found if last else [p for p in found if self.directory(p) is not None]
        return matched

    def _step(self, prefix: str, part: str) -> list[str]:
        candidate = posixpath.join(prefix, part) if prefix else part
        if not _META.intersection(part):
            self.count(1)
            return [candidate] if self.entry(candidate) is not None else []
        directory = self.directory(prefix)
        if directory is None:
            return []
        names = sorted(entry.name for entry in directory.iterdir())
        self.count(len(names))
        regex = compile_pattern(part)
        return [posixpath.join(prefix, n) if prefix else n for n in names if regex.fullmatch(n)]

    def remove(self, relative: str) -> bool:
        path = self.entry(relative)
        if path is None:
            return False  # already gone with a directory removed before it
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path)
        else:
            path.unlink()
        return True


def _lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        spec = raw.removesuffix("\r").strip(" ")
        if spec and not spec.startswith("#"):
            lines.append((number, spec))
    return lines


def select(tree: Path, text: str) -> tuple[list[str], list[str]]:
    """The paths ``text``'s patterns remove from ``tree`` (not yet removed), and warnings."""
    walk = _Tree(Path(tree))
    selected: dict[str, None] = {}
    warnings: list[str] = []
    for number, spec in _lines(text):
        keep = spec.startswith("!")
        cleaned = _clean(spec[1:] if keep else spec)
        try:
            compile_pattern(cleaned)
        except PatternError as err:
            warnings.append(f"{FILE} line {number}: the pattern {err}; skipped")
            continue
        if keep:
            regex = compile_pattern(cleaned)
            for path in [p for p in selected if regex.fullmatch(p)]:
                del selected[path]
            continue
        if cleaned == ".":
            warnings.append(f"{FILE} line {number}: the pattern names the whole source; skipped")
            continue
        if cleaned == ".." or cleaned.startswith("../"):
            warnings.append(f"{FILE} line {number}: the pattern points outside the source; skipped")
            continue
        for path in walk.expand(cleaned):
            selected[path] = None
    return list(selected), warnings


def apply_s2iignore(tree: Path | str) -> IgnoreResult:
    """Remove from ``tree`` (the S2I upload, a copy of the source) what its ``.s2iignore`` lists.

    The file itself is read through ``read_inside``: one linked out of the
    tree is refused (``ManageDockerfileFailed``), like every file a build
    reads from the source.
    """
    data = read_inside(tree, FILE, what="the ignore file", reason=_REASON, limit=MAX_IGNORE_BYTES)
    if data is None:
        return IgnoreResult((), ())
    # surrogateescape: a pattern of non-UTF-8 bytes matches the same bytes in
    # a name (os.listdir decodes names the same way), as Go compares bytes.
    selected, warnings = select(Path(tree), data.decode("utf-8", errors="surrogateescape"))
    walk = _Tree(Path(tree))
    removed = [path for path in selected if walk.remove(path)]
    return IgnoreResult(tuple(sorted(removed)), tuple(warnings))


__all__ = ["FILE", "MAX_IGNORE_BYTES", "IgnoreResult", "PatternError", "apply_s2iignore"]
