"""build_pod() on a real cluster: the pod builds, pushes and reports what it pushed.

No controller is involved: the test creates the pod build_pod() describes for
a Build, waits for it like the Build reconciler would, and reads it back
through interpret_pod().  The sources come from a ``git daemon`` on this
machine, bound to the address the pods reach it on (the node address of the
local cluster, where its registry lives too); pods cannot see host files.

The Builds themselves are not created (no CRDs or controller are needed), so
the pods are created without their owner reference: the garbage collector
deletes a pod whose owner does not exist.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from builder.api import Build, BuildPhase, parse_as
from builder.controller.apparmor import PROFILE_NAME
from builder.controller.buildpod import build_pod
from builder.controller.config import ControllerConfig
from builder.controller.podstatus import PodOutcome, interpret_pod
from builder.pipeline.pod import TerminationMessage
from tests.cluster.conftest import REPO_ROOT, Cluster, Kubectl, create_namespace
from tests.support.gitdaemon import GitDaemon, git, git_daemon

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(4)
# Only the source secret's .gitconfig knows where this really is.
UNRESOLVABLE_GIT_URL = "git://kbuild-source-secret.invalid"
# vfs storage copies every layer; on a 2-core machine a build takes minutes.
BUILD_TIMEOUT_S = 20 * 60


@pytest.fixture(scope="module")
def git_server(pod_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    with git_daemon(pod_host, tmp_path_factory.mktemp("git-served")) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl, seccomp_profile: str) -> Iterator[str]:
    name = f"kbuild-buildpod-{RUN_ID}"
    create_namespace(kubectl, name, build_pods=True)
    yield name
    if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
        kubectl("delete", "namespace", name, "--wait=false", check=False)


def _manifest_digest(push_registry: str, reference: str) -> str:
    """The digest the registry serves for ``reference`` (registry/repository:tag)."""
    repository, _, tag = reference.partition("/")[2].rpartition(":")
    request = urllib.request.Request(
        f"http://{push_registry}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(response.headers["Docker-Content-Digest"])


def _build(name: str, namespace: str, spec: dict[str, Any]) -> Build:
    return parse_as(
        Build,
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "Build",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
            "spec": spec,
        },
    )


@dataclass
class Started:
    build: Build
    pod_name: str
    output: str
    created: float
    early: PodOutcome | None = None


@dataclass
class Finished:
    output: str
    pod: dict[str, Any]
    outcome: PodOutcome
    seconds: float
    logs: dict[str, str]


@pytest.fixture(scope="module")
def builds(
    kubectl: Kubectl,
    namespace: str,
    registry: str,
    images: dict[str, str],
    git_server: GitDaemon,
) -> dict[str, Finished]:
    """Three build pods, created together, followed to the end."""
    git_server.add_example("python-hello", "python-hello")
    broken = git_server.add_example("python-hello", "broken-assemble")
    scripts = broken / ".s2i" / "bin"
    scripts.mkdir(parents=True)
    (scripts / "assemble").write_text(
        "#!/bin/sh\necho 'assembling in the cluster... and failing on purpose'\nexit 7\n"
    )
    (scripts / "assemble").chmod(0o755)
    git(broken, "add", "-A")
    git(broken, "commit", "-qm", "a failing assemble")
    git_server.add_example("docker-multistage", "multistage")

    # Secrets are mounted where the steps read them, and readable by the
    # build user: the source secret's .gitconfig rewrites a URL that does not
    # resolve into the real one, so the clone works only if git read it.
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "git-config"},
            "type": "Opaque",
            "stringData": {
                ".gitconfig": f'[url "{git_server.url}/"]\n\tinsteadOf = {UNRESOLVABLE_GIT_URL}/\n'
            },
        },
        namespace,
    )
    auth = base64.b64encode(b"kbuild:unused").decode()
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "registry-creds"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": json.dumps({"auths": {registry: {"auth": auth}}})},
        },
        namespace,
    )
    creds = {"name": "registry-creds"}
    builder = {"kind": "DockerImage", "name": f"{registry}/{images['s2i-python']}"}
    base = f"{registry}/{images['base']}"
    out = f"{registry}/kbuild-buildpod-test"
    specs = {
        "s2i": {
            "source": {
                "git": {"uri": f"{UNRESOLVABLE_GIT_URL}/python-hello", "ref": "main"},
                "sourceSecret": {"name": "git-config"},
            },
            "strategy": {"sourceStrategy": {"from": builder}},
            "output": {"to": {"kind": "DockerImage", "name": f"{out}/hello:{RUN_ID}"}},
        },
        "docker": {
            "source": {"git": {"uri": git_server.uri("multistage")}},
            "strategy": {
                "dockerStrategy": {
                    "from": {"kind": "DockerImage", "name": base},
                    "pullSecret": creds,
                    "buildArgs": [
                        {"name": "BASE", "value": base},
                        {"name": "VERSION", "value": RUN_ID},
                    ],
                }
            },
            "output": {
                "to": {"kind": "DockerImage", "name": f"{out}/multistage:{RUN_ID}"},
                "pushSecret": creds,
            },
        },
        "broken": {
            "source": {"git": {"uri": git_server.uri("broken-assemble"), "ref": "main"}},
            "strategy": {"sourceStrategy": {"from": builder}},
            "output": {"to": {"kind": "DockerImage", "name": f"{out}/broken:{RUN_ID}"}},
            "completionDeadlineSeconds": BUILD_TIMEOUT_S,
        },
    }
    config = ControllerConfig(
        registry=registry,
        build_pod_image=f"{registry}/{images['buildpod']}",
        insecure_registries=frozenset({registry}),
    )
    started: dict[str, Started] = {}
    for key, spec in specs.items():
        build = _build(f"{key}-1", namespace, spec)
        pod = build_pod(build, config, pod_build=build)
        assert pod["metadata"]["ownerReferences"][0]["uid"] == f"uid-{key}-1"
        applied = copy.deepcopy(pod)
        del applied["metadata"]["ownerReferences"]
        kubectl("-n", namespace, "create", "-f", "-", stdin=json.dumps(applied))
        output = spec["output"]["to"]["name"]  # type: ignore[index]
        started[key] = Started(build, pod["metadata"]["name"], output, time.monotonic())

    finished: dict[str, Finished] = {}
    pending = dict(started)
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while pending:
        for key, run in list(pending.items()):
            pod = kubectl.json("-n", namespace, "get", "pod", run.pod_name)
            outcome = interpret_pod(pod)
            # The outcome is known as soon as the main container ends, which can
            # be before the pod's phase follows; once it has, the answer must not change.
            if outcome.terminal and pod["status"]["phase"] not in ("Succeeded", "Failed"):
                run.early = outcome
                continue
            if run.early is not None:
                assert interpret_pod(pod) == run.early
            if outcome.terminal:
                logs = {
                    c: kubectl("-n", namespace, "logs", run.pod_name, "-c", c, check=False).stdout
                    for c in _containers(pod)
                }
                finished[key] = Finished(
                    run.output, pod, outcome, time.monotonic() - run.created, logs
                )
                del pending[key]
        if pending and time.monotonic() > deadline:
            described = {
                k: kubectl("-n", namespace, "describe", "pod", r.pod_name, check=False).stdout
                for k, r in pending.items()
            }
            raise AssertionError(f"build pods still running after {BUILD_TIMEOUT_S}s: {described}")
        time.sleep(3)
    for key, done in finished.items():
        stages = {s.name: s.duration_milliseconds for s in done.outcome.stages}
        print(
            f"{key}: {done.outcome.phase.value} {done.outcome.reason} in {done.seconds:.0f}s, "
            f"digest {done.outcome.digest or '-'}, stages (ms) {stages}"
        )
    return finished


def _containers(pod: dict[str, Any]) -> list[str]:
    """The pod's containers in order: how many depends on the build's secrets (podlayout)."""
    spec = pod["spec"]
    return [c["name"] for c in [*spec.get("initContainers", []), *spec["containers"]]]


def _container_of(pod: dict[str, Any], step: str) -> str:
    """The container that ran ``step`` (``kbuild pipeline STEP...``)."""
    spec = pod["spec"]
    return next(
        c["name"]
        for c in [*spec.get("initContainers", []), *spec["containers"]]
        if step in c["command"][2:]
    )


def _main_message(pod: dict[str, Any]) -> TerminationMessage:
    (status,) = pod["status"]["containerStatuses"]
    message = TerminationMessage.parse(status["state"]["terminated"].get("message"))
    assert message is not None, status
    return message


@pytest.mark.parametrize("key", ["s2i", "docker"])
def test_build_pod_pushes_and_reports_the_registry_digest(
    builds: dict[str, Finished], key: str, push_registry: str, registry: str
) -> None:
    done = builds[key]
    outcome = done.outcome
    assert outcome.phase == BuildPhase.COMPLETE, (outcome, done.logs)
    assert done.pod["status"]["phase"] == "Succeeded"
    pushed_to = done.output
    digest = _manifest_digest(push_registry, pushed_to)
    message = _main_message(done.pod)
    assert message.digest == digest
    assert outcome.digest == digest
    assert outcome.output_ref == f"{pushed_to.rpartition(':')[0]}@{digest}"
    names = [s.name for s in outcome.stages]
    assert names[0] == "FetchInputs"
    assert names[-2:] == ["Build", "PushImage"]
    assert outcome.revision is not None
    assert outcome.revision.git is not None
    assert len(outcome.revision.git.commit) == 40
    # kbuild logs shows the containers in order; each one logged its step.
    main = "sti-build" if key == "s2i" else "docker-build"
    assert _containers(done.pod)[-1] == main
    fetched = done.logs[_container_of(done.pod, "fetch")]
    assert "Cloning" in fetched
    if key == "s2i":
        # The source secret keeps fetch in a container of its own.
        assert _container_of(done.pod, "fetch") == "git-clone"
        assert _containers(done.pod) == ["git-clone", main]
        assert "Using source secret: .gitconfig" in fetched
    else:
        # Pull and push secrets: each in its own container, the rest shared.
        assert _containers(done.pod) == ["git-clone", "pull-images", "build-image", main]
    assert done.logs[_container_of(done.pod, "prepare")].strip()
    assert f"Successfully pushed {pushed_to}@{digest}" in done.logs[main]


def test_build_pod_ran_unprivileged_as_the_contract_says(
    builds: dict[str, Finished], kubectl: Kubectl, namespace: str, seccomp_profile: str
) -> None:
    pod = builds["s2i"].pod
    # Built under the Localhost profile, in a namespace that enforces baseline.
    assert pod["spec"]["securityContext"]["seccompProfile"] == {
        "type": "Localhost", "localhostProfile": seccomp_profile,
    }  # fmt: skip
    labels = kubectl.json("get", "namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["runAsUser"] == 1000
    for container in [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]:
        assert container["securityContext"]["privileged"] is False
    assert all("hostPath" not in v for v in pod["spec"]["volumes"])


def test_failing_assemble_is_docker_build_failed_with_a_log_snippet(
    builds: dict[str, Finished], push_registry: str
) -> None:
    done = builds["broken"]
    outcome = done.outcome
    assert outcome.phase == BuildPhase.FAILED, (outcome, done.logs)
    assert outcome.reason == "DockerBuildFailed"
    assert outcome.message == "Docker build strategy has failed."
    assert "assemble" in outcome.detail
    assert "failing on purpose" in outcome.log_snippet
    # assemble runs in a container with no secret.
    assert outcome.container == _container_of(done.pod, "build")
    assert not [v for v in done.pod["spec"]["volumes"] if "secret" in v] or (
        outcome.container != _container_of(done.pod, "fetch")
    )
    assert [s.name for s in outcome.stages][-1] == "Build"
    assert done.pod["status"]["phase"] == "Failed"
    # Nothing was pushed.
    with pytest.raises(urllib.error.HTTPError):
        _manifest_digest(push_registry, done.output)


# --------------------------------------------------------------------------- admission


def _pod_manifest(
    name: str, namespace: str, registry: str, images: dict[str, str], **config: Any
) -> dict[str, Any]:
    """build_pod() for a small Docker build, without its owner reference (see the module doc)."""
    build = _build(name, namespace, {
        "source": {"git": {"uri": "git://git.invalid/app"}},
        "strategy": {"dockerStrategy": {
            "from": {"kind": "DockerImage", "name": f"{registry}/{images['base']}"}}},
        "output": {"to": {"kind": "DockerImage", "name": f"{registry}/kbuild-admission/{name}:1"}},
    })  # fmt: skip
    settings = ControllerConfig(
        registry=registry, build_pod_image=f"{registry}/{images['buildpod']}", **config
    )
    pod = build_pod(build, settings, pod_build=build)
    del pod["metadata"]["ownerReferences"]
    return pod


def _dry_run(kubectl: Kubectl, namespace: str, pod: dict[str, Any]) -> tuple[bool, str]:
    """Create ``pod`` server-side without persisting it: admission runs, nothing starts."""
    done = kubectl("-n", namespace, "create", "--dry-run=server", "-f", "-",
                   stdin=json.dumps(pod), check=False)  # fmt: skip
    return done.returncode == 0, done.stderr


def test_pod_security_baseline_admits_the_build_pod_and_rejects_the_unconfined_one(
    kubectl: Kubectl, namespace: str, registry: str, images: dict[str, str]
) -> None:
    labels = kubectl.json("get", "namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    admitted, said = _dry_run(kubectl, namespace, _pod_manifest("now", namespace, registry, images))
    assert admitted, said
    # The negative control: the spec before this change, Unconfined seccomp.
    old = _pod_manifest("before", namespace, registry, images, seccomp_profile="Unconfined")
    admitted, said = _dry_run(kubectl, namespace, old)
    assert not admitted
    assert 'violates PodSecurity "baseline:latest"' in said, said
    assert 'seccompProfile.type to "Unconfined"' in said, said


def test_pod_security_restricted_rejects_the_build_pod(
    kubectl: Kubectl, registry: str, images: dict[str, str]
) -> None:
    # docs/build-pod.md: rootless buildah needs what restricted forbids.
    ns = f"kbuild-restricted-{RUN_ID}"
    create_namespace(kubectl, ns)
    try:
        kubectl("label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted")
        admitted, said = _dry_run(kubectl, ns, _pod_manifest("r", ns, registry, images))
        assert not admitted
        assert 'violates PodSecurity "restricted:latest"' in said, said
        assert "allowPrivilegeEscalation != false" in said, said
        first = _containers(_pod_manifest("r", ns, registry, images))[0]
        assert f'unrestricted capabilities (container "{first}"' in said or (
            f'unrestricted capabilities (containers "{first}"' in said
        ), said
    finally:
        kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_a_node_without_the_seccomp_profile_ends_the_build_naming_it(
    kubectl: Kubectl, namespace: str, registry: str, images: dict[str, str]
) -> None:
    absent = f"kbuild/absent-{RUN_ID}.json"
    pod = _pod_manifest("absent", namespace, registry, images, seccomp_profile=absent)
    outcome = _run_to_the_end(kubectl, namespace, pod)
    assert outcome.phase == BuildPhase.ERROR, outcome
    assert outcome.reason == "CannotCreateBuildPod"
    assert f"has no seccomp profile {absent}" in outcome.detail
    assert "cannot load seccomp profile" in outcome.detail  # the runtime's own words
    assert outcome.container == _containers(pod)[0]
    assert outcome.stop_pod


def _run_to_the_end(kubectl: Kubectl, namespace: str, pod: dict[str, Any]) -> PodOutcome:
    """Create ``pod`` and follow it until interpret_pod calls it over (3 min at most)."""
    kubectl("-n", namespace, "create", "-f", "-", stdin=json.dumps(pod))
    name = pod["metadata"]["name"]
    try:
        deadline = time.monotonic() + 180
        outcome = interpret_pod(kubectl.json("-n", namespace, "get", "pod", name))
        while not outcome.terminal and time.monotonic() < deadline:
            time.sleep(2)
            outcome = interpret_pod(kubectl.json("-n", namespace, "get", "pod", name))
        return outcome
    finally:
        kubectl("-n", namespace, "delete", "pod", name, "--wait=false", check=False)


# --------------------------------------------------------------------------- AppArmor


def _node_enforces_apparmor() -> bool:
    try:
        return Path("/sys/module/apparmor/parameters/enabled").read_text().strip() == "Y"
    except OSError:
        return False


def test_pod_security_baseline_admits_the_apparmor_profile_and_rejects_unconfined(
    kubectl: Kubectl, namespace: str, registry: str, images: dict[str, str]
) -> None:
    pod = _pod_manifest("armor", namespace, registry, images, apparmor_profile=PROFILE_NAME)
    assert pod["spec"]["securityContext"]["appArmorProfile"] == {
        "type": "Localhost", "localhostProfile": PROFILE_NAME,
    }  # fmt: skip
    admitted, said = _dry_run(kubectl, namespace, pod)
    assert admitted, said
    unconfined = _pod_manifest(
        "unarmored", namespace, registry, images, apparmor_profile="Unconfined"
    )
    admitted, said = _dry_run(kubectl, namespace, unconfined)
    assert not admitted
    assert 'violates PodSecurity "baseline:latest"' in said, said
    assert "appArmorProfile" in said or "AppArmor" in said, said


def test_an_apparmor_profile_the_node_cannot_apply_ends_the_build_naming_it(
    kubectl: Kubectl, namespace: str, registry: str, images: dict[str, str]
) -> None:
    # This node's kernel has no AppArmor: the kubelet refuses the pod. On a
    # node with AppArmor, a profile never loaded fails container creation.
    absent = f"kbuild-absent-{RUN_ID}"
    pod = _pod_manifest("armorless", namespace, registry, images, apparmor_profile=absent)
    outcome = _run_to_the_end(kubectl, namespace, pod)
    assert outcome.phase == BuildPhase.ERROR, outcome
    assert outcome.reason == "CannotCreateBuildPod"
    assert outcome.stop_pod
    if _node_enforces_apparmor():
        assert f"has not loaded AppArmor profile {absent}" in outcome.detail, outcome.detail
    else:
        assert f"asks for AppArmor profile {absent}" in outcome.detail, outcome.detail
        assert "--apparmor-profile" in outcome.detail


def test_the_apparmor_loader_as_shipped_is_ready_and_says_what_it_did(
    cluster: Cluster, kubectl: Kubectl
) -> None:
    shipped = (REPO_ROOT / "deploy" / "apparmor-loader.yaml").read_text()
    docs = [d for d in yaml.safe_load_all(shipped.replace("__REGISTRY__", cluster.registry)) if d]
    for doc in docs:
        if doc["kind"] == "DaemonSet":
            doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    try:
        rollout = kubectl(
            "-n", "kbuild-system", "rollout", "status", "daemonset/kbuild-apparmor-loader",
            "--timeout=240s", check=False, timeout=260,
        )  # fmt: skip
        said = kubectl("-n", "kbuild-system", "logs", "-l", "app=kbuild-apparmor-loader",
                       "--tail=20", check=False).stdout  # fmt: skip
        assert rollout.returncode == 0, f"{rollout.stderr}\n{said}"
        if _node_enforces_apparmor():
            assert f"loaded {PROFILE_NAME}" in said or f"{PROFILE_NAME} is loaded" in said, said
        else:
            assert "AppArmor is not enabled on this node: nothing to load" in said, said
    finally:
        kubectl("-n", "kbuild-system", "delete", "daemonset", "kbuild-apparmor-loader",
                "--wait=false", check=False)  # fmt: skip
