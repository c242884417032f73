"""The build controller on a real cluster: BuildConfigs in, images and tags out.

A ``kbuild controller`` runs on this machine against the cluster (limited to
this module's namespaces, with its own lease), sources come from a git
daemon the pods reach, and images go to the cluster's registry.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import secrets
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builder.api import Build, BuildPhase, ImageStream, ObjectMeta, TagEvent, now_time
from builder.api.image import NamedTagEventList
from builder.controller.authz import DENIAL_TTL
from builder.kube import Kube, NotFound
from tests.cluster.conftest import Cluster, Kubectl, create_namespace
from tests.cluster.support import (
    TERMINAL,
    Controller,
    apply,
    buildconfig,
    finished,
    git_source,
    grant_images,
    kbuild,
    registry_client,
    source_strategy,
    wait_for,
)
from tests.support.gitdaemon import GitDaemon, git, git_daemon
from tests.support.registry import RunningRegistry, start_registry

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = secrets.token_hex(3)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def gitd(pod_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    with git_daemon(pod_host, tmp_path_factory.mktemp("git")) as daemon:
        daemon.add_example("python-hello", "hello")
        daemon.add_example("docker-multistage", "multistage")
        yield daemon


@pytest.fixture(scope="module")
def env(
    cluster: Cluster,
    kubectl: Kubectl,
    images: dict[str, str],
    pod_host: str,
    seccomp_profile: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Controller, Kube]]:
    ns = f"kbuild-ctl-{RUN_ID}"
    create_namespace(kubectl, ns, build_pods=True)
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    controller = Controller(
        cluster.kubeconfig, cluster.registry, ns, tmp_path_factory.mktemp("ctl") / "controller.log"
    )
    # Every registry on the pod host speaks plain HTTP (a bare host covers all ports).
    controller.extra = ["--insecure-registry", pod_host]
    controller.start()
    try:
        yield ns, controller, Kube.connect(str(cluster.kubeconfig))
    finally:
        controller.kill()
        if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


# --------------------------------------------------------------------------- tests


def test_config_change_build_from_a_stream_tag_in_another_namespace_is_deployed(
    env: tuple[str, Controller, Kube],
    gitd: GitDaemon,
    kubectl: Kubectl,
    cluster: Cluster,
    push_registry: str,
) -> None:
    ns, _, kube = env
    # The builder comes from an ImageStreamTag in another namespace, which has
    # no image yet when the BuildConfig is applied: the build must wait for it.
    images_ns = f"{ns}-images"
    create_namespace(kubectl, images_ns)
    # What `oc policy add-role-to-group system:image-puller system:serviceaccounts:NS`
    # grants; without it the build fails (test_tenancy_build_input_in_another_namespace).
    grant_images(kubectl, images_ns, "get", group=f"system:serviceaccounts:{ns}")
    try:
        kube.image_streams.create(
            ImageStream(metadata=ObjectMeta(name="python", namespace=images_ns))
        )
        apply(kubectl, ns, buildconfig(
            "hello", git_source(gitd, "hello"),
            source_strategy("python:3.11", "ImageStreamTag", images_ns),
            {"to": {"kind": "ImageStreamTag", "name": "hello:latest"}},
            triggers=[{"type": "ConfigChange"}],
        ))  # fmt: skip
        waiting = wait_for(
            "hello-1 to wait for its builder",
            lambda: (b := _get(kube, ns, "hello-1")) and b.status.reason and b,
        )
        assert waiting.status.phase == BuildPhase.NEW
        assert waiting.status.reason == "InvalidImageReference"
        assert "has no image yet" in waiting.status.message

        builder = registry_client().resolve(f"{push_registry}/kbuild/s2i-python:3.11")
        stream = kube.image_streams.get(images_ns, "python")
        stream.status.tags = [NamedTagEventList(tag="3.11", items=[TagEvent(
            created=now_time(),
            docker_image_reference=f"{cluster.registry}/kbuild/s2i-python@{builder.digest}",
            image=builder.digest, generation=1,
        )])]  # fmt: skip
        kube.image_streams.replace_status(stream)

        build = finished(kube, ns, "hello-1")
        assert build.status.phase == BuildPhase.COMPLETE, build.status
        digest = build.status.output.to.image_digest if build.status.output.to else ""
        assert digest == registry_client().resolve(f"{push_registry}/{ns}/hello:latest").digest
        assert build.status.output_docker_image_reference == f"{cluster.registry}/{ns}/hello:latest"
        assert [s.name for s in build.status.stages][:1] == ["FetchInputs"]
        tag = kube.image_streams.get(ns, "hello").status.tags[0]
        assert tag.tag == "latest" and tag.items is not None
        assert [i.image for i in tag.items] == [digest]
        pulled = tag.items[0].docker_image_reference
    finally:
        kubectl("delete", "namespace", images_ns, "--wait=false", check=False)

    # The image serves: a Deployment of the tag's image, answering on its ClusterIP.
    apply(kubectl, ns, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello"},
        "spec": {"selector": {"matchLabels": {"app": "hello"}}, "template": {
            "metadata": {"labels": {"app": "hello"}},
            "spec": {"containers": [{"name": "hello", "image": pulled,
                                     "ports": [{"containerPort": 8080}]}]}}},
    })  # fmt: skip
    apply(kubectl, ns, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "hello"},
        "spec": {"selector": {"app": "hello"}, "ports": [{"port": 80, "targetPort": 8080}]},
    })  # fmt: skip
    kubectl("-n", ns, "rollout", "status", "deployment/hello", "--timeout=180s", timeout=200)
    if cluster.local:
        ip = kubectl("-n", ns, "get", "service", "hello", "-o", "jsonpath={.spec.clusterIP}").stdout
        answer = wait_for("the app to answer", lambda: _http_json(f"http://{ip}/"), timeout=60)
        assert answer["message"] == "hello from kbuild"
        assert answer["build"] == "hello-1"
        assert answer["commit"] == git(gitd.base / "hello", "rev-parse", "HEAD")


def _get(kube: Kube, ns: str, name: str) -> Build | None:
    try:
        return kube.builds.get(ns, name)
    except NotFound:
        return None


def _http_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - cluster IP
            return json.load(response)
    except OSError:
        return None


def test_docker_strategy_with_from_override_and_build_args(
    env: tuple[str, Controller, Kube],
    gitd: GitDaemon,
    kubectl: Kubectl,
    cluster: Cluster,
    push_registry: str,
) -> None:
    ns, _, kube = env
    apply(kubectl, ns, buildconfig(
        "multi", git_source(gitd, "multistage"),
        {"type": "Docker", "dockerStrategy": {
            "from": {"kind": "DockerImage", "name": f"{cluster.registry}/kbuild/s2i-python:3.11"},
            "buildArgs": [{"name": "BASE", "value": f"{cluster.registry}/kbuild/base:bookworm"},
                          {"name": "VERSION", "value": "4.5.6"}]}},
        {"to": {"kind": "ImageStreamTag", "name": "multi:v4"}},
    ))  # fmt: skip
    kbuild("start-build", "multi", "-n", ns, kubeconfig=cluster.kubeconfig)
    # What CI scripts written for OpenShift wait on: the Complete condition.
    waited = kubectl("-n", ns, "wait", "--for=condition=Complete",
                     "build.build.openshift.io/multi-1", "--timeout=240s", timeout=260,
                     check=False)  # fmt: skip
    build = finished(kube, ns, "multi-1")
    assert build.status.phase == BuildPhase.COMPLETE, build.status
    assert waited.returncode == 0, waited.stderr
    config = registry_client().image_config(f"{push_registry}/{ns}/multi:v4")
    assert config.labels["org.example.version"] == "4.5.6"
    assert config.labels["io.openshift.tags"] == "builder,python,python3"  # from the override
    assert config.labels["io.openshift.build.name"] == "multi-1"


def _phases(kube: Kube, ns: str, prefix: str) -> dict[str, BuildPhase]:
    builds, _ = kube.builds.list(ns)
    return {b.metadata.name: b.status.phase for b in builds if b.metadata.name.startswith(prefix)}


def test_serial_builds_run_one_at_a_time_and_history_is_pruned(
    env: tuple[str, Controller, Kube],
    gitd: GitDaemon,
    kubectl: Kubectl,
    cluster: Cluster,
) -> None:
    ns, _, kube = env
    apply(kubectl, ns, buildconfig(
        "serial", git_source(gitd, "hello"),
        source_strategy(f"{cluster.registry}/kbuild/s2i-python:3.11"),
        {"to": {"kind": "ImageStreamTag", "name": "serial:latest"}},
        runPolicy="Serial", successfulBuildsHistoryLimit=2,
    ))  # fmt: skip
    for _ in range(3):
        kbuild("start-build", "serial", "-n", ns, kubeconfig=cluster.kubeconfig)
    overlaps = []
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        phases = _phases(kube, ns, "serial-")
        active = [n for n, p in phases.items() if p in (BuildPhase.PENDING, BuildPhase.RUNNING)]
        if len(active) > 1:
            overlaps.append(active)
        if (
            sum(p == BuildPhase.COMPLETE for p in phases.values()) >= 2
            and not active
            and all(p in TERMINAL for p in phases.values())
        ):
            break
        time.sleep(0.5)
    assert overlaps == []
    # Three completed, the oldest pruned by successfulBuildsHistoryLimit: 2.
    remaining = wait_for("history pruning", lambda: (p := _phases(kube, ns, "serial-"))
                         and len(p) == 2 and p)  # fmt: skip
    assert remaining == {"serial-2": BuildPhase.COMPLETE, "serial-3": BuildPhase.COMPLETE}
    tag = kube.image_streams.get(ns, "serial").status.tags[0]
    assert tag.items is not None and len(tag.items) >= 1


def test_serial_latest_only_cancels_queued_builds_and_cancel_stops_a_running_one(
    env: tuple[str, Controller, Kube],
    gitd: GitDaemon,
    kubectl: Kubectl,
    cluster: Cluster,
) -> None:
    ns, _, kube = env
    apply(kubectl, ns, buildconfig(
        "latest", git_source(gitd, "hello"),
        source_strategy(f"{cluster.registry}/kbuild/s2i-python:3.11"),
        {"to": {"kind": "ImageStreamTag", "name": "latest:latest"}},
        runPolicy="SerialLatestOnly",
        # A build pod takes a few seconds: the first build's hook keeps it
        # running long enough to be cancelled while it runs.
        postCommit={"script": 'if [ "$OPENSHIFT_BUILD_NAME" = latest-1 ]; then sleep 300; fi'},
    ))  # fmt: skip
    kbuild("start-build", "latest", "-n", ns, kubeconfig=cluster.kubeconfig)
    wait_for("latest-1 to run", lambda: _phases(kube, ns, "latest-").get("latest-1")
             in (BuildPhase.PENDING, BuildPhase.RUNNING))  # fmt: skip
    kbuild("start-build", "latest", "-n", ns, kubeconfig=cluster.kubeconfig)
    kbuild("start-build", "latest", "-n", ns, kubeconfig=cluster.kubeconfig)
    # The queued latest-2 is superseded by latest-3 and cancelled.
    cancelled = finished(kube, ns, "latest-2")
    assert cancelled.status.phase == BuildPhase.CANCELLED
    # A running build is cancelled on request: its pod goes, the phase says so.
    kbuild("cancel-build", "latest-1", "-n", ns, kubeconfig=cluster.kubeconfig)
    stopped = finished(kube, ns, "latest-1")
    assert stopped.status.phase == BuildPhase.CANCELLED
    assert stopped.status.reason == "CancelledBuild"
    wait_for("latest-1's pod to go", lambda: kubectl(
        "-n", ns, "get", "pod", "latest-1-build", check=False).returncode != 0)  # fmt: skip
    assert finished(kube, ns, "latest-3").status.phase == BuildPhase.COMPLETE


@pytest.fixture(scope="module")
def refusing_registry(
    pod_host: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningRegistry]:
    """A registry pods reach that requires credentials the build does not have."""
    registry = start_registry(
        tmp_path_factory.mktemp("refusing"), htpasswd={"someone": "s3cret"}, listen=pod_host
    )
    yield registry
    registry.cleanup()


@pytest.mark.parametrize(
    ("case", "reason", "detail"),
    [
        ("bad-url", "FetchSourceFailed", "cannot fetch"),
        ("missing-ref", "FetchSourceFailed", "ref 'no-such-branch' not found"),
        ("assemble-fails", "DockerBuildFailed", "assemble script failed"),
        ("push-refused", "PushImageToRegistryFailed", "authentication required"),
    ],
)
def test_failures_end_with_a_reason_in_describe_and_an_event(
    case: str,
    reason: str,
    detail: str,
    env: tuple[str, Controller, Kube],
    gitd: GitDaemon,
    kubectl: Kubectl,
    cluster: Cluster,
    refusing_registry: RunningRegistry,
) -> None:
    ns, _, kube = env
    source = git_source(gitd, "hello")
    output: dict[str, Any] = {"to": {"kind": "ImageStreamTag", "name": f"{case}:latest"}}
    if case == "bad-url":
        source = {"git": {"uri": gitd.uri("does-not-exist")}}
    elif case == "missing-ref":
        source = git_source(gitd, "hello", ref="no-such-branch")
    elif case == "assemble-fails":
        repo = gitd.add_example("python-hello", "broken")
        scripts = repo / ".s2i" / "bin"
        scripts.mkdir(parents=True)
        (scripts / "assemble").write_text("#!/bin/sh\necho 'installing... failed' >&2\nexit 1\n")
        (scripts / "assemble").chmod(0o755)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "broken assemble")
        source = git_source(gitd, "broken")
    elif case == "push-refused":
        output = {"to": {"kind": "DockerImage", "name": f"{refusing_registry.host}/x/y:1"}}
    apply(kubectl, ns, buildconfig(
        case, source, source_strategy(f"{cluster.registry}/kbuild/s2i-python:3.11"), output,
    ))  # fmt: skip
    kbuild("start-build", case, "-n", ns, kubeconfig=cluster.kubeconfig)
    build = finished(kube, ns, f"{case}-1")
    assert build.status.phase == BuildPhase.FAILED, build.status
    assert build.status.reason == reason
    assert detail in build.status.message, build.status.message
    if case == "assemble-fails":
        assert "installing... failed" in build.status.log_snippet
    described = kbuild("describe", f"build/{case}-1", "-n", ns, kubeconfig=cluster.kubeconfig)
    assert reason in described.stdout
    events = kubectl("-n", ns, "get", "events", "--field-selector",
                     f"involvedObject.name={case}-1", "-o", "json").stdout  # fmt: skip
    reasons = {e["reason"] for e in json.loads(events)["items"]}
    assert "BuildFailed" in reasons


def test_controller_killed_mid_build_finishes_it_exactly_once(
    env: tuple[str, Controller, Kube],
    gitd: GitDaemon,
    kubectl: Kubectl,
    cluster: Cluster,
) -> None:
    ns, controller, kube = env
    apply(kubectl, ns, buildconfig(
        "crash", git_source(gitd, "hello"),
        source_strategy(f"{cluster.registry}/kbuild/s2i-python:3.11"),
        {"to": {"kind": "ImageStreamTag", "name": "crash:latest"}},
    ))  # fmt: skip
    kbuild("start-build", "crash", "-n", ns, kubeconfig=cluster.kubeconfig)
    wait_for("crash-1 to run", lambda: _phases(kube, ns, "crash-").get("crash-1")
             == BuildPhase.RUNNING, every=0.2)  # fmt: skip
    pod_uid = kubectl("-n", ns, "get", "pod", "crash-1-build", "-o",
                      "jsonpath={.metadata.uid}").stdout  # fmt: skip
    controller.kill()
    time.sleep(3)
    controller.start()
    build = finished(kube, ns, "crash-1")
    assert build.status.phase == BuildPhase.COMPLETE, build.status
    assert set(_phases(kube, ns, "crash-")) == {"crash-1"}  # no duplicate Build
    pods = json.loads(kubectl("-n", ns, "get", "pods", "-l", "openshift.io/build.name=crash-1",
                              "-o", "json").stdout)["items"]  # fmt: skip
    assert [p["metadata"]["uid"] for p in pods] == [pod_uid]  # the same, single pod
    tag = kube.image_streams.get(ns, "crash").status.tags[0]
    assert tag.items is not None and len(tag.items) == 1  # the digest recorded once


def test_binary_build_from_dir_and_a_rebuild_reusing_its_input(
    env: tuple[str, Controller, Kube],
    kubectl: Kubectl,
    cluster: Cluster,
    push_registry: str,
    tmp_path: Path,
) -> None:
    ns, _, kube = env
    if push_registry != cluster.registry:
        pytest.skip("the uploaded input must be reachable at one address by this machine and pods")
    app = tmp_path / "app"
    shutil.copytree(REPO_ROOT / "examples" / "python-hello", app)
    apply(kubectl, ns, buildconfig(
        "bin", {"type": "Binary", "binary": {}},
        source_strategy(f"{cluster.registry}/kbuild/s2i-python:3.11"),
        {"to": {"kind": "ImageStreamTag", "name": "bin:latest"}},
    ))  # fmt: skip
    registry_flags = (
        "--source-registry",
        cluster.registry,
        "--insecure-registry",
        cluster.registry,
    )
    kbuild("start-build", "bin", "-n", ns, "--from-dir", str(app), *registry_flags,
           kubeconfig=cluster.kubeconfig)  # fmt: skip
    first = finished(kube, ns, "bin-1")
    assert first.status.phase == BuildPhase.COMPLETE, first.status
    uploaded = (first.metadata.annotations or {})["build.kbuild.io/binary-source"]
    assert uploaded.startswith(f"{cluster.registry}/{ns}/bin-binary-source@sha256:")
    bc = kube.build_configs.get(ns, "bin")
    assert (bc.metadata.annotations or {})["build.kbuild.io/binary-source"] == uploaded
    # No --from-dir this time: the last uploaded input is built again.
    kbuild("start-build", "bin", "-n", ns, kubeconfig=cluster.kubeconfig)
    second = finished(kube, ns, "bin-2")
    assert second.status.phase == BuildPhase.COMPLETE, second.status
    assert (second.metadata.annotations or {})["build.kbuild.io/binary-source"] == uploaded


def test_start_build_follow_streams_the_log_and_wait_reports_a_failure(
    env: tuple[str, Controller, Kube],
    gitd: GitDaemon,
    kubectl: Kubectl,
    cluster: Cluster,
) -> None:
    ns, _, _ = env
    builder = source_strategy(f"{cluster.registry}/kbuild/s2i-python:3.11")
    output = {"to": {"kind": "ImageStreamTag", "name": "follow:latest"}}
    apply(kubectl, ns, buildconfig("follow", git_source(gitd, "hello"), builder, output))
    followed = kbuild("start-build", "follow", "-n", ns, "--follow", kubeconfig=cluster.kubeconfig)
    assert followed.stdout.startswith("build.build.openshift.io/follow-1 started\n")
    # The init containers' and the build container's output, in order.
    log = followed.stdout
    assert log.index("Cloning") < log.index("Assemble user") < log.index("Installing application")
    assert "Successfully pushed" in log

    apply(kubectl, ns, buildconfig("waits", {"git": {"uri": gitd.uri("nothing-here")}}, builder))
    waited = kbuild("start-build", "waits", "-n", ns, "--wait", kubeconfig=cluster.kubeconfig,
                    check=False)  # fmt: skip
    assert waited.returncode == 1
    assert waited.stderr.startswith("error: FetchSourceFailed: ")


# --------------------------------------------------------------------------- tenancy


def _victim(kubectl: Kubectl, kube: Kube, victim: str, image: str, digest: str) -> str:
    """Namespace ``victim`` beside the tenant's, with stream app:prod at ``image@digest``."""
    create_namespace(kubectl, victim)
    kube.image_streams.create(ImageStream(metadata=ObjectMeta(name="app", namespace=victim)))
    stream = kube.image_streams.get(victim, "app")
    stream.status.tags = [NamedTagEventList(tag="prod", items=[TagEvent(
        created=now_time(), docker_image_reference=f"{image}@{digest}", image=digest,
        generation=1,
    )])]  # fmt: skip
    kube.image_streams.replace_status(stream)
    return victim


