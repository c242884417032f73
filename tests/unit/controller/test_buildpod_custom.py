"""The Custom strategy's pod: OpenShift's environment and mounts, the unprivileged contract."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from builder.api import Build, BuildError, BuildPhase, parse_as
from builder.controller.buildpod import build_pod
from builder.controller.podstatus import interpret_pod
from builder.pipeline.pod import custom_report
from builder.pipeline.workspace import Workspace
from builder.registry import mediatypes
from tests.unit.controller.tenancy_fake import FakeKube
from tests.unit.controller.test_buildpod import (
    CONFIG,
    CONTAINER_SECURITY_CONTEXT,
    POD_SECURITY_CONTEXT,
    REGISTRY,
)
from tests.unit.controller.test_tenancy import TENANT_BUILDER, reconciler, victim_stream
from tests.unit.registry.test_client_protocol import Reply, Stub, fixed, stub  # noqa: F401

CUSTOM_IMAGE = f"{REGISTRY}/kbuild/custom-builder@sha256:" + "c" * 64
OUTPUT = f"{REGISTRY}/dev/app:latest"


def _custom(**strategy: Any) -> dict[str, Any]:
    return {"customStrategy": {"from": {"kind": "DockerImage", "name": CUSTOM_IMAGE}, **strategy}}


def _build(strategy: dict[str, Any], **spec: Any) -> Build:
    return parse_as(Build, {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "app-1", "namespace": "dev", "uid": "u1"},
        "spec": {
            "source": {"git": {"uri": "https://git.test/app.git", "ref": "main"},
                       "contextDir": "web", "sourceSecret": {"name": "git-creds"}},
            "strategy": strategy,
            "output": {"to": {"kind": "DockerImage", "name": OUTPUT},
                       "pushSecret": {"name": "push-creds"}},
            **spec,
        },
    })  # fmt: skip


def _pod(build: Build) -> dict[str, Any]:
    return build_pod(build, CONFIG, pod_build=build)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


FULL = _custom(
    env=[
        {"name": "DOCKERFILE_PATH", "value": "Dockerfile.prod"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "tok", "key": "t"}}},
    ],
    secrets=[{"secretSource": {"name": "signing"}, "mountPath": "/var/run/secrets/signing"}],
    pullSecret={"name": "pull-creds"},
    forcePull=True,
    buildAPIVersion="v1",
)


def test_the_builder_gets_openshifts_environment() -> None:
    pod = _pod(_build(FULL))
    (builder,) = pod["spec"]["initContainers"]
    assert builder["name"] == "custom-build"
    assert builder["image"] == CUSTOM_IMAGE
    assert "command" not in builder  # the image's own entrypoint runs
    env = _env(builder)
    sent = json.loads(env["BUILD"].replace("$$", "$"))
    assert sent["apiVersion"] == "v1"
    assert sent["metadata"]["name"] == "app-1"
    assert sent["spec"]["strategy"]["customStrategy"]["from"]["name"] == CUSTOM_IMAGE
    expected = {
        "SOURCE_REPOSITORY": "https://git.test/app.git",
        "SOURCE_URI": "https://git.test/app.git",
        "SOURCE_REF": "main",
        "SOURCE_CONTEXT_DIR": "web",
        "OUTPUT_REGISTRY": REGISTRY,
        "OUTPUT_IMAGE": "dev/app:latest",
        "PUSH_DOCKERCFG_PATH": "/var/run/secrets/openshift.io/push",
        "PULL_DOCKERCFG_PATH": "/var/run/secrets/openshift.io/pull",
        "SOURCE_SECRET_PATH": "/var/run/secrets/openshift.io/source",
        "DOCKERFILE_PATH": "Dockerfile.prod",
        "TOKEN": {"secretKeyRef": {"name": "tok", "key": "t"}},
    }
    assert {k: env[k] for k in expected} == expected
    assert builder["imagePullPolicy"] == "Always"
    assert pod["spec"]["imagePullSecrets"] == [{"name": "pull-creds"}]


def test_secrets_are_mounted_where_openshift_mounts_them() -> None:
    pod = _pod(_build(FULL))
    (builder,) = pod["spec"]["initContainers"]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounted = {
        volumes[m["name"]]["secret"]["secretName"]: m["mountPath"]
        for m in builder["volumeMounts"]
        if "secret" in volumes[m["name"]]
    }
    assert mounted == {
        "signing": "/var/run/secrets/signing",
        "push-creds": "/var/run/secrets/openshift.io/push",
        "pull-creds": "/var/run/secrets/openshift.io/pull",
        "git-creds": "/var/run/secrets/openshift.io/source",
    }
    assert all(m.get("readOnly") for m in builder["volumeMounts"] if "secret" in volumes[m["name"]])
    (report,) = pod["spec"]["containers"]
    assert report["name"] == "custom-report"
    assert report["command"] == ["kbuild", "pipeline", "custom-report"]
    assert [
        volumes[m["name"]]["secret"]["secretName"]
        for m in report["volumeMounts"]
        if "secret" in volumes[m["name"]]
    ] == ["push-creds"]


def test_the_pod_is_the_unprivileged_build_pod_contract() -> None:
    pod = _pod(_build(FULL))
    assert pod["spec"]["securityContext"] == POD_SECURITY_CONTEXT
    assert pod["spec"]["automountServiceAccountToken"] is False
    for container in [*pod["spec"]["initContainers"], *pod["spec"]["containers"]]:
        assert container["securityContext"] == CONTAINER_SECURITY_CONTEXT
    assert all("hostPath" not in v for v in pod["spec"]["volumes"])
    assert "docker.sock" not in json.dumps(pod)


@pytest.mark.parametrize(
    ("strategy", "spec", "says"),
    [
        (_custom(exposeDockerSocket=True), {}, "no container engine socket"),
        (_custom(), {"postCommit": {"script": "true"}}, "spec.postCommit with customStrategy"),
        (_custom(buildAPIVersion="v2"), {}, "buildAPIVersion 'v2'"),
        (
            _custom(secrets=[{"secretSource": {"name": "s"}, "mountPath": "rel"}]),
            {},
            "absolute mountPath",
        ),
    ],
)
def test_what_kbuild_cannot_do_is_refused_with_a_reason(
    strategy: dict[str, Any], spec: dict[str, Any], says: str
) -> None:
    with pytest.raises(BuildError) as err:
        _pod(_build(strategy, **spec))
    assert err.value.reason.value == "CannotCreateBuildPodSpec"
    assert says in err.value.detail


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secrets", [{"secret": {"name": "s"}}]),
        ("configMaps", [{"configMap": {"name": "c"}}]),
        ("images", [{"from": {"kind": "DockerImage", "name": "r/x"}, "paths": []}]),
        ("binary", {}),
    ],
)
def test_source_inputs_kbuild_would_have_to_stage_are_refused(field: str, value: Any) -> None:
    build = _build(_custom())
    data = json.loads(build.model_dump_json(by_alias=True, exclude_none=True))
    data["spec"]["source"][field] = value
    with pytest.raises(BuildError) as err:
        _pod(parse_as(Build, data))
    assert f"spec.source.{field} with customStrategy" in err.value.detail


def test_a_custom_builder_from_another_namespace_needs_pull_rights() -> None:
    kube = FakeKube()
    victim_stream(kube)
    builder = {"kind": "ImageStreamTag", "namespace": "victim", "name": "app:prod"}
    build = _build({"customStrategy": {"from": builder}})
    build.metadata.namespace = "tenant"
    kube.builds.create(build)
    reconciler(kube).reconcile("tenant", "app-1")
    got = kube.builds.get("tenant", "app-1")
    assert (got.status.phase, got.status.reason) == (BuildPhase.FAILED, "InvalidImageReference")
    assert (TENANT_BUILDER, "get", "victim") in kube.reviews


def _terminated(name: str, code: int, message: str = "") -> dict[str, Any]:
    return {"name": name, "state": {"terminated": {"exitCode": code, "message": message}}}


def test_the_report_container_completes_the_build_and_a_failed_builder_fails_it() -> None:
    pod = _pod(_build(_custom()))
    digest = "sha256:" + "d" * 64
    pod["status"] = {
        "phase": "Succeeded",
        "initContainerStatuses": [_terminated("custom-build", 0)],
        "containerStatuses": [_terminated("custom-report", 0, json.dumps({"digest": digest}))],
    }
    outcome = interpret_pod(pod)
    assert (outcome.phase, outcome.digest) == (BuildPhase.COMPLETE, digest)
    pod["status"] = {
        "phase": "Failed",
        "initContainerStatuses": [_terminated("custom-build", 1)],
    }
    outcome = interpret_pod(pod)
    assert outcome.phase == BuildPhase.FAILED
    assert "custom-build exited 1" in outcome.detail


MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
    "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": "sha256:" + "0" * 64, "size": 1},
    "layers": [],
}).encode()  # fmt: skip
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
MANIFEST_REPLY = Reply(200, MANIFEST, {"Content-Type": mediatypes.OCI_MANIFEST})


def _report_env(stub: Stub, tmp_path: Path) -> tuple[Workspace, dict[str, str]]:  # noqa: F811
    """A workspace where the custom builder left MANIFEST_DIGEST, and the report step's env."""
    ws = Workspace(tmp_path).create()
    (tmp_path / "pushed-digest").write_text(MANIFEST_DIGEST + "\n")
    build = _build(_custom())
    assert build.spec.output.to is not None
    build.spec.output.to.name = f"{stub.host}/dev/app:latest"
    build.spec.output.push_secret = None
    env = {"BUILD": build.model_dump_json(by_alias=True), "KBUILD_INSECURE_REGISTRIES": stub.host}
    return ws, env


