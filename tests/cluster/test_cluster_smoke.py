"""Does the test cluster do what the rest of the cluster tier relies on?

Each test exercises one path end to end against real components: the node
pulling from the plain-HTTP registry, the API server reaching the kubelet
(``kubectl logs``), kube-proxy's Service rules, and an unprivileged, non-root
pod running rootless buildah (the build pod contract, docs/build-pod.md).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import REPO_ROOT, Cluster, Kubectl, create_namespace
from tests.support.images import ImageBuilder

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(4)
HTTP_PORT = 8080
BUILD_USER_UID = 1000
# The buildpod image's user "build" has primary group 0 (OpenShift's
# arbitrary-uid convention), and newgidmap refuses a caller whose gid differs
# from its passwd entry's.
BUILD_USER_GID = 0
# The RUN step chowns its output to this uid, which exists only inside the
# build's user namespace: it proves a subordinate uid range is mapped, not just
# the build user's own uid.
PROOF_UID = 1234


def _manifest_digest(push_registry: str, repository: str, tag: str) -> str:
    """The digest the registry serves for repository:tag, asked over HTTP."""
    request = urllib.request.Request(
        f"http://{push_registry}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={
            "Accept": ", ".join(
                [
                    "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.v2+json",
                ]
            )
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(response.headers["Docker-Content-Digest"])


def _wait_pod_finished(kubectl: Kubectl, namespace: str, name: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    phase = ""
    while time.monotonic() < deadline:
        phase = kubectl(
            "-n", namespace, "get", "pod", name, "-o", "jsonpath={.status.phase}"
        ).stdout
        if phase in ("Succeeded", "Failed"):
            return phase
        time.sleep(2)
    describe = kubectl("-n", namespace, "describe", "pod", name, check=False).stdout
    raise AssertionError(f"pod {name} still {phase!r} after {timeout_s}s:\n{describe}")


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"kbuild-smoke-{RUN_ID}"
    create_namespace(kubectl, name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def build_namespace(kubectl: Kubectl, seccomp_profile: str) -> Iterator[str]:
    """Where the build pods run: Pod Security "baseline", the profile on the node."""
    assert BUILD_POD_SECURITY_CONTEXT["seccompProfile"]["localhostProfile"] == seccomp_profile
    name = f"kbuild-smoke-build-{RUN_ID}"
    create_namespace(kubectl, name, build_pods=True)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def smoke_image(push_registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A busybox-static image (``httpd``, ``sh``) pushed to the registry.

    Returns ``kbuild-smoke/busybox:<run id>``, relative to the registry.
    """
    busybox = shutil.which("busybox")
    if busybox is None or shutil.which("buildah") is None:
        pytest.fail("the cluster tier needs buildah and busybox-static on this machine")
    work = tmp_path_factory.mktemp("smoke-image")
    rootfs = work / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    for applet in ("sh", "httpd", "cat", "echo", "id", "ls", "stat", "sleep", "wget"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "www").mkdir()
    (rootfs / "www" / "index.html").write_text(f"kbuild-smoke {RUN_ID}\n")
    builder = ImageBuilder(work / "buildah")
    container = builder.buildah("from", "--pull-never", "scratch").strip()
    try:
        builder.buildah("copy", container, str(rootfs), "/")
        builder.buildah(
            "config",
            "--env", "PATH=/bin",
            "--user", "65534:65534",
            "--port", f"{HTTP_PORT}/tcp",
            "--cmd", json.dumps(["httpd", "-f", "-v", "-p", str(HTTP_PORT), "-h", "/www"]),
            container,
        )  # fmt: skip
        builder.buildah("commit", "--quiet", container, "localhost/kbuild-smoke")
    finally:
        builder.buildah("rm", container)
    reference = f"kbuild-smoke/busybox:{RUN_ID}"
    builder.push("localhost/kbuild-smoke", f"{push_registry}/{reference}")
    return reference