def _await_grant(kubectl: Kubectl, namespace: str, verb: str, user: str) -> None:
    """Until the API server's authorizer sees a new RoleBinding, then past the denial cache."""
    sa_namespace = user.split(":")[2]
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{sa_namespace}"]
    wait_for(f"{user} to be allowed to {verb} in {namespace}", lambda: kubectl(
        "auth", "can-i", verb, "imagestreams.image.openshift.io", "--subresource=layers",
        "-n", namespace, "--as", user, *(f"--as-group={g}" for g in groups), check=False,
    ).stdout.strip() == "yes", timeout=30)  # fmt: skip
    time.sleep(DENIAL_TTL + 0.5)  # an expiry, not an event: nothing to await


def _history(kube: Kube, namespace: str) -> list[str]:
    tags = kube.image_streams.get(namespace, "app").status.tags
    return [i.image for t in tags if t.tag == "prod" for i in t.items or []]


def test_tenancy_build_output_in_another_namespace(
    env: tuple[str, Controller, Kube], gitd: GitDaemon, kubectl: Kubectl, cluster: Cluster,
    push_registry: str,
) -> None:  # fmt: skip
    """A tenant's build may move another namespace's tag only with push rights there."""
    ns, _, kube = env
    builder = f"{cluster.registry}/kbuild/s2i-python:3.11"
    digest = registry_client().resolve(f"{push_registry}/kbuild/s2i-python:3.11").digest
    victim = _victim(kubectl, kube, f"{ns}-victim-out", f"{cluster.registry}/kbuild/s2i-python",
                     digest)  # fmt: skip
    try:
        apply(kubectl, ns, buildconfig(
            "intruder", git_source(gitd, "hello"), source_strategy(builder),
            {"to": {"kind": "ImageStreamTag", "namespace": victim, "name": "app:prod"}},
        ))  # fmt: skip
        kbuild("start-build", "intruder", "-n", ns, kubeconfig=cluster.kubeconfig)
        build = finished(kube, ns, "intruder-1")
        assert (build.status.phase, build.status.reason) == (
            BuildPhase.FAILED, "InvalidOutputReference"
        ), build.status  # fmt: skip
        assert f"system:serviceaccount:{ns}:default may not update" in build.status.message
        assert _history(kube, victim) == [digest]
        assert kubectl("-n", ns, "get", "pod", "intruder-1-build", check=False).returncode != 0

        grant_images(kubectl, victim, "update", service_account=f"{ns}:default")
        _await_grant(kubectl, victim, "update", f"system:serviceaccount:{ns}:default")
        kbuild("start-build", "intruder", "-n", ns, kubeconfig=cluster.kubeconfig)
        build = finished(kube, ns, "intruder-2")
        assert build.status.phase == BuildPhase.COMPLETE, build.status
        pushed = build.status.output.to.image_digest if build.status.output.to else ""
        assert _history(kube, victim) == [pushed, digest]
    finally:
        kubectl("delete", "namespace", victim, "--wait=false", check=False)


