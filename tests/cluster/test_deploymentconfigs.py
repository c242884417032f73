"""DeploymentConfigs on a real cluster: OpenShift's sample, image triggers, undo, failures.

1. OpenShift's own ``deployment-simple`` DeploymentConfig, applied unchanged,
   rolls out (its UBI image is side-loaded into the node under its own name,
   as an air-gapped cluster is seeded; ``imagePullPolicy: IfNotPresent``);
2. seed 001's flow: a DeploymentConfig with an ImageChange trigger on
   ``foo:latest`` redeploys when ``kbuild tag`` moves the tag, and
   ``kbuild rollout undo`` goes back to the first image;
3. a Recreate and a Rolling DeploymentConfig whose readiness probe never
   passes end with OpenShift's ``ProgressDeadlineExceeded``;
4. OpenShift's sample-app (``examples/sample-app/application-template-stibuild.json``):
   its two DeploymentConfigs, a Rolling one with pre and post hooks and a
   Recreate one with pre, mid and post hooks that mount a volume, processed
   and applied unchanged but for one image (below), roll out with their hook
   pods; ``kbuild logs dc/NAME`` shows the hooks;
5. ``rollout latest``, ``cancel``, ``retry``, ``pause``, ``resume`` and
   ``kbuild rollback`` as oc; ``set triggers dc/NAME``;
6. a ``tagImages`` hook tags the rollout's image into a stream.

The sample's images: its frontend runs what its BuildConfig would build
(``origin-ruby-sample:latest``, followed by an ImageChange trigger); the
build needs github.com, so a stand-in image (the local Debian base with
``sleep infinity`` as its command) is tagged there with ``kbuild tag``, as a
finished build would.  Its database runs ``centos/mysql-57-centos7:latest``
with ``imagePullPolicy: Always``, which an air-gapped node cannot pull: that
one ``image`` field is mapped to the stand-in in the local registry, as an
air-gapped cluster's mirror maps it (``image_map``).  Nothing else changes;
the BuildConfig, its builder stream and the Route are not applied.

The DeploymentConfig CRD is installed from ``crds/``; if this module
installed it, it removes it again, so other sessions on a shared cluster
see the cluster as they left it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from builder.api.apps import DeploymentConfig
from builder.kube import Kube, NotFound
from tests.cluster.conftest import REPO_ROOT, Cluster, Kubectl, create_namespace
from tests.cluster.support import Controller, apply, kbuild, wait_for
from tests.support.images import ImageBuilder

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(3)
SAMPLE = REPO_ROOT / "tests" / "data" / "openshift-origin" / "deployment-simple.yaml"
SAMPLE_IMAGE = "registry.access.redhat.com/ubi8/ubi-minimal:latest"
DC_CRD = "deploymentconfigs.apps.openshift.io"
# This session's port range (5250-5259): the controller's health/metrics and webhook ports.
METRICS_PORT = 5251
WEBHOOK_PORT = 5252
SAMPLE_APP = (
    REPO_ROOT / "tests" / "data" / "openshift-origin" / "application-template-stibuild.json"
)
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
    cluster: Cluster, kubectl: Kubectl, crd: None, images: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Controller]:  # fmt: skip
    del crd, images  # BASE and OTHER are in the registry: this module runs alone too
    ns = f"h-dc-{RUN_ID}"
    create_namespace(kubectl, ns)
    ctl = Controller(
        cluster.kubeconfig, cluster.registry, ns,
        tmp_path_factory.mktemp("ctl") / "controller.log", metrics_port=METRICS_PORT,
        webhooks_port=WEBHOOK_PORT,
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
    """The rollout of ``version`` is complete, not merely the one before it.

    ``rollout latest`` bumps ``latestVersion`` while the Progressing condition
    still tells of the previous rollout: the condition's message must name
    this version's replication controller.
    """
    rc = f'replication controller "{name}-{version}" successfully rolled out'

    def done() -> bool:
        dc = get_dc(kube, ns, name)
        if dc is None or dc.status.latest_version != version:
            return False
        cond = next((c for c in dc.status.conditions if c.type == "Progressing"), None)
        return (
            cond is not None and cond.reason == "NewReplicationControllerAvailable"
            and cond.message == rc
        )  # fmt: skip

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


# --------------------------------------------------------------------------- 4. sample-app


@pytest.fixture(scope="module")
def stand_in(cluster: Cluster, ns: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The local base image with ``sleep infinity`` as its command, in this namespace's repo."""
    builder = ImageBuilder(tmp_path_factory.mktemp("images"))
    container = builder.buildah(
        "from", "--tls-verify=false", f"docker://{cluster.registry}/{BASE}"
    ).strip()
    try:
        builder.buildah("config", "--cmd", '["/bin/sleep","infinity"]', container)
        builder.buildah("commit", "--quiet", container, "localhost/stand-in")
    finally:
        builder.buildah("rm", container)
    destination = f"{cluster.registry}/{ns}/stand-in:latest"
    builder.push("localhost/stand-in", destination, format="docker")
    return destination


