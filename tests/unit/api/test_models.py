"""Building models in Python, dumping them, and the helpers around them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from pydantic import Field, StrictStr, ValidationError

from builder.api import (
    Build,
    BuildConfig,
    BuildConfigSpec,
    BuildPhase,
    BuildRequest,
    BuildStatus,
    BuildStrategy,
    ImageStream,
    ManifestError,
    NamedTagEventList,
    ObjectMeta,
    ObjectReference,
    SourceBuildStrategy,
    StatusReason,
    TagEvent,
    dump,
    format_time,
    load_manifests,
    now_time,
    parse_as,
    parse_object,
    parse_time,
    unimplemented_fields_in_use,
)
from builder.api.base import KubeModel, Unimplemented, json_name
from builder.api.build import (
    BuildSource,
    BuildSpec,
    DockerBuildStrategy,
    GitBuildSource,
    ImageLabel,
    ImageSource,
)
from builder.api.constants import BUILD_CONFIG_ANNOTATION, BUILD_NUMBER_ANNOTATION
from builder.api.image import ImageStreamStatus


def _source_bc() -> BuildConfig:
    return BuildConfig(
        metadata=ObjectMeta(name="app", namespace="dev"),
        spec=BuildConfigSpec(
            source=BuildSource(git=GitBuildSource(uri="https://example.com/app.git")),
            strategy=BuildStrategy(
                source_strategy=SourceBuildStrategy(
                    from_=ObjectReference(kind="ImageStreamTag", name="ruby:3")
                )
            ),
        ),
    )


def test_json_names() -> None:
    assert json_name("from_") == "from"
    assert json_name("as_") == "as"
    assert json_name("docker_image_repository") == "dockerImageRepository"
    assert json_name("uri") == "uri"
    fields = BuildConfigSpec.model_fields
    assert fields["mount_trusted_ca"].alias == "mountTrustedCA"
    assert SourceBuildStrategy.model_fields["from_"].alias == "from"
    assert ImageSource.model_fields["as_"].alias == "as"


def test_constructed_object_dumps_only_what_was_given() -> None:
    assert dump(_source_bc()) == {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": "app", "namespace": "dev"},
        "spec": {
            "source": {"git": {"uri": "https://example.com/app.git"}},
            "strategy": {"sourceStrategy": {"from": {"kind": "ImageStreamTag", "name": "ruby:3"}}},
        },
    }


def test_changes_to_default_parts_are_dumped() -> None:
    bc = _source_bc()
    bc.status.last_version = 3
    bc.metadata.annotations["a"] = "b"
    bc.spec.output.image_labels.append(ImageLabel(name="x"))
    out = dump(bc)
    assert out["status"] == {"lastVersion": 3}
    assert out["metadata"]["annotations"] == {"a": "b"}
    assert out["spec"]["output"] == {"imageLabels": [{"name": "x"}]}


def test_explicit_values_equal_to_defaults_are_kept() -> None:
    raw = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": "x", "labels": {}},
        "spec": {
            "source": {"contextDir": "", "secrets": []},
            "strategy": {"dockerStrategy": {"noCache": False, "imageOptimizationPolicy": "None"}},
            "successfulBuildsHistoryLimit": 0,
        },
        "status": {"lastVersion": 0},
    }
    (bc,) = load_manifests(json.dumps(raw))
    assert dump(bc) == raw
    assert unimplemented_fields_in_use(bc) == []


def test_null_in_a_non_nullable_field_is_dropped_like_the_api_server() -> None:
    text = (
        "apiVersion: build.openshift.io/v1\nkind: BuildConfig\n"
        "metadata: {name: x, labels: null, creationTimestamp: null}\n"
        "spec:\n  strategy: {type: null, dockerStrategy: {}}\n"
        "  serviceAccount: null\n  nodeSelector: null\n  revision: null\n"
    )
    (bc,) = load_manifests(text)
    assert isinstance(bc, BuildConfig)
    assert bc.metadata.labels == {}
    assert bc.spec.service_account == ""
    assert dump(bc) == {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": "x", "creationTimestamp": None},
        "spec": {"strategy": {"dockerStrategy": {}}, "nodeSelector": None, "revision": None},
    }


def test_required_fields_are_required_in_python_too() -> None:
    with pytest.raises(ValidationError):
        GitBuildSource.model_validate({})
    with pytest.raises(ValidationError):
        BuildConfig.model_validate({"metadata": {"name": "x"}})


def test_build_with_status_round_trips() -> None:
    raw: dict[str, Any] = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {
            "name": "app-2",
            "namespace": "dev",
            "labels": {"buildconfig": "app", "openshift.io/build-config.name": "app"},
            "annotations": {BUILD_CONFIG_ANNOTATION: "app", BUILD_NUMBER_ANNOTATION: "2"},
            "ownerReferences": [
                {
                    "apiVersion": "build.openshift.io/v1",
                    "kind": "BuildConfig",
                    "name": "app",
                    "uid": "1234",
                    "controller": True,
                }
            ],
            "creationTimestamp": "2024-05-01T12:00:00Z",
            "managedFields": [{"manager": "kbuild", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {
            "serviceAccount": "builder",
            "source": {"type": "Git", "git": {"uri": "https://example.com/app.git", "ref": "main"}},
            "revision": {
                "type": "Git",
                "git": {
                    "commit": "abc123",
                    "author": {"name": "A", "email": "a@example.com"},
                    "message": "fix",
                },
            },
            "strategy": {
                "type": "Docker",
                "dockerStrategy": {
                    "buildArgs": [{"name": "X", "value": "1"}],
                    "env": [
                        {
                            "name": "POD",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                        },
                        {
                            "name": "MEM",
                            "valueFrom": {
                                "resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}
                            },
                        },
                        {
                            "name": "K",
                            "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}},
                        },
                        {
                            "name": "S",
                            "valueFrom": {
                                "secretKeyRef": {"name": "s", "key": "k", "optional": True}
                            },
                        },
                    ],
                },
            },
            "output": {
                "to": {"kind": "ImageStreamTag", "name": "app:latest"},
                "pushSecret": {"name": "push"},
            },
            "resources": {"limits": {"cpu": 2, "memory": "1Gi"}, "requests": {"cpu": "250m"}},
            "nodeSelector": None,
            "triggeredBy": [
                {"message": "Manually triggered"},
                {
                    "message": "Image change",
                    "imageChangeBuild": {
                        "imageID": "sha256:1",
                        "fromRef": {"kind": "ImageStreamTag", "name": "ruby:3"},
                    },
                },
            ],
        },
        "status": {
            "phase": "Failed",
            "reason": "FetchSourceFailed",
            "message": "Failed to fetch the input source.",
            "startTimestamp": "2024-05-01T12:00:01Z",
            "completionTimestamp": "2024-05-01T12:00:09.123456789Z",
            "duration": 8000000000,
            "outputDockerImageReference": "registry.local/dev/app:latest",
            "config": {"kind": "BuildConfig", "namespace": "dev", "name": "app"},
            "output": {"to": {"imageDigest": "sha256:abc"}},
            "stages": [
                {
                    "name": "FetchInputs",
                    "startTime": "2024-05-01T12:00:01Z",
                    "durationMilliseconds": 512,
                    "steps": [
                        {
                            "name": "FetchGitSource",
                            "startTime": "2024-05-01T12:00:01Z",
                            "durationMilliseconds": 510,
                        }
                    ],
                }
            ],
            "logSnippet": "fatal: repository not found",
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "lastUpdateTime": "2024-05-01T12:00:09Z",
                    "lastTransitionTime": None,
                }
            ],
        },
    }
    build = parse_object(raw)
    assert isinstance(build, Build)
    assert build.status.phase is BuildPhase.FAILED
    assert build.status.reason == StatusReason.FETCH_SOURCE_FAILED
    assert build.status.output.to is not None
    assert build.status.output.to.image_digest == "sha256:abc"
    assert build.spec.resources.limits == {"cpu": 2, "memory": "1Gi"}
    assert dump(build) == raw


def test_status_written_from_code() -> None:
    status = BuildStatus(
        phase=BuildPhase.FAILED,
        reason=StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED,
        start_timestamp=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),  # type: ignore[arg-type]
    )
    assert status.reason == "PushImageToRegistryFailed"
    assert type(status.reason) is str
    assert dump(status) == {
        "phase": "Failed",
        "reason": "PushImageToRegistryFailed",
        "startTimestamp": "2024-05-01T12:00:00Z",
    }
    build = Build(spec=BuildSpec(strategy=BuildStrategy(docker_strategy=DockerBuildStrategy())))
    assert dump(build) == {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "spec": {"strategy": {"dockerStrategy": {}}},
    }
    assert build.status.phase is BuildPhase.NEW


def test_time_helpers() -> None:
    moment = datetime(2024, 5, 1, 14, 30, 5, 999, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2024-05-01T12:30:05Z"
    assert parse_time("2024-05-01T12:30:05Z") == datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)
    assert parse_time("2024-05-01T12:30:05.123456789Z").microsecond == 123456
    assert parse_time("2024-05-01T14:30:05+02:00") == datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)
    assert parse_time(now_time()) <= datetime.now(UTC)
    with pytest.raises(ValueError, match="RFC3339"):
        parse_time("2024-05-01 12:30:05")
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2024, 5, 1))


def test_yaml_timestamps_stay_strings() -> None:
    text = (
        "apiVersion: image.openshift.io/v1\nkind: ImageStream\n"
        "metadata: {name: s, creationTimestamp: 2024-05-01T12:00:00Z}\n"
        "status:\n  tags:\n  - tag: latest\n    items:\n"
        "    - created: 2024-05-01T12:00:00.5+02:00\n"
        "      dockerImageReference: r/s@sha256:1\n      image: sha256:1\n      generation: 2\n"
    )
    (stream,) = load_manifests(text)
    assert isinstance(stream, ImageStream)
    assert stream.metadata.creation_timestamp == "2024-05-01T12:00:00Z"
    assert stream.status.tags[0].items is not None
    assert stream.status.tags[0].items[0].created == "2024-05-01T12:00:00.5+02:00"


def test_image_stream_status_from_code() -> None:
    status = ImageStreamStatus(
        docker_image_repository="registry.local/dev/app",
        tags=[
            NamedTagEventList(
                tag="latest",
                items=[
                    TagEvent(
                        created="2024-05-01T12:00:00Z",
                        docker_image_reference="registry.local/dev/app@sha256:1",
                        image="sha256:1",
                        generation=1,
                    )
                ],
            )
        ],
    )
    assert dump(status)["tags"][0]["items"][0]["dockerImageReference"].endswith("sha256:1")


def test_multi_document_and_json_lists() -> None:
    one = json.dumps(dump(_source_bc()))
    assert len(load_manifests(one)) == 1
    both = "---\n" + one + "\n---\n\n---\napiVersion: image.openshift.io/v1\nkind: ImageStream\n"
    kinds = [o.kind for o in load_manifests(both)]
    assert kinds == ["BuildConfig", "ImageStream"]
    listed = json.dumps({"kind": "List", "apiVersion": "v1", "items": [json.loads(one)] * 2})
    assert [o.metadata.name for o in load_manifests(listed)] == ["app", "app"]
    assert load_manifests("") == []


def test_build_request() -> None:
    raw = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildRequest",
        "metadata": {"name": "app"},
        "triggeredBy": [{"message": "Manually triggered"}],
        "env": [{"name": "A", "value": "1"}],
        "sourceStrategyOptions": {"incremental": False},
    }
    request = parse_object(raw)
    assert isinstance(request, BuildRequest)
    assert dump(request) == raw


def test_parse_as_reports_lines() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_as(BuildConfig, {"metadata": {"name": "x"}, "spec": {"strategy": {"x": 1}}})
    assert caught.value.problems == ["BuildConfig 'x': spec.strategy.x: unknown field"]


class _Policy(KubeModel):
    """A model of the test's own: the real schema's markers come and go as fields land."""

    mode: Annotated[StrictStr, Unimplemented("modes are not implemented", ("None",))] = ""
    items: Annotated[list[StrictStr], Unimplemented("items are not implemented")] = Field(
        default_factory=list
    )


class _Holder(KubeModel):
    policy: _Policy | None = None


def test_unimplemented_ignores_empty_and_harmless_values() -> None:
    assert unimplemented_fields_in_use(_Holder()) == []
    holder = _Holder(policy=_Policy(mode="None", items=[]))
    assert unimplemented_fields_in_use(holder) == []
    holder.policy = _Policy(mode="Squash", items=["x"])
    assert dict(unimplemented_fields_in_use(holder)) == {
        "policy.mode": "modes are not implemented",
        "policy.items": "items are not implemented",
    }


def test_unimplemented_deep_in_lists() -> None:
    bc = _source_bc()
    assert bc.spec.strategy.source_strategy is not None
    bc.spec.strategy.source_strategy.env = parse_as(
        BuildConfigSpec,
        {
            "strategy": {
                "sourceStrategy": {
                    "from": {"name": "x"},
                    "env": [
                        {"name": "A", "value": "1"},
                        {
                            "name": "B",
                            "valueFrom": {
                                "fileKeyRef": {"volumeName": "v", "path": "p", "key": "k"}
                            },
                        },
                    ],
                }
            }
        },
    ).strategy.source_strategy.env  # type: ignore[union-attr]
    assert [p for p, _ in unimplemented_fields_in_use(bc)] == [
        "spec.strategy.sourceStrategy.env[1].valueFrom.fileKeyRef"
    ]


@pytest.mark.parametrize("value", [0.5, 2, "500m", "1Gi", "1.5", "1e3", "+2", ".5", "100Ki"])
def test_quantities_kubernetes_accepts(value: object) -> None:
    from builder.api.core import ResourceRequirements  # noqa: PLC0415

    parsed = ResourceRequirements.model_validate({"limits": {"cpu": value}})
    assert parsed.limits["cpu"] == value


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), "lots", "1 Gi", "", "1Gb", []])
def test_quantities_kubernetes_refuses(value: object) -> None:
    from pydantic import ValidationError  # noqa: PLC0415

    from builder.api.core import ResourceRequirements  # noqa: PLC0415

    with pytest.raises(ValidationError):
        ResourceRequirements.model_validate({"limits": {"cpu": value}})
