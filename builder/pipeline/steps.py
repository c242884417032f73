"""The build steps: fetch the source, prepare it, render the Dockerfile, build and push.

Each step reads what the previous one wrote to the workspace, so the build pod
can run them in separate containers and ``kbuild build`` can run them in one
process, with the same code.

The split follows the secrets (DESIGN.md §7: a secret reaches only the step
that needs it).  The source tree is committer content, so the one step that
reads it (``prepare``: ``.s2i/bin``, ``.s2i/environment``, ``.s2iignore``,
the Docker strategy's Dockerfile and ignore files) needs no credential and
runs in a container with none mounted; it reads every file through
``builder.source.confined``, which never follows a link out of the tree, and
applies ``.s2iignore`` to its copy of the tree the same way.
``render_dockerfile`` needs registry access (the builder image's labels, the
previous image of an incremental build) but reads only what ``prepare`` left
in the workspace, never the tree; it is also where an http(s) scripts-url
label of the builder is downloaded, since only it knows the label.
``build_image`` runs the committer's code (assemble, ``RUN`` lines, the
post-commit hook), so it gets no credential either: ``pull_images`` has
already put every image it starts from in buildah's storage.  It does get
the build's own inputs, which exist for the committer's code to read
(``builder.pipeline.inputs``): source secrets and configMaps, build volumes.

=================  ==================  =============================================
step               pod container       secrets it needs
=================  ==================  =============================================
fetch              git-clone           source (git credentials)
prepare            manage-dockerfile   none
render_dockerfile  pull-images         pull (builder), push (previous), env valueFrom
pull_images        pull-images         pull (FROM images), push (previous image)
build_image        build-image         the build's inputs (source secrets, volumes)
push_image         sti/docker-build    push (the output)
=================  ==================  =============================================

The push secret reaches pull-images only for an incremental build.
``build_and_push`` chains the last three for ``kbuild build``, where one
process holds every credential anyway: there ``buildah bud`` pulls the images
the build starts from itself, with the pull credentials (one buildah run
fewer per build).
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import stat
import tempfile
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.buildah import Buildah, LogFn
from builder.pipeline.plan import (
    BuildPlan,
    DockerStrategyPlan,
    Pairs,
    SourceStrategyPlan,
)
from builder.pipeline.retry import read_with_retries
from builder.pipeline.stages import StageRecorder
from builder.pipeline.workspace import Workspace
from builder.record import Record, asdict
from builder.registry import (
    ImageReference,
    RegistryClient,
    RegistryError,
    httpconn,
    insecure_policy,
)
from builder.registry.transport import describe_connection_error
from builder.s2i import KNOWN_SCRIPTS, BuilderImage, S2IInputs, parse_environment, render
from builder.s2i.scripts import (
    builder_scripts_url,
    check_scripts_url,
    is_download_url,
    strategy_takes_all_scripts,
)
from builder.source import (
    SourceInfo,
    apply_s2iignore,
    build_env,
    build_labels,
    mode_inside,
    read_inside,
    resolve_context_dir,
    resolve_inside,
    write_inside,
)

SCRIPT_DOWNLOAD_TIMEOUT = 30
# What prepare reads from the tree, bounded: a repository is untrusted input.
MAX_SCRIPT_BYTES = 16 * 1024 * 1024
MAX_ENVIRONMENT_BYTES = 1024 * 1024
MAX_DOCKERFILE_BYTES = 4 * 1024 * 1024
# Files buildah reads from a Docker build's context by itself.
IGNORE_FILES = (".containerignore", ".dockerignore")


# --------------------------------------------------------------------------- prepare


class Staged(Record):
    """What ``prepare`` took from the source tree, for ``render_dockerfile``.

    S2I: the build context (``upload/src``, ``upload/scripts``), the scripts
    that arrived and the ``.s2i/environment`` entries.  Docker: the source
    context and a copy of the user's Dockerfile in the workspace, so the
    step holding the registry secrets never opens a file of the tree.
    """

    context: str
    scripts: tuple[str, ...] = ()
    env: Pairs = ()
    dockerfile: str = ""
    dockerfile_mode: int = 0o644
    dockerfile_name: str = ""

    def save(self, ws: Workspace) -> None:
        ws.staged.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, ws: Workspace) -> Staged:
        data = json.loads(ws.staged.read_text())
        return cls(
            context=data["context"],
            scripts=tuple(data["scripts"]),
            env=tuple((str(k), str(v)) for k, v in data["env"]),
            dockerfile=data["dockerfile"],
            dockerfile_mode=int(data["dockerfile_mode"]),
            dockerfile_name=data["dockerfile_name"],
        )


class Prepared(Record):
    """What the build step needs: a context directory and a Dockerfile path."""

    context: str
    dockerfile: str
    # The registries buildah will pull from, to decide on TLS verification.
    pulls_from: tuple[str, ...]
    # What ``pull_images`` pulls before the build, with the pull secret ...
    images: tuple[str, ...] = ()
    # ... and the previous image of an incremental build, with the push secret.
    previous: str = ""
    # S2I: (pod directory of a source secret/configMap, directory in the image)
    # pairs, bind-mounted into the RUN steps by ``build_image``.
    input_mounts: tuple[tuple[str, str], ...] = ()

    def save(self, ws: Workspace) -> None:
        ws.prepared.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, ws: Workspace) -> Prepared:
        data = json.loads(ws.prepared.read_text())
        return cls(
            data["context"],
            data["dockerfile"],
            tuple(data["pulls_from"]),
            tuple(data.get("images") or ()),
            data.get("previous") or "",
            tuple((str(a), str(b)) for a, b in data.get("input_mounts") or ()),
        )


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
    # Links are copied as links: the image gets the link, never what it points at.
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)


def _fetch_script(target: str, log: LogFn) -> bytes | None:
    """``target``'s body, or None when it does not serve one (a warning says why if it failed).

    The body is bounded (a scripts URL is whoever serves it) and redirects
    may only go to http(s).
    """
    session = httpconn.Session(timeout=SCRIPT_DOWNLOAD_TIMEOUT, user_agent="kbuild")
    data = bytearray()
    try:
        response = session.request("GET", target, headers={}, verify=True)
        try:
            if response.status != 200:
                return None
            for chunk in response.chunks(64 << 10):
                data += chunk
                if len(data) > MAX_SCRIPT_BYTES:
                    break
        finally:
            response.close()
    except (httpconn.ConnectError, httpconn.ExchangeError, httpconn.HTTPProtocolError) as exc:
        log(f"warning: could not download {target}: {describe_connection_error(exc)}")
        return None
    finally:
        session.close()
    if len(data) > MAX_SCRIPT_BYTES:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED,
            f"the script at {target} is larger than {MAX_SCRIPT_BYTES} bytes",
        )
    return bytes(data)


def _download_scripts(
    url: str, dest: Path, log: LogFn, *, skip: frozenset[str] = frozenset()
) -> set[str]:
    """Fetch ``<url>/<script>`` for each known script not in ``skip``; missing ones are fine."""
    found: set[str] = set()
    for name in KNOWN_SCRIPTS:
        if name in skip:
            continue
        target = f"{url.rstrip('/')}/{name}"
        data = _fetch_script(target, log)
        if data is None:
            continue
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / name
        path.write_bytes(data)
        path.chmod(0o755)
        found.add(name)
        log(f"Downloaded {name} script from {target}")
    return found


def _in_tree(context_dir: str, *parts: str) -> str:
    """A path of the checkout: contextDir applies to ``.s2i`` as to the rest."""
    return posixpath.join(context_dir, *parts) if context_dir else posixpath.join(*parts)


def _stage_scripts(
    strategy: SourceStrategyPlan, ws: Workspace, context_dir: str, log: LogFn
) -> set[str]:
    """The source's ``.s2i/bin`` (never through a link out of the tree), then the scripts URL's.

    An ``image://`` strategy URL takes every script from the builder image,
    so ``.s2i/bin`` is not used (s2i ranks that URL first); an http(s) URL's
    scripts replace ``.s2i/bin``'s, and serving none fails the build, as in s2i.
    """
    url = check_scripts_url(strategy.scripts_url, "the strategy's scripts URL") or ""
    upload_scripts = ws.context / "upload" / "scripts"
    uploaded: set[str] = set()
    if strategy_takes_all_scripts(url):
        log(f"Using the scripts in {url} (the strategy's scripts URL); .s2i/bin is not used")
        return uploaded
    for name in KNOWN_SCRIPTS:
        data = read_inside(
            ws.source,
            _in_tree(context_dir, ".s2i", "bin", name),
            what="the S2I script",
            reason=StatusReason.MANAGE_DOCKERFILE_FAILED,
            limit=MAX_SCRIPT_BYTES,
        )
        if data is None:
            continue
        upload_scripts.mkdir(parents=True, exist_ok=True)
        (upload_scripts / name).write_bytes(data)
        (upload_scripts / name).chmod(0o755)
        uploaded.add(name)
        log(f"Using {name} script from the source's .s2i/bin")
    if is_download_url(url):
        downloaded = _download_scripts(url, upload_scripts, log)
        if not downloaded:
            raise BuildError(
                StatusReason.MANAGE_DOCKERFILE_FAILED, f"could not download any scripts from {url}"
            )
        uploaded |= downloaded
    return uploaded


def _apply_ignore(ws: Workspace, log: LogFn) -> bool:
    """Honour ``.s2iignore`` on the upload; True if it removed ``.s2i/environment``."""
    upload_src = ws.context / "upload" / "src"
    environment = upload_src / ".s2i" / "environment"
    had_environment = os.path.lexists(environment)
    result = apply_s2iignore(upload_src)
    for warning in result.warnings:
        log(f"warning: {warning}")
    if result.removed:
        shown = ", ".join(result.removed[:10])
        more = f" and {len(result.removed) - 10} more" if len(result.removed) > 10 else ""
        log(f"Removed {len(result.removed)} paths listed in .s2iignore: {shown}{more}")
    return had_environment and not os.path.lexists(environment)


def _read_environment(ws: Workspace, context_dir: str, log: LogFn) -> Pairs:
    data = read_inside(
        ws.source,
        _in_tree(context_dir, ".s2i", "environment"),
        what="the S2I environment file",
        reason=StatusReason.MANAGE_DOCKERFILE_FAILED,
        limit=MAX_ENVIRONMENT_BYTES,
    )
    if data is None:
        return ()
    parsed = parse_environment(data.decode("utf-8", errors="replace"))
    for warning in parsed.warnings:
        log(f"warning: {warning}")
    return parsed.entries


def prepare(plan: BuildPlan, *, ws: Workspace, log: LogFn) -> Staged:
    """Take what the build needs from the source tree; the only step that reads it.

    It needs no credential (the build pod mounts none into its container),
    and every file is read through ``builder.source.confined``.
    """
    context_dir = plan.source.context_dir
    source_root = resolve_context_dir(ws.source, context_dir)
    strategy = plan.strategy
    if isinstance(strategy, SourceStrategyPlan):
        staged = _prepare_s2i(strategy, ws, source_root, context_dir, log)
    else:
        staged = _prepare_docker(strategy, ws, source_root, context_dir, log)
    staged.save(ws)
    return staged


def _prepare_s2i(
    strategy: SourceStrategyPlan, ws: Workspace, source_root: Path, context_dir: str, log: LogFn
) -> Staged:
    if ws.context.exists():
        shutil.rmtree(ws.context)
    _copy_tree(source_root, ws.context / "upload" / "src")
    part = f" (contextDir {context_dir!r})" if context_dir else ""
    log(f"Copied the source{part} into the build context")
    uploaded = _stage_scripts(strategy, ws, context_dir, log)
    # s2i reads .s2i/environment from the upload after .s2iignore ran.
    env = () if _apply_ignore(ws, log) else _read_environment(ws, context_dir, log)
    if env:
        log(f"Read {len(env)} variables from .s2i/environment")
    return Staged(context=str(ws.context), scripts=tuple(sorted(uploaded)), env=env)


def _prepare_docker(
    strategy: DockerStrategyPlan, ws: Workspace, source_root: Path, context_dir: str, log: LogFn
) -> Staged:
    name = strategy.dockerfile_path or "Dockerfile"
    where = f" (contextDir {context_dir!r})" if context_dir else ""
    if posixpath.normpath(name).startswith("../") or posixpath.normpath(name) == "..":
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED,
            f"dockerfilePath {name!r} must be a relative path within the context directory",
        )
    # Relative to the context directory, and confined to it, as OpenShift's
    # dockerfilePath is.
    data = read_inside(
        source_root,
        name,
        what="dockerfilePath",
        reason=StatusReason.MANAGE_DOCKERFILE_FAILED,
        limit=MAX_DOCKERFILE_BYTES,
    )
    if data is None:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED, f"no Dockerfile at {name!r} in the source{where}"
        )
    mode = mode_inside(
        source_root, name, what="dockerfilePath", reason=StatusReason.MANAGE_DOCKERFILE_FAILED
    )
    # buildah reads these from the context by itself (a link out would let it
    # read a file of the pod, or of the user's machine for kbuild build):
    # such a link is refused here, before buildah runs.
    for ignore in IGNORE_FILES:
        read_inside(
            source_root,
            ignore,
            what="the ignore file",
            reason=StatusReason.MANAGE_DOCKERFILE_FAILED,
            limit=MAX_DOCKERFILE_BYTES,
        )
    copy = ws.root / "Dockerfile.source"
    copy.write_bytes(data)
    log(f"Read the Dockerfile {name}{where}")
    return Staged(
        context=str(source_root),
        dockerfile=str(copy),
        dockerfile_mode=stat.S_IMODE(mode or 0o644),
        dockerfile_name=name,
    )


# --------------------------------------------------------------------------- render


def _builder_config(registry: RegistryClient, image: str, log: LogFn) -> tuple[BuilderImage, str]:
    """Read the builder's config and pin it by digest; also its working directory.

    The Dockerfile then names exactly the image whose labels and USER we
    read, however the tag moves meanwhile, and buildah can skip the registry
    when that digest is already in local storage.
    """
    ref = ImageReference.parse(image)
    try:
        config = read_with_retries(
            lambda: registry.image_config(ref), log, f"reading the builder image {image}"
        )
    except RegistryError as err:
        raise BuildError(
            StatusReason.PULL_BUILDER_IMAGE_FAILED, f"builder image {image}: {err.detail}"
        ) from err
    pinned = str(ref.with_digest(config.manifest_digest))
    builder = BuilderImage(pull_spec=pinned, labels=dict(config.labels), user=config.user or None)
    return builder, config.workdir


def _builder_info(registry: RegistryClient, image: str, log: LogFn) -> BuilderImage:
    return _builder_config(registry, image, log)[0]


def _s2i_input_mounts(plan: BuildPlan, workdir: str, log: LogFn) -> tuple[tuple[str, str], ...]:
    """Where each source secret/configMap goes in the image: destinationDir below WORKDIR.

    OpenShift's rule: a relative (or empty) destinationDir is relative to the
    builder image's working directory; the container's default, ``/``, when
    the image sets none.
    """
    base = workdir if workdir.startswith("/") else "/"
    mounts: list[tuple[str, str]] = []
    for item in plan.source.inputs:
        target = posixpath.normpath(posixpath.join(base, item.destination_dir))
        log(f"The {item.kind} {item.name!r} is mounted at {target} for the build's RUN steps only")
        mounts.append((item.mount_path, target))
    return tuple(mounts)


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


class _Render(Record):
    """Everything the strategy-specific render steps read."""

    plan: BuildPlan
    ws: Workspace
    info: SourceInfo
    staged: Staged
    registry: RegistryClient
    log: LogFn
    stages: StageRecorder


def render_dockerfile(
    plan: BuildPlan,
    *,
    ws: Workspace,
    info: SourceInfo,
    staged: Staged,
    registry: RegistryClient,
    log: LogFn,
    stages: StageRecorder,
) -> Prepared:
    """Pin the images and write the Dockerfile buildah runs, from ``staged`` only.

    Needs the registry (the builder's labels and USER, the previous image of
    an incremental build), so in the pod it runs with the registry secrets,
    which is why it never opens a file of the source tree.
    """
    ctx = _Render(plan, ws, info, staged, registry, log, stages)
    strategy = plan.strategy
    if isinstance(strategy, SourceStrategyPlan):
        prepared = _render_s2i(ctx, strategy)
    else:
        prepared = _render_docker(ctx, strategy)
    prepared.save(ws)
    return prepared


def _render_s2i(ctx: _Render, strategy: SourceStrategyPlan) -> Prepared:
    plan, ws, info, staged, log = ctx.plan, ctx.ws, ctx.info, ctx.staged, ctx.log
    with ctx.stages.stage("PullImages", "PullBaseImage"):
        builder, workdir = _builder_config(ctx.registry, strategy.builder_image, log)
        previous = (
            _previous_image(ctx.registry, strategy.incremental_from or plan.output, log)
            if strategy.incremental
            else None
        )
    env: list[tuple[str, str]] = [*staged.env, *strategy.env, *_identity_env(plan, info)]
    scripts = set(staged.scripts) | _builder_label_scripts(ws, strategy, builder, staged, log)
    result = render(
        S2IInputs(
            builder=builder,
            uploaded_scripts=frozenset(scripts),
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
    return Prepared(
        staged.context,
        str(dockerfile),
        _registries(pulls),
        images=(builder.pull_spec,),
        previous=previous or "",
        input_mounts=_s2i_input_mounts(plan, workdir, log),
    )


def _builder_label_scripts(
    ws: Workspace,
    strategy: SourceStrategyPlan,
    builder: BuilderImage,
    staged: Staged,
    log: LogFn,
) -> set[str]:
    """Download the scripts an http(s) ``io.openshift.s2i.scripts-url`` label names.

    They rank below ``.s2i/bin`` and the strategy's URL (already staged by
    ``prepare``), so only the names those did not give are fetched; a name the
    URL does not serve stays the image's own (``/usr/libexec/s2i``), as in s2i.
    The label is read here because only this step reads the builder's config;
    nothing of the source tree is opened.
    """
    label = builder_scripts_url(builder.labels)
    if label is None or not is_download_url(label):
        return set()
    if strategy_takes_all_scripts(strategy.scripts_url):
        return set()
    log(f"Downloading scripts from the builder image's scripts URL {label}")
    return _download_scripts(
        label,
        ws.context / "upload" / "scripts",
        log,
        skip=frozenset(staged.scripts),
    )


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


def _render_docker(ctx: _Render, strategy: DockerStrategyPlan) -> Prepared:
    # The Dockerfile parser loads with the Docker strategy only (start-up of an S2I build).
    from builder.dockerfile import rewrite, stage_images  # noqa: PLC0415

    plan, ws, info, staged = ctx.plan, ctx.ws, ctx.info, ctx.staged
    from_image = None
    if strategy.from_image:
        with ctx.stages.stage("PullImages", "PullBaseImage"):
            from_image = _builder_info(ctx.registry, strategy.from_image, ctx.log).pull_spec
    text = rewrite(
        Path(staged.dockerfile).read_text(errors="replace"),
        from_image=from_image,
        strategy_env=strategy.env,
        build_env=_identity_env(plan, info),
        labels=_identity_labels(plan, info),
    )
    # Written outside the context so the user's Dockerfile in the checkout is
    # untouched and COPY . cannot pick up our edited copy.
    out = ws.root / "Dockerfile"
    out.write_text(text)
    out.chmod(staged.dockerfile_mode | stat.S_IRUSR)
    ctx.log(f"Using Dockerfile {staged.dockerfile_name} with OpenShift's edits")
    stage_refs = stage_images(text)
    # A FROM naming a build arg ($BASE) is resolved by buildah at build time.
    pullable = tuple(dict.fromkeys(i for i in stage_refs if "$" not in i))
    return Prepared(staged.context, str(out), _registries(stage_refs), images=pullable)


# --------------------------------------------------------------------------- pull, build, push


class Output(Record):
    image_id: str
    # Empty when the build has no output to push.
    digest: str
    reference: str


class Built(Record):
    """The image ``build_image`` committed to local storage, for ``push_image``."""

    image_id: str

    def save(self, ws: Workspace) -> None:
        ws.built.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, ws: Workspace) -> Built:
        return cls(json.loads(ws.built.read_text())["image_id"])


def _tls_verify(plan: BuildPlan, hosts: tuple[str, ...]) -> bool:
    # The registry client's rule (a bare host covers every port), without its
    # loopback default: buildah wants --tls-verify=false named explicitly.
    insecure = insecure_policy(plan.insecure_registries, loopback=False)
    return not any(insecure(host) for host in hosts)


def pull_images(
    plan: BuildPlan,
    prepared: Prepared,
    buildah: Buildah,
    log: LogFn,
    stages: StageRecorder,
    *,
    base_images: bool = True,
) -> None:
    """Pull every image the build starts from, so the build itself needs no credential.

    The builder (or the Docker strategy's FROM images) with the pull secret,
    the previous image of an incremental build with the push secret (it is
    the output repository).  OpenShift's forcePull is met here: a pull always
    asks the registry.  Without ``base_images`` the builder and FROM images
    are left to ``build_image(pull_base=True)``.
    """
    force = plan.strategy.force_pull
    with stages.stage("PullImages", "PullBaseImage"):
        for image in prepared.images if base_images else ():
            log(f"Pulling image {image} ...")
            buildah.pull(
                image,
                tls_verify=_tls_verify(plan, _registries([image])),
                authfile=plan.pull_authfile,
                always=force,
            )
        for source in plan.source.images:
            # Always asked of the registry, with the image's own pull secret:
            # a copy in a shared builder cache must not spare the check that
            # this namespace may pull it.
            log(f"Pulling the source image {source.image} ...")
            buildah.pull(
                source.image,
                tls_verify=_tls_verify(plan, _registries([source.image])),
                authfile=source.authfile,
                always=True,
            )
        if prepared.previous:
            log(f"Pulling the previous image {prepared.previous} ...")
            buildah.pull(
                prepared.previous,
                tls_verify=_tls_verify(plan, _registries([prepared.previous])),
                authfile=plan.push_authfile or plan.pull_authfile,
            )


def _input_files(directory: str) -> list[tuple[str, Path]]:
    """The files of a mounted Secret or ConfigMap: its keys, without the kubelet's ``..`` entries.

    The kubelet writes each key as a link into a ``..data`` directory it
    swaps atomically; the link is resolved here, inside the mount.
    """
    root = Path(directory)
    if not root.is_dir():
        raise BuildError(
            StatusReason.GENERIC_BUILD_FAILED, f"the build input {directory} is not mounted"
        )
    files: list[tuple[str, Path]] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".."):
            continue
        real = Path(os.path.realpath(entry))
        if real.is_file() and real.is_relative_to(os.path.realpath(root)):
            files.append((entry.name, real))
    return files


def _copy_inputs_into_context(plan: BuildPlan, context: Path, log: LogFn) -> None:
    """Docker strategy: OpenShift copies source secrets and configMaps into the context.

    The context is the committer's tree: every write is confined to it (a
    committed link at destinationDir is never written through).  A
    Dockerfile that COPYs these files puts them in the image; OpenShift's
    documentation and docs/local-build.md say not to.
    """
    for item in plan.source.inputs:
        what = f"destinationDir of the {item.kind} {item.name!r}"
        reason = StatusReason.MANAGE_DOCKERFILE_FAILED
        if item.destination_dir:
            resolved = resolve_inside(context, item.destination_dir, what=what, reason=reason)
            resolved.path.mkdir(parents=True, exist_ok=True)
        files = _input_files(item.mount_path)
        for key, real in files:
            relative = posixpath.join(item.destination_dir, key) if item.destination_dir else key
            write_inside(context, relative, real.read_bytes(), what=what, reason=reason)
        where = item.destination_dir or "."
        log(
            f"Copied the {item.kind} {item.name!r} ({len(files)} files) into the context at {where}"
        )


def _image_paths_root(plan: BuildPlan, prepared: Prepared) -> Path:
    """Where the build sees the source tree: the S2I upload or the Docker context."""
    context = Path(prepared.context)
    return context / "upload" / "src" if plan.kind == "Source" else context


def _context_relative(destination_dir: str, context_dir: str) -> str | None:
    """``destinationDir`` (relative to the repository, OpenShift's build dir) from the context."""
    target = posixpath.normpath(destination_dir or ".")
    base = posixpath.normpath(context_dir or ".")
    relative = posixpath.relpath(target, base)
    return None if relative == ".." or relative.startswith("../") else relative


def _copy_image_sources(
    plan: BuildPlan,
    prepared: Prepared,
    buildah: Buildah,
    log: LogFn,
    stages: StageRecorder,
    *,
    scratch_dir: Path | None,
) -> None:
    """OpenShift's ``source.images``: paths copied out of other images into the build's source.

    The images were pulled by ``pull_images`` (with their pull secrets);
    this step has none.  buildah writes each image's layers out of local
    storage and ``builder.source.imagepaths`` unpacks them into the
    workspace and copies the paths: each ``sourcePath`` resolved inside the
    image as a chroot would, every write confined to the context.
    ``destinationDir`` is relative to the repository root, as OpenShift's
    build directory is; what lands outside ``contextDir`` is not part of
    the build there either, and is said so here.
    """
    if not plan.source.images:
        return
    from builder.source.imagepaths import copy_from_export  # noqa: PLC0415 - image sources only

    root = _image_paths_root(plan, prepared)
    for index, source in enumerate(plan.source.images):
        pairs: list[tuple[str, str]] = []
        for source_path, destination_dir in source.paths:
            relative = _context_relative(destination_dir, plan.source.context_dir)
            if relative is None:
                log(
                    f"source.images[{index}]: {source_path} goes to {destination_dir!r}, outside "
                    f"contextDir {plan.source.context_dir!r}: not part of the build"
                )
                continue
            pairs.append((source_path, relative))
        if not pairs:
            continue
        log(f"Copying {len(pairs)} paths out of {source.image} into the build context")
        # The workspace (a size-limited emptyDir in the pod), never the context.
        scratch = Path(tempfile.mkdtemp(prefix="kbuild-image-source-", dir=scratch_dir))
        try:
            with stages.stage("FetchInputs", "PullInputImage"):
                buildah.export_image(source.image, scratch / "export")
                entries, size, skipped = copy_from_export(
                    scratch / "export", scratch / "root", root, pairs
                )
        except BuildError as err:
            raise BuildError(
                err.reason, f"source.images[{index}] ({source.image}): {err.detail}"
            ) from err
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        extra = f"; {skipped} entries skipped (devices, links out)" if skipped else ""
        log(f"Copied {entries} entries ({size} bytes) out of {source.image}{extra}")


# Where OpenShift's builder puts the trusted CAs for RUN steps with
# mountTrustedCA (it binds the build container's /etc/pki/ca-trust).
TRUSTED_CA_RUN_PATH = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"


def _run_volumes(plan: BuildPlan, prepared: Prepared, log: LogFn) -> list[tuple[str, str]]:
    """``(source, destination)`` bind mounts for the RUN steps: S2I inputs, then build volumes."""
    volumes: list[tuple[str, str]] = []
    if plan.trusted_ca:
        log(f"mountTrustedCA: the RUN steps see the trusted CA bundle at {TRUSTED_CA_RUN_PATH}")
        volumes.append((plan.trusted_ca, TRUSTED_CA_RUN_PATH))
    for directory, target in prepared.input_mounts:
        for key, real in _input_files(directory):
            volumes.append((str(real), posixpath.join(target, key)))
    for volume in plan.strategy.volumes:
        for destination in volume.destinations:
            log(f"The build volume {volume.name!r} is mounted read-only at {destination}")
            volumes.append((volume.mount_path, destination))
    return volumes


def build_image(
    plan: BuildPlan,
    prepared: Prepared,
    buildah: Buildah,
    stages: StageRecorder,
    log: LogFn = print,
    *,
    scratch: Path | None = None,
    pull_base: bool = False,
) -> Built:
    """``buildah bud`` and the post-commit hook: the committer's code runs here.

    The images were pulled by ``pull_images``; buildah is given no authfile
    and pulls only what is missing (a FROM naming a build arg), anonymously.
    No registry or source secret is mounted here; the build's own inputs
    (source secrets and configMaps, build volumes) are, since the build is
    what they are for (``builder.pipeline.inputs``).  ``pull_base`` (the
    one-process ``kbuild build`` only) lets buildah pull the builder and FROM
    images itself, with the pull credentials, and forcePull as ``--pull=always``.
    """
    strategy = plan.strategy
    tag = plan.output or f"localhost/kbuild/{plan.name or 'build'}:latest"
    _copy_image_sources(plan, prepared, buildah, log, stages, scratch_dir=scratch)
    if isinstance(strategy, DockerStrategyPlan):
        build_args, no_cache, layers = strategy.build_args, strategy.no_cache, strategy.layers
        _copy_inputs_into_context(plan, Path(prepared.context), log)
    else:
        # S2I's generated Dockerfile: one layer of the build's own.
        build_args, no_cache, layers = (), False, False
    volumes = _run_volumes(plan, prepared, log)
    with stages.stage("Build", "DockerBuild"):
        built = buildah.bud(
            context=Path(prepared.context),
            dockerfile=Path(prepared.dockerfile),
            tag=tag,
            build_args=build_args,
            no_cache=no_cache,
            layers=layers,
            pull_always=pull_base and strategy.force_pull,
            tls_verify=_tls_verify(plan, prepared.pulls_from),
            authfile=plan.pull_authfile if pull_base else None,
            volumes=volumes,
        )
    if plan.post_commit is not None and plan.post_commit.argv():
        with stages.stage("PostCommit", "RunPostCommitHook"):
            # OpenShift mounts the build volumes for the hook too (origin's
            # testdata-volumes-* hooks read them); source secrets it truncates.
            hook_volumes = [
                (volume.mount_path, destination)
                for volume in plan.strategy.volumes
                for destination in volume.destinations
            ]
            done = buildah.run_in_image(
                built.image_id, plan.post_commit.argv(), volumes=hook_volumes
            )
            if done.returncode != 0:
                last = done.tail[-1] if done.tail else ""
                raise BuildError(
                    StatusReason.POST_COMMIT_HOOK_FAILED,
                    f"post-commit hook exited {done.returncode}: {last}".rstrip(": "),
                )
    return Built(built.image_id)


def push_image(
    plan: BuildPlan, built: Built, buildah: Buildah, log: LogFn, stages: StageRecorder
) -> Output:
    """Push the built image with the push secret; nothing of the committer's runs here."""
    if not plan.output:
        log("Build complete, no image push requested")
        return Output(built.image_id, "", "")
    out_ref = ImageReference.parse(plan.output)
    with stages.stage("PushImage", "PushImage"):
        pushed = buildah.push(
            built.image_id,
            plan.output,
            tls_verify=_tls_verify(plan, (out_ref.registry,)),
            authfile=plan.push_authfile,
        )
    log(f"Successfully pushed {plan.output}@{pushed.digest}")
    return Output(built.image_id, pushed.digest, str(out_ref.with_digest(pushed.digest)))


def build_and_push(
    plan: BuildPlan,
    prepared: Prepared,
    buildah: Buildah,
    log: LogFn,
    stages: StageRecorder,
    *,
    scratch: Path | None = None,
) -> Output:
    """The last three steps in one process, as ``kbuild build`` runs them.

    ``buildah bud`` pulls the builder or FROM images (if missing, or always
    with forcePull) instead of a ``buildah pull`` of each first: this process
    holds the pull credentials anyway.  Source images and an incremental
    build's previous image keep their own pulls and credentials.
    """
    pull_images(plan, prepared, buildah, log, stages, base_images=False)
    built = build_image(plan, prepared, buildah, stages, log, scratch=scratch, pull_base=True)
    return push_image(plan, built, buildah, log, stages)
