"""Benchmark: image stream imports and triggers on the local cluster.

Four figures, each with a baseline measured in the same run:

1. Push -> stream updated, and push -> Build created (an ImageChange
   trigger on the tag), for pushes to a registry that notifies the
   controller, against the same with polling at ``--poll-interval`` (the
   controller's minimum interval by default): medians, min/max, ratio.
2. Import throughput: one stream with ``--tags`` spec tags (every tag a
   distinct registry tag), created at once; time until every tag has its
   image, at the controller's default rate limit and with the limit lifted,
   against the same number of manifest resolutions done sequentially by this
   process with the same registry client.
3. Fan-out: one base tag watched by ``--fanout`` BuildConfigs; a push gives
   one Build each (counted, duplicates reported) and the time until the last
   was created, against creating the same number of Builds directly with
   ``instantiate`` from this process.

Builds are cancelled as soon as they appear (a build's own duration is
``bench/controller_build.py``'s subject, and 50 build pods would swamp a
2-core machine).  Needs ``hack/cluster.sh up`` and the images:

    eval "$(bash hack/cluster.sh env)"
    PYTHONPATH=. .venv/bin/python bench/triggers.py [--samples 5] [--tags 500] [--fanout 50]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from builder.api import BuildTriggerCause
from builder.kube import Kube, NotFound
from builder.registry import RegistryClient
from builder.rules.instantiate import BuildOptions, instantiate
from builder.streams.schedule import parse_interval
from tests.support.gitdaemon import git_daemon
from tests.support.images import ImageBuilder
from tests.support.registry import RunningRegistry, free_port, start_registry

REPO = Path(__file__).resolve().parent.parent
TOKEN = secrets.token_hex(8)


def sh(*argv: str, stdin: str | None = None) -> str:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=True)
    return done.stdout.strip()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.kubeconfig = os.environ["KUBECONFIG"]
        self.registry = os.environ["KBUILD_REGISTRY"]
        self.kubectl = os.environ.get("KBUILD_KUBECTL", "kubectl")
        self.host = self.registry.rpartition(":")[0]
        self.kube = Kube.connect(self.kubeconfig)
        self.tmp = Path(tempfile.mkdtemp(prefix="kbuild-bench-triggers-"))
        self.images = ImageBuilder(self.tmp / "images")
        self.counter = 0

    # -- plumbing --------------------------------------------------------------

    def apply(self, ns: str, obj: dict[str, Any]) -> None:
        sh(self.kubectl, "--kubeconfig", self.kubeconfig, "-n", ns, "apply", "-f", "-",
           stdin=yaml.safe_dump(obj))  # fmt: skip

    @contextmanager
    def namespace(self, label: str) -> Iterator[str]:
        self.counter += 1
        ns = f"kbuild-bench-{label}-{os.getpid()}-{self.counter}"
        sh(self.kubectl, "--kubeconfig", self.kubeconfig, "create", "namespace", ns)
        try:
            yield ns
        finally:
            sh(self.kubectl, "--kubeconfig", self.kubeconfig, "delete", "namespace", ns,
               "--wait=false")  # fmt: skip

    @contextmanager
    def controller(self, ns: str, port: int, *extra: str) -> Iterator[None]:
        log = (self.tmp / f"controller-{ns}-{port}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "builder.cli.main", "controller",
             "--kubeconfig", self.kubeconfig, "--registry", self.registry,
             "--insecure-registry", self.host, "--namespace", ns, "--lease-namespace", ns,
             "--metrics-port", str(port), "--webhook-port", "0", "--workers", "4", *extra],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
        )  # fmt: skip
        try:
            time.sleep(2)  # leadership
            yield
        finally:
            process.terminate()
            process.wait(timeout=30)

    def push(self, destination: str) -> str:
        self.counter += 1
        image = self.images.build(files={"v.txt": f"{self.counter}-{time.time()}".encode()})
        return self.images.push(image, destination, format="docker")

    def head(self, ns: str, stream: str, tag: str) -> str:
        try:
            s = self.kube.image_streams.get(ns, stream)
        except NotFound:
            return ""
        for named in s.status.tags:
            if named.tag == tag and named.items:
                return named.items[0].image
        return ""

    def build_names(self, ns: str) -> set[str]:
        builds, _ = self.kube.builds.list(ns)
        return {b.metadata.name for b in builds}

    @contextmanager
    def canceller(self, ns: str) -> Iterator[None]:
        """Cancel every build as soon as it shows up."""
        stop = threading.Event()

        def loop() -> None:
            done: set[str] = set()
            while not stop.is_set():
                try:
                    builds, _ = self.kube.builds.list(ns)
                    for build in builds:
                        if build.metadata.name in done or build.status.cancelled:
                            continue
                        build.status.cancelled = True
                        try:
                            self.kube.builds.replace_status(build)
                            done.add(build.metadata.name)
                        except Exception:  # noqa: S112 - a conflict: next round
                            continue
                except Exception:  # noqa: S110 - the API server is busy: next round
                    pass
                stop.wait(0.2)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=10)

    @staticmethod
    def wait(check: Callable[[], Any], timeout: float, every: float = 0.05) -> float:
        """Seconds until ``check()`` is true (raises on timeout)."""
        start = time.monotonic()
        while not check():
            if time.monotonic() - start > timeout:
                raise TimeoutError("benchmark step timed out")
            time.sleep(every)
        return time.monotonic() - start

    # -- 1. latency ------------------------------------------------------------

    def latency(self, gitd_uri: str, mode: str) -> tuple[list[float], list[float]]:
        port = free_port()
        notify = (
            (f"http://127.0.0.1:{port}/registry/notifications", TOKEN) if mode == "push" else None
        )
        external = start_registry(self.tmp / f"ext-{mode}", listen=self.host, notify=notify)
        poll = self.args.poll_interval
        extra = (
            ["--notifications-token", TOKEN, "--scheduled-import-interval", "1h"]
            if mode == "push"
            else ["--scheduled-import-interval", poll, "--scheduled-import-minimum-interval", poll]
        )
        source = f"{external.host}/lib/base:latest"
        stream_times: list[float] = []
        build_times: list[float] = []
        try:
            with self.namespace(mode) as ns, self.controller(ns, port, *extra), self.canceller(ns):
                self.push(source)
                self.stream(ns, "base", source)
                self.wait(lambda: self.head(ns, "base", "latest"), 60)
                self.apply(ns, self.layered_bc("app", gitd_uri, "base:latest"))
                self.wait(lambda: "app-1" in self.build_names(ns), 60)
                for sample in range(self.args.samples):
                    # Pushes come at random moments of the polling cycle, not right
                    # after a check (which would measure the worst case every time).
                    time.sleep(random.uniform(0, parse_interval(poll)))  # noqa: S311
                    before = self.build_names(ns)
                    digest = self.push(source)
                    pushed = time.monotonic()
                    self.wait(lambda d=digest: self.head(ns, "base", "latest") == d, 3600)  # type: ignore[misc]
                    stream_times.append(time.monotonic() - pushed)
                    self.wait(lambda b=before: self.build_names(ns) - b, 120)  # type: ignore[misc]
                    build_times.append(time.monotonic() - pushed)
                    print(f"  {mode} sample {sample + 1}: stream {stream_times[-1]:.2f}s, "
                          f"build {build_times[-1]:.2f}s", flush=True)  # fmt: skip
        finally:
            external.cleanup()
        return stream_times, build_times

    def stream(self, ns: str, name: str, source: str, *, tags: int = 0) -> None:
        spec_tags = (
            [{"name": f"t{i}", "from": {"kind": "DockerImage", "name": f"{source}t{i}"},
              "importPolicy": {"insecure": True}} for i in range(tags)]
            if tags
            else [{"name": "latest", "from": {"kind": "DockerImage", "name": source},
                   "importPolicy": {"scheduled": True, "insecure": True}}]
        )  # fmt: skip
        self.apply(ns, {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                        "metadata": {"name": name}, "spec": {"tags": spec_tags}})  # fmt: skip

    @staticmethod
    def layered_bc(name: str, uri: str, base: str) -> dict[str, Any]:
        return {
            "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
            "metadata": {"name": name},
            "spec": {
                "source": {"type": "Git", "git": {"uri": uri}},
                "strategy": {"type": "Docker", "dockerStrategy": {
                    "from": {"kind": "ImageStreamTag", "name": base}}},
                "output": {"to": {"kind": "ImageStreamTag", "name": f"{name}:latest"}},
                "triggers": [{"type": "ImageChange", "imageChange": {}}],
                "successfulBuildsHistoryLimit": 100, "failedBuildsHistoryLimit": 100,
            },
        }  # fmt: skip

    # -- 2. throughput ---------------------------------------------------------

    def throughput(self, registry: RunningRegistry, extra: list[str]) -> float:
        count = self.args.tags
        port = free_port()
        with self.namespace("import") as ns, self.controller(ns, port, *extra):
            self.stream(ns, "many", f"{registry.host}/lib/many:", tags=count)

            def imported() -> bool:
                s = self.kube.image_streams.get(ns, "many")
                return sum(1 for t in s.status.tags if t.items) >= count

            return self.wait(imported, 600, every=0.2)

    def tagged_repository(self, registry: RunningRegistry) -> None:
        """``--tags`` tags of one repository: one image, stored under each tag name."""
        self.push(f"{registry.host}/lib/many:t0")
        with RegistryClient(insecure=lambda _h: True) as client:
            for i in range(1, self.args.tags):
                client.copy(f"{registry.host}/lib/many:t0", f"{registry.host}/lib/many", f"t{i}")

    def resolve_baseline(self, registry: RunningRegistry) -> float:
        client = RegistryClient(insecure=lambda _h: True)
        start = time.monotonic()
        for i in range(self.args.tags):
            client.resolve(f"{registry.host}/lib/many:t{i}")
        client.close()
        return time.monotonic() - start

    # -- 3. fan-out ------------------------------------------------------------

    def fanout(self, gitd_uri: str) -> tuple[float, int, int, float]:
        count = self.args.fanout
        port = free_port()
        external = start_registry(
            self.tmp / "ext-fan", listen=self.host,
            notify=(f"http://127.0.0.1:{port}/registry/notifications", TOKEN),
        )  # fmt: skip
        source = f"{external.host}/lib/base:fan"
        try:
            with (
                self.namespace("fanout") as ns,
                self.controller(ns, port, "--notifications-token", TOKEN),
                self.canceller(ns),
            ):
                self.push(source)
                self.stream(ns, "base", source)
                self.wait(lambda: self.head(ns, "base", "latest"), 60)
                for i in range(count):
                    self.apply(ns, self.layered_bc(f"app{i}", gitd_uri, "base:latest"))
                # Each BuildConfig's first build (the tag has an image already).
                self.wait(lambda: len(self.build_names(ns)) >= count, 300, every=0.5)
                time.sleep(5)
                before = self.build_names(ns)
                self.push(source)
                took = self.wait(lambda: len(self.build_names(ns) - before) >= count, 300, 0.1)
                time.sleep(15)  # would a duplicate come?
                new = self.build_names(ns) - before
                per_bc: dict[str, int] = {}
                for name in new:
                    bc = name.rsplit("-", 1)[0]
                    per_bc[bc] = per_bc.get(bc, 0) + 1
                duplicates = sum(n - 1 for n in per_bc.values() if n > 1)
                baseline = self.instantiate_baseline(ns, count)
                return took, len(new), duplicates, baseline
        finally:
            external.cleanup()

    def instantiate_baseline(self, ns: str, count: int) -> float:
        """The same number of Builds created directly (instantiate) by this process."""
        cause = (BuildTriggerCause(message="benchmark baseline"),)
        start = time.monotonic()
        for i in range(count):
            instantiate(self.kube, ns, f"app{i}", BuildOptions(causes=cause))
        return time.monotonic() - start


def stats(values: list[float]) -> str:
    return (f"median {statistics.median(values):.2f}s (min {min(values):.2f}s, "
            f"max {max(values):.2f}s, n={len(values)})")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--poll-interval", default="10s", help="polling interval (the default minimum)")
    ap.add_argument("--tags", type=int, default=500)
    ap.add_argument("--fanout", type=int, default=50)
    args = ap.parse_args()
    bench = Bench(args)
    sh("bash", str(REPO / "images" / "build.sh"), "--registry", bench.registry,
       "--tls-verify=false", "base", "buildpod")  # fmt: skip
    sh(bench.kubectl, "--kubeconfig", bench.kubeconfig, "apply", "-f", str(REPO / "crds"))
    results: dict[str, Any] = {}
    with git_daemon(bench.host, bench.tmp / "git") as gitd:
        gitd.add_example("layered-app", "layered")
        uri = gitd.uri("layered")

        print("1. push -> stream updated / build created", flush=True)
        push_stream, push_build = bench.latency(uri, "push")
        poll_stream, poll_build = bench.latency(uri, "poll")
        results["latency"] = {
            "notifications": {"stream": push_stream, "build": push_build},
            "polling": {"interval": args.poll_interval, "stream": poll_stream,
                        "build": poll_build},
        }  # fmt: skip

        print(f"2. importing {args.tags} tags", flush=True)
        registry = start_registry(bench.tmp / "many", listen=bench.host)
        try:
            bench.tagged_repository(registry)
            baseline = bench.resolve_baseline(registry)
            limited = bench.throughput(registry, [])
            unlimited = bench.throughput(
                registry, ["--import-qps", "100000", "--import-burst", "100000"]
            )
        finally:
            registry.cleanup()
        results["throughput"] = {"tags": args.tags, "baseline_s": baseline,
                                 "default_limit_s": limited, "no_limit_s": unlimited}  # fmt: skip

        print(f"3. one tag watched by {args.fanout} BuildConfigs", flush=True)
        took, created, duplicates, instantiated = bench.fanout(uri)
        results["fanout"] = {"buildconfigs": args.fanout, "builds": created,
                             "duplicates": duplicates, "seconds": took,
                             "instantiate_baseline_s": instantiated}  # fmt: skip

    n = results["latency"]
    print("\n== results")
    print(f"push -> stream updated, notifications: {stats(n['notifications']['stream'])}")
    print(f"push -> stream updated, polling {args.poll_interval}: {stats(n['polling']['stream'])}")
    ratio = statistics.median(n["polling"]["stream"]) / statistics.median(
        n["notifications"]["stream"]
    )
    print(f"  ratio polling/notifications: {ratio:.1f}")
    print(f"push -> build created, notifications: {stats(n['notifications']['build'])}")
    print(f"push -> build created, polling {args.poll_interval}: {stats(n['polling']['build'])}")
    ratio = statistics.median(n["polling"]["build"]) / statistics.median(
        n["notifications"]["build"]
    )
    print(f"  ratio polling/notifications: {ratio:.1f}")
    t = results["throughput"]
    print(f"import {t['tags']} tags: {t['default_limit_s']:.1f}s at the default rate limit "
          f"({t['tags'] / t['default_limit_s']:.0f} tags/s), {t['no_limit_s']:.1f}s without "
          f"({t['tags'] / t['no_limit_s']:.0f} tags/s); baseline, the same resolutions "
          f"sequentially from this process: {t['baseline_s']:.1f}s "
          f"({t['tags'] / t['baseline_s']:.0f}/s); ratio unlimited/baseline "
          f"{t['no_limit_s'] / t['baseline_s']:.2f}")  # fmt: skip
    f = results["fanout"]
    print(f"one push, {f['buildconfigs']} BuildConfigs: {f['builds']} builds, "
          f"{f['duplicates']} duplicates, last created after {f['seconds']:.2f}s; "
          f"baseline, {f['buildconfigs']} instantiate calls from this process: "
          f"{f['instantiate_baseline_s']:.2f}s; "
          f"ratio {f['seconds'] / f['instantiate_baseline_s']:.2f}")  # fmt: skip
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
