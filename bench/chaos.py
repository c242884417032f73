"""Chaos on the real cluster: a SIGKILLed leader, an API server restart, a registry gone mid-push.

A scenario runner that prints figures (counts and times); it asserts
nothing.  ``tests/cluster/test_chaos.py`` holds the same scenarios as tests.
Each scenario uses a namespace of its own (``h-chaos-...``) and controllers
run as processes of this machine (``python -m builder.cli.main controller``,
limited to that namespace, with the lease in it), so they can be killed.

``leader``
    Two controller replicas with leader election; ``--fanout`` BuildConfigs
    (ImageChange on ``base:v0``, already triggered on its current image)
    under a ResourceQuota of 0 pods, so Builds are created and never run.
    The tag moves; once ``--kill-after`` Builds exist the leader is
    SIGKILLed; the standby takes the lease and finishes the fan-out.
    ``--rounds`` times, the killed replica coming back as the next standby.
    Figures per round: Builds at the kill, seconds until the standby leads,
    Builds in the end (expected ``--fanout``), duplicates, BuildConfigs
    left without a Build, BuildConfigs whose ``lastVersion`` moved with no
    Build of that number (a lost trigger).

``apiserver``
    A real build (Docker strategy, ``RUN sleep``) through one controller;
    while its pod runs, ``hack/cluster.sh restart kube-apiserver``.  Figures:
    the API outage, the Build's phase and reason, the output tag's history
    length (expected 1) and whether it names the Build's digest.

``registry``
    A real build whose output registry is one of this script's own (on
    ``--registry-port``, the only registry the build pushes to); the
    registry is stopped when the first blob upload reaches it.  Figures: the
    Build's phase, reason and message; whether the output stream got a tag
    (expected no) and whether the registry, started again, holds a manifest
    for the tag (expected no).

    eval "$(bash hack/cluster.sh env)"
    KBUILD_TEST_BUILDPOD_TAG=chaos PYTHONPATH=. .venv/bin/python bench/chaos.py all

The build pod image ``<cluster registry>/kbuild/buildpod:<tag>`` must have
been pushed (``images/build.sh buildpod`` with ``KBUILD_BUILDPOD_TAG``); the
pods run under ``--seccomp-profile Unconfined`` in a namespace without Pod
Security labels, so nothing cluster-wide is installed by this script.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from builder.api import (
    Build,
    BuildConfig,
    BuildPhase,
    ImageStream,
    TagEvent,
    now_time,
    parse_as,
)
from builder.api.image import NamedTagEventList
from builder.kube import Kube, KubeError, NotFound
from builder.streams.buildtriggers import record_images

REPO = Path(__file__).resolve().parent.parent
TERMINAL = {BuildPhase.COMPLETE, BuildPhase.FAILED, BuildPhase.ERROR, BuildPhase.CANCELLED}
NODE_HOST = "10.213.0.1"  # the bridge address pods reach this machine on (hack/cluster.sh)


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}".rjust(64, "0")


def wait_until(what: str, check: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (KubeError, OSError):
            value = None  # the API server may be restarting
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass
class ControllerProcess:
    """One ``kbuild controller`` replica on this machine."""

    identity: str
    namespace: str
    port: int
    logdir: Path
    registry: str
    buildpod_image: str
    extra: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    # Times supervise() started it again after it exited.
    restarts: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def log_path(self) -> Path:
        return self.logdir / f"controller-{self.identity}.log"

    def start(self) -> None:
        out = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "builder.cli.main", "controller",
             "--kubeconfig", os.environ["KUBECONFIG"], "--registry", self.registry,
             "--insecure-registry", NODE_HOST, "--namespace", self.namespace,
             "--lease-namespace", self.namespace, "--identity", self.identity,
             "--metrics-port", str(self.port), "--webhook-port", "0",
             "--build-pod-image", self.buildpod_image, "--seccomp-profile", "Unconfined",
             "--resync-seconds", "30", *self.extra],
            stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip

    def supervise(self) -> None:
        """Start it again whenever it exits, as its Deployment would, until stop() or kill().

        A controller that cannot renew its lease for the renew deadline
        (an API server outage longer than 10 s) exits on purpose
        (builder.controller.leader): its restart is part of the design.
        """
        self.stopping.clear()

        def loop() -> None:
            while not self.stopping.is_set():
                if self.process is not None and self.process.poll() is not None:
                    time.sleep(1.0)
                    if self.stopping.is_set():
                        return
                    self.restarts += 1
                    log(f"controller {self.identity} exited; starting it again")
                    self.start()
                time.sleep(0.5)

        threading.Thread(target=loop, daemon=True).start()

    def kill(self) -> None:
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class Env:
    """The cluster this machine runs (hack/cluster.sh env) and helpers on it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.kubeconfig = os.environ["KUBECONFIG"]
        self.registry = os.environ["KBUILD_REGISTRY"]
        self.kubectl_bin = os.environ.get("KBUILD_KUBECTL", "kubectl")
        self.kube = Kube.connect(self.kubeconfig)
        self.tmp = Path(tempfile.mkdtemp(prefix="kbuild-chaos-"))
        tag = os.environ.get("KBUILD_TEST_BUILDPOD_TAG", "latest")
        self.buildpod_image = f"{self.registry}/kbuild/buildpod:{tag}"

    def kubectl(self, *argv: str, stdin: str | None = None, check: bool = True) -> str:
        done = subprocess.run(
            [self.kubectl_bin, "--kubeconfig", self.kubeconfig, *argv],
            input=stdin, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(argv)}: {done.stderr}")
        return done.stdout

    @contextmanager
    def namespace(self, label: str) -> Iterator[str]:
        ns = f"h-chaos-{label}-{os.getpid()}"
        self.kubectl("create", "namespace", ns)
        wait_until("the default ServiceAccount", lambda: self.kubectl(
            "-n", ns, "get", "serviceaccount", "default", check=False), 60)  # fmt: skip
        try:
            yield ns
        finally:
            if not self.args.keep:
                self.kubectl("delete", "namespace", ns, "--wait=false", check=False)

    def controller(self, ns: str, identity: str, port: int, **kw: Any) -> ControllerProcess:
        return ControllerProcess(
            identity, ns, port, self.tmp, kw.pop("registry", self.registry),
            self.buildpod_image, **kw,
        )  # fmt: skip

    def lease_holder(self, ns: str) -> str:
        try:
            lease = self.kube.get_lease(ns, "kbuild-controller")
        except NotFound:
            return ""
        return str((lease.get("spec") or {}).get("holderIdentity") or "")

    def builds(self, ns: str) -> list[Build]:
        items, _ = self.kube.builds.list(ns)
        return items


