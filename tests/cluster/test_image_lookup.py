"""lookupPolicy.local on the real cluster: the controller's mutating admission webhook.

The controller is deployed from deploy/ (rbac.yaml, controller.yaml,
admission.yaml) as the demo does, with everything cluster-wide renamed for
this run so that parallel sessions do not meet: its own namespace instead of
kbuild-system, its own ClusterRole and MutatingWebhookConfiguration, whose
namespaceSelector sends only this run's namespaces.  The webhook's TLS is
the controller's own: nothing here gives it a certificate or a caBundle.

What holds: a plain ``kubectl create deployment x --image=myis:latest``
runs the stream's digest; a namespace that may not read another's stream
gets no resolution (and a warning) until a RoleBinding lets it; with the
controller scaled to 0 pods are admitted unresolved, and the controller
says so in an ``ImageLookupSkipped`` event once it runs again.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.conftest import BUILDPOD_TAG, Cluster, Kubectl, create_namespace
from tests.cluster.support import kbuild, wait_for

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = secrets.token_hex(3)
SYSTEM = f"h-lookup-sys-{RUN_ID}"
APP = f"h-lookup-app-{RUN_ID}"
BASE = f"h-lookup-base-{RUN_ID}"
WEBHOOK_CONFIG = f"h-lookup-image-lookup-{RUN_ID}"
CLUSTER_ROLE = f"h-lookup-controller-{RUN_ID}"
LABEL = "kbuild-test-image-lookup"
# Shared ClusterRoles of deploy/rbac.yaml: applied (idempotent), never deleted.
SHARED = {"system:image-puller", "system:image-builder", "kbuild-namespace-secrets"}


def _manifests(registry: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in ("rbac.yaml", "controller.yaml", "admission.yaml"):
        text = (REPO_ROOT / "deploy" / name).read_text().replace("__REGISTRY__", registry)
        text = text.replace("kbuild/buildpod:latest", f"kbuild/buildpod:{BUILDPOD_TAG}")
        text = text.replace("kbuild-system", SYSTEM).replace("kbuild-image-lookup", WEBHOOK_CONFIG)
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    for doc in docs:
        kind, meta = doc["kind"], doc["metadata"]
        if kind in {"ClusterRole", "ClusterRoleBinding"} and meta["name"] == "kbuild-controller":
            meta["name"] = CLUSTER_ROLE
            if kind == "ClusterRoleBinding":
                doc["roleRef"]["name"] = CLUSTER_ROLE
        if kind == "MutatingWebhookConfiguration":
            # Only this run's namespaces: the cluster is shared.
            doc["webhooks"][0]["namespaceSelector"] = {"matchLabels": {LABEL: RUN_ID}}
        if kind == "Deployment":
            doc["spec"]["replicas"] = 1  # two cores shared by many sessions
            spec = doc["spec"]["template"]["spec"]
            container = spec["containers"][0]
            container["imagePullPolicy"] = "Always"
            container["env"] += [
                {"name": "KBUILD_NAMESPACE", "value": APP},
                {"name": "KBUILD_ADMISSION_WEBHOOK_CONFIG", "value": WEBHOOK_CONFIG},
                {
                    "name": "KBUILD_BUILD_POD_IMAGE",
                    "value": f"{registry}/kbuild/buildpod:{BUILDPOD_TAG}",
                },
            ]
    return docs


def _stream(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name},
        "spec": {
            "tags": [
                {
                    "name": "latest",
                    "from": {"kind": "DockerImage", "name": image},
                    "importPolicy": {"insecure": True},
                }
            ]
        },
    }


def _json(kubectl: Kubectl, *args: str) -> Any:
    """kubectl's JSON; an API server restarted by another session's test is waited for."""
    deadline = time.monotonic() + 90
    while True:
        done = kubectl(*args, "-o", "json", check=False)
        if done.returncode == 0 or time.monotonic() > deadline:
            break
        if "refused" not in done.stderr and "timeout" not in done.stderr.lower():
            break
        time.sleep(2)
    if done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr}")
    return json.loads(done.stdout)


def _pull_spec(kubectl: Kubectl, namespace: str, name: str) -> str | None:
    stream = _json(kubectl, "-n", namespace, "get", "imagestream", name)
    for tag in (stream.get("status") or {}).get("tags") or []:
        if tag.get("tag") == "latest" and tag.get("items"):
            return str(tag["items"][0]["dockerImageReference"])
    return None


@pytest.fixture(scope="module")
def deployed(cluster: Cluster, kubectl: Kubectl, images: dict[str, str]) -> Iterator[str]:
    """The controller serving the webhook; the stream ``myis`` of APP imported; its pull spec."""
    docs = _manifests(cluster.registry)
    for ns in (APP, BASE):
        create_namespace(kubectl, ns)
        kubectl("label", "namespace", ns, f"{LABEL}={RUN_ID}")
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    try:
        kubectl("-n", SYSTEM, "rollout", "status", "deployment/kbuild-controller",
                "--timeout=300s", timeout=320)  # fmt: skip
        wait_for("the controller to put its CA into the webhook's caBundle",
                 lambda: _ca_bundle(kubectl), timeout=120)  # fmt: skip
        serving = "image-lookup admission webhook serving TLS"
        wait_for("the webhook to listen", lambda: serving in kubectl(
            "-n", SYSTEM, "logs", "deployment/kbuild-controller", check=False).stdout)  # fmt: skip
        image = f"{cluster.registry}/{images['base']}"
        kubectl("-n", APP, "apply", "-f", "-", stdin=yaml.safe_dump(_stream("myis", image)))
        spec = wait_for("myis:latest to be imported", lambda: _pull_spec(kubectl, APP, "myis"))
        # The controller watches APP only: BASE's stream gets myis's status by hand.
        kubectl("-n", BASE, "apply", "-f", "-", stdin=yaml.safe_dump(_stream("shared", image)))
        status = _json(kubectl, "-n", APP, "get", "imagestream", "myis")["status"]
        status["dockerImageRepository"] = f"{cluster.registry}/{BASE}/shared"
        kubectl("-n", BASE, "patch", "imagestream", "shared", "--subresource=status",
                "--type=merge", "-p", json.dumps({"status": status}))  # fmt: skip
        assert _pull_spec(kubectl, BASE, "shared") == spec
        yield str(spec)
    finally:
        for ns in (APP, BASE):
            kubectl("delete", "namespace", ns, "--wait=false", check=False)
        mine = [d for d in docs if d["metadata"]["name"] not in SHARED]
        kubectl("delete", "-f", "-", "--timeout=180s", "--ignore-not-found",
                stdin=yaml.safe_dump_all(mine), check=False, timeout=200)  # fmt: skip


def _ca_bundle(kubectl: Kubectl) -> str:
    config = _json(kubectl, "get", "mutatingwebhookconfiguration", WEBHOOK_CONFIG)
    return str(config["webhooks"][0].get("clientConfig", {}).get("caBundle") or "")


def _template_image(kubectl: Kubectl, namespace: str, name: str) -> str:
    deployment = _json(kubectl, "-n", namespace, "get", "deployment", name)
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def _pods(kubectl: Kubectl, namespace: str, app: str) -> list[dict[str, Any]]:
    return list(_json(kubectl, "-n", namespace, "get", "pods", "-l", f"app={app}")["items"])


def test_the_controller_made_and_stored_its_own_certificate(
    deployed: str, kubectl: Kubectl
) -> None:
    secret = _json(kubectl, "-n", SYSTEM, "get", "secret", "kbuild-admission-tls")
    assert secret["type"] == "kubernetes.io/tls"
    assert sorted(secret["data"]) == ["ca.crt", "tls.crt", "tls.key"]
    assert base64.b64decode(_ca_bundle(kubectl)) == base64.b64decode(secret["data"]["ca.crt"])


def test_a_plain_deployment_runs_the_streams_digest(
    deployed: str, cluster: Cluster, kubectl: Kubectl
) -> None:
    listed = kbuild("set", "image-lookup", "--list", "-n", APP, kubeconfig=cluster.kubeconfig)
    assert listed.stdout.split() == ["NAME", "LOCAL", "myis", "false"]
    done = kbuild("set", "image-lookup", "myis", "-n", APP, kubeconfig=cluster.kubeconfig)
    assert done.stdout.strip() == "imagestream.image.openshift.io/myis image lookup updated"
    listed = kbuild("set", "image-lookup", "--list", "-n", APP, kubeconfig=cluster.kubeconfig)
    assert listed.stdout.split() == ["NAME", "LOCAL", "myis", "true"]
    digest = deployed.rpartition("@")[2]
    assert digest.startswith("sha256:")
    kubectl("-n", APP, "create", "deployment", "x", "--image=myis:latest", "--", "sleep", "3600")
    assert _template_image(kubectl, APP, "x") == deployed

    def running() -> dict[str, Any] | None:
        pods = _pods(kubectl, APP, "x")
        ready = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        return ready[0] if ready else None

    pod = wait_for("x's pod to run", running, timeout=180)
    assert pod["spec"]["containers"][0]["image"] == deployed
    assert pod["status"]["containerStatuses"][0]["imageID"].endswith(digest)


def test_a_namespace_that_may_not_read_anothers_stream_gets_no_resolution(
    deployed: str, kubectl: Kubectl
) -> None:
    kubectl("-n", BASE, "patch", "imagestream", "shared", "--type=merge",
            "-p", '{"spec": {"lookupPolicy": {"local": true}}}')  # fmt: skip
    other = f"{BASE}/shared:latest"
    refused = kubectl("-n", APP, "create", "deployment", "y", f"--image={other}")
    assert _template_image(kubectl, APP, "y") == other
    assert f"may not get imagestreams/layers in namespace '{BASE}'" in refused.stderr
    grant = ("--clusterrole=system:image-puller", f"--group=system:serviceaccounts:{APP}")
    kubectl("-n", BASE, "create", "rolebinding", "pull-from-app", *grant)
    time.sleep(3)  # a denial is remembered for 2 s
    kubectl("-n", APP, "create", "deployment", "z", f"--image={other}")
    assert _template_image(kubectl, APP, "z") == deployed


def test_with_the_webhook_down_pods_are_admitted_unresolved_and_an_event_says_so(
    deployed: str, kubectl: Kubectl
) -> None:
    kubectl("-n", SYSTEM, "scale", "deployment/kbuild-controller", "--replicas=0")
    wait_for("the controller to be gone",
             lambda: not _pods(kubectl, SYSTEM, "kbuild-controller"), timeout=120)  # fmt: skip
    try:
        kubectl(
            "-n", APP, "create", "deployment", "w", "--image=myis:latest", "--", "sleep", "3600"
        )
        assert _template_image(kubectl, APP, "w") == "myis:latest"
        pod = wait_for("w's pod", lambda: (_pods(kubectl, APP, "w") or [None])[0], timeout=120)
        assert pod["spec"]["containers"][0]["image"] == "myis:latest"
    finally:
        kubectl("-n", SYSTEM, "scale", "deployment/kbuild-controller", "--replicas=1")
    name = pod["metadata"]["name"]

    def event() -> dict[str, Any] | None:
        selector = f"involvedObject.name={name},reason=ImageLookupSkipped"
        found = _json(kubectl, "-n", APP, "get", "events", "--field-selector", selector)
        return found["items"][0] if found["items"] else None

    said = wait_for("the controller's ImageLookupSkipped event", event, timeout=240)
    assert said["type"] == "Warning"
    assert said["source"]["component"] == "kbuild-controller"
    assert "'myis:latest'" in said["message"]
    assert deployed in said["message"]
