"""Turn git's stderr into the one-line cause a user can act on.

git reports the same few problems in many wordings depending on transport
(curl, ssh, local).  The build log keeps git's own line; the cause up front
says which of the problems a user can fix it is: wrong URL, wrong
credentials, unknown host key, untrusted certificate, unreachable server.
``builder.source.gitcmd`` runs git with ``LC_ALL=C``, so matching English text is reliable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_DETAIL = 240

# (summary, patterns) in priority order: the first pattern found anywhere in
# stderr decides the summary; the line it matched becomes the detail.
_CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "TLS certificate verification failed",
        (
            r"SSL certificate problem",
            r"server certificate verification failed",
            r"unable to get local issuer certificate",
            r"self[- ]signed certificate",
            r"SSL: no alternative certificate subject name",
        ),
    ),
    (
        "ssh host key verification failed",
        (
            r"Host key verification failed",
            r"REMOTE HOST IDENTIFICATION HAS CHANGED",
            r"No [A-Za-z0-9-]+ host key is known",
        ),
    ),
    (
        "authentication failed",
        (
            r"Authentication failed",
            r"could not read (Username|Password)",
            r"terminal prompts disabled",
            r"Permission denied \(",
            r"Permission denied, please try again",
            r"returned error: 40[13]",
            r"HTTP Basic: Access denied",
            r"Invalid username or password",
        ),
    ),
    (
        "repository not found",
        (
            r"repository '[^']*' not found",
            r"does not appear to be a git repository",
            r"Repository not found",
            r"returned error: 404",
            r"No such file or directory",
            r"not a git repository",
        ),
    ),
    (
        "host cannot be resolved",
        (
            r"Could not resolve host",
            r"Could not resolve hostname",
            r"Name or service not known",
            r"Temporary failure in name resolution",
        ),
    ),
    (
        "server unreachable",
        (
            r"Connection refused",
            r"Failed to connect",
            r"Could not connect",
            r"Connection timed out",
            r"timed out",
            r"No route to host",
            r"Network is unreachable",
            r"Connection reset",
            r"unable to access",
            r"Could not read from remote repository",
        ),
    ),
    ("transport not allowed", (r"transport '[^']*' not allowed",)),
)

_PREFIX = re.compile(r"^(fatal|error|remote|warning):\s*", re.IGNORECASE)


def _clean(line: str) -> str:
    while True:
        stripped = _PREFIX.sub("", line.strip())
        if stripped == line:
            return stripped
        line = stripped


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def describe(stderr: str) -> str:
    """``"<summary> (<git's line>)"``, or git's last error line if unrecognised."""
    lines = [_clean(line) for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    for summary, patterns in _CAUSES:
        for pattern in patterns:
            regex = re.compile(pattern, re.IGNORECASE)
            for line in lines:
                if regex.search(line):
                    return f"{summary} ({_shorten(line)})"
    if not lines:
        return "git failed without a message"
    return _shorten(lines[-1])


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in ``text`` by ``***``, longest first."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def one_line(text: str) -> str:
    return " ".join(text.split())
