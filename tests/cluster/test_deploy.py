"""The controller as shipped: deploy/ applied to the cluster, two replicas, one leader.

The Deployment is limited to this module's namespace (KBUILD_NAMESPACE), so it
cannot act on other tests' builds, and runs with deploy/rbac.yaml's
least-privilege ServiceAccount: a build it completes proves those rules suffice.
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

from builder.api import BuildPhase
from builder.kube import Kube, NotFound
from tests.cluster.conftest import BUILDPOD_TAG, Cluster, Kubectl, create_namespace
from tests.support.gitdaemon import GitDaemon, git_daemon

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = secrets.token_hex(3)


def _manifests(registry: str, watch_namespace: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in ("rbac.yaml", "controller.yaml"):
        text = (REPO_ROOT / "deploy" / name).read_text().replace("__REGISTRY__", registry)
        text = text.replace("kbuild/buildpod:latest", f"kbuild/buildpod:{BUILDPOD_TAG}")
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    for doc in docs:
        if doc["kind"] == "Deployment":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            container["env"].append({"name": "KBUILD_NAMESPACE", "value": watch_namespace})
            container["env"].append(
                {
                    "name": "KBUILD_BUILD_POD_IMAGE",
                    "value": f"{registry}/kbuild/buildpod:{BUILDPOD_TAG}",
                }
            )
            # The pod spec is what we ship; only imagePullPolicy is pinned so the
            # freshly built image is used.
            container["imagePullPolicy"] = "Always"
    return docs


@pytest.fixture(scope="module")
def deployed(
    cluster: Cluster,
    kubectl: Kubectl,
    images: dict[str, str],
    pod_host: str,
    seccomp_profile: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, GitDaemon]]:
    ns = f"kbuild-deploy-{RUN_ID}"
    create_namespace(kubectl, ns, build_pods=True)
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    docs = _manifests(cluster.registry, ns)
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    try:
        kubectl("-n", "kbuild-system", "rollout", "status", "deployment/kbuild-controller",
                "--timeout=300s", timeout=320)  # fmt: skip
        with git_daemon(pod_host, tmp_path_factory.mktemp("git")) as gitd:
            gitd.add_example("python-hello", "hello")
            yield ns, gitd
    finally:
        kubectl("delete", "namespace", ns, "--wait=false", check=False)
        # Waited for: a later run re-creating kbuild-system must not find it terminating.
        kubectl("delete", "-f", "-", "--timeout=180s", stdin=yaml.safe_dump_all(docs), check=False,
                timeout=200)  # fmt: skip


def test_two_replicas_one_leader_and_a_build_through_the_shipped_rbac(
    deployed: tuple[str, GitDaemon], kubectl: Kubectl, cluster: Cluster
) -> None:
    ns, gitd = deployed
    pods = json.loads(kubectl("-n", "kbuild-system", "get", "pods", "-l",
                              "app=kbuild-controller", "-o", "json").stdout)["items"]  # fmt: skip
    names = {
        p["metadata"]["name"]
        for p in pods
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    }
    assert len(names) == 2
    deadline = time.monotonic() + 60
    holder = ""
    while time.monotonic() < deadline and holder not in names:
        lease = kubectl("-n", "kbuild-system", "get", "lease", "kbuild-controller", "-o", "json",
                        check=False)  # fmt: skip
        if lease.returncode == 0:
            holder = json.loads(lease.stdout)["spec"].get("holderIdentity", "")
        time.sleep(1)
    assert holder in names, f"lease holder {holder!r} is not one of {names}"

    bc = {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
        "metadata": {"name": "hello", "namespace": ns},
        "spec": {"source": {"git": {"uri": gitd.uri("hello")}},
                 "strategy": {"type": "Source", "sourceStrategy": {"from": {
                     "kind": "DockerImage", "name": f"{cluster.registry}/kbuild/s2i-python:3.11"}}},
                 "output": {"to": {"kind": "ImageStreamTag", "name": "hello:latest"}},
                 "triggers": [{"type": "ConfigChange"}]},
    }  # fmt: skip
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(bc))
    kube = Kube.connect(str(cluster.kubeconfig))
    deadline = time.monotonic() + 300
    phase = None
    while time.monotonic() < deadline:
        try:
            phase = kube.builds.get(ns, "hello-1").status.phase
        except NotFound:
            phase = None
        if phase in (BuildPhase.COMPLETE, BuildPhase.FAILED, BuildPhase.ERROR):
            break
        time.sleep(2)
    logs = kubectl("-n", "kbuild-system", "logs", "-l", "app=kbuild-controller", "--tail=50",
                   check=False).stdout  # fmt: skip
    assert phase == BuildPhase.COMPLETE, logs
    tag = kube.image_streams.get(ns, "hello").status.tags[0]
    assert tag.items and tag.items[0].image.startswith("sha256:")
    # /metrics answers on the leader and counts the build.
    metrics = kubectl("-n", "kbuild-system", "exec", holder, "--", "python3", "-c",
                      "import urllib.request;print(urllib.request.urlopen("
                      "'http://127.0.0.1:8080/metrics').read().decode())",
                      check=False)  # fmt: skip
    assert 'kbuild_builds_total{phase="Complete"' in metrics.stdout, metrics.stderr


def test_the_controller_reads_secrets_only_where_a_namespace_lends_them(
    deployed: tuple[str, GitDaemon], kubectl: Kubectl
) -> None:
    """deploy/rbac.yaml: no cluster-wide secret right; a namespace's RoleBinding lends its own."""
    ns, _ = deployed
    controller = "system:serviceaccount:kbuild-system:kbuild-controller"

    def can(verb: str, *where: str) -> str:
        answer = kubectl("auth", "can-i", verb, "secrets", *where, "--as", controller, check=False)
        return answer.stdout.strip()

    assert can("list", "--all-namespaces") == "no"
    assert can("get", "-n", ns) == "no"
    assert can("list", "-n", ns) == "no"
    kubectl("-n", ns, "create", "rolebinding", "kbuild-pull-secrets",
            "--clusterrole=kbuild-namespace-secrets",
            "--serviceaccount=kbuild-system:kbuild-controller")  # fmt: skip
    assert can("list", "-n", ns) == "yes"
    assert can("get", "-n", ns) == "yes"
    assert can("watch", "-n", ns) == "no"
    assert can("list", "-n", "default") == "no"
    assert can("list", "--all-namespaces") == "no"


