"""The field guard: no field of BuildConfig, Build or ImageStream is accepted and silently ignored.

Every field (by the class that declares it, ``Class.jsonName``) of every model
reachable from the three kinds must be one of:

implemented
    kbuild's code reads, assigns or constructs it while the unit tests run
    (``field_reads.json``, recorded by ``tests.support.fieldtrace``; generic
    code such as validation and dump does not count);
passed through
    handed on as given to whoever acts on it (the kubelet, the API server),
    with the reason and the behaviour test that shows it (``PASSED_THROUGH``);
reported
    marked ``Unimplemented`` and reported when used (a Build fails with
    CannotCreateBuildPodSpec, an applied BuildConfig or ImageStream gets an
    ``UnimplementedField`` event): each marked field has a sample here that
    ``unimplemented_fields_in_use`` must report; the fields of a struct only
    reachable through a marked field are reported with it.

A new OpenShift field modelled without code acting on it fails
``test_every_field_is_implemented_passed_through_or_reported``.  After
changing what the code reads, regenerate the trace (tests/support/fieldtrace.py).
"""

from __future__ import annotations

import ast
import inspect
import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest

from builder.api import Build, BuildConfig, ImageStream, parse_as, unimplemented_fields_in_use
from builder.api.base import KubeModel, Unimplemented

REPO = Path(__file__).resolve().parents[3]
TRACE = Path(__file__).with_name("field_reads.json")
ROOTS: tuple[type[KubeModel], ...] = (BuildConfig, Build, ImageStream)

_KUBELET_VOLUMES = (
    "handed to the kubelet as the build pod's volume source, as given",
    "tests/unit/controller/test_buildpod_inputs.py::test_build_inputs_are_mounted_into_build_image_only",
)
_KUBELET_ENV = (
    "handed to the kubelet as the build pod's env valueFrom, as given; it resolves it",
    "tests/unit/controller/test_buildpod_inputs.py::"
    "test_value_from_goes_to_the_kubelet_through_pull_and_build_only",
)
_KEPT = (
    "server bookkeeping or a reference's identity: kept as given, nothing to act on",
    "tests/unit/api/test_examples.py::test_round_trip_is_unchanged",
)
_STAGES = (
    "copied from the build pod's termination message into status.stages",
    "tests/unit/controller/test_podstatus.py::test_stages_are_api_models_ready_for_build_status",
)
PASSED_THROUGH: dict[str, tuple[str, str]] = {
    **{
        f"{cls}.{name}": _KUBELET_VOLUMES
        for cls, names in (
            ("SecretVolumeSource", ("items", "defaultMode", "optional")),
            ("ConfigMapVolumeSource", ("items", "defaultMode", "optional")),
            ("KeyToPath", ("key", "path", "mode")),
            ("CSIVolumeSource", ("readOnly", "fsType", "volumeAttributes", "nodePublishSecretRef")),
        )
        for name in names
    },
    **{
        f"{cls}.{name}": _KUBELET_ENV
        for cls, names in (
            ("SecretKeySelector", ("name", "key", "optional")),
            ("ConfigMapKeySelector", ("name", "key", "optional")),
            ("ObjectFieldSelector", ("apiVersion", "fieldPath")),
            ("ResourceFieldSelector", ("containerName", "resource", "divisor")),
        )
        for name in names
    },
    **{
        f"{cls}.{name}": _KEPT
        for cls, names in (
            (
                "ObjectMeta",
                (
                    "generateName",
                    "selfLink",
                    "deletionGracePeriodSeconds",
                    "finalizers",
                    "managedFields",
                ),
            ),
            ("OwnerReference", ("blockOwnerDeletion",)),
            ("ObjectReference", ("uid", "apiVersion", "resourceVersion", "fieldPath")),
            # Deprecated by OpenShift for status.imageChangeTriggers, which kbuild writes.
            ("ImageChangeTrigger", ("lastTriggeredImageID",)),
        )
        for name in names
    },
    **{
        f"{cls}.{name}": _STAGES
        for cls, names in (
            ("StageInfo", ("startTime", "steps")),
            ("StepInfo", ("name", "startTime", "durationMilliseconds")),
        )
        for name in names
    },
}

_BC = {"apiVersion": "build.openshift.io/v1", "kind": "BuildConfig", "metadata": {"name": "b"}}
_SOURCE = {"sourceStrategy": {"from": {"kind": "DockerImage", "name": "r/i"}}}


def _bc(spec: dict[str, Any]) -> tuple[type[KubeModel], dict[str, Any]]:
    return BuildConfig, {**_BC, "spec": {"strategy": _SOURCE, **spec}}


def _build(spec: dict[str, Any]) -> tuple[type[KubeModel], dict[str, Any]]:
    return Build, {**_BC, "kind": "Build", "spec": {"strategy": _SOURCE, **spec}}


