"""Benchmark: a trivial S2I build through the controller vs buildah on the node.

Controller side: a ``kbuild controller`` (started here, limited to its own
namespace) runs ``kbuild start-build`` builds of examples/python-hello served
by a git daemon; each is timed from Build creation (start-build's return) to
Complete.  Baseline: the same S2I Dockerfile (rendered by ``kbuild build
--as-dockerfile`` against the same builder) built with ``buildah bud`` and
pushed with ``buildah push`` directly on this machine, which is the
cluster's only node, with its warm store (overlay, builder cached); with
``--vfs-baseline`` also with an empty vfs store, as the pod did before
kernel overlay and the cache.  Runs alternate; medians and their ratio are
printed, and the controller's time is split into where it goes: the build
pod's own stages (FetchInputs, PullImages, Build, PushImage) and the rest,
and the pod's timeline from its own timestamps (queue, scheduling, each
container's start, run and the gap before the next, status propagation).

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
        [--containers fewest|per-step] [--builder s2i-python-fat:3.11] [--vfs-baseline]
        [--cold-node [--cold-runs 5]]

``--cache`` runs the pods from ``kbuild/buildpod-cache``, whose read-only
builder cache holds the builder, so a build neither pulls nor unpacks it.
``--builder s2i-python-fat:3.11`` builds on the >= 1 GB builder (and puts it
in the cache image); ``--containers`` is the controller's
``--build-pod-containers``; ``--cold-node`` removes the build pod image
from the node's containerd first, so the first build includes its pull;
with ``--cold-runs N`` the first N builds are cold, each after removing the
image again, and the median of those is printed next to the warm one's.
(Layers the build pod image shares with other images on the node, such as
the base image's, stay in containerd's content store: "cold" is a node that
never ran a build pod of this version, not one that never ran anything.)
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
from typing import Any

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


def compressed_size(image: str) -> int:
    """The sum of the image's layer blobs as the registry serves them."""
    raw = json.loads(sh("skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{image}"))
    return sum(int(layer.get("size") or 0) for layer in raw.get("layers") or [])


def container_names(pod: dict[str, Any]) -> list[str]:
    spec = pod.get("spec") or {}
    return [str(c["name"]) for key in ("initContainers", "containers") for c in spec.get(key) or []]


def storage_driver(kube: Kube, ns: str, pod: dict[str, Any]) -> str:
    """What the pod's log says it ran (builder.buildah.storage), or 'unknown'."""
    name = pod["metadata"]["name"]
    for container in container_names(pod):
        try:
            for line in kube.pod_log(ns, name, container):
                if line.startswith("Storage driver: "):
                    return line.removeprefix("Storage driver: ")
        except KubeError as err:
            print(f"warning: no log of {container}: {err}")
    return "unknown (the pod logged no driver: an older build pod image?)"


def timeline(pod: dict[str, Any], created: float, done: float) -> dict[str, float]:
    """Where a build's time went, from the pod's own timestamps (whole seconds: medians help).

    Build created -> pod created (the controller's queue and reconcile), pod
    created -> scheduled, scheduled -> first container started (sandbox,
    volumes, container creation), then per container its run and the gap
    before the next one starts (the kubelet noticing the exit, creating and
    starting the next), and last container finished -> Build Complete seen
    (the kubelet's status, the watch, the controller's writes).
    """
    out: dict[str, float] = {}
    pod_created = ts(pod["metadata"].get("creationTimestamp"))
    scheduled = next(
        (ts(c.get("lastTransitionTime")) for c in pod["status"].get("conditions") or []
         if c.get("type") == "PodScheduled"), pod_created,
    )  # fmt: skip
    out["Build created -> pod created"] = pod_created - created
    out["pod created -> scheduled"] = scheduled - pod_created
    status = pod["status"]
    states = {
        s["name"]: (s.get("state") or {}).get("terminated") or {}
        for key in ("initContainerStatuses", "containerStatuses")
        for s in status.get(key) or []
    }
    previous = scheduled
    first = True
    for name in container_names(pod):
        term = states.get(name) or {}
        started, finished = ts(term.get("startedAt")), ts(term.get("finishedAt"))
        if not started:
            continue
        label = "scheduled -> first container started" if first else f"gap before {name}"
        out[label] = started - previous
        out[f"container {name} ran"] = finished - started
        previous, first = finished, False
    out["last container finished -> Complete seen"] = done - previous
    return out


