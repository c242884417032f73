"""Trigger field paths: the shapes ``oc set triggers`` writes, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.streams.fieldpath import (
    POD_SPEC_PATHS,
    ContainerPath,
    FieldPathError,
    container_field_path,
    parse_field_path,
)


@pytest.mark.parametrize(
    ("kind", "container", "init", "expected"),
    [
        ("Deployment", "app", False, 'spec.template.spec.containers[?(@.name=="app")].image'),
        ("StatefulSet", "db", False, 'spec.template.spec.containers[?(@.name=="db")].image'),
        ("DaemonSet", "agent", False, 'spec.template.spec.containers[?(@.name=="agent")].image'),
        ("Job", "run", False, 'spec.template.spec.containers[?(@.name=="run")].image'),
        (
            "CronJob",
            "app",
            False,
            'spec.jobTemplate.spec.template.spec.containers[?(@.name=="app")].image',
        ),
        (
            "Deployment",
            "migrate",
            True,
            'spec.template.spec.initContainers[?(@.name=="migrate")].image',
        ),
    ],
)
def test_container_field_path(kind: str, container: str, init: bool, expected: str) -> None:
    assert container_field_path(kind, container, init=init) == expected
    # What oc writes, kbuild reads back.
    assert parse_field_path(kind, expected) == ContainerPath(init=init, name=container)


@pytest.mark.parametrize("kind", ["Pod", "Service", "ReplicaSet", ""])
def test_container_field_path_refuses_other_kinds(kind: str) -> None:
    with pytest.raises(FieldPathError, match="has no pod template"):
        container_field_path(kind, "app")


@pytest.mark.parametrize(
    ("kind", "path", "expected"),
    [
        (
            "Deployment",
            'spec.template.spec.containers[?(@.name=="app")].image',
            ContainerPath(init=False, name="app"),
        ),
        (
            "Deployment",
            "spec.template.spec.containers[?(@.name=='app')].image",
            ContainerPath(init=False, name="app"),
        ),
        (
            "Deployment",
            'spec.template.spec.containers[?(@.name == "app")].image',
            ContainerPath(init=False, name="app"),
        ),
        (
            "StatefulSet",
            "spec.template.spec.containers[0].image",
            ContainerPath(init=False, index=0),
        ),
        (
            "DaemonSet",
            "spec.template.spec.containers[12].image",
            ContainerPath(init=False, index=12),
        ),
        (
            "Job",
            'spec.template.spec.initContainers[?(@.name=="init")].image',
            ContainerPath(init=True, name="init"),
        ),
        (
            "Deployment",
            "spec.template.spec.initContainers[1].image",
            ContainerPath(init=True, index=1),
        ),
        (
            "CronJob",
            'spec.jobTemplate.spec.template.spec.containers[?(@.name=="app")].image',
            ContainerPath(init=False, name="app"),
        ),
        (
            "CronJob",
            "spec.jobTemplate.spec.template.spec.initContainers[0].image",
            ContainerPath(init=True, index=0),
        ),
    ],
)
def test_parse_field_path(kind: str, path: str, expected: ContainerPath) -> None:
    assert parse_field_path(kind, path) == expected


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        # JSONPath has no "=" operator.
        ("Deployment", 'spec.template.spec.containers[?(@.name="app")].image'),
        # Outside the pod template, or the wrong kind's template.
        ("Deployment", "metadata.annotations.image"),
        ("Deployment", "spec.replicas"),
        ("CronJob", 'spec.template.spec.containers[?(@.name=="app")].image'),
        ("Deployment", 'spec.jobTemplate.spec.template.spec.containers[?(@.name=="a")].image'),
        # Not the image field.
        ("Deployment", 'spec.template.spec.containers[?(@.name=="app")].command'),
        ("Deployment", 'spec.template.spec.containers[?(@.name=="app")].env[0].value'),
        ("Deployment", 'spec.template.spec.containers[?(@.name=="app")]'),
        ("Deployment", 'spec.template.spec.containers[?(@.name=="app")].image.x'),
        ("Deployment", 'spec.template.spec.containers[?(@.name=="app")].image\n'),
        # Malformed selectors (library-go's annotations_test shapes among them).
        ("StatefulSet", 'spec.template.spec.containers[?(@.name=="test").image'),
        ("StatefulSet", "spec.template.spec.containers[@.name=test].image"),
        ("Deployment", 'spec.template.spec.containers[?(@.name=="")].image'),
        ("Deployment", "spec.template.spec.containers[-1].image"),
        ("Deployment", "spec.template.spec.containers[*].image"),
        ("Deployment", "spec.template.spec.containers.image"),
        ("Deployment", 'spec.template.spec.containersX[?(@.name=="app")].image'),
        ("Deployment", 'spec.template.spec.ephemeralContainers[?(@.name=="a")].image'),
        ("Deployment", ""),
    ],
)
def test_parse_field_path_refuses(kind: str, path: str) -> None:
    with pytest.raises(FieldPathError, match=f"select a container image of the {kind}'s pod"):
        parse_field_path(kind, path)


def test_parse_field_path_refuses_kinds_without_pod_template() -> None:
    with pytest.raises(FieldPathError, match="Service has no pod template"):
        parse_field_path("Service", "spec.template.spec.containers[0].image")


def test_pod_spec_paths_cover_the_workload_kinds() -> None:
    assert set(POD_SPEC_PATHS) == {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (ContainerPath(init=False, name="app"), 'container "app"'),
        (ContainerPath(init=True, name="m"), 'init container "m"'),
        (ContainerPath(init=False, index=2), "container #2"),
    ],
)
def test_container_path_describe(path: ContainerPath, text: str) -> None:
    assert path.describe() == text


# -- any text a tenant writes: a container path or FieldPathError ---------------------


def test_a_very_long_index_is_a_field_path_error() -> None:
    # int() of more than 4300 digits raised ValueError out of the reconcile.
    path = "spec.template.spec.containers[" + "1" * 5000 + "].image"
    with pytest.raises(FieldPathError):
        parse_field_path("Deployment", path)


PATH_PARTS = st.sampled_from(
    ["spec.template.spec.containers", "spec.template.spec.initContainers",
     "spec.jobTemplate.spec.template.spec.containers", "[", "]", "?(", ")", "@.name", "==",
     "=", '"', "'", "app", "0", "9" * 12, "\u0661", ".image", ".", " "]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["Deployment", "CronJob", "Job", "Pod", ""]),
    path=st.lists(PATH_PARTS, max_size=10).map("".join) | st.text(max_size=80),
)
def test_property_only_field_path_errors(kind: str, path: str) -> None:
    try:
        where = parse_field_path(kind, path)
    except FieldPathError:
        return
    assert (where.name is None) != (where.index is None)
