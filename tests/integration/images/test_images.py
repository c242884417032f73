"""The images built by images/build.sh, checked in a real registry.

Set ``KBUILD_TEST_IMAGES_REGISTRY=HOST:PORT`` (plain HTTP unless
``KBUILD_TEST_REGISTRY_TLS_VERIFY=true``); without it these tests skip. The
module first runs ``images/build.sh`` against that registry, so the images
checked are the ones the current recipes make: with unchanged inputs that is
a cache hit of about a second, after a change it is a real build (as root,
minutes when cold). A failing build fails the tests.

Images are read with skopeo, run with buildah (chroot isolation) or podman,
each with private storage under the test's temporary directory, so nothing is
left in the machine's container storage. The build pod checks use podman
because its default capability set (no CAP_SYS_ADMIN) is what a Kubernetes
pod gets; buildah's chroot runs keep the caller's capabilities.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tarfile
import textwrap
import time
import urllib.request
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
NETNS_SH = REPO / "hack" / "netns.sh"
# hack/test.sh starts a throw-away registry and sets this; by hand, any plain
# HTTP registry will do (KBUILD_TEST_REGISTRY is the older name).
REGISTRY = os.environ.get("KBUILD_TEST_IMAGES_REGISTRY") or os.environ.get(
    "KBUILD_TEST_REGISTRY", ""
)
TLS_VERIFY = os.environ.get("KBUILD_TEST_REGISTRY_TLS_VERIFY", "false").lower() == "true"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not REGISTRY,
        reason="KBUILD_TEST_IMAGES_REGISTRY is not set: start a registry (hack/registry.sh "
        "start) and set KBUILD_TEST_IMAGES_REGISTRY=127.0.0.1:5000 (hack/test.sh does both)",
    ),
]

BASE = f"{REGISTRY}/kbuild/base:bookworm"
S2I = f"{REGISTRY}/kbuild/s2i-python:3.11"
S2I_LATEST = f"{REGISTRY}/kbuild/s2i-python:latest"
NODEJS = f"{REGISTRY}/kbuild/s2i-nodejs:18"
BUILDPOD = f"{REGISTRY}/kbuild/buildpod:latest"
SCRIPTS = ("assemble", "run", "save-artifacts", "usage")
HASH_LABEL = "io.kbuild.inputs-hash"
# podman's default rlimits are above what some sandboxes let a process set;
# lowering a limit is always allowed.
ULIMITS = ("--ulimit", "nofile=8192:8192", "--ulimit", "nproc=8192:8192")
# vfs copies the whole image for every container (seconds per run); overlay
# is instant but needs root (or fuse-overlayfs) for the private storage.
STORAGE_DRIVER = "overlay" if os.geteuid() == 0 else "vfs"


def _tls() -> str:
    return f"--tls-verify={'true' if TLS_VERIFY else 'false'}"


def _run(argv: Sequence[str], *, timeout: float = 600, check: bool = True) -> Any:
    done = subprocess.run(list(argv), capture_output=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {done.returncode}\n"
            f"stdout: {done.stdout.decode(errors='replace')[-3000:]}\n"
            f"stderr: {done.stderr.decode(errors='replace')[-3000:]}"
        )
    return done


def _require(*tools: str) -> None:
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        pytest.fail(f"missing tools: {', '.join(missing)} (apt-get install them)", pytrace=False)


def _inspect(reference: str, *extra: str) -> dict[str, Any]:
    _require("skopeo")
    done = _run(["skopeo", "inspect", _tls(), *extra, f"docker://{reference}"], check=False)
    if done.returncode != 0:
        pytest.fail(
            f"{reference} not readable after images/build.sh: "
            f"{done.stderr.decode(errors='replace').strip()}",
            pytrace=False,
        )
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def _config(reference: str) -> dict[str, Any]:
    config: dict[str, Any] = _inspect(reference, "--config")["config"]
    return config


@pytest.fixture(scope="module", autouse=True)
def built_images() -> None:
    _require("buildah", "skopeo", "debootstrap")
    done = _run(
        [
            "bash",
            str(REPO / "images" / "build.sh"),
            *("--registry", REGISTRY, _tls()),
            *("base", "s2i-python", "s2i-nodejs", "buildpod"),
        ],
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"images/build.sh failed:\n{done.stderr.decode(errors='replace')[-4000:]}",
            pytrace=False,
        )


@dataclass
class Buildah:
    """buildah with private storage; runs use chroot isolation."""

    root: Path

    def argv(self, *args: str) -> list[str]:
        return [
            "buildah",
            *("--root", str(self.root / "storage"), "--runroot", str(self.root / "run")),
            *("--storage-driver", STORAGE_DRIVER),
            *args,
        ]

    def __call__(self, *args: str, timeout: float = 600, check: bool = True) -> Any:
        return _run(self.argv(*args), timeout=timeout, check=check)

    def run(
        self,
        image: str,
        argv: Sequence[str],
        *,
        user: str | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> Any:
        container = self("from", _tls(), image).stdout.decode().strip().splitlines()[-1]
        try:
            opts = ["--isolation", "chroot"]
            if user:
                opts += ["--user", user]
            for name, value in (env or {}).items():
                opts += ["--env", f"{name}={value}"]
            return self("run", *opts, container, "--", *argv, check=check)
        finally:
            self("rm", container, check=False)


@pytest.fixture(scope="module")
def buildah(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Buildah]:
    _require("buildah")
    tool = Buildah(tmp_path_factory.mktemp("images-buildah"))
    yield tool
    tool("rm", "--all", check=False)
    tool("rmi", "--all", "--force", check=False)
    shutil.rmtree(tool.root, ignore_errors=True)


def _netns(command: str) -> int:
    """``hack/netns.sh COMMAND``: is /run/netns bound over itself, undo that bind."""
    return subprocess.run(["bash", str(NETNS_SH), command], check=False).returncode


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require("podman")
    # podman's bind hides the network namespaces a test cluster on this
    # machine mounted before it, so their pods cannot be deleted until it
    # goes (docs/build-pod.md): take away the one these tests made.
    bound_before = _netns("self-bound") == 0
    root = tmp_path_factory.mktemp("images-podman")
    base = ["podman", "--root", str(root / "storage"), "--runroot", str(root / "run")]
    base += ["--storage-driver", STORAGE_DRIVER]

    def podman_run(*args: str, timeout: float = 600, check: bool = True) -> Any:
        return _run([*base, "run", "--rm", _tls(), *ULIMITS, *args], timeout=timeout, check=check)

    yield podman_run
    _run([*base, "rmi", "--all", "--force"], check=False)
    shutil.rmtree(root, ignore_errors=True)
    if not bound_before:
        _netns("unbind")


# --------------------------------------------------------------------------
# Registry contents and metadata


@pytest.mark.parametrize("reference", [BASE, S2I, S2I_LATEST, BUILDPOD])
def test_every_tag_is_labelled_with_its_inputs_hash(reference: str) -> None:
    labels = _inspect(reference)["Labels"]
    assert re.fullmatch(r"[0-9a-f]{64}", labels.get(HASH_LABEL, "")), labels


def test_s2i_python_tags_point_at_the_same_image() -> None:
    assert _inspect(S2I)["Digest"] == _inspect(S2I_LATEST)["Digest"]


def test_base_is_one_small_layer() -> None:
    manifest = _inspect(BASE, "--raw")
    layers = manifest["layers"]
    assert len(layers) == 1
    # debootstrap minbase + ca-certificates compresses to ~32 MB; 50 MB means
    # something (package caches, docs, apt lists) leaked into the image.
    assert layers[0]["size"] < 50 * 1024 * 1024, layers


def test_s2i_python_metadata_follows_the_builder_conventions() -> None:
    config = _config(S2I)
    labels = config["Labels"]
    assert labels["io.openshift.s2i.scripts-url"] == "image:///usr/libexec/s2i"
    assert labels["io.openshift.expose-services"] == "8080:http"
    assert labels["io.openshift.tags"] == "builder,python,python3"
    assert "Python 3.11" in labels["io.k8s.display-name"]
    assert labels["io.k8s.description"].strip()
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["APP_ROOT"] == "/opt/app-root"
    assert env["HOME"] == "/opt/app-root/src"
    assert env["PATH"].split(":")[0] == "/opt/app-root/bin"
    assert "/usr/bin" in env["PATH"].split(":")
    assert env["STI_SCRIPTS_PATH"] == "/usr/libexec/s2i"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert config["User"] == "1001"
    assert config["WorkingDir"] == "/opt/app-root/src"
    assert set(config["ExposedPorts"]) == {"8080/tcp"}
    assert config["Cmd"] == ["/usr/libexec/s2i/usage"]


def test_buildpod_metadata() -> None:
    config = _config(BUILDPOD)
    assert config["User"] == "1000"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["BUILDAH_ISOLATION"] == "chroot"


# --------------------------------------------------------------------------
# base


def test_base_has_sane_accounts_certificates_and_no_caches(buildah: Buildah) -> None:
    script = textwrap.dedent(
        """
        set -e
        head -n1 /etc/passwd
        grep -c . /etc/ssl/certs/ca-certificates.crt
        ls /var/lib/apt/lists | wc -l
        ls /var/cache/apt/archives | grep -c '\\.deb$' || true
        cat /etc/apt/sources.list.d/debian.sources | grep -c '^Suites:'
        """
    )
    out = buildah.run(BASE, ["sh", "-c", script]).stdout.decode().split()
    root_entry, cert_lines, lists, debs, suites = out
    assert root_entry.split(":") == ["root", "x", "0", "0", "root", "/root", "/bin/bash"]
    assert int(cert_lines) > 1000
    assert lists == "0"
    assert debs == "0"
    assert suites == "2"


# --------------------------------------------------------------------------
# s2i-python


def test_s2i_scripts_are_executable_and_python_is_debians(buildah: Buildah) -> None:
    checks = " && ".join(f"test -x /usr/libexec/s2i/{name}" for name in SCRIPTS)
    out = buildah.run(
        S2I,
        [
            "sh",
            "-c",
            f"{checks} && python3 -c 'import sys; print(sys.version_info[:2])' "
            "&& readlink -f /usr/bin/python3 && python -c 'import sys; print(sys.prefix)' "
            "&& id -u && stat -c '%u:%g %A' /opt/app-root /opt/app-root/src",
        ],
    ).stdout.decode()
    lines = out.splitlines()
    assert lines[0] == "(3, 11)"
    assert lines[1] == "/usr/bin/python3.11"
    assert lines[2] == "/opt/app-root"
    assert lines[3] == "1001"
    for line in lines[4:6]:
        owner, mode = line.split()
        assert owner == "1001:0"
        # group rwx; "s" is x plus setgid, which keeps new files in group 0
        assert mode[4:6] == "rw" and mode[6] in "xs", line


def test_s2i_image_is_writable_by_an_arbitrary_uid_in_group_0(buildah: Buildah) -> None:
    # OpenShift runs images as a random UID with group 0: the venv and the app
    # dir must accept new files from it.
    out = buildah.run(
        S2I,
        [
            "sh",
            "-c",
            "touch /opt/app-root/src/probe /opt/app-root/lib/python3.11/site-packages/probe.py "
            "&& id -u",
        ],
        user="1000470000:0",
    ).stdout.decode()
    assert out.strip() == "1000470000"


def test_usage_is_the_default_command_and_explains_the_image(buildah: Buildah) -> None:
    out = buildah.run(S2I, ["/usr/libexec/s2i/usage"]).stdout.decode()
    assert "APP_MODULE" in out
    assert "requirements.txt" in out


def _tar_members(data: bytes) -> dict[str, bytes | None]:
    members: dict[str, bytes | None] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive.getmembers():
            extracted = archive.extractfile(member) if member.isfile() else None
            members[member.name] = extracted.read() if extracted else None
    return members


def test_save_artifacts_writes_only_a_tar_of_the_pip_cache(buildah: Buildah) -> None:
    marker = secrets.token_hex(8)
    done = buildah.run(
        S2I,
        [
            "sh",
            "-c",
            f'mkdir -p "$PIP_CACHE_DIR/http/x" && echo {marker} > "$PIP_CACHE_DIR/http/x/entry" '
            "&& /usr/libexec/s2i/save-artifacts",
        ],
    )
    members = _tar_members(done.stdout)
    assert members["pip-cache/http/x/entry"] == f"{marker}\n".encode()
    assert all(name.startswith("pip-cache") for name in members), sorted(members)


def test_save_artifacts_with_no_cache_is_still_a_valid_tar(buildah: Buildah) -> None:
    done = buildah.run(
        S2I, ["sh", "-c", 'rm -rf "$PIP_CACHE_DIR" && /usr/libexec/s2i/save-artifacts']
    )
    assert done.stdout, "save-artifacts must always write a tar stream"
    assert _tar_members(done.stdout) == {}


def test_run_refuses_app_module_without_gunicorn(buildah: Buildah) -> None:
    done = buildah.run(
        S2I, ["/usr/libexec/s2i/run"], env={"APP_MODULE": "app:application"}, check=False
    )
    assert done.returncode != 0
    assert b"gunicorn is not installed" in done.stdout + done.stderr


def test_run_without_an_app_fails_with_guidance(buildah: Buildah) -> None:
    done = buildah.run(S2I, ["/usr/libexec/s2i/run"], check=False)
    assert done.returncode != 0
    assert b"don't know how to start" in done.stdout + done.stderr


def _wheel(name: str, version: str, module_source: str) -> tuple[str, bytes]:
    """A pure-Python wheel, written by hand so the test needs no build backend or index."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": module_source.encode(),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        ),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: kbuild-test\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return f"{name}-{version}-py3-none-any.whl", buffer.getvalue()


