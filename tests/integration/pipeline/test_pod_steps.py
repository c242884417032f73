"""The build pod's five steps, each in its own process as in the pod's containers.

Real git, real buildah, a real registry: ``kbuild pipeline fetch``, then
``prepare``, ``pull``, ``build`` and ``push`` share a workspace directory
(and buildah's storage) and nothing else, and the last termination message
must name the digest the registry serves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from builder.api import Build, parse_as
from builder.controller.buildpod import build_pod
from builder.controller.config import ControllerConfig
from builder.controller.podstatus import interpret_pod
from builder.pipeline.pod import MAX_MESSAGE_BYTES
from builder.registry import RegistryClient
from tests.integration.pipeline.conftest import Images, git, make_repo
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

STEPS = (
    ("git-clone", "fetch"),
    ("manage-dockerfile", "prepare"),
    ("pull-images", "pull"),
    ("build-image", "build"),
    ("sti-build", "push"),
)


def source_build(repo: Path, builder: str, output: str) -> dict[str, Any]:
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "hello-1", "namespace": "it", "uid": "u-1"},
        "spec": {
            "source": {"git": {"uri": str(repo), "ref": "main"}},
            "strategy": {"sourceStrategy": {"from": {"kind": "DockerImage", "name": builder}}},
            "output": {"to": {"kind": "DockerImage", "name": output}},
        },
    }


class PodRun:
    """Runs the steps as the pod's containers would: separate processes, one workspace."""

    def __init__(self, tmp: Path, build: dict[str, Any], registry: RunningRegistry) -> None:
        self.tmp = tmp
        self.env = {
            **os.environ,
            "BUILD": json.dumps(build),
            "KBUILD_WORKSPACE": str(tmp / "workspace"),
            "KBUILD_INSECURE_REGISTRIES": registry.host,
            "BUILDAH_ISOLATION": "chroot",
            "PYTHONUNBUFFERED": "1",
        }
        self.statuses: list[tuple[bool, dict[str, Any]]] = []
        self.logs: dict[str, str] = {}

    def step(self, container: str, *steps: str) -> tuple[int, dict[str, Any]]:
        termination = self.tmp / f"termination-{container}"
        done = subprocess.run(
            [sys.executable, "-m", "builder.cli.main", "pipeline", *steps],
            env={**self.env, "KBUILD_TERMINATION_LOG": str(termination)},
            capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip
        self.logs[container] = done.stdout
        text = termination.read_text()
        assert len(text.encode()) <= MAX_MESSAGE_BYTES
        message: dict[str, Any] = json.loads(text)
        state = {"terminated": {"exitCode": done.returncode, "message": text}}
        self.statuses.append((container != "sti-build", {"name": container, "state": state}))
        return done.returncode, message

    def run_all(self) -> tuple[int, dict[str, Any]]:
        code, message = 0, dict[str, Any]()
        for container, step in STEPS:
            code, message = self.step(container, step)
            if code != 0:
                break
        return code, message

    def pod(self) -> dict[str, Any]:
        """A pod status as the kubelet would report these containers."""
        inits = [s for init, s in self.statuses if init]
        mains = [s for init, s in self.statuses if not init]
        failed = any(s["state"]["terminated"]["exitCode"] for _, s in self.statuses)
        return {
            "spec": {
                "initContainers": [{"name": s["name"]} for s in inits],
                "containers": [
                    {"name": "sti-build", "env": [{"name": "BUILD", "value": self.env["BUILD"]}]}
                ],
            },
            "status": {
                "phase": "Failed" if failed else "Succeeded",
                "initContainerStatuses": inits,
                "containerStatuses": mains,
            },
        }


def test_s2i_build_in_three_steps_pushes_and_reports_the_digest(
    tmp_path: Path, images: Images, registry: RunningRegistry, unique_repo: str
) -> None:
    repo = make_repo(tmp_path, "python-hello")
    output = f"{registry.host}/{unique_repo}:latest"
    run = PodRun(tmp_path, source_build(repo, images.s2i_python, output), registry)
    code, message = run.run_all()
    assert code == 0, run.logs
    served = RegistryClient(insecure={registry.host}).resolve(output).digest
    assert message["digest"] == served
    assert message["image"] == f"{registry.host}/{unique_repo}@{served}"
    assert [s["name"] for s in message["stages"]] == [
        "FetchInputs",
        "PullImages",
        "Build",
        "PushImage",
    ]
    assert message["revision"]["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    # Each container's log went to its own stdout, in order.
    assert 'Cloning "' in run.logs["git-clone"]
    assert "Copied the source" in run.logs["manage-dockerfile"]
    assert "Assemble user" in run.logs["pull-images"]
    assert "/usr/libexec/s2i/assemble" in run.logs["build-image"]
    assert "Successfully pushed" in run.logs["sti-build"]

    outcome = interpret_pod(run.pod())
    assert outcome.phase.value == "Complete"
    assert outcome.digest == served
    assert [s.name for s in outcome.stages] == ["FetchInputs", "PullImages", "Build", "PushImage"]


def test_the_one_container_pod_of_a_build_without_secrets_builds_and_pushes(
    tmp_path: Path, images: Images, registry: RunningRegistry, unique_repo: str
) -> None:
    """The pod build_pod makes for a build with no secret: one container runs all five steps.

    Its command is taken from the manifest itself, so the controller's
    argv and the runner's parsing are tested together with real buildah.
    """
    repo = make_repo(tmp_path, "python-hello")
    output = f"{registry.host}/{unique_repo}:latest"
    data = source_build(repo, images.s2i_python, output)
    build = parse_as(Build, data)
    config = ControllerConfig(registry=registry.host, build_pod_image="kbuild/buildpod:test")
    manifest = build_pod(build, config, pod_build=build)
    assert manifest["spec"]["initContainers"] == []
    (main,) = manifest["spec"]["containers"]
    assert main["name"] == "sti-build"
    assert main["command"][:2] == ["kbuild", "pipeline"]
    run = PodRun(tmp_path, data, registry)
    code, message = run.step(main["name"], *main["command"][2:])
    assert code == 0, run.logs
    served = RegistryClient(insecure={registry.host}).resolve(output).digest
    assert message["digest"] == served
    stages = ["FetchInputs", "PullImages", "Build", "PushImage"]
    assert [s["name"] for s in message["stages"]] == stages
    log = run.logs["sti-build"]
    for said in (
        'Cloning "',
        "Copied the source",
        "/usr/libexec/s2i/assemble",
        "Successfully pushed",
    ):
        assert said in log
    outcome = interpret_pod(run.pod())
    assert outcome.phase.value == "Complete"
    assert outcome.digest == served
    assert [s.name for s in outcome.stages] == stages


def test_failing_assemble_is_docker_build_failed_with_a_snippet(
    tmp_path: Path, images: Images, registry: RunningRegistry, unique_repo: str
) -> None:
    repo = make_repo(tmp_path, "python-hello", "failing")
    scripts = repo / ".s2i" / "bin"
    scripts.mkdir(parents=True)
    (scripts / "assemble").write_text("#!/bin/sh\necho 'assembling... oh no'\nexit 3\n")
    (scripts / "assemble").chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "broken assemble")
    output = f"{registry.host}/{unique_repo}:latest"
    run = PodRun(tmp_path, source_build(repo, images.s2i_python, output), registry)
    code, message = run.run_all()
    assert code == 1
    assert len(run.statuses) == 4  # fetch, prepare and pull succeeded; build failed
    assert message["reason"] == "DockerBuildFailed"
    assert message["message"] == "Docker build strategy has failed."
    assert "assemble" in message["detail"]
    assert "assembling... oh no" in message["logSnippet"]
    assert message["logSnippet"].splitlines()[-1].startswith("error: DockerBuildFailed: ")
    assert [s["name"] for s in message["stages"]] == ["FetchInputs", "PullImages", "Build"]
    assert not RegistryClient(insecure={registry.host}).exists(output)

    outcome = interpret_pod(run.pod())
    assert outcome.phase.value == "Failed"
    assert outcome.reason == "DockerBuildFailed"
    assert outcome.container == "build-image"
    assert "assembling... oh no" in outcome.log_snippet


def test_pod_storage_volume_runs_kernel_overlay_and_says_so(
    tmp_path: Path, images: Images, registry: RunningRegistry, unique_repo: str
) -> None:
    """With the pod's KBUILD_STORAGE_DIR, the first buildah container probes kernel
    overlay on that volume, records it, and every buildah container runs it and
    says so in its log; the store is overlay's, in the volume, not buildah's default."""
    repo = make_repo(tmp_path, "python-hello")
    output = f"{registry.host}/{unique_repo}:latest"
    run = PodRun(tmp_path, source_build(repo, images.s2i_python, output), registry)
    volume = tmp_path / "container-storage-root"
    volume.mkdir()
    run.env["KBUILD_STORAGE_DIR"] = str(volume)
    try:
        code, message = run.run_all()
        assert code == 0, run.logs
        served = RegistryClient(insecure={registry.host}).resolve(output).digest
        assert message["digest"] == served
        assert (
            "Storage driver: overlay (kernel overlay in the build's user namespace)"
            in (run.logs["pull-images"])
        )
        for container in ("build-image", "sti-build"):
            assert (
                "Storage driver: overlay (chosen by the pod's first buildah container)"
                in (run.logs[container])
            )
        assert (volume / "kbuild-storage-driver").read_text() == "overlay\n"
        assert (volume / "storage" / "overlay-images" / "images.json").is_file()
        assert not (volume / "storage" / "vfs").exists()
    finally:
        subprocess.run(
            ["buildah", "--root", str(volume / "storage"), "--runroot", str(tmp_path / "rmi-run"),
             "--storage-driver", "overlay",
             "rmi", "--all", "--force"],
            capture_output=True, check=False,
        )  # fmt: skip


def _layer_ids(store: Path) -> set[str]:
    index = store / "overlay-layers" / "layers.json"
    return {layer["id"] for layer in json.loads(index.read_text())} if index.is_file() else set()


def _fill_cache(cache: Path, tmp: Path, image: str) -> None:
    """A builder cache as images/buildpod-cache makes one: an overlay store holding ``image``."""
    subprocess.run(
        ["buildah", "--root", str(cache), "--runroot", str(tmp / "fill-run"),
         "--storage-driver", "overlay", "pull", "--quiet", "--tls-verify=false", image],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip


def _drop_store(store: Path, tmp: Path) -> None:
    subprocess.run(
        ["buildah", "--root", str(store), "--runroot", str(tmp / "drop-run"),
         "--storage-driver", "overlay", "rmi", "--all", "--force"],
        capture_output=True, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cache_state", "log_has"),
    [
        ("hit", "Builder cache: {cache} (1 image(s), read-only)"),
        # Another image only: the builder is not found there and is pulled.
        ("stale", "Builder cache: {cache} (1 image(s), read-only)"),
        ("corrupt", "Builder cache: not used ({cache}/overlay-images/images.json is unreadable"),
        ("missing", "Storage driver: overlay (kernel overlay"),
    ],
)
def test_builder_cache_is_used_by_digest_and_any_other_state_pulls_normally(
    tmp_path: Path,
    images: Images,
    registry: RunningRegistry,
    unique_repo: str,
    cache_state: str,
    log_has: str,
) -> None:
    """The builder, pinned by digest as the controller pins it, comes from the
    read-only cache without a layer pulled into the build's store; a stale,
    corrupt or missing cache still builds, by pulling."""
    client = RegistryClient(insecure={registry.host})
    builder = f"{registry.host}/kbuild/s2i-python@{client.resolve(images.s2i_python).digest}"
    base = f"{registry.host}/kbuild/base@{client.resolve(images.base).digest}"
    cache = tmp_path / "builder-cache"
    if cache_state in ("hit", "corrupt"):
        _fill_cache(cache, tmp_path, builder)
    elif cache_state == "stale":
        _fill_cache(cache, tmp_path, base)
    if cache_state == "corrupt":
        (cache / "overlay-images" / "images.json").write_text('[{"id": ')
    cached_layers = _layer_ids(cache)
    repo = make_repo(tmp_path, "python-hello")
    output = f"{registry.host}/{unique_repo}:latest"
    run = PodRun(tmp_path, source_build(repo, builder, output), registry)
    volume = tmp_path / "container-storage-root"
    volume.mkdir()
    run.env["KBUILD_STORAGE_DIR"] = str(volume)
    run.env["KBUILD_BUILDER_CACHE"] = str(cache)
    try:
        code, message = run.run_all()
        assert code == 0, run.logs
        assert message["digest"] == client.resolve(output).digest
        assert log_has.format(cache=cache) in run.logs["pull-images"], run.logs["pull-images"]
        build_layers = _layer_ids(volume / "storage")
        if cache_state == "hit":
            assert cached_layers and not cached_layers & build_layers  # nothing pulled or copied
            assert "Builder cache:" in run.logs["build-image"]
        else:
            # The builder's layers were pulled into the build's own store.
            assert len(build_layers) > 1
    finally:
        _drop_store(volume / "storage", tmp_path)
        _drop_store(cache, tmp_path)
