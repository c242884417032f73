"""The build pod's runner: pipeline steps in containers, each reported in its termination message.

The pipeline has five steps, each with only the secret it needs
(``builder.pipeline.steps``): ``fetch`` (the source secret), ``prepare`` (the
one step that reads the repository's files: no secret), ``pull`` (renders the
Dockerfile from what ``prepare`` staged and pulls the images it starts from:
the pull secret, and the push secret for an incremental build's previous
image), ``build`` (buildah bud and the post-commit hook, where the
committer's code runs: no secret) and ``push`` (the push secret).  A step
with a secret runs in a container of its own, as OpenShift's names have it:
init containers ``git-clone``, ``manage-dockerfile``, ``pull-images``,
``build-image``, then the main container ``sti-build`` or ``docker-build``;
consecutive steps that need none share one container, ``kbuild pipeline
STEP...`` (``builder.controller.podlayout``: a build with no secret at all
runs in the main container alone).  A step reads the Build from the ``BUILD`` environment
variable (as OpenShift's builder does), runs the same step function the local
build runs, streams its log to stdout (``kbuild logs``) and writes one JSON
object to its termination message file.  The controller reads the pod, never
the logs, to decide the Build's phase (``builder.controller.podstatus``), so
everything it needs is in that message:

success of the main step::

    {"digest": "sha256:...", "image": "<registry>/<repo>@sha256:...",
     "stages": [...], "revision": {...}}

any failure (and a non-zero exit)::

    {"reason": "<StatusReason>", "message": "<OpenShift's sentence>",
     "detail": "<one line>", "logSnippet": "<last log lines>", "stages": [...],
     "revision": {...}}

``stages`` is OpenShift's ``status.stages`` (name, startTime,
durationMilliseconds, steps); each step adds to what earlier containers left
in the workspace, so the last message has them all.  ``revision`` is
OpenShift's ``spec.revision`` for the fetched commit, once known.  The kubelet
keeps at most 4096 bytes of a message, so ``encode`` trims to fit.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from builder.api import STATUS_MESSAGES, BuildError, StatusReason
from builder.api.nesting import load_json
from builder.buildah import Buildah, BuildahConfig, LogFn
from builder.buildah.storage import (
    BUILDER_CACHE_DIR,
    STORE_DIR,
    builder_cache,
    choose_driver,
    turn_cache_off,
)
from builder.pipeline.fetch import fetch, load_source_info
from builder.pipeline.from_build import plan_from_spec
from builder.pipeline.inputs import INPUTS_ROOT_ENV, ClusterInputs
from builder.pipeline.plan import BuildPlan
from builder.pipeline.retry import read_with_retries
from builder.pipeline.stages import StageInfo, StageRecorder, stages_from_json, stages_json
from builder.pipeline.steps import (
    Built,
    Prepared,
    Staged,
    build_image,
    prepare,
    pull_images,
    push_image,
    render_dockerfile,
)
from builder.pipeline.workspace import Workspace
from builder.registry import (
    CredentialStore,
    ImageReference,
    RegistryClient,
    RegistryError,
    RegistryUnreachable,
)
from builder.source import SourceInfo

# --------------------------------------------------------------------------- the pod's contract

STEPS = ("fetch", "prepare", "pull", "build", "push", "custom-report")

# OpenShift's names where OpenShift has one (its builder image reads the same).
BUILD_ENV = "BUILD"
SOURCE_SECRET_PATH_ENV = "SOURCE_SECRET_PATH"  # noqa: S105 - a variable name
PULL_SECRET_PATH_ENV = "PULL_DOCKERCFG_PATH"  # noqa: S105
PUSH_SECRET_PATH_ENV = "PUSH_DOCKERCFG_PATH"  # noqa: S105
SOURCE_SECRET_MOUNT = "/var/run/secrets/openshift.io/source"  # noqa: S105 - a path
PULL_SECRET_MOUNT = "/var/run/secrets/openshift.io/pull"  # noqa: S105
PUSH_SECRET_MOUNT = "/var/run/secrets/openshift.io/push"  # noqa: S105
# The cluster's trusted CA bundle (controller --trusted-ca-configmap), and
# the variable naming the file; the steps add it to the system's trust.
TRUSTED_CA_MOUNT = "/var/run/configs/openshift.io/pki"
TRUSTED_CA_KEY = "ca-bundle.crt"
TRUSTED_CA_ENV = "KBUILD_TRUSTED_CA_FILE"
SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
# source.images[i].pullSecret: OpenShift's variable name with the index appended.
SOURCE_IMAGE_PULL_PATH_ENV_PREFIX = "PULL_SOURCE_DOCKERCFG_PATH_"
SOURCE_IMAGE_PULL_MOUNT_PREFIX = "/var/run/secrets/openshift.io/pull-source-"
# kbuild's own: where the containers share their work, and which registries
# speak plain HTTP (the same variable ``kbuild build`` reads).
WORKSPACE_ENV = "KBUILD_WORKSPACE"
WORKSPACE_MOUNT = "/workspace"
INSECURE_REGISTRIES_ENV = "KBUILD_INSECURE_REGISTRIES"
# The volume holding buildah's storage in the containers that run buildah:
# where the storage driver is chosen once and recorded (builder.buildah.storage).
STORAGE_DIR_ENV = "KBUILD_STORAGE_DIR"
# The read-only builder cache in the image (images/buildpod-cache); the
# variable only moves it, for tests.
BUILDER_CACHE_ENV = "KBUILD_BUILDER_CACHE"
TERMINATION_LOG_ENV = "KBUILD_TERMINATION_LOG"
TERMINATION_LOG = "/dev/termination-log"

# The kubelet truncates a container's termination message to 4 KiB.
MAX_MESSAGE_BYTES = 4096
SNIPPET_LINES = 10
# OpenShift shortens long snippet lines to 58 + "..." + 59 characters.
SNIPPET_LINE_MAX = 120
DETAIL_MAX = 400

STAGES_FILE = "stages.json"


# --------------------------------------------------------------------------- the message


@dataclass(frozen=True)
class TerminationMessage:
    """What one build container reports; empty ``reason`` means it succeeded."""

    reason: str = ""
    message: str = ""
    detail: str = ""
    log_snippet: str = ""
    digest: str = ""
    image: str = ""
    stages: tuple[dict[str, Any], ...] = ()
    revision: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return bool(self.reason)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.failed:
            out |= {
                "reason": self.reason,
                "message": self.message,
                "detail": self.detail,
                "logSnippet": self.log_snippet,
            }
        else:
            out |= {"digest": self.digest, "image": self.image}
        out["stages"] = list(self.stages)
        if self.revision is not None:
            out["revision"] = self.revision
        return out

    def encode(self) -> str:
        """JSON of at most MAX_MESSAGE_BYTES: the snippet, then steps, then stages give way."""
        candidates = [self]
        snippet = self.log_snippet.split("\n") if self.log_snippet else []
        while snippet:
            snippet = snippet[1:]
            candidates.append(replace(self, log_snippet="\n".join(snippet)))
        bare = candidates[-1]
        candidates.append(replace(bare, detail=_shorten(bare.detail, 120)))
        no_steps = tuple({k: v for k, v in s.items() if k != "steps"} for s in self.stages)
        candidates.append(replace(candidates[-1], stages=no_steps))
        candidates.append(replace(candidates[-1], stages=(), revision=None))
        for candidate in candidates:
            text = json.dumps(candidate.to_json(), separators=(",", ":"))
            if len(text.encode()) <= MAX_MESSAGE_BYTES:
                return text
        return json.dumps({"reason": self.reason or "", "stages": []})[:MAX_MESSAGE_BYTES]

    @classmethod
    def parse(cls, text: str | None) -> TerminationMessage | None:
        """The message a container wrote, or None if it wrote none we understand."""
        if not text:
            return None
        try:
            data = load_json(text, what="the termination message")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        stages = data.get("stages")
        revision = data.get("revision")
        return cls(
            reason=_text(data.get("reason")),
            message=_text(data.get("message")),
            detail=_text(data.get("detail")),
            log_snippet=_text(data.get("logSnippet")),
            digest=_text(data.get("digest")),
            image=_text(data.get("image")),
            stages=tuple(s for s in stages if isinstance(s, dict))
            if isinstance(stages, list)
            else (),
            revision=revision if isinstance(revision, dict) else None,
        )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _shorten(line: str, limit: int) -> str:
    if len(line) <= limit:
        return line
    head = (limit - 3) // 2
    return line[:head] + "..." + line[len(line) - (limit - 3 - head) :]


def snippet(lines: list[str]) -> str:
    """The last SNIPPET_LINES non-empty lines, long ones shortened as OpenShift does."""
    kept = [line.rstrip() for line in lines if line.strip()][-SNIPPET_LINES:]
    return "\n".join(_shorten(line, SNIPPET_LINE_MAX) for line in kept)


# --------------------------------------------------------------------------- stages and revision


def load_stages(ws: Workspace) -> list[StageInfo]:
    """What earlier containers recorded; nothing if they left no (readable) record."""
    try:
        return stages_from_json(json.loads((ws.root / STAGES_FILE).read_text()))
    except (OSError, ValueError):
        return []


def save_stages(ws: Workspace, stages: list[StageInfo]) -> None:
    """Record the stages for the next container; a workspace that is not there is not made."""
    if ws.root.is_dir():
        (ws.root / STAGES_FILE).write_text(json.dumps(stages_json(stages)))


def revision_json(info: SourceInfo) -> dict[str, Any] | None:
    """OpenShift's ``SourceRevision`` for the fetched commit (what its builder reports)."""
    if not info.commit_id:
        return None
    return {
        "type": "Git",
        "git": {
            "commit": info.commit_id,
            "author": {"name": info.author_name, "email": info.author_email},
            "committer": {"name": info.committer_name, "email": info.committer_email},
            "message": info.message,
        },
    }


