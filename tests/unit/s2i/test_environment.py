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
    ],
)
def test_parse_environment(text: str, entries: tuple[tuple[str, str], ...], warnings: int) -> None:
    parsed = parse_environment(text)
    assert parsed.entries == entries
    assert len(parsed.warnings) == warnings