def test_tenancy_build_input_and_spec_tag_in_another_namespace(
    env: tuple[str, Controller, Kube], gitd: GitDaemon, kubectl: Kubectl, cluster: Cluster,
    push_registry: str,
) -> None:  # fmt: skip
    """Another namespace's images are read only with pull rights there.

    The granted build input is test_config_change_build_from_a_stream_tag_in_another_namespace.
    """
    ns, _, kube = env
    digest = registry_client().resolve(f"{push_registry}/kbuild/s2i-python:3.11").digest
    victim = _victim(kubectl, kube, f"{ns}-victim-in", f"{cluster.registry}/kbuild/s2i-python",
                     digest)  # fmt: skip
    try:
        apply(kubectl, ns, buildconfig(
            "reader", git_source(gitd, "hello"),
            source_strategy("app:prod", "ImageStreamTag", victim),
            {"to": {"kind": "ImageStreamTag", "name": "reader:latest"}},
            # Instantiated by the controller: `kbuild start-build` would pin the
            # input with its own user's rights (here a cluster admin's).
            triggers=[{"type": "ConfigChange"}],
        ))  # fmt: skip
        build = finished(kube, ns, "reader-1")
        assert (build.status.phase, build.status.reason) == (
            BuildPhase.FAILED, "InvalidImageReference"
        ), build.status  # fmt: skip
        assert f"may not get imagestreams/layers in namespace '{victim}'" in build.status.message

        # A spec tag from the other namespace: Forbidden, then resolved once granted.
        def condition() -> Any:
            stream = kube.image_streams.get(ns, "mine")
            return next((c for t in stream.status.tags if t.tag == "prod"
                         for c in t.conditions or []), None)  # fmt: skip

        def items() -> list[str]:
            stream = kube.image_streams.get(ns, "mine")
            return [i.image for t in stream.status.tags if t.tag == "prod" for i in t.items or []]

        kbuild("tag", f"{victim}/app:prod", "mine:prod", "-n", ns, kubeconfig=cluster.kubeconfig)
        denied = wait_for("the Forbidden condition", condition, timeout=60)
        assert denied.reason == "Forbidden", denied
        assert items() == []
        grant_images(kubectl, victim, "get", group=f"system:serviceaccounts:{ns}")
        _await_grant(kubectl, victim, "get", f"system:serviceaccount:{ns}:default")
        kbuild("tag", f"{victim}/app:prod", "mine:prod", "-n", ns, kubeconfig=cluster.kubeconfig)
        assert wait_for("the tag to resolve", lambda: items() == [digest], timeout=60)
    finally:
        kubectl("delete", "namespace", victim, "--wait=false", check=False)