@pytest.fixture(scope="module")
def web(
    kubectl: Kubectl, namespace: str, registry: str, push_registry: str, smoke_image: str
) -> dict[str, Any]:
    """A Deployment of the smoke image, Available, and its Service."""
    labels = {"app": "web"}
    kubectl.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "containers": [
                            {
                                "name": "web",
                                "image": f"{registry}/{smoke_image}",
                                # Always: the node must really pull from the registry.
                                "imagePullPolicy": "Always",
                                "command": [
                                    "sh",
                                    "-c",
                                    f"echo kbuild-smoke-started {RUN_ID}; "
                                    f"exec httpd -f -v -p {HTTP_PORT} -h /www",
                                ],
                                "ports": [{"containerPort": HTTP_PORT}],
                                "readinessProbe": {
                                    "httpGet": {"path": "/", "port": HTTP_PORT},
                                    "periodSeconds": 1,
                                },
                            }
                        ],
                    },
                },
            },
        },
        namespace,
    )
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": HTTP_PORT}]},
        },
        namespace,
    )
    wait = kubectl(
        "-n", namespace, "wait", "deployment/web", "--for=condition=Available", "--timeout=180s",
        check=False, timeout=200,
    )  # fmt: skip
    if wait.returncode != 0:
        pods = kubectl("-n", namespace, "describe", "pods", "-l", "app=web", check=False).stdout
        raise AssertionError(f"Deployment web not Available: {wait.stderr}\n{pods}")
    pod = kubectl.json("-n", namespace, "get", "pods", "-l", "app=web")["items"][0]
    repository, _, tag = smoke_image.rpartition(":")
    return {
        "pod": pod,
        "digest": _manifest_digest(push_registry, repository, tag),
    }


def test_deployment_from_local_registry_becomes_available(
    web: dict[str, Any], registry: str, smoke_image: str
) -> None:
    status = web["pod"]["status"]["containerStatuses"][0]
    assert status["ready"] is True
    # The runtime records the digest it pulled: it must be what our registry
    # serves for the tag, i.e. the image really came from there.
    assert status["imageID"].endswith(web["digest"]), (status["imageID"], web["digest"])
    assert status["image"] == f"{registry}/{smoke_image}"


def test_kubectl_logs_reaches_the_kubelet(
    web: dict[str, Any], kubectl: Kubectl, namespace: str
) -> None:
    # logs travel API server -> kubelet (:10250, client cert, webhook authz).
    pod_name = web["pod"]["metadata"]["name"]
    logs = kubectl("-n", namespace, "logs", pod_name).stdout
    assert f"kbuild-smoke-started {RUN_ID}" in logs


def test_service_answers_on_cluster_ip_from_host(
    web: dict[str, Any], kubectl: Kubectl, namespace: str, cluster: Cluster
) -> None:
    if not cluster.local:
        pytest.skip("a ClusterIP is routed only on the nodes of an external cluster")
    cluster_ip = kubectl(
        "-n", namespace, "get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"
    ).stdout
    url = f"http://{cluster_ip}/"
    # kube-proxy programs the rules a moment after the endpoints appear:
    # retry, bounded, then report the last error.
    last_error: Exception | None = None
    for _ in range(30):
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                body = response.read().decode()
            break
        except OSError as error:
            last_error = error
            time.sleep(1)
    else:
        raise AssertionError(f"{url} did not answer: {last_error}")
    assert body == f"kbuild-smoke {RUN_ID}\n"


# ------------------------------------------------------------ rootless buildah


def _buildpod_tag() -> str:
    recipe = REPO_ROOT / "images" / "buildpod" / "recipe.sh"
    if not recipe.is_file():
        pytest.fail(f"{recipe} is missing: the build pod image recipe is required")
    tags = subprocess.run(
        ["bash", "-c", 'source "$1"; recipe_tags', "recipe", str(recipe)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    return tags[0]


@pytest.fixture(scope="module")
def buildpod_image(push_registry: str) -> str:
    """kbuild/buildpod in the registry, built by images/build.sh if out of date."""
    build = subprocess.run(
        [
            "bash", str(REPO_ROOT / "images" / "build.sh"),
            "--registry", push_registry, "--tls-verify=false", "buildpod",
        ],
        capture_output=True, text=True, check=False, timeout=40 * 60,
    )  # fmt: skip
    if build.returncode != 0:
        pytest.fail(f"images/build.sh buildpod failed:\n{build.stderr[-4000:]}")
    return f"kbuild/buildpod:{_buildpod_tag()}"


# The contract of docs/build-pod.md, verbatim. Change both together.
BUILD_POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": BUILD_USER_UID,
    "runAsGroup": BUILD_USER_GID,
    # deploy/seccomp-installer.yaml puts it on the node (the seccomp_profile fixture).
    "seccompProfile": {"type": "Localhost", "localhostProfile": "kbuild/buildah-v1.json"},
}
BUILD_CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "privileged": False,
    "allowPrivilegeEscalation": True,
    "capabilities": {"drop": ["ALL"], "add": ["SETUID", "SETGID"]},
}


