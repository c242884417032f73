"""Client-side start-up of ``kbuild`` verbs, against ``python -c pass`` in the same run.

Prints figures; asserts nothing (a benchmark is never a timed test).  Each
command runs ``--runs`` times as a fresh process and the minimum and median
wall times are shown, with the baseline subtracted: the minimum is the
figure to compare (the machine is shared, and noise only ever adds time).

``kbuild get is`` is pointed at a kubeconfig whose server is a local port
where nothing listens (``--port``, default 5159), so the time is the
client's own: imports, parsing, the kubeconfig, and one refused connection.
The "served" rows point it at a stub API server in this process that answers
at once with a list of five image streams (or BuildConfigs) shaped as the
API server sends them: the whole client-side cost of a real ``get``,
reading, validating and printing included.

    python bench/cli_startup.py                  # this checkout
    python bench/cli_startup.py --src /work/main # another checkout, to compare
    python bench/cli_startup.py --imports        # also the slowest imports of `get`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster: {{server: "http://127.0.0.1:{port}"}}
contexts:
- name: bench
  context: {{cluster: bench, user: bench, namespace: bench}}
current-context: bench
users:
- name: bench
  user: {{token: bench}}
"""


def _stream(i: int) -> dict[str, object]:
    meta = {"name": f"app-{i}", "namespace": "bench", "uid": f"u{i}", "resourceVersion": str(i),
            "creationTimestamp": "2026-12-01T10:00:00Z"}  # fmt: skip
    image = f"registry.bench/bench/app-{i}@sha256:{'a' * 64}"
    return {
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": meta,
        "spec": {"lookupPolicy": {"local": False},
                 "tags": [{"name": "latest", "from": {"kind": "DockerImage", "name": "x:1"}}]},
        "status": {"dockerImageRepository": f"registry.bench/bench/app-{i}",
                   "tags": [{"tag": "latest", "items": [{"created": "2026-12-01T10:00:00Z",
                             "dockerImageReference": image, "image": f"sha256:{'a' * 64}",
                             "generation": 1}]}]},
    }  # fmt: skip


def _build_config(i: int) -> dict[str, object]:
    meta = {"name": f"app-{i}", "namespace": "bench", "uid": f"b{i}", "resourceVersion": str(i),
            "creationTimestamp": "2026-12-01T10:00:00Z"}  # fmt: skip
    return {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig", "metadata": meta,
        "spec": {"source": {"git": {"uri": f"https://git.bench/app-{i}.git"}},
                 "strategy": {"sourceStrategy": {"from": {"kind": "ImageStreamTag",
                                                          "name": "python:3.11"}}},
                 "output": {"to": {"kind": "ImageStreamTag", "name": f"app-{i}:latest"}},
                 "triggers": [{"type": "ConfigChange"}]},
        "status": {"lastVersion": 3},
    }  # fmt: skip


LISTS = {"imagestreams": _stream, "buildconfigs": _build_config}


class _StubApi(BaseHTTPRequestHandler):
    """Answers a list of five objects of the kind the path names; 404 otherwise."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        plural = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        make = LISTS.get(plural)
        body = json.dumps(
            {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "9"},
             "items": [make(i) for i in range(5)]} if make else {"kind": "Status", "code": 404}
        ).encode()  # fmt: skip
        self.send_response(200 if make else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def timed(argv: list[str], env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def slowest_imports(argv: list[str], env: dict[str, str], cwd: Path, count: int) -> list[str]:
    proc = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        if depth <= 1:
            rows.append((int(cumulative_us), name.strip()))
    rows.sort(reverse=True)
    return [f"{us / 1000:8.1f} ms  {name}" for us, name in rows[:count]]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", type=Path, default=REPO, help="checkout whose builder/ is run")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--port", type=int, default=5159, help="a local port where nothing listens")
    p.add_argument("--imports", action="store_true", help="print the slowest imports of get")
    args = p.parse_args()

    src = args.src.resolve()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="kbuild-bench-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        kubeconfig.write_text(KUBECONFIG.format(port=args.port))
        served = Path(tmp) / "served"
        served.write_text(KUBECONFIG.format(port=server.server_address[1]))
        served_env = {"KUBECONFIG": str(served)}
        env = {
            **os.environ,
            "PYTHONPATH": str(src),
            "KUBECONFIG": str(kubeconfig),
            "PYTHONDONTWRITEBYTECODE": "",
        }
        env.pop("KUBERNETES_SERVICE_HOST", None)
        kbuild = [sys.executable, "-m", "builder.cli.main"]
        commands = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
            ("kbuild get --help", [*kbuild, "get", "--help"]),
            ("kbuild get is (refused connection)", [*kbuild, "get", "is"]),
            ("kbuild -n x get bc (refused connection)", [*kbuild, "-n", "x", "get", "bc"]),
            ("kbuild get is (served, 5 streams)", [*kbuild, "get", "is"], served_env),
            ("kbuild get bc (served, 5 BuildConfigs)", [*kbuild, "get", "bc"], served_env),
            ("kbuild --help (every verb loaded)", [*kbuild, "--help"]),
        ]
        # one warm-up run so that bytecode caches exist
        for _, argv, *extra in commands:
            timed(argv, {**env, **(extra[0] if extra else {})}, src, 1)
        print(f"source: {src}  runs: {args.runs}  python: {sys.version.split()[0]}")
        print(f"{'command':44} {'min':>8} {'median':>8} {'min - baseline':>15}")
        baseline = 0.0
        for label, argv, *extra in commands:
            times = timed(argv, {**env, **(extra[0] if extra else {})}, src, args.runs)
            low, mid = min(times), statistics.median(times)
            if not baseline:
                baseline = low
            print(f"{label:44} {low:7.3f}s {mid:7.3f}s {low - baseline:14.3f}s")
        if args.imports:
            print("\nslowest top-level imports of `kbuild get is` (served; cumulative):")
            for row in slowest_imports(commands[4][1], {**env, **served_env}, src, 12):
                print(row)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
