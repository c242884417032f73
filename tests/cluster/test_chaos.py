"""Chaos on the real cluster: a SIGKILLed leader, an API server restart, a registry gone mid-push.

The scenarios of ``bench/chaos.py`` (which prints figures at full size) as
tests, smaller where the size adds nothing to the claim:

- two controller replicas with leader election; the leader is SIGKILLed in
  the middle of an ImageChange fan-out: after the standby takes over every
  BuildConfig has exactly one new Build (none lost, none twice);
- ``hack/cluster.sh restart kube-apiserver`` while a build runs: the build
  completes and its output tag moves once;
- the output registry (one of this module's own, so nobody else's pushes
  fail) is killed when the push's first upload reaches it: the Build fails
  with ``PushImageToRegistryFailed`` and neither the stream nor the
  registry holds anything for the tag.

The API server restart is a few seconds of outage for everyone on the
cluster; it is done once per run.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from builder.api import Build, BuildConfig, BuildPhase, ImageStream, TagEvent, now_time, parse_as
from builder.api.image import NamedTagEventList
from builder.kube import Kube, KubeError, NotFound
from builder.streams.buildtriggers import record_images
from tests.cluster.conftest import CLUSTER_SH, Cluster, Kubectl, _cluster_sh, create_namespace
from tests.cluster.support import Controller, apply, buildconfig, finished, kbuild, wait_for
from tests.support.gitdaemon import GitDaemon, git, git_daemon
from tests.support.registry import start_registry

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(3)
FANOUT = 40
# The chaos engineer's port range on the shared machine (5220-5229).
OWN_REGISTRY_PORT = int(os.environ.get("KBUILD_TEST_CHAOS_REGISTRY_PORT", "5227"))


@pytest.fixture(scope="module")
def gitd(pod_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    with git_daemon(pod_host, tmp_path_factory.mktemp("git")) as daemon:
        yield daemon


def dockerfile_repo(gitd: GitDaemon, name: str, dockerfile: str) -> str:
    repo = gitd.base / name
    repo.mkdir()
    (repo / "Dockerfile").write_text(dockerfile)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", name)
    return gitd.uri(name)


def docker_strategy(cluster: Cluster) -> dict[str, object]:
    base = {"kind": "DockerImage", "name": f"{cluster.registry}/kbuild/base:bookworm"}
    return {"type": "Docker", "dockerStrategy": {"from": base}}


def tag_images(kube: Kube, ns: str, stream: str, tag: str) -> list[str]:
    try:
        found = kube.image_streams.get(ns, stream)
    except NotFound:
        return []
    named = [t for t in found.status.tags if t.tag == tag]
    return [i.image for i in (named[0].items or [])] if named else []


@contextmanager
def namespace(kubectl: Kubectl, label: str, *, build_pods: bool) -> Iterator[str]:
    ns = f"h-chaos-{label}-{RUN_ID}"
    create_namespace(kubectl, ns, build_pods=build_pods)
    try:
        yield ns
    finally:
        if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


# --------------------------------------------------------------------------- leader


def lease_holder(kube: Kube, ns: str) -> str:
    try:
        lease = kube.get_lease(ns, "kbuild-controller")
    except (NotFound, KubeError):
        return ""
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def test_leader_sigkilled_mid_fanout_leaves_exactly_one_build_per_buildconfig(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    with namespace(kubectl, "leader", build_pods=False) as ns:
        kube = Kube.connect(str(cluster.kubeconfig))
        # Builds are created and never run: the claim is about instantiation.
        kubectl("-n", ns, "apply", "-f", "-", stdin=(
            "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: no-pods}\n"
            "spec: {hard: {pods: '0'}}\n"))  # fmt: skip

        def event(n: int) -> TagEvent:
            image = f"sha256:{n:064x}"
            ref = f"{cluster.registry}/{ns}/base@{image}"
            return TagEvent(created=now_time(), docker_image_reference=ref, image=image,
                            generation=n)  # fmt: skip

        base = kube.image_streams.create(
            parse_as(ImageStream, {"metadata": {"name": "base", "namespace": ns}})
        )
        base.status.tags = [NamedTagEventList(tag="v0", items=[event(1)])]
        kube.image_streams.replace_status(base)
        for i in range(FANOUT):
            bc = kube.build_configs.create(parse_as(BuildConfig, {
                "metadata": {"name": f"bc-{i}", "namespace": ns},
                "spec": {
                    "source": {"git": {"uri": "https://example.invalid/app.git"}},
                    "strategy": {"type": "Docker", "dockerStrategy": {
                        "from": {"kind": "ImageStreamTag", "name": "base:v0"}}},
                    "output": {"to": {"kind": "ImageStreamTag", "name": f"out-{i}:latest"}},
                    "triggers": [{"type": "ImageChange", "imageChange": {}}],
                },
            }))  # fmt: skip
            record_images(bc, {(ns, "base:v0"): event(1).docker_image_reference}, now_time())
            kube.build_configs.replace_status(bc)

        replicas = []
        for name in ("a", "b"):
            replica = Controller(cluster.kubeconfig, cluster.registry, ns,
                                 tmp_path / f"controller-{name}.log")  # fmt: skip
            replica.extra = ["--identity", f"chaos-{name}"]
            replicas.append(replica)
        first, second = replicas
        try:
            first.start()
            wait_for("replica a to lead", lambda: lease_holder(kube, ns) == "chaos-a", 90, 0.5)
            wait_for("its workers", lambda: "controller running" in first.log(), 90, 0.5)
            second.start()
            time.sleep(3)
            stream = kube.image_streams.get(ns, "base")
            stream.status.tags[0].items = [event(2), *(stream.status.tags[0].items or [])]
            kube.image_streams.replace_status(stream)
            wait_for("the fan-out to begin", lambda: len(kube.builds.list(ns)[0]) >= 5, 60, 0.05)
            first.kill()
            wait_for("replica b to lead", lambda: lease_holder(kube, ns) == "chaos-b", 90, 0.5)
            wait_for(f"{FANOUT} builds", lambda: len(kube.builds.list(ns)[0]) >= FANOUT, 120)
            time.sleep(10)  # a late duplicate would show by now
            builds = kube.builds.list(ns)[0]
            per_config = Counter(
                (b.metadata.annotations or {}).get("openshift.io/build-config.name") for b in builds
            )
            assert per_config == Counter({f"bc-{i}": 1 for i in range(FANOUT)})
            for bc in kube.build_configs.list(ns)[0]:
                assert bc.status.last_version == 1, bc.metadata.name
        finally:
            for replica in replicas:
                replica.kill()


# ------------------------------------------------------------------------ real builds


@pytest.fixture(scope="module")
def build_env(
    cluster: Cluster,
    kubectl: Kubectl,
    images: dict[str, str],
    seccomp_profile: str,
    pod_host: str,
) -> Iterator[str]:
    del images, seccomp_profile  # pushed and installed: build pods can run
    with namespace(kubectl, "builds", build_pods=True) as ns:
        yield ns


def test_apiserver_restarted_during_a_running_build_completes_and_moves_the_tag_once(
    cluster: Cluster,
    kubectl: Kubectl,
    build_env: str,
    gitd: GitDaemon,
    pod_host: str,
    tmp_path: Path,
) -> None:
    if not cluster.local:
        pytest.skip("restarts the local cluster's API server (hack/cluster.sh restart)")
    ns = build_env
    kube = Kube.connect(str(cluster.kubeconfig))
    uri = dockerfile_repo(gitd, "slow", f"FROM {cluster.registry}/kbuild/base:bookworm\n"
                                        "RUN sleep 30\n")  # fmt: skip
    output = {"to": {"kind": "ImageStreamTag", "name": "slow:latest"}}
    source = {"git": {"uri": uri, "ref": "main"}}
    apply(kubectl, ns, buildconfig("slow", source, docker_strategy(cluster), output))
    controller = Controller(cluster.kubeconfig, cluster.registry, ns, tmp_path / "controller.log")
    controller.extra = ["--insecure-registry", pod_host, "--identity", "chaos-api"]
    controller.start()
    stop = threading.Event()
    # An outage longer than the renew deadline (10 s) ends the controller on
    # purpose (builder.controller.leader); its Deployment would start it again.
    threading.Thread(target=keep_running, args=(controller, stop), daemon=True).start()
    try:
        kbuild("start-build", "slow", "-n", ns, kubeconfig=cluster.kubeconfig)
        wait_for("slow-1 to run", lambda: _phase(kube, ns, "slow-1") == BuildPhase.RUNNING, 300)
        time.sleep(3)
        restarted = _cluster_sh("restart", "kube-apiserver", timeout=300)
        assert restarted.returncode == 0, f"{CLUSTER_SH} restart: {restarted.stderr}"
        build = finished(kube, ns, "slow-1", timeout=600)
        assert build.status.phase == BuildPhase.COMPLETE, build.status
        digest = build.status.output.to.image_digest if build.status.output.to else ""
        assert digest and tag_images(kube, ns, "slow", "latest") == [digest]
        assert [b.metadata.name for b in kube.builds.list(ns)[0]
                if b.metadata.name.startswith("slow-")] == ["slow-1"]  # fmt: skip
    finally:
        stop.set()
        controller.kill()


def keep_running(controller: Controller, stop: threading.Event) -> None:
    """Start ``controller`` again whenever it exits, as a Deployment's kubelet would."""
    while not stop.wait(0.5):
        process = controller.process
        if process is not None and process.poll() is not None and not stop.wait(1.0):
            controller.start()