def _revision(ws: Workspace) -> dict[str, Any] | None:
    if not ws.source_info.is_file():
        return None
    try:
        return revision_json(load_source_info(ws))
    except (OSError, ValueError, TypeError):
        return None


# --------------------------------------------------------------------------- the log


class StepLog:
    """Streams the step's log to stdout for ``kbuild logs`` and keeps its tail for the snippet."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tail: deque[str] = deque(maxlen=4 * SNIPPET_LINES)
        self.masked: tuple[str, ...] = ()

    def mask(self, values: tuple[str, ...]) -> None:
        """Never print these (env valueFrom secrets: buildah echoes the ENV lines holding them).

        A value of several lines is masked line by line too; the longest first,
        so no part of a longer value is left beside a shorter one's mask.
        """
        parts = {v for value in values for v in (value, *value.splitlines()) if len(v) >= 4}
        self.masked = tuple(sorted(parts, key=len, reverse=True))

    def __call__(self, line: str) -> None:
        for part in line.splitlines() or [""]:
            shown = part
            for value in self.masked:
                shown = shown.replace(value, "*****")
            self.tail.append(shown)
            print(shown, file=self.out, flush=True)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class PodInputs:
    """The Build's plan and what the pod mounted for it."""

    plan: BuildPlan
    pull_secret_dir: Path | None = None
    push_secret_dir: Path | None = None
    # chroot: the pod may not create the namespaces an OCI runtime needs
    # (docs/build-pod.md); the image sets BUILDAH_ISOLATION the same way.
    isolation: str = "chroot"
    scratch: list[Path] = field(default_factory=list)
    # None outside a pod that names its storage volume: buildah's own default.
    storage_dir: Path | None = None
    scratch_dirs: list[Path] = field(default_factory=list)
    builder_cache: Path = Path(BUILDER_CACHE_DIR)
    # The system CAs plus the cluster's trusted bundle, when the pod mounts one.
    trusted_ca: str | None = None

    def clean_up(self) -> None:
        """Remove the step's temporary files (authfiles) and directories (buildah's run root)."""
        for path in self.scratch:
            path.unlink(missing_ok=True)
        for directory in self.scratch_dirs:
            shutil.rmtree(directory, ignore_errors=True)

    def registry_client(self) -> RegistryClient:
        """Registry access as buildah will have it: the pull secret, then the push secret.

        The push secret matters to ``render_dockerfile`` too: an incremental
        build reads the previous image from the output repository.
        """
        stores = [
            CredentialStore.from_secret_dir(d)
            for d in (self.pull_secret_dir, self.push_secret_dir)
            if d is not None
        ]
        return RegistryClient(
            credentials=CredentialStore.merge(stores),
            insecure=set(self.plan.insecure_registries),
            ca_bundle=self.trusted_ca,
        )


