"""Session fixtures for the cluster tier: a kubeconfig, the registry, kubectl.

Selecting the tier (``pytest -m cluster``, or naming ``tests/cluster``) brings
up the project's own one-node cluster with ``hack/cluster.sh up`` (root only;
seconds when the binaries are cached, 6-15 minutes on a cold machine)
and takes it down again at the end if the session started it. A plain
``pytest`` of the whole tree skips this tier instead of compiling Kubernetes
behind the back of someone who wanted the unit tests; ``KBUILD_TEST_CLUSTER=1``
opts in as well.

To run the same tests against any other cluster (kind, k3d, a real one), set:

* ``KBUILD_TEST_KUBECONFIG``: kubeconfig of that cluster; nothing is brought up.
* ``KBUILD_TEST_REGISTRY``: host:port of a plain-HTTP registry that the
  cluster's nodes pull from and its pods can reach.
* ``KBUILD_TEST_PUSH_REGISTRY`` (optional): the same registry as this machine
  reaches it, when that differs (a kind node sees a different address).
* ``KBUILD_KUBECTL`` (optional): the kubectl binary, else ``kubectl`` on PATH.
* ``KBUILD_TEST_KUBELET_ROOT`` (optional): the nodes' kubelet ``--root-dir``,
  where the seccomp installer puts the build pods' profile (default
  ``/var/lib/kubelet``).

``KBUILD_TEST_KEEP_CLUSTER=1`` leaves a cluster this session started running,
so the next session starts in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# The build pod image's tag: its own per checkout when several checkouts test
# against one cluster (KBUILD_TEST_BUILDPOD_TAG), so pods run this code.
BUILDPOD_TAG = os.environ.get("KBUILD_TEST_BUILDPOD_TAG", "latest")
CLUSTER_SH = REPO_ROOT / "hack" / "cluster.sh"

# A cold `up` compiles Kubernetes; on 2 cores that is the bulk of this.
UP_TIMEOUT_S = 45 * 60


@dataclass(frozen=True)
class Cluster:
    """Where the tests find the cluster and its registry."""

    kubeconfig: Path
    # host:port as the node's container runtime and the pods see the registry.
    registry: str
    # host:port as this test process reaches the same registry.
    push_registry: str
    kubectl_bin: str
    # True when the cluster is the local one from hack/cluster.sh: its node
    # and service networks are routed on this machine.
    local: bool
    # The nodes' kubelet --root-dir: seccomp profiles live in <root>/seccomp.
    kubelet_root: str = "/var/lib/kubelet"


class Kubectl:
    """kubectl bound to the cluster's kubeconfig; failures raise with stderr."""

    def __init__(self, binary: str, kubeconfig: Path) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig

    def __call__(
        self,
        *args: str,
        stdin: str | None = None,
        check: bool = True,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [self.binary, "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def json(self, *args: str, timeout: float = 120) -> Any:
        return json.loads(self(*args, "-o", "json", timeout=timeout).stdout)

    def apply(self, manifest: dict[str, Any], namespace: str | None = None) -> None:
        ns = ["-n", namespace] if namespace else []
        self(*ns, "apply", "-f", "-", stdin=json.dumps(manifest))


def _parse_exports(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value
    return env


def _cluster_sh(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(CLUSTER_SH), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _tier_selected(config: pytest.Config) -> bool:
    if os.environ.get("KBUILD_TEST_CLUSTER") == "1" or os.environ.get("KBUILD_TEST_KUBECONFIG"):
        return True
    markexpr = str(config.getoption("markexpr") or "")
    if "cluster" in markexpr and "not cluster" not in markexpr:
        return True
    here = Path(__file__).resolve().parent
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == here or here in path.parents:
            return True
    return False


@pytest.fixture(scope="session")
def cluster(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    if not _tier_selected(pytestconfig):
        pytest.skip(
            "cluster tier not selected: run `pytest -m cluster` or `pytest tests/cluster` "
            "(or set KBUILD_TEST_CLUSTER=1 / KBUILD_TEST_KUBECONFIG)"
        )
    external = os.environ.get("KBUILD_TEST_KUBECONFIG")
    if external:
        registry = os.environ.get("KBUILD_TEST_REGISTRY")
        if not registry:
            pytest.fail("KBUILD_TEST_KUBECONFIG is set, so KBUILD_TEST_REGISTRY must be too")
        kubectl_bin = os.environ.get("KBUILD_KUBECTL") or shutil.which("kubectl")
        if not kubectl_bin:
            pytest.fail("no kubectl: put it on PATH or set KBUILD_KUBECTL")
        yield Cluster(
            kubeconfig=Path(external),
            registry=registry,
            push_registry=os.environ.get("KBUILD_TEST_PUSH_REGISTRY", registry),
            kubectl_bin=kubectl_bin,
            local=False,
            kubelet_root=os.environ.get("KBUILD_TEST_KUBELET_ROOT", "/var/lib/kubelet"),
        )
        return

    if os.geteuid() != 0:
        pytest.fail(
            "the local test cluster needs root (hack/cluster.sh up); "
            "or point KBUILD_TEST_KUBECONFIG at an existing cluster"
        )
    # `up` is idempotent and serialised by a lock: with another session's
    # cluster up (or coming up), it waits, then reports "already up" and we
    # leave that cluster alone at the end.
    up = _cluster_sh("up", timeout=UP_TIMEOUT_S)
    if up.returncode != 0:
        pytest.fail(f"hack/cluster.sh up failed:\n{up.stderr[-6000:]}")
    was_up = "already up" in up.stderr
    env = _parse_exports(_cluster_sh("env", timeout=60).stdout)
    try:
        yield Cluster(
            kubeconfig=Path(env["KUBECONFIG"]),
            registry=env["KBUILD_REGISTRY"],
            push_registry=env["KBUILD_REGISTRY"],
            kubectl_bin=env["KBUILD_KUBECTL"],
            local=True,
            kubelet_root=env["KBUILD_KUBELET_ROOT"],
        )
    finally:
        if not was_up and os.environ.get("KBUILD_TEST_KEEP_CLUSTER") != "1":
            down = _cluster_sh("down", timeout=300)
            if down.returncode != 0:
                pytest.fail(f"hack/cluster.sh down failed:\n{down.stderr[-4000:]}")


@pytest.fixture(scope="session")
def kubeconfig(cluster: Cluster) -> Path:
    return cluster.kubeconfig


@pytest.fixture(scope="session")
def registry(cluster: Cluster) -> str:
    """host:port of the registry as the node pulls from it and pods reach it."""
    return cluster.registry


@pytest.fixture(scope="session")
def push_registry(cluster: Cluster) -> str:
    """host:port of the same registry as this test process reaches it."""
    return cluster.push_registry


@pytest.fixture(scope="session")
def kubectl(cluster: Cluster) -> Kubectl:
    return Kubectl(cluster.kubectl_bin, cluster.kubeconfig)


def build_images(push_registry: str, *names: str) -> None:
    """``images/build.sh NAMES`` into the registry, skipping what is current; else the test fails.

    The build pod image (and the images built on it) get this checkout's
    tag, ``KBUILD_TEST_BUILDPOD_TAG``.
    """
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "images" / "build.sh"), "--registry", push_registry,
         "--tls-verify=false", *names],
        capture_output=True, text=True, check=False, timeout=40 * 60,
        env={**os.environ, "KBUILD_BUILDPOD_TAG": BUILDPOD_TAG},
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"images/build.sh {' '.join(names)} failed:\n{done.stderr[-4000:]}")


@pytest.fixture(scope="session")
def images(push_registry: str) -> dict[str, str]:
    """base, s2i-python and the build pod image in the registry, built if out of date.

    The build pod image holds this checkout's kbuild package, so pods run the
    code under test. ``images/build.sh`` skips whatever is already current.
    """
    build_images(push_registry, "base", "s2i-python", "buildpod")
    return {
        "base": "kbuild/base:bookworm",
        "s2i-python": "kbuild/s2i-python:3.11",
        "buildpod": f"kbuild/buildpod:{BUILDPOD_TAG}",
    }


@pytest.fixture(scope="session")
def nodejs_builder(push_registry: str, images: dict[str, str]) -> str:
    """The Node.js S2I builder in the registry (seed 000's builder), built if out of date."""
    del images  # built FROM kbuild/base, which that fixture puts in the registry
    build_images(push_registry, "s2i-nodejs")
    return "kbuild/s2i-nodejs:18"


@pytest.fixture(scope="session")
def seccomp_profile(cluster: Cluster, kubectl: Kubectl, images: dict[str, str]) -> str:
    """The build pods' seccomp profile on every node, installed as shipped; its Localhost name.

    deploy/seccomp-profile.yaml and deploy/seccomp-installer.yaml, with only
    the registry, the pull policy (the image under test) and the kubelet's
    root directory filled in.  Left installed at the end, like the CRDs: the
    files on the nodes outlive the DaemonSet anyway, and another session's
    build pods may be using them.
    """
    deploy = REPO_ROOT / "deploy"
    docs = [d for d in yaml.safe_load_all((deploy / "seccomp-profile.yaml").read_text()) if d]
    installer = (deploy / "seccomp-installer.yaml").read_text()
    installer = installer.replace("__REGISTRY__", cluster.registry)
    default_dir = "/var/lib/kubelet/seccomp/"
    installer = installer.replace(default_dir, f"{cluster.kubelet_root}/seccomp/")
    docs += [d for d in yaml.safe_load_all(installer) if d]
    for doc in docs:
        if doc["kind"] == "DaemonSet":
            doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    rollout = kubectl(
        "-n", "kbuild-system", "rollout", "status", "daemonset/kbuild-seccomp-installer",
        "--timeout=240s", check=False, timeout=260,
    )  # fmt: skip
    if rollout.returncode != 0:
        pods = kubectl("-n", "kbuild-system", "describe", "pods", "-l",
                       "app=kbuild-seccomp-installer", check=False).stdout  # fmt: skip
        pytest.fail(f"the seccomp installer did not become ready: {rollout.stderr}\n{pods}")
    [config_map] = [d for d in docs if d["kind"] == "ConfigMap"]
    [name] = config_map["data"]
    if cluster.local:
        installed = Path(cluster.kubelet_root, "seccomp", "kbuild", name)
        assert installed.read_text() == config_map["data"][name], installed
    return f"kbuild/{name}"


@pytest.fixture(scope="session")
def pod_host(cluster: Cluster) -> str:
    """An address of this machine that pods reach (for git and extra registries)."""
    host = os.environ.get("KBUILD_TEST_GIT_HOST", "")
    if not host and not cluster.local:
        pytest.skip("set KBUILD_TEST_GIT_HOST to an address of this machine the pods reach")
    return host or cluster.registry.rpartition(":")[0]


def create_namespace(kubectl: Kubectl, name: str, *, build_pods: bool = False) -> None:
    """Create ``name`` and wait for its default ServiceAccount (pods need it).

    ``build_pods`` labels it for Pod Security's "baseline" level, which admits
    the build pod with its Localhost seccomp profile (docs/build-pod.md; the
    ``seccomp_profile`` fixture installs it), so every build of the tier runs
    where a platform team would let it.
    """
    kubectl("create", "namespace", name)
    if build_pods:
        kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=baseline")
    deadline = time.monotonic() + 60
    while kubectl("-n", name, "get", "serviceaccount", "default", check=False).returncode != 0:
        assert time.monotonic() < deadline, f"no default ServiceAccount in {name} after 60s"
        time.sleep(1)


def trust_registry(cluster: Cluster, host: str) -> None:
    """Let the cluster's node pull from another plain-HTTP registry (``host:port``).

    On the local cluster that is ``hack/cluster.sh trust-registry``; another
    cluster's nodes must already trust it (``KBUILD_TEST_TRUSTED_REGISTRIES``
    lists them), else the test that needs it is skipped.
    """
    if cluster.local:
        done = _cluster_sh("trust-registry", host, timeout=60)
        if done.returncode != 0:
            pytest.fail(f"hack/cluster.sh trust-registry {host} failed:\n{done.stderr}")
        return
    trusted = os.environ.get("KBUILD_TEST_TRUSTED_REGISTRIES", "").split(",")
    if host not in trusted:
        pytest.skip(f"the cluster's nodes must be able to pull from {host} over plain HTTP")
