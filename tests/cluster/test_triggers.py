"""Image streams and triggers on a real cluster: imports, rebuilds, rollouts, rollback.

A second registry on this machine plays the external one (quay.io, Docker
Hub): images are pushed there and imported into streams; it notifies the
controller of every push, as a distribution registry configured with
``notifications.endpoints`` does.  The scenarios are the issue's:

1. a scheduled builder tag, ``new-app builder~repo``, a new builder image
   rebuilds the app by itself; after ``set triggers --remove`` it does not;
2. a plain Deployment follows a tag through ``set triggers``, rolls forward
   on ``import-image`` and back on ``tag IS@sha256:OLD IS:TAG``;
3. base stream -> app BuildConfig -> app stream -> Deployment: one base push
   gives exactly one app build and one rollout;
4. imports that fail (registry down, unknown tag, bad credentials) show a
   condition, keep the history, and recover by themselves.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builder.api import Build, BuildPhase, ImageStream
from builder.kube import DEPLOYMENTS, Kube, NotFound
from builder.registry import RegistryClient
from builder.streams.tags import import_failure, latest_event, status_tag
from tests.cluster.conftest import Cluster, Kubectl, create_namespace, trust_registry
from tests.cluster.support import Controller, apply, finished, kbuild, wait_for
from tests.support.gitdaemon import GitDaemon, git, git_daemon
from tests.support.images import ImageBuilder, run
from tests.support.registry import RunningRegistry, start_registry

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(3)
TOKEN = secrets.token_hex(8)
# Long enough that only pushes, requests and retries import anything here.
INTERVAL = "10m"
BOTH_TRIGGERS = [{"type": "ConfigChange"}, {"type": "ImageChange", "imageChange": {}}]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def gitd(pod_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitDaemon]:
    with git_daemon(pod_host, tmp_path_factory.mktemp("git")) as daemon:
        daemon.add_example("python-hello", "hello")
        daemon.add_example("layered-app", "layered")
        yield daemon


@pytest.fixture(scope="module")
def controller(
    cluster: Cluster,
    kubectl: Kubectl,
    pod_host: str,
    seccomp_profile: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Controller]:
    ns = f"kbuild-trg-{RUN_ID}"
    create_namespace(kubectl, ns, build_pods=True)
    kubectl("apply", "-f", str(Path(__file__).resolve().parents[2] / "crds"))
    ctl = Controller(
        cluster.kubeconfig, cluster.registry, ns, tmp_path_factory.mktemp("ctl") / "controller.log"
    )
    ctl.extra = [
        "--insecure-registry", pod_host, "--notifications-token", TOKEN,
        "--scheduled-import-interval", INTERVAL, "--scheduled-import-minimum-interval", "1s",
    ]  # fmt: skip
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
    return Kube.connect(str(cluster.kubeconfig))


@pytest.fixture(scope="module")
def external(
    cluster: Cluster,
    controller: Controller,
    pod_host: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningRegistry]:
    """The "external" registry: pods pull from it, and it notifies the controller."""
    url = f"http://127.0.0.1:{controller.port}/registry/notifications"
    registry = start_registry(
        tmp_path_factory.mktemp("external"), listen=pod_host, notify=(url, TOKEN)
    )
    trust_registry(cluster, registry.host)
    yield registry
    registry.cleanup()


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> ImageBuilder:
    return ImageBuilder(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="module")
def pause(cluster: Cluster) -> bytes:
    """The node's static pause program: a tiny image that runs forever."""
    path = Path(cluster.kubectl_bin).parent / "pause"
    if not path.exists():
        pytest.skip("no static pause binary next to kubectl (the local test cluster has one)")
    return path.read_bytes()


def push_runnable(builder: ImageBuilder, pause: bytes, destination: str, version: str) -> str:
    """A runnable image (``/pause``) whose content differs by ``version``; returns its digest."""
    image = builder.build(
        files={"pause": pause, "version.txt": version.encode()},
        executable=["pause"],
        entrypoint=["/pause"],
        user="65535:65535",
    )
    return builder.push(image, destination, format="docker")


