"""The trigger annotation: any text a tenant writes gives triggers or ``TriggerAnnotationError``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api.triggers import (
    MAX_PROBLEMS,
    MAX_TRIGGERS,
    TriggerAnnotationError,
    dump_triggers,
    parse_triggers,
)

PATH = 'spec.template.spec.containers[?(@.name=="app")].image'
ONE = {"from": {"kind": "ImageStreamTag", "name": "app:latest"}, "fieldPath": PATH}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The report: 1 KiB of brackets raised RecursionError in the resync thread.
        ("[" * 1024, "nested more than 100 levels deep"),
        ("[" * 1024 + "]" * 1024, "nested more than 100 levels deep"),
        (json.dumps([{**ONE, "from": {"kind": "ImageStreamTag", "name": "a:b", "x": [[[[]]]]}}]),
         "unknown field"),
        (json.dumps([ONE] * (MAX_TRIGGERS + 1)), f"more than the {MAX_TRIGGERS} accepted"),
        ("[" + "1" * 5000 + "]", "not JSON"),
    ],
)  # fmt: skip
def test_hostile_annotations(text: str, expected: str) -> None:
    with pytest.raises(TriggerAnnotationError, match=expected):
        parse_triggers(text)


def test_the_message_stays_short() -> None:
    text = json.dumps([["x" * 1000]] * MAX_TRIGGERS)
    with pytest.raises(TriggerAnnotationError) as caught:
        parse_triggers(text)
    message = str(caught.value)
    assert message.count("trigger [") == MAX_PROBLEMS
    assert f"and {MAX_TRIGGERS - MAX_PROBLEMS} more problems" in message
    assert len(message) < 2000


PROPERTY = settings(max_examples=150, deadline=None)

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


def only_typed(text: str) -> None:
    try:
        triggers = parse_triggers(text)
    except TriggerAnnotationError:
        return
    assert parse_triggers(dump_triggers(triggers)) == triggers


@PROPERTY
@given(text=st.text(max_size=300) | st.text(alphabet='[]{}",:\\1a', max_size=300))
def test_property_arbitrary_text(text: str) -> None:
    only_typed(text)


@PROPERTY
@given(
    field=st.sampled_from(
        ["from", "fieldPath", "paused", "kind", "name", "namespace", "apiVersion", "extra"]
    ),
    junk=JUNK,
    count=st.integers(min_value=0, max_value=3),
)  # fmt: skip
def test_property_a_trigger_with_one_field_replaced(field: str, junk: Any, count: int) -> None:
    trigger: dict[str, Any] = json.loads(json.dumps(ONE))
    if field in ("kind", "name", "namespace", "apiVersion"):
        trigger["from"][field] = junk
    else:
        trigger[field] = junk
    only_typed(json.dumps([ONE] * count + [trigger]))
