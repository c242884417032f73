"""new-build's other sources and outputs, start-build's webhook and flags, import-image --dry-run.

On the real cluster with a controller: what the unit tables generate must
also build.  ``new-build -D`` builds at once (ConfigChange); ``--binary``
waits for ``start-build --from-dir``; ``--to-docker`` pushes to a pull spec
and makes no stream; ``start-build --from-webhook`` POSTs the generic
webhook of the controller's webhook port; ``import-image --dry-run`` reads
the registry and writes nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.api import BuildPhase
from builder.kube import Kube, NotFound
from tests.cluster.conftest import REPO_ROOT, Cluster, Kubectl, create_namespace
from tests.cluster.support import Controller, finished, registry_client, wait_for

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(3)
# The ports of this module's controller (brief: 5240-5249 for what a helper starts).
METRICS_PORT = int(os.environ.get("KBUILD_TEST_SOURCES_PORT", "5248"))


@pytest.fixture(scope="module")
def env(
    cluster: Cluster,
    kubectl: Kubectl,
    images: dict[str, str],
    seccomp_profile: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Kube, Controller]]:
    del images, seccomp_profile  # built and installed: the pods need both
    ns = f"h-cliverbs-sources-{RUN_ID}"
    create_namespace(kubectl, ns, build_pods=True)
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    controller = Controller(
        cluster.kubeconfig, cluster.registry, ns, tmp_path_factory.mktemp("ctl") / "controller.log",
        metrics_port=METRICS_PORT, webhooks_port=METRICS_PORT + 1,
    )  # fmt: skip
    controller.start()
    try:
        yield ns, Kube.connect(str(cluster.kubeconfig)), controller
    finally:
        controller.kill()
        if os.environ.get("KBUILD_TEST_KEEP_NAMESPACE") != "1":
            kubectl("delete", "namespace", ns, "--wait=false", check=False)


def kbuild(
    cluster: Cluster, ns: str, *args: str, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli.main", *args,
         "--kubeconfig", str(cluster.kubeconfig), "-n", ns],
        capture_output=True, text=True, check=False, cwd=cwd, timeout=600,
        env={**os.environ, "KBUILD_REGISTRY": cluster.registry,
             "KBUILD_INSECURE_REGISTRIES": cluster.registry,
             "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_new_build_dockerfile_builds_at_once(
    env: tuple[str, Kube, Controller], cluster: Cluster
) -> None:
    ns, kube, controller = env
    dockerfile = f"FROM {cluster.registry}/kbuild/base:bookworm\nRUN echo inline > /inline.txt\n"
    done = kbuild(cluster, ns, "new-build", "-D", dockerfile, "--name", "inline")
    assert done.returncode == 0, done.stderr
    assert "A Docker build using a predefined Dockerfile will be created" in done.stdout
    build = finished(kube, ns, "inline-1", timeout=400)
    assert build.status.phase == BuildPhase.COMPLETE, (
        build.status.message,
        controller.log()[-3000:],
    )
    stream = kube.image_streams.get(ns, "inline")
    assert [t.tag for t in stream.status.tags] == ["latest"]

    # The generic webhook, POSTed by start-build as oc does: the next build.
    bc = kube.build_configs.get(ns, "inline")
    [generic] = [t.generic for t in bc.spec.triggers if t.generic is not None]
    url = (
        f"http://127.0.0.1:{controller.webhook_port}/apis/build.openshift.io/v1/namespaces/"
        f"{ns}/buildconfigs/inline/webhooks/{generic.secret}/generic"
    )
    hooked = kbuild(cluster, ns, "start-build", "--from-webhook", url)
    assert hooked.returncode == 0, hooked.stderr
    assert hooked.stdout == "build.build.openshift.io/inline-2 started\n"
    wrong = kbuild(
        cluster, ns, "start-build", "--from-webhook", url.replace("/webhooks/", "/webhooks/x")
    )
    assert wrong.returncode == 1
    assert "server rejected our request" in wrong.stderr
    assert generic.secret not in wrong.stderr


def test_binary_build_waits_for_its_input(
    env: tuple[str, Kube, Controller], cluster: Cluster, tmp_path: Path
) -> None:
    ns, kube, _ = env
    done = kbuild(cluster, ns, "new-build", "--binary", "--strategy", "docker", "--name", "upload")
    assert done.returncode == 0, done.stderr
    assert "Use 'kbuild start-build upload' to start a build." in done.stdout
    triggers = [t.type.value for t in kube.build_configs.get(ns, "upload").spec.triggers]
    assert triggers == ["GitHub", "Generic"]
    with pytest.raises(NotFound):
        kube.builds.get(ns, "upload-1")  # no trigger started one
    (tmp_path / "Dockerfile").write_text(
        f"FROM {cluster.registry}/kbuild/base:bookworm\nCOPY hello.txt /hello.txt\n"
    )
    (tmp_path / "hello.txt").write_text("uploaded\n")
    started = kbuild(cluster, ns, "start-build", "upload", "--from-dir", str(tmp_path), "--wait")
    assert started.returncode == 0, started.stderr
    assert finished(kube, ns, "upload-1").status.phase == BuildPhase.COMPLETE


def test_to_docker_pushes_to_the_pull_spec_and_makes_no_stream(
    env: tuple[str, Kube, Controller], cluster: Cluster
) -> None:
    ns, kube, _ = env
    target = f"{cluster.registry}/{ns}/pushed:v1"
    dockerfile = f"FROM {cluster.registry}/kbuild/base:bookworm\nRUN true\n"
    done = kbuild(cluster, ns, "new-build", "-D", dockerfile, "--name", "todocker",
                  "--to-docker", "--to", target)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f'pushed to container image "{target}"' in done.stdout
    assert finished(kube, ns, "todocker-1", timeout=400).status.phase == BuildPhase.COMPLETE
    with pytest.raises(NotFound):
        kube.image_streams.get(ns, "pushed")
    assert registry_client().exists(target)


def test_import_image_dry_run_writes_nothing(
    env: tuple[str, Kube, Controller], cluster: Cluster
) -> None:
    ns, kube, _ = env
    source = f"{cluster.registry}/kbuild/base:bookworm"
    digest = registry_client().resolve(source).digest
    done = kbuild(cluster, ns, "import-image", "dry:1", "--from", source, "--confirm", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imagestream.image.openshift.io/dry imported (dry run)\n")
    assert f"@{digest}" in done.stdout
    with pytest.raises(NotFound):
        kube.image_streams.get(ns, "dry")
    missing = kbuild(cluster, ns, "import-image", "dry:2", "--from", f"{source}-nope",
                     "--confirm", "--dry-run")  # fmt: skip
    assert missing.returncode == 1
    assert "error: tag 2 failed:" in missing.stderr


def test_kubernetes_kinds_are_kubectls(env: tuple[str, Kube, Controller], cluster: Cluster) -> None:
    ns, _, _ = env
    done = kbuild(cluster, ns, "get", "serviceaccounts", "-o", "json")
    assert done.returncode == 0, done.stderr
    names = [item["metadata"]["name"] for item in json.loads(done.stdout)["items"]]
    assert "default" in names
    wait_for("the default service account", lambda: "default" in names)