def _secret_dir(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "")
    return Path(value) if value else None


def _authfile(directory: Path | None, scratch: list[Path]) -> str | None:
    """A file buildah's ``--authfile`` reads, from a mounted registry secret.

    A ``kubernetes.io/dockerconfigjson`` secret is used as it is; the legacy
    ``.dockercfg`` form (a bare map of registries) is wrapped in ``auths``
    first, since buildah reads only the newer form from an authfile.
    """
    if directory is None:
        return None
    config = directory / ".dockerconfigjson"
    if config.is_file():
        return str(config)
    legacy = directory / ".dockercfg"
    if not legacy.is_file():
        raise BuildError(
            StatusReason.GENERIC_BUILD_FAILED,
            f"the registry secret mounted at {directory} has no .dockerconfigjson or .dockercfg",
        )
    try:
        auths = load_json(legacy.read_text(), what=str(legacy))
    except ValueError as err:
        raise BuildError(
            StatusReason.GENERIC_BUILD_FAILED, f"{legacy} is not valid JSON: {err}"
        ) from err
    fd, name = tempfile.mkstemp(prefix="kbuild-auth-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump({"auths": auths}, handle)
    scratch.append(Path(name))
    return name


def trusted_bundle(env: Mapping[str, str], scratch: list[Path]) -> str | None:
    """The system CAs and the mounted cluster bundle in one file, or None without one.

    The cluster bundle is added to the build pod image's own CAs (a bundle
    that holds only an internal CA must not make public registries
    untrusted).  An absent file (the ConfigMap is optional in the pod) is
    None here; a build with mountTrustedCA then fails naming it.
    """
    named = env.get(TRUSTED_CA_ENV, "")
    if not named or not Path(named).is_file():
        return None
    system = Path(env.get("KBUILD_SYSTEM_CA_FILE") or SYSTEM_CA_FILE)
    parts = [system.read_bytes() if system.is_file() else b"", Path(named).read_bytes()]
    fd, name = tempfile.mkstemp(prefix="kbuild-ca-", suffix=".crt")
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"\n".join(p.rstrip(b"\n") for p in parts if p) + b"\n")
    Path(name).chmod(0o644)
    scratch.append(Path(name))
    return name


