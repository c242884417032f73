"""The builder cache on a real cluster: two namespaces, one node, neither can touch the other.

Both namespaces (Pod Security ``baseline``) run build pods of the
``kbuild/buildpod-cache`` image (docs/build-pod.md, "The builder cache"), at
the same time, and each runs committer code that tries to reach the cache
and every other store it can name: through the pod's processes
(``/proc/<pid>/root``, as a chroot-isolated ``RUN`` step sees them) and by
path, to read them and to plant a file.  Namespace A's is a Docker build's
``RUN`` step as root; namespace B's is an S2I build whose repository's
``.s2i/bin/assemble`` tries the same as the builder's user before running
the builder's assemble.  Both must fail to reach anything (each log says
so), each image must stack on exactly the registry's builder layers, and a
new pod of each namespace must find the cache without the other's file.
Like test_build_pod.py, pods come from build_pod() directly, with no
controller.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from builder.api import Build, parse_as
from builder.controller.buildpod import build_pod
from builder.controller.config import ControllerConfig
from builder.controller.podstatus import interpret_pod
from builder.registry import RegistryClient
from tests.cluster.conftest import (
    BUILDPOD_TAG,
    Kubectl,
    build_images,
    create_namespace,
)
from tests.support.gitdaemon import GitDaemon, git, git_daemon

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(4)
BUILD_TIMEOUT_S = 20 * 60
CACHE = "/home/build/builder-cache"

# Committer code: every way a build step could name a store.
TARGETS = (
    f"/proc/[0-9]*/root{CACHE} /proc/[0-9]*/root/home/build/.local/share/containers "
    f"{CACHE} /home/build/.local/share/containers"
)
POISON_SH = f"""\
set +e
for d in {TARGETS}; do
  if ls "$d" >/dev/null 2>&1; then echo "READ $d"; fi
  if echo poisoned > "$d/poisoned" 2>/dev/null; then echo "WROTE $d"; fi
