"""kubectl's output flags of ``kbuild get``, ``logs`` and ``describe istag`` on a real cluster.

``get -w`` is a long-running process read line by line while kubectl changes
objects; it ends with SIGINT, as a person ends it with ^C.  The log tests run
a pod shaped like a build pod (``test_cli_verbs.build_pod``) from a busybox
image, so the log endpoint's ``tailLines``, ``sinceSeconds`` and
``timestamps`` are the API server's own.  ``describe istag`` reads a real
image's manifest and config from the test registry.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builder.registry import RegistryClient
from tests.cluster.conftest import REPO_ROOT, Kubectl, create_namespace
from tests.cluster.test_cli_verbs import (
    RUN_ID,
    Kbuild,
    build_pod,
    busybox,  # noqa: F401 - a fixture
    plain_build,
    set_status,
)

pytestmark = pytest.mark.cluster

# Engineers sharing one cluster keep their namespaces apart by prefix.
PREFIX = os.environ.get("KBUILD_TEST_NAMESPACE_PREFIX", "kbuild-")
READ_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl) -> Iterator[str]:
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    for crd in ("imagestreams.image.openshift.io", "builds.build.openshift.io"):
        kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
    name = f"{PREFIX}cliout-{RUN_ID}"
    create_namespace(kubectl, name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def kbuild(kubeconfig: Path, namespace: str) -> Kbuild:
    return Kbuild(kubeconfig, namespace)


def stream(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"lookupPolicy": {"local": False}},
    }


class Lines:
    """A process's stdout, line by line, read by a thread so a wait can time out."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, pattern: str, timeout: float = READ_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} in {self.seen}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def interrupt(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()


