"""The three build steps: fetch the source, prepare the Dockerfile, build and push.

Each step reads what the previous one wrote to the workspace, so the build pod
can run them in separate containers (init containers for fetch and prepare,
the main container for build and push) and ``kbuild build`` can run them in
one process, with the same code.
"""

from __future__ import annotations

import json
import shutil
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from builder.api import BuildError, StatusReason
from builder.buildah import Buildah, LogFn
from builder.dockerfile import rewrite, stage_images
from builder.pipeline.binary_source import InputKind, download
from builder.pipeline.plan import BinaryInput, BuildPlan, DockerStrategyPlan, SourceStrategyPlan
from builder.pipeline.stages import StageRecorder
from builder.pipeline.workspace import Workspace
from builder.registry import ImageReference, RegistryClient, RegistryError, insecure_policy
from builder.s2i import KNOWN_SCRIPTS, BuilderImage, S2IInputs, parse_environment, render
from builder.source import (
    SourceInfo,
    build_env,
    build_labels,
    fetch_binary,
    fetch_git,
    resolve_context_dir,
)

SCRIPT_DOWNLOAD_TIMEOUT = 30


# --------------------------------------------------------------------------- fetch


def _fetch_binary(
    binary: BinaryInput, ws: Workspace, registry: RegistryClient | None, log: LogFn
) -> SourceInfo:
    as_file = binary.as_file
    path = binary.path
    if binary.artifact:
        if registry is None:
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED, "an uploaded build input needs a registry client"
            )
        path, kind = download(registry, binary.artifact, ws.root / "binary-input")
        log(f"Receiving source from {binary.artifact} ({kind.value} {path.name})")
        if kind == InputKind.FILE:
            as_file = as_file or path.name
    if path is None:
        raise BuildError(StatusReason.FETCH_SOURCE_FAILED, "the binary build has no input")
    return fetch_binary(path, ws.source, as_file=as_file, log=log)


def fetch(
    plan: BuildPlan,
    ws: Workspace,
    log: LogFn,
    stages: StageRecorder,
    registry: RegistryClient | None = None,
) -> SourceInfo:
    """Put the source in ``ws.source`` and validate ``contextDir`` against it.

    ``registry`` is needed only for uploaded binary input (``start-build --from-*``).
    """
    ws.create()
    if ws.source.exists():
        # A restarted init container starts again from a clean checkout.
        shutil.rmtree(ws.source)
    src = plan.source
    with stages.stage("FetchInputs", "FetchGitSource" if src.git else "FetchBinarySource"):
        if src.git is not None:
            info = fetch_git(
                src.git.uri,
                src.git.ref,
                ws.source,
                secret_dir=src.secret_dir,
                http_proxy=src.git.http_proxy,
                https_proxy=src.git.https_proxy,
                no_proxy=src.git.no_proxy,
                log=log,
            )
        elif src.binary is not None:
            info = _fetch_binary(src.binary, ws, registry, log)
        elif src.dockerfile is not None:
            ws.source.mkdir(parents=True)
            info = SourceInfo(uri="", ref="")
        else:
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED,
                "the build has no source: give a git URI, binary input or an inline Dockerfile",
            )
    context = resolve_context_dir(ws.source, src.context_dir)
    if src.dockerfile is not None:
        # OpenShift: an inline Dockerfile replaces any Dockerfile in contextDir.
        (context / "Dockerfile").write_text(src.dockerfile)
    if src.context_dir:
        info = SourceInfo(**{**asdict(info), "context_dir": src.context_dir})
    ws.source_info.write_text(json.dumps(asdict(info)))
    return info


def load_source_info(ws: Workspace) -> SourceInfo:
    return SourceInfo(**json.loads(ws.source_info.read_text()))


# --------------------------------------------------------------------------- prepare


@dataclass(frozen=True)
class Prepared:
    """What the build step needs: a context directory and a Dockerfile path."""

    context: str
    dockerfile: str
    # The registries buildah will pull from, to decide on TLS verification.
    pulls_from: tuple[str, ...]

    def save(self, ws: Workspace) -> None:
        ws.prepared.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, ws: Workspace) -> Prepared:
        data = json.loads(ws.prepared.read_text())
        return cls(data["context"], data["dockerfile"], tuple(data["pulls_from"]))


def _identity_env(plan: BuildPlan, info: SourceInfo) -> list[tuple[str, str]]:
    env: list[tuple[str, str]] = []
    if plan.name:
        env.append(("OPENSHIFT_BUILD_NAME", plan.name))
    if plan.namespace:
        env.append(("OPENSHIFT_BUILD_NAMESPACE", plan.namespace))
    env.extend(build_env(info))
    return env


def _identity_labels(plan: BuildPlan, info: SourceInfo) -> list[tuple[str, str]]:
    labels = list(build_labels(info))
    if plan.name:
        labels.append(("io.openshift.build.name", plan.name))
    if plan.namespace:
        labels.append(("io.openshift.build.namespace", plan.namespace))
    labels.extend(plan.image_labels)
    return labels


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)


