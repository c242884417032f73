"""Just enough Dockerfile parsing to edit FROM/ENV/LABEL the way OpenShift does.

We do not need an AST of every instruction: OpenShift's Docker strategy only
replaces the last FROM, inserts ENV after each FROM and appends ENV and LABEL.
So we split the file into logical instructions (honouring line continuations,
comments inside continuations and the ``escape`` parser directive) and keep
each instruction's original text, which lets untouched lines round-trip
byte-for-byte.  Heredocs (``RUN <<EOF``) are kept as opaque text too.

Lines end at ``\n`` only, as in Docker's parser: ``str.splitlines`` would
also split at form feeds, ``\x1c`` or U+2028, and a RUN line holding one
would be read here as two instructions while buildah sees one.  The only
error raised is ``BuildError`` (``ManageDockerfileFailed``); the parser
loops once per line, so its time is linear in the text.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from builder.api import BuildError, StatusReason

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"<<-?\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")


@dataclass(frozen=True)
class Instruction:
    """One logical instruction; ``keyword`` is upper-case, ``text`` is verbatim."""

    keyword: str
    text: str

    @property
    def arguments(self) -> str:
        return self.text.split(None, 1)[1] if len(self.text.split(None, 1)) > 1 else ""


@dataclass(frozen=True)
class Dockerfile:
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
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            prefix.append(line)
            i += 1
            continue
        body = [line]
        heredocs = _HEREDOC.findall(line)
        # Continuation: the last non-space character is the escape character.
        while line.rstrip("\r\n").rstrip().endswith(escape) and i + 1 < len(lines):
            i += 1
            line = lines[i]
            body.append(line)
            heredocs += _HEREDOC.findall(line)
        for word in heredocs:
            while i + 1 < len(lines):
                i += 1
                body.append(lines[i])
                if lines[i].strip() == word:
                    break
        keyword = stripped.split(None, 1)[0].upper()
        items.append(("".join(prefix), Instruction(keyword, "".join(body))))
        prefix = []
        i += 1
    if prefix:
        items.append(("".join(prefix), None))
    return Dockerfile(escape, tuple(items))


@dataclass(frozen=True)
class FromLine:
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
