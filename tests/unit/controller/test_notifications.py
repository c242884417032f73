"""Registry notification envelopes to "check these stream tags now"."""

from __future__ import annotations

import json

import pytest

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
