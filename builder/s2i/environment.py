"""The ``.s2i/environment`` file: KEY=VALUE lines a repository ships.

s2i skips lines it cannot parse with a warning rather than failing the build;
we do the same but hand the warnings back so the caller can put them in the
build log, where the user will look when a variable seems to be missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class EnvironmentFile:
    entries: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]


def parse_environment(text: str) -> EnvironmentFile:
    entries: list[tuple[str, str]] = []
    warnings: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            warnings.append(f".s2i/environment line {number}: expected KEY=VALUE, got {raw!r}")
            continue
        entries.append((name, value))
    return EnvironmentFile(tuple(entries), tuple(warnings))