APP_PY = textwrap.dedent(
    """
    import http.server
    import os

    import greeting


    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = greeting.text().encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


    http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
    """
)


def _s2i_dockerfile(builder: str, *, with_artifacts: bool) -> str:
    # The shape OpenShift 4 renders for a Source build (see DESIGN.md).
    lines = [
        f"FROM {builder}",
        "ENV PIP_NO_INDEX=1",
        "COPY --chown=1001:0 upload/src /tmp/src",
    ]
    if with_artifacts:
        lines.append("COPY --chown=1001:0 upload/artifacts /tmp/artifacts")
    lines += ["USER 1001", "RUN /usr/libexec/s2i/assemble", 'CMD ["/usr/libexec/s2i/run"]']
    return "\n".join(lines) + "\n"


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else b""
            raise AssertionError(f"app exited {proc.returncode}: {output.decode(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
                body: bytes = response.read()
                return body
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"app did not answer on {url} within {timeout}s")


def test_source_build_assembles_runs_and_reuses_artifacts(buildah: Buildah, tmp_path: Path) -> None:
    """An OpenShift-shaped Dockerfile over the builder: assemble installs
    requirements.txt, run serves app.py, and an incremental build restores
    the pip cache that save-artifacts exported."""
    builder = f"{REGISTRY}/kbuild/s2i-python@{_inspect(S2I)['Digest']}"
    context = tmp_path / "context"
    src = context / "upload" / "src"
    (src / "wheels").mkdir(parents=True)
    wheel_name, wheel = _wheel("greeting", "1.0", "def text():\n    return 'hello from s2i'\n")
    (src / "wheels" / wheel_name).write_bytes(wheel)
    (src / "requirements.txt").write_text(f"./wheels/{wheel_name}\n")
    (src / "app.py").write_text(APP_PY)
    (context / "Dockerfile").write_text(_s2i_dockerfile(builder, with_artifacts=False))
    app_image = f"localhost/kbuild-test/s2i-app:{secrets.token_hex(4)}"
    buildah("bud", _tls(), "--isolation=chroot", "--layers=false", "-t", app_image, str(context))

    port = _free_port()
    container = buildah("from", app_image).stdout.decode().strip().splitlines()[-1]
    # The run script binds 0.0.0.0:$PORT; chroot isolation shares the host
    # network, so a free port keeps parallel runs apart.
    proc = subprocess.Popen(
        buildah.argv(
            *("run", "--isolation", "chroot", "--env", f"PORT={port}"),
            *(container, "--", "/usr/libexec/s2i/run"),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/", proc) == b"hello from s2i"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        buildah("rm", container, check=False)

    # Incremental build: what save-artifacts exports from the first app image
    # comes back as /tmp/artifacts and must land in the new image's cache.
    marker = secrets.token_hex(8)
    exported = buildah.run(
        app_image,
        [
            "sh",
            "-c",
            f'mkdir -p "$PIP_CACHE_DIR/wheels/t" && echo {marker} > "$PIP_CACHE_DIR/wheels/t/m" '
            "&& /usr/libexec/s2i/save-artifacts",
        ],
    ).stdout
    artifacts = context / "upload" / "artifacts"
    artifacts.mkdir()
    with tarfile.open(fileobj=io.BytesIO(exported), mode="r:") as archive:
        members = archive.getmembers()
        for member in members:
            assert member.isdir() or member.isfile(), member.name
            assert not member.name.startswith("/") and ".." not in member.name.split("/")
        archive.extractall(artifacts, members=members)  # noqa: S202 - members checked above
    (context / "Dockerfile").write_text(_s2i_dockerfile(builder, with_artifacts=True))
    second = f"{app_image}-incremental"
    build_log = buildah(
        "bud", _tls(), "--isolation=chroot", "--layers=false", "-t", second, str(context)
    )
    assert b"Restoring pip cache" in build_log.stdout + build_log.stderr
    restored = buildah.run(second, ["sh", "-c", 'cat "$PIP_CACHE_DIR/wheels/t/m"'])
    assert restored.stdout.decode().strip() == marker
    buildah("rmi", app_image, second, check=False)


# --------------------------------------------------------------------------
# s2i-nodejs

SERVER_JS = textwrap.dedent(
    """
    const http = require("http");
    const greeting = require("./lib/greeting");
    http.createServer((req, res) => res.end(greeting()))
        .listen(Number(process.env.PORT), "0.0.0.0");
    """
)


def test_s2i_nodejs_metadata_and_node_is_debians(buildah: Buildah) -> None:
    config = _config(NODEJS)
    labels = config["Labels"]
    assert labels["io.openshift.s2i.scripts-url"] == "image:///usr/libexec/s2i"
    assert labels["io.openshift.tags"] == "builder,nodejs,nodejs18"
    assert config["User"] == "1001"
    assert set(config["ExposedPorts"]) == {"8080/tcp"}
    checks = " && ".join(f"test -x /usr/libexec/s2i/{name}" for name in SCRIPTS)
    out = buildah.run(
        NODEJS,
        [
            "sh",
            "-c",
            f"{checks} && node -p process.versions.node && readlink -f $(command -v node)",
        ],
    ).stdout.decode()
    version, path = out.split()
    assert version.startswith("18.")
    assert path == "/usr/bin/node"  # Debian's, not a copy


def test_s2i_nodejs_assembles_and_runs_npm_start(buildah: Buildah, tmp_path: Path) -> None:
    """The OpenShift-shaped Dockerfile over the builder: assemble runs npm, run starts the app."""
    builder = f"{REGISTRY}/kbuild/s2i-nodejs@{_inspect(NODEJS)['Digest']}"
    context = tmp_path / "context"
    src = context / "upload" / "src"
    (src / "lib").mkdir(parents=True)
    (src / "lib" / "greeting.js").write_text('module.exports = () => "hello from node";\n')
    (src / "server.js").write_text(SERVER_JS)
    (src / "package.json").write_text(
        json.dumps({"name": "t", "version": "1.0.0", "scripts": {"start": "node server.js"}})
    )
    (context / "Dockerfile").write_text(
        f"FROM {builder}\nENV NPM_CONFIG_OFFLINE=true\n"
        "COPY --chown=1001:0 upload/src /tmp/src\nUSER 1001\n"
        'RUN /usr/libexec/s2i/assemble\nCMD ["/usr/libexec/s2i/run"]\n'
    )
    app_image = f"localhost/kbuild-test/node-app:{secrets.token_hex(4)}"
    log = buildah(
        "bud", _tls(), "--isolation=chroot", "--layers=false", "-t", app_image, str(context)
    )
    assert b"npm install" in log.stdout + log.stderr
    port = _free_port()
    container = buildah("from", app_image).stdout.decode().strip().splitlines()[-1]
    proc = subprocess.Popen(
        buildah.argv(
            *("run", "--isolation", "chroot", "--env", f"PORT={port}"),
            *(container, "--", "/usr/libexec/s2i/run"),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/", proc) == b"hello from node"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        buildah("rm", container, check=False)
        buildah("rmi", app_image, check=False)


def test_s2i_nodejs_run_without_an_app_fails_with_guidance(buildah: Buildah) -> None:
    done = buildah.run(NODEJS, ["/usr/libexec/s2i/run"], check=False)
    assert done.returncode != 0
    assert b"nothing to run" in done.stdout + done.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------
# buildpod


def test_buildpod_runs_buildah_and_kbuild_as_uid_1000(podman: Any) -> None:
    out = podman(
        "--user",
        "1000",
        BUILDPOD,
        "sh",
        "-c",
        "id -u && buildah --version && kbuild --help >/dev/null && echo kbuild-ok "
        "&& grep '^build:' /etc/subuid /etc/subgid && getcap /usr/bin/newuidmap /usr/bin/newgidmap",
    ).stdout.decode()
    lines = out.splitlines()
    assert lines[0] == "1000"
    assert lines[1].startswith("buildah version ")
    assert "kbuild-ok" in lines
    assert any(line.startswith("/etc/subuid:build:") for line in lines)
    assert any(line.startswith("/etc/subgid:build:") for line in lines)
    assert "/usr/bin/newuidmap cap_setuid=ep" in lines
    assert "/usr/bin/newgidmap cap_setgid=ep" in lines


def test_buildpod_builds_a_dockerfile_with_run_steps_rootless(podman: Any, tmp_path: Path) -> None:
    """uid 1000, default capabilities (no CAP_SYS_ADMIN), not privileged:
    buildah must get a full subordinate ID range (a chown to 1001 fails with
    the single-ID fallback) and push the result.

    buildah's store is a volume, as the build pod's emptyDir: kernel overlay
    (the image's driver) refuses the container's own overlayfs root."""
    base = f"{REGISTRY}/kbuild/base@{_inspect(BASE)['Digest']}"
    target = f"{REGISTRY}/kbuild-test/rootless-bud:{secrets.token_hex(4)}"
    script = textwrap.dedent(
        f"""
        set -eu
        mkdir -p /tmp/ctx
        cat > /tmp/ctx/Dockerfile <<'EOF'
        FROM {base}
        RUN cat /proc/self/uid_map && echo built > /built && chown 1001:0 /built
        USER 1001
        RUN test "$(id -u)" = 1001 && test -O /built
        EOF
        buildah bud {_tls()} --layers=false -t {target} /tmp/ctx
        buildah push {_tls()} --digestfile /tmp/digest {target}
        echo "digest=$(cat /tmp/digest)"
        """
    )
    store = tmp_path / "containers"
    store.mkdir()
    os.chown(store, 1000, 0)
    done = podman("--user", "1000", "--network", "host",
                  "-v", f"{store}:/home/build/.local/share/containers",
                  BUILDPOD, "bash", "-c", script)  # fmt: skip
    output = done.stdout.decode() + done.stderr.decode()
    assert "Falling back to single mapping" not in output, output
    assert re.search(r"^\s*1\s+100000\s+65536\s*$", output, re.MULTILINE), output
    digest = re.search(r"^digest=(sha256:[0-9a-f]{64})$", output, re.MULTILINE)
    assert digest, output
    assert _inspect(target)["Digest"] == digest.group(1)
    _run(["skopeo", "delete", _tls(), f"docker://{target}"], check=False)
