"""Registry notification envelopes to "check these stream tags now"."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.controller.notifications import (
    NotificationError,
    NotificationReceiver,
    parse_envelope,
)
from builder.controller.triggerindex import Index, SourceIndex, scheduled_sources
from tests.unit.streams.helpers import stream

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def envelope(*events: dict[str, object]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def push(repository: str, tag: str | None, media_type: str = MANIFEST) -> dict[str, object]:
    target: dict[str, object] = {"mediaType": media_type, "repository": repository,
                                 "digest": "sha256:1"}  # fmt: skip
    if tag is not None:
        target["tag"] = tag
    return {"action": "push", "target": target, "request": {"host": "10.0.0.1:5000"}}


def test_only_manifest_pushes_by_tag_count() -> None:
    body = envelope(
        push("lib/base", "1"),
        push("lib/base", "2", OCI_INDEX),
        push("lib/base", None),
        push("lib/base", "3", "application/octet-stream"),
        {"action": "pull", "target": {"repository": "lib/base", "tag": "1"}},
        {"action": "push"},
        "garbage",
    )
    assert [(p.repository, p.tag) for p in parse_envelope(body)] == [
        ("lib/base", "1"),
        ("lib/base", "2"),
    ]


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"events": {}}'])
def test_malformed_envelopes(body: bytes) -> None:
    with pytest.raises(NotificationError):
        parse_envelope(body)


def scheduled(name: str, source: str, *, scheduled: bool = True) -> dict[str, object]:
    return {
        "name": name,
        "from": {"kind": "DockerImage", "name": source},
        "importPolicy": {"scheduled": scheduled},
    }


def test_index_maps_repository_tags_to_scheduled_stream_tags() -> None:
    s = stream(
        spec_tags=[
            scheduled("latest", "10.0.0.1:5000/lib/base:1"),
            scheduled("old", "other.example/lib/base:1"),
            scheduled("manual", "10.0.0.1:5000/lib/base:1", scheduled=False),
            scheduled("pinned", "10.0.0.1:5000/lib/base@sha256:" + "a" * 64),
            {"name": "alias", "from": {"kind": "ImageStreamTag", "name": "latest"}},
        ]
    )
    assert scheduled_sources(s) == {
        ("ns", "app", "latest"): ("lib/base", "1"),
        ("ns", "app", "old"): ("lib/base", "1"),
    }
    index = SourceIndex()
    index.update(s)
    assert index.tags_for("lib/base", "1") == {("ns", "app", "latest"), ("ns", "app", "old")}
    s.spec.tags = s.spec.tags[:1]
    index.update(s)
    assert index.tags_for("lib/base", "1") == {("ns", "app", "latest")}
    index.remove("ns", "app")
    assert index.tags_for("lib/base", "1") == set()


def receiver(token: str = "") -> tuple[NotificationReceiver, list[object]]:
    index = SourceIndex()
    index.update(stream(spec_tags=[scheduled("latest", "reg:5000/lib/base:1")]))
    woken: list[object] = []
    return NotificationReceiver(
        index, lambda tag, digest: woken.append((tag, digest)), token
    ), woken


def test_receiver_wakes_the_matching_tags() -> None:
    rx, woken = receiver()
    later = push("lib/base", "1")
    later["target"]["digest"] = "sha256:2"  # type: ignore[index]
    code, _ = rx.handle({}, envelope(push("lib/base", "1"), push("lib/other", "1"), later))
    assert code == 200
    assert woken == [(("ns", "app", "latest"), "sha256:2")]  # the last push of the tag wins


def test_receiver_checks_the_token_and_the_envelope() -> None:
    rx, woken = receiver("s3cret")
    assert rx.handle({}, envelope(push("lib/base", "1")))[0] == 401
    assert rx.handle({"Authorization": "Bearer nope"}, envelope(push("lib/base", "1")))[0] == 401
    assert rx.handle({"Authorization": "Bearer s3cret"}, b"not json")[0] == 400
    assert woken == []
    assert rx.handle({"Authorization": "Bearer s3cret"}, envelope(push("lib/base", "1")))[0] == 200
    assert woken == [(("ns", "app", "latest"), "sha256:1")]


def test_index_put_and_remove() -> None:
    index: Index[str, str] = Index()
    index.put("bc-a", frozenset({"s1", "s2"}))
    index.put("bc-b", frozenset({"s2"}))
    assert index.watchers("s2") == {"bc-a", "bc-b"}
    index.put("bc-a", frozenset({"s1"}))
    assert index.watchers("s2") == {"bc-b"}
    index.remove("bc-b")
    assert index.watchers("s2") == set()
    assert len(index) == 1


# -- hostile deliveries: a 400, never an exception ---------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,  # RecursionError out of json
        b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"events": [' + b"1" * 5000 + b"]}",
        b"\xff\xfe\x00\x00",
    ],
    ids=["deep", "deep-events", "long-integer", "not-utf8"],
)
def test_hostile_envelopes_are_notification_errors(body: bytes) -> None:
    with pytest.raises(NotificationError):
        parse_envelope(body)
    code, _ = NotificationReceiver(SourceIndex(), lambda _tag, _digest: None).handle({}, body)
    assert code == 400


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=300) | st.text(alphabet='[]{}",:\\1a', max_size=300).map(str.encode))
def test_property_arbitrary_bodies(body: bytes) -> None:
    with contextlib.suppress(NotificationError):
        parse_envelope(body)


@settings(max_examples=150, deadline=None)
@given(
    field=st.sampled_from(
        ["events", "action", "target", "mediaType", "repository", "tag", "digest"]
    ),
    junk=JUNK,
)
def test_property_an_envelope_with_one_field_replaced(field: str, junk: object) -> None:
    event = push("lib/base", "1")
    document: dict[str, object] = {"events": [event]}
    if field == "events":
        document["events"] = junk
    elif field in ("action", "target"):
        event[field] = junk
    else:
        event["target"][field] = junk  # type: ignore[index]
    try:
        pushes = parse_envelope(json.dumps(document).encode())
    except NotificationError:
        return
    assert all(isinstance(p.repository, str) and isinstance(p.tag, str) for p in pushes)