def test_registry_stopped_during_a_push_fails_the_build_with_a_typed_reason_and_writes_nothing(
    cluster: Cluster,
    kubectl: Kubectl,
    build_env: str,
    gitd: GitDaemon,
    pod_host: str,
    tmp_path: Path,
) -> None:
    ns = build_env
    kube = Kube.connect(str(cluster.kubeconfig))
    own = start_registry(tmp_path / "registry", listen=pod_host, port=OWN_REGISTRY_PORT)
    try:
        # Random bytes do not compress: the push of this layer takes a while.
        uri = dockerfile_repo(gitd, "big", f"FROM {cluster.registry}/kbuild/base:bookworm\n"
                                           "RUN head -c 150M /dev/urandom > /blob\n")  # fmt: skip
        output = {"to": {"kind": "ImageStreamTag", "name": "big:latest"}}
        source = {"git": {"uri": uri, "ref": "main"}}
        apply(kubectl, ns, buildconfig("big", source, docker_strategy(cluster), output))
        # ImageStreamTag outputs of this controller go to our registry.
        controller = Controller(cluster.kubeconfig, own.host, ns, tmp_path / "controller.log")
        controller.extra = [
            "--insecure-registry", pod_host, "--identity", "chaos-registry",
            "--build-pod-image", f"{cluster.registry}/kbuild/buildpod:"
            f"{os.environ.get('KBUILD_TEST_BUILDPOD_TAG', 'latest')}",
        ]  # fmt: skip
        controller.start()
        try:
            kbuild("start-build", "big", "-n", ns, kubeconfig=cluster.kubeconfig)
            wait_for("the push to reach the registry", lambda: "blobs/uploads" in own.log(),
                     600, 0.05)  # fmt: skip
            own.process.kill()
            own.process.wait(timeout=10)
            build = finished(kube, ns, "big-1", timeout=600)
        finally:
            controller.kill()
        assert build.status.phase == BuildPhase.FAILED, build.status
        assert build.status.reason == "PushImageToRegistryFailed", build.status
        assert f"{own.host}/{ns}/big:latest" in build.status.message, build.status.message
        assert build.status.output.to is None or not build.status.output.to.image_digest
        assert tag_images(kube, ns, "big", "latest") == []
        own.restart()
        assert _manifest_status(own.url, f"{ns}/big", "latest") == 404
    finally:
        own.cleanup()


def _phase(kube: Kube, ns: str, name: str) -> BuildPhase | None:
    try:
        build: Build = kube.builds.get(ns, name)
    except (NotFound, KubeError):
        return None
    return build.status.phase


def _manifest_status(url: str, repo: str, tag: str) -> int:
    accept = (
        "application/vnd.oci.image.manifest.v1+json, "
        "application/vnd.docker.distribution.manifest.v2+json"
    )
    request = urllib.request.Request(  # noqa: S310 - our own registry's http URL
        f"{url}/v2/{repo}/manifests/{tag}", method="HEAD", headers={"Accept": accept}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as err:
        return err.code
