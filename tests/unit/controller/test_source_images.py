"""``source.images``: checked and resolved as builder images; pull secrets only in pull-images."""

from __future__ import annotations

import json
from typing import Any

import pytest

from builder.api import Build, BuildError, BuildPhase, parse_as
from builder.controller.buildpod import build_pod
from builder.pipeline.from_build import plan_from_spec
from builder.pipeline.pod import inputs_from_environment
from tests.unit.controller.tenancy_fake import FakeKube
from tests.unit.controller.test_buildpod import CONFIG, containers
from tests.unit.controller.test_tenancy import (
    BUILDER,
    REGISTRY,
    TENANT_BUILDER,
    reconciler,
    victim_stream,
)

PATHS = [{"sourcePath": "/opt/app/lib/.", "destinationDir": "deps"}]


def _build(images: list[dict[str, Any]], strategy: str = "sourceStrategy") -> Build:
    return parse_as(Build, {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "app-1", "namespace": "tenant", "uid": "u1"},
        "spec": {
            "source": {"git": {"uri": "https://git.test/app.git"}, "images": images},
            "strategy": {strategy: {"from": {"kind": "DockerImage", "name": BUILDER}}},
            "output": {"to": {"kind": "DockerImage", "name": f"{REGISTRY}/tenant/app:latest"}},
        },
    })  # fmt: skip


VICTIM_IMAGE = {
    "from": {"kind": "ImageStreamTag", "namespace": "victim", "name": "app:prod"},
    "paths": PATHS,
}


def test_a_source_image_from_another_namespace_needs_pull_rights() -> None:
    kube = FakeKube()
    victim_stream(kube)
    kube.builds.create(_build([VICTIM_IMAGE]))
    reconciler(kube).reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    assert (build.status.phase, build.status.reason) == (BuildPhase.FAILED, "InvalidImageReference")
    assert (TENANT_BUILDER, "get", "victim") in kube.reviews
    assert kube.pods == {}


def test_a_granted_source_image_reaches_the_pod_as_a_pull_spec() -> None:
    kube = FakeKube(grants={("system:serviceaccounts:tenant", "get", "victim")})
    victim_stream(kube)
    kube.builds.create(_build([VICTIM_IMAGE]))
    reconciler(kube).reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    assert build.status.phase == BuildPhase.PENDING
    (pod,) = kube.pods.values()
    first = [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]][0]
    env = {e["name"]: e["value"] for e in first["env"]}
    sent = json.loads(env["BUILD"].replace("$$", "$"))
    image = sent["spec"]["source"]["images"][0]
    assert image["from"] == {
        "kind": "DockerImage", "name": f"{REGISTRY}/victim/app@sha256:" + "0" * 64,
    }  # fmt: skip
    assert image["paths"] == PATHS


def test_each_source_image_pull_secret_is_mounted_into_pull_images_only() -> None:
    images = [
        {"from": {"kind": "DockerImage", "name": "r.test/a:1"}, "paths": PATHS,
         "pullSecret": {"name": "a-creds"}},
        {"from": {"kind": "DockerImage", "name": "r.test/b:1"}, "paths": PATHS},
    ]  # fmt: skip
    build = _build(images, "dockerStrategy")
    pod = build_pod(build, CONFIG, pod_build=build)
    volume = next(
        v for v in pod["spec"]["volumes"] if v.get("secret", {}).get("secretName") == "a-creds"
    )
    holders = [
        c["name"]
        for c in containers(pod)
        if any(m["name"] == volume["name"] for m in c["volumeMounts"])
    ]
    assert holders == ["pull-images"]
    pull = next(c for c in containers(pod) if c["name"] == "pull-images")
    mount = next(m for m in pull["volumeMounts"] if m["name"] == volume["name"])
    env = {e["name"]: e["value"] for e in pull["env"]}
    assert env["PULL_SOURCE_DOCKERCFG_PATH_0"] == mount["mountPath"]
    assert mount["readOnly"] is True
    assert "PULL_SOURCE_DOCKERCFG_PATH_1" not in env


def test_the_plan_carries_each_image_with_its_own_authfile_else_the_strategys(
    tmp_path: Any,
) -> None:
    secret = tmp_path / "a"
    secret.mkdir()
    (secret / ".dockerconfigjson").write_text('{"auths": {}}')
    pull = tmp_path / "pull"
    pull.mkdir()
    (pull / ".dockerconfigjson").write_text('{"auths": {}}')
    images = [
        {"from": {"kind": "DockerImage", "name": "r.test/a:1"}, "paths": PATHS},
        {"from": {"kind": "DockerImage", "name": "r.test/b:1"},
         "paths": [{"sourcePath": "/x", "destinationDir": ""}]},
    ]  # fmt: skip
    build = _build(images)
    env = {
        "BUILD": json.dumps(build.model_dump(by_alias=True, exclude_none=True, mode="json")),
        "PULL_SOURCE_DOCKERCFG_PATH_0": str(secret),
        "PULL_DOCKERCFG_PATH": str(pull),
    }
    plan = inputs_from_environment(env).plan
    first, second = plan.source.images
    assert (first.image, first.paths, first.authfile) == (
        "r.test/a:1", (("/opt/app/lib/.", "deps"),), str(secret / ".dockerconfigjson"),
    )  # fmt: skip
    assert (second.image, second.authfile) == ("r.test/b:1", str(pull / ".dockerconfigjson"))


@pytest.mark.parametrize(
    ("paths", "says"),
    [
        ([], "must name at least one path"),
        ([{"sourcePath": "relative", "destinationDir": ""}], "sourcePath must be an absolute"),
        ([{"sourcePath": "/x", "destinationDir": "/abs"}], "destinationDir must be relative"),
        ([{"sourcePath": "/x", "destinationDir": "a/../.."}], "destinationDir must be relative"),
    ],
)
def test_invalid_paths_are_refused_before_a_pod(paths: list[dict[str, str]], says: str) -> None:
    build = _build([{"from": {"kind": "DockerImage", "name": "r.test/a:1"}, "paths": paths}])
    with pytest.raises(BuildError) as err:
        plan_from_spec(build.spec, metadata=build.metadata)
    assert err.value.reason.value == "CannotCreateBuildPodSpec"
    assert says in err.value.detail