def test_custom_report_reads_back_the_digest_the_builder_left(
    tmp_path: Path,
    stub: Stub,  # noqa: F811
) -> None:
    stub.routes[f"/v2/dev/app/manifests/{MANIFEST_DIGEST}"] = fixed(MANIFEST_REPLY)
    ws, env = _report_env(stub, tmp_path)
    lines: list[str] = []
    result = custom_report(env, ws, lines.append)
    assert (result.digest, result.image) == (
        MANIFEST_DIGEST,
        f"{stub.host}/dev/app@{MANIFEST_DIGEST}",
    )
    (tmp_path / "pushed-digest").write_text("not a digest")
    with pytest.raises(BuildError) as err:
        custom_report(env, ws, lines.append)
    assert err.value.reason.value == "PushImageToRegistryFailed"


def test_custom_report_asks_again_when_the_registry_is_busy(
    tmp_path: Path,
    stub: Stub,  # noqa: F811
) -> None:
    """A 503 (or a timeout) reading the pushed image back is retried, not the build's failure.

    The retry waits its real 2 s: ``custom_report`` takes no clock.
    """
    replies = [Reply(503, b"busy"), MANIFEST_REPLY]
    stub.routes[f"/v2/dev/app/manifests/{MANIFEST_DIGEST}"] = lambda _handler: replies.pop(0)
    ws, env = _report_env(stub, tmp_path)
    lines: list[str] = []
    result = custom_report(env, ws, lines.append)
    assert result.digest == MANIFEST_DIGEST
    assert any(
        line.startswith(f"Warning: reading back {stub.host}/dev/app:latest") for line in lines
    )
    assert replies == []
