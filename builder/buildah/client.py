"""buildah, driven as a subprocess: build, push with ``--digestfile``, clean up.

buildah is the only builder because it needs no daemon and runs rootless with
chroot isolation inside an unprivileged pod; the same calls serve the local
one-shot build.  Failures are classified into OpenShift reasons here, since
only this module knows what buildah's messages mean.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.buildah.process import Completed, LogFn, run_streaming
from builder.record import Record, field

_STEP_FAILED = re.compile(
    r'(?:error building at STEP|building at STEP) "(?P<step>[^"]+)": (?P<why>.*)'
)
_PULL_FAILED = re.compile(
    r"(creating build container|error creating build container|initializing source"
    r"|pulling image|manifest unknown|reading manifest|repository name not known"
    r"|name unknown|requested access to the resource is denied)",
    re.IGNORECASE,
)


class BuildahConfig(Record):
    executable: str = "buildah"
    storage_driver: str | None = None
    root: str | None = None
    runroot: str | None = None
    # --storage-opt values, e.g. overlay.imagestore=<dir> (builder.buildah.storage).
    storage_options: tuple[str, ...] = ()
    # chroot in the unprivileged pod; None lets buildah/BUILDAH_ISOLATION decide.
    isolation: str | None = None
    # docker (v2s2) by default: what OpenShift's builder produces and what every
    # registry and runtime accepts; oci is available for those who want it.
    image_format: str = "docker"
    push_retries: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)


class BuildResult(Record):
    image_id: str
    tail: tuple[str, ...]


class PushResult(Record):
    digest: str
    tail: tuple[str, ...]


def _last_error(tail: Sequence[str]) -> str:
    for line in reversed(tail):
        stripped = line.strip()
        if stripped.lower().startswith(("error", "fatal")) or "error:" in stripped.lower():
            return stripped
    for line in reversed(tail):
        if line.strip():
            return line.strip()
    return "no output"


def classify_build_failure(done: Completed) -> BuildError:
    """Map a failed ``buildah bud`` to the reason OpenShift would report."""
    if done.returncode == 127:
        return BuildError(StatusReason.GENERIC_BUILD_FAILED, "buildah is not installed")
    text = "\n".join(done.tail)
    for line in reversed(done.tail):
        step = _STEP_FAILED.search(line)
        if step:
            what = step.group("step")
            why = step.group("why").strip()
            if "/assemble" in what:
                return BuildError(
                    StatusReason.DOCKER_BUILD_FAILED, f"assemble script failed: {why}"
                )
            return BuildError(StatusReason.DOCKER_BUILD_FAILED, f'step "{what}" failed: {why}')
    error = _last_error(done.tail)
    if _PULL_FAILED.search(text):
        return BuildError(StatusReason.PULL_BUILDER_IMAGE_FAILED, error)
    return BuildError(StatusReason.DOCKER_BUILD_FAILED, error)


class Buildah:
    def __init__(self, config: BuildahConfig | None = None, log: LogFn = print) -> None:
        self.config = config or BuildahConfig()
        self.log = log

    def _global_flags(self) -> list[str]:
        flags: list[str] = []
        if self.config.storage_driver:
            flags += ["--storage-driver", self.config.storage_driver]
        if self.config.root:
            flags += ["--root", self.config.root]
        if self.config.runroot:
            flags += ["--runroot", self.config.runroot]
        for option in self.config.storage_options:
            flags += ["--storage-opt", option]
        return flags

    def _run(self, args: Sequence[str]) -> Completed:
        argv = [self.config.executable, *self._global_flags(), *args]
        return run_streaming(argv, self.log, env=self.config.extra_env)

    def bud(
        self,
        *,
        context: Path,
        dockerfile: Path,
        tag: str,
        build_args: Sequence[tuple[str, str]] = (),
        no_cache: bool = False,
        layers: bool = False,
        pull_always: bool = False,
        tls_verify: bool = True,
        authfile: str | None = None,
        volumes: Sequence[tuple[str, str]] = (),
    ) -> BuildResult:
        """Build; each of ``volumes`` (source, destination) is bound read-only into RUN steps.

        ``layers`` commits a layer per instruction (``docker build``'s image,
        OpenShift's ``imageOptimizationPolicy: None``); without it buildah
        commits the Dockerfile's changes as one layer (``SkipLayers``).

        ``--volume`` mounts are never committed: the image keeps at most an
        empty mount point where a file was bound.
        """
        with tempfile.TemporaryDirectory(prefix="kbuild-iid-") as tmp:
            iidfile = Path(tmp) / "iid"
            args = [
                "bud",
                "--file", str(dockerfile),
                "--tag", tag,
                "--iidfile", str(iidfile),
                "--format", self.config.image_format,
                f"--tls-verify={'true' if tls_verify else 'false'}",
                # OpenShift's forcePull=false is "pull if missing"; images we
                # resolved are pinned by digest, so a local copy is the same image.
                f"--pull={'always' if pull_always else 'false'}",
            ]  # fmt: skip
            if self.config.isolation:
                args += ["--isolation", self.config.isolation]
            if no_cache:
                args.append("--no-cache")
            if layers:
                args.append("--layers")
            if authfile:
                args += ["--authfile", authfile]
            for name, value in build_args:
                args += ["--build-arg", f"{name}={value}"]
            for source, destination in volumes:
                args += ["--volume", f"{source}:{destination}:ro"]
            args.append(str(context))
            done = self._run(args)
            if done.returncode != 0:
                raise classify_build_failure(done)
            image_id = iidfile.read_text().strip() if iidfile.exists() else ""
        if not image_id:
            raise BuildError(
                StatusReason.DOCKER_BUILD_FAILED, "buildah reported success but wrote no image id"
            )
        return BuildResult(image_id, done.tail)

    def pull(
        self,
        image: str,
        *,
        tls_verify: bool = True,
        authfile: str | None = None,
        always: bool = False,
    ) -> None:
        """Pull ``image`` into local storage, so a later ``bud`` needs no credential.

        ``always`` is OpenShift's forcePull; otherwise a copy already in
        storage is used (images we resolved are pinned by digest).
        """
        args = [
            "pull",
            f"--policy={'always' if always else 'missing'}",
            f"--tls-verify={'true' if tls_verify else 'false'}",
        ]
        if authfile:
            args += ["--authfile", authfile]
        done = self._run([*args, image])
        if done.returncode != 0:
            raise BuildError(
                StatusReason.PULL_BUILDER_IMAGE_FAILED,
                f"pulling {image}: {_last_error(done.tail)}",
            )

    def push(
        self,
        image: str,
        destination: str,
        *,
        tls_verify: bool = True,
        authfile: str | None = None,
    ) -> PushResult:
        with tempfile.TemporaryDirectory(prefix="kbuild-digest-") as tmp:
            digestfile = Path(tmp) / "digest"
            args = [
                "push",
                "--digestfile", str(digestfile),
                f"--tls-verify={'true' if tls_verify else 'false'}",
                "--retry", str(self.config.push_retries),
            ]  # fmt: skip
            if authfile:
                args += ["--authfile", authfile]
            args += [image, f"docker://{destination}"]
            done = self._run(args)
            if done.returncode != 0:
                raise BuildError(
                    StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED,
                    f"pushing {destination}: {_last_error(done.tail)}",
                )
            digest = digestfile.read_text().strip() if digestfile.exists() else ""
        if not digest.startswith("sha256:"):
            raise BuildError(
                StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED,
                f"pushing {destination}: buildah reported no digest",
            )
        return PushResult(digest, done.tail)

    def run_in_image(
        self, image: str, argv: Sequence[str], *, volumes: Sequence[tuple[str, str]] = ()
    ) -> Completed:
        """Run a command in a throwaway container of ``image`` (post-commit hooks).

        ``volumes`` are bound read-only, as for ``bud``.
        """
        created = self._run(["from", "--pull=never", image])
        if created.returncode != 0 or not created.tail:
            return created
        container = created.tail[-1].strip()
        try:
            args = ["run"]
            if self.config.isolation:
                args += ["--isolation", self.config.isolation]
            for source, destination in volumes:
                args += ["--volume", f"{source}:{destination}:ro"]
            return self._run([*args, container, "--", *argv])
        finally:
            self._run(["rm", container])

    def export_image(self, image: str, directory: Path) -> None:
        """Write ``image`` from local storage to ``directory`` (``dir:``), layers uncompressed.

        Nothing is mounted and nothing of the image runs: the layers are read
        as tar files (``builder.source.imagepaths``).  Rootless buildah can
        do this without ``buildah unshare``, which needs a kernel that lets
        it clone itself into a memfd.
        """
        done = self._run(["push", "--quiet", "--disable-compression", image, f"dir:{directory}"])
        if done.returncode != 0:
            raise BuildError(
                StatusReason.FETCH_IMAGE_CONTENT_FAILED,
                f"reading {image} from local storage: {_last_error(done.tail)}",
            )

    def remove_image(self, image: str) -> None:
        """Best effort: a leftover local image costs disk, never correctness."""
        self._run(["rmi", "--force", image])