def config_of(build: Build) -> str:
    return str((build.metadata.annotations or {}).get("openshift.io/build-config.name", ""))


# ------------------------------------------------------------------------- leader


def leads(env: Env, replica: ControllerProcess, *, running: bool = False) -> Callable[[], bool]:
    """Whether ``replica`` holds the lease (and, with ``running``, has started its workers)."""

    def check() -> bool:
        if env.lease_holder(replica.namespace) != replica.identity:
            return False
        return not running or "controller running" in replica.log()

    return check


def leader_scenario(env: Env) -> dict[str, str]:
    args = env.args
    figures: dict[str, str] = {}
    with env.namespace("leader") as ns:
        env.kubectl("-n", ns, "apply", "-f", "-", stdin=(
            "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: no-pods}\n"
            "spec: {hard: {pods: '0'}}\n"))  # fmt: skip
        registry = env.registry

        def event(n: int) -> TagEvent:
            return TagEvent(created=now_time(), image=digest(n), generation=1,
                            docker_image_reference=f"{registry}/{ns}/base@{digest(n)}")  # fmt: skip

        base = env.kube.image_streams.create(
            parse_as(ImageStream, {"metadata": {"name": "base", "namespace": ns}})
        )
        base.status.tags = [NamedTagEventList(tag="v0", items=[event(1)])]
        env.kube.image_streams.replace_status(base)
        for i in range(args.fanout):
            created = env.kube.build_configs.create(parse_as(BuildConfig, {
                "metadata": {"name": f"bc-{i}", "namespace": ns},
                "spec": {
                    "source": {"git": {"uri": "https://example.invalid/app.git"}},
                    "strategy": {"type": "Docker", "dockerStrategy": {
                        "from": {"kind": "ImageStreamTag", "name": "base:v0"}}},
                    "output": {"to": {"kind": "ImageStreamTag", "name": f"out-{i}:latest"}},
                    "triggers": [{"type": "ImageChange", "imageChange": {}}],
                },
            }))  # fmt: skip
            record_images(created, {(ns, "base:v0"): event(1).docker_image_reference}, now_time())
            env.kube.build_configs.replace_status(created)
        log(f"{ns}: {args.fanout} BuildConfigs on base:v0")

        replicas = [env.controller(ns, f"chaos-{c}", args.port + 1 + k)
                    for k, c in enumerate("ab")]  # fmt: skip
        leader, standby = replicas
        leader.start()
        wait_until("the first replica to lead", lambda: env.lease_holder(ns) == leader.identity, 90)
        wait_until("its workers", lambda: "controller running" in leader.log(), 90)
        standby.start()
        time.sleep(3)  # the standby's first lease attempt
        try:
            for round_ in range(1, args.rounds + 1):
                wait_until("the leader's first pass", leads(env, leader, running=True), 90)
                time.sleep(2)
                before = Counter(config_of(b) for b in env.builds(ns))
                versions_before = {
                    bc.metadata.name: bc.status.last_version
                    for bc in env.kube.build_configs.list(ns)[0]
                }
                stream = env.kube.image_streams.get(ns, "base")
                stream.status.tags[0].items = [
                    event(100 + round_),
                    *(stream.status.tags[0].items or []),
                ]
                t0 = time.monotonic()
                env.kube.image_streams.replace_status(stream)

                def new_builds(before: Counter[str] = before) -> int:
                    return len(env.builds(ns)) - sum(before.values())

                at_kill = wait_until(f"{args.kill_after} builds", lambda: (
                    n if (n := new_builds()) >= args.kill_after else None), 120, 0.05)  # fmt: skip
                leader.kill()
                killed_at = time.monotonic()
                at_kill_after = new_builds()
                wait_until("the standby to lead", leads(env, standby), 90)
                took_over = time.monotonic() - killed_at
                with suppress(TimeoutError):
                    wait_until("every build", lambda: new_builds() >= args.fanout, 120, 0.2)
                done_at = time.monotonic() - t0
                time.sleep(args.quiet)  # late duplicates
                after = Counter(config_of(b) for b in env.builds(ns))
                new = after - before
                configs = {bc.metadata.name: bc for bc in env.kube.build_configs.list(ns)[0]}
                names = {b.metadata.name for b in env.builds(ns)}
                lost = [
                    name for name, bc in configs.items()
                    if bc.status.last_version > versions_before[name]
                    and f"{name}-{bc.status.last_version}" not in names
                ]  # fmt: skip
                missing = [f"bc-{i}" for i in range(args.fanout) if not new.get(f"bc-{i}")]
                r = f"round {round_}:"
                figures[f"{r} builds when the leader was SIGKILLed"] = (
                    f"{at_kill} (at {killed_at - t0:.1f}s; {at_kill_after} just after)"
                )
                figures[f"{r} seconds until the standby led"] = f"{took_over:.1f}"
                figures[f"{r} builds created (expected {args.fanout})"] = str(sum(new.values()))
                figures[f"{r} seconds from tag move to last build"] = f"{done_at:.1f}"
                figures[f"{r} duplicates"] = str(sum(c - 1 for c in new.values() if c > 1))
                figures[f"{r} BuildConfigs without a build"] = (
                    f"{len(missing)} {missing[:5]}" if missing else "0"
                )
                figures[f"{r} lastVersion bumped, no Build (lost trigger)"] = (
                    f"{len(lost)} {lost[:5]}" if lost else "0"
                )
                adopted = sum(rep.log().count("(adopted)") for rep in replicas)
                figures[f"{r} orphan builds adopted (all rounds so far)"] = str(adopted)
                log(
                    " ".join(
                        f"{k[len(r) + 1 :]}={v}" for k, v in figures.items() if k.startswith(r)
                    )
                )
                # The killed replica comes back as the next standby.
                leader.start()
                leader, standby = standby, leader
                time.sleep(3)
        finally:
            for replica in replicas:
                replica.stop()
        log(f"controller logs: {env.tmp}")
    return figures


