"""What the cluster tests that run a controller share: the process, waits, manifests.

A ``kbuild controller`` runs on this machine against the cluster, limited to
one namespace with a lease of its own, so each test module can start, kill
and restart its own without disturbing another.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from builder.api import Build, BuildPhase
from builder.kube import Kube, NotFound
from builder.registry import RegistryClient
from tests.cluster.conftest import BUILDPOD_TAG, REPO_ROOT, Kubectl
from tests.support.gitdaemon import GitDaemon
from tests.support.registry import free_port

TERMINAL = {BuildPhase.COMPLETE, BuildPhase.FAILED, BuildPhase.ERROR, BuildPhase.CANCELLED}


@dataclass
class Controller:
    """A ``kbuild controller`` process this module can kill and restart."""

    kubeconfig: Path
    registry: str
    namespace: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    extra: list[str] = field(default_factory=list)
    # Health, metrics and notifications port; a free one is picked when 0.
    metrics_port: int = 0

    # BuildConfig webhooks have a port of their own; a free one is picked when 0.
    webhooks_port: int = 0

    @property
    def port(self) -> int:
        if not self.metrics_port:
            self.metrics_port = free_port()
        return self.metrics_port

    @property
    def webhook_port(self) -> int:
        if not self.webhooks_port:
            self.webhooks_port = free_port()
        return self.webhooks_port

    def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "builder.cli.main", "controller",
             "--kubeconfig", str(self.kubeconfig), "--registry", self.registry,
             "--insecure-registry", self.registry, "--namespace", self.namespace,
             "--lease-namespace", self.namespace, "--metrics-port", str(self.port),
             "--webhook-port", str(self.webhook_port),
             "--build-pod-image", f"{self.registry}/kbuild/buildpod:{BUILDPOD_TAG}",
             "--identity", f"test-{self.starts}", "--resync-seconds", "20", *self.extra],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
        )  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def apply(kubectl: Kubectl, namespace: str, obj: dict[str, Any]) -> None:
    kubectl("-n", namespace, "apply", "-f", "-", stdin=yaml.safe_dump(obj))


def kbuild(*args: str, kubeconfig: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli.main", *args, "--kubeconfig", str(kubeconfig)],
        capture_output=True, text=True, check=False, cwd=REPO_ROOT, timeout=300,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise AssertionError(f"kbuild {' '.join(args)}: {done.stderr}")
    return done


def wait_for(what: str, check: Callable[[], Any], timeout: float = 240, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def finished(kube: Kube, namespace: str, name: str, timeout: float = 240) -> Build:
    def done() -> Build | None:
        try:
            build = kube.builds.get(namespace, name)
        except NotFound:
            return None
        return build if build.status.phase in TERMINAL else None

    result: Build = wait_for(f"build {name} to finish", done, timeout)
    return result


def buildconfig(
    name: str,
    source: dict[str, Any],
    strategy: dict[str, Any],
    output: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": name},
        "spec": {"source": source, "strategy": strategy, "output": output or {}, **spec},
    }


def source_strategy(image: str, kind: str = "DockerImage", namespace: str = "") -> dict[str, Any]:
    ref = {"kind": kind, "name": image, **({"namespace": namespace} if namespace else {})}
    return {"type": "Source", "sourceStrategy": {"from": ref}}


def git_source(gitd: GitDaemon, repo: str, ref: str = "main") -> dict[str, Any]:
    return {"type": "Git", "git": {"uri": gitd.uri(repo), "ref": ref}}


def registry_client() -> RegistryClient:
    return RegistryClient(insecure=lambda _host: True)


def grant_images(
    kubectl: Kubectl, namespace: str, verb: str, *, group: str = "", service_account: str = ""
) -> None:
    """Let a subject ``get`` (pull) or ``update`` (push) the image streams of ``namespace``.

    What deploy/rbac.yaml's ``system:image-puller`` / ``system:image-builder``
    ClusterRoles grant, written as a Role here so the test needs no
    cluster-scoped objects (docs/security.md).
    """
    role = f"kbuild-test-image-{verb}"
    verbs = ["get", "update"] if verb == "update" else ["get"]
    kubectl("-n", namespace, "apply", "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": role},
        "rules": [{"apiGroups": ["image.openshift.io"], "resources": ["imagestreams/layers"],
                   "verbs": verbs}],
    }))  # fmt: skip
    if group:
        subject = {"kind": "Group", "name": group, "apiGroup": "rbac.authorization.k8s.io"}
    else:
        sa_namespace, _, sa_name = service_account.partition(":")
        subject = {"kind": "ServiceAccount", "namespace": sa_namespace, "name": sa_name}
    kubectl("-n", namespace, "apply", "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": f"{role}-{abs(hash(str(subject))) % 10**8}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        "subjects": [subject],
    }))  # fmt: skip
