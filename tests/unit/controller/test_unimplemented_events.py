"""An applied BuildConfig or ImageStream that sets an unimplemented field gets a Warning event.

A Build fails on such a field (CannotCreateBuildPodSpec); the objects that have
no phase say it the moment they are applied, once per generation.
"""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import BuildConfig, ImageStream, parse_as
from builder.controller.manager import Manager
from tests.unit.controller.informers import pump, sync
from tests.unit.controller.test_resync import CONFIG, ListingKube

JENKINS = {"jenkinsPipelineStrategy": {"jenkinsfile": "node {}"}}
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
    kube.build_configs.create(build_config(JENKINS))
    sync(manager, kube)  # reconcilers read the informers' caches
    manager.build_configs.reconcile("dev", "app")
    manager.build_configs.reconcile("dev", "app")  # a resync: no second event
    assert warnings(kube) == [
        (
            "BuildConfig",
            "UnimplementedField",
            "kbuild does not implement spec.strategy.jenkinsPipelineStrategy: the "
            "JenkinsPipeline strategy is not implemented (deprecated in OpenShift)",
        )
    ]
    changed = kube.build_configs.get("dev", "app")
    changed.metadata.generation = 2
    kube.build_configs.replace(changed)
    pump(manager, kube)
    manager.build_configs.reconcile("dev", "app")
    assert len(warnings(kube)) == 2


def test_a_build_config_using_only_implemented_fields_gets_no_warning() -> None:
    kube = ListingKube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    kube.build_configs.create(build_config(SOURCE))
    sync(manager, kube)
    manager.build_configs.reconcile("dev", "app")
    assert warnings(kube) == []


@pytest.mark.parametrize("local", [True, False])
def test_an_image_stream_with_or_without_local_lookup_is_not_reported(local: bool) -> None:
    """lookupPolicy.local is implemented (the image-lookup admission webhook)."""
    kube = ListingKube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    kube.image_streams.create(stream(local=local))
    sync(manager, kube)
    manager.image_streams.reconcile("dev", "app")
    assert warnings(kube) == []
