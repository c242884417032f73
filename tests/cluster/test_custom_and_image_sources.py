"""The Custom strategy and ``source.images`` on a real cluster.

- A ``customStrategy`` build with the sample builder (``images/custom-builder``):
  its pod is admitted by Pod Security ``baseline`` with the Localhost seccomp
  profile, the builder clones, builds with rootless buildah and pushes, a
  ``customStrategy.secrets`` entry is mounted where asked, and the output
  ImageStreamTag moves to the pushed digest.
- A Docker build copying a directory out of another image (``source.images``)
  into its context, checked by a RUN step and present in the pushed image.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.api import BuildPhase
from builder.kube import Kube
from tests.cluster.conftest import (
    BUILDPOD_TAG,
    Cluster,
    Kubectl,
    build_images,
    create_namespace,
)
from tests.cluster.support import (
    Controller,
    apply,
    buildconfig,
    finished,
    git_source,
    kbuild,
    registry_client,
)
from tests.support.gitdaemon import GitDaemon, git, git_daemon

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = secrets.token_hex(3)


@pytest.fixture(scope="module")
def custom_builder(push_registry: str, images: dict[str, str]) -> str:
    """kbuild/custom-builder, on top of this checkout's build pod image."""
    build_images(push_registry, "base", "buildpod", "custom-builder")
    return f"kbuild/custom-builder:{BUILDPOD_TAG}"


@pytest.fixture(scope="module")
def gitd(pod_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    with git_daemon(pod_host, tmp_path_factory.mktemp("git")) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def env(
    cluster: Cluster,
    kubectl: Kubectl,
    images: dict[str, str],
    pod_host: str,
    seccomp_profile: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Kube, Controller]]:
    del images, seccomp_profile
    ns = f"h-inputs-{RUN_ID}"
    create_namespace(kubectl, ns, build_pods=True)
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    controller = Controller(
        cluster.kubeconfig, cluster.registry, ns, tmp_path_factory.mktemp("ctl") / "controller.log"
    )
    controller.extra = ["--insecure-registry", pod_host]
    controller.start()
    try:
        yield ns, Kube.connect(str(cluster.kubeconfig)), controller
    finally:
        controller.kill()
        if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


def _layers(reference: str) -> bytes:
    client = registry_client()
    manifest = client.resolve(reference)
    out = b""
    for layer in manifest.layers:
        blob = client.blob(reference, layer.digest, 1 << 30)
        out += gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    return out


def test_a_custom_builder_builds_and_pushes_unprivileged(
    env: tuple[str, Kube, Controller], gitd: GitDaemon, kubectl: Kubectl, cluster: Cluster,
    push_registry: str, custom_builder: str,
) -> None:  # fmt: skip
    ns, kube, controller = env
    kubectl("-n", ns, "create", "secret", "generic", "signing",
            "--from-literal=key=not-printed")  # fmt: skip
    repo = gitd.add_example("python-hello", "custom-app")
    marker = f"custom-{secrets.token_hex(6)}"
    (repo / "Dockerfile.custom").write_text(
        f"FROM {cluster.registry}/kbuild/base:bookworm\n"
        f"RUN echo {marker} > /built-by-custom\n"
        "COPY app.py /app/app.py\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a Dockerfile for the custom builder")
    strategy = {
        "type": "Custom",
        "customStrategy": {
            "from": {"kind": "DockerImage", "name": f"{cluster.registry}/{custom_builder}"},
            "env": [{"name": "DOCKERFILE_PATH", "value": "Dockerfile.custom"}],
            "secrets": [{"secretSource": {"name": "signing"},
                         "mountPath": "/var/run/secrets/kbuild-custom/signing"}],
            "forcePull": True,
        },
    }  # fmt: skip
    apply(kubectl, ns, buildconfig(
        "custom", git_source(gitd, "custom-app"), strategy,
        {"to": {"kind": "ImageStreamTag", "name": "custom:latest"}},
    ))  # fmt: skip
    kbuild("start-build", "custom", "-n", ns, kubeconfig=cluster.kubeconfig)
    build = finished(kube, ns, "custom-1", timeout=600)
    pod = json.loads(kubectl("-n", ns, "get", "pod", "custom-1-build", "-o", "json").stdout)
    logs = kubectl("-n", ns, "logs", "custom-1-build", "-c", "custom-build", check=False).stdout
    print(f"custom build: {build.status.reason}: {build.status.message}\n{logs}")
    print(build.status.log_snippet)
    assert build.status.phase == BuildPhase.COMPLETE, controller.log()[-2000:]
    assert "secret mounted at /var/run/secrets/kbuild-custom/signing/: key" in logs
    assert "not-printed" not in logs
    # The pod the namespace's Pod Security "baseline" admitted: no privilege.
    assert pod["spec"]["securityContext"]["seccompProfile"]["type"] == "Localhost"
    for container in pod["spec"]["initContainers"] + pod["spec"]["containers"]:
        assert container["securityContext"]["privileged"] is False
    digest = build.status.output.to.image_digest if build.status.output.to else ""
    assert digest.startswith("sha256:")
    stream = kube.image_streams.get(ns, "custom")
    (tag,) = [t for t in stream.status.tags if t.tag == "latest"]
    assert tag.items[0].image == digest
    assert marker.encode() in _layers(f"{push_registry}/{ns}/custom@{digest}")


def test_a_docker_build_copies_a_directory_out_of_another_image(
    env: tuple[str, Kube, Controller], gitd: GitDaemon, kubectl: Kubectl, cluster: Cluster,
    push_registry: str,
) -> None:  # fmt: skip
    ns, kube, _ = env
    repo = gitd.add_example("python-hello", "image-source")
    (repo / "Dockerfile").write_text(
        f"FROM {cluster.registry}/kbuild/base:bookworm\n"
        "COPY licenses/ /licenses/\n"
        "RUN test -s /licenses/GPL-3 && echo 'copied from the image: OK'\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a Dockerfile using an image source")
    source = git_source(gitd, "image-source")
    source["images"] = [{
        "from": {"kind": "DockerImage", "name": f"{cluster.registry}/kbuild/base:bookworm"},
        "paths": [{"sourcePath": "/usr/share/common-licenses/.", "destinationDir": "licenses"}],
    }]  # fmt: skip
    apply(kubectl, ns, buildconfig(
        "image-source", source, {"type": "Docker", "dockerStrategy": {}},
        {"to": {"kind": "ImageStreamTag", "name": "image-source:latest"}},
    ))  # fmt: skip
    kbuild("start-build", "image-source", "-n", ns, kubeconfig=cluster.kubeconfig)
    build = finished(kube, ns, "image-source-1", timeout=600)
    logs = kbuild("logs", "build/image-source-1", "-n", ns, kubeconfig=cluster.kubeconfig)
    text = logs.stdout + logs.stderr
    assert build.status.phase == BuildPhase.COMPLETE, (build.status, text[-3000:])
    assert "copied from the image: OK" in text
    digest = build.status.output.to.image_digest if build.status.output.to else ""
    assert b"GNU GENERAL PUBLIC LICENSE" in _layers(f"{push_registry}/{ns}/image-source@{digest}")
