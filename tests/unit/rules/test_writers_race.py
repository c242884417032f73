"""Each read-modify-write under a rival writer: nobody's write is lost, the limit is typed.

One row per caller that used to carry its own retry loop; the rival writes
the same object between our read and our write (``racing.race``), as another
replica, the controller or a user's ``kubectl edit`` would.
"""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import (
    Build,
    BuildConfig,
    BuildError,
    BuildPhase,
    ImageStream,
    StatusReason,
    parse_as,
)
from builder.api.image import NamedTagEventList, TagEvent
from builder.cli.cancelbuild import request_cancel
from builder.cli.common import CliError
from builder.cli.streams_common import write_stream, write_stream_status
from builder.controller.config import ControllerConfig
from builder.controller.imagestreams import record_tag_event
from builder.rules import retry
from builder.rules.instantiate import BuildOptions, instantiate, record_input_image
from tests.unit.controller.tenancy_fake import FakeKube
from tests.unit.rules.racing import race

NS = "dev"
REGISTRY = "registry.example:5000"
CONFIG = ControllerConfig(registry=REGISTRY, build_pod_image=f"{REGISTRY}/kbuild/buildpod:1")


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry.time, "sleep", lambda _s: None)


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}".rjust(64, "0")


def build_config(**status: Any) -> BuildConfig:
    return parse_as(
        BuildConfig,
        {
            "metadata": {"name": "app", "namespace": NS},
            "spec": {
                "strategy": {
                    "type": "Docker",
                    "dockerStrategy": {"from": {"kind": "ImageStreamTag", "name": "base:1"}},
                },
                "triggers": [{"type": "ImageChange", "imageChange": {}}],
            },
            "status": {"lastVersion": 0, **status},
        },
    )


def a_build(phase: str = "New") -> Build:
    return parse_as(
        Build,
        {
            "metadata": {"name": "app-1", "namespace": NS},
            "spec": {"strategy": {"type": "Docker", "dockerStrategy": {}}},
            "status": {"phase": phase},
        },
    )


def stream(tags: dict[str, int] | None = None) -> ImageStream:
    s = parse_as(ImageStream, {"metadata": {"name": "base", "namespace": NS}, "spec": {}})
    s.status.tags = [
        NamedTagEventList(
            tag=t,
            items=[
                TagEvent(
                    created="2026-01-01T00:00:00Z",
                    docker_image_reference=f"r/base@{digest(n)}",
                    image=digest(n),
                    generation=1,
                )
            ],
        )
        for t, n in (tags or {}).items()
    ]
    return s


# -- instantiate: lastVersion is the Build's number ---------------------------------


@pytest.mark.parametrize("rivals", [0, 1, 4])
def test_instantiate_counts_its_build_past_racing_writers(rivals: int) -> None:
    kube = FakeKube()
    kube.build_configs.create(build_config())

    def rival(bc: BuildConfig) -> None:
        bc.metadata.annotations = {**(bc.metadata.annotations or {}), f"r{rivals}": "yes"}

    race(kube.build_configs, "replace_status", rival, rivals)
    build = instantiate(kube, NS, "app", BuildOptions())  # type: ignore[arg-type]
    stored = kube.build_configs.objects[(NS, "app")]
    assert build.metadata.name == "app-1"
    assert stored.status.last_version == 1
    assert bool(stored.metadata.annotations) is (rivals > 0)


def test_instantiate_burns_a_number_whose_build_exists() -> None:
    kube = FakeKube()
    kube.build_configs.create(build_config())
    kube.builds.create(a_build())  # app-1, made by hand
    build = instantiate(kube, NS, "app", BuildOptions())  # type: ignore[arg-type]
    assert build.metadata.name == "app-2"
    assert kube.build_configs.objects[(NS, "app")].status.last_version == 2


def test_instantiate_gives_up_with_a_typed_conflict() -> None:
    """The Build exists, lastVersion could not count it: the next instantiation adopts it."""
    kube = FakeKube()
    kube.build_configs.create(build_config())
    race(kube.build_configs, "replace_status", lambda _bc: None, retry.MAX_ATTEMPTS)
    with pytest.raises(retry.TooManyConflicts, match="BuildConfig dev/app kept changing"):
        instantiate(kube, NS, "app", BuildOptions())  # type: ignore[arg-type]
    assert list(kube.builds.objects) == [(NS, "app-1")]
    assert kube.build_configs.objects[(NS, "app")].status.last_version == 0


def test_record_input_image_keeps_the_rivals_number() -> None:
    kube = FakeKube()
    kube.build_configs.create(build_config())

    def start_build(bc: BuildConfig) -> None:
        bc.status.last_version = 7

    race(kube.build_configs, "replace_status", start_build, 2)
    record_input_image(kube, NS, "app", (NS, "base:1"), f"r/base@{digest(1)}")  # type: ignore[arg-type]
    stored = kube.build_configs.objects[(NS, "app")].status
    assert stored.last_version == 7
    assert [t.last_triggered_image_id for t in stored.image_change_triggers] == [
        f"r/base@{digest(1)}"
    ]