def inputs_from_environment(env: Mapping[str, str]) -> PodInputs:
    """Parse ``BUILD`` and turn it into a plan; its images are already DockerImage refs."""
    # Loaded here: the models cost start-up time that only this path needs.
    from builder.api import Build, ManifestError, parse_as  # noqa: PLC0415

    raw = env.get(BUILD_ENV, "")
    if not raw:
        raise BuildError(
            StatusReason.GENERIC_BUILD_FAILED,
            f"no {BUILD_ENV} in the environment: `kbuild pipeline` runs inside a build pod",
        )
    try:
        build = parse_as(Build, json.loads(raw))
    except ValueError as err:
        problems = "; ".join(err.problems) if isinstance(err, ManifestError) else str(err)
        raise BuildError(
            StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, f"the {BUILD_ENV} variable: {problems}"
        ) from err
    scratch: list[Path] = []
    pull = _secret_dir(env, PULL_SECRET_PATH_ENV)
    push = _secret_dir(env, PUSH_SECRET_PATH_ENV)
    insecure = frozenset(h for h in env.get(INSECURE_REGISTRIES_ENV, "").split(",") if h)
    trusted = trusted_bundle(env, scratch)
    source_images: dict[int, str] = {}
    for name, value in env.items():
        index = name.removeprefix(SOURCE_IMAGE_PULL_PATH_ENV_PREFIX)
        if index != name and index.isdigit() and value:
            authfile = _authfile(Path(value), scratch)
            if authfile is not None:
                source_images[int(index)] = authfile
    plan = plan_from_spec(
        build.spec,
        metadata=build.metadata,
        source_secret_dir=_secret_dir(env, SOURCE_SECRET_PATH_ENV),
        insecure_registries=insecure,
        pull_authfile=_authfile(pull, scratch),
        push_authfile=_authfile(push, scratch),
        # The kubelet put the valueFrom variables (and the input mounts) here.
        cluster=ClusterInputs(environ=env, mount_root=env.get(INPUTS_ROOT_ENV, "")),
        source_image_authfiles=source_images,
        trusted_ca=trusted,
    )
    return PodInputs(
        plan,
        pull,
        push,
        env.get("BUILDAH_ISOLATION") or "chroot",
        scratch,
        _secret_dir(env, STORAGE_DIR_ENV),
        builder_cache=Path(env.get(BUILDER_CACHE_ENV) or BUILDER_CACHE_DIR),
        trusted_ca=trusted,
    )


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class StepResult:
    digest: str = ""
    image: str = ""


