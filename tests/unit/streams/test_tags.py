"""Tag history rules (OpenShift's AddTagEventToImageStream, tracking, reference policy)."""

from __future__ import annotations

import pytest

from builder.api import BuildError, TagEvent
from builder.streams.tags import (
    add_tag_event,
    current_pull_spec,
    find_image,
    generation_pending,
    latest_event,
    latest_observed_generation,
    parse_from,
    set_import_condition,
    spec_tag,
    split_tag,
    tag_importable,
    unique_images,
    update_tracking_tags,
)
from tests.unit.streams.helpers import DIGEST_A, DIGEST_B, DIGEST_C, event, stream


@pytest.mark.parametrize(
    ("name", "expected"),
    [("app:latest", ("app", "latest")), ("a-b:v1.2", ("a-b", "v1.2"))],
)
def test_split_tag(name: str, expected: tuple[str, str]) -> None:
    assert split_tag(name) == expected


@pytest.mark.parametrize("name", ["app", ":x", "app:", "a:b:c"])
def test_split_tag_refuses(name: str) -> None:
    with pytest.raises(BuildError, match="must be of the form <stream>:<tag>"):
        split_tag(name)


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("ImageStreamTag", "1.0", ("own", "1.0")),
        ("ImageStreamTag", "other:1.0", ("other", "1.0")),
        ("ImageStreamImage", "sha256:abc", ("own", "sha256:abc")),
        ("ImageStreamImage", "other@sha256:abc", ("other", "sha256:abc")),
    ],
)
def test_parse_from(kind: str, name: str, expected: tuple[str, str]) -> None:
    assert parse_from(kind, name, "own") == expected


@pytest.mark.parametrize(
    ("kind", "name"), [("ImageStreamTag", "a:b:c"), ("ImageStreamImage", "a@b@c")]
)
def test_parse_from_refuses(kind: str, name: str) -> None:
    with pytest.raises(BuildError):
        parse_from(kind, name, "own")


def new(digest: str, generation: int, repo: str = "reg:5000/ns/app") -> TagEvent:
    return TagEvent.model_validate(event(digest, repo=repo, generation=generation))


def test_first_event_creates_the_tag() -> None:
    s = stream()
    assert add_tag_event(s, "latest", new(DIGEST_A, 1))
    head = latest_event(s, "latest")
    assert head is not None and head.image == DIGEST_A


def test_same_image_same_generation_is_no_change() -> None:
    s = stream(status_tags=[{"tag": "latest", "items": [event(DIGEST_A, generation=2)]}])
    assert not add_tag_event(s, "latest", new(DIGEST_A, 2))
    assert len(s.status.tags[0].items or []) == 1


def test_same_image_new_generation_collapses_into_the_head() -> None:
    s = stream(status_tags=[{"tag": "latest", "items": [event(DIGEST_A, generation=2)]}])
    assert add_tag_event(s, "latest", new(DIGEST_A, 5))
    items = s.status.tags[0].items or []
    assert [(i.image, i.generation) for i in items] == [(DIGEST_A, 5)]


def test_same_image_moved_registry_rewrites_the_head() -> None:
    s = stream(status_tags=[{"tag": "latest", "items": [event(DIGEST_A)]}])
    assert add_tag_event(s, "latest", new(DIGEST_A, 1, repo="mirror/app"))
    items = s.status.tags[0].items or []
    assert [i.docker_image_reference for i in items] == [f"mirror/app@{DIGEST_A}"]


def test_new_image_goes_on_top_and_clears_conditions() -> None:
    s = stream(
        status_tags=[
            {
                "tag": "latest",
                "items": [event(DIGEST_A)],
                "conditions": [
                    {"type": "ImportSuccess", "status": "False", "reason": "NotFound",
                     "message": "gone", "generation": 1}
                ],
            }
        ]
    )  # fmt: skip
    assert add_tag_event(s, "latest", new(DIGEST_B, 2))
    named = s.status.tags[0]
    assert [i.image for i in named.items or []] == [DIGEST_B, DIGEST_A]
    assert named.conditions == []


def test_tracking_tags_follow_their_source_in_the_same_stream() -> None:
    s = stream(
        spec_tags=[
            {"name": "latest", "from": {"kind": "ImageStreamTag", "name": "1.0"}},
            {"name": "stable", "from": {"kind": "ImageStreamTag", "name": "app:1.0"}},
            {"name": "elsewhere", "from": {"kind": "ImageStreamTag", "name": "other:1.0"}},
            {"name": "other-ns", "from": {"kind": "ImageStreamTag", "name": "app:1.0",
                                          "namespace": "ci"}},
            {"name": "pinned", "from": {"kind": "ImageStreamImage", "name": "app@" + DIGEST_A}},
        ]
    )  # fmt: skip
    moved_event = new(DIGEST_C, 3)
    add_tag_event(s, "1.0", moved_event)
    assert update_tracking_tags(s, "1.0", moved_event) == ["latest", "stable"]
    for tag in ("latest", "stable"):
        head = latest_event(s, tag)
        assert head is not None and head.image == DIGEST_C
    assert latest_event(s, "elsewhere") is None
    assert latest_event(s, "other-ns") is None