# One use of each marked field, and the path it must be reported at.
REPORTED_SAMPLES: dict[str, tuple[tuple[type[KubeModel], dict[str, Any]], str]] = {
    "ImageSource.as": (
        _bc(
            {"source": {"images": [{"from": {"kind": "DockerImage", "name": "r/x"}, "as": ["x"]}]}}
        ),
        "spec.source.images[0].as",
    ),
    "BuildStrategy.jenkinsPipelineStrategy": (
        _bc({"strategy": {"jenkinsPipelineStrategy": {"jenkinsfile": "node {}"}}}),
        "spec.strategy.jenkinsPipelineStrategy",
    ),
    "EnvVarSource.fileKeyRef": (
        _bc(
            {
                "strategy": {
                    "dockerStrategy": {
                        "env": [
                            {
                                "name": "X",
                                "valueFrom": {
                                    "fileKeyRef": {"volumeName": "v", "path": "p", "key": "k"}
                                },
                            }
                        ]
                    }
                }
            }
        ),
        "spec.strategy.dockerStrategy.env[0].valueFrom.fileKeyRef",
    ),
    "ResourceRequirements.claims": (
        _build({"resources": {"claims": [{"name": "gpu"}]}}),
        "spec.resources.claims",
    ),
}


def _models_in(annotation: Any) -> list[type[KubeModel]]:
    if isinstance(annotation, type) and issubclass(annotation, KubeModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _owner(cls: type[KubeModel], name: str) -> str:
    for klass in cls.__mro__:
        if name in inspect.get_annotations(klass):
            return klass.__name__
    return cls.__name__


def _marked(cls: type[KubeModel], name: str) -> bool:
    return any(isinstance(m, Unimplemented) for m in cls.model_fields[name].metadata)


@cache
def classify() -> dict[str, str]:
    """``Class.jsonName`` -> implemented / passed through / reported / neither."""
    models: dict[type[KubeModel], bool] = {}  # model -> reachable without a marked field

    def walk(cls: type[KubeModel], live: bool) -> None:
        if cls in models and (models[cls] or not live):
            return
        models[cls] = live
        for name, field in cls.model_fields.items():
            for child in _models_in(field.annotation):
                walk(child, live and not _marked(cls, name))

    for root in ROOTS:
        walk(root, True)
    reads = set(json.loads(TRACE.read_text()))
    out: dict[str, str] = {}
    for cls, live in models.items():
        for name, field in cls.model_fields.items():
            key = f"{_owner(cls, name)}.{field.alias or name}"
            if _marked(cls, name) or not live:
                category = "reported"
            elif key in reads:
                category = "implemented"
            elif key in PASSED_THROUGH:
                category = "passed through"
            else:
                category = "neither"
            if out.get(key, "neither") == "neither":
                out[key] = category
    return out


def test_every_field_is_implemented_passed_through_or_reported() -> None:
    fields = classify()
    counts = Counter(fields.values())
    print(f"field guard: {len(fields)} fields: {dict(sorted(counts.items()))}")
    assert sorted(k for k, v in fields.items() if v == "neither") == []
    assert counts["implemented"] >= 200


def test_the_trace_and_the_table_name_only_real_fields() -> None:
    """A stale entry would let a field that is no longer read pass."""
    fields = classify()
    reads = set(json.loads(TRACE.read_text()))
    assert sorted(r for r in reads if r.split(".")[0] in _classes() and r not in fields) == []
    assert sorted(k for k in PASSED_THROUGH if fields.get(k) != "passed through") == []


@cache
def _classes() -> frozenset[str]:
    return frozenset(k.split(".")[0] for k in classify())


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_each_passed_through_field_cites_a_test_that_exists() -> None:
    for key, (_, test) in PASSED_THROUGH.items():
        path, _, name = test.partition("::")
        assert name in _test_names(REPO / path), (key, test)


def test_every_marked_field_has_a_sample() -> None:
    marked = {
        f"{_owner(cls, name)}.{field.alias or name}"
        for cls in _all_models()
        for name, field in cls.model_fields.items()
        if _marked(cls, name)
    }
    assert marked == set(REPORTED_SAMPLES)


def _all_models() -> set[type[KubeModel]]:
    seen: set[type[KubeModel]] = set()

    def walk(cls: type[KubeModel]) -> None:
        if cls in seen:
            return
        seen.add(cls)
        for field in cls.model_fields.values():
            for child in _models_in(field.annotation):
                walk(child)

    for root in ROOTS:
        walk(root)
    return seen


@pytest.mark.parametrize("key", sorted(REPORTED_SAMPLES))
def test_each_unimplemented_field_is_reported_when_used(key: str) -> None:
    (model, document), path = REPORTED_SAMPLES[key]
    obj = parse_as(model, document)
    assert path in [p for p, _ in unimplemented_fields_in_use(obj)]