StepFn = Callable[[PodInputs, Workspace, LogFn, StageRecorder], StepResult]


def _fetch_step(inputs: PodInputs, ws: Workspace, log: LogFn, stages: StageRecorder) -> StepResult:
    fetch(inputs.plan, ws, log, stages, inputs.registry_client())
    return StepResult()


def _prepare_step(
    inputs: PodInputs, ws: Workspace, log: LogFn, _stages: StageRecorder
) -> StepResult:
    # The one step that reads the committer's tree: no registry, no secret.
    prepare(inputs.plan, ws=ws, log=log)
    return StepResult()


def _buildah(inputs: PodInputs, log: LogFn) -> Buildah:
    """buildah on the pod's store, with the driver the pod's first buildah container chose.

    The store is the storage volume's ``storage`` directory (what the image's
    storage.conf names for uid 1000 anyway); its run root, which holds only
    locks and mount counts, is this container's own, as buildah's default
    is, so no container inherits another's mount state.
    """
    # Go's crypto/x509 (buildah's TLS) reads SSL_CERT_FILE.
    ca_env = {"SSL_CERT_FILE": inputs.trusted_ca} if inputs.trusted_ca else {}
    if inputs.storage_dir is None:
        return Buildah(BuildahConfig(isolation=inputs.isolation, extra_env=ca_env), log=log)
    root = str(inputs.storage_dir / STORE_DIR)
    runroot = tempfile.mkdtemp(prefix="kbuild-runroot-")
    inputs.scratch_dirs.append(Path(runroot))
    flags = ("--root", root, "--runroot", runroot)
    driver = choose_driver(inputs.storage_dir, log, flags=flags).driver
    cache = builder_cache(inputs.builder_cache, inputs.storage_dir, driver, log)
    config = BuildahConfig(
        isolation=inputs.isolation,
        storage_driver=driver,
        root=root,
        runroot=runroot,
        storage_options=(cache,) if cache else (),
        extra_env=ca_env,
    )
    return Buildah(config, log=log)


