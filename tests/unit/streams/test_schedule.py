"""Scheduled import intervals: the default, annotations, and the floor."""

from __future__ import annotations

import pytest

from builder.api.constants import IMPORT_INTERVAL_ANNOTATION
from builder.streams.schedule import parse_interval, tag_interval
from builder.streams.tags import spec_tag
from tests.unit.streams.helpers import stream


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("5m", 300.0), ("1h", 3600.0), ("1500ms", 1.5), (" 2m ", 120.0)],
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5d", "-1s", "0", "1m30s"])
def test_parse_interval_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_interval(text)


def interval(stream_annotation: str | None, tag_annotation: str | None) -> tuple[float, str]:
    tag: dict[str, object] = {"name": "t", "from": {"kind": "DockerImage", "name": "x/y:1"}}
    if tag_annotation is not None:
        tag["annotations"] = {IMPORT_INTERVAL_ANNOTATION: tag_annotation}
    s = stream(
        spec_tags=[tag],
        annotations={IMPORT_INTERVAL_ANNOTATION: stream_annotation} if stream_annotation else None,
    )
    ref = spec_tag(s, "t")
    assert ref is not None
    return tag_interval(s, ref, default=900.0, minimum=10.0)


def test_default_stream_and_tag_annotations() -> None:
    assert interval(None, None) == (900.0, "")
    assert interval("2m", None) == (120.0, "")
    assert interval("2m", "30s") == (30.0, "")


def test_nothing_goes_below_the_minimum() -> None:
    assert interval("1s", None) == (10.0, "")


def test_an_unreadable_annotation_falls_back_and_says_why() -> None:
    seconds, problem = interval("often", None)
    assert seconds == 900.0
    assert problem.startswith(f"{IMPORT_INTERVAL_ANNOTATION}: not a duration")