# ---------------------------------------------------------------------- real builds


@contextmanager
def git_repo(env: Env, dockerfile: str) -> Iterator[str]:
    """A git daemon on this machine's pod-facing address serving one repository."""
    base = env.tmp / "git"
    repo = base / "app"
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "Dockerfile").write_text(dockerfile)
    git = [
        "git",
        "-C",
        str(repo),
        "-c",
        "user.name=chaos",
        "-c",
        "user.email=chaos@example.invalid",
    ]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "app"], check=True)
    (repo / ".git" / "git-daemon-export-ok").touch()
    port = env.args.port + 3
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={base}",
         f"--listen={NODE_HOST}", f"--port={port}", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until("the git daemon", lambda: _connects(NODE_HOST, port), 30)
        yield f"git://{NODE_HOST}:{port}/app"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def _connects(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def docker_buildconfig(name: str, uri: str, registry: str, output: str) -> dict[str, Any]:
    return {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
        "metadata": {"name": name},
        "spec": {
            "source": {"git": {"uri": uri, "ref": "main"}},
            "strategy": {"type": "Docker", "dockerStrategy": {
                "from": {"kind": "DockerImage", "name": f"{registry}/kbuild/base:bookworm"}}},
            "output": {"to": {"kind": "ImageStreamTag", "name": output}},
        },
    }  # fmt: skip


def start_build(env: Env, ns: str, bc: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli.main", "start-build", bc, "-n", ns,
         "--kubeconfig", env.kubeconfig],
        capture_output=True, text=True, check=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    return done.stdout.strip().rpartition("/")[2].split()[0] or f"{bc}-1"


def phase_of(env: Env, ns: str, name: str) -> BuildPhase | None:
    try:
        return env.kube.builds.get(ns, name).status.phase
    except NotFound:
        return None


def finished(env: Env, ns: str, name: str, timeout: float) -> Build:
    wait_until(f"{name} to finish", lambda: phase_of(env, ns, name) in TERMINAL, timeout, 1.0)
    return env.kube.builds.get(ns, name)


def tag_items(env: Env, ns: str, stream: str, tag: str) -> list[str]:
    try:
        found = env.kube.image_streams.get(ns, stream)
    except NotFound:
        return []
    for named in found.status.tags:
        if named.tag == tag:
            return [i.image for i in named.items or []]
    return []


def cluster_sh(*argv: str) -> tuple[int, str]:
    done = subprocess.run(
        ["bash", str(REPO / "hack" / "cluster.sh"), *argv],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    return done.returncode, done.stderr.strip()


def apiserver_scenario(env: Env) -> dict[str, str]:
    args = env.args
    figures: dict[str, str] = {}
    dockerfile = f"FROM {env.registry}/kbuild/base:bookworm\nRUN sleep {args.sleep}\n"
    with env.namespace("apiserver") as ns, git_repo(env, dockerfile) as uri:
        bc = docker_buildconfig("slow", uri, env.registry, "slow:latest")
        env.kubectl("-n", ns, "apply", "-f", "-", stdin=yaml.safe_dump(bc))
        controller = env.controller(ns, "chaos-api", args.port + 4)
        controller.start()
        controller.supervise()
        try:
            wait_until("the controller", lambda: "controller running" in controller.log(), 90)
            t0 = time.monotonic()
            name = start_build(env, ns, "slow")
            wait_until(f"{name} to run", lambda: phase_of(env, ns, name) == BuildPhase.RUNNING,
                       300, 0.5)  # fmt: skip
            running = time.monotonic() - t0
            time.sleep(args.restart_after)
            r0 = time.monotonic()
            rc, out = cluster_sh("restart", "kube-apiserver")
            outage = time.monotonic() - r0
            last = out.splitlines()[-1] if out else ""
            figures["hack/cluster.sh restart kube-apiserver"] = f"rc {rc}: {last}"
            figures["seconds from start-build to Running"] = f"{running:.1f}"
            figures["API outage (s, restart to /readyz)"] = f"{outage:.1f}"
            build = finished(env, ns, name, 600)
            figures["build phase / reason"] = (
                f"{build.status.phase.value} / {build.status.reason or '-'}"
            )
            figures["seconds from start-build to terminal"] = f"{time.monotonic() - t0:.1f}"
            items = tag_items(env, ns, "slow", "latest")
            out_digest = build.status.output.to.image_digest if build.status.output.to else ""
            figures["output tag history (expected 1 item)"] = str(len(items))
            figures["tag names the build's digest"] = str(
                items == [out_digest] and bool(out_digest)
            )
            figures["builds of the BuildConfig"] = str(
                len([b for b in env.builds(ns) if config_of(b) == "slow"])
            )
            figures["controller restarts (lease lost in the outage)"] = str(controller.restarts)
            text = controller.log()
            figures["controller warnings + errors logged"] = str(
                text.count(" WARNING ") + text.count(" ERROR ")
            )
        finally:
            controller.stop()
        log(f"controller log: {controller.log_path}")
    return figures


@dataclass
class OwnRegistry:
    """docker-registry on this machine's pod-facing address and a port of ours."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"{NODE_HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "registry.log"

    def start(self) -> None:
        config = {
            "version": 0.1,
            "log": {"level": "info"},
            "storage": {"filesystem": {"rootdirectory": str(self.workdir / "storage")},
                        "delete": {"enabled": True},
                        "maintenance": {"uploadpurging": {"enabled": False}}},
            "http": {"addr": self.host, "secret": "chaos"},
        }  # fmt: skip
        (self.workdir / "config.yml").write_text(yaml.safe_dump(config))
        out = self.log_path.open("ab")
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(self.workdir / "config.yml")],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until("the registry", lambda: _connects(NODE_HOST, self.port), 30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def has_manifest(self, repo: str, tag: str) -> bool:
        done = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-I",
             "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
             "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json",
             f"http://{self.host}/v2/{repo}/manifests/{tag}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return done.stdout.strip() == "200"


def registry_scenario(env: Env) -> dict[str, str]:
    args = env.args
    figures: dict[str, str] = {}
    # A layer big enough that the push takes a while: random bytes do not compress.
    dockerfile = (f"FROM {env.registry}/kbuild/base:bookworm\n"
                  f"RUN head -c {args.layer_mb}M /dev/urandom > /blob\n")  # fmt: skip
    workdir = env.tmp / "own-registry"
    workdir.mkdir()
    own = OwnRegistry(workdir, args.registry_port)
    with env.namespace("registry") as ns, git_repo(env, dockerfile) as uri:
        own.start()
        bc = docker_buildconfig("big", uri, env.registry, "big:latest")
        env.kubectl("-n", ns, "apply", "-f", "-", stdin=yaml.safe_dump(bc))
        # This controller's registry for ImageStreamTag outputs is our own.
        controller = env.controller(ns, "chaos-reg", args.port + 5, registry=own.host)
        controller.start()
        try:
            wait_until("the controller", lambda: "controller running" in controller.log(), 90)
            t0 = time.monotonic()
            name = start_build(env, ns, "big")
            wait_until("the push to reach the registry",
                       lambda: "blobs/uploads" in own.log(), 600, 0.05)  # fmt: skip
            own.stop()
            stopped = time.monotonic() - t0
            figures["seconds from start-build to the registry stopped (first upload)"] = (
                f"{stopped:.1f}"
            )
            build = finished(env, ns, name, 600)
            figures["build phase / reason"] = (
                f"{build.status.phase.value} / {build.status.reason or '-'}"
            )
            figures["build message"] = (build.status.message or "")[:160]
            figures["seconds from the stop to terminal"] = f"{time.monotonic() - t0 - stopped:.1f}"
            figures["output stream tag items (expected 0)"] = str(
                len(tag_items(env, ns, "big", "latest"))
            )
            own.start()
            figures["registry, restarted, holds big:latest (expected False)"] = str(
                own.has_manifest(f"{ns}/big", "latest")
            )
            figures["build status.output digest (expected none)"] = (
                build.status.output.to.image_digest if build.status.output.to else "-"
            ) or "-"
        finally:
            controller.stop()
            own.stop()
        log(f"controller log: {controller.log_path}; registry log: {own.log_path}")
    if not args.keep:
        shutil.rmtree(workdir / "storage", ignore_errors=True)
    return figures


SCENARIOS = {"leader": leader_scenario, "apiserver": apiserver_scenario,
             "registry": registry_scenario}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=[*SCENARIOS, "all"])
    parser.add_argument("--fanout", type=int, default=100, help="BuildConfigs on the moved tag")
    parser.add_argument("--kill-after", type=int, default=30, help="builds before the SIGKILL")
    parser.add_argument("--rounds", type=int, default=3, help="leader kills (one per tag move)")
    parser.add_argument("--quiet", type=float, default=10.0, help="seconds to wait for duplicates")
    parser.add_argument("--sleep", type=int, default=40, help="seconds the slow build's RUN sleeps")
    parser.add_argument("--restart-after", type=float, default=5.0,
                        help="seconds into Running before the API server restarts")  # fmt: skip
    parser.add_argument("--layer-mb", type=int, default=200, help="size of the pushed layer")
    parser.add_argument("--port", type=int, default=5220,
                        help="base port: +1, +2 replicas, +3 git, +4, +5 controllers")  # fmt: skip
    parser.add_argument("--registry-port", type=int, default=5226, help="the own registry's port")
    parser.add_argument("--keep", action="store_true", help="keep namespaces and storage")
    args = parser.parse_args()
    env = Env(args)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    for name in names:
        log(f"scenario {name}")
        started = time.monotonic()
        figures = SCENARIOS[name](env)
        figures["scenario wall time (s)"] = f"{time.monotonic() - started:.0f}"
        width = max(len(k) for k in figures)
        print(f"\n## {name}\n")
        print(f"| {'figure'.ljust(width)} | value |")
        print(f"|{'-' * (width + 2)}|-------|")
        for key, value in figures.items():
            print(f"| {key.ljust(width)} | {value} |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
