"""What each entry point loads at start-up: the heavy modules only where they are used.

A structural check, not a timing: bench/cli_startup.py and bench/local_build.py
print the figures.  pydantic costs ~0.2 s to start (the models ~0.07 s more)
and the ``kubernetes`` client package ~0.45 s; a flag-driven ``kbuild build``
(and each build pod container before it reads its Build) needs neither, and
nothing of kbuild needs the client package at all.  Nor ``requests`` (~0.1 s
with urllib3) or GitPython (~0.08 s): the registry's HTTP is ``http.client``
and git is its command line.  Nor jinja2 (~0.08 s with the template), at all:
the S2I template is rendered by ``builder.s2i.template``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _loaded(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        (
            "import builder.cli.build, builder.pipeline",
            {"pydantic", "kubernetes", "requests", "urllib3", "git", "jinja2"},
        ),
        ("import builder.registry, builder.source", {"requests", "urllib3", "git"}),
        # What ``kbuild build`` loads before it forks its git fetch: the fetch's
        # own modules load in the child, the S2I ones after the fork.
        (
            "import builder.cli.main, builder.cli.build",
            {"builder.source.git", "builder.source.gitcmd", "builder.s2i", "subprocess"},
        ),
        (
            "from builder.s2i import BuilderImage, S2IInputs, render\n"
            "assert 'FROM b' in render(S2IInputs(builder=BuilderImage('b'))).dockerfile",
            {"jinja2", "markupsafe"},
        ),
        # Everything a local build loads defines its value classes as records
        # (builder.record): dataclasses and the inspect it loads cost ~40 ms.
        (
            "import builder.cli.main, builder.cli.build, builder.pipeline.run, builder.buildah, "
            "builder.registry, builder.pipeline.fetch, builder.source.git, "
            "builder.source.s2iignore, builder.dockerfile.rewrite, "
            "builder.pipeline.binary_source, builder.source.archive, builder.source.imagepaths",
            {"dataclasses", "inspect"},
        ),
        # A git build's fetch needs no archive reader, a registry exchange no
        # urllib.request while no variable names a proxy.
        ("import builder.pipeline.fetch", {"tarfile", "zipfile", "builder.source.binary"}),
        (
            "import os\n"
            "for n in [n for n in os.environ if n.lower().endswith('_proxy')]: del os.environ[n]\n"
            "from builder.registry.httpconn import _proxy_for\n"
            "assert _proxy_for('https', 'registry.test') == ''",
            {"urllib.request"},
        ),
        ("import builder.controller.manager", {"requests", "urllib3", "git"}),
        ("import builder.kube", {"pydantic", "kubernetes", "urllib3", "requests"}),
        ("from builder.kube import Kube; Kube(None)", {"pydantic"}),
        ("import builder.controller.manager", {"kubernetes"}),
    ],
)
def test_entry_points_leave_heavy_modules_unloaded(code: str, absent: set[str]) -> None:
    assert _loaded(code) & absent == set()


STUB_GET = """
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        kind = {"builds": "Build", "buildconfigs": "BuildConfig", "imagestreams": "ImageStream"}
        plural = self.path.split("?")[0].rsplit("/", 1)[-1]
        item = {"kind": kind[plural], "metadata": {"name": "app", "namespace": "ns",
                "creationTimestamp": "2026-12-01T10:00:00Z"},
                "status": {"tags": [{"tag": "latest", "items": [
                    {"created": "2026-12-01T10:00:00Z", "image": "sha256:1"}]}]}}
        body = json.dumps({"kind": "List", "items": [item], "metadata": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=server.serve_forever, daemon=True).start()
with open(sys.argv[1], "w") as f:
    f.write("clusters: [{name: s, cluster: {server: 'http://127.0.0.1:%d'}}]\\n"
            "contexts: [{name: c, context: {cluster: s, user: u, namespace: ns}}]\\n"
            "current-context: c\\nusers: [{name: u, user: {token: t}}]\\n"
            % server.server_address[1])
from builder.cli.main import main
status = main(["--kubeconfig", sys.argv[1], *sys.argv[2:]])
print("pydantic" in sys.modules, status)
"""


@pytest.mark.parametrize(
    "argv", [["get", "bc"], ["get", "builds", "-o", "yaml"], ["get", "is", "-A", "--show-labels"]]
)
def test_get_prints_kbuilds_kinds_without_the_models(argv: list[str], tmp_path: Path) -> None:
    """``kbuild get`` reads the JSON: listing never starts pydantic (~0.2 s)."""
    script = tmp_path / "stub_get.py"
    script.write_text(STUB_GET)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "kubeconfig"), *argv],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "app" in out.stdout
    assert out.stdout.splitlines()[-1] == "False 0"
