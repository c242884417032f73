"""Client-side start-up of ``kbuild`` verbs, against ``python -c pass`` in the same run.

Prints figures; asserts nothing (a benchmark is never a timed test).  Each
command runs ``--runs`` times as a fresh process and the minimum and median
wall times are shown, with the baseline subtracted: the minimum is the
figure to compare (the machine is shared, and noise only ever adds time).

``kbuild get is`` is pointed at a kubeconfig whose server is a local port
where nothing listens (``--port``, default 5159), so the time is the
client's own: imports, parsing, the kubeconfig, and one refused connection.

    python bench/cli_startup.py                  # this checkout
    python bench/cli_startup.py --src /work/main # another checkout, to compare
    python bench/cli_startup.py --imports        # also the slowest imports of `get`
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
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
    with tempfile.TemporaryDirectory(prefix="kbuild-bench-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        kubeconfig.write_text(KUBECONFIG.format(port=args.port))
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
            ("kbuild --help (every verb loaded)", [*kbuild, "--help"]),
        ]
        # one warm-up run so that bytecode caches exist
        for _, argv in commands:
            timed(argv, env, src, 1)
        print(f"source: {src}  runs: {args.runs}  python: {sys.version.split()[0]}")
        print(f"{'command':44} {'min':>8} {'median':>8} {'min - baseline':>15}")
        baseline = 0.0
        for label, argv in commands:
            times = timed(argv, env, src, args.runs)
            low, mid = min(times), statistics.median(times)
            if not baseline:
                baseline = low
            print(f"{label:44} {low:7.3f}s {mid:7.3f}s {low - baseline:14.3f}s")
        if args.imports:
            print("\nslowest top-level imports of `kbuild get is` (cumulative):")
            for row in slowest_imports(commands[2][1], env, src, 12):
                print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
