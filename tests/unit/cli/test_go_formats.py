"""The Go formatting kbuild reproduces, checked against what Go itself printed.

``data/go_truth/truth.json`` was produced by Go's own libraries (see its
README), so these tests compare with the real thing, not with a guess.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from builder.cli.common import go_duration, human_duration, short_age, table, tabwrite
from builder.cli.describe import go_time, rfc1123

DATA = Path(__file__).parent / "data" / "go_truth"
TRUTH = json.loads((DATA / "truth.json").read_text())
TEXTS = json.loads((DATA / "texts.json").read_text())


@pytest.mark.parametrize("index", range(len(TEXTS)))
def test_describe_tabwriter_matches_go(index: int) -> None:
    assert tabwrite(TEXTS[index]) == TRUTH["describe"][index]


@pytest.mark.parametrize("index", range(len(TEXTS)))
def test_table_tabwriter_matches_go(index: int) -> None:
    got = tabwrite(TEXTS[index], minwidth=6, tabwidth=4, padding=3, padchar=" ")
    assert got == TRUTH["tables"][index]


@pytest.mark.parametrize(("nanoseconds", "expected"), sorted(TRUTH["durations"].items()))
def test_go_duration(nanoseconds: str, expected: str) -> None:
    assert go_duration(int(nanoseconds)) == expected


@pytest.mark.parametrize(("seconds", "expected"), sorted(TRUTH["human"].items()))
def test_human_duration_is_go_units(seconds: str, expected: str) -> None:
    assert human_duration(int(seconds)) == expected


@pytest.mark.parametrize(("seconds", "expected"), sorted(TRUTH["short"].items()))
def test_short_age_is_apimachinery(seconds: str, expected: str) -> None:
    assert short_age(int(seconds)) == expected


def test_times_as_go_writes_them() -> None:
    moment = datetime(2024, 5, 1, 12, 3, 4, tzinfo=UTC)
    assert rfc1123(moment, UTC) == TRUTH["rfc1123"]
    assert go_time(moment) == TRUTH["timestring"]


def test_table_uppercases_headers_and_leaves_last_column_unpadded() -> None:
    text = table(["Name", "Latest"], [["a", "1"], ["longer-name", "12"]])
    assert text == "NAME          LATEST\na             1\nlonger-name   12\n"


def test_go_duration_of_a_fraction_and_negative() -> None:
    assert go_duration(61_500_000_000) == "1m1.5s"
    assert go_duration(-5_000_000_000) == "-5s"
