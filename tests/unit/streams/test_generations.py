"""Spec tag generations: what OpenShift's image stream strategy does on every update."""

from __future__ import annotations

import json

from builder.api.constants import OBSERVED_TAGS_ANNOTATION
from builder.streams.generations import assign_generations, observed_sources
from tests.unit.streams.helpers import stream

DOCKER = {"kind": "DockerImage", "name": "quay.io/x/y:1"}


def generations(s: object) -> dict[str, int | None]:
    return {t.name: t.generation for t in s.spec.tags}  # type: ignore[attr-defined]


def test_new_tags_get_the_stream_generation_and_are_recorded() -> None:
    s = stream(generation=3, spec_tags=[{"name": "a", "from": DOCKER}, {"name": "plain"}])
    assert assign_generations(s)
    assert generations(s) == {"a": 3, "plain": None}
    assert observed_sources(s) == {"a": "DockerImage/ns/quay.io/x/y:1", "plain": ""}
    # Nothing changed since: nothing to write.
    assert not assign_generations(s)


def test_a_changed_source_gets_the_new_generation() -> None:
    s = stream(generation=3, spec_tags=[{"name": "a", "from": DOCKER}])
    assign_generations(s)
    s.metadata.generation = 5
    s.spec.tags[0].from_.name = "quay.io/x/y:2"  # type: ignore[union-attr]
    assert assign_generations(s)
    assert generations(s) == {"a": 5}


def test_an_unchanged_tag_keeps_its_generation_when_another_changes() -> None:
    s = stream(generation=2, spec_tags=[{"name": "a", "from": DOCKER}])
    assign_generations(s)
    s.metadata.generation = 4
    s.spec.tags.append(s.spec.tags[0].model_copy(update={"name": "b", "generation": None}))
    assert assign_generations(s)
    assert generations(s) == {"a": 2, "b": 4}


def test_generation_zero_asks_for_a_new_one() -> None:
    s = stream(generation=7, spec_tags=[{"name": "a", "from": DOCKER, "generation": 0}])
    s.metadata.annotations = {
        OBSERVED_TAGS_ANNOTATION: json.dumps({"a": "DockerImage/ns/quay.io/x/y:1"})
    }
    assert assign_generations(s)
    assert generations(s) == {"a": 7}


def test_namespace_defaults_count_as_the_same_source() -> None:
    s = stream(
        generation=2,
        spec_tags=[{"name": "a", "from": {"kind": "ImageStreamTag", "name": "b:1"}}],
    )
    assign_generations(s)
    s.metadata.generation = 3
    s.spec.tags[0].from_.namespace = "ns"  # type: ignore[union-attr]
    assert not assign_generations(s)
    assert generations(s) == {"a": 2}


def test_removed_tags_leave_the_record_and_a_broken_record_is_rebuilt() -> None:
    s = stream(generation=2, spec_tags=[{"name": "a", "from": DOCKER}])
    assign_generations(s)
    s.spec.tags = []
    assert assign_generations(s)
    assert observed_sources(s) == {}
    s.metadata.annotations[OBSERVED_TAGS_ANNOTATION] = "not json"
    assert observed_sources(s) == {}


def test_a_deeply_nested_record_is_a_broken_record_not_a_recursion_error() -> None:
    # The annotation is on the tenant's stream: any text must read as "no record".
    s = stream(annotations={OBSERVED_TAGS_ANNOTATION: "[" * 1024})
    assert observed_sources(s) == {}
    s.metadata.annotations[OBSERVED_TAGS_ANNOTATION] = '{"a": ' + "[" * 1024 + "}"
    assert observed_sources(s) == {}
