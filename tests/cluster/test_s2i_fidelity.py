"""S2I as source-to-image does it, in a real build pod.

One S2I build pod (as build_pod() describes it; no controller, as in
test_build_pod.py) builds a repository holding a ``.s2iignore`` and a file
it lists, with an env value holding ``$``.  The pushed image is read back
from the registry: every layer blob is listed, and the ignored file is in
none of them; the env value is the one written; the builder is recorded as
``io.openshift.build.image``.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import os
import secrets
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from builder.api import Build, BuildPhase, parse_as
from builder.controller.buildpod import build_pod
from builder.controller.config import ControllerConfig
from builder.controller.podstatus import interpret_pod
from tests.cluster.conftest import Kubectl, create_namespace
from tests.support.gitdaemon import GitDaemon, git, git_daemon

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(4)
BUILD_TIMEOUT_S = 20 * 60
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json"
)


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl, seccomp_profile: str) -> Iterator[str]:
    name = f"h-s2i-fidelity-{RUN_ID}"
    create_namespace(kubectl, name, build_pods=True)
    yield name
    if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
        kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def git_server(pod_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    with git_daemon(pod_host, tmp_path_factory.mktemp("git-served")) as daemon:
        yield daemon


def _get(push_registry: str, path: str, accept: str = "") -> bytes:
    request = urllib.request.Request(f"http://{push_registry}/v2/{path}")
    if accept:
        request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return bytes(response.read())


def _uncompressed(blob: bytes) -> bytes:
    return gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob


def _layer_names(blob: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(_uncompressed(blob))) as tar:
        return tar.getnames()


@pytest.fixture(scope="module")
def built(
    kubectl: Kubectl,
    namespace: str,
    registry: str,
    images: dict[str, str],
    git_server: GitDaemon,
) -> dict[str, Any]:
    repo = git_server.add_example("python-hello", "fidelity")
    (repo / "local-secret.txt").write_text("kbuild-s2iignore-canary\n")
    (repo / ".s2iignore").write_text("# not for the image\nlocal-secret.txt\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "an ignored file")
    output = f"{registry}/h-s2i-fidelity/app:{RUN_ID}"
    spec = {
        "source": {"git": {"uri": git_server.uri("fidelity"), "ref": "main"}},
        "strategy": {
            "sourceStrategy": {
                "from": {"kind": "DockerImage", "name": f"{registry}/{images['s2i-python']}"},
                "env": [{"name": "PASSWORD", "value": "pa$$w0rd"}],
            }
        },
        "output": {"to": {"kind": "DockerImage", "name": output}},
    }
    build = parse_as(
        Build,
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "Build",
            "metadata": {"name": "fidelity-1", "namespace": namespace, "uid": "uid-fidelity-1"},
            "spec": spec,
        },
    )
    config = ControllerConfig(
        registry=registry,
        build_pod_image=f"{registry}/{images['buildpod']}",
        insecure_registries=frozenset({registry}),
    )
    pod = copy.deepcopy(build_pod(build, config, pod_build=build))
    del pod["metadata"]["ownerReferences"]
    kubectl("-n", namespace, "create", "-f", "-", stdin=json.dumps(pod))
    name = pod["metadata"]["name"]
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while True:
        current = kubectl.json("-n", namespace, "get", "pod", name)
        outcome = interpret_pod(current)
        if outcome.terminal and current["status"]["phase"] in ("Succeeded", "Failed"):
            break
        assert time.monotonic() < deadline, f"build pod {name} still running"
        time.sleep(3)
    logs = "\n".join(
        kubectl("-n", namespace, "logs", name, "-c", c, check=False).stdout
        # As many containers as the build's secrets make (builder.controller.podlayout).
        for c in [
            x["name"]
            for x in [*current["spec"].get("initContainers", []), *current["spec"]["containers"]]
        ]
    )
    return {"outcome": outcome, "logs": logs, "output": output}


def test_s2iignore_keeps_the_file_out_of_every_layer_and_dollar_stays(
    built: dict[str, Any], push_registry: str
) -> None:
    outcome = built["outcome"]
    assert outcome.phase == BuildPhase.COMPLETE, (outcome, built["logs"])
    assert "Removed 1 paths listed in .s2iignore: local-secret.txt" in built["logs"]
    assert "kbuild-s2iignore-canary" not in built["logs"]

    repository, _, tag = built["output"].partition("/")[2].rpartition(":")
    manifest = json.loads(_get(push_registry, f"{repository}/manifests/{tag}", MANIFEST_TYPES))
    config = json.loads(_get(push_registry, f"{repository}/blobs/{manifest['config']['digest']}"))
    assert "PASSWORD=pa$$w0rd" in config["config"]["Env"]
    assert "io.openshift.build.image" in config["config"]["Labels"]

    names: list[str] = []
    for layer in manifest["layers"]:
        blob = _get(push_registry, f"{repository}/blobs/{layer['digest']}")
        assert b"kbuild-s2iignore-canary" not in _uncompressed(blob)
        names.extend(_layer_names(blob))
    assert any(n.endswith("app.py") for n in names)
    assert not any(n.endswith("local-secret.txt") for n in names)