def cli(
    cluster: Cluster, ns: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return kbuild(*args, "-n", ns, kubeconfig=cluster.kubeconfig, check=check)


def stream(kube: Kube, ns: str, name: str) -> ImageStream | None:
    try:
        return kube.image_streams.get(ns, name)
    except NotFound:
        return None


def history(kube: Kube, ns: str, name: str, tag: str) -> list[str]:
    s = stream(kube, ns, name)
    named = status_tag(s, tag) if s is not None else None
    return [i.image for i in (named.items or [])] if named is not None else []


def builds_of(kube: Kube, ns: str, bc: str) -> list[Build]:
    builds, _ = kube.builds.list(ns)
    mine = [b for b in builds if b.metadata.name.startswith(f"{bc}-")]
    return sorted(mine, key=lambda b: int(b.metadata.name.rsplit("-", 1)[1]))


def template_image(kube: Kube, ns: str, name: str) -> str:
    deployment = kube.get_object(DEPLOYMENTS, ns, name)
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def layered_bc(
    name: str, gitd: GitDaemon, base: str, output: str, triggers: list[dict[str, Any]]
) -> dict[str, Any]:
    """A Docker build of examples/layered-app on the ImageStreamTag ``base``."""
    return {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig", "metadata": {"name": name},
        "spec": {
            "source": {"type": "Git", "git": {"uri": gitd.uri("layered"), "ref": "main"}},
            "strategy": {"type": "Docker", "dockerStrategy": {
                "from": {"kind": "ImageStreamTag", "name": base}}},
            "output": {"to": {"kind": "ImageStreamTag", "name": output}},
            "triggers": triggers,
        },
    }  # fmt: skip


def triggered_deployment(name: str, tag: str, field_path: str) -> dict[str, Any]:
    """A Deployment whose one container follows ``tag`` (its image a placeholder, as oc's)."""
    trigger = json.dumps([{"from": {"kind": "ImageStreamTag", "name": tag},
                           "fieldPath": field_path}])  # fmt: skip
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "annotations": {"image.openshift.io/triggers": trigger}},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": name, "image": " "}]}}},
    }  # fmt: skip


def settle(seconds: float = 12.0) -> None:
    """Give a wrong extra build or rollout the time to appear before counting."""
    time.sleep(seconds)


# --------------------------------------------------------------------------- 1. rebuild chain


def test_rebuild_chain_new_builder_image_rebuilds_until_the_trigger_is_removed(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    external: RunningRegistry,
    gitd: GitDaemon,
    builder: ImageBuilder,
    images: dict[str, str],
    push_registry: str,
) -> None:
    source = f"{external.host}/s2i/python:3.11"
    run([
        "skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
        f"docker://{push_registry}/{images['s2i-python']}", f"docker://{source}",
    ])  # fmt: skip
    done = cli(cluster, ns, "import-image", "python:3.11", "--from", source, "--confirm",
               "--scheduled")  # fmt: skip
    assert "imported" in done.stdout
    assert "updates automatically from registry" in done.stdout
    first = history(kube, ns, "python", "3.11")
    assert len(first) == 1

    cli(cluster, ns, "new-app", f"python:3.11~{gitd.uri('hello')}", "--name", "hello")
    build = finished(kube, ns, "hello-1", timeout=300)
    assert build.status.phase == BuildPhase.COMPLETE, build.status
    bc = kube.build_configs.get(ns, "hello")
    assert bc.status.image_change_triggers[0].last_triggered_image_id.endswith(first[0])

    # A new builder image under the same tag: imported at once (notification),
    # a second history item, and build 2 by itself.
    base_ctr = builder.buildah("from", "--tls-verify=false", f"docker://{source}").strip()
    builder.buildah("config", "--label", "rebuilt=2", base_ctr)
    builder.buildah("commit", "--quiet", base_ctr, "localhost/python-2")
    builder.buildah("rm", base_ctr)
    second = builder.push("localhost/python-2", source, format="docker")
    wait_for(
        "the second builder image", lambda: history(kube, ns, "python", "3.11")[:1] == [second]
    )
    assert history(kube, ns, "python", "3.11") == [second, first[0]]
    build = wait_for(
        "build 2", lambda: (b := builds_of(kube, ns, "hello")) and len(b) == 2 and b[1]
    )
    causes = build.spec.triggered_by or []
    assert [c.message for c in causes] == ["Image change"]
    assert causes[0].image_change_build is not None
    assert causes[0].image_change_build.image_id.endswith(second)
    assert finished(kube, ns, "hello-2", timeout=300).status.phase == BuildPhase.COMPLETE
    settle()
    assert [b.metadata.name for b in builds_of(kube, ns, "hello")] == ["hello-1", "hello-2"]

    # Without the ImageChange trigger, a third push moves the tag but builds nothing.
    cli(cluster, ns, "set", "triggers", "bc/hello", "--remove", "--from-image", "python:3.11")
    bc = kube.build_configs.get(ns, "hello")
    assert [t.type.value for t in bc.spec.triggers if t.type.value == "ImageChange"] == []
    base_ctr = builder.buildah("from", "--tls-verify=false", f"docker://{source}").strip()
    builder.buildah("config", "--label", "rebuilt=3", base_ctr)
    builder.buildah("commit", "--quiet", base_ctr, "localhost/python-3")
    builder.buildah("rm", base_ctr)
    third = builder.push("localhost/python-3", source, format="docker")
    wait_for("the third builder image", lambda: history(kube, ns, "python", "3.11")[:1] == [third])
    settle()
    assert [b.metadata.name for b in builds_of(kube, ns, "hello")] == ["hello-1", "hello-2"]
    described = cli(cluster, ns, "describe", "is/python").stdout
    assert described.count("@sha256:") >= 3, described


