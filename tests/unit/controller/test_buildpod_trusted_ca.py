"""The cluster's trusted CA bundle in the build pod (--trusted-ca-configmap, mountTrustedCA)."""

from __future__ import annotations

import dataclasses

import pytest

from builder.api import BuildError
from builder.controller.buildpod import build_pod
from tests.unit.controller.test_buildpod import CONFIG, DOCKER, containers, make_build

WITH_CA = dataclasses.replace(CONFIG, trusted_ca_configmap="trusted-ca-bundle")


@pytest.mark.parametrize("mount", [None, False, True])
def test_the_named_configmap_is_mounted_read_only_into_every_container(mount: bool | None) -> None:
    spec = {} if mount is None else {"mountTrustedCA": mount}
    build = make_build(DOCKER, resolved=True, **spec)
    pod = build_pod(build, WITH_CA, pod_build=build)
    (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == "trusted-ca"]
    assert volume["configMap"] == {
        "name": "trusted-ca-bundle",
        "items": [{"key": "ca-bundle.crt", "path": "ca-bundle.crt"}],
        "optional": True,
    }
    for container in containers(pod):
        mounts = [m for m in container["volumeMounts"] if m["name"] == "trusted-ca"]
        assert mounts == [
            {
                "name": "trusted-ca",
                "mountPath": "/var/run/configs/openshift.io/pki",
                "readOnly": True,
            }
        ], container["name"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["KBUILD_TRUSTED_CA_FILE"] == "/var/run/configs/openshift.io/pki/ca-bundle.crt"


def test_no_bundle_configured_mounts_nothing() -> None:
    build = make_build(DOCKER, resolved=True)
    pod = build_pod(build, CONFIG, pod_build=build)
    assert all(v["name"] != "trusted-ca" for v in pod["spec"]["volumes"])


def test_mount_trusted_ca_without_a_configured_bundle_is_refused() -> None:
    build = make_build(DOCKER, resolved=True, mountTrustedCA=True)
    with pytest.raises(BuildError) as err:
        build_pod(build, CONFIG, pod_build=build)
    assert err.value.reason.value == "CannotCreateBuildPodSpec"
    assert "--trusted-ca-configmap" in err.value.detail
