"""OpenShift's own sample objects load, dump back unchanged and fit the CRDs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from builder.api import (
    BuildConfig,
    BuildTriggerType,
    ImageStream,
    dump,
    load_manifests,
    unimplemented_fields_in_use,
)
from builder.api.build import BuildStrategyType, BuildVolumeSourceType
from builder.api.image import TagReferencePolicyType
from tests.unit.api.helpers import crd_validator, example_files, raw_objects

FILES = example_files()


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_there_are_examples_of_both_kinds() -> None:
    kinds = {o["kind"] for path in FILES for o in raw_objects(path)}
    assert kinds == {"BuildConfig", "ImageStream"}
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_round_trip_is_unchanged(path: Path) -> None:
    expected = raw_objects(path)
    loaded = load_manifests(path.read_text())
    assert len(loaded) == len(expected)
    for obj, raw in zip(loaded, expected, strict=True):
        assert isinstance(obj, BuildConfig | ImageStream)
        assert obj.kind == raw["kind"]
        assert dump(obj) == raw


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_examples_fit_the_crd_schema(path: Path) -> None:
    for raw in raw_objects(path):
        errors = [e.message for e in crd_validator(raw["kind"]).iter_errors(raw)]
        assert errors == [], f"{raw['metadata'].get('name')}: {errors}"


def _load(name: str) -> list[Any]:
    return list(load_manifests((FILES[0].parent / name).read_text()))


def test_values_are_typed_not_just_carried() -> None:
    stream_a, stream_b, bc = _load("sample-app-stibuild.json")
    assert isinstance(bc, BuildConfig)
    assert stream_b.spec.docker_image_repository == "centos/ruby-27-centos7"
    assert stream_a.spec.tags == []
    strategy = bc.spec.strategy.source_strategy
    assert strategy is not None
    assert strategy.from_.kind == "ImageStreamTag"
    assert strategy.from_.name == "ruby-27-centos7:latest"
    assert strategy.env[0].name == "EXAMPLE"
    assert bc.spec.strategy.type is BuildStrategyType.SOURCE
    assert [t.type for t in bc.spec.triggers] == [
        BuildTriggerType.GITHUB,
        BuildTriggerType.GENERIC,
        BuildTriggerType.IMAGE_CHANGE,
        BuildTriggerType.CONFIG_CHANGE,
    ]
    generic = bc.spec.triggers[1].generic
    assert generic is not None
    assert generic.allow_env is True
    assert bc.spec.post_commit.args == ["bundle", "exec", "rake", "test"]
    assert bc.status.last_version == 0
    # Fields not in the manifest read as Go's zero value.
    assert bc.spec.source.context_dir == ""
    assert bc.spec.completion_deadline_seconds is None


def test_image_stream_tags_are_typed() -> None:
    dotnet, _httpd, jenkins = _load("image-streams-centos7.json")
    latest = dotnet.spec.tags[0]
    assert latest.name == "latest"
    assert latest.from_.name == "6.0-ubi8"
    assert latest.generation is None
    assert latest.reference_policy.type is TagReferencePolicyType.LOCAL
    assert latest.annotations["openshift.io/display-name"] == ".NET (Latest)"
    scheduled = [t.name for t in jenkins.spec.tags if t.import_policy.scheduled]
    assert scheduled == ["scheduled-upgrade-redeploy"]


def test_volumes_and_null_node_selector() -> None:
    (bc,) = _load("testdata-volumes-docker-buildconfig.yaml")
    assert bc.spec.node_selector is None
    assert "nodeSelector" in dump(bc)["spec"]
    docker = bc.spec.strategy.docker_strategy
    assert docker is not None
    secret, configmap = docker.volumes
    assert secret.source.type is BuildVolumeSourceType.SECRET
    assert secret.source.secret is not None
    assert secret.source.secret.default_mode == 420
    assert configmap.mounts[0].destination_path == "/var/run/configmaps/some-configmap"


EXPECTED_UNIMPLEMENTED: dict[str, list[tuple[str, str]]] = {
    "jenkins-samplepipeline.yaml": [
        ("sample-pipeline", "spec.strategy.jenkinsPipelineStrategy"),
    ],
}


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_unimplemented_fields_are_reported(path: Path) -> None:
    found = [
        (obj.metadata.name, field_path)
        for obj in load_manifests(path.read_text())
        for field_path, why in unimplemented_fields_in_use(obj)
        if why
    ]
    assert found == EXPECTED_UNIMPLEMENTED.get(path.name, [])