def _download_scripts(url: str, dest: Path, log: LogFn) -> set[str]:
    """Fetch ``<url>/<script>`` for each known script; missing ones are fine."""
    found: set[str] = set()
    for name in KNOWN_SCRIPTS:
        target = f"{url.rstrip('/')}/{name}"
        try:
            response = requests.get(target, timeout=SCRIPT_DOWNLOAD_TIMEOUT)
        except requests.RequestException as exc:
            log(f"warning: could not download {target}: {exc}")
            continue
        if response.status_code != 200:
            continue
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / name
        path.write_bytes(response.content)
        path.chmod(0o755)
        found.add(name)
        log(f"Downloaded {name} script from {target}")
    if not found:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED, f"could not download any scripts from {url}"
        )
    return found


def _stage_scripts(
    strategy: SourceStrategyPlan, source_root: Path, upload_scripts: Path, log: LogFn
) -> set[str]:
    """Copy ``.s2i/bin`` scripts, then let a scripts URL override them."""
    uploaded: set[str] = set()
    s2i_bin = source_root / ".s2i" / "bin"
    if s2i_bin.is_dir():
        for name in KNOWN_SCRIPTS:
            script = s2i_bin / name
            if script.is_file():
                upload_scripts.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(script, upload_scripts / name)
                (upload_scripts / name).chmod(0o755)
                uploaded.add(name)
                log(f"Using {name} script from the source's .s2i/bin")
    url = strategy.scripts_url or ""
    if url.startswith(("http://", "https://")):
        uploaded |= _download_scripts(url, upload_scripts, log)
    return uploaded


def _builder_info(registry: RegistryClient, image: str) -> BuilderImage:
    """Read the builder's config and pin it by digest.

    The Dockerfile then names exactly the image whose labels and USER we
    read, however the tag moves meanwhile, and buildah can skip the registry
    when that digest is already in local storage.
    """
    ref = ImageReference.parse(image)
    try:
        config = registry.image_config(ref)
    except RegistryError as err:
        raise BuildError(
            StatusReason.PULL_BUILDER_IMAGE_FAILED, f"builder image {image}: {err.detail}"
        ) from err
    pinned = str(ref.with_digest(config.manifest_digest))
    return BuilderImage(pull_spec=pinned, labels=dict(config.labels), user=config.user or None)


def _previous_image(registry: RegistryClient, output: str | None, log: LogFn) -> str | None:
    """The last pushed image of the output, for incremental builds, pinned by digest."""
    if not output:
        return None
    ref = ImageReference.parse(output)
    try:
        digest = registry.resolve(ref).digest
    except RegistryError as err:
        log(f"No previous image for an incremental build ({err.detail}); building from scratch")
        return None
    return str(ref.with_digest(digest))


@dataclass(frozen=True)
class _Prep:
    """Everything the strategy-specific prepare steps read."""

    plan: BuildPlan
    ws: Workspace
    info: SourceInfo
    source_root: Path
    registry: RegistryClient
    log: LogFn
    stages: StageRecorder


def prepare(
    plan: BuildPlan,
    *,
    ws: Workspace,
    info: SourceInfo,
    registry: RegistryClient,
    log: LogFn,
    stages: StageRecorder,
) -> Prepared:
    ctx = _Prep(
        plan=plan,
        ws=ws,
        info=info,
        source_root=resolve_context_dir(ws.source, plan.source.context_dir),
        registry=registry,
        log=log,
        stages=stages,
    )
    strategy = plan.strategy
    if isinstance(strategy, SourceStrategyPlan):
        prepared = _prepare_s2i(ctx, strategy)
    else:
        prepared = _prepare_docker(ctx, strategy)
    prepared.save(ws)
    return prepared


def _prepare_s2i(ctx: _Prep, strategy: SourceStrategyPlan) -> Prepared:
    plan, ws, info, source_root = ctx.plan, ctx.ws, ctx.info, ctx.source_root
    registry, log, stages = ctx.registry, ctx.log, ctx.stages
    with stages.stage("PullImages", "PullBaseImage"):
        builder = _builder_info(registry, strategy.builder_image)
        previous = _previous_image(registry, plan.output, log) if strategy.incremental else None
    if ws.context.exists():
        shutil.rmtree(ws.context)
    upload_src = ws.context / "upload" / "src"
    _copy_tree(source_root, upload_src)
    uploaded = _stage_scripts(strategy, source_root, ws.context / "upload" / "scripts", log)
    env: list[tuple[str, str]] = []
    env_file = source_root / ".s2i" / "environment"
    if env_file.is_file():
        parsed = parse_environment(env_file.read_text(errors="replace"))
        for warning in parsed.warnings:
            log(f"warning: {warning}")
        env.extend(parsed.entries)
    env.extend(strategy.env)
    env.extend(_identity_env(plan, info))
    result = render(
        S2IInputs(
            builder=builder,
            uploaded_scripts=frozenset(uploaded),
            scripts_url=strategy.scripts_url,
            env=tuple(env),
            labels=tuple(_identity_labels(plan, info)),
            incremental_from=previous,
        )
    )
    log(f"Assemble user {result.assemble_user}; assemble from {result.assemble.origin.value}")
    dockerfile = ws.context / "Dockerfile"
    dockerfile.write_text(result.dockerfile)
    pulls = [builder.pull_spec] + ([previous] if previous else [])
    return Prepared(str(ws.context), str(dockerfile), _registries(pulls))