done
echo poison-attempts-done
"""
# Namespace A: a Docker RUN step, as root in the build's user namespace.
POISON = "RUN " + POISON_SH.strip().replace("\n", "; ").replace("do;", "do") + "\n"
# Namespace B: the repository's own assemble, then the builder's.
ASSEMBLE = f"#!/bin/sh\n{POISON_SH}exec /usr/libexec/s2i/assemble\n"


@pytest.fixture(scope="module")
def cache_image(push_registry: str, registry: str, images: dict[str, str]) -> str:
    build_images(push_registry, "buildpod-cache")
    # By digest: a node keeps what it has under a tag that is not "latest".
    tagged = f"{registry}/kbuild/buildpod-cache:{BUILDPOD_TAG}"
    digest = RegistryClient(insecure=lambda _host: True).resolve(tagged).digest
    return f"{registry}/kbuild/buildpod-cache@{digest}"


@pytest.fixture(scope="module")
def namespaces(kubectl: Kubectl, seccomp_profile: str) -> Iterator[tuple[str, str]]:
    names = (f"h-fast-a-{RUN_ID}", f"h-fast-b-{RUN_ID}")
    for name in names:
        create_namespace(kubectl, name, build_pods=True)
    yield names
    if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
        for name in names:
            kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def git_server(pod_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    with git_daemon(pod_host, tmp_path_factory.mktemp("git-cache")) as daemon:
        yield daemon


def _pod(build: dict[str, Any], config: ControllerConfig) -> dict[str, Any]:
    parsed = parse_as(Build, build)
    pod = copy.deepcopy(build_pod(parsed, config, pod_build=parsed))
    del pod["metadata"]["ownerReferences"]  # no Build object exists
    return pod


@pytest.fixture(scope="module")
def outcome(
    kubectl: Kubectl,
    namespaces: tuple[str, str],
    registry: str,
    images: dict[str, str],
    cache_image: str,
    git_server: GitDaemon,
) -> dict[str, Any]:
    ns_a, ns_b = namespaces
    client = RegistryClient(insecure=lambda _host: True)
    builder = f"{registry}/{images['s2i-python']}"
    digest = client.resolve(builder).digest
    pinned = f"{registry}/kbuild/s2i-python@{digest}"
    repo = git_server.add_example("python-hello", "hello")
    assemble = repo / ".s2i" / "bin" / "assemble"
    assemble.parent.mkdir(parents=True, exist_ok=True)
    assemble.write_text(ASSEMBLE)
    assemble.chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "poison")
    out = f"{registry}/kbuild-cache-test"
    config = ControllerConfig(
        registry=registry, build_pod_image=cache_image, insecure_registries=frozenset({registry})
    )
    attacker = {
        "apiVersion": "build.openshift.io/v1", "kind": "Build",
        "metadata": {"name": "poison-1", "namespace": ns_a, "uid": "uid-a"},
        "spec": {
            "source": {"dockerfile": f"FROM {pinned}\nUSER 0\n{POISON}"},
            "strategy": {"dockerStrategy": {"from": {"kind": "DockerImage", "name": pinned}}},
            "output": {"to": {"kind": "DockerImage", "name": f"{out}/poison:{RUN_ID}"}},
        },
    }  # fmt: skip
    victim = {
        "apiVersion": "build.openshift.io/v1", "kind": "Build",
        "metadata": {"name": "hello-1", "namespace": ns_b, "uid": "uid-b"},
        "spec": {
            "source": {"git": {"uri": git_server.uri("hello")}},
            "strategy": {"sourceStrategy": {"from": {"kind": "DockerImage", "name": pinned}}},
            "output": {"to": {"kind": "DockerImage", "name": f"{out}/hello:{RUN_ID}"}},
        },
    }  # fmt: skip
    pods = {ns_a: _pod(attacker, config), ns_b: _pod(victim, config)}
    for ns, pod in pods.items():
        kubectl("-n", ns, "create", "-f", "-", stdin=json.dumps(pod))
    results: dict[str, Any] = {
        "builder_digest": digest,
        "out": out,
        "outputs": {
            ns_a: attacker["spec"]["output"]["to"]["name"],  # type: ignore[index]
            ns_b: victim["spec"]["output"]["to"]["name"],  # type: ignore[index]
        },
    }
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while len(results) < 5:
        for ns, pod in pods.items():
            if ns in results:
                continue
            name = pod["metadata"]["name"]
            live = kubectl.json("-n", ns, "get", "pod", name)
            if live["status"].get("phase") in ("Succeeded", "Failed"):
                containers = [c["name"] for c in live["spec"].get("initContainers", [])]
                containers += [c["name"] for c in live["spec"]["containers"]]
                logs = {
                    c: kubectl("-n", ns, "logs", name, "-c", c, check=False).stdout
                    for c in containers
                }
                results[ns] = (interpret_pod(live), logs)
        assert time.monotonic() < deadline, "build pods still running"
        time.sleep(3)
    return results


def _probe(kubectl: Kubectl, ns: str, cache_image: str) -> str:
    """What a new pod of ``ns`` on the node finds planted in the cache (``find | wc -l``)."""
    probe = f"cache-probe-{RUN_ID}"
    overrides = {
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 0,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "probe", "image": cache_image,
                "command": ["sh", "-c", f"find {CACHE} -name poisoned 2>/dev/null | wc -l"],
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        }
    }  # fmt: skip
    kubectl("-n", ns, "run", probe, "--restart=Never", f"--image={cache_image}",
            f"--overrides={json.dumps(overrides)}")  # fmt: skip
    deadline = time.monotonic() + 300
    while kubectl.json("-n", ns, "get", "pod", probe)["status"].get("phase") not in (
        "Succeeded",
        "Failed",
    ):
        assert time.monotonic() < deadline, "the probe pod did not finish"
        time.sleep(2)
    return str(kubectl("-n", ns, "logs", probe).stdout.strip())


@pytest.mark.parametrize("side", [0, 1], ids=["A-docker-RUN-as-root", "B-s2i-assemble"])
def test_committer_code_of_each_namespace_cannot_poison_the_cache_for_the_other(
    outcome: dict[str, Any],
    namespaces: tuple[str, str],
    kubectl: Kubectl,
    cache_image: str,
    side: int,
) -> None:
    """Each namespace's build step reaches neither the cache nor any store, by
    path or through /proc; and whatever a container of it could change is its
    own writable layer: a new pod of the *other* namespace on the same node
    sees the cache as the image has it."""
    ns, other = namespaces[side], namespaces[1 - side]
    result, logs = outcome[ns]
    assert result.phase.value == "Complete", (result, logs)
    build_log = "\n".join(logs.values())
    assert "poison-attempts-done" in build_log, build_log
    # Observed: no path is reachable from a build step (chroot, and the ptrace
    # check on /proc/<pid>/root of the pod's processes; a glob only expands
    # to paths that can be reached).
    reached = [line for line in build_log.splitlines() if line.startswith(("READ ", "WROTE "))]
    assert reached == []
    assert _probe(kubectl, other, cache_image) == "0"


@pytest.mark.parametrize("side", [0, 1], ids=["A", "B"])
def test_each_namespace_builds_on_exactly_the_registry_builder_from_the_cache(
    outcome: dict[str, Any], namespaces: tuple[str, str], registry: str, side: int
) -> None:
    ns = namespaces[side]
    result, logs = outcome[ns]
    assert result.phase.value == "Complete", (result, logs)
    said = "\n".join(logs.values())
    assert "Storage driver: overlay" in said
    assert f"Builder cache: {CACHE} (" in said, said
    client = RegistryClient(insecure=lambda _host: True)
    base = _diff_ids(client, f"{registry}/kbuild/s2i-python@{outcome['builder_digest']}")
    built = _diff_ids(client, outcome["outputs"][ns])
    # The same uncompressed layers, in order: the cache held the registry's builder.
    assert built[: len(base)] == base
    assert len(built) > len(base)


def _diff_ids(client: RegistryClient, ref: str) -> list[str]:
    info = client.resolve(ref)
    config = json.loads(client.blob(ref, info.config.digest, 1 << 20))
    return [str(d) for d in config["rootfs"]["diff_ids"]]
