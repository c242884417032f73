"""A build's own inputs on a real cluster: source secrets and configMaps, build volumes, valueFrom.

An S2I build whose assemble reads a source Secret and a ConfigMap (and an env
valueFrom of each), and a Docker build whose RUN step reads a Secret through
a build volume: both Complete, ``kubectl wait --for=condition=Complete``
returns for them, and no byte of either secret is in any layer of the pushed
images, their logs, the Builds, the pods' termination messages or the events.
The controller never reads the Secrets: the kubelet mounts and resolves them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.api import BuildPhase
from builder.kube import Kube
from tests.cluster.conftest import Cluster, Kubectl, create_namespace
from tests.cluster.support import (
    Controller,
    apply,
    buildconfig,
    finished,
    git_source,
    kbuild,
    registry_client,
    source_strategy,
)
from tests.support.gitdaemon import GitDaemon, git, git_daemon

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = secrets.token_hex(3)


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
) -> Iterator[tuple[str, Kube]]:
    del images, seccomp_profile  # built and installed: the pods need both
    ns = f"h-in-inputs-{RUN_ID}"
    create_namespace(kubectl, ns, build_pods=True)
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    controller = Controller(
        cluster.kubeconfig, cluster.registry, ns, tmp_path_factory.mktemp("ctl") / "controller.log"
    )
    controller.extra = ["--insecure-registry", pod_host]
    controller.start()
    try:
        yield ns, Kube.connect(str(cluster.kubeconfig))
    finally:
        controller.kill()
        if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _uncompressed(blob: bytes) -> bytes:
    return gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob


def test_secrets_reach_the_build_and_no_byte_reaches_a_layer_a_log_or_the_api(
    env: tuple[str, Kube], gitd: GitDaemon, kubectl: Kubectl, cluster: Cluster,
    push_registry: str,
) -> None:  # fmt: skip
    ns, kube = env
    source_secret = f"source-canary-{secrets.token_hex(12)}"
    volume_secret = f"volume-canary-{secrets.token_hex(12)}"
    setting = f"setting-{secrets.token_hex(4)}"
    kubectl("-n", ns, "create", "secret", "generic", "subscription",
            f"--from-literal=token={source_secret}")  # fmt: skip
    kubectl("-n", ns, "create", "secret", "generic", "repo-creds",
            f"--from-literal=password={volume_secret}")  # fmt: skip
    kubectl("-n", ns, "create", "configmap", "settings", f"--from-literal=mode={setting}")

    s2i = gitd.add_example("python-hello", "s2i-inputs")
    assemble = s2i / ".s2i" / "bin" / "assemble"
    assemble.parent.mkdir(parents=True, exist_ok=True)
    # destinationDir is relative to the builder's WORKDIR; hashes, never the values.
    assemble.write_text(
        "#!/bin/sh\nset -e\n"
        f'echo "{_sha(source_secret)}  pki/token" | sha256sum -c -\n'
        f'echo "{_sha(setting)}  settings/mode" | sha256sum -c -\n'
        'test "$TOKEN" = "$(cat pki/token)" && echo "token env: OK"\n'
        f'test "$MODE" = "{setting}" && echo "mode env: OK"\n'
        "exec /usr/libexec/s2i/assemble\n"
    )
    assemble.chmod(0o755)
    git(s2i, "add", "-A")
    git(s2i, "commit", "-qm", "assemble reads the inputs")
    strategy = source_strategy(f"{cluster.registry}/kbuild/s2i-python:3.11")
    strategy["sourceStrategy"]["env"] = [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "subscription", "key": "token"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
    ]
    source = git_source(gitd, "s2i-inputs")
    source["secrets"] = [{"secret": {"name": "subscription"}, "destinationDir": "pki"}]
    source["configMaps"] = [{"configMap": {"name": "settings"}, "destinationDir": "settings"}]
    apply(kubectl, ns, buildconfig(
        "s2i-inputs", source, strategy, {"to": {"kind": "ImageStreamTag", "name": "s2i:latest"}}
    ))  # fmt: skip

    docker = gitd.add_example("python-hello", "docker-inputs")
    (docker / "Dockerfile").write_text(
        f"FROM {cluster.registry}/kbuild/base:bookworm\n"
        f'RUN echo "{_sha(volume_secret)}  /run/creds/password" | sha256sum -c -\n'
        "COPY app.py /app/app.py\n"
    )
    git(docker, "add", "-A")
    git(docker, "commit", "-qm", "a Dockerfile")
    volumes = [{
        "name": "creds",
        "source": {"type": "Secret", "secret": {"secretName": "repo-creds"}},
        "mounts": [{"destinationPath": "/run/creds"}],
    }]  # fmt: skip
    apply(kubectl, ns, buildconfig(
        "docker-inputs", git_source(gitd, "docker-inputs"),
        {"type": "Docker", "dockerStrategy": {"volumes": volumes}},
        {"to": {"kind": "ImageStreamTag", "name": "docker:latest"}},
    ))  # fmt: skip

    for name in ("s2i-inputs", "docker-inputs"):
        kbuild("start-build", name, "-n", ns, kubeconfig=cluster.kubeconfig)
    for name in ("s2i-inputs", "docker-inputs"):
        # Build conditions: kubectl's own wait returns for a Build.
        kubectl("-n", ns, "wait", "--for=condition=Complete", f"build/{name}-1",
                "--timeout=600s", timeout=620)  # fmt: skip
        build = finished(kube, ns, f"{name}-1")
        assert build.status.phase == BuildPhase.COMPLETE, build.status

    places: dict[str, bytes] = {}
    for name in ("s2i-inputs-1", "docker-inputs-1"):
        places[f"build {name}"] = kubectl("-n", ns, "get", "build.build.openshift.io", name,
                                          "-o", "json").stdout.encode()  # fmt: skip
        logs = kbuild("logs", f"build/{name}", "-n", ns, kubeconfig=cluster.kubeconfig)
        places[f"logs {name}"] = (logs.stdout + logs.stderr).encode()
        pod = kubectl("-n", ns, "get", "pod", f"{name}-build", "-o", "json")
        places[f"pod {name}"] = pod.stdout.encode()
    logs_s2i = places["logs s2i-inputs-1"].decode()
    assert "pki/token: OK" in logs_s2i
    assert "settings/mode: OK" in logs_s2i
    assert "token env: OK" in logs_s2i
    assert "mode env: OK" in logs_s2i
    assert "/run/creds/password: OK" in places["logs docker-inputs-1"].decode()
    places["events"] = kubectl("-n", ns, "get", "events", "-o", "json").stdout.encode()
    client = registry_client()
    layers = 0
    for stream in ("s2i", "docker"):
        reference = f"{push_registry}/{ns}/{stream}:latest"
        manifest = client.resolve(reference)
        for layer in manifest.layers:
            blob = client.blob(reference, layer.digest, 1 << 30)
            places[f"{stream} layer {layer.digest}"] = _uncompressed(blob)
            layers += 1
        if stream == "docker":
            places["docker config"] = client.blob(reference, manifest.config.digest, 64 << 20)
    assert layers >= 4
    needles = [source_secret.encode(), volume_secret.encode()]
    leaks = [(where, needle[:13]) for where, data in places.items() for needle in needles
             if needle in data]  # fmt: skip
    assert leaks == []
