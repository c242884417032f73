"""Build tiny images with buildah and push them to a test registry.

Images are built ``FROM scratch`` with one small file, so a build takes well
under a second and needs no base image (nothing can be pulled here).  buildah
runs with its own storage under the helper's directory (vfs driver), so tests
neither see nor leave images in the machine's container storage.

The digest a helper returns is the one buildah itself reports with
``--digestfile``, i.e. an answer independent of the code under test.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class ToolError(RuntimeError):
    """buildah/skopeo failed; the message has the command and its stderr."""


@dataclass(frozen=True)
class PushedImage:
    """An image in a registry: ``reference`` is ``host/repo:tag``."""

    reference: str
    digest: str
    # For a manifest list: platform ("linux/arm64") -> that image's manifest digest.
    members: Mapping[str, str] = field(default_factory=dict)

    @property
    def by_digest(self) -> str:
        return f"{self.reference.rpartition(':')[0]}@{self.digest}"


def tools_available() -> bool:
    return all(shutil.which(tool) for tool in ("buildah", "skopeo"))


def run(argv: Sequence[str], *, input_text: str | None = None) -> str:
    result = subprocess.run(
        list(argv), capture_output=True, text=True, input=input_text, check=False, timeout=300
    )
    if result.returncode != 0:
        raise ToolError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def _platform_of(platform: str) -> tuple[str, str, str | None]:
    parts = platform.split("/")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else None


class ImageBuilder:
    """buildah with private storage in ``workdir``."""

    _counter = itertools.count()

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self._global = [
            "--root", str(workdir / "storage"),
            "--runroot", str(workdir / "run"),
            "--storage-driver", "vfs",
        ]  # fmt: skip

    def buildah(self, *args: str) -> str:
        return run(["buildah", *self._global, *args])

    def build(
        self,
        *,
        labels: Mapping[str, str] | None = None,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        cmd: Sequence[str] | None = None,
        entrypoint: Sequence[str] | None = None,
        workdir: str | None = None,
        ports: Sequence[str] = (),
        files: Mapping[str, bytes] | None = None,
        executable: Sequence[str] = (),
        platform: str = "linux/amd64",
        name: str | None = None,
    ) -> str:
        """Commit a scratch image and return its local name (``localhost/kbuild-test-N``)."""
        image = name or f"localhost/kbuild-test-{next(self._counter)}"
        os_name, arch, variant = _platform_of(platform)
        container = self.buildah("from", "--pull-never", "scratch").strip()
        try:
            content = files if files is not None else {"hello.txt": image.encode()}
            staging = self.workdir / "files" / container
            for index, (path, data) in enumerate(content.items()):
                source = staging / str(index)
                source.parent.mkdir(parents=True, exist_ok=True)
                source.write_bytes(data)
                if path in executable:
                    source.chmod(0o755)
                self.buildah("copy", container, str(source), "/" + path.lstrip("/"))
            config = ["--os", os_name, "--arch", arch]
            if variant:
                config += ["--variant", variant]
            for key, value in (labels or {}).items():
                config += ["--label", f"{key}={value}"]
            for key, value in (env or {}).items():
                config += ["--env", f"{key}={value}"]
            if user is not None:
                config += ["--user", user]
            if cmd is not None:
                config += ["--cmd", json.dumps(list(cmd))]
            if entrypoint is not None:
                config += ["--entrypoint", json.dumps(list(entrypoint))]
            if workdir is not None:
                config += ["--workingdir", workdir]
            for port in ports:
                config += ["--port", port]
            self.buildah("config", *config, container)
            self.buildah("commit", "--quiet", container, image)
        finally:
            self.buildah("rm", container)
        return image

    def push(
        self,
        image: str,
        destination: str,
        *,
        format: str = "oci",
        creds: tuple[str, str] | None = None,
        tls_verify: bool = False,
    ) -> str:
        """Push ``image`` to ``destination`` (``host/repo:tag``); return buildah's digest."""
        digestfile = self.workdir / f"digest-{next(self._counter)}"
        args = [
            "push", "--quiet", f"--tls-verify={str(tls_verify).lower()}",
            "--format", format, "--digestfile", str(digestfile),
        ]  # fmt: skip
        if creds:
            args += ["--creds", f"{creds[0]}:{creds[1]}"]
        self.buildah(*args, image, f"docker://{destination}")
        return digestfile.read_text().strip()

    def build_and_push(
        self,
        destination: str,
        *,
        format: str = "oci",
        creds: tuple[str, str] | None = None,
        tls_verify: bool = False,
        **build: object,
    ) -> PushedImage:
        image = self.build(**build)  # type: ignore[arg-type]
        digest = self.push(image, destination, format=format, creds=creds, tls_verify=tls_verify)
        return PushedImage(destination, digest)

    def push_manifest_list(
        self,
        destination: str,
        platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
        *,
        format: str = "oci",
        creds: tuple[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> PushedImage:
        """Push one image per platform plus a list naming them (``buildah manifest push --all``).

        Each platform's image gets the label ``test.platform=<platform>`` so a
        reader can tell which one it got.
        """
        listname = f"localhost/kbuild-test-list-{next(self._counter)}"
        self.buildah("manifest", "create", listname)
        try:
            for platform in platforms:
                image = self.build(
                    platform=platform,
                    labels={**(labels or {}), "test.platform": platform},
                    files={"platform.txt": platform.encode()},
                )
                self.buildah("manifest", "add", listname, f"containers-storage:{image}")
            digestfile = self.workdir / f"digest-{next(self._counter)}"
            args = [
                "manifest", "push", "--all", "--quiet", "--tls-verify=false",
                "--format", format, "--digestfile", str(digestfile),
            ]  # fmt: skip
            if creds:
                args += ["--creds", f"{creds[0]}:{creds[1]}"]
            self.buildah(*args, listname, f"docker://{destination}")
        finally:
            self.buildah("manifest", "rm", listname)
        digest = digestfile.read_text().strip()
        members = skopeo_list_members(destination, creds=creds)
        return PushedImage(destination, digest, members)


def skopeo_inspect(
    reference: str, *, creds: tuple[str, str] | None = None, raw: bool = False
) -> dict[str, object]:
    """``skopeo inspect`` of a registry image, as an independent second opinion."""
    args = ["skopeo", "inspect", "--tls-verify=false"]
    if raw:
        args.append("--raw")
    if creds:
        args += ["--creds", f"{creds[0]}:{creds[1]}"]
    document: dict[str, object] = json.loads(run([*args, f"docker://{reference}"]))
    return document


def skopeo_list_members(reference: str, *, creds: tuple[str, str] | None = None) -> dict[str, str]:
    """platform -> manifest digest, read from the list as the registry serves it."""
    document = skopeo_inspect(reference, creds=creds, raw=True)
    members: dict[str, str] = {}
    manifests = document.get("manifests")
    if not isinstance(manifests, list):
        raise ToolError(f"{reference} is not a manifest list")
    for entry in manifests:
        platform = entry["platform"]
        key = f"{platform['os']}/{platform['architecture']}"
        if platform.get("variant"):
            key += f"/{platform['variant']}"
        members[key] = entry["digest"]
    return members