# --------------------------------------------------------------------------- 2. rollout


def test_deployment_follows_a_tag_rolls_forward_on_import_and_back_on_tag(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    kubectl: Kubectl,
    external: RunningRegistry,
    builder: ImageBuilder,
    pause: bytes,
) -> None:
    source = f"{external.host}/ubi/ubi:8"
    old = push_runnable(builder, pause, source, "8.0-122")
    apply(kubectl, ns, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "myapp"},
        "spec": {"selector": {"matchLabels": {"app": "myapp"}}, "template": {
            "metadata": {"labels": {"app": "myapp"}},
            "spec": {"containers": [{"name": "myapp", "image": source}]}}},
    })  # fmt: skip
    kubectl("-n", ns, "rollout", "status", "deployment/myapp", "--timeout=120s", timeout=140)

    cli(cluster, ns, "import-image", "ubi:8", "--from", source, "--confirm")
    done = cli(cluster, ns, "set", "triggers", "deployment/myapp", "--from-image", "ubi:8",
               "-c", "myapp")  # fmt: skip
    assert "deployment.apps/myapp triggers updated" in done.stdout
    pinned = f"{external.host}/ubi/ubi@{old}"
    wait_for(
        "the template pinned to the digest", lambda: template_image(kube, ns, "myapp") == pinned
    )
    kubectl("-n", ns, "rollout", "status", "deployment/myapp", "--timeout=120s", timeout=140)

    new = push_runnable(builder, pause, source, "8.0-154")
    cli(cluster, ns, "import-image", "ubi:8")
    assert history(kube, ns, "ubi", "8")[:2] == [new, old]
    rolled = f"{external.host}/ubi/ubi@{new}"
    wait_for("the rollout to the new digest", lambda: template_image(kube, ns, "myapp") == rolled)
    kubectl("-n", ns, "rollout", "status", "deployment/myapp", "--timeout=120s", timeout=140)
    pods = kubectl.json("-n", ns, "get", "pods", "-l", "app=myapp")["items"]
    running = [p for p in pods if p["status"].get("phase") == "Running"
               and not p["metadata"].get("deletionTimestamp")]  # fmt: skip
    assert {p["spec"]["containers"][0]["image"] for p in running} == {rolled}

    # Rollback: tag the old image back onto the tag.
    done = cli(cluster, ns, "tag", f"ubi@{old}", "ubi:8")
    assert done.stdout.startswith("Tag ubi:8 set to ubi@sha256:")
    wait_for("the rollback", lambda: template_image(kube, ns, "myapp") == pinned)
    assert history(kube, ns, "ubi", "8")[0] == old
    kubectl("-n", ns, "rollout", "status", "deployment/myapp", "--timeout=120s", timeout=140)


