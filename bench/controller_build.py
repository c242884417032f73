"""Benchmark: a trivial S2I build through the controller vs buildah on the node.

Controller side: a ``kbuild controller`` (started here, limited to its own
namespace) runs ``kbuild start-build`` builds of examples/python-hello served
by a git daemon; each is timed from Build creation to Complete.  Baselines:
the same S2I Dockerfile (rendered by ``kbuild build --as-dockerfile`` against
the same builder digest) built with ``buildah bud`` and pushed with ``buildah
push`` directly on this machine, which is the cluster's only node, once with
its warm store (overlay, builder cached) and once the way the pod does it
(an empty store with the vfs driver, so the builder is pulled and copied).  Runs
alternate; medians and their ratio are printed, and the controller's time is
split into where it goes: queueing and pod scheduling, the build pod's own
stages (FetchInputs, PullImages, Build, PushImage), and the rest.

The first build is reported as *cold* (the first of its builder on this
node), the others as *warm*: each is a new commit of the same repository
with the same builder.  For each build the script also prints the storage
driver the pod ran (its ``Storage driver:`` log line) and the bytes the pod
pulled from the registry: the sum of ``http.response.written`` of the
registry's GET /v2/.../blobs/ responses to the pod's IP during the build,
read from the registry's log (``$KBUILD_CLUSTER_LOGS/registry.log``).

The build pod image is pushed and run with its own tag (``--buildpod-tag``,
default ``$KBUILD_TEST_BUILDPOD_TAG`` or ``latest``), so a shared cluster
runs this checkout's code in the pods.

    eval "$(bash hack/cluster.sh env)"
    PYTHONPATH=. python bench/controller_build.py [--runs 5] [--buildpod-tag NAME] [--cache]

``--cache`` runs the pods from ``kbuild/buildpod-cache``, whose read-only
builder cache holds the builder, so a build neither pulls nor unpacks it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import yaml

from builder.api import BuildPhase
from builder.kube import Kube, KubeError, NotFound
from builder.registry import RegistryClient
from tests.support.gitdaemon import git_daemon
from tests.support.registry import free_port

REPO = Path(__file__).resolve().parent.parent


def ts(value: str | None) -> float:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() if value else 0.0


def sh(*argv: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, check=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return done.stdout.strip()


_LOG_FIELD = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')


def bytes_pulled(registry_log: Path, pod_ip: str, since: float, until: float) -> int | None:
    """Blob bytes the registry sent to ``pod_ip`` between ``since`` and ``until``.

    From distribution's "response completed" lines (logfmt); None when the
    log is not readable, so the figure is never a silent zero.
    """
    if not pod_ip:
        return None
    try:
        lines = registry_log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    total = 0
    for line in lines:
        if "response completed" not in line or "/blobs/" not in line:
            continue
        fields = {k: v.strip('"') for k, v in _LOG_FIELD.findall(line)}
        if fields.get("http.request.method") != "GET":
            continue
        if fields.get("http.request.remoteaddr", "").rpartition(":")[0] != pod_ip:
            continue
        if not since - 1 <= ts(fields.get("time")) <= until + 1:
            continue
        total += int(fields.get("http.response.written") or 0)
    return total


def storage_driver(kube: Kube, ns: str, pod: str) -> str:
    """What the pod's log says it ran (builder.buildah.storage), or 'unknown'."""
    for container in ("pull-images", "build-image"):
        try:
            for line in kube.pod_log(ns, pod, container):
                if line.startswith("Storage driver: "):
                    return line.removeprefix("Storage driver: ")
        except KubeError as err:
            print(f"warning: no log of {container}: {err}")
    return "unknown (the pod logged no driver: an older build pod image?)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--buildpod-tag", default=os.environ.get("KBUILD_TEST_BUILDPOD_TAG", "latest"),
        help="the build pod image's tag to push and run (default: $KBUILD_TEST_BUILDPOD_TAG)",
    )  # fmt: skip
    ap.add_argument(
        "--cache", action="store_true",
        help="run the pods from kbuild/buildpod-cache (the builder cache, docs/build-pod.md)",
    )  # fmt: skip
    args = ap.parse_args()
    registry_log = Path(os.environ.get("KBUILD_CLUSTER_LOGS", "/var/log/kbuild-cluster"))
    registry_log = registry_log / "registry.log"
    kubeconfig = os.environ["KUBECONFIG"]
    registry = os.environ["KBUILD_REGISTRY"]
    kubectl = os.environ.get("KBUILD_KUBECTL", "kubectl")
    builder = f"{registry}/kbuild/s2i-python:3.11"
    host = registry.rpartition(":")[0]
    ns = f"kbuild-bench-{os.getpid()}"
    kube = Kube.connect(kubeconfig)
    sh("bash", str(REPO / "images" / "build.sh"), "--registry", registry, "--tls-verify=false",
       "base", "s2i-python", "buildpod", *(["buildpod-cache"] if args.cache else []),
       env={"KBUILD_BUILDPOD_TAG": args.buildpod_tag})  # fmt: skip
    image = "buildpod-cache" if args.cache else "buildpod"
    # By digest: a node keeps an image it has under a tag that is not
    # "latest" (IfNotPresent), and must run the one just built.
    tagged = f"{registry}/kbuild/{image}:{args.buildpod_tag}"
    digest = RegistryClient(insecure={registry}).resolve(tagged).digest
    buildpod = f"{registry}/kbuild/{image}@{digest}"
    print(f"build pod image: {buildpod}")
    sh(kubectl, "--kubeconfig", kubeconfig, "apply", "-f", str(REPO / "crds"))
    sh(kubectl, "--kubeconfig", kubeconfig, "create", "namespace", ns)
    tmp = Path(tempfile.mkdtemp(prefix="kbuild-bench-"))
    controller = subprocess.Popen(
        [sys.executable, "-m", "builder.cli.main", "controller", "--kubeconfig", kubeconfig,
         "--registry", registry, "--insecure-registry", registry, "--namespace", ns,
         "--lease-namespace", ns, "--metrics-port", str(free_port()), "--webhook-port", "0",
         "--build-pod-image", buildpod],
        stdout=(tmp / "controller.log").open("wb"), stderr=subprocess.STDOUT, cwd=REPO,
    )  # fmt: skip
    try:
        with git_daemon(host, tmp / "git") as gitd:
            repo = gitd.add_example("python-hello", "hello")
            bc = {
                "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
                "metadata": {"name": "bench", "namespace": ns},
                "spec": {"runPolicy": "Serial", "successfulBuildsHistoryLimit": 100,
                         "source": {"git": {"uri": gitd.uri("hello")}},
                         "strategy": {"type": "Source", "sourceStrategy": {
                             "from": {"kind": "DockerImage", "name": builder}}},
                         "output": {"to": {"kind": "ImageStreamTag", "name": "bench:latest"}}},
            }  # fmt: skip
            sh(kubectl, "--kubeconfig", kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(bc))
            rendered = tmp / "rendered" / "Dockerfile"
            sh(sys.executable, "-m", "builder.cli.main", "build", str(repo), "--builder", builder,
               "--insecure-registry", registry, "--as-dockerfile", str(rendered))  # fmt: skip
            controller_times: list[float] = []
            node_times: list[float] = []
            cold_times: list[float] = []
            parts: dict[str, list[float]] = defaultdict(list)
            pulled: list[int | None] = []
            drivers: list[str] = []
            for run in range(args.runs):
                if run:
                    # Warm: the same builder, a new commit.
                    (repo / "BENCH_RUN").write_text(f"{run}\n")
                    sh("git", "-C", str(repo), "add", "-A")
                    sh("git", "-C", str(repo), "-c", "user.name=bench", "-c",
                       "user.email=bench@example.com", "commit", "-qm", f"run {run}")  # fmt: skip
                began = time.time()
                sh(sys.executable, "-m", "builder.cli.main", "start-build", "bench", "-n", ns,
                   "--kubeconfig", kubeconfig)  # fmt: skip
                name = f"bench-{run + 1}"
                while True:
                    try:
                        build = kube.builds.get(ns, name)
                    except NotFound:
                        build = None
                    if build is not None and build.status.phase in (
                        BuildPhase.COMPLETE,
                        BuildPhase.FAILED,
                        BuildPhase.ERROR,
                    ):
                        break
                    time.sleep(0.2)
                total = time.time() - began
                if build.status.phase != BuildPhase.COMPLETE:
                    print(f"{name} ended {build.status.phase}: {build.status.message}")
                    return 1
                controller_times.append(total)
                pod = kube.get_pod(ns, f"{name}-build")
                pulled.append(bytes_pulled(
                    registry_log, pod.get("status", {}).get("podIP") or "", began, time.time()
                ))  # fmt: skip
                drivers.append(storage_driver(kube, ns, f"{name}-build"))
                created = ts(build.metadata.creation_timestamp)
                statuses = pod["status"].get("initContainerStatuses") or []
                first_start = min(
                    ts((s.get("state", {}).get("terminated") or {}).get("startedAt"))
                    for s in statuses
                ) if statuses else created  # fmt: skip
                parts["queue+schedule+pull pod image"].append(first_start - created)
                stage_total = 0.0
                for stage in build.status.stages:
                    seconds = stage.duration_milliseconds / 1000
                    parts[f"stage {stage.name}"].append(seconds)
                    stage_total += seconds
                parts["containers start/stop, status updates"].append(
                    total - (first_start - created) - stage_total
                )
                out = f"{registry}/{ns}/node:{run}"
                began = time.time()
                sh("buildah", "bud", "--format", "docker", "--tls-verify=false", "--pull=false",
                   "-t", out, "-f", str(rendered), str(rendered.parent))  # fmt: skip
                sh("buildah", "push", "--tls-verify=false", out, f"docker://{out}")
                node_times.append(time.time() - began)
                # As the pod does it: an empty store and the vfs driver, so the
                # builder is pulled and every layer copied.
                store = tmp / f"store-{run}"
                flags = ("--storage-driver", "vfs", "--root", str(store / "root"),
                         "--runroot", str(store / "run"))  # fmt: skip
                began = time.time()
                sh("buildah", *flags, "bud", "--format", "docker", "--tls-verify=false",
                   "-t", out, "-f", str(rendered), str(rendered.parent))  # fmt: skip
                sh("buildah", *flags, "push", "--tls-verify=false", out, f"docker://{out}")
                cold_times.append(time.time() - began)
                subprocess.run(["buildah", *flags, "rm", "--all"], capture_output=True, check=False)
                shutil.rmtree(store, ignore_errors=True)
                kind = "cold" if run == 0 else "warm"
                mib = "?" if pulled[-1] is None else f"{pulled[-1] / 2**20:.1f} MiB"
                print(f"run {run + 1} ({kind}): controller {total:.2f}s"
                      f"  node buildah {node_times[-1]:.2f}s"
                      f"  node buildah, empty vfs store {cold_times[-1]:.2f}s"
                      f"  pulled {mib}  driver {drivers[-1]}")  # fmt: skip
    finally:
        controller.terminate()
        controller.wait(timeout=20)
        sh(kubectl, "--kubeconfig", kubeconfig, "delete", "namespace", ns, "--wait=false")
        shutil.rmtree(tmp, ignore_errors=True)
    c = statistics.median(controller_times)
    warm = controller_times[1:] or controller_times
    measured = [b for b in pulled if b is not None]
    print(f"cold Build created -> Complete (first build):  {controller_times[0]:.2f}s")
    print(f"median warm (same builder, new commit):         {statistics.median(warm):.2f}s"
          f" over {len(warm)} runs")  # fmt: skip
    if measured:
        print(f"median bytes pulled by the pod per build:       "
              f"{statistics.median(measured) / 2**20:.1f} MiB")  # fmt: skip
    print(f"storage drivers the pods ran:                   {json.dumps(sorted(set(drivers)))}")
    n = statistics.median(node_times)
    v = statistics.median(cold_times)
    print(f"median Build created -> Complete (controller):  {c:.2f}s over {args.runs} runs")
    print(f"median buildah bud + push on the node (warm):   {n:.2f}s")
    print(f"median the same, empty vfs store as in the pod: {v:.2f}s")
    print(f"ratio controller / node warm:                   {c / n:.2f}")
    print(f"ratio controller / node with the pod's storage: {c / v:.2f}")
    print("where the controller's time goes (medians):")
    for part, values in parts.items():
        print(f"  {part:40s} {statistics.median(values):6.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
