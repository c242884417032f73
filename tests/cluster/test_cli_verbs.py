"""The build verbs of ``kbuild`` against a real API server.

Every check runs the real command (``python -m builder.cli.main``) and reads
the result back with kubectl, an independent client.  Most need no kbuild
controller: Builds are created by start-build (or kubectl) and stay New; the
log test runs its own pod shaped like a build pod.  The ``--wait``/``--follow``
test runs a controller of its own, in a namespace of its own.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import REPO_ROOT, Cluster, Kubectl, create_namespace
from tests.cluster.support import Controller
from tests.support.images import ImageBuilder

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(4)
CONTROLLER_WAIT_S = 45


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Kbuild:
    """``kbuild`` from this checkout, bound to the test cluster and namespace."""

    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace

    def argv(self, *args: str) -> list[str]:
        return [
            sys.executable, "-m", "builder.cli.main", *args,
            "--kubeconfig", str(self.kubeconfig), "-n", self.namespace,
        ]  # fmt: skip

    def __call__(self, *args: str, timeout: float = 120) -> Result:
        proc = subprocess.run(
            self.argv(*args),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        # Whatever happens, a failure is one `error:` line and never a traceback.
        assert "Traceback" not in proc.stderr, proc.stderr
        return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl) -> Iterator[str]:
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    for crd in ("buildconfigs.build.openshift.io", "builds.build.openshift.io"):
        kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
    name = f"kbuild-cli-{RUN_ID}"
    create_namespace(kubectl, name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def kbuild(kubeconfig: Path, namespace: str) -> Kbuild:
    return Kbuild(kubeconfig, namespace)


def build_config(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "source": {"git": {"uri": "https://git.invalid/app.git", "ref": "main"}},
            "strategy": {
                "dockerStrategy": {
                    "from": {"kind": "DockerImage", "name": "registry.invalid/base:1"}
                }
            },
            "output": {"to": {"kind": "DockerImage", "name": "registry.invalid/app:latest"}},
            **spec,
        },
    }


def plain_build(name: str) -> dict[str, Any]:
    """A Build with no BuildConfig, as kubectl creates it: phase New."""
    spec = build_config("x")["spec"]
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": name},
        "spec": spec,
    }


def get(kubectl: Kubectl, namespace: str, kind: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = kubectl.json("-n", namespace, "get", kind, name)
    return data


def set_status(kubectl: Kubectl, namespace: str, build: str, status: dict[str, Any]) -> None:
    kubectl(
        "-n", namespace, "patch", "build", build, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": status}),
    )  # fmt: skip


# ---------------------------------------------------------------------------
# The CRDs accept what OpenShift's API accepts


def test_fractional_quantities_are_accepted_as_on_openshift(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    """``cpu: 0.5`` is a Kubernetes quantity; an int-or-string schema refused it."""
    bc = build_config("fractional", resources={"limits": {"cpu": 0.5, "memory": "256Mi"},
                                               "requests": {"cpu": "100m"}})  # fmt: skip
    kubectl("-n", namespace, "apply", "-f", "-", stdin=json.dumps(bc))
    stored = get(kubectl, namespace, "buildconfig.build.openshift.io", "fractional")
    assert stored["spec"]["resources"]["limits"] == {"cpu": 0.5, "memory": "256Mi"}
    result = kbuild("start-build", "fractional")
    assert result.code == 0, result.stderr


# ---------------------------------------------------------------------------
# start-build, get, describe


def test_start_build_numbers_builds_and_bumps_last_version(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(build_config("num"), namespace)
    first = kbuild("start-build", "num")
    assert first.code == 0, first.err
    assert first.out == "build.build.openshift.io/num-1 started\n"
    assert get(kubectl, namespace, "bc", "num")["status"]["lastVersion"] == 1

    second = kbuild("start-build", "bc/num", "-e", "A=1", "--commit", "c0ffee")
    assert second.code == 0, second.err
    assert second.out == "build.build.openshift.io/num-2 started\n"
    assert get(kubectl, namespace, "bc", "num")["status"]["lastVersion"] == 2

    build = get(kubectl, namespace, "build", "num-2")
    assert build["metadata"]["annotations"]["openshift.io/build.number"] == "2"
    assert build["metadata"]["labels"]["openshift.io/build-config.name"] == "num"
    assert build["spec"]["triggeredBy"] == [{"message": "Manually triggered"}]
    assert build["spec"]["revision"]["git"]["commit"] == "c0ffee"
    env = build["spec"]["strategy"]["dockerStrategy"]["env"]
    assert [(e["name"], e["value"]) for e in env] == [("A", "1")]


def test_concurrent_start_builds_get_distinct_numbers(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(build_config("race"), namespace)
    procs = [
        subprocess.Popen(
            kbuild.argv("start-build", "race"),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    started = sorted(out.strip() for out, _ in outs)
    assert started == [f"build.build.openshift.io/race-{n} started" for n in (1, 2, 3)]
    assert get(kubectl, namespace, "bc", "race")["status"]["lastVersion"] == 3
    names = kubectl("-n", namespace, "get", "builds", "-o", "name").stdout.split()
    assert sorted(n for n in names if "/race-" in n) == [
        f"build.build.openshift.io/race-{n}" for n in (1, 2, 3)
    ]


def test_start_build_from_build_clones_with_the_next_number(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(build_config("clone"), namespace)
    assert kbuild("start-build", "clone", "--commit", "abc1234").code == 0
    again = kbuild("start-build", "--from-build", "clone-1")
    assert again.code == 0, again.err
    assert again.out == "build.build.openshift.io/clone-2 started\n"
    copy = get(kubectl, namespace, "build", "clone-2")
    assert copy["metadata"]["annotations"]["openshift.io/build.clone-of"] == "clone-1"
    assert copy["spec"]["revision"]["git"]["commit"] == "abc1234"
    assert get(kubectl, namespace, "bc", "clone")["status"]["lastVersion"] == 2


def test_start_build_of_a_missing_build_config(kbuild: Kbuild) -> None:
    result = kbuild("start-build", "nope")
    assert result.code == 1
    assert result.err == 'error: buildconfigs.build.openshift.io "nope" not found\n'
    assert result.out == ""


def test_get_shows_oc_columns(kbuild: Kbuild, kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(build_config("cols"), namespace)
    assert kbuild("start-build", "cols").code == 0
    assert (
        kbuild("start-build", "cols", "--commit", "0123456789abcdef0123456789abcdef01234567").code
        == 0
    )
    # Both statuses set here, so a controller (if one runs) changes nothing shown.
    set_status(kubectl, namespace, "cols-1", {
        "phase": "Cancelled", "reason": "CancelledBuild", "cancelled": True,
        "startTimestamp": None, "completionTimestamp": None, "duration": None,
    })  # fmt: skip
    set_status(kubectl, namespace, "cols-2", {
        "phase": "Failed", "reason": "DockerBuildFailed", "message": "step 2 failed",
        "startTimestamp": "2024-05-01T11:55:00Z", "completionTimestamp": "2024-05-01T11:56:35Z",
        "duration": 95_000_000_000,
    })  # fmt: skip

    bcs = kbuild("get", "bc", "cols")
    assert bcs.code == 0, bcs.err
    assert bcs.out.splitlines() == [
        "NAME   TYPE     FROM       LATEST",
        "cols   Docker   Git@main   2",
    ]
    builds = kbuild("get", "builds", "-l", "openshift.io/build-config.name=cols")
    assert builds.code == 0, builds.err
    header, *rows = builds.out.splitlines()
    assert header.split() == ["NAME", "TYPE", "FROM", "STATUS", "STARTED", "DURATION"]
    assert rows[0].split() == ["cols-1", "Docker", "Git@main", "Cancelled", "(CancelledBuild)"]
    # STARTED is relative to now; everything else is fixed.
    assert rows[1].startswith("cols-2   Docker   Git@0123456   Failed (DockerBuildFailed)   ")
    assert rows[1].endswith(" ago   1m35s")

    names = kbuild("get", "build", "cols-1", "cols-2", "-o", "name")
    assert names.out == "build.build.openshift.io/cols-1\nbuild.build.openshift.io/cols-2\n"
    as_json = json.loads(kbuild("get", "bc/cols", "-o", "json").out)
    assert (as_json["kind"], as_json["status"]["lastVersion"]) == ("BuildConfig", 2)

    missing = kbuild("get", "bc", "nope")
    assert (missing.code, missing.err) == (
        1,
        'error: buildconfigs.build.openshift.io "nope" not found\n',
    )


def test_describe_build_and_build_config(kbuild: Kbuild, kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(build_config("desc", triggers=[{"type": "ConfigChange"}]), namespace)
    if get(kubectl, namespace, "bc", "desc").get("status", {}).get("lastVersion", 0) == 0:
        assert kbuild("start-build", "desc").code == 0
    build = get(kubectl, namespace, "build", "desc-1")
    uid = build["metadata"]["uid"]
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"desc-1.{RUN_ID}"},
            "involvedObject": {
                "apiVersion": "build.openshift.io/v1", "kind": "Build",
                "name": "desc-1", "namespace": namespace, "uid": uid,
            },
            "reason": "CliTestEvent",
            "message": f"seen by describe {RUN_ID}",
            "type": "Normal",
            "source": {"component": "kbuild-cli-test"},
            "firstTimestamp": build["metadata"]["creationTimestamp"],
            "lastTimestamp": build["metadata"]["creationTimestamp"],
            "count": 1,
        },
        namespace,
    )  # fmt: skip

    text = kbuild("describe", "build/desc-1")
    assert text.code == 0, text.err
    cells = [" ".join(line.split("\t")).split() for line in text.out.splitlines()]
    assert ["Name:", "desc-1"] in cells
    assert ["Namespace:", namespace] in cells
    assert ["Build", "Pod:", "desc-1-build"] in cells
    assert ["Strategy:", "Docker"] in cells
    assert ["URL:", "https://git.invalid/app.git"] in cells
    assert ["Build", "trigger", "cause:", "Manually", "triggered"] in cells
    event_rows = [c for c in cells if "CliTestEvent" in c]
    assert len(event_rows) == 1, text.out
    assert event_rows[0][0] == "Normal"
    assert event_rows[0][-4:] == ["seen", "by", "describe", RUN_ID]

    bc_text = kbuild("describe", "bc", "desc")
    assert bc_text.code == 0, bc_text.err
    bc_cells = [line.split() for line in bc_text.out.splitlines()]
    last = str(get(kubectl, namespace, "bc", "desc")["status"]["lastVersion"])
    assert ["Latest", "Version:", last] in bc_cells
    assert ["Triggered", "by:", "Config"] in bc_cells
    assert ["Build", "Status", "Duration", "Creation", "Time"] in bc_cells
    assert any(c[:1] == ["desc-1"] for c in bc_cells), bc_text.out

    missing = kbuild("describe", "build/nope")
    assert (missing.code, missing.err) == (1, 'error: builds.build.openshift.io "nope" not found\n')


# ---------------------------------------------------------------------------
# cancel-build


def test_cancel_build_marks_a_new_build_cancelled(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(plain_build("to-cancel"), namespace)
    result = kbuild("cancel-build", "to-cancel", "--timeout", "5s")
    assert result.out.startswith(
        "build.build.openshift.io/to-cancel marked for cancellation, waiting to be cancelled\n"
    ), result
    status = get(kubectl, namespace, "build", "to-cancel")["status"]
    assert status["cancelled"] is True
    # Whether it then becomes Cancelled is the controller's part; the CLI must
    # report whichever happened, consistently with the Build.
    if result.code == 0:
        assert status["phase"] == "Cancelled"
        assert result.out.endswith("build.build.openshift.io/to-cancel cancelled\n")
    else:
        assert status.get("phase", "New") != "Cancelled"
        assert "failed to cancel: timed out waiting for the condition" in result.err


def test_cancel_build_of_a_finished_or_missing_build(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(plain_build("done-1"), namespace)
    set_status(kubectl, namespace, "done-1", {"phase": "Complete"})
    finished = kbuild("cancel-build", "done-1")
    assert finished.code == 0
    assert finished.err == (
        "build.build.openshift.io/done-1 already finished (Complete): nothing to cancel\n"
    )
    assert "cancelled" not in get(kubectl, namespace, "build", "done-1")["status"]

    missing = kbuild("cancel-build", "ghost-1", "--timeout", "1s")
    assert missing.code == 1
    assert f"error: build {namespace}/ghost-1 not found\n" in missing.err


# ---------------------------------------------------------------------------
# logs


@pytest.fixture(scope="module")
def busybox(push_registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A busybox-static image in the registry, for a pod shaped like a build pod."""
    binary = shutil.which("busybox")
    if binary is None or shutil.which("buildah") is None:
        pytest.fail("the cluster tier needs buildah and busybox-static on this machine")
    work = tmp_path_factory.mktemp("cli-image")
    rootfs = work / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy2(binary, rootfs / "bin" / "busybox")
    for applet in ("sh", "echo", "sleep"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    builder = ImageBuilder(work / "buildah")
    container = builder.buildah("from", "--pull-never", "scratch").strip()
    try:
        builder.buildah("copy", container, str(rootfs), "/")
        builder.buildah("config", "--env", "PATH=/bin", "--user", "65534:65534", container)
        builder.buildah("commit", "--quiet", container, "localhost/kbuild-cli")
    finally:
        builder.buildah("rm", container)
    reference = f"kbuild-cli/busybox:{RUN_ID}"
    builder.push("localhost/kbuild-cli", f"{push_registry}/{reference}")
    return reference


def build_pod(name: str, image: str) -> dict[str, Any]:
    """A pod as the controller makes it: init containers, then the build container.

    Each container sleeps before it writes, so ``logs -f`` has to wait for it.
    """

    def container(cname: str, lines: list[str]) -> dict[str, Any]:
        script = "sleep 2; " + "; ".join(f"echo '{line}'" for line in lines)
        return {"name": cname, "image": image, "command": ["sh", "-c", script]}

    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "initContainers": [
                container("git-clone", [f"Cloning {RUN_ID}", "Commit: abc1234"]),
                container("manage-dockerfile", ["Replaced Dockerfile FROM image"]),
            ],
            "containers": [container("docker-build", ["STEP 1/2: FROM base", "Push successful"])],
        },
    }