def _check_access(registry: RegistryClient, prepared: Prepared, log: LogFn) -> None:
    """Ask the registry, with this build's credentials, for every image the build starts from.

    With the builder cache, ``buildah pull`` finds a builder locally and asks
    the registry nothing; this request keeps the rule that a build only ever
    gets an image its namespace may pull.
    """
    for image in (*prepared.images, *((prepared.previous,) if prepared.previous else ())):
        try:
            read_with_retries(
                functools.partial(registry.resolve, image), log, f"checking access to {image}"
            )
        except RegistryUnreachable as err:
            raise BuildError(StatusReason.PULL_BUILDER_IMAGE_FAILED, f"{image}: {err}") from err
        except RegistryError as err:
            raise BuildError(
                StatusReason.PULL_BUILDER_IMAGE_FAILED,
                f"{image}: the registry refused it with this build's credentials: {err}",
            ) from err


def _pull_step(inputs: PodInputs, ws: Workspace, log: LogFn, stages: StageRecorder) -> StepResult:
    # The pull secret (and the push secret for an incremental build's previous
    # image): reads the registry and pulls; runs nothing of the committer's.
    buildah = _buildah(inputs, log)
    cached = bool(buildah.config.storage_options)
    with inputs.registry_client() as registry:
        prepared = render_dockerfile(
            inputs.plan,
            ws=ws,
            info=load_source_info(ws),
            staged=Staged.load(ws),
            registry=registry,
            log=log,
            stages=stages,
        )
        if cached:
            _check_access(registry, prepared, log)
    try:
        pull_images(inputs.plan, prepared, buildah, log, stages)
    except BuildError as err:
        if not cached or inputs.storage_dir is None:
            raise
        # A corrupt cache must not fail the build: the later containers
        # read the same mark and leave the cache alone too.
        turn_cache_off(inputs.storage_dir, err.detail, log)
        pull_images(inputs.plan, prepared, _buildah(inputs, log), log, stages)
    return StepResult()


def _build_step(inputs: PodInputs, ws: Workspace, log: LogFn, stages: StageRecorder) -> StepResult:
    # No secret: assemble, RUN lines and the post-commit hook run here.
    built = build_image(
        inputs.plan, Prepared.load(ws), _buildah(inputs, log), stages, log, scratch=ws.root
    )
    built.save(ws)
    return StepResult()


def _push_step(inputs: PodInputs, ws: Workspace, log: LogFn, stages: StageRecorder) -> StepResult:
    output = push_image(inputs.plan, Built.load(ws), _buildah(inputs, log), log, stages)
    if not output.digest:
        return StepResult()
    # The digest form alone, as OpenShift records pushed images: the tag may move.
    pinned = ImageReference.parse(output.reference).without_tag()
    return StepResult(digest=output.digest, image=str(pinned))


# The Custom strategy: where the builder may leave the digest it pushed
# (``buildah push --digestfile "$KBUILD_WORKSPACE/pushed-digest"``).
CUSTOM_DIGEST_FILE = "pushed-digest"
CUSTOM_REPORT_STEP = "custom-report"


def _custom_digest(ws: Workspace) -> str:
    path = ws.root / CUSTOM_DIGEST_FILE
    if not path.is_file():
        return ""
    text = path.read_text(errors="replace").strip()
    algorithm, _, hexdigest = text.partition(":")
    if (
        algorithm != "sha256"
        or len(hexdigest) != 64
        or not all(c in "0123456789abcdef" for c in hexdigest)
    ):
        raise BuildError(
            StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED,
            f"the custom builder's {CUSTOM_DIGEST_FILE} file holds no sha256 digest",
        )
    return text