def _build_pod(name: str, image: str, script: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": BUILD_POD_SECURITY_CONTEXT,
            "containers": [
                {
                    "name": "build",
                    "image": image,
                    "imagePullPolicy": "Always",
                    "command": ["sh", "-ec", script],
                    "env": [{"name": "BUILDAH_ISOLATION", "value": "chroot"}],
                    "securityContext": BUILD_CONTAINER_SECURITY_CONTEXT,
                    "volumeMounts": [
                        {"name": "containers", "mountPath": "/home/build/.local/share/containers"},
                        {"name": "workspace", "mountPath": "/workspace"},
                    ],
                }
            ],
            # Image layers are unpacked here, not in the container's own
            # overlayfs root, which cannot hold another overlay's upper dir.
            "volumes": [
                {"name": "containers", "emptyDir": {}},
                {"name": "workspace", "emptyDir": {}},
            ],
        },
    }


def test_rootless_buildah_builds_and_pushes_in_unprivileged_pod(
    kubectl: Kubectl,
    build_namespace: str,
    cluster: Cluster,
    smoke_image: str,
    buildpod_image: str,
) -> None:
    namespace = build_namespace
    registry, push_registry = cluster.registry, cluster.push_registry
    target = f"kbuild-smoke/built:{RUN_ID}"
    script = f"""
echo "uid=$(id -u) gid=$(id -g)"
grep -E '^(Cap(Eff|Prm)|NoNewPrivs|Seccomp):' /proc/self/status
cd /workspace
cat > Dockerfile <<'EOF'
FROM {registry}/{smoke_image}
USER 0
RUN echo "written by a RUN step as uid $(id -u)" > /proof && chown {PROOF_UID}:{PROOF_UID} /proof
RUN grep -E '^Seccomp' /proc/self/status | sed 's/^/in RUN: /'
USER 65534
EOF
buildah --version
buildah build --isolation chroot --tls-verify=false -t {registry}/{target} .
buildah push --tls-verify=false --digestfile /workspace/digest {registry}/{target}
echo "pushed-digest=$(cat /workspace/digest)"
"""
    kubectl.apply(_build_pod("rootless-build", f"{registry}/{buildpod_image}", script), namespace)
    phase = _wait_pod_finished(kubectl, namespace, "rootless-build", timeout_s=600)
    logs = kubectl("-n", namespace, "logs", "rootless-build").stdout
    assert phase == "Succeeded", logs

    # Not root, and no effective capabilities: the privilege comes only from
    # the setuid newuidmap/newgidmap and the user namespace they map.
    assert f"uid={BUILD_USER_UID} gid={BUILD_USER_GID}" in logs
    assert "CapEff:\t0000000000000000" in logs
    # Mode 2, a filter: the Localhost profile is in force (Unconfined showed 0),
    # in the pod and in the RUN step, where buildah stacks its own on top.
    assert "Seccomp:\t2" in logs
    assert "in RUN: Seccomp:\t2" in logs
    assert "in RUN: Seccomp_filters:\t2" in logs
    pod = kubectl.json("-n", namespace, "get", "pod", "rootless-build")
    container = pod["spec"]["containers"][0]
    assert container["securityContext"]["privileged"] is False

    repository, _, tag = target.rpartition(":")
    digest = _manifest_digest(push_registry, repository, tag)
    assert f"pushed-digest={digest}" in logs

    # Run what was built: the RUN step's file, owned by a subordinate uid.
    check = """
cat /proof
stat -c 'owner=%u:%g' /proof
"""
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "run-built"},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "containers": [
                    {
                        "name": "check",
                        "image": f"{registry}/{target}",
                        "imagePullPolicy": "Always",
                        "command": ["sh", "-ec", check],
                    }
                ],
            },
        },
        namespace,
    )
    phase = _wait_pod_finished(kubectl, namespace, "run-built", timeout_s=180)
    out = kubectl("-n", namespace, "logs", "run-built").stdout
    assert phase == "Succeeded", out
    assert "written by a RUN step as uid 0" in out
    assert f"owner={PROOF_UID}:{PROOF_UID}" in out


