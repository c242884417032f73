"""Which BuildConfig triggers fire: OpenShift's rules and kbuild's two loop guards."""

from __future__ import annotations

from typing import Any

import pytest

from builder.streams.buildtriggers import (
    CONFIG_CHANGE_MESSAGE,
    IMAGE_CHANGE_MESSAGE,
    decide,
    feeds_itself,
    record_images,
    watched_tags,
)
from tests.unit.streams.helpers import build_config

IMAGE_1 = "reg/ns/python@sha256:1"
IMAGE_2 = "reg/ns/python@sha256:2"
CONFIG = {"type": "ConfigChange"}
IMAGE = {"type": "ImageChange", "imageChange": {}}


def latest_of(images: dict[tuple[str, str], str]) -> Any:
    return lambda ns, name: images.get((ns, name))


def no_tracking(_ns: str, _name: str) -> None:
    return None


def causes(decision: Any) -> list[tuple[str, str]]:
    return [
        (c.message, c.image_change_build.image_id if c.image_change_build else "")
        for c in decision.causes
    ]


def test_first_build_folds_config_change_and_image_change() -> None:
    bc = build_config(triggers=[CONFIG, IMAGE])
    decision = decide(bc, latest_of({("ns", "python:3.11"): IMAGE_1}), no_tracking,
                      waiting_input_build=False)  # fmt: skip
    assert causes(decision) == [(CONFIG_CHANGE_MESSAGE, ""), (IMAGE_CHANGE_MESSAGE, IMAGE_1)]
    assert decision.images == {("ns", "python:3.11"): IMAGE_1}


def test_config_change_alone_once() -> None:
    assert decide(build_config(triggers=[CONFIG]), latest_of({}), no_tracking,
                  waiting_input_build=False).fire  # fmt: skip
    assert not decide(build_config(triggers=[CONFIG], last_version=1), latest_of({}),
                      no_tracking, waiting_input_build=False).fire  # fmt: skip


@pytest.mark.parametrize(
    ("last", "latest", "fires"),
    [
        ("", IMAGE_1, True),
        (IMAGE_1, IMAGE_1, False),
        (IMAGE_1, IMAGE_2, True),
        (IMAGE_1, None, False),
    ],
)
def test_image_change_fires_on_a_new_image(last: str, latest: str | None, fires: bool) -> None:
    bc = build_config(
        triggers=[IMAGE],
        last_version=3,
        trigger_status=[{"from": {"namespace": "ns", "name": "python:3.11"},
                         "lastTriggeredImageID": last}],
    )  # fmt: skip
    images = {("ns", "python:3.11"): latest} if latest else {}
    assert decide(bc, latest_of(images), no_tracking, waiting_input_build=False).fire is fires


def test_paused_trigger_never_fires_but_its_image_is_known() -> None:
    bc = build_config(triggers=[{"type": "ImageChange", "imageChange": {"paused": True}}],
                      last_version=1)  # fmt: skip
    decision = decide(bc, latest_of({("ns", "python:3.11"): IMAGE_2}), no_tracking,
                      waiting_input_build=False)  # fmt: skip
    assert not decision.fire
    assert decision.images == {("ns", "python:3.11"): IMAGE_2}


def test_explicit_from_in_another_namespace_and_one_cause_per_tag() -> None:
    other = {"kind": "ImageStreamTag", "name": "base:1", "namespace": "shared"}
    bc = build_config(
        triggers=[IMAGE, {"type": "ImageChange", "imageChange": {"from": other}},
                  {"type": "ImageChange", "imageChange": {"from": other}}],
        last_version=2,
    )  # fmt: skip
    images = {("ns", "python:3.11"): IMAGE_1, ("shared", "base:1"): IMAGE_2}
    decision = decide(bc, latest_of(images), no_tracking, waiting_input_build=False)
    assert causes(decision) == [(IMAGE_CHANGE_MESSAGE, IMAGE_1), (IMAGE_CHANGE_MESSAGE, IMAGE_2)]
    cause = decision.causes[1].image_change_build
    assert cause is not None and cause.from_ref is not None
    assert (cause.from_ref.kind, cause.from_ref.namespace, cause.from_ref.name) == (
        "ImageStreamTag", "shared", "base:1",
    )  # fmt: skip
    assert watched_tags(bc) == [("ns", "python:3.11"), ("shared", "base:1")]


