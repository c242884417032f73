"""Scheduled sources past the tags that have none, and removing a stream never indexed.

Found by mutmut over triggerindex.py: a ``continue`` turned ``break`` (every
tag after a skipped one lost its notifications) and a digest check turned
from "or" into "and" passed the unit tier.
"""

from __future__ import annotations

from builder.controller.triggerindex import SourceIndex, scheduled_sources
from tests.unit.controller.test_notifications import scheduled
from tests.unit.streams.helpers import stream


def test_tags_after_skipped_ones_are_still_indexed() -> None:
    s = stream(
        spec_tags=[
            {"name": "alias", "from": {"kind": "ImageStreamTag", "name": "latest"}},
            scheduled("manual", "reg:5000/lib/base:0", scheduled=False),
            scheduled("broken", "Not A Reference!"),
            scheduled("pinned", "reg:5000/lib/base@sha256:" + "a" * 64),
            scheduled("pinned-tag", "reg:5000/lib/base:2@sha256:" + "b" * 64),
            scheduled("latest", "reg:5000/lib/base:1"),
        ]
    )
    assert scheduled_sources(s) == {("ns", "app", "latest"): ("lib/base", "1")}
    index = SourceIndex()
    index.update(s)
    assert index.tags_for("lib/base", "1") == {("ns", "app", "latest")}
    assert index.tags_for("lib/base", "2") == set()


def test_removing_a_stream_never_indexed_is_quiet() -> None:
    index = SourceIndex()
    index.remove("ns", "never-seen")
    assert index.tags_for("lib/base", "1") == set()