def test_observed_generation_counts_the_import_condition() -> None:
    s = stream(
        status_tags=[
            {
                "tag": "latest",
                "items": [event(DIGEST_A, generation=2)],
                "conditions": [
                    {"type": "ImportSuccess", "status": "False", "reason": "NotFound",
                     "message": "x", "generation": 4}
                ],
            }
        ]
    )  # fmt: skip
    assert latest_observed_generation(s, "latest") == 4
    assert latest_observed_generation(s, "missing") == 0


@pytest.mark.parametrize(
    ("generation", "observed", "pending"),
    [(None, 0, False), (0, 0, False), (3, 2, True), (3, 3, False), (2, 3, False)],
)
def test_generation_pending(generation: int | None, observed: int, pending: bool) -> None:
    tag: dict[str, object] = {"name": "latest", "from": {"kind": "DockerImage", "name": "x/y:1"}}
    if generation is not None:
        tag["generation"] = generation
    items = [event(DIGEST_A, generation=observed)] if observed else []
    s = stream(spec_tags=[tag], status_tags=[{"tag": "latest", "items": items}])
    ref = spec_tag(s, "latest")
    assert ref is not None
    assert generation_pending(s, ref) is pending


@pytest.mark.parametrize(
    ("source", "reference", "importable"),
    [
        ({"kind": "DockerImage", "name": "x/y:1"}, False, True),
        ({"kind": "DockerImage", "name": "x/y:1"}, True, False),
        ({"kind": "ImageStreamTag", "name": "y:1"}, False, False),
        (None, False, False),
    ],
)
def test_tag_importable(source: dict[str, str] | None, reference: bool, importable: bool) -> None:
    tag: dict[str, object] = {"name": "t", "reference": reference}
    if source is not None:
        tag["from"] = source
    ref = spec_tag(stream(spec_tags=[tag]), "t")
    assert ref is not None
    assert tag_importable(ref) is importable


def test_pull_spec_source_and_local_policies() -> None:
    s = stream(
        spec_tags=[
            {"name": "src", "from": {"kind": "DockerImage", "name": "quay.io/x/y:1"}},
            {"name": "local", "from": {"kind": "DockerImage", "name": "quay.io/x/y:1"},
             "referencePolicy": {"type": "Local"}},
        ],
        status_tags=[
            {"tag": "src", "items": [event(DIGEST_A, repo="quay.io/x/y")]},
            {"tag": "local", "items": [event(DIGEST_A, repo="quay.io/x/y")]},
            {"tag": "pushed", "items": [event(DIGEST_B)]},
        ],
        repository="reg:5000/ns/app",
    )  # fmt: skip
    assert current_pull_spec(s, "src") == f"quay.io/x/y@{DIGEST_A}"
    assert current_pull_spec(s, "local") == f"reg:5000/ns/app@{DIGEST_A}"
    assert current_pull_spec(s, "pushed") == f"reg:5000/ns/app@{DIGEST_B}"
    assert current_pull_spec(s, "none") is None


def test_local_policy_falls_back_to_the_source_without_a_repository() -> None:
    s = stream(
        spec_tags=[{"name": "local", "from": {"kind": "DockerImage", "name": "q/y:1"},
                    "referencePolicy": {"type": "Local"}}],
        status_tags=[{"tag": "local", "items": [event(DIGEST_A, repo="q/y")]}],
    )  # fmt: skip
    assert current_pull_spec(s, "local") == f"q/y@{DIGEST_A}"


def test_find_image_by_digest_and_prefix() -> None:
    s = stream(
        status_tags=[
            {"tag": "latest", "items": [event(DIGEST_B), event(DIGEST_A)]},
            {"tag": "old", "items": [event(DIGEST_A)]},
        ]
    )
    assert find_image(s, DIGEST_A).image == DIGEST_A
    assert find_image(s, "bbbb").image == DIGEST_B
    with pytest.raises(BuildError, match="is not in image stream ns/app"):
        find_image(s, DIGEST_C)
    ambiguous = stream(
        status_tags=[
            {"tag": "t", "items": [event("sha256:ab" + "1" * 62), event("sha256:ab" + "2" * 62)]}
        ]
    )
    with pytest.raises(BuildError, match="ambiguous"):
        find_image(ambiguous, "ab")
    assert unique_images(s) == 2


def test_import_condition_is_set_once_and_keeps_history() -> None:
    s = stream(status_tags=[{"tag": "latest", "items": [event(DIGEST_A)]}])
    assert set_import_condition(
        s, "latest", reason="NotFound", message="gone", generation=2, now="2026-01-02T00:00:00Z"
    )
    assert not set_import_condition(
        s, "latest", reason="NotFound", message="gone", generation=2, now="2026-01-03T00:00:00Z"
    )
    named = s.status.tags[0]
    assert [i.image for i in named.items or []] == [DIGEST_A]
    condition = named.conditions[0]
    assert (condition.type, condition.status.value, condition.reason) == (
        "ImportSuccess",
        "False",
        "NotFound",
    )
    # A different failure keeps the time the tag started failing.
    assert set_import_condition(
        s, "latest", reason="Unauthorized", message="no", generation=2, now="2026-01-04T00:00:00Z"
    )
    assert named.conditions[0].last_transition_time == "2026-01-02T00:00:00Z"