def install_seccomp_profile() -> None:
    """Put the build pods' seccomp profile where this node's kubelet reads it, if missing.

    The bench runs on the cluster's only node, so it writes the file the
    installer DaemonSet (deploy/seccomp-installer.yaml) would: the profile
    from deploy/seccomp-profile.yaml, under ``$KBUILD_KUBELET_ROOT/seccomp/kbuild``.
    """
    docs = yaml.safe_load_all((REPO / "deploy" / "seccomp-profile.yaml").read_text())
    [config_map] = [d for d in docs if d and d.get("kind") == "ConfigMap"]
    root = Path(os.environ.get("KBUILD_KUBELET_ROOT", "/var/lib/kbuild-cluster/kubelet"))
    for name, profile in config_map["data"].items():
        target = root / "seccomp" / "kbuild" / name
        if not target.exists() or target.read_text() != profile:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(profile)
            print(f"seccomp profile written to {target}")


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
    ap.add_argument(
        "--containers", choices=("fewest", "per-step"), default="fewest",
        help="the controller's --build-pod-containers (default fewest)",
    )  # fmt: skip
    ap.add_argument(
        "--builder", default="s2i-python:3.11",
        help="the builder, as <image>:<tag> of kbuild/ (s2i-python-fat:3.11: the >= 1 GB one)",
    )  # fmt: skip
    ap.add_argument(
        "--cold-node", action="store_true",
        help="first remove the build pod image from the node's containerd "
        "($KBUILD_CONTAINERD_SOCK), so the first build is cold: the node pulls it again",
    )  # fmt: skip
    ap.add_argument(
        "--cold-runs", type=int, default=1,
        help="with --cold-node: how many of the first builds are cold (default 1)",
    )  # fmt: skip
    ap.add_argument(
        "--vfs-baseline", action="store_true",
        help="also time buildah on the node with an empty vfs store (the pod before overlay)",
    )  # fmt: skip
    args = ap.parse_args()
    registry_log = Path(os.environ.get("KBUILD_CLUSTER_LOGS", "/var/log/kbuild-cluster"))
    registry_log = registry_log / "registry.log"
    kubeconfig = os.environ["KUBECONFIG"]
    registry = os.environ["KBUILD_REGISTRY"]
    kubectl = os.environ.get("KBUILD_KUBECTL", "kubectl")
    builder = f"{registry}/kbuild/{args.builder}"
    builder_image = args.builder.partition(":")[0]
    host = registry.rpartition(":")[0]
    ns = f"kbuild-bench-{os.getpid()}"
    kube = Kube.connect(kubeconfig)
    sh("bash", str(REPO / "images" / "build.sh"), "--registry", registry, "--tls-verify=false",
       "base", builder_image, "buildpod", *(["buildpod-cache"] if args.cache else []),
       env={"KBUILD_BUILDPOD_TAG": args.buildpod_tag,
            # The cache holds the bench's builder (images/buildpod-cache/recipe.sh).
            "KBUILD_CACHED_BUILDERS": args.builder})  # fmt: skip
    builder_bytes = compressed_size(builder)
    image = "buildpod-cache" if args.cache else "buildpod"
    # By digest: a node keeps an image it has under a tag that is not
    # "latest" (IfNotPresent), and must run the one just built.
    tagged = f"{registry}/kbuild/{image}:{args.buildpod_tag}"
    digest = RegistryClient(insecure={registry}).resolve(tagged).digest
    buildpod = f"{registry}/kbuild/{image}@{digest}"
    print(f"build pod image: {buildpod}")
    cold_runs = max(args.cold_runs, 1) if args.cold_node else 1
    sock = os.environ.get(
        "KBUILD_CONTAINERD_SOCK", "/run/kbuild-cluster/containerd/containerd.sock"
    )

    def make_node_cold() -> None:
        # Finished build pods keep their containers, and a container keeps
        # the image's unpacked layers (snapshots): without deleting those
        # pods first, a "cold" node would skip the unpack and only fetch blobs.
        subprocess.run(
            [kubectl, "--kubeconfig", kubeconfig, "delete", "pods", "--all", "-n", ns,
             "--wait=true", "--timeout=120s"],
            capture_output=True, check=False,
        )  # fmt: skip
        deadline = time.time() + 120
        while time.time() < deadline:
            listed = subprocess.run(
                ["ctr", "-a", sock, "-n", "k8s.io", "containers", "ls"],
                capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            if buildpod not in listed:
                break
            time.sleep(1)
        else:
            print("cold node: containers of the build pod image still exist (other pods?)")
        # Only this image, by its digest: this checkout's own build pod image,
        # under every name the node keeps it: the CRI also records it by its
        # config's ID (sha256:...), which alone keeps its layers unpacked.
        listed = subprocess.run(
            ["ctr", "-a", sock, "-n", "k8s.io", "images", "ls"],
            capture_output=True, text=True, check=False,
        ).stdout.splitlines()[1:]  # fmt: skip
        refs = [line.split()[0] for line in listed if line.split()[2:3] == [digest]]
        gone = subprocess.run(
            ["ctr", "-a", sock, "-n", "k8s.io", "images", "rm", "--sync", *refs],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        snapshots = subprocess.run(
            ["ctr", "-a", sock, "-n", "k8s.io", "snapshots", "ls"],
            capture_output=True, text=True, check=False,
        ).stdout.count("\n") - 1  # fmt: skip
        print(f"cold node: removed {len(refs)} names of {buildpod}: {gone.returncode == 0},"
              f" {snapshots} snapshots left on the node"
              f" {gone.stderr.strip()[:200]}")  # fmt: skip

    install_seccomp_profile()
    sh(kubectl, "--kubeconfig", kubeconfig, "apply", "-f", str(REPO / "crds"))
    sh(kubectl, "--kubeconfig", kubeconfig, "create", "namespace", ns)
    tmp = Path(tempfile.mkdtemp(prefix="kbuild-bench-"))
    controller = subprocess.Popen(
        [sys.executable, "-m", "builder.cli.main", "controller", "--kubeconfig", kubeconfig,
         "--registry", registry, "--insecure-registry", registry, "--namespace", ns,
         "--lease-namespace", ns, "--metrics-port", str(free_port()), "--webhook-port", "0",
         "--build-pod-image", buildpod, "--build-pod-containers", args.containers],
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
            kinds: list[str] = []
            failures: list[str] = []
            parts: dict[str, list[float]] = defaultdict(list)
            pulled: list[int | None] = []
            cli_times: list[float] = []
            steps: dict[str, list[float]] = defaultdict(list)
            drivers: list[str] = []
            for run in range(args.runs + cold_runs - 1):
                cold = run < cold_runs
                if args.cold_node and cold:
                    make_node_cold()
                if run:
                    # Warm: the same builder, a new commit.
                    (repo / "BENCH_RUN").write_text(f"{run}\n")
                    sh("git", "-C", str(repo), "add", "-A")
                    sh("git", "-C", str(repo), "-c", "user.name=bench", "-c",
                       "user.email=bench@example.com", "commit", "-qm", f"run {run}")  # fmt: skip
                invoked = time.time()
                sh(sys.executable, "-m", "builder.cli.main", "start-build", "bench", "-n", ns,
                   "--kubeconfig", kubeconfig)  # fmt: skip
                # The Build exists once start-build returns (its POST answered):
                # "Build created -> Complete" counts from here, not from the
                # CLI's own start-up.
                began = time.time()
                cli_times.append(began - invoked)
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
                    time.sleep(0.1)
                done_at = time.time()
                total = done_at - began
                if build.status.phase != BuildPhase.COMPLETE:
                    # Counted, not fatal: a shared cluster has its moments
                    # (another engineer restarting the registry).
                    print(f"{name} ended {build.status.phase}: {build.status.message}")
                    failures.append(f"{name}: {build.status.message}")
                    continue
                controller_times.append(total)
                kinds.append("cold" if cold else "warm")
                pod = kube.get_pod(ns, f"{name}-build")
                pulled.append(bytes_pulled(
                    registry_log, pod.get("status", {}).get("podIP") or "", began, time.time()
                ))  # fmt: skip
                drivers.append(storage_driver(kube, ns, pod))
                this_run = timeline(pod, began, done_at)
                for part, seconds in this_run.items():
                    steps[part].append(seconds)
                stage_total = 0.0
                for stage in build.status.stages:
                    seconds = stage.duration_milliseconds / 1000
                    parts[f"stage {stage.name}"].append(seconds)
                    stage_total += seconds
                parts["everything but the stages"].append(total - stage_total)
                out = f"{registry}/{ns}/node:{run}"
                began = time.time()
                sh("buildah", "bud", "--format", "docker", "--tls-verify=false", "--pull=false",
                   "-t", out, "-f", str(rendered), str(rendered.parent))  # fmt: skip
                sh("buildah", "push", "--tls-verify=false", out, f"docker://{out}")
                node_times.append(time.time() - began)
                vfs = ""
                if args.vfs_baseline:
                    # An empty store and the vfs driver, as the pod was before
                    # kernel overlay and the cache: the builder pulled and copied.
                    store = tmp / f"store-{run}"
                    flags = ("--storage-driver", "vfs", "--root", str(store / "root"),
                             "--runroot", str(store / "run"))  # fmt: skip
                    began = time.time()
                    sh("buildah", *flags, "bud", "--format", "docker", "--tls-verify=false",
                       "-t", out, "-f", str(rendered), str(rendered.parent))  # fmt: skip
                    sh("buildah", *flags, "push", "--tls-verify=false", out, f"docker://{out}")
                    cold_times.append(time.time() - began)
                    subprocess.run(["buildah", *flags, "rm", "--all"], capture_output=True,
                                   check=False)  # fmt: skip
                    shutil.rmtree(store, ignore_errors=True)
                    vfs = f"  node buildah, empty vfs store {cold_times[-1]:.2f}s"
                mib = "?" if pulled[-1] is None else f"{pulled[-1] / 2**20:.1f} MiB"
                print(f"run {run + 1} ({kinds[-1]}): controller {total:.2f}s"
                      f"  node buildah {node_times[-1]:.2f}s{vfs}"
                      f"  pulled {mib}  driver {drivers[-1]}", flush=True)  # fmt: skip
                stages_said = ", ".join(
                    f"{s.name} {s.duration_milliseconds / 1000:.2f}s" for s in build.status.stages
                )
                print(f"    stages: {stages_said}")
                print("    timeline: " + ", ".join(f"{k} {v:.1f}s" for k, v in this_run.items()))
    finally:
        controller.terminate()
        controller.wait(timeout=20)
        sh(kubectl, "--kubeconfig", kubeconfig, "delete", "namespace", ns, "--wait=false")
        shutil.rmtree(tmp, ignore_errors=True)
    if not controller_times:
        print(f"no build completed: {failures}")
        return 1
    warm = [t for t, k in zip(controller_times, kinds, strict=True) if k == "warm"]
    cold_builds = [t for t, k in zip(controller_times, kinds, strict=True) if k == "cold"]
    warm_node = [t for t, k in zip(node_times, kinds, strict=True) if k == "warm"] or node_times
    measured = [b for b in pulled if b is not None]
    if len(cold_builds) == 1:
        print(f"cold Build created -> Complete (first build):  {cold_builds[0]:.2f}s"
              f"  (node buildah {node_times[0]:.2f}s)")  # fmt: skip
    elif cold_builds:
        print(f"median cold (build pod image removed first):    "
              f"{statistics.median(cold_builds):.2f}s over {len(cold_builds)} runs"
              f" ({', '.join(f'{t:.2f}' for t in cold_builds)})")  # fmt: skip
    if warm:
        w, n = statistics.median(warm), statistics.median(warm_node)
        print(f"median warm (same builder, new commit):         {w:.2f}s over {len(warm)} runs")
        print(f"median buildah bud + push on the node (warm):   {n:.2f}s")
        print(f"ratio warm controller / node warm:              {w / n:.2f}")
    if cold_times:
        v = statistics.median(cold_times)
        print(f"median the same, empty vfs store (old pod):     {v:.2f}s")
    if measured:
        mib = statistics.median(measured) / 2**20
        print(f"median bytes pulled by the pod per build:       {mib:.1f} MiB"
              f" (max {max(measured) / 2**20:.1f})")  # fmt: skip
    print(f"storage drivers the pods ran:                   {json.dumps(sorted(set(drivers)))}")
    print(f"failed builds:                                  {len(failures)} {failures}")
    print(f"containers per build pod: {args.containers}; builder {builder}"
          f" ({builder_bytes / 2**20:.1f} MiB of compressed layers)")  # fmt: skip
    print(f"median start-build CLI until the Build exists: {statistics.median(cli_times):.2f}s")
    print("where the controller's time goes (medians):")
    for part, values in parts.items():
        print(f"  {part:40s} {statistics.median(values):6.2f}s")
    print("the pod's timeline (medians; the API's timestamps are whole seconds):")
    for part, values in steps.items():
        print(f"  {part:48s} {statistics.median(values):6.2f}s  (n={len(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
