"""build_pod: a build's own inputs (source secrets/configMaps, volumes, env valueFrom).

Each reaches the one container whose step uses it (builder.pipeline.inputs):
the mounts only build-image, the valueFrom references only pull-images, and
the controller names the objects without reading them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from builder.api import BuildError
from tests.unit.controller.test_buildpod import (
    BUILDER,
    DOCKER,
    SOURCE_RESOLVED,
    containers,
    pod_for,
)

INPUT_SOURCE = {
    "git": {"uri": "https://git.test/app.git"},
    "secrets": [
        {"secret": {"name": "subscription"}, "destinationDir": "etc/pki"},
        # The same Secret twice: one volume, two destinations.
        {"secret": {"name": "subscription"}, "destinationDir": "again"},
    ],
    "configMaps": [{"configMap": {"name": "settings"}}],
}
# Every field of the volume sources, handed to the kubelet as given.
SECRET_SOURCE = {
    "secretName": "creds",
    "items": [{"key": "token", "path": "auth/token", "mode": 0o400}],
    "defaultMode": 420,
    "optional": True,
}
CONFIG_MAP_SOURCE = {
    "name": "mirror-list",
    "items": [{"key": "list", "path": "mirrors.repo"}],
    "defaultMode": 0o444,
    "optional": False,
}
CSI_SOURCE = {
    "driver": "csi.sharedresource.openshift.io",
    "readOnly": True,
    "fsType": "ext4",
    "volumeAttributes": {"a": "b"},
    "nodePublishSecretRef": {"name": "csi-creds"},
}
VOLUMES = [
    {
        "name": "repo-creds",
        "source": {"type": "Secret", "secret": SECRET_SOURCE},
        "mounts": [{"destinationPath": "/var/run/secrets/repo"}],
    },
    {
        "name": "mirrors",
        "source": {"type": "ConfigMap", "configMap": CONFIG_MAP_SOURCE},
        "mounts": [{"destinationPath": "/etc/yum.repos.d"}],
    },
    {
        "name": "shared",
        "source": {
            "type": "CSI",
            "csi": CSI_SOURCE,
        },
        "mounts": [{"destinationPath": "/var/run/shared"}],
    },
]
EXPECTED_VOLUMES = [
    {
        "name": "input-secret-subscription",
        "secret": {"secretName": "subscription", "defaultMode": 0o444},
    },
    {"name": "input-configmap-settings", "configMap": {"name": "settings", "defaultMode": 0o444}},
    {"name": "build-volume-repo-creds", "secret": SECRET_SOURCE},
    {"name": "build-volume-mirrors", "configMap": CONFIG_MAP_SOURCE},
    {"name": "build-volume-shared", "csi": CSI_SOURCE},
]
EXPECTED_MOUNTS = {
    "input-secret-subscription": "/var/run/secrets/openshift.io/build/subscription",
    "input-configmap-settings": "/var/run/configs/openshift.io/build/settings",
    "build-volume-repo-creds": "/var/run/openshift.io/volumes/repo-creds",
    "build-volume-mirrors": "/var/run/openshift.io/volumes/mirrors",
    "build-volume-shared": "/var/run/openshift.io/volumes/shared",
}


def with_volumes(strategy: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(strategy)
    next(iter(out.values()))["volumes"] = VOLUMES
    return out


@pytest.mark.parametrize("strategy", [SOURCE_RESOLVED, DOCKER], ids=["source", "docker"])
def test_build_inputs_are_mounted_into_build_image_only(strategy: dict[str, Any]) -> None:
    pod = pod_for(with_volumes(strategy), source=INPUT_SOURCE)
    volumes = [v for v in pod["spec"]["volumes"] if v["name"] in EXPECTED_MOUNTS]
    assert volumes == EXPECTED_VOLUMES
    for container in containers(pod):
        mounts = {m["name"]: m for m in container["volumeMounts"] if m["name"] in EXPECTED_MOUNTS}
        if container["name"] != "build-image":
            assert mounts == {}, container["name"]
            continue
        assert mounts == {
            name: {"name": name, "mountPath": path, "readOnly": True}
            for name, path in EXPECTED_MOUNTS.items()
        }


VALUE_FROM_ENV = [
    {"name": "PLAIN", "value": "1"},
    {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
    {
        "name": "PATH",
        "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "path", "optional": True}},
    },
    {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
    {
        "name": "MEMORY",
        "valueFrom": {
            "resourceFieldRef": {
                "containerName": "build-image",
                "resource": "limits.memory",
                "divisor": "1Mi",
            }
        },
    },
    {
        "name": "TOKEN2",
        "valueFrom": {"secretKeyRef": {"name": "api", "key": "token", "optional": False}},
    },
]


@pytest.mark.parametrize("strategy", [SOURCE_RESOLVED, DOCKER], ids=["source", "docker"])
def test_value_from_goes_to_the_kubelet_through_pull_and_build_only(
    strategy: dict[str, Any],
) -> None:
    """Under kbuild's own names: the user's PATH must not become the step's PATH.

    pull-images writes them into the Dockerfile; build-image masks the
    secret ones in buildah's log.
    """
    given = copy.deepcopy(strategy)
    next(iter(given.values()))["env"] = VALUE_FROM_ENV
    pod = pod_for(given)
    for container in containers(pod):
        from_refs = [e for e in container["env"] if "valueFrom" in e]
        if container["name"] not in ("pull-images", "build-image"):
            assert from_refs == [], container["name"]
            continue
        assert from_refs == [
            {"name": f"KBUILD_VALUE_FROM_{index}", "valueFrom": VALUE_FROM_ENV[index]["valueFrom"]}
            for index in range(1, len(VALUE_FROM_ENV))
        ]
        assert [e["name"] for e in container["env"]].count("PATH") == 0


@pytest.mark.parametrize(
    ("source", "volumes", "fragment"),
    [
        ({"secrets": [{"secret": {"name": "s"}, "destinationDir": "../up"}]}, None, "'..'"),
        ({"secrets": [{"secret": {"name": "../etc"}}]}, None, "not a valid object name"),
        ({"configMaps": [{"configMap": {"name": "c"}, "destinationDir": "a:b"}]}, None, "':'"),
        (None, [{**VOLUMES[0], "mounts": [{"destinationPath": "relative"}]}], "absolute"),
        (None, [{**VOLUMES[0], "mounts": [{"destinationPath": "/"}]}], "reserved"),
        (None, [VOLUMES[0], VOLUMES[0]], "used twice"),
        (None, [{**VOLUMES[0], "mounts": []}], "no mounts"),
        (
            None,
            [{**VOLUMES[0], "source": {"type": "ConfigMap", "secret": {"secretName": "x"}}}],
            "must set only that source",
        ),
    ],
)
def test_invalid_inputs_fail_the_pod_spec(
    source: dict[str, Any] | None, volumes: list[Any] | None, fragment: str
) -> None:
    strategy = {"sourceStrategy": {"from": {"kind": "DockerImage", "name": BUILDER}}}
    if volumes is not None:
        strategy["sourceStrategy"]["volumes"] = volumes  # type: ignore[index]
    spec: dict[str, Any] = {}
    if source is not None:
        spec["source"] = {"git": {"uri": "https://git.test/app.git"}, **source}
    with pytest.raises(BuildError) as caught:
        pod_for(strategy, **spec)
    assert caught.value.reason.value == "CannotCreateBuildPodSpec"
    assert fragment in caught.value.detail


def test_docker_destination_dir_must_be_relative() -> None:
    source = {
        "git": {"uri": "https://git.test/app.git"},
        "secrets": [{"secret": {"name": "s"}, "destinationDir": "/etc"}],
    }
    with pytest.raises(BuildError, match="must be relative for the Docker strategy"):
        pod_for(DOCKER, source=source)
    # The Source strategy takes an absolute one (origin's testdata-build-secrets).
    pod_for(source=source)
