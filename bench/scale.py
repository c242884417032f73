"""Benchmark: the controller at scale, on the real cluster, before and after.

One namespace holds ``--n`` BuildConfigs (ImageChange on the input
``base:vK``, K = i mod ``--tags``: n/tags BuildConfigs per tag) and ``--n``
more image streams, under a ResourceQuota of 0 pods (builds are created but
never run).  Every BuildConfig has already triggered on its tag's current
image.  A ``kbuild controller`` of the checkout measured runs on this machine
through ``bench/_counting.py``, which counts every API request it sends.

Figures (one column per checkout):

- time from start until the controller goes quiet (first full pass done);
- RSS after that, and again after ``--resyncs`` resyncs (``--resync-seconds``);
- API requests during an idle window spanning those resyncs, per minute,
  leaving out watches and the leader lease;
- one tag move (the base stream's status, as a build's push writes it):
  Builds created, duplicates, Builds of other tags, seconds until the last,
  and API requests per Build created (all, and on builds/buildconfigs);
- a status-only write to the base stream (a condition, no tag moved):
  BuildConfig reconciles it caused (the controller's own metric).

``--before REF`` runs the same scenario first against a git worktree of REF
(e.g. the session's starting main ``d63245e``) and prints both columns.

    eval "$(bash hack/cluster.sh env)"
    PYTHONPATH=. .venv/bin/python bench/scale.py --n 1000 --before d63245e
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from builder.api import BuildConfig, ImageStream, TagEvent, now_time, parse_as
from builder.api.image import NamedTagEventList, TagEventCondition
from builder.kube import Kube
from builder.streams.buildtriggers import record_images

REPO = Path(__file__).resolve().parent.parent
QUIET_SECONDS = 5.0


def sh(*argv: str, stdin: str | None = None, check: bool = True) -> str:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=check)
    return done.stdout.strip()


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}".rjust(64, "0")


class Scenario:
    def __init__(self, args: argparse.Namespace, label: str, src: Path, port: int) -> None:
        self.args = args
        self.label = label
        self.src = src
        self.port = port
        self.kubeconfig = os.environ["KUBECONFIG"]
        self.registry = os.environ["KBUILD_REGISTRY"]
        self.kubectl = os.environ.get("KBUILD_KUBECTL", "kubectl")
        self.kube = Kube.connect(self.kubeconfig)
        self.ns = f"h-core-scale-{label}-{os.getpid()}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"kbuild-scale-{label}-"))
        self.counts_file = self.tmp / "counts.json"
        self.figures: dict[str, str] = {}
        self.serial = 100

    # -- setup -------------------------------------------------------------------

    def kubectl_apply(self, text: str) -> None:
        sh(self.kubectl, "--kubeconfig", self.kubeconfig, "-n", self.ns, "apply", "-f", "-",
           stdin=text)  # fmt: skip

    def event(self, n: int) -> TagEvent:
        return TagEvent(
            created=now_time(),
            docker_image_reference=f"{self.registry}/{self.ns}/base@{digest(n)}",
            image=digest(n),
            generation=1,
        )

    def setup(self) -> None:
        n, tags = self.args.n, self.args.tags
        sh(self.kubectl, "--kubeconfig", self.kubeconfig, "create", "namespace", self.ns)
        self.kubectl_apply(
            "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: no-pods}\n"
            "spec: {hard: {pods: '0'}}\n"
        )
        base = self.kube.image_streams.create(
            parse_as(ImageStream, {"metadata": {"name": "base", "namespace": self.ns}})
        )
        base.status.tags = [NamedTagEventList(tag=f"v{k}", items=[self.event(k)])
                            for k in range(tags)]  # fmt: skip
        self.kube.image_streams.replace_status(base)

        def bc(i: int) -> None:
            tag = f"base:v{i % tags}"
            created = self.kube.build_configs.create(parse_as(BuildConfig, {
                "metadata": {"name": f"bc-{i}", "namespace": self.ns},
                "spec": {
                    "source": {"git": {"uri": "https://example.invalid/app.git"}},
                    "strategy": {"type": "Docker", "dockerStrategy": {
                        "from": {"kind": "ImageStreamTag", "name": tag}}},
                    "output": {"to": {"kind": "ImageStreamTag", "name": f"out-{i}:latest"}},
                    "triggers": [{"type": "ImageChange", "imageChange": {}}],
                },
            }))  # fmt: skip
            image = self.event(i % tags).docker_image_reference
            record_images(created, {(self.ns, tag): image}, now_time())
            self.kube.build_configs.replace_status(created)

        def stream(i: int) -> None:
            self.kube.image_streams.create(
                parse_as(ImageStream, {"metadata": {"name": f"out-{i}", "namespace": self.ns}})
            )

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(bc, range(n)))
            list(pool.map(stream, range(n)))
        print(f"[{self.label}] created {n} BuildConfigs and {n + 1} streams in "
              f"{time.monotonic() - started:.0f}s", file=sys.stderr)  # fmt: skip

    def teardown(self) -> None:
        sh(self.kubectl, "--kubeconfig", self.kubeconfig, "delete", "namespace", self.ns,
           "--wait=false", check=False)  # fmt: skip

    # -- the controller ------------------------------------------------------------

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.tmp / "controller.log").open("wb")
        env = {**os.environ, "PYTHONPATH": str(self.src)}
        # Checkouts that serve webhooks on a port of their own: not a fixed one
        # another controller on this machine may hold.
        cli = (self.src / "builder" / "cli" / "controller.py").read_text()
        extra = ["--webhook-port", "0"] if "--webhook-port" in cli else []
        return subprocess.Popen(
            [sys.executable, str(REPO / "bench" / "_counting.py"), str(self.counts_file),
             "controller", "--kubeconfig", self.kubeconfig, "--registry", self.registry,
             "--namespace", self.ns, "--lease-namespace", self.ns,
             "--metrics-port", str(self.port),
             "--resync-seconds", str(self.args.resync_seconds), *extra],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.src, env=env,
        )  # fmt: skip

    def counts(self) -> Counter[str]:
        try:
            return Counter(json.loads(self.counts_file.read_text()))
        except (OSError, ValueError):
            return Counter()

    @staticmethod
    def requests(counts: Counter[str]) -> int:
        """Requests beyond watches and the leader lease."""
        return sum(n for k, n in counts.items() if not k.startswith("WATCH") and "leases" not in k)

    @staticmethod
    def on_builds(counts: Counter[str]) -> int:
        return sum(
            n for k, n in counts.items() if not k.startswith("WATCH") and "build" in k.split()[1]
        )

    def rss_mb(self, pid: int) -> float:
        text = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", text)
        return int(match.group(1)) / 1024 if match else 0.0

    def wait_quiet(self, started: float, limit: float) -> float:
        """Seconds from ``started`` until no request for QUIET_SECONDS (or ``limit``)."""
        last_total, last_change = -1, time.monotonic()
        while time.monotonic() - started < limit:
            total = self.requests(self.counts())
            if total != last_total:
                last_total, last_change = total, time.monotonic()
            elif time.monotonic() - last_change >= QUIET_SECONDS and total > 0:
                return last_change - started
            time.sleep(0.25)
        return float("nan")

    def metric(self, name: str, **labels: str) -> float:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return float("nan")
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{"):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def builds(self) -> Counter[str]:
        items, _ = self.kube.builds.list(self.ns)
        return Counter(config_of(b) for b in items)

    # -- the run ---------------------------------------------------------------------

    def run(self) -> dict[str, str]:
        args, f = self.args, self.figures
        self.setup()
        process = self.start()
        try:
            started = time.monotonic()
            settled = self.wait_quiet(started, args.settle_limit)
            f["time to first sync + full pass (s)"] = f"{settled:.1f}"
            synced = re.search(r"caches synced in ([\d.]+)s", self.log())
            f["time to caches synced (s)"] = synced.group(1) if synced else "-"
            f["RSS after sync (MB)"] = f"{self.rss_mb(process.pid):.0f}"
            f["API requests, first pass"] = str(self.requests(self.counts()))
            print(f"[{self.label}] first pass: {dict(self.counts())}", file=sys.stderr)
            before = self.counts()
            idle = args.resync_seconds * args.resyncs + 2
            time.sleep(idle)
            idle_requests = self.requests(self.counts()) - self.requests(before)
            print(f"[{self.label}] idle: {dict(self.counts() - before)}", file=sys.stderr)
            f[f"API requests per idle minute ({args.resyncs} resyncs)"] = (
                f"{idle_requests * 60 / idle:.0f}"
            )
            f[f"RSS after {args.resyncs} resyncs (MB)"] = f"{self.rss_mb(process.pid):.0f}"
            self.tag_move(f)
            self.status_only(f)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            self.teardown()
        return f

    def log(self) -> str:
        return (self.tmp / "controller.log").read_text(errors="replace")

    def write_base(self, change: Any) -> None:
        for _ in range(10):
            stream = self.kube.image_streams.get(self.ns, "base")
            change(stream)
            try:
                self.kube.image_streams.replace_status(stream)
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("could not write the base stream")

    def tag_move(self, f: dict[str, str]) -> None:
        args = self.args
        expected = len([i for i in range(args.n) if i % args.tags == args.move % args.tags])
        before_builds = self.builds()
        before = self.counts()
        self.serial += 1
        serial = self.serial

        def move(stream: ImageStream) -> None:
            for named in stream.status.tags:
                if named.tag == f"v{args.move}":
                    named.items = [self.event(1000 + serial), *(named.items or [])]

        t0 = time.monotonic()
        self.write_base(move)
        last_count, last_time = 0, float("nan")
        while time.monotonic() - t0 < args.move_limit:
            count = sum(self.builds().values()) - sum(before_builds.values())
            if count != last_count:
                last_count, last_time = count, time.monotonic() - t0
            if count >= expected:
                break
            time.sleep(0.2)
        time.sleep(QUIET_SECONDS)  # late duplicates
        after = self.builds()
        new = after - before_builds
        counts = self.counts() - before
        wanted = {f"bc-{i}" for i in range(args.n) if i % args.tags == args.move % args.tags}
        created = sum(new.values())
        f["tag move: builds created (expected)"] = f"{created} ({expected})"
        f["tag move: duplicates"] = str(sum(max(0, c - 1) for bc, c in new.items() if bc in wanted))
        f["tag move: builds of other tags"] = str(
            sum(c for bc, c in new.items() if bc not in wanted)
        )
        f["tag move: seconds to last build"] = f"{last_time:.1f}"
        print(f"[{self.label}] tag move requests: {dict(counts)}", file=sys.stderr)
        per = created or 1
        f["tag move: API requests per build (all)"] = f"{self.requests(counts) / per:.1f}"
        f["tag move: API requests per build (builds, buildconfigs)"] = (
            f"{self.on_builds(counts) / per:.1f}"
        )

    def after_resync(self) -> None:
        """Return just after a resync has queued every BuildConfig and they were reconciled.

        Every resync reconciles every BuildConfig (by design, in both
        checkouts): the status-only window must fall between two of them.
        """
        deadline = time.monotonic() + self.args.resync_seconds * 2 + 10
        last = self.metric("kbuild_reconciles_total", kind="BuildConfig")
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = self.metric("kbuild_reconciles_total", kind="BuildConfig")
            if now - last >= self.args.n * 0.9:
                break
        stable = self.metric("kbuild_reconciles_total", kind="BuildConfig")
        while time.monotonic() < deadline:
            time.sleep(1.0)
            now = self.metric("kbuild_reconciles_total", kind="BuildConfig")
            if now == stable:
                return
            stable = now

    def status_only(self, f: dict[str, str]) -> None:
        self.after_resync()
        before = self.metric("kbuild_reconciles_total", kind="BuildConfig")
        window = max(2.0, self.args.resync_seconds / 2 - 2)

        def condition(stream: ImageStream) -> None:
            for named in stream.status.tags:
                if named.tag == f"v{(self.args.move + 1) % self.args.tags}":
                    named.conditions = [TagEventCondition(
                        type="ImportSuccess", status="False", reason="NotFound",
                        message=f"bench {time.time()}",
                    )]  # fmt: skip

        self.write_base(condition)
        time.sleep(window)
        after = self.metric("kbuild_reconciles_total", kind="BuildConfig")
        f["status-only write: BuildConfig reconciles"] = f"{after - before:.0f}"


def config_of(build: Any) -> str:
    return str((build.metadata.annotations or {}).get("openshift.io/build-config.name", ""))


def worktree(ref: str) -> Path:
    path = Path(tempfile.gettempdir()) / f"kbuild-scale-before-{ref}"
    if not path.exists():
        sh("git", "-C", str(REPO), "worktree", "add", "--detach", str(path), ref)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="BuildConfigs (and extra streams)")
    parser.add_argument("--tags", type=int, default=10, help="tags of the base stream")
    parser.add_argument("--move", type=int, default=3, help="the tag moved: base:vMOVE")
    parser.add_argument("--resync-seconds", type=int, default=20)
    parser.add_argument("--resyncs", type=int, default=3)
    parser.add_argument("--settle-limit", type=float, default=900.0)
    parser.add_argument("--move-limit", type=float, default=300.0)
    parser.add_argument("--port", type=int, default=5161, help="metrics port (and the next)")
    parser.add_argument("--before", metavar="REF", help="also run a worktree of REF, first")
    args = parser.parse_args()
    runs: list[tuple[str, Path]] = []
    if args.before:
        runs.append((f"before ({args.before})", worktree(args.before)))
    runs.append(("after (this checkout)", REPO))
    results: list[tuple[str, dict[str, str]]] = []
    for index, (label, src) in enumerate(runs):
        tag = "before" if label.startswith("before") else "after"
        print(f"running {label} ...", file=sys.stderr)
        results.append((label, Scenario(args, tag, src, args.port + index).run()))
    keys = list(results[-1][1])
    width = max(len(k) for k in keys)
    print(
        f"\nN={args.n} BuildConfigs on {args.tags} tags of one base stream, {args.n} more "
        f"streams, ResourceQuota pods=0, resync {args.resync_seconds}s\n"
    )
    header = " | ".join(label for label, _ in results)
    print(f"| {'figure'.ljust(width)} | {header} |")
    print(f"|{'-' * (width + 2)}|" + "|".join("-" * (len(lbl) + 2) for lbl, _ in results) + "|")
    for key in keys:
        cells = " | ".join(r.get(key, "-").rjust(len(lbl)) for lbl, r in results)
        print(f"| {key.ljust(width)} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
