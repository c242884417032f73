"""Benchmark: ``kbuild build`` against plain buildah on the same Dockerfile.

What it measures: the overhead kbuild adds around buildah (git fetch, reading
the builder's config from the registry, rendering, digest bookkeeping).  The
baseline is ``buildah bud`` + ``buildah push`` of the very Dockerfile and
context kbuild renders (``--as-dockerfile``), so both sides do identical
image work.  Runs alternate between the two to share any machine drift, and
the script prints every run, the medians and their ratio (target <= 1.15).

    python bench/local_build.py --registry 127.0.0.1:5050 [--runs 5]

The registry must hold ``kbuild/s2i-python:3.11`` (``images/build.sh``).

buildah's own time swings by 10-20 % from run to run on these machines (1.7
to 2.7 s for the same build), several times what kbuild adds, so the two
ratios above need many runs to settle.  The script also times kbuild's own
part directly: during kbuild's runs a shim named ``buildah`` comes first on
PATH and records when each real buildah call starts and ends (bash's
``$EPOCHREALTIME``, no extra process); kbuild's time minus the time inside
those calls is what kbuild itself spent, the shim's own start-up (~3 ms per
call) included.  Its median, over the plain side's median, is the third ratio.

kbuild runs as a user's ``pip install`` leaves it: the wheel installed in a
venv of its own (its dependencies are read from this interpreter's
site-packages), not the checkout's editable install, whose import hook
alone costs ~0.02 s per start.  ``--kbuild PATH`` measures another one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def sh(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, check=False, capture_output=True, text=True)
    if done.returncode != 0:  # the command's own words, not a traceback
        sys.exit(f"bench: {' '.join(argv)} failed ({done.returncode}):\n{done.stderr.strip()}")
    return done.stdout.strip()


def installed_kbuild(tmp: Path) -> str:
    """Install this checkout's wheel in a new venv and return its ``kbuild``."""
    wheels, venv = tmp / "wheels", tmp / "venv"
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
       "-w", str(wheels), str(REPO))  # fmt: skip
    sh(sys.executable, "-m", "venv", "--without-pip", str(venv))
    sh(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
       "--no-deps", "-q", *map(str, wheels.glob("*.whl")))  # fmt: skip
    # The dependencies as plain path entries: a .pth line is not a site
    # directory, so the .pth files there (the editable hook's) do not run.
    site = next(venv.glob("lib/python*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages")]
    (site / "bench-dependencies.pth").write_text("\n".join(ours) + "\n")
    return str(venv / "bin" / "kbuild")


SHIM = """#!/bin/bash
began=$EPOCHREALTIME
"$KBUILD_BENCH_REAL_BUILDAH" "$@"
status=$?
echo "$began $EPOCHREALTIME" >> "$KBUILD_BENCH_BUILDAH_LOG"
exit $status
"""


def inside_buildah(log: Path) -> float:
    """Seconds the shim saw buildah run, summed over its calls; the log is emptied."""
    spans = [line.split() for line in log.read_text().splitlines() if line.strip()]
    log.write_text("")
    return sum(float(end) - float(start) for start, end in spans)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registry", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--kbuild", help="the kbuild to measure (default: this checkout, installed)")
    args = ap.parse_args()
    registry = args.registry
    builder = f"{registry}/kbuild/s2i-python:3.11"

    with tempfile.TemporaryDirectory(prefix="kbuild-bench-") as tmp:
        kbuild = args.kbuild or installed_kbuild(Path(tmp))
        print(f"kbuild: {kbuild}")
        src = Path(tmp) / "app"
        shutil.copytree(REPO / "examples" / "python-hello", src)
        sh("git", "init", "-q", "-b", "main", cwd=src)
        sh("git", "add", "-A", cwd=src)
        sh("git", "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "bench", cwd=src)
        rendered = Path(tmp) / "rendered" / "Dockerfile"
        sh(kbuild, "build", str(src), "--builder", builder, "--insecure-registry", registry,
           "--as-dockerfile", str(rendered))  # fmt: skip
        # Warm-up: both sides find the builder image in local storage afterwards.
        sh("buildah", "pull", "--tls-verify=false", builder)

        shim_dir, shim_log = Path(tmp) / "shim", Path(tmp) / "buildah-calls.log"
        shim_dir.mkdir()
        (shim_dir / "buildah").write_text(SHIM)
        (shim_dir / "buildah").chmod(0o755)
        shim_log.write_text("")
        real = shutil.which("buildah")
        if real is None:
            sys.exit("buildah is not on PATH")
        shimmed = {
            **os.environ,
            "PATH": f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "KBUILD_BENCH_REAL_BUILDAH": real,
            "KBUILD_BENCH_BUILDAH_LOG": str(shim_log),
        }

        kbuild_times: list[float] = []
        buildah_times: list[float] = []
        own_times: list[float] = []

        def kbuild_build(argv: list[str]) -> float:
            began = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=shimmed)
            took = time.perf_counter() - began
            own_times.append(took - inside_buildah(shim_log))
            return took

        def plain_build(tag: str) -> float:
            began = time.perf_counter()
            sh("buildah", "bud", "--format", "docker", "--tls-verify=false", "-t", tag,
               "-f", str(rendered), str(rendered.parent))  # fmt: skip
            sh("buildah", "push", "--tls-verify=false", tag, f"docker://{tag}")
            return time.perf_counter() - began

        for run in range(args.runs):
            out = f"{registry}/bench/app:kbuild-{run}"
            kbuild_argv = [kbuild, "build", str(src), "--builder", builder, "--to", out,
                           "--insecure-registry", registry]  # fmt: skip
            plain = f"{registry}/bench/app:buildah-{run}"

            # Which side goes first alternates, so that whatever the previous
            # pair leaves behind (its clean-up's writes, a colder cache) is
            # charged to both sides alike, not always to the first.
            if run % 2 == 0:
                kbuild_times.append(kbuild_build(kbuild_argv))
                buildah_times.append(plain_build(plain))
            else:
                buildah_times.append(plain_build(plain))
                kbuild_times.append(kbuild_build(kbuild_argv))
            first = "kbuild" if run % 2 == 0 else "buildah"
            print(
                f"run {run + 1}: kbuild {kbuild_times[-1]:.2f}s  buildah {buildah_times[-1]:.2f}s"
                f"  kbuild's own {own_times[-1]:.3f}s  ({first} first)"
            )
            # Both images out of the store again, untimed: each run starts
            # from the same store.  The sync keeps the removal's deferred
            # writes out of the next run's time.
            sh("buildah", "rmi", "-f", out, plain)
            sh("buildah", "rmi", "--prune")
            sh("sync")

    k = statistics.median(kbuild_times)
    b = statistics.median(buildah_times)
    # Per pair: the two runs of a pair saw the same machine, so their
    # difference is steadier than the difference of the medians when buildah
    # itself drifts from run to run.
    added = statistics.median(x - y for x, y in zip(kbuild_times, buildah_times, strict=True))
    print(f"median kbuild build:          {k:.2f}s over {args.runs} runs")
    print(f"median buildah bud + push:    {b:.2f}s over {args.runs} runs")
    print(f"median added by kbuild:       {added:.3f}s per run (paired)")
    print(f"ratio kbuild / buildah:       {k / b:.3f}  (target <= 1.15)")
    own = statistics.median(own_times)
    print(f"ratio, paired:                {(b + added) / b:.3f}")
    print(f"median kbuild's own time:     {own:.3f}s per run (outside buildah's calls)")
    print(f"ratio, own time:              {(b + own) / b:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