def sample_objects(cluster: Cluster, ns: str, stand_in: str) -> list[dict[str, Any]]:
    processed = cli(cluster, ns, "process", "--local", "-f", str(SAMPLE_APP), "-o", "json")
    kept = {("Secret", "dbsecret"), ("ImageStream", "origin-ruby-sample"),
            ("DeploymentConfig", "frontend"), ("DeploymentConfig", "database"),
            ("Service", "frontend"), ("Service", "database")}  # fmt: skip
    image_map = {"centos/mysql-57-centos7:latest": stand_in}
    objects = []
    for obj in json.loads(processed.stdout)["items"]:
        if (obj["kind"], obj["metadata"]["name"]) not in kept:
            continue
        if obj["kind"] == "DeploymentConfig":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                container["image"] = image_map.get(container["image"], container["image"])
        objects.append(obj)
    return objects


def hook_pod(kubectl: Kubectl, ns: str, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = kubectl.json("-n", ns, "get", "pod", name)
    return pod


def test_origin_sample_app_deployment_configs_roll_out_with_their_hooks(
    cluster: Cluster, ns: str, kube: Kube, kubectl: Kubectl, stand_in: str
) -> None:
    objects = sample_objects(cluster, ns, stand_in)
    listing = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    applied = subprocess.run(
        [*_kbuild_argv(cluster, ns), "apply", "-f", "-"], input=listing, text=True,
        capture_output=True, check=False, cwd=REPO_ROOT, timeout=120,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    # The frontend waits for its image, as on OpenShift before the first build.
    time.sleep(3)
    frontend = get_dc(kube, ns, "frontend")
    assert frontend is not None and frontend.status.latest_version == 0
    cli(cluster, ns, "tag", stand_in, "origin-ruby-sample:latest")

    rolled_out(kube, ns, "database", 1, timeout=240)
    rolled_out(kube, ns, "frontend", 1, timeout=240)
    for dc, stages in (("frontend", ("pre", "post")), ("database", ("pre", "mid", "post"))):
        annotations = kubectl.json("-n", ns, "get", "rc", f"{dc}-1")["metadata"]["annotations"]
        for stage in stages:
            pod = hook_pod(kubectl, ns, f"{dc}-1-hook-{stage}")
            assert pod["status"]["phase"] == "Succeeded", (stage, pod["status"])
            assert pod["metadata"]["labels"] == {
                "openshift.io/deployer-pod-for.name": f"{dc}-1",
                "openshift.io/deployer-pod.type": f"hook-{stage}",
            }
            assert annotations[f"apps.kbuild.io/hook-{stage}"] == "Complete"
        log = cli(cluster, ns, "logs", f"dc/{dc}").stdout.splitlines()
        assert [line for line in log if line.endswith(": Success")] == [
            f"--> {stage}: Success" for stage in stages
        ]
        assert log[-1] == "--> Success"
    pre = hook_pod(kubectl, ns, "frontend-1-hook-pre")["spec"]
    (container,) = pre["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["CUSTOM_VAR1"]["value"] == "custom_value1"
    assert env["OPENSHIFT_DEPLOYMENT_NAME"]["value"] == "frontend-1"
    assert env["MYSQL_USER"]["valueFrom"]["secretKeyRef"]["name"] == "dbsecret"
    assert container["image"] == rc_image(kubectl, ns, "frontend-1")
    assert container["command"] == ["/bin/true"]
    mid = hook_pod(kubectl, ns, "database-1-hook-mid")["spec"]
    # (the API server adds the service account token's volume and mount)
    volumes = {v["name"]: v for v in mid["volumes"]}
    assert volumes["ruby-helloworld-data"]["emptyDir"] == {}
    mounts = {m["name"]: m["mountPath"] for m in mid["containers"][0]["volumeMounts"]}
    assert mounts["ruby-helloworld-data"] == "/var/lib/mysql/data"
    assert running_images(kubectl, ns, "deployment=database-1") == {stand_in}
    frontend_image = rc_image(kubectl, ns, "frontend-1")
    assert frontend_image.startswith(f"{cluster.registry}/{ns}/stand-in@sha256:"), frontend_image
    assert len(kubectl.json("-n", ns, "get", "pods", "-l", "deployment=frontend-1")["items"]) == 2


def _kbuild_argv(cluster: Cluster, ns: str) -> list[str]:
    import sys  # noqa: PLC0415

    return [sys.executable, "-m", "builder.cli.main", "-n", ns,
            "--kubeconfig", str(cluster.kubeconfig)]  # fmt: skip


# --------------------------------------------------------------------------- 5. rollout verbs


def set_ready(kubectl: Kubectl, ns: str, name: str, value: str) -> None:
    patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/env/0/value",
              "value": value}]  # fmt: skip
    kubectl("-n", ns, "patch", "dc", name, "--type=json", "-p", json.dumps(patch))


def rc_phase(kubectl: Kubectl, ns: str, name: str) -> str:
    rc = kubectl.json("-n", ns, "get", "rc", name)
    phase: str = rc["metadata"]["annotations"]["openshift.io/deployment.phase"]
    return phase


def test_rollout_latest_cancel_retry_pause_resume_and_rollback_as_oc(
    cluster: Cluster, ns: str, kube: Kube, kubectl: Kubectl
) -> None:
    name = "gate"
    strategy = {"type": "Rolling", "rollingParams": {"timeoutSeconds": 600}}
    body = sleeper(name, f"{cluster.registry}/{BASE}", replicas=1, strategy=strategy)
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "READY", "value": "yes"}]
    container["readinessProbe"]["exec"]["command"] = ["/bin/sh", "-c", 'test "$READY" = yes']
    apply(kubectl, ns, body)
    rolled_out(kube, ns, name, 1)
    ref = f"deploymentconfig.apps.openshift.io/{name}"

    assert cli(cluster, ns, "rollout", "latest", f"dc/{name}").stdout == f"{ref} rolled out\n"
    rolled_out(kube, ns, name, 2)

    set_ready(kubectl, ns, name, "no")  # version 3 never becomes ready
    wait_for("version 3 running", lambda: progressing(kube, ns, name) == (
        3, "ReplicationControllerUpdated"))  # fmt: skip
    busy = cli(cluster, ns, "rollout", "latest", f"dc/{name}", check=False)
    assert (busy.returncode, busy.stderr) == (1, "error: #3 is already in progress (Running).\n")

    cancel = cli(cluster, ns, "rollout", "cancel", f"dc/{name}")
    assert cancel.stdout == f"{ref} cancelling\n"
    wait_for("the cancel", lambda: progressing(kube, ns, name) == (3, "RolloutCancelled"))
    assert rc_phase(kubectl, ns, f"{name}-3") == "Failed"

    def second_serves() -> bool:
        third = kubectl.json("-n", ns, "get", "rc", f"{name}-3")
        return third["spec"]["replicas"] == 0 and bool(
            running_images(kubectl, ns, f"deployment={name}-2")
        )

    wait_for("version 2 serving alone", second_serves)
    again = cli(cluster, ns, "rollout", "cancel", f"dc/{name}").stdout
    assert again.startswith("No rollout is in progress (latest rollout #3 failed "), again
    history = cli(cluster, ns, "rollout", "history", f"dc/{name}").stdout.splitlines()
    assert history[-1].split()[:2] == ["3", "Failed"]
    assert "cancelled by the user" in history[-1]

    retried = cli(cluster, ns, "rollout", "retry", f"dc/{name}")
    assert retried.stdout == f"{ref} retried rollout #3\n"
    wait_for("version 3 running again", lambda: rc_phase(kubectl, ns, f"{name}-3") == "Running")
    not_failed = cli(cluster, ns, "rollout", "retry", f"dc/{name}", check=False)
    assert "rollout #3 is running; only failed deployments can be retried." in not_failed.stderr
    cli(cluster, ns, "rollout", "cancel", f"dc/{name}")
    wait_for("the second cancel", lambda: progressing(kube, ns, name) == (3, "RolloutCancelled"))

    assert cli(cluster, ns, "rollout", "pause", f"dc/{name}").stdout == f"{ref} paused\n"
    paused = cli(cluster, ns, "rollout", "latest", f"dc/{name}", check=False)
    assert "cannot deploy a paused deployment config" in paused.stderr
    assert cli(cluster, ns, "rollout", "resume", f"dc/{name}").stdout == f"{ref} resumed\n"

    back = cli(cluster, ns, "rollback", f"dc/{name}")
    assert back.stdout == f"{ref} deployment #4 rolled back to {name}-2\n"
    rolled_out(kube, ns, name, 4)
    env = kubectl.json("-n", ns, "get", "rc", f"{name}-4")["spec"]["template"]["spec"][
        "containers"][0]["env"]  # fmt: skip
    assert env == [{"name": "READY", "value": "yes"}]

    table = cli(cluster, ns, "set", "triggers", f"dc/{name}").stdout.splitlines()
    assert [line.split() for line in table] == [
        ["NAME", "TYPE", "VALUE", "AUTO"], [f"deploymentconfigs/{name}", "config", "true"]
    ]  # fmt: skip
    removed = cli(cluster, ns, "set", "triggers", f"dc/{name}", "--remove", "--from-config")
    assert removed.stdout == f"{ref} triggers updated\n"
    dc = get_dc(kube, ns, name)
    assert dc is not None and dc.spec.triggers == []


# --------------------------------------------------------------------------- 6. tagImages


def test_a_tag_images_hook_tags_the_rollouts_image(
    cluster: Cluster, ns: str, kube: Kube, kubectl: Kubectl
) -> None:
    name = "tagger"
    post = {
        "failurePolicy": "Abort",
        "tagImages": [
            {"containerName": "app", "to": {"kind": "ImageStreamTag", "name": "tagged:deployed"}}
        ],
    }
    body = sleeper(name, f"{cluster.registry}/{BASE}", replicas=1,
                   strategy={"type": "Recreate", "recreateParams": {"post": post}})  # fmt: skip
    apply(kubectl, ns, body)
    rolled_out(kube, ns, name, 1)

    def imported() -> str | None:
        try:
            stream = kube.image_streams.get(ns, "tagged")
        except NotFound:
            return None
        found = next((t for t in stream.status.tags if t.tag == "deployed"), None)
        return found.items[0].image if found is not None and found.items else None

    digest = wait_for("the tagged image imported", imported, timeout=120)
    assert digest.startswith("sha256:")
    log = cli(cluster, ns, "logs", f"dc/{name}").stdout
    assert f'--> post: Tagged "{cluster.registry}/{BASE}" into {ns}/tagged:deployed' in log
