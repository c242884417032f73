"""The ``image.openshift.io/triggers`` annotation: what oc writes reads and writes back the same."""

from __future__ import annotations

import pytest

from builder.api.triggers import (
    ObjectFieldTrigger,
    TriggerAnnotationError,
    TriggerSource,
    dump_triggers,
    parse_triggers,
)

OC_TEXT = (
    '[{"from":{"kind":"ImageStreamTag","name":"ubi:8"},'
    '"fieldPath":"spec.template.spec.containers[?(@.name==\\"myapp\\")].image"}]'
)


@pytest.mark.parametrize(
    "text",
    [
        OC_TEXT,
        # paused is written only when true, and kept.
        '[{"from":{"kind":"ImageStreamTag","name":"ubi:8"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"myapp\\")].image",'
        '"paused":true}]',
        # Namespace and apiVersion after kind and name, as Go orders the struct.
        '[{"from":{"kind":"ImageStreamTag","name":"app:latest","namespace":"shared",'
        '"apiVersion":"image.openshift.io/v1"},'
        '"fieldPath":"spec.jobTemplate.spec.template.spec.containers[0].image"}]',
        # Two triggers, order kept.
        '[{"from":{"kind":"ImageStreamTag","name":"a:1"},'
        '"fieldPath":"spec.template.spec.initContainers[?(@.name==\\"init\\")].image"},'
        '{"from":{"kind":"ImageStreamTag","name":"b:2"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"app\\")].image","paused":true}]',
        "[]",
    ],
)
def test_round_trip_is_identical(text: str) -> None:
    assert dump_triggers(parse_triggers(text)) == text


def test_oc_annotation_parses() -> None:
    assert parse_triggers(OC_TEXT) == [
        ObjectFieldTrigger(
            from_=TriggerSource(kind="ImageStreamTag", name="ubi:8"),
            field_path='spec.template.spec.containers[?(@.name=="myapp")].image',
        )
    ]


def test_paused_is_kept() -> None:
    text = OC_TEXT.replace('.image"}', '.image","paused":true}')
    (trigger,) = parse_triggers(text)
    assert trigger.paused is True
    assert '"paused":true' in dump_triggers([trigger])


@pytest.mark.parametrize(
    ("triggers", "text"),
    [
        # Built in Python: kind and name always written (Go's encoding has no omitempty on them).
        (
            [ObjectFieldTrigger(from_=TriggerSource(name="app:v1"), field_path="p")],
            '[{"from":{"kind":"ImageStreamTag","name":"app:v1"},"fieldPath":"p"}]',
        ),
        (
            [ObjectFieldTrigger(from_=TriggerSource(name="a:1"), field_path="p", paused=False)],
            '[{"from":{"kind":"ImageStreamTag","name":"a:1"},"fieldPath":"p"}]',
        ),
        (
            [
                ObjectFieldTrigger(
                    from_=TriggerSource(name="a:1", namespace="ns"), field_path="p", paused=True
                )
            ],
            '[{"from":{"kind":"ImageStreamTag","name":"a:1","namespace":"ns"},'
            '"fieldPath":"p","paused":true}]',
        ),
    ],
)
def test_dump(triggers: list[ObjectFieldTrigger], text: str) -> None:
    assert dump_triggers(triggers) == text


def test_pretty_printed_annotation_parses() -> None:
    # Other tools (JKube) write the same list indented.
    text = """[ {
      "from" : {
        "kind" : "ImageStreamTag",
        "name" : "app:latest"
      },
      "fieldPath" : "spec.template.spec.containers[?(@.name==\\"app\\")].image"
    } ]"""
    (trigger,) = parse_triggers(text)
    assert trigger.from_.name == "app:latest"
    assert trigger.field_path == 'spec.template.spec.containers[?(@.name=="app")].image'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not JSON"),
        ("[{", "not JSON"),
        ("{}", "must be a JSON list of triggers"),
        ("null", "must be a JSON list of triggers"),
        ('"x"', "must be a JSON list of triggers"),
        ("[null]", "trigger [0]: expected an object, got null"),
        ('[{"from":{"name":"a:1"},"fieldPath":"p"}, 3]', "trigger [1]: expected an object, got 3"),
        ('[{"fieldPath":"p"}]', "trigger [0]: from: required field is missing"),
        ('[{"from":{"name":"a:1"}}]', "trigger [0]: fieldPath: required field is missing"),
        (
            '[{"from":{"name":"a:1"},"fieldPath":"p"},{"from":{"name":1},"fieldPath":"p"}]',
            "trigger [1]: from.name: expected a string, got integer 1",
        ),
        (
            '[{"from":{"name":"a:1"},"fieldPath":"p","paused":"true"}]',
            'trigger [0]: paused: expected true or false, got string "true"',
        ),
        (
            '[{"from":{"name":"a:1"},"fieldPath":"p","pause":true}]',
            "trigger [0]: pause: unknown field (did you mean 'paused'?)",
        ),
    ],
)
def test_parse_errors_name_the_trigger_and_field(text: str, message: str) -> None:
    with pytest.raises(TriggerAnnotationError) as raised:
        parse_triggers(text)
    assert message in str(raised.value)


def test_every_bad_trigger_is_reported() -> None:
    with pytest.raises(TriggerAnnotationError) as raised:
        parse_triggers('[{"fieldPath":"p"},{"from":{"name":"a:1"}}]')
    assert str(raised.value) == (
        "trigger [0]: from: required field is missing; "
        "trigger [1]: fieldPath: required field is missing"
    )