def test_get_watch_prints_the_list_then_a_row_per_change(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(stream("watched-a", {"team": "blue"}), namespace)
    watch = Lines(kbuild.argv("get", "is", "-w", "-L", "team"))
    try:
        header = watch.until(r"^NAME\s")
        assert header.split() == ["NAME", "IMAGE", "REPOSITORY", "TAGS", "UPDATED", "TEAM"]
        assert watch.until(r"^watched-a\s").split()[-1] == "blue"
        kubectl.apply(stream("watched-b", {"team": "red"}), namespace)
        assert watch.until(r"^watched-b\s").split()[-1] == "red"
        kubectl("-n", namespace, "label", "is", "watched-a", "team=green", "--overwrite")
        assert watch.until(r"^watched-a\s").split()[-1] == "green"
        kubectl("-n", namespace, "delete", "is", "watched-b")
        watch.until(r"^watched-b\s")  # the deletion is a row too, as kubectl prints it
    finally:
        code, err = watch.interrupt()
    assert "Traceback" not in err, err
    assert code in (0, 130), err
    assert sum(1 for line in watch.seen if line.startswith("NAME")) == 1


def test_get_watch_only_prints_changes_in_the_output_format(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(stream("before-watch"), namespace)
    watch = Lines(kbuild.argv("get", "is", "--watch-only", "-o", "name"))
    try:
        time.sleep(3)  # the watch is open once the list is read; give it a moment
        kubectl.apply(stream("after-watch"), namespace)
        watch.until(r"^imagestream\.image\.openshift\.io/after-watch$")
    finally:
        code, err = watch.interrupt()
    assert "Traceback" not in err, err
    assert code in (0, 130), err
    assert not any("before-watch" in line for line in watch.seen)


def test_get_output_formats_against_the_server(
    kbuild: Kbuild, kubectl: Kubectl, namespace: str
) -> None:
    for name, team in (("fmt-b", "x"), ("fmt-a", "y"), ("fmt-c", "z")):
        kubectl.apply(stream(name, {"fmt": "yes", "team": team}), namespace)
    names = kbuild("get", "is", "-l", "fmt=yes", "-o", "jsonpath={.items[*].metadata.name}")
    assert (names.code, names.out) == (0, "fmt-a fmt-b fmt-c"), names.err
    by_team = kbuild(
        "get", "is", "-l", "fmt=yes", "--sort-by=.metadata.labels.team",
        "-o", "custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team",
    )  # fmt: skip
    assert by_team.out.split("\n")[1:4] == ["fmt-b   x", "fmt-a   y", "fmt-c   z"], by_team.err
    template = kbuild(
        "get", "is", "-l", "fmt=yes",
        "-o", 'go-template={{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}',
    )  # fmt: skip
    assert template.out == "fmt-a\nfmt-b\nfmt-c\n", template.err
    labels = kbuild("get", "is", "fmt-a", "--show-labels")
    assert labels.out.split("\n")[1].split()[-1] == "fmt=yes,team=y", labels.err
    bad = kbuild("get", "is", "-o", 'go-template={{template "x"}}')
    assert (
        bad.code == 1 and bad.err == 'error: go-template: "template" is not supported by kbuild\n'
    )


def _finished_pod(kubectl: Kubectl, namespace: str, name: str, image: str) -> None:
    kubectl.apply(build_pod(name, image), namespace)
    kubectl(
        "-n", namespace, "wait", f"pod/{name}", "--for=jsonpath={.status.phase}=Succeeded",
        "--timeout=180s", timeout=200,
    )  # fmt: skip


def test_logs_tail_since_timestamps_of_builds_and_pods(
    kbuild: Kbuild,
    kubectl: Kubectl,
    namespace: str,
    registry: str,
    busybox: str,  # noqa: F811
) -> None:
    _finished_pod(kubectl, namespace, "tail-1-build", f"{registry}/{busybox}")
    kubectl.apply(plain_build("tail-1"), namespace)
    set_status(kubectl, namespace, "tail-1", {"phase": "Complete"})

    # --tail of a build is the end of its whole log (init containers, then the build).
    tail = kbuild("logs", "build/tail-1", "--tail", "3")
    assert (tail.code, tail.out) == (
        0,
        "Replaced Dockerfile FROM image\nSTEP 1/2: FROM base\nPush successful\n",
    ), tail.err

    stamped = kbuild("logs", "build/tail-1", "--timestamps", "--since", "1h")
    lines = stamped.out.splitlines()
    assert len(lines) == 5, stamped.err
    for line in lines:
        stamp, _, text = line.partition(" ")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", stamp), line
        assert text
    # the pod's own log, by pod/NAME and by bare NAME, container by -c
    assert kbuild("logs", "pod/tail-1-build").out == "STEP 1/2: FROM base\nPush successful\n"
    assert kbuild("logs", "tail-1-build", "--tail=1").out == "Push successful\n"
    clone = kbuild("logs", "tail-1-build", "-c", "git-clone")
    assert clone.out == f"Cloning {RUN_ID}\nCommit: abc1234\n", clone.err
    missing = kbuild("logs", "no-such-pod")
    assert (missing.code, missing.err) == (1, 'error: pods "no-such-pod" not found\n')


def test_describe_istag_reads_the_image_from_the_registry(
    kbuild: Kbuild,
    kubectl: Kubectl,
    namespace: str,
    push_registry: str,
    busybox: str,  # noqa: F811
) -> None:
    with RegistryClient(insecure=[push_registry]) as client:
        info = client.resolve(f"{push_registry}/{busybox}")
    repository = busybox.rsplit(":", 1)[0]
    pull_spec = f"{push_registry}/{repository}@{info.digest}"
    # The test registry speaks plain HTTP: the stream says so, as an imported one would.
    described_stream = stream("described")
    described_stream["metadata"]["annotations"] = {"openshift.io/image.insecureRepository": "true"}
    kubectl.apply(described_stream, namespace)
    status = {
        "dockerImageRepository": f"{push_registry}/{repository}",
        "tags": [
            {
                "tag": "latest",
                "items": [
                    {
                        "created": "2024-05-01T12:00:00Z",
                        "dockerImageReference": pull_spec,
                        "image": info.digest,
                        "generation": 1,
                    }
                ],
            }
        ],
    }
    kubectl(
        "-n", namespace, "patch", "is", "described", "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": status}),
    )  # fmt: skip
    described = kbuild("describe", "istag", "described:latest")
    assert described.code == 0, described.err
    fields = {
        line.split(":", 1)[0]: line.split(":", 1)[1].strip()
        for line in described.out.splitlines()
        if line and not line.startswith("\t")
    }
    assert fields["Image Name"] == info.digest
    assert fields["Docker Image"] == pull_spec
    assert fields["Image Size"].endswith(f"in {len(info.layers)} layers")
    assert fields["User"] == "65534:65534"
    assert fields["Environment"] == "PATH=/bin"
    assert fields["Arch"]
    # the default tag is latest, as oc's; an istag with no image is NotFound
    again = kbuild("describe", "istag/described").out.splitlines()
    assert again[:3] == described.out.splitlines()[:3]
    gone = kbuild("describe", "istag", "described:nope")
    assert gone.err == 'error: imagestreamtags.image.openshift.io "described:nope" not found\n'