# --------------------------------------------------------------------------- 3. chain


def test_one_base_push_gives_one_app_build_and_one_rollout(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    kubectl: Kubectl,
    external: RunningRegistry,
    builder: ImageBuilder,
    pause: bytes,
    gitd: GitDaemon,
    images: dict[str, str],
) -> None:
    source = f"{external.host}/lib/base:stable"
    first_base = push_runnable(builder, pause, source, "base-1")
    apply(kubectl, ns, {
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": "base"},
        "spec": {"tags": [
            {"name": "stable", "from": {"kind": "DockerImage", "name": source},
             "importPolicy": {"scheduled": True, "insecure": True}},
            {"name": "latest", "from": {"kind": "ImageStreamTag", "name": "stable"}},
        ]},
    })  # fmt: skip
    wait_for("the base import", lambda: history(kube, ns, "base", "stable") == [first_base])
    wait_for("the tracking tag", lambda: history(kube, ns, "base", "latest") == [first_base])
    apply(kubectl, ns, layered_bc("app", gitd, "base:stable", "app:latest", BOTH_TRIGGERS))
    apply(kubectl, ns, triggered_deployment(
        "app", "app:latest", 'spec.template.spec.containers[?(@.name=="app")].image'
    ))  # fmt: skip
    build = finished(kube, ns, "app-1", timeout=300)
    assert build.status.phase == BuildPhase.COMPLETE, build.status
    assert [c.message for c in build.spec.triggered_by or []] == [
        "Build configuration change", "Image change",
    ]  # fmt: skip
    app_1 = wait_for("the app image", lambda: history(kube, ns, "app", "latest"))[0]
    wait_for("the first rollout", lambda: template_image(kube, ns, "app").endswith(app_1))
    kubectl("-n", ns, "rollout", "status", "deployment/app", "--timeout=120s", timeout=140)
    generation = kube.get_object(DEPLOYMENTS, ns, "app")["metadata"]["generation"]

    second_base = push_runnable(builder, pause, source, "base-2")
    build = wait_for("app-2", lambda: (b := builds_of(kube, ns, "app")) and len(b) == 2 and b[1])
    assert history(kube, ns, "base", "latest") == [second_base, first_base]
    assert finished(kube, ns, build.metadata.name, timeout=300).status.phase == BuildPhase.COMPLETE
    app_2 = wait_for(
        "the new app image", lambda: (h := history(kube, ns, "app", "latest"))[1:] and h[0]
    )
    wait_for("the second rollout", lambda: template_image(kube, ns, "app").endswith(app_2))
    settle()
    assert [b.metadata.name for b in builds_of(kube, ns, "app")] == ["app-1", "app-2"]
    assert kube.get_object(DEPLOYMENTS, ns, "app")["metadata"]["generation"] == generation + 1
    kubectl("-n", ns, "rollout", "status", "deployment/app", "--timeout=120s", timeout=140)


# --------------------------------------------------------------------------- 4. failures


def _condition(kube: Kube, ns: str, name: str, tag: str) -> tuple[str, str] | None:
    s = stream(kube, ns, name)
    failure = import_failure(s, tag) if s is not None else None
    return (failure.reason, failure.message) if failure is not None else None


