"""An applied BuildConfig or ImageStream that sets an unimplemented field gets a Warning event.

A Build fails on such a field (CannotCreateBuildPodSpec); the objects that have
no phase say it the moment they are applied, once per generation.
"""

from __future__ import annotations

from typing import Any

from builder.api import BuildConfig, ImageStream, parse_as
from builder.controller.manager import Manager
from tests.unit.controller.test_resync import CONFIG, ListingKube

CUSTOM = {"customStrategy": {"from": {"kind": "DockerImage", "name": "registry.test/custom:1"}}}
SOURCE = {"sourceStrategy": {"from": {"kind": "DockerImage", "name": "registry.test/py:1"}}}


def build_config(strategy: dict[str, Any], generation: int = 1) -> BuildConfig:
    return parse_as(
        BuildConfig,
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "BuildConfig",
            "metadata": {"name": "app", "namespace": "dev", "uid": "u1", "generation": generation},
            "spec": {"strategy": strategy},
        },
    )


def stream(local: bool) -> ImageStream:
    return parse_as(
        ImageStream,
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": "app", "namespace": "dev", "uid": "u2", "generation": 1},
            "spec": {"lookupPolicy": {"local": local}},
        },
    )


def warnings(kube: ListingKube) -> list[tuple[str, str, str]]:
    return [
        (e["involvedObject"]["kind"], e["reason"], e["message"])
        for e in kube.events
        if e["type"] == "Warning"
    ]


def test_a_build_config_with_an_unimplemented_strategy_is_reported_once_per_generation() -> None:
    kube = ListingKube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    kube.build_configs.create(build_config(CUSTOM))
    manager.build_configs.reconcile("dev", "app")
    manager.build_configs.reconcile("dev", "app")  # a resync: no second event
    assert warnings(kube) == [
        (
            "BuildConfig",
            "UnimplementedField",
            "kbuild does not implement spec.strategy.customStrategy: the Custom strategy "
            "is not implemented; use Source or Docker",
        )
    ]
    changed = kube.build_configs.get("dev", "app")
    changed.metadata.generation = 2
    kube.build_configs.replace(changed)
    manager.build_configs.reconcile("dev", "app")
    assert len(warnings(kube)) == 2


def test_a_build_config_using_only_implemented_fields_gets_no_warning() -> None:
    kube = ListingKube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    kube.build_configs.create(build_config(SOURCE))
    manager.build_configs.reconcile("dev", "app")
    assert warnings(kube) == []


def test_an_image_stream_with_local_lookup_is_reported() -> None:
    kube = ListingKube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    kube.image_streams.create(stream(local=True))
    manager.image_streams.reconcile("dev", "app")
    ((kind, reason, message),) = warnings(kube)
    assert (kind, reason) == ("ImageStream", "UnimplementedField")
    assert message.startswith("kbuild does not implement spec.lookupPolicy.local: ")


def test_an_image_stream_without_local_lookup_is_not() -> None:
    kube = ListingKube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    kube.image_streams.create(stream(local=False))
    manager.image_streams.reconcile("dev", "app")
    assert warnings(kube) == []