# -- the output tag moves once, beside the rival's moves ------------------------------


def test_record_tag_event_keeps_a_racing_tag_move() -> None:
    kube = FakeKube()
    kube.image_streams.create(stream({"other": 1}))

    def other_build(s: ImageStream) -> None:
        s.status.tags[0].items.insert(0, s.status.tags[0].items[0].model_copy(
            update={"image": digest(2)}
        ))  # fmt: skip

    race(kube.image_streams, "replace_status", other_build, 3)
    assert record_tag_event(kube, CONFIG, f"{NS}/base:latest", digest(9))  # type: ignore[arg-type]
    assert not record_tag_event(kube, CONFIG, f"{NS}/base:latest", digest(9))  # type: ignore[arg-type]
    stored = kube.image_streams.objects[(NS, "base")].status.tags
    tags = {t.tag: [e.image for e in t.items] for t in stored}
    assert tags == {"other": [digest(2), digest(2), digest(2), digest(1)], "latest": [digest(9)]}


def test_record_tag_event_creates_a_missing_stream_and_gives_up_typed() -> None:
    kube = FakeKube()
    assert record_tag_event(kube, CONFIG, f"{NS}/new:latest", digest(1))  # type: ignore[arg-type]
    assert kube.image_streams.objects[(NS, "new")].status.tags[0].items[0].image == digest(1)
    race(kube.image_streams, "replace_status", lambda _s: None, retry.MAX_ATTEMPTS)
    with pytest.raises(BuildError, match="too many concurrent updates") as err:
        record_tag_event(kube, CONFIG, f"{NS}/new:latest", digest(2))  # type: ignore[arg-type]
    assert err.value.reason == StatusReason.GENERIC_BUILD_FAILED


# -- the CLI's writes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rival_phase", "cancelled"),
    [("Running", True), ("Complete", False)],
    ids=["the pod started meanwhile: still cancelled", "it finished meanwhile: nothing to cancel"],
)
def test_cancel_build_against_the_controller(rival_phase: str, cancelled: bool) -> None:
    kube = FakeKube()
    build = kube.builds.create(a_build())

    def controller(b: Build) -> None:
        b.status.phase = BuildPhase(rival_phase)

    race(kube.builds, "replace_status", controller, 1)
    written = request_cancel(kube, build)  # type: ignore[arg-type]
    stored = kube.builds.objects[(NS, "app-1")].status
    assert (written is not None) is cancelled
    assert stored.cancelled is cancelled
    assert stored.phase == BuildPhase(rival_phase)


def test_cancel_build_gives_up_with_the_cli_message() -> None:
    kube = FakeKube()
    build = kube.builds.create(a_build())
    race(kube.builds, "replace_status", lambda _b: None, retry.MAX_ATTEMPTS)
    with pytest.raises(CliError, match="too many concurrent updates"):
        request_cancel(kube, build)  # type: ignore[arg-type]


def test_write_stream_creates_or_edits_whoever_created_it_first() -> None:
    kube = FakeKube()
    created_by_rival = [False]
    original_create = kube.image_streams.create

    def racing_create(obj: ImageStream) -> ImageStream:
        if not created_by_rival[0]:
            created_by_rival[0] = True
            rival = stream()
            rival.metadata.annotations = {"rival": "yes"}
            original_create(rival)
        return original_create(obj)

    kube.image_streams.create = racing_create  # type: ignore[method-assign]

    def edit(current: ImageStream | None) -> ImageStream:
        s = current or stream()
        s.metadata.labels = {"ours": "yes"}
        return s

    written = write_stream(kube, NS, "base", edit)  # type: ignore[arg-type]
    assert written is not None
    assert written.metadata.annotations == {"rival": "yes"}
    assert written.metadata.labels == {"ours": "yes"}


def test_write_stream_status_says_not_found_and_try_again() -> None:
    kube = FakeKube()
    with pytest.raises(CliError, match="not found"):
        write_stream_status(kube, NS, "base", lambda _s: True)  # type: ignore[arg-type]
    kube.image_streams.create(stream())
    race(kube.image_streams, "replace_status", lambda _s: None, retry.MAX_ATTEMPTS)
    with pytest.raises(CliError, match="try again"):
        write_stream_status(kube, NS, "base", lambda _s: True)  # type: ignore[arg-type]
    # Nothing to change: the stream as read, no write.
    same = write_stream_status(kube, NS, "base", lambda _s: False)  # type: ignore[arg-type]
    assert same.metadata.name == "base"