def test_failed_imports_show_a_condition_keep_history_and_recover(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    kubectl: Kubectl,
    external: RunningRegistry,
    builder: ImageBuilder,
    pod_host: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    flaky = start_registry(tmp_path_factory.mktemp("flaky"), listen=pod_host)
    locked = start_registry(
        tmp_path_factory.mktemp("locked"), listen=pod_host, htpasswd={"puller": "right"}
    )
    try:
        img = builder.build(files={"v": b"1"})
        first = builder.push(img, f"{flaky.host}/lib/img:1")
        builder.push(img, f"{locked.host}/lib/img:1", creds=("puller", "right"))
        apply(kubectl, ns, {
            "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
            "metadata": {"name": "flaky"},
            "spec": {"tags": [
                {"name": "ok", "from": {"kind": "DockerImage", "name": f"{flaky.host}/lib/img:1"}},
                {"name": "wrong", "from": {"kind": "DockerImage",
                                           "name": f"{flaky.host}/lib/img:nope"}},
                {"name": "ref", "reference": True,
                 "from": {"kind": "DockerImage", "name": f"{flaky.host}/lib/img:1"}},
            ]},
        })  # fmt: skip
        wait_for("the first import", lambda: history(kube, ns, "flaky", "ok") == [first])
        # A reference tag records the pull spec as given, never asking the registry.
        ref = wait_for("the reference tag",
                       lambda: latest_event(stream(kube, ns, "flaky"), "ref"))  # type: ignore[arg-type]  # fmt: skip
        assert (ref.docker_image_reference, ref.image) == (f"{flaky.host}/lib/img:1", "")
        reason, message = wait_for("the unknown tag's condition",
                                   lambda: _condition(kube, ns, "flaky", "wrong"))  # fmt: skip
        assert reason == "NotFound"
        assert "lib/img:nope" in message
        described = cli(cluster, ns, "describe", "is/flaky").stdout
        assert "! error: Import failed (NotFound):" in described

        # Registry down: the re-import fails, the condition says why, history stays.
        flaky.stop()
        done = cli(cluster, ns, "import-image", "flaky:ok", check=False)
        assert done.returncode == 1
        reason, message = wait_for("the failure", lambda: _condition(kube, ns, "flaky", "ok"))
        assert reason == "InternalError"
        assert "connection refused" in message
        assert history(kube, ns, "flaky", "ok") == [first]
        # Back up with a new image: the retry (backoff) imports it, the condition goes.
        flaky.restart()
        second = builder.push(builder.build(files={"v": b"2"}), f"{flaky.host}/lib/img:1")
        wait_for("the recovery", lambda: history(kube, ns, "flaky", "ok") == [second, first],
                 timeout=120)  # fmt: skip
        assert _condition(kube, ns, "flaky", "ok") is None

        # Bad credentials: Unauthorized until the pull secret is fixed.
        def secret(password: str) -> dict[str, Any]:
            auth = base64.b64encode(f"puller:{password}".encode()).decode()
            config = json.dumps({"auths": {locked.host: {"auth": auth}}})
            return {
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "locked-pull"},
                "type": "kubernetes.io/dockerconfigjson",
                "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()},
            }  # fmt: skip

        apply(kubectl, ns, secret("wrong"))
        cli(cluster, ns, "import-image", "locked:1", "--from", f"{locked.host}/lib/img:1",
            "--confirm", check=False)  # fmt: skip
        reason, _ = wait_for("the refusal", lambda: _condition(kube, ns, "locked", "1"))
        assert reason == "Unauthorized"
        assert history(kube, ns, "locked", "1") == []
        apply(kubectl, ns, secret("right"))
        wait_for("the import with the fixed secret",
                 lambda: len(history(kube, ns, "locked", "1")) == 1, timeout=180)  # fmt: skip
        assert _condition(kube, ns, "locked", "1") is None
        head = latest_event(stream(kube, ns, "locked"), "1")  # type: ignore[arg-type]
        assert head is not None and head.docker_image_reference.startswith(
            f"{locked.host}/lib/img@"
        )
    finally:
        flaky.cleanup()
        locked.cleanup()


# --------------------------------------------------------------------------- Local policy


def test_local_reference_policy_copies_the_image_into_the_cluster_registry(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    kubectl: Kubectl,
    external: RunningRegistry,
    builder: ImageBuilder,
    pause: bytes,
    push_registry: str,
) -> None:
    source = f"{external.host}/lib/local:1"
    digest = push_runnable(builder, pause, source, "local-1")
    cli(cluster, ns, "import-image", "local:1", "--from", source, "--confirm",
        "--reference-policy", "local")  # fmt: skip
    head = latest_event(stream(kube, ns, "local"), "1")  # type: ignore[arg-type]
    assert head is not None and head.docker_image_reference == f"{external.host}/lib/local@{digest}"
    local = f"{cluster.registry}/{ns}/local@{digest}"
    assert RegistryClient(insecure=lambda _h: True).exists(f"{push_registry}/{ns}/local@{digest}")
    istag = cli(cluster, ns, "get", "istag", "local:1").stdout
    assert local in istag
    apply(kubectl, ns, triggered_deployment(
        "local", "local:1", "spec.template.spec.containers[0].image"
    ))  # fmt: skip
    wait_for("the local pull spec", lambda: template_image(kube, ns, "local") == local)
    kubectl("-n", ns, "rollout", "status", "deployment/local", "--timeout=120s", timeout=140)


