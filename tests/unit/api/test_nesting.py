"""``load_json``: untrusted JSON decoded only when shallow, and only ``ValueError`` raised."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api.nesting import MAX_DEPTH, NestingError, json_depth_exceeds, load_json


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        (nested(MAX_DEPTH), False),
        (nested(MAX_DEPTH + 1), True),
        ('{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH, False),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), True),
        # Brackets inside strings are text, escaped quotes do not end a string.
        ('["' + "[" * 5000 + '"]', False),
        ('["\\"' + "[" * 5000 + '"]', False),
        # Closing brackets before opening ones never make the depth negative.
        ("]" * 500 + nested(MAX_DEPTH + 1), True),
        # Unclosed: still counted (json then reports the syntax error).
        ("[" * (MAX_DEPTH + 1), True),
        ('"' + "[" * 5000, False),
    ],
)
def test_depth(text: str, too_deep: bool) -> None:
    assert json_depth_exceeds(text) is too_deep


def test_a_deep_document_is_refused_before_decoding() -> None:
    # The report: 100 000 brackets ended in RecursionError from json itself.
    with pytest.raises(NestingError, match="more than 100 levels"):
        load_json("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe\x00", b'{"a":', "1" * 5000, b"", "\ud800", b"\xef\xbb\xbf[]"],
)
def test_only_value_errors(data: str | bytes) -> None:
    with contextlib.suppress(ValueError):
        load_json(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=150, deadline=None)
@given(value=JSON, limit=st.integers(min_value=0, max_value=8))
def test_property_depth_matches_the_decoded_value(value: Any, limit: int) -> None:
    text = json.dumps(value)
    assert json_depth_exceeds(text, limit) is (depth_of(value) > limit)
    if depth_of(value) <= limit:
        assert load_json(text, limit=limit) == value


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300) | st.text(alphabet='[]{}"\\,:1a ', max_size=300))
def test_property_arbitrary_input_raises_only_value_error(data: str | bytes) -> None:
    with contextlib.suppress(ValueError):
        load_json(data, limit=3)
