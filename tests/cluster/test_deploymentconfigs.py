"""DeploymentConfigs on a real cluster: OpenShift's sample, image triggers, undo, failures.

1. OpenShift's own ``deployment-simple`` DeploymentConfig, applied unchanged,
   rolls out (its UBI image is side-loaded into the node under its own name,
   as an air-gapped cluster is seeded; ``imagePullPolicy: IfNotPresent``);
2. seed 001's flow: a DeploymentConfig with an ImageChange trigger on
   ``foo:latest`` redeploys when ``kbuild tag`` moves the tag, and
   ``kbuild rollout undo`` goes back to the first image;
3. a Recreate and a Rolling DeploymentConfig whose readiness probe never
   passes end with OpenShift's ``ProgressDeadlineExceeded``.

The DeploymentConfig CRD is installed from ``crds/``; if this module
installed it, it removes it again, so other sessions on a shared cluster
see the cluster as they left it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from builder.api.apps import DeploymentConfig
from builder.kube import Kube, NotFound
from tests.cluster.conftest import REPO_ROOT, Cluster, Kubectl, create_namespace
from tests.cluster.support import Controller, apply, kbuild, wait_for

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(3)
SAMPLE = REPO_ROOT / "tests" / "data" / "openshift-origin" / "deployment-simple.yaml"
SAMPLE_IMAGE = "registry.access.redhat.com/ubi8/ubi-minimal:latest"
DC_CRD = "deploymentconfigs.apps.openshift.io"
# This session's port range (5170-5179): the controller's health/metrics port.
METRICS_PORT = 5171
BASE = "kbuild/base:bookworm"
OTHER = "kbuild/s2i-python:3.11"


@pytest.fixture(scope="module")
def crd(kubectl: Kubectl) -> Iterator[None]:
    existed = kubectl("get", "crd", DC_CRD, check=False).returncode == 0
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    kubectl("wait", "--for=condition=Established", f"crd/{DC_CRD}", "--timeout=60s")
    yield
    if not existed and os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
        # Waited for: a module after this one applies crds/ again, which cannot
        # recreate a CRD that is still terminating.
        kubectl("delete", "crd", DC_CRD, "--timeout=120s", check=False, timeout=150)


@pytest.fixture(scope="module")
def controller(
    cluster: Cluster, kubectl: Kubectl, crd: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    del crd
    ns = f"h-dc-{RUN_ID}"
    create_namespace(kubectl, ns)
    ctl = Controller(
        cluster.kubeconfig, cluster.registry, ns,
        tmp_path_factory.mktemp("ctl") / "controller.log", metrics_port=METRICS_PORT,
    )  # fmt: skip
    ctl.start()
    try:
        yield ctl
    finally:
        ctl.kill()
        if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


@pytest.fixture(scope="module")
def ns(controller: Controller) -> str:
    return controller.namespace


@pytest.fixture(scope="module")
def kube(cluster: Cluster, controller: Controller) -> Kube:
    del controller
    return Kube.connect(str(cluster.kubeconfig))


def cli(
    cluster: Cluster, ns: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return kbuild(*args, "-n", ns, kubeconfig=cluster.kubeconfig, check=check)


def get_dc(kube: Kube, ns: str, name: str) -> DeploymentConfig | None:
    try:
        return kube.deployment_configs.get(ns, name)
    except NotFound:
        return None


def progressing(kube: Kube, ns: str, name: str) -> tuple[int, str]:
    dc = get_dc(kube, ns, name)
    if dc is None:
        return 0, ""
    cond = next((c for c in dc.status.conditions if c.type == "Progressing"), None)
    return dc.status.latest_version, cond.reason if cond is not None else ""


def rolled_out(kube: Kube, ns: str, name: str, version: int, timeout: float = 180) -> None:
    def done() -> bool:
        return progressing(kube, ns, name) == (version, "NewReplicationControllerAvailable")

    wait_for(f"dc/{name} version {version} rolled out", done, timeout, every=2.0)


def rc_image(kubectl: Kubectl, ns: str, name: str) -> str:
    rc = kubectl.json("-n", ns, "get", "rc", name)
    image: str = rc["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def running_images(kubectl: Kubectl, ns: str, selector: str) -> set[str]:
    pods = kubectl.json("-n", ns, "get", "pods", "-l", selector)["items"]
    return {
        p["spec"]["containers"][0]["image"] for p in pods
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    }  # fmt: skip


def sleeper(name: str, image: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "replicas": 2,
        "selector": {"app": name},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [{
                    "name": "app", "image": image, "command": ["/bin/sleep", "infinity"],
                    "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1},
                }],
            },
        },
    }  # fmt: skip
    body.update(spec)
    return {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig",
            "metadata": {"name": name}, "spec": body}  # fmt: skip


# --------------------------------------------------------------------------- 1. the sample


def test_origin_sample_deployment_config_rolls_out_unchanged(
    cluster: Cluster, ns: str, kube: Kube, kubectl: Kubectl
) -> None:
    if not cluster.local:
        pytest.skip("side-loading the sample's image needs the local test cluster's containerd")
    ctr = ["ctr", "--address", "/run/kbuild-cluster/containerd/containerd.sock", "-n", "k8s.io"]
    source = f"{cluster.registry}/{BASE}"
    subprocess.run([*ctr, "images", "pull", "--plain-http", source], check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    subprocess.run([*ctr, "images", "tag", "--force", source, SAMPLE_IMAGE], check=True,
                   capture_output=True, timeout=60)  # fmt: skip

    kubectl("-n", ns, "apply", "-f", str(SAMPLE))
    done = cli(cluster, ns, "rollout", "status", "dc/deployment-simple", "--timeout", "180")
    assert 'replication controller "deployment-simple-1" successfully rolled out' in done.stdout
    rc = kubectl.json("-n", ns, "get", "rc", "deployment-simple-1")
    annotations = rc["metadata"]["annotations"]
    assert annotations["openshift.io/deployment-config.name"] == "deployment-simple"
    assert annotations["openshift.io/deployment-config.latest-version"] == "1"
    assert annotations["openshift.io/deployment.phase"] == "Complete"
    assert rc["metadata"]["ownerReferences"][0]["kind"] == "DeploymentConfig"
    assert running_images(kubectl, ns, "deployment=deployment-simple-1") == {SAMPLE_IMAGE}
    table = cli(cluster, ns, "get", "dc").stdout.splitlines()
    assert table[0].split() == ["NAME", "REVISION", "DESIRED", "CURRENT", "TRIGGERED", "BY"]
    assert table[1].split() == ["deployment-simple", "1", "1", "1", "config"]
    dc = get_dc(kube, ns, "deployment-simple")
    assert dc is not None
    assert [(c.type, c.status.value) for c in dc.status.conditions] == [
        ("Available", "True"), ("Progressing", "True")
    ]  # fmt: skip
    described = cli(cluster, ns, "describe", "dc/deployment-simple").stdout
    assert "Deployment #1 (latest):" in described
    assert "DeploymentCreated" in described


# --------------------------------------------------------------------------- 2. seed 001


def test_image_change_trigger_redeploys_on_tag_move_and_undo_goes_back(
    cluster: Cluster, ns: str, kube: Kube, kubectl: Kubectl
) -> None:
    registry = cluster.registry
    cli(cluster, ns, "tag", f"{registry}/{BASE}", "foo:latest")
    trigger = {"type": "ImageChange", "imageChangeParams": {
        "automatic": True, "containerNames": ["app"],
        "from": {"kind": "ImageStreamTag", "name": "foo:latest"}}}  # fmt: skip
    apply(kubectl, ns, sleeper("foo", " ", triggers=[{"type": "ConfigChange"}, trigger]))
    rolled_out(kube, ns, "foo", 1)
    first = rc_image(kubectl, ns, "foo-1")
    assert first.startswith(f"{registry}/kbuild/base@sha256:"), first

    cli(cluster, ns, "tag", f"{registry}/{OTHER}", "foo:latest")
    rolled_out(kube, ns, "foo", 2)
    second = rc_image(kubectl, ns, "foo-2")
    assert second.startswith(f"{registry}/kbuild/s2i-python@sha256:"), second
    dc = get_dc(kube, ns, "foo")
    assert dc is not None and dc.status.details is not None
    assert [c.type for c in dc.status.details.causes] == ["ImageChange"]
    wait_for("only the new pods", lambda: running_images(kubectl, ns, "app=foo") == {second})
    history = cli(cluster, ns, "rollout", "history", "dc/foo").stdout.splitlines()
    assert history[0] == 'deploymentconfigs "foo"'
    assert [line.split()[:3] for line in history[2:]] == [
        ["1", "Complete", "config"], ["2", "Complete", "image"]
    ]  # fmt: skip

    undo = cli(cluster, ns, "rollout", "undo", "dc/foo")
    assert undo.stdout == "deploymentconfig.apps.openshift.io/foo rolled back\n"
    assert "the following images triggers were disabled: foo:latest" in undo.stderr
    rolled_out(kube, ns, "foo", 3)
    assert rc_image(kubectl, ns, "foo-3") == first
    wait_for(
        "only the first image again", lambda: running_images(kubectl, ns, "app=foo") == {first}
    )
    # The trigger is off now; rollout latest deploys the tag's current image, as oc's
    # instantiate with latest: true does.
    latest = cli(cluster, ns, "rollout", "latest", "dc/foo")
    assert latest.stdout == "deploymentconfig.apps.openshift.io/foo rolled out\n"
    rolled_out(kube, ns, "foo", 4)
    assert rc_image(kubectl, ns, "foo-4") == second
    assert progressing(kube, ns, "foo") == (4, "NewReplicationControllerAvailable")


# --------------------------------------------------------------------------- 3. failures


@pytest.mark.parametrize("strategy", ["Recreate", "Rolling"])
def test_a_readiness_probe_that_never_passes_ends_in_progress_deadline_exceeded(
    cluster: Cluster, ns: str, kube: Kube, kubectl: Kubectl, strategy: str
) -> None:
    name = f"never-{strategy.lower()}"
    key = "recreateParams" if strategy == "Recreate" else "rollingParams"
    body = sleeper(name, f"{cluster.registry}/{BASE}", replicas=1,
                   strategy={"type": strategy, key: {"timeoutSeconds": 20}})  # fmt: skip
    body["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"] = [
        "false"
    ]
    apply(kubectl, ns, body)
    wait_for(
        f"dc/{name} to fail",
        lambda: progressing(kube, ns, name) == (1, "ProgressDeadlineExceeded"),
        timeout=120, every=2.0,
    )  # fmt: skip
    status = cli(cluster, ns, "rollout", "status", f"dc/{name}", check=False)
    assert status.returncode == 1
    assert f'replication controller "{name}-1" has failed progressing' in status.stderr
    rc = kubectl.json("-n", ns, "get", "rc", f"{name}-1")
    assert rc["metadata"]["annotations"]["openshift.io/deployment.phase"] == "Failed"
    assert rc["spec"]["replicas"] == 0
    dc = get_dc(kube, ns, name)
    assert dc is not None
    available = next(c for c in dc.status.conditions if c.type == "Available")
    assert available.status.value == "False"