# --------------------------------------------------------------------------- webhooks


def _post(url: str, payload: object, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - the controller on this machine
        url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", **headers},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_github_and_generic_webhooks_start_builds(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    kubectl: Kubectl,
    controller: Controller,
    gitd: GitDaemon,
) -> None:
    commit = git(gitd.base / "layered", "rev-parse", "HEAD")
    apply(kubectl, ns, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hook-secret"},
        "stringData": {"WebHookSecretKey": "from-a-secret"},
    })  # fmt: skip
    apply(kubectl, ns, {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig", "metadata": {"name": "hook"},
        "spec": {
            "source": {"type": "Git", "git": {"uri": gitd.uri("layered"), "ref": "main"}},
            "strategy": {"type": "Docker", "dockerStrategy": {"from": {
                "kind": "DockerImage", "name": f"{cluster.registry}/kbuild/pause:3.10.1"}}},
            "output": {"to": {"kind": "ImageStreamTag", "name": "hook:latest"}},
            "triggers": [
                {"type": "GitHub", "github": {"secret": "gh-secret"}},
                {"type": "Generic", "generic": {"secretReference": {"name": "hook-secret"},
                                                "allowEnv": True}},
            ],
        },
    })  # fmt: skip
    base = (f"http://127.0.0.1:{controller.webhook_port}/apis/build.openshift.io/v1/namespaces/{ns}"
            "/buildconfigs/hook/webhooks")  # fmt: skip
    head = {"id": commit, "message": "sample", "author": {"name": "A"}}
    push = {"ref": "refs/heads/main", "after": commit, "head_commit": head}

    code, answer = _post(f"{base}/wrong/github", push, {"X-GitHub-Event": "push"})
    assert (code, answer["message"]) == (401, "the webhook did not accept your secret")
    code, answer = _post(f"{base}/gh-secret/github", {**push, "ref": "refs/heads/other"},
                         {"X-GitHub-Event": "push"})  # fmt: skip
    assert code == 200 and "does not match configuration" in answer["message"]
    assert builds_of(kube, ns, "hook") == []

    code, answer = _post(f"{base}/gh-secret/github", push, {"X-GitHub-Event": "push"})
    assert code == 200, answer
    assert answer["metadata"]["name"] == "hook-1"
    build = kube.builds.get(ns, "hook-1")
    causes = build.spec.triggered_by or []
    assert [c.message for c in causes] == ["GitHub WebHook"]
    assert causes[0].github_web_hook is not None
    assert causes[0].github_web_hook.secret == "<secret>"  # noqa: S105
    assert build.spec.revision is not None and build.spec.revision.git is not None
    assert build.spec.revision.git.commit == commit

    generic = {"git": {"ref": "main", "commit": commit}, "env": [{"name": "X", "value": "1"}]}
    code, answer = _post(f"{base}/from-a-secret/generic", generic, {})
    assert code == 200, answer
    build = kube.builds.get(ns, "hook-2")
    assert [c.message for c in build.spec.triggered_by or []] == ["Generic WebHook"]
    docker = build.spec.strategy.docker_strategy
    assert docker is not None and [(e.name, e.value) for e in docker.env] == [("X", "1")]
    assert finished(kube, ns, "hook-2", timeout=300).status.phase == BuildPhase.COMPLETE


# --------------------------------------------------------------------------- more triggers