EXPECTED_LOG = (
    f"Cloning {RUN_ID}\nCommit: abc1234\nReplaced Dockerfile FROM image\n"
    "STEP 1/2: FROM base\nPush successful\n"
)


def test_logs_print_init_containers_in_order(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str, registry: str, busybox: str
) -> None:
    # The pod first: a controller, if one runs, must not make its own.
    kubectl.apply(build_pod("logs-1-build", f"{registry}/{busybox}"), namespace)
    kubectl.apply(build_config("logs"), namespace)
    kubectl(
        "-n", namespace, "patch", "bc", "logs", "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"lastVersion": 1}}),
    )  # fmt: skip
    kubectl.apply(plain_build("logs-1"), namespace)
    set_status(kubectl, namespace, "logs-1", {"phase": "Running"})

    # -f starts while the first container has not written anything yet.
    followed = kbuild("logs", "-f", "build/logs-1", timeout=240)
    assert followed.code == 0, followed.err
    assert followed.out == EXPECTED_LOG

    # Afterwards, without -f and through the BuildConfig's latest build: the same text.
    again = kbuild("logs", "bc/logs")
    assert (again.code, again.out) == (0, EXPECTED_LOG), again.err


def test_logs_of_a_build_whose_pod_is_gone(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(plain_build("nopod-1"), namespace)
    set_status(kubectl, namespace, "nopod-1", {"phase": "Complete"})
    kubectl("-n", namespace, "delete", "pod", "nopod-1-build", "--ignore-not-found", "--wait")
    result = kbuild("logs", "build/nopod-1")
    assert result.code == 1
    assert result.err == (
        f"error: the pod nopod-1-build of build {namespace}/nopod-1 no longer exists "
        "(deleted or pruned). No logs are available.\n"
    )
    missing = kbuild("logs", "build/nothing-1")
    assert missing.err == 'error: builds.build.openshift.io "nothing-1" not found\n'


# ---------------------------------------------------------------------------
# With a controller: --wait and --follow


@pytest.fixture(scope="module")
def controlled(
    cluster: Cluster,
    kubectl: Kubectl,
    kubeconfig: Path,
    seccomp_profile: str,
    namespace: str,  # the module's: it installs the CRDs
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Kbuild, Controller]]:
    """``kbuild`` bound to a namespace of its own, where a controller runs builds."""
    name = f"kbuild-cli-ctl-{RUN_ID}"
    create_namespace(kubectl, name, build_pods=True)
    ctl = Controller(
        cluster.kubeconfig,
        cluster.registry,
        name,
        tmp_path_factory.mktemp("ctl") / "controller.log",
    )
    ctl.start()
    try:
        yield Kbuild(kubeconfig, name), ctl
    finally:
        ctl.kill()
        kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_wait_and_follow_report_a_failed_build(
    controlled: tuple[Kbuild, Controller], kubectl: Kubectl
) -> None:
    """A build that cannot fetch its source ends Failed: both flags exit 1 and say why."""
    kbuild, ctl = controlled
    namespace = kbuild.namespace
    kubectl.apply(build_config("fails"), namespace)
    assert kbuild("start-build", "fails").code == 0
    deadline = time.monotonic() + CONTROLLER_WAIT_S
    while (
        get(kubectl, namespace, "build", "fails-1").get("status", {}).get("phase", "New") == "New"
    ):
        assert time.monotonic() < deadline, (
            f"the controller did not move build fails-1 out of New in {CONTROLLER_WAIT_S}s:\n"
            + ctl.log()[-4000:]
        )
        time.sleep(1)

    waited = kbuild("start-build", "fails", "--wait", timeout=600)
    final = get(kubectl, namespace, "build", "fails-2")["status"]
    assert waited.out == "build.build.openshift.io/fails-2 started\n"
    assert final["phase"] in ("Failed", "Error"), final
    assert waited.code == 1
    assert waited.err == (
        f'error: {final["reason"]}: the build {namespace}/fails-2 status is "{final["phase"]}": '
        f"{final['message']}\n"
    )

    followed = kbuild("start-build", "fails", "--follow", timeout=600)
    final = get(kubectl, namespace, "build", "fails-3")["status"]
    assert followed.code == 1
    assert followed.out.startswith("build.build.openshift.io/fails-3 started\n")
    assert followed.err.endswith(
        f'error: {final["reason"]}: the build {namespace}/fails-3 status is "{final["phase"]}": '
        f"{final['message']}\n"
    )


