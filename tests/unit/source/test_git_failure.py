"""git's stderr turned into a one-line, actionable cause."""

from __future__ import annotations

import pytest

from builder.source.gitfailure import describe, one_line, redact

# Real git 2.39 messages (LC_ALL=C), one scenario per row.
CASES = [
    (
        "fatal: Authentication failed for 'http://127.0.0.1:8080/app.git/'",
        "authentication failed (Authentication failed for 'http://127.0.0.1:8080/app.git/')",
    ),
    (
        "fatal: could not read Username for 'https://github.com': terminal prompts disabled",
        "authentication failed (could not read Username for 'https://github.com': "
        "terminal prompts disabled)",
    ),
    (
        "git@127.0.0.1: Permission denied (publickey).\r\n"
        "fatal: Could not read from remote repository.\n\n"
        "Please make sure you have the correct access rights\nand the repository exists.",
        "authentication failed (git@127.0.0.1: Permission denied (publickey).)",
    ),
    (
        "Host key verification failed.\nfatal: Could not read from remote repository.",
        "ssh host key verification failed (Host key verification failed.)",
    ),
    (
        "fatal: unable to access 'https://127.0.0.1:1/a.git/': server certificate verification "
        "failed. CAfile: /etc/ssl/certs/ca-certificates.crt CRLfile: none",
        "TLS certificate verification failed (unable to access 'https://127.0.0.1:1/a.git/': "
        "server certificate verification failed. CAfile: /etc/ssl/certs/ca-certificates.crt "
        "CRLfile: none)",
    ),
    (
        "remote: Repository not found.\nfatal: repository 'https://github.com/x/y.git/' not found",
        "repository not found (repository 'https://github.com/x/y.git/' not found)",
    ),
    (
        "fatal: '/tmp/nope' does not appear to be a git repository\n"
        "fatal: Could not read from remote repository.",
        "repository not found ('/tmp/nope' does not appear to be a git repository)",
    ),
    (
        "fatal: unable to access 'https://nohost.invalid/a.git/': Could not resolve host: "
        "nohost.invalid",
        "host cannot be resolved (unable to access 'https://nohost.invalid/a.git/': "
        "Could not resolve host: nohost.invalid)",
    ),
    (
        "ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n"
        "fatal: Could not read from remote repository.",
        "server unreachable (ssh: connect to host 127.0.0.1 port 1: Connection refused)",
    ),
    (
        "fatal: transport 'file' not allowed\nfatal: clone of '/srv/lib' into submodule path "
        "'/w/vendor/lib' failed",
        "transport not allowed (transport 'file' not allowed)",
    ),
    ("error: something unusual happened\nfatal: and then this", "and then this"),
    ("", "git failed without a message"),
]


@pytest.mark.parametrize(("stderr", "expected"), CASES)
def test_describe(stderr: str, expected: str) -> None:
    assert describe(stderr) == expected


def test_long_lines_are_shortened() -> None:
    text = describe("fatal: " + "x" * 1000)
    assert len(text) == 240
    assert text.endswith("...")


def test_redact_longest_first_and_ignores_empty() -> None:
    assert redact("pw pw123 x", ["pw", "pw123", ""]) == "*** *** x"


def test_one_line() -> None:
    assert one_line("a\n  b\r\nc\t d") == "a b c d"