def test_a_build_config_never_rebuilds_on_its_own_output(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    kubectl: Kubectl,
    external: RunningRegistry,
    builder: ImageBuilder,
    pause: bytes,
    gitd: GitDaemon,
) -> None:
    seed = push_runnable(builder, pause, f"{external.host}/lib/seed:1", "seed")
    cli(cluster, ns, "import-image", "seed:1", "--from", f"{external.host}/lib/seed:1",
        "--confirm")  # fmt: skip
    cli(cluster, ns, "tag", f"seed@{seed}", "loop:latest")
    wait_for("the seeded tag", lambda: history(kube, ns, "loop", "latest") == [seed])
    apply(kubectl, ns, layered_bc("loop", gitd, "loop:latest", "loop:latest", BOTH_TRIGGERS))
    assert finished(kube, ns, "loop-1", timeout=300).status.phase == BuildPhase.COMPLETE
    wait_for("the output on the tag", lambda: len(history(kube, ns, "loop", "latest")) == 2)
    settle()
    assert [b.metadata.name for b in builds_of(kube, ns, "loop")] == ["loop-1"]


def test_statefulsets_daemonsets_cronjobs_and_jobs_follow_their_tags(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    kubectl: Kubectl,
    external: RunningRegistry,
    builder: ImageBuilder,
    pause: bytes,
) -> None:
    source = f"{external.host}/lib/tools:1"
    first = push_runnable(builder, pause, source, "tools-1")
    cli(cluster, ns, "import-image", "tools:1", "--from", source, "--confirm", "--scheduled")
    by_name = 'spec.template.spec.{}[?(@.name=="{}")].image'
    pod = {"initContainers": [{"name": "init", "image": " "}],
           "containers": [{"name": "main", "image": " "}]}  # fmt: skip

    def annotated(kind: str, name: str, paths: list[str], spec: dict[str, Any]) -> None:
        trigger = json.dumps([{"from": {"kind": "ImageStreamTag", "name": "tools:1"},
                               "fieldPath": p} for p in paths])  # fmt: skip
        api = "batch/v1" if kind in ("CronJob", "Job") else "apps/v1"
        apply(
            kubectl,
            ns,
            {
                "apiVersion": api,
                "kind": kind,
                "metadata": {"name": name, "annotations": {"image.openshift.io/triggers": trigger}},
                "spec": spec,
            },
        )

    template = {"metadata": {"labels": {"app": "tools"}}, "spec": pod}
    annotated("StatefulSet", "sts", [by_name.format("initContainers", "init"),
                                     by_name.format("containers", "main")],
              {"replicas": 0, "serviceName": "sts", "selector": {"matchLabels": {"app": "tools"}},
               "template": template})  # fmt: skip
    ds_template = {"metadata": {"labels": {"app": "tools"}},
                   "spec": {"containers": [{"name": "main", "image": " "}]}}  # fmt: skip
    annotated("DaemonSet", "ds", ["spec.template.spec.containers[0].image"],
              {"selector": {"matchLabels": {"app": "tools"}}, "template": ds_template})  # fmt: skip
    annotated("CronJob", "cj", [
        'spec.jobTemplate.spec.template.spec.containers[?(@.name=="main")].image'],
        {"schedule": "0 0 1 1 *", "suspend": True, "jobTemplate": {"spec": {"template": {
            "spec": {**pod, "restartPolicy": "Never"}}}}})  # fmt: skip

    def images(kind: Any, name: str, *path: str) -> list[str]:
        obj: Any = kube.get_object(kind, ns, name)
        for key in path:
            obj = obj[key]
        return [c["image"] for c in obj.get("initContainers", []) + obj["containers"]]

    from builder.kube import CRON_JOBS, DAEMON_SETS, STATEFUL_SETS  # noqa: PLC0415

    pinned = f"{external.host}/lib/tools@{first}"
    wait_for("the StatefulSet", lambda: images(STATEFUL_SETS, "sts", "spec", "template", "spec")
             == [pinned, pinned])  # fmt: skip
    wait_for("the DaemonSet", lambda: images(DAEMON_SETS, "ds", "spec", "template", "spec")
             == [pinned])  # fmt: skip
    cron_path = ("spec", "jobTemplate", "spec", "template", "spec")
    wait_for("the CronJob", lambda: images(CRON_JOBS, "cj", *cron_path) == [" ", pinned])

    # A push moves all of them (the tag is scheduled: the notification imports it).
    second = push_runnable(builder, pause, source, "tools-2")
    moved = f"{external.host}/lib/tools@{second}"
    wait_for("the StatefulSet to move", lambda: images(STATEFUL_SETS, "sts", "spec", "template",
                                                       "spec") == [moved, moved])  # fmt: skip
    wait_for("the CronJob to move", lambda: images(CRON_JOBS, "cj", *cron_path) == [" ", moved])

    # A Job's template cannot change after creation: one warning, no retry loop.
    job_pod = {**pod, "restartPolicy": "Never"}
    annotated("Job", "job", [by_name.format("containers", "main")],
              {"suspend": True, "template": {"spec": job_pod}})  # fmt: skip

    def warned() -> list[dict[str, Any]]:
        items = kubectl.json("-n", ns, "get", "events",
                             "--field-selector", "involvedObject.name=job")["items"]  # fmt: skip
        return [e for e in items if e["reason"] == "ImageUpdateFailed"]

    events = wait_for("the Job's warning", warned, timeout=60)
    assert "a Job's pod template cannot be changed" in events[0]["message"]
    settle(5)
    assert sum(e.get("count", 1) for e in warned()) == 1