def custom_report(env: Mapping[str, str], ws: Workspace, log: LogFn) -> StepResult:
    """After a ``customStrategy`` builder exited 0: which image does the output name now?

    The digest the builder left in the workspace (checked against the
    registry), else what the output tag names, asked with the push secret.
    A builder that pushed nothing while the tag already existed reports that
    image, as OpenShift's registry would keep it (builder.pipeline.custom).
    """
    from builder.api import Build, parse_as  # noqa: PLC0415 - the pod's path only

    try:
        build = parse_as(Build, json.loads(env.get(BUILD_ENV) or "{}"))
    except ValueError as err:
        raise BuildError(
            StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, f"the {BUILD_ENV} variable: {err}"
        ) from err
    to = build.spec.output.to
    if to is None or not to.name:
        log("The custom builder finished; the build has no output to report")
        return StepResult()
    scratch: list[Path] = []
    push = _secret_dir(env, PUSH_SECRET_PATH_ENV)
    insecure = {h for h in env.get(INSECURE_REGISTRIES_ENV, "").split(",") if h}
    try:
        credentials = CredentialStore.from_secret_dir(push) if push is not None else None
        ref = ImageReference.parse(to.name)
        left = _custom_digest(ws)
        wanted = ref.with_digest(left) if left else ref
        with RegistryClient(
            credentials=credentials, insecure=insecure, ca_bundle=trusted_bundle(env, scratch)
        ) as registry:
            # Retried like every read of kbuild's own: a registry busy for a
            # moment must not fail a build whose image is already pushed.
            info = read_with_retries(
                functools.partial(registry.resolve, wanted), log, f"reading back {to.name}"
            )
    except RegistryError as err:
        raise BuildError(
            StatusReason.PUSH_IMAGE_TO_REGISTRY_FAILED,
            f"the custom builder finished, but {to.name} cannot be read back: {err.detail}",
        ) from err
    finally:
        for path in scratch:
            path.unlink(missing_ok=True)
    digest = left or info.top_digest
    log(f"The custom builder pushed {to.name}@{digest}")
    return StepResult(digest=digest, image=str(ref.with_digest(digest).without_tag()))


STEP_FUNCTIONS: dict[str, StepFn] = {
    "fetch": _fetch_step,
    "prepare": _prepare_step,
    "pull": _pull_step,
    "build": _build_step,
    "push": _push_step,
}


class StepTerminated(Exception):  # noqa: N818 - named for what happened, like BuildError
    """SIGTERM: the pod is being deleted (cancelled) or ran past its deadline."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into an exception, so buildah is stopped and a message is still written."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise StepTerminated("the step was stopped by SIGTERM (build cancelled or deadline hit)")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (tests): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}".rstrip(": ")


def _check_steps(steps: Sequence[str]) -> None:
    known = (*STEP_FUNCTIONS, CUSTOM_REPORT_STEP)
    unknown = [s for s in steps if s not in known] or ([] if steps else [""])
    if unknown:
        raise BuildError(
            StatusReason.GENERIC_BUILD_FAILED,
            f"unknown pipeline step {unknown[0]!r}; expected one of {', '.join(STEPS)}",
        )


def run_step(
    step: str,
    *,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    """Run one step as a build container does; the exit status for the container."""
    return run_steps((step,), environ=environ, out=out)


def _execute(
    steps: Sequence[str],
    env: Mapping[str, str],
    *,
    ws: Workspace,
    log: StepLog,
    recorder: StageRecorder,
    held: list[PodInputs],
) -> StepResult:
    """The steps' work; the inputs read are appended to ``held`` for the caller to clean up."""
    _check_steps(steps)
    if tuple(steps) == (CUSTOM_REPORT_STEP,):
        # The Custom strategy has no plan: the user's image did the build.
        return custom_report(env, ws, log)
    if CUSTOM_REPORT_STEP in steps:
        raise BuildError(
            StatusReason.GENERIC_BUILD_FAILED,
            f"step {CUSTOM_REPORT_STEP!r} runs alone, in a Custom build's pod",
        )
    inputs = inputs_from_environment(env)
    held.append(inputs)
    log.mask(inputs.plan.secret_values)
    result = StepResult()
    for step in steps:
        result = STEP_FUNCTIONS[step](inputs, ws, log, recorder)
    return result