_POST = """
import sys, urllib.request, urllib.error
url, token = sys.argv[1], sys.argv[2]
headers = {"Content-Type": "application/vnd.docker.distribution.events.v1+json"}
if token:
    headers["Authorization"] = "Bearer " + token
request = urllib.request.Request(url, data=b'{"events": []}', headers=headers)
try:
    print(urllib.request.urlopen(request, timeout=10).status)
except urllib.error.HTTPError as err:
    print(err.code)
"""


def test_notifications_need_the_generated_token_and_webhooks_have_a_port_of_their_own(
    deployed: tuple[str, GitDaemon], kubectl: Kubectl
) -> None:
    lease = json.loads(kubectl("-n", "kbuild-system", "get", "lease", "kbuild-controller",
                               "-o", "json").stdout)  # fmt: skip
    leader = lease["spec"]["holderIdentity"]
    stored = json.loads(kubectl("-n", "kbuild-system", "get", "secret", "kbuild-notifications",
                                "-o", "json").stdout)  # fmt: skip
    token = base64.b64decode(stored["data"]["token"]).decode()
    assert len(token) >= 32

    def post(url: str, bearer: str) -> str:
        done = kubectl("-n", "kbuild-system", "exec", leader, "--", "python3", "-c", _POST,
                       url, bearer, check=False)  # fmt: skip
        return done.stdout.strip() or done.stderr

    notifications = "http://127.0.0.1:8080/registry/notifications"
    assert post(notifications, "") == "401"
    assert post(notifications, "x" * 48) == "401"
    assert post(notifications, token) == "200"
    # Webhooks answer on 8081 only, and 8081 serves nothing else.
    assert post("http://127.0.0.1:8081/registry/notifications", token) == "404"
    hook = "http://127.0.0.1:8081/apis/build.openshift.io/v1/namespaces/x/buildconfigs/y/webhooks/z/generic"
    assert post(hook, "") == "401"
    assert post(hook.replace(":8081", ":8080"), "") == "404"
    services = json.loads(kubectl("-n", "kbuild-system", "get", "service", "kbuild-webhooks",
                                  "-o", "json").stdout)  # fmt: skip
    assert [p["port"] for p in services["spec"]["ports"]] == [8081]
