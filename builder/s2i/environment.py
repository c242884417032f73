"""The ``.s2i/environment`` file: KEY=VALUE lines a repository ships.

s2i skips lines it cannot parse rather than failing the build; we do the
same but hand back a warning per skipped line so the caller can put it in
the build log, where the user will look when a variable seems to be missing.

A warning names the file and the line number, never the line: the file is
committer content, and a line that does not parse may be anything, a
credential included (a file symlinked to a mounted secret is refused before
it is read, see ``builder.source.confined``, but a pasted token is not).
Names follow the one rule of ``builder.api.envnames``, shared with the
Docker strategy and the BuildConfig's env, since they end up in an ``ENV``
line of the S2I Dockerfile.
"""

from __future__ import annotations

from builder.api import ENV_NAME_RULE, is_env_name
from builder.record import Record

FILE = ".s2i/environment"


class EnvironmentFile(Record):
    entries: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]


def parse_environment(text: str) -> EnvironmentFile:
    entries: list[tuple[str, str]] = []
    warnings: list[str] = []
    # "\n" only, as s2i's line scanner: splitlines() would also break at
    # \x0b, \x1c, U+2028, ... inside a value.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep:
            warnings.append(f"{FILE} line {number}: not a KEY=VALUE line; skipped")
            continue
        if not is_env_name(name):
            warnings.append(
                f"{FILE} line {number}: the name is not a valid environment variable name "
                f"({ENV_NAME_RULE}); skipped"
            )
            continue
        entries.append((name, value))
    return EnvironmentFile(tuple(entries), tuple(warnings))
