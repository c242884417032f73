from __future__ import annotations

import pytest

from builder.s2i import parse_environment


@pytest.mark.parametrize(
    ("text", "entries", "warnings"),
    [
        ("", (), 0),
        ("A=1\nB=two words\n", (("A", "1"), ("B", "two words")), 0),
        ("# comment\n\n  C = x=y\n", (("C", " x=y"),), 0),
        ("EMPTY=\n", (("EMPTY", ""),), 0),
        ("novalue\n1BAD=x\nOK=1\n", (("OK", "1"),), 2),
        ("CRLF=1\r\nNEXT=2\r\n", (("CRLF", "1"), ("NEXT", "2")), 0),
        # Only "\n" ends a line, as in s2i: a value keeps \x0b, \x1c, U+2028.
        ("V=a\x0bb\u2028c\n", (("V", "a\x0bb\u2028c"),), 0),
    ],
)
def test_parse_environment(text: str, entries: tuple[tuple[str, str], ...], warnings: int) -> None:
    parsed = parse_environment(text)
    assert parsed.entries == entries
    assert len(parsed.warnings) == warnings


SECRET = "c2VjcmV0OnRva2Vu"  # noqa: S105 - a stand-in token


@pytest.mark.parametrize(
    ("line", "number"),
    [
        # A secret file read as .s2i/environment: the whole JSON is one bad line.
        (f'{{"auths":{{"registry.test":{{"auth":"{SECRET}"}}}}}}', 1),
        (f"token {SECRET}", 1),
        # Names that fail the env-name rule (builder.api.envnames).
        (f"X-{SECRET}=1", 1),
        (f"{SECRET}.x=1", 1),
        (f"BAD NAME={SECRET}", 1),
        (f"Ünicode={SECRET}", 1),
        (f"\n\n# c\n{SECRET}", 4),
    ],
)
def test_a_bad_line_is_reported_by_file_and_number_never_echoed(line: str, number: int) -> None:
    parsed = parse_environment(line + "\nOK=1\n")
    assert parsed.entries == (("OK", "1"),)
    (warning,) = parsed.warnings
    assert warning.startswith(f".s2i/environment line {number}: ")
    assert SECRET not in warning
    assert "auths" not in warning