def _registries(images: list[str]) -> tuple[str, ...]:
    hosts: list[str] = []
    for image in images:
        try:
            host = ImageReference.parse(image).registry
        except BuildError:
            continue
        if host not in hosts:
            hosts.append(host)
    return tuple(hosts)


def _inside(root: Path, relative: str, what: str) -> Path:
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root.resolve()):
        raise BuildError(
            StatusReason.INVALID_CONTEXT_DIRECTORY, f"{what} {relative!r} is outside the source"
        )
    return candidate


def _prepare_docker(ctx: _Prep, strategy: DockerStrategyPlan) -> Prepared:
    plan, ws, info, source_root = ctx.plan, ctx.ws, ctx.info, ctx.source_root
    registry, log, stages = ctx.registry, ctx.log, ctx.stages
    dockerfile = _inside(source_root, strategy.dockerfile_path or "Dockerfile", "dockerfilePath")
    if not dockerfile.is_file():
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED,
            f"no Dockerfile at {strategy.dockerfile_path or 'Dockerfile'!r} in the source"
            + (f" (contextDir {plan.source.context_dir!r})" if plan.source.context_dir else ""),
        )
    from_image = None
    if strategy.from_image:
        with stages.stage("PullImages", "PullBaseImage"):
            from_image = _builder_info(registry, strategy.from_image).pull_spec
    text = rewrite(
        dockerfile.read_text(errors="replace"),
        from_image=from_image,
        strategy_env=strategy.env,
        build_env=_identity_env(plan, info),
        labels=_identity_labels(plan, info),
    )
    # Written outside the context so the user's Dockerfile in the checkout is
    # untouched and COPY . cannot pick up our edited copy.
    out = ws.root / "Dockerfile"
    out.write_text(text)
    mode = dockerfile.stat().st_mode
    out.chmod(stat.S_IMODE(mode) | stat.S_IRUSR)
    log(f"Using Dockerfile {strategy.dockerfile_path or 'Dockerfile'} with OpenShift's edits")
    return Prepared(str(source_root), str(out), _registries(stage_images(text)))


# --------------------------------------------------------------------------- build & push


@dataclass(frozen=True)
class Output:
    image_id: str
    # Empty when the build has no output to push.
    digest: str
    reference: str


def build_and_push(
    plan: BuildPlan,
    prepared: Prepared,
    buildah: Buildah,
    log: LogFn,
    stages: StageRecorder,
) -> Output:
    strategy = plan.strategy
    # The registry client's rule (a bare host covers every port), without its
    # loopback default: buildah wants --tls-verify=false named explicitly.
    insecure = insecure_policy(plan.insecure_registries, loopback=False)
    tls_verify = not any(insecure(host) for host in prepared.pulls_from)
    tag = plan.output or f"localhost/kbuild/{plan.name or 'build'}:latest"
    if isinstance(strategy, DockerStrategyPlan):
        build_args, no_cache, force_pull = (
            strategy.build_args,
            strategy.no_cache,
            strategy.force_pull,
        )
    else:
        build_args, no_cache, force_pull = (), False, strategy.force_pull
    with stages.stage("Build", "DockerBuild"):
        built = buildah.bud(
            context=Path(prepared.context),
            dockerfile=Path(prepared.dockerfile),
            tag=tag,
            build_args=build_args,
            no_cache=no_cache,
            pull_always=force_pull,
            tls_verify=tls_verify,
            authfile=plan.pull_authfile,
        )
    if plan.post_commit is not None and plan.post_commit.argv():
        with stages.stage("PostCommit", "RunPostCommitHook"):
            done = buildah.run_in_image(built.image_id, plan.post_commit.argv())
            if done.returncode != 0:
                last = done.tail[-1] if done.tail else ""
                raise BuildError(
                    StatusReason.POST_COMMIT_HOOK_FAILED,
                    f"post-commit hook exited {done.returncode}: {last}".rstrip(": "),
                )
    if not plan.output:
        log("Build complete, no image push requested")
        return Output(built.image_id, "", "")
    out_ref = ImageReference.parse(plan.output)
    with stages.stage("PushImage", "PushImage"):
        pushed = buildah.push(
            built.image_id,
            plan.output,
            tls_verify=not insecure(out_ref.registry),
            authfile=plan.push_authfile,
        )
    log(f"Successfully pushed {plan.output}@{pushed.digest}")
    return Output(built.image_id, pushed.digest, str(out_ref.with_digest(pushed.digest)))