# --------------------------------------------------------------------------- secrets


def _uncompressed(blob: bytes) -> bytes:
    return gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob


def test_no_secret_byte_reaches_an_image_a_log_an_event_a_status_or_a_message(
    env: tuple[str, Controller, Kube], gitd: GitDaemon, kubectl: Kubectl, cluster: Cluster,
    push_registry: str,
) -> None:  # fmt: skip
    """A committer tries every way to the pull and push secrets of the build pod.

    One repository links ``.s2i/environment`` and ``.s2i/bin/assemble`` to
    the mounted secrets (refused by name); another has an assemble script that
    looks for them while it runs, and a committed link to them (copied as a
    link). Then every place a user can read is searched for the secrets' bytes.
    """
    ns, _, kube = env
    token = secrets.token_hex(8)
    needles: list[bytes] = []
    for kind in ("pull", "push"):
        password = f"{kind}-canary-{token}"
        kubectl("-n", ns, "create", "secret", "docker-registry", f"canary-{kind}",
                f"--docker-server={cluster.registry}", "--docker-username=kbuild",
                f"--docker-password={password}")  # fmt: skip
        stored = kubectl.json("-n", ns, "get", "secret", f"canary-{kind}")
        config = base64.b64decode(stored["data"][".dockerconfigjson"])
        auth = base64.b64encode(f"kbuild:{password}".encode())
        needles += [password.encode(), auth, config, stored["data"][".dockerconfigjson"].encode()]
    mounts = "/var/run/secrets/openshift.io"

    linked = gitd.add_example("python-hello", f"linked-{token}")
    (linked / ".s2i" / "environment").unlink()
    (linked / ".s2i" / "environment").symlink_to(f"{mounts}/push/.dockerconfigjson")
    git(linked, "add", "-A")
    git(linked, "commit", "-qm", "links to the secrets")

    curious = gitd.add_example("python-hello", f"curious-{token}")
    (curious / ".s2i" / "bin").mkdir()
    assemble = curious / ".s2i" / "bin" / "assemble"
    assemble.write_text(
        "#!/bin/sh\n"
        f"cat {mounts}/*/.dockerconfigjson > /tmp/src/found.txt 2>&1 || true\n"
        "cat /proc/1/root/var/run/secrets/openshift.io/*/* >> /tmp/src/found.txt 2>&1 || true\n"
        "env > /tmp/src/env.txt\n"
        "exec /usr/libexec/s2i/assemble\n"
    )
    assemble.chmod(0o755)
    (curious / "pushcfg").symlink_to(f"{mounts}/push/.dockerconfigjson")
    git(curious, "add", "-A")
    git(curious, "commit", "-qm", "looks for the secrets")

    builder = f"{cluster.registry}/kbuild/s2i-python:3.11"
    for name in ("linked", "curious"):
        strategy = source_strategy(builder)
        strategy["sourceStrategy"]["pullSecret"] = {"name": "canary-pull"}
        apply(kubectl, ns, buildconfig(
            f"{name}-{token}", git_source(gitd, f"{name}-{token}"), strategy,
            {"to": {"kind": "ImageStreamTag", "name": f"{name}-{token}:latest"},
             "pushSecret": {"name": "canary-push"}},
        ))  # fmt: skip
        kbuild("start-build", f"{name}-{token}", "-n", ns, kubeconfig=cluster.kubeconfig)

    refused = finished(kube, ns, f"linked-{token}-1")
    assert (refused.status.phase, refused.status.reason) == (
        BuildPhase.FAILED, "ManageDockerfileFailed"
    ), refused.status  # fmt: skip
    assert "symbolic link" in refused.status.message
    built = finished(kube, ns, f"curious-{token}-1")
    assert built.status.phase == BuildPhase.COMPLETE, built.status

    places: dict[str, bytes] = {}
    for build in (refused, built):
        name = build.metadata.name
        places[f"build {name}"] = kubectl("-n", ns, "get", "build.build.openshift.io", name,
                                          "-o", "json").stdout.encode()  # fmt: skip
        logs = kbuild("logs", f"build/{name}", "-n", ns, kubeconfig=cluster.kubeconfig,
                      check=False)  # fmt: skip
        places[f"logs {name}"] = (logs.stdout + logs.stderr).encode()
        pod = kubectl("-n", ns, "get", "pod", f"{name}-build", "-o", "json", check=False)
        places[f"pod {name} (termination messages)"] = pod.stdout.encode()
    places["events"] = kubectl("-n", ns, "get", "events", "-o", "json").stdout.encode()
    client = registry_client()
    reference = f"{push_registry}/{ns}/curious-{token}:latest"
    manifest = client.resolve(reference)
    places["image config"] = client.blob(reference, manifest.config.digest, 64 << 20)
    for layer in manifest.layers:
        places[f"layer {layer.digest}"] = _uncompressed(client.blob(reference, layer.digest,
                                                                    1 << 30))  # fmt: skip
    assert len(places) >= 7
    leaks = [(where, needle[:12]) for where, data in places.items() for needle in needles
             if needle in data]  # fmt: skip
    assert leaks == []