# ---------------------------------------------------------------------------
# The seeds' command lines and legacy manifests, verbatim

LEGACY_DATA = REPO_ROOT / "tests" / "data" / "openshift-legacy"


@pytest.fixture(scope="module")
def legacy_namespace(kubectl: Kubectl) -> Iterator[str]:
    """A namespace of its own (prefix ``$KBUILD_TEST_NS_PREFIX`` on a shared cluster)."""
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    for crd in ("buildconfigs.build.openshift.io", "imagestreams.image.openshift.io"):
        kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
    prefix = os.environ.get("KBUILD_TEST_NS_PREFIX", "kbuild-cli")
    name = f"{prefix}-legacy-{RUN_ID}"
    create_namespace(kubectl, name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_apply_legacy_openshift_manifests_verbatim(
    kubeconfig: Path, kubectl: Kubectl, legacy_namespace: str
) -> None:
    kbuild = Kbuild(kubeconfig, legacy_namespace)
    first = kbuild("apply", "-f", str(LEGACY_DATA / "test-build.yaml"))
    assert first.code == 0, first.err
    assert "buildconfig.build.openshift.io/sample-build created" in first.out
    assert "secret/webhooksecret created" in first.out
    assert first.err.count("Warning: BuildConfig") == 7
    bc = get(kubectl, legacy_namespace, "buildconfig.build.openshift.io", "sample-build")
    assert bc["apiVersion"] == "build.openshift.io/v1"
    assert [t["type"] for t in bc["spec"]["triggers"]] == ["Generic"]
    stream = get(kubectl, legacy_namespace, "imagestream.image.openshift.io", "origin-ruby-sample")
    assert stream["apiVersion"] == "image.openshift.io/v1"
    assert get(kubectl, legacy_namespace, "secret", "webhooksecret")["type"] == "Opaque"
    again = kbuild("apply", "-f", str(LEGACY_DATA / "test-build.yaml"))
    assert again.code == 0, again.err
    assert all(line.endswith(" unchanged") for line in again.out.splitlines()), again.out

    # The DeploymentConfig goes to apps.openshift.io/v1 (kbuild ships its CRD), the rest too.
    mixed = kbuild("apply", "-f", str(LEGACY_DATA / "test-context-build.json"))
    assert mixed.code == 0, mixed.err
    assert "deploymentconfig.apps.openshift.io/frontend created" in mixed.out
    dc = get(kubectl, legacy_namespace, "deploymentconfig.apps.openshift.io", "frontend")
    assert dc["apiVersion"] == "apps.openshift.io/v1"
    assert "service/frontend created" in mixed.out
    dockercontext = get(
        kubectl, legacy_namespace, "buildconfig.build.openshift.io", "dockercontext"
    )
    assert dockercontext["spec"]["source"]["type"] == "Binary"  # "binary" in the file


def test_create_dry_runs_and_an_image_stream_tag(
    kubeconfig: Path, kubectl: Kubectl, legacy_namespace: str, tmp_path: Path
) -> None:
    kbuild = Kbuild(kubeconfig, legacy_namespace)
    path = str(LEGACY_DATA / "default-legacy-build-config.yaml")
    dry = kbuild("create", "-f", path, "--dry-run=server")
    assert dry.out == "buildconfig.build.openshift.io/myphp created (server dry run)\n", dry.err
    missing = kubectl("-n", legacy_namespace, "get", "bc.build.openshift.io", "myphp", check=False)
    assert missing.returncode != 0
    assert kbuild("create", "-f", path).code == 0
    twice = kbuild("create", "-f", path)
    assert twice.code == 1
    assert 'buildconfigs.build.openshift.io "myphp" already exists' in twice.err

    istag = tmp_path / "istag.json"
    istag.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ImageStreamTag",
                "metadata": {"name": "php:7.2"},
                "tag": {"from": {"kind": "DockerImage", "name": "registry.invalid/php:7.2"}},
            }
        )
    )
    made = kbuild("apply", "-f", str(istag))
    assert made.out == "imagestreamtag.image.openshift.io/php:7.2 created\n", made.err
    stream = get(kubectl, legacy_namespace, "imagestream.image.openshift.io", "php")
    assert [(t["name"], t["from"]["name"]) for t in stream["spec"]["tags"]] == [
        ("7.2", "registry.invalid/php:7.2")
    ]


def test_the_seeds_command_lines(kubeconfig: Path, kubectl: Kubectl, legacy_namespace: str) -> None:
    """Global flags before the verb, ``--flag=true``, ``TYPE NAME``: as the seeds write them."""
    kubectl.apply(build_config("seeded"), legacy_namespace)
    base = [sys.executable, "-m", "builder.cli.main", "--kubeconfig", str(kubeconfig)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*base, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    listed = run("-n", legacy_namespace, "get", "buildconfigs/seeded")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].startswith("seeded ")
    added = run("-n", legacy_namespace, "set", "triggers", "bc", "seeded", "--from-github=true")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "buildconfig.build.openshift.io/seeded triggers updated\n"
    bc = get(kubectl, legacy_namespace, "buildconfig.build.openshift.io", "seeded")
    assert [t["type"] for t in bc["spec"]["triggers"]] == ["GitHub"]
    removed = run(
        "set", "triggers", "bc", "seeded", "--remove", "--from-github=true", "-n", legacy_namespace
    )
    assert removed.returncode == 0, removed.stderr
    bc = get(kubectl, legacy_namespace, "buildconfig.build.openshift.io", "seeded")
    assert bc["spec"].get("triggers", []) == []
