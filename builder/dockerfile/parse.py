"""Just enough Dockerfile parsing to edit FROM/ENV/LABEL the way OpenShift does.

We do not need an AST of every instruction: OpenShift's Docker strategy only
replaces the last FROM, inserts ENV after each FROM and appends ENV and LABEL.
So we split the file into logical instructions and keep each instruction's
original text, which lets untouched lines round-trip byte-for-byte.

Where one instruction ends is BuildKit's decision, so BuildKit's own parser
makes it: the ``dockerfile`` package (PyPI, an abi3 wheel wrapping
``github.com/moby/buildkit/frontend/dockerfile/parser``) gives each
instruction's first and last line, and the text between is sliced out of the
file as written.  Continuations, comments inside them, the ``escape``
directive and heredocs (``RUN <<EOF`` ... ``EOF``, ``<<-``, quoted words,
several per line, ``3<<EOF``; and ``<<<word``, which is a here-string and no
heredoc) are therefore read exactly as buildah reads them.  A hand-written
splitter read ``RUN cat <<<hello`` as a heredoc and swallowed the rest of the
file, so ``dockerStrategy.from`` replaced the wrong stage's FROM.

Lines end at ``\n`` only, as in BuildKit's scanner (``str.splitlines`` would
also split at form feeds, ``\x1c`` or U+2028).  The only error raised is
``BuildError`` (``ManageDockerfileFailed``), with BuildKit's message (an
unterminated heredoc, a line over 64 KiB, ...).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import dockerfile as buildkit

from builder.api import BuildError, StatusReason
from builder.record import Record

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
# BuildKit's message for a file holding only comments and blank lines: not an
# error here (rewrite then says there is no FROM).
_NO_INSTRUCTIONS = "file with no instructions"


class Instruction(Record):
    """One logical instruction; ``keyword`` is upper-case, ``text`` is verbatim."""

    keyword: str
    text: str

    @property
    def arguments(self) -> str:
        return self.text.split(None, 1)[1] if len(self.text.split(None, 1)) > 1 else ""


class Dockerfile(Record):
    """Leading text (directives, comments) plus the instructions, each with the
    comment/blank lines that preceded it so nothing is lost on write."""

    escape: str
    items: tuple[tuple[str, Instruction | None], ...]

    def instructions(self) -> list[Instruction]:
        return [ins for _, ins in self.items if ins is not None]

    def write(self) -> str:
        out: list[str] = []
        for prefix, ins in self.items:
            out.append(prefix)
            if ins is not None:
                out.append(ins.text if ins.text.endswith("\n") else ins.text + "\n")
        return "".join(out)


def _lines(text: str) -> list[str]:
    """The lines of ``text``, each with its ``\n`` (the last may have none)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    return lines


def _boundaries(text: str) -> list[tuple[int, int]]:
    """Each instruction's first and last line (1-based, inclusive), by BuildKit."""
    try:
        commands: list[Any] = list(buildkit.parse_string(text))
    except buildkit.GoParseError as exc:
        if str(exc) == _NO_INSTRUCTIONS:
            return []
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED, f"cannot parse the Dockerfile: {exc}"
        ) from exc
    except (UnicodeError, ValueError) as exc:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED, f"cannot parse the Dockerfile: {exc}"
        ) from exc
    return [(int(c.start_line), int(c.end_line)) for c in commands]


def parse(text: str) -> Dockerfile:
    lines = _lines(text)
    escape = "\\"
    # Parser directives only count before the first non-directive line.
    for line in lines:
        match = _DIRECTIVE.match(line.strip())
        if not match:
            break
        if match.group(1).lower() == "escape":
            escape = match.group(2)
            if escape not in ("\\", "`"):
                raise BuildError(
                    StatusReason.MANAGE_DOCKERFILE_FAILED,
                    f"Dockerfile escape directive must be \\ or `, not {escape!r}",
                )
    items: list[tuple[str, Instruction | None]] = []
    prefix: list[str] = []
    i = 0
    for first, last in _boundaries(text):
        if not i < first <= last <= len(lines):
            raise BuildError(
                StatusReason.MANAGE_DOCKERFILE_FAILED,
                f"cannot parse the Dockerfile: an instruction at lines {first}-{last}",
            )
        prefix.extend(lines[i : first - 1])
        body = lines[first - 1 : last]
        # BuildKit skips a byte order mark at the start of the file.
        words = "".join(body).lstrip("\ufeff").split(None, 1)
        keyword = words[0].upper() if words else ""
        items.append(("".join(prefix), Instruction(keyword, "".join(body))))
        prefix = []
        i = last
    prefix.extend(lines[i:])
    if prefix:
        items.append(("".join(prefix), None))
    return Dockerfile(escape, tuple(items))


class FromLine(Record):
    flags: tuple[str, ...]
    image: str
    alias: str | None


def parse_from(instruction: Instruction, escape: str = "\\") -> FromLine:
    joined = instruction.text.replace(escape + "\n", " ").replace(escape + "\r\n", " ")
    try:
        words = shlex.split(joined, comments=False, posix=True)
    except ValueError as exc:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED,
            f"cannot parse {instruction.text.strip()!r}: {exc}",
        ) from exc
    words = words[1:]
    flags = tuple(w for w in words if w.startswith("--"))
    rest = [w for w in words if not w.startswith("--")]
    if len(rest) == 1:
        return FromLine(flags, rest[0], None)
    if len(rest) == 3 and rest[1].lower() == "as":
        return FromLine(flags, rest[0], rest[2])
    raise BuildError(
        StatusReason.MANAGE_DOCKERFILE_FAILED,
        f"cannot parse FROM instruction {instruction.text.strip()!r}",
    )