def test_docker_image_inputs_are_not_watched() -> None:
    bc = build_config(triggers=[IMAGE], strategy_from={"kind": "DockerImage", "name": "x/y:1"})
    assert watched_tags(bc) == []
    assert not decide(bc, latest_of({}), no_tracking, waiting_input_build=False).fire


def test_own_output_never_triggers() -> None:
    bc = build_config(
        triggers=[IMAGE], docker=True, output="app:latest",
        strategy_from={"kind": "ImageStreamTag", "name": "app:latest"}, last_version=1,
    )  # fmt: skip
    decision = decide(bc, latest_of({("ns", "app:latest"): IMAGE_2}), no_tracking,
                      waiting_input_build=False)  # fmt: skip
    assert not decision.fire
    assert decision.skipped == {("ns", "app:latest"): "the tag is this BuildConfig's own output"}


def test_own_output_through_a_tracking_tag_never_triggers() -> None:
    bc = build_config(
        triggers=[IMAGE], docker=True, output="app:latest",
        strategy_from={"kind": "ImageStreamTag", "name": "app:stable"}, last_version=1,
    )  # fmt: skip
    tracks = {("ns", "app:stable"): "latest"}
    assert feeds_itself(bc, ("ns", "app:stable"), lambda ns, n: tracks.get((ns, n)))
    loop = {("ns", "app:stable"): "app:stable"}
    assert not feeds_itself(bc, ("ns", "app:stable"), lambda ns, n: loop.get((ns, n)))


def test_a_waiting_build_covers_its_input_trigger_only() -> None:
    other = {"kind": "ImageStreamTag", "name": "base:1"}
    bc = build_config(
        triggers=[IMAGE, {"type": "ImageChange", "imageChange": {"from": other}}], last_version=1
    )
    images = {("ns", "python:3.11"): IMAGE_1, ("ns", "base:1"): IMAGE_2}
    decision = decide(bc, latest_of(images), no_tracking, waiting_input_build=True)
    assert causes(decision) == [(IMAGE_CHANGE_MESSAGE, IMAGE_2)]
    assert decision.skipped == {("ns", "python:3.11"): "a queued build will use this image"}


def test_record_images_keeps_one_entry_per_watched_tag() -> None:
    bc = build_config(
        triggers=[IMAGE],
        trigger_status=[
            {"from": {"namespace": "ns", "name": "python:3.11"}, "lastTriggeredImageID": IMAGE_1},
            {"from": {"namespace": "ns", "name": "gone:1"}, "lastTriggeredImageID": "x"},
        ],
    )
    assert record_images(bc, {("ns", "python:3.11"): IMAGE_2}, "2026-01-01T00:00:00Z")
    states = bc.status.image_change_triggers
    assert [(s.from_.name, s.last_triggered_image_id, s.last_trigger_time) for s in states] == [
        ("python:3.11", IMAGE_2, "2026-01-01T00:00:00Z")
    ]
    assert not record_images(bc, {("ns", "python:3.11"): IMAGE_2}, "2026-01-02T00:00:00Z")


def test_record_images_only_some_tags() -> None:
    other = {"kind": "ImageStreamTag", "name": "base:1"}
    bc = build_config(triggers=[IMAGE, {"type": "ImageChange", "imageChange": {"from": other}}])
    images = {("ns", "python:3.11"): IMAGE_1, ("ns", "base:1"): IMAGE_2}
    assert record_images(bc, images, "2026-01-01T00:00:00Z", only={("ns", "base:1")})
    assert [(s.from_.name, s.last_triggered_image_id) for s in bc.status.image_change_triggers] == [
        ("python:3.11", ""),
        ("base:1", IMAGE_2),
    ]
