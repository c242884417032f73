"""``kbuild build``: a one-shot local build, like ``s2i build``, with no cluster.

It runs the very pipeline the build pod runs, against buildah on this machine,
and pushes to the registry named by ``--to``.  The source may be a git URL, a
local git checkout (cloned, so ``--ref`` works and commit labels are right), a
plain directory, an archive or a single file (copied as binary input).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from builder.api import BuildError, StatusReason
from builder.cli import output
from builder.cli.args import insecure_registries_from_env, key_value, label
from builder.pipeline.fetch import start_fetch
from builder.pipeline.plan import (
    BinaryInput,
    BuildPlan,
    DockerStrategyPlan,
    GitInput,
    SourcePlan,
    SourceStrategyPlan,
)
from builder.record import replace

if TYPE_CHECKING:
    from builder.api import CommonSpec, ObjectMeta, ObjectReference
    from builder.registry import RegistryClient

_GIT_URL_PREFIXES = ("http://", "https://", "git://", "ssh://", "file://", "git@")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "build",
        help="build an image locally from source (no cluster needed)",
        description=(
            "Build SOURCE with the Source (S2I) or Docker strategy using buildah, and push "
            "the result to --to.  Accepts s2i's positional form too: "
            "kbuild build SOURCE BUILDER TAG."
        ),
    )
    p.add_argument(
        "source", nargs="?", help="git URL, local git checkout, directory, archive or file"
    )
    p.add_argument(
        "-f",
        "--filename",
        type=Path,
        help="build the BuildConfig or Build in this manifest (flags override its fields)",
    )
    p.add_argument("builder_pos", nargs="?", metavar="BUILDER", help="builder image (S2I)")
    p.add_argument("tag_pos", nargs="?", metavar="TAG", help="output image")
    p.add_argument(
        "--strategy", choices=["source", "docker"], help="default: source if a builder is given"
    )
    p.add_argument("--builder", help="S2I builder image")
    p.add_argument("--to", help="push the result to this image reference")
    p.add_argument("--ref", default="", help="git branch, tag or commit")
    p.add_argument("--context-dir", default="", help="subdirectory of the source to build")
    p.add_argument("-e", "--env", action="append", type=key_value, default=[], metavar="KEY=VALUE")
    p.add_argument("--build-arg", action="append", type=key_value, default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--label",
        action="append",
        type=label,
        default=[],
        metavar="NAME=VALUE",
        help="extra output image label (output.imageLabels)",
    )
    p.add_argument("--dockerfile", default="Dockerfile", help="Docker strategy: dockerfilePath")
    p.add_argument("--from", dest="from_image", help="Docker strategy: replace the last FROM image")
    p.add_argument("--scripts-url", help="S2I scripts URL (image:///path or http(s) URL)")
    p.add_argument(
        "--incremental", action="store_true", help="S2I: reuse artifacts of the previous --to image"
    )
    p.add_argument(
        "--incremental-from",
        metavar="IMAGE",
        help="S2I: reuse the artifacts of IMAGE instead of --to's (implies --incremental)",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="Docker strategy: do not use cached layers"
    )
    p.add_argument(
        "--pull", action="store_true", help="always pull the builder/base image (forcePull)"
    )
    p.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="registry spoken to over plain HTTP (also $KBUILD_INSECURE_REGISTRIES)",
    )
    p.add_argument("--authfile", help="docker config JSON with registry credentials")
    p.add_argument(
        "--as-dockerfile",
        metavar="PATH",
        help="write the Dockerfile (and S2I context) to PATH and stop; PATH/ or an existing "
        "directory means PATH/Dockerfile",
    )
    p.set_defaults(run=run)  # fmt: skip


def _source_plan(ns: argparse.Namespace) -> SourcePlan:
    text: str | None = ns.source
    if not text:
        raise BuildError(StatusReason.FETCH_SOURCE_FAILED, "give a SOURCE (or -f MANIFEST)")
    path = Path(text)
    if text.startswith(_GIT_URL_PREFIXES) or (path.is_dir() and (path / ".git").exists()):
        uri = str(path.resolve()) if path.exists() else text
        return SourcePlan(git=GitInput(uri=uri, ref=ns.ref), context_dir=ns.context_dir)
    if ns.ref:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED, f"--ref needs a git source, and {text} is not one"
        )
    if not path.exists():
        raise BuildError(StatusReason.FETCH_SOURCE_FAILED, f"source {text} does not exist")
    return SourcePlan(binary=BinaryInput(path=path.resolve()), context_dir=ns.context_dir)


def _insecure(ns: argparse.Namespace) -> frozenset[str]:
    hosts = set(ns.insecure_registry)
    hosts |= set(insecure_registries_from_env())
    return frozenset(hosts)


def _manifest_spec(path: Path) -> tuple[CommonSpec, ObjectMeta]:
    # Loaded here, not at import: the models cost more start-up time than a
    # whole flag-driven build spends outside buildah.
    from builder.api import Build, BuildConfig, ManifestError, load_manifests  # noqa: PLC0415
    from builder.api.manifest import MAX_MANIFEST_CHARS  # noqa: PLC0415

    try:
        # Never more than the loader accepts (plus one, to tell it is too
        # large): a FILE of /dev/zero must not fill the memory.
        with path.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_CHARS + 1)
    except OSError as exc:
        raise BuildError(
            StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, f"{path}: {exc.strerror or exc}"
        ) from exc
    try:
        objects = load_manifests(data)
    except ManifestError as exc:
        # One line for the CLI, with every problem: the second is often the
        # helpful one ("unknown field 'frm' (did you mean 'from'?)").
        problems = "; ".join(exc.problems)
        raise BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, f"{path}: {problems}") from exc
    buildable = [o for o in objects if isinstance(o, BuildConfig | Build)]
    if len(buildable) != 1:
        raise BuildError(
            StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
            f"{path} holds {len(buildable)} BuildConfigs/Builds; kbuild build -f needs exactly one",
        )
    obj = buildable[0]
    return obj.spec, obj.metadata


def _plan_from_manifest(ns: argparse.Namespace) -> BuildPlan:
    from builder.pipeline.from_build import docker_image_only, plan_from_spec  # noqa: PLC0415

    spec, _ = _manifest_spec(ns.filename)
    builder = ns.builder or ns.builder_pos
    to = ns.to or ns.tag_pos

    def resolve(ref: ObjectReference, role: str) -> str:
        if builder and "from" in role:
            return str(builder)
        if to and "output" in role:
            return str(to)
        return docker_image_only(ref, role)

    binary = Path(ns.source).resolve() if ns.source and spec.source.binary is not None else None
    plan = plan_from_spec(
        spec,
        resolve_image=resolve,
        binary=binary,
        insecure_registries=_insecure(ns),
        pull_authfile=ns.authfile,
        push_authfile=ns.authfile,
    )
    if ns.source and binary is None:
        plan = replace(plan, source=replace(_source_plan(ns), context_dir=plan.source.context_dir))
    if ns.ref and plan.source.git is not None:
        plan = replace(plan, source=replace(plan.source, git=replace(plan.source.git, ref=ns.ref)))
    if ns.context_dir:
        plan = replace(plan, source=replace(plan.source, context_dir=ns.context_dir))
    strategy = plan.strategy
    strategy = replace(strategy, env=(*strategy.env, *ns.env))
    if isinstance(strategy, DockerStrategyPlan) and ns.build_arg:
        strategy = replace(strategy, build_args=(*strategy.build_args, *ns.build_arg))
    if isinstance(strategy, SourceStrategyPlan) and ns.incremental_from:
        strategy = replace(strategy, incremental=True, incremental_from=ns.incremental_from)
    plan = replace(plan, strategy=strategy, image_labels=(*plan.image_labels, *ns.label))
    if plan.output is None and ns.as_dockerfile is None:
        raise BuildError(
            StatusReason.INVALID_OUTPUT_REFERENCE, "the manifest has no output; give --to IMAGE"
        )
    return plan


def plan_from_args(ns: argparse.Namespace) -> BuildPlan:
    if ns.filename is not None:
        return _plan_from_manifest(ns)
    builder = ns.builder or ns.builder_pos
    to = ns.to or ns.tag_pos
    strategy_name = ns.strategy or ("source" if builder else "docker")
    strategy: SourceStrategyPlan | DockerStrategyPlan
    if strategy_name == "source":
        if ns.scripts_url:
            # Refused before anything is fetched (the pipeline refuses it too).
            # Imported only then: the S2I package is not needed before git starts.
            from builder.s2i.scripts import check_scripts_url  # noqa: PLC0415

            check_scripts_url(ns.scripts_url, "--scripts-url")
        if not builder:
            raise BuildError(
                StatusReason.PULL_BUILDER_IMAGE_FAILED, "the source strategy needs --builder IMAGE"
            )
        strategy = SourceStrategyPlan(
            builder_image=builder,
            scripts_url=ns.scripts_url,
            incremental=ns.incremental or bool(ns.incremental_from),
            incremental_from=ns.incremental_from,
            force_pull=ns.pull,
            env=tuple(ns.env),
        )
        if ns.build_arg:
            raise BuildError(
                StatusReason.GENERIC_BUILD_FAILED, "--build-arg applies to the docker strategy only"
            )
    else:
        strategy = DockerStrategyPlan(
            from_image=ns.from_image,
            dockerfile_path=ns.dockerfile,
            build_args=tuple(ns.build_arg),
            no_cache=ns.no_cache,
            force_pull=ns.pull,
            env=tuple(ns.env),
        )
    if not to and ns.as_dockerfile is None:
        raise BuildError(
            StatusReason.INVALID_OUTPUT_REFERENCE, "give --to IMAGE (or --as-dockerfile PATH)"
        )
    return BuildPlan(
        source=_source_plan(ns),
        strategy=strategy,
        output=to,
        image_labels=tuple(ns.label),
        insecure_registries=_insecure(ns),
        pull_authfile=ns.authfile,
        push_authfile=ns.authfile,
    )


def _registry_client(insecure: frozenset[str], authfile: str | None) -> RegistryClient:
    """Credentials as buildah finds them, so both see the registry the same way."""
    from builder.registry import CredentialStore, RegistryClient  # noqa: PLC0415

    store = CredentialStore.from_file(authfile) if authfile else CredentialStore.from_environment()
    return RegistryClient(credentials=store, insecure=set(insecure))


def run(ns: argparse.Namespace) -> int:
    started = None
    failure: BuildError | None = None
    try:
        plan = plan_from_args(ns)
        # git runs while the registry client, buildah and the renderer load:
        # imported only now, they overlap the clone (builder.pipeline.fetch).
        started = start_fetch(plan, output.log)
        from builder.buildah import Buildah, BuildahConfig  # noqa: PLC0415
        from builder.pipeline.run import run_build  # noqa: PLC0415

        registry = _registry_client(plan.insecure_registries, ns.authfile)
        buildah = Buildah(
            BuildahConfig(isolation=os.environ.get("BUILDAH_ISOLATION") or None), log=output.log
        )
        taken, started = started, None  # run_build owns its workspace from here
        outcome = run_build(
            plan,
            registry=registry,
            buildah=buildah,
            log=output.log,
            as_dockerfile=ns.as_dockerfile,
            started=taken,
        )
    except BuildError as err:
        failure = err
    except KeyboardInterrupt:
        failure = BuildError(StatusReason.CANCELLED_BUILD, "interrupted")
    finally:
        # A fetch no build will use is stopped before the error is printed:
        # the log ends with the error.
        if started is not None:
            started.discard()
    if failure is not None:
        return output.fail(failure)
    if outcome.output is not None and outcome.output.digest:
        output.log(f"Pushed {outcome.output.reference}")
        output.result(outcome.output.digest)
    return 0