@pytest.mark.parametrize(
    ("change", "expected_error"),
    [
        # Negative controls: if these builds succeeded, the cluster would not
        # be enforcing what the contract claims is needed, and the positive
        # test above would prove nothing.
        (
            {"pod": {"seccompProfile": {"type": "RuntimeDefault"}}},
            "unshare(CLONE_NEWUSER): Operation not permitted",
        ),
        (
            {"container": {"allowPrivilegeEscalation": False}},
            "write to uid_map failed: Operation not permitted",
        ),
    ],
    ids=["runtime-default-seccomp", "no-privilege-escalation"],
)
def test_build_pod_contract_parts_are_needed(
    kubectl: Kubectl,
    build_namespace: str,
    cluster: Cluster,
    smoke_image: str,
    buildpod_image: str,
    change: dict[str, dict[str, Any]],
    expected_error: str,
) -> None:
    namespace = build_namespace
    registry = cluster.registry
    script = f"""
cd /workspace
printf 'FROM {registry}/{smoke_image}\\nUSER 0\\nRUN chown 1234 /www\\n' > Dockerfile
buildah build --isolation chroot --tls-verify=false -t {registry}/kbuild-smoke/never:{RUN_ID} .
"""
    name = f"contract-{next(iter(change))}-{secrets.token_hex(2)}"
    pod = _build_pod(name, f"{registry}/{buildpod_image}", script)
    pod_spec = pod["spec"]
    pod_spec["securityContext"] = {**pod_spec["securityContext"], **change.get("pod", {})}
    container = pod_spec["containers"][0]
    container["securityContext"] = {
        **container["securityContext"],
        **change.get("container", {}),
    }
    kubectl.apply(pod, namespace)
    phase = _wait_pod_finished(kubectl, namespace, name, timeout_s=300)
    logs = kubectl("-n", namespace, "logs", name).stdout
    assert phase == "Failed", logs
    assert expected_error in logs


def test_the_seccomp_profile_in_force_is_ours_and_narrow(
    kubectl: Kubectl, build_namespace: str, cluster: Cluster, buildpod_image: str
) -> None:
    """Not just some filter: user namespaces pass, network namespaces do not.

    Under Unconfined both unshares would succeed, under RuntimeDefault both
    would fail; only the Localhost profile (unshare narrowed to the user,
    mount and UTS namespaces, docs/build-pod.md) gives this pair.
    """
    script = """
grep '^Seccomp:' /proc/self/status
unshare --user true && echo user-namespace-made
unshare --user --net true 2>&1 || echo network-namespace-refused
"""
    name = f"seccomp-narrow-{secrets.token_hex(2)}"
    pod = _build_pod(name, f"{cluster.registry}/{buildpod_image}", script)
    kubectl.apply(pod, build_namespace)
    phase = _wait_pod_finished(kubectl, build_namespace, name, timeout_s=180)
    logs = kubectl("-n", build_namespace, "logs", name).stdout
    assert phase == "Succeeded", logs
    assert "Seccomp:\t2" in logs
    assert "user-namespace-made" in logs
    assert "unshare failed: Operation not permitted" in logs
    assert "network-namespace-refused" in logs


def test_cluster_sh_env_names_the_registry(cluster: Cluster, registry: str) -> None:
    if not cluster.local:
        pytest.skip("hack/cluster.sh env describes only the local cluster")
    out = subprocess.run(
        ["bash", str(Path(REPO_ROOT, "hack", "cluster.sh")), "env"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    assert f"export KBUILD_REGISTRY={registry}" in out
    # The address must be the node's: pods and the node's containerd use it.
    with urllib.request.urlopen(f"http://{registry}/v2/", timeout=5) as response:
        assert response.status == 200
