"""How the CLI talks to people: log lines to stderr, results to stdout.

Keeping results (a digest, a name) alone on stdout lets scripts capture them
with ``$(kbuild ...)`` while the build log stays visible on the terminal.
"""

from __future__ import annotations

import sys

from builder.api import BuildError


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def result(line: str) -> None:
    print(line, flush=True)


def fail(err: BuildError | str) -> int:
    """Print the one-line reason users asked for and return the exit status."""
    text = str(err).splitlines()[0] if str(err) else "unknown error"
    print(f"error: {text}", file=sys.stderr, flush=True)
    return 1