def test_scheduled_tags_poll_at_the_interval_their_annotation_asks(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    kubectl: Kubectl,
    builder: ImageBuilder,
    pod_host: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """No notifications here: only polling, every 2s for one tag (the controller's is 10m)."""
    quiet = start_registry(tmp_path_factory.mktemp("quiet"), listen=pod_host)
    try:
        source = f"{quiet.host}/lib/polled:1"
        first = builder.push(builder.build(files={"v": b"1"}), source)
        apply(kubectl, ns, {
            "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
            "metadata": {"name": "polled"},
            "spec": {"tags": [
                {"name": "fast", "from": {"kind": "DockerImage", "name": source},
                 "importPolicy": {"scheduled": True},
                 "annotations": {"image.kbuild.io/import-interval": "2s"}},
                {"name": "slow", "from": {"kind": "DockerImage", "name": source},
                 "importPolicy": {"scheduled": True}},
            ]},
        })  # fmt: skip
        wait_for("the first imports", lambda: history(kube, ns, "polled", "fast") == [first]
                 and history(kube, ns, "polled", "slow") == [first])  # fmt: skip
        second = builder.push(builder.build(files={"v": b"2"}), source)
        pushed = time.monotonic()
        wait_for("the 2s poll", lambda: history(kube, ns, "polled", "fast")[:1] == [second],
                 timeout=30, every=0.2)  # fmt: skip
        assert time.monotonic() - pushed < 10
        # The tag without the annotation keeps the controller's 10-minute interval.
        assert history(kube, ns, "polled", "slow") == [first]
    finally:
        quiet.cleanup()


def test_import_all_tags_of_a_repository_and_a_missing_one(
    cluster: Cluster,
    ns: str,
    kube: Kube,
    external: RunningRegistry,
    builder: ImageBuilder,
) -> None:
    one = builder.push(builder.build(files={"v": b"8.0-122"}), f"{external.host}/ubi8/ubi:8.0-122")
    two = builder.push(builder.build(files={"v": b"8.0-154"}), f"{external.host}/ubi8/ubi:8.0-154")
    done = cli(cluster, ns, "import-image", "ubi8", "--confirm", "--all",
               "--from", f"{external.host}/ubi8/ubi")  # fmt: skip
    assert "imported" in done.stdout
    assert history(kube, ns, "ubi8", "8.0-122") == [one]
    assert history(kube, ns, "ubi8", "8.0-154") == [two]
    istags = cli(cluster, ns, "get", "istag").stdout
    assert "ubi8:8.0-122" in istags and "ubi8:8.0-154" in istags

    missing = cli(cluster, ns, "import-image", "gone", "--confirm", "--all",
                  "--from", f"{external.host}/never/pushed", check=False)  # fmt: skip
    assert missing.returncode == 1
    assert "error: repository" in missing.stderr and "NotFound" in missing.stderr