def test_a_build_pod_refused_by_pod_security_shows_on_the_build_then_runs_under_baseline(
    env: tuple[str, Controller, Kube], gitd: GitDaemon, kubectl: Kubectl, cluster: Cluster
) -> None:
    """A 403 on the pod's creation is the Build's reason, not a line in the controller's log.

    The namespace enforces "restricted" while the build starts (the pod needs
    what restricted forbids: docs/build-pod.md), then "baseline" again: the
    controller's retry creates the pod and the build completes, under the
    Localhost seccomp profile, in a namespace a platform team would accept.
    """
    ns, _, kube = env
    enforce = "pod-security.kubernetes.io/enforce"
    kubectl("label", "--overwrite", "namespace", ns, f"{enforce}=restricted")
    try:
        apply(kubectl, ns, buildconfig(
            "guarded", git_source(gitd, "hello"),
            source_strategy(f"{cluster.registry}/kbuild/s2i-python:3.11"),
            {"to": {"kind": "ImageStreamTag", "name": "guarded:latest"}},
        ))  # fmt: skip
        kbuild("start-build", "guarded", "-n", ns, kubeconfig=cluster.kubeconfig)
        refused = wait_for(
            "guarded-1 to say its pod was refused",
            lambda: (b := _get(kube, ns, "guarded-1")) and b.status.reason and b,
            timeout=120,
        )
        assert refused.status.phase == BuildPhase.NEW
        assert refused.status.reason == "CannotCreateBuildPod"
        message = refused.status.message
        assert message.startswith('pods "guarded-1-build" is forbidden: violates PodSecurity '
                                  '"restricted:latest"'), message  # fmt: skip
        assert "allowPrivilegeEscalation != false" in message
        events = kubectl("-n", ns, "get", "events", "--field-selector",
                         "involvedObject.name=guarded-1", "-o", "json").stdout  # fmt: skip
        failed = [e for e in json.loads(events)["items"] if e["reason"] == "FailedCreate"]
        assert failed, events
        assert failed[0]["type"] == "Warning"
        assert failed[0]["message"] == f"Error creating build pod: {message}"
        described = kbuild("describe", "build/guarded-1", "-n", ns, kubeconfig=cluster.kubeconfig)
        assert "CannotCreateBuildPod" in described.stdout
    finally:
        kubectl("label", "--overwrite", "namespace", ns, f"{enforce}=baseline")
    build = finished(kube, ns, "guarded-1", timeout=600)
    assert build.status.phase == BuildPhase.COMPLETE, build.status
    pod = kubectl.json("-n", ns, "get", "pod", "guarded-1-build")
    assert pod["spec"]["securityContext"]["seccompProfile"]["type"] == "Localhost"