def run_steps(
    steps: Sequence[str],
    *,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    """Run ``steps`` in order in one container, as one process; the container's exit status.

    Where no step of a run needs a secret, the controller gives the run one
    container (``builder.controller.podlayout``): each container costs a
    start, a Python start-up and a round trip through the kubelet's status,
    about a second each on a small node.  The steps are the same functions,
    in the same order, on the same workspace; the first failure ends the run
    and is the container's message, and the last step's result (the push's
    digest) is its success.
    """
    env = os.environ if environ is None else environ
    log = StepLog(out if out is not None else sys.stdout)
    ws = Workspace(Path(env.get(WORKSPACE_ENV) or WORKSPACE_MOUNT))
    termination = Path(env.get(TERMINATION_LOG_ENV) or TERMINATION_LOG)
    recorder = StageRecorder(stages=load_stages(ws))
    held: list[PodInputs] = []  # the inputs to clean up, once read
    failure: tuple[StatusReason, str] | None = None
    result = StepResult()
    try:
        with _sigterm_raises():
            result = _execute(steps, env, ws=ws, log=log, recorder=recorder, held=held)
    except BuildError as err:
        failure = (err.reason, err.detail)
    except StepTerminated as exc:
        failure = (StatusReason.GENERIC_BUILD_FAILED, str(exc))
    except Exception as exc:  # a bug, but the Build must still say why
        for line in traceback.format_exc().splitlines():
            log(line)
        failure = (StatusReason.GENERIC_BUILD_FAILED, _one_line(exc))
    finally:
        for inputs in held:
            inputs.clean_up()
    try:
        save_stages(ws, recorder.stages)
    except OSError as err:
        log(f"warning: could not record the build stages in {ws.root}: {err}")
    stages = tuple(stages_json(recorder.stages))
    revision = _revision(ws)
    if failure is None:
        message = TerminationMessage(
            digest=result.digest, image=result.image, stages=stages, revision=revision
        )
    else:
        reason, detail = failure
        detail = _shorten(" ".join(detail.split()), DETAIL_MAX)
        log(f"error: {reason.value}: {detail}")
        message = TerminationMessage(
            reason=reason.value,
            message=STATUS_MESSAGES[reason],
            detail=detail,
            log_snippet=snippet(list(log.tail)),
            stages=stages,
            revision=revision,
        )
    # In a pod the kubelet provides the file; elsewhere (a mistaken run on a
    # host) only an explicitly named one is written, never a new /dev entry.
    if termination.exists() or env.get(TERMINATION_LOG_ENV):
        try:
            termination.write_text(message.encode())
        except OSError as err:
            log(f"warning: could not write the termination message to {termination}: {err}")
    return 0 if failure is None else 1


__all__ = [
    "BUILDER_CACHE_ENV",
    "BUILD_ENV",
    "INSECURE_REGISTRIES_ENV",
    "MAX_MESSAGE_BYTES",
    "PULL_SECRET_MOUNT",
    "PULL_SECRET_PATH_ENV",
    "PUSH_SECRET_MOUNT",
    "PUSH_SECRET_PATH_ENV",
    "SOURCE_IMAGE_PULL_MOUNT_PREFIX",
    "SOURCE_IMAGE_PULL_PATH_ENV_PREFIX",
    "SOURCE_SECRET_MOUNT",
    "SOURCE_SECRET_PATH_ENV",
    "STEPS",
    "STORAGE_DIR_ENV",
    "TERMINATION_LOG",
    "TERMINATION_LOG_ENV",
    "TRUSTED_CA_ENV",
    "TRUSTED_CA_KEY",
    "TRUSTED_CA_MOUNT",
    "WORKSPACE_ENV",
    "WORKSPACE_MOUNT",
    "PodInputs",
    "StepLog",
    "TerminationMessage",
    "inputs_from_environment",
    "load_stages",
    "revision_json",
    "run_step",
    "run_steps",
    "save_stages",
    "snippet",
    "stages_json",
]
