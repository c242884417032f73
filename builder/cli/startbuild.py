"""``kbuild start-build``: start the next build of a BuildConfig, or re-run a build.

As ``oc start-build``: the Build is created with the cause ``Manually
triggered``, ``build.build.openshift.io/NAME started`` goes to stdout,
``--follow`` streams the log and ``--wait`` waits for the end.  Unlike
``oc``, ``--follow`` alone also waits for the final phase and exits 1 unless
the build completed, so a script can use either flag.

``--incremental`` (``=false`` too) overrides the source strategy's
``incremental`` for this build, and ``-e`` sets the strategy's environment
(a BuildConfig entry of the same name, ``valueFrom`` included, is replaced
by the plain value), both as OpenShift's build request does.
``--from-webhook URL`` POSTs a generic webhook instead
(``builder.cli.fromwebhook``).

``--from-build`` clones a build the way OpenShift's ``builds/clone`` does:
the spec of the old build (its commit included), numbered by its
BuildConfig like any new build, with ``openshift.io/build.clone-of``; a build
without a BuildConfig gets a name with a time suffix instead of a number.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from builder.cli.args import insecure_registries_from_env, key_value
from builder.cli.common import (
    BUILD_CONFIGS,
    BUILDS,
    CliError,
    add_cluster_flags,
    connect,
    not_found,
    run_guarded,
    server_message,
    split_ref,
)
from builder.cli.follow import BuildWatch, failure, is_terminal, stream_build_logs

if TYPE_CHECKING:
    from builder.api import Build, BuildConfig
    from builder.kube import Kube
    from builder.rules.instantiate import BuildOptions

MANUAL_CAUSE = "Manually triggered"
# Annotations of the old build that describe that build, not its clone.
_NOT_CLONED = frozenset(
    {
        "openshift.io/build.number",
        "openshift.io/build.pod-name",
        "openshift.io/build.clone-of",
    }
)
_CLONE_SUFFIX = re.compile(r"^(.+)-\d{10}$")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "start-build",
        help="start a new build (oc start-build)",
        description=(
            "Start a build of BUILDCONFIG, or re-run an existing build with --from-build.  "
            "Prints build.build.openshift.io/NAME started."
        ),
    )
    p.add_argument("name", nargs="?", metavar="BUILDCONFIG", help="NAME or bc/NAME")
    p.add_argument("--from-build", metavar="BUILD", help="re-run this build (clone its spec)")
    p.add_argument(
        "-F", "--follow", action="store_true", help="stream the build log until the build ends"
    )
    p.add_argument(
        "-w", "--wait", action="store_true", help="wait for the build; exit 1 unless it completes"
    )
    p.add_argument("-e", "--env", action="append", type=key_value, default=[], metavar="KEY=VALUE")
    p.add_argument("--build-arg", action="append", type=key_value, default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--no-cache",
        action="store_const",
        const=True,
        default=None,
        help="docker strategy: build without the layer cache",
    )
    p.add_argument(
        "--incremental",
        action="store_const",
        const=True,
        default=None,
        help="source strategy: override the BuildConfig's incremental setting (=false to turn "
        "it off)",
    )
    p.add_argument("--commit", default="", help="the git commit to build")
    p.add_argument("--build-loglevel", help="log level of the build (sets BUILD_LOGLEVEL)")
    p.add_argument("-o", "--output", choices=["name"], help="name: print only kind/name")
    binary = p.add_mutually_exclusive_group()
    binary.add_argument("--from-dir", type=Path, help="binary build: upload this directory")
    binary.add_argument("--from-file", type=Path, help="binary build: upload this one file")
    binary.add_argument("--from-archive", type=Path, help="binary build: upload this archive")
    binary.add_argument(
        "--from-repo", type=Path, help="binary build: upload this git repository's last commit"
    )
    p.add_argument(
        "--from-webhook",
        default="",
        metavar="URL",
        help="POST to this generic webhook URL instead of naming a BuildConfig",
    )
    p.add_argument(
        "--git-post-receive",
        default="",
        metavar="FILE",
        help="with --from-webhook: git post-receive input (OLD NEW REF lines; - for stdin)",
    )
    p.add_argument(
        "--git-repository",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --git-post-receive: the repository to read commit details from",
    )
    p.add_argument(
        "--source-registry",
        default=os.environ.get("KBUILD_REGISTRY", ""),
        help="registry that receives --from-* input, as build pods reach it ($KBUILD_REGISTRY)",
    )
    p.add_argument(
        "--insecure-registry",
        action="append",
        default=insecure_registries_from_env(),
        metavar="HOST[:PORT]",
        help="registry spoken to over plain HTTP",
    )
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def options_from_args(ns: argparse.Namespace) -> BuildOptions:
    from builder.api import BuildTriggerCause, EnvVar  # noqa: PLC0415
    from builder.rules.instantiate import BuildOptions  # noqa: PLC0415

    env = [EnvVar(name=k, value=v) for k, v in ns.env]
    if ns.build_loglevel:
        env.append(EnvVar(name="BUILD_LOGLEVEL", value=str(ns.build_loglevel)))
    return BuildOptions(
        causes=(BuildTriggerCause(message=MANUAL_CAUSE),),
        env=tuple(env),
        build_args=tuple(EnvVar(name=k, value=v) for k, v in ns.build_arg),
        no_cache=ns.no_cache,
        commit=ns.commit,
        incremental=ns.incremental,
    )


def target(ns: argparse.Namespace) -> tuple[str, str]:
    """("bc", NAME) or ("build", NAME) from the arguments, as oc resolves them."""
    if ns.from_build and ns.name:
        raise CliError("give either a BuildConfig or --from-build=BUILD, not both")
    if ns.from_build:
        return "build", str(ns.from_build)
    if not ns.name:
        raise CliError(
            "must pass a name of a build config or specify build name with '--from-build' "
            'flag (use "kbuild get bc" to list all available build configs)'
        )
    resource, name = split_ref(ns.name, BUILD_CONFIGS)
    if resource is BUILDS:
        raise CliError("use --from-build to rerun your builds")
    return "bc", name


# ---------------------------------------------------------------------------
# Cloning


def clone_of(source: Build, bc: BuildConfig | None, number: int, options: BuildOptions) -> Build:
    """The Build that re-runs ``source``: a pure function, tested without a cluster.

    The spec goes through the same ``new_build`` as a new build (so start-build's
    env, build args, no-cache and commit apply the same way) with the source
    build's spec standing in for the BuildConfig's.
    """
    from builder.api import BuildConfigSpec, ObjectMeta  # noqa: PLC0415
    from builder.api.constants import BUILD_CLONE_ANNOTATION  # noqa: PLC0415
    from builder.rules.instantiate import new_build  # noqa: PLC0415

    spec = source.spec.model_dump(by_alias=False, exclude={"triggered_by"})
    spec["run_policy"] = bc.spec.run_policy if bc is not None else None
    if bc is not None:
        stand_in = bc.model_copy(update={"spec": BuildConfigSpec.model_validate(spec)})
    else:
        from builder.api import BuildConfig  # noqa: PLC0415

        meta = ObjectMeta(name=source.metadata.name, namespace=source.metadata.namespace)
        stand_in = BuildConfig(metadata=meta, spec=BuildConfigSpec.model_validate(spec))
    build = new_build(stand_in, number, options)
    kept = {k: v for k, v in (source.metadata.annotations or {}).items() if k not in _NOT_CLONED}
    if bc is not None:
        build.metadata.labels = {**(source.metadata.labels or {}), **build.metadata.labels}
        build.metadata.annotations = {**kept, **build.metadata.annotations}
    else:
        # No BuildConfig, so no number: a time suffix keeps names unique, as OpenShift does.
        base = source.metadata.name
        match = _CLONE_SUFFIX.match(base)
        if match:
            base = match.group(1)
        suffix = str(time.time_ns())[-10:]
        build.metadata.name = f"{base[: 253 - 11]}-{suffix}"
        build.metadata.labels = dict(source.metadata.labels or {})
        build.metadata.annotations = dict(kept)
    build.metadata.annotations[BUILD_CLONE_ANNOTATION] = source.metadata.name
    return build


def clone(kube: Kube, namespace: str, name: str, options: BuildOptions) -> Build:
    """Re-run build ``name``, numbered by its BuildConfig like instantiate does."""
    from builder.kube import NotFound  # noqa: PLC0415
    from builder.rules.instantiate import instantiate  # noqa: PLC0415
    from builder.rules.names import config_name  # noqa: PLC0415

    try:
        source = kube.builds.get(namespace, name)
    except NotFound:
        raise not_found(BUILDS, name) from None
    if source.spec.source.binary is not None:
        raise CliError(
            f"build {namespace}/{name} has no valid source inputs and '--from-build' "
            "cannot be used for binary builds"
        )
    bc_name = config_name(source) or (source.status.config.name if source.status.config else "")
    if not bc_name:
        return kube.builds.create(clone_of(source, None, 0, options))
    try:
        return instantiate(
            kube, namespace, bc_name, options,
            make=lambda bc, number: clone_of(source, bc, number, options),
        )  # fmt: skip
    except NotFound:
        raise not_found(BUILD_CONFIGS, bc_name) from None


# ---------------------------------------------------------------------------
# The verb


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _binary_input(ns: argparse.Namespace) -> tuple[Path, str] | None:
    for flag, kind in (("from_dir", "dir"), ("from_file", "file"),
                       ("from_archive", "archive"), ("from_repo", "repo")):  # fmt: skip
        path = getattr(ns, flag, None)
        if path is not None:
            return Path(path), kind
    return None


def upload_input(ns: argparse.Namespace, namespace: str, bc_name: str) -> str:
    """Upload ``--from-*`` input to the registry; returns ``repo@digest`` for the Build."""
    from builder.pipeline.binary_source import InputKind, pack, upload  # noqa: PLC0415
    from builder.registry import CredentialStore, RegistryClient  # noqa: PLC0415

    given = _binary_input(ns)
    assert given is not None  # noqa: S101 - only called when a --from-* flag is set
    path, kind = given
    if not ns.source_registry:
        raise CliError("--from-* needs --source-registry (or $KBUILD_REGISTRY)")
    packed = pack(path, InputKind(kind))
    _note(f"Uploading {kind} {path} ({len(packed.data)} bytes) as binary input ...")
    client = RegistryClient(
        credentials=CredentialStore.from_environment(), insecure=set(ns.insecure_registry)
    )
    return upload(client, f"{ns.source_registry}/{namespace}/{bc_name}-binary-source", packed)


def start(kube: Kube, namespace: str, ns: argparse.Namespace) -> Build:
    from builder.kube import NotFound  # noqa: PLC0415
    from builder.pipeline.from_build import BINARY_SOURCE_ANNOTATION  # noqa: PLC0415
    from builder.rules.instantiate import instantiate  # noqa: PLC0415

    kind, name = target(ns)
    options = options_from_args(ns)
    if kind == "build":
        return clone(kube, namespace, name, options)
    if _binary_input(ns) is not None:
        artifact = upload_input(ns, namespace, name)
        options = replace(options, annotations={BINARY_SOURCE_ANNOTATION: artifact})
        try:
            # Kept on the BuildConfig: later builds (a new builder image, a plain
            # start-build) rebuild from the last uploaded input.
            kube.build_configs.patch_metadata(
                namespace, name, {"annotations": {BINARY_SOURCE_ANNOTATION: artifact}}
            )
        except NotFound:
            raise not_found(BUILD_CONFIGS, name) from None
    try:
        return instantiate(kube, namespace, name, options)
    except NotFound:
        raise not_found(BUILD_CONFIGS, name) from None


def from_webhook(ns: argparse.Namespace) -> int:
    """``--from-webhook URL`` (``builder.cli.fromwebhook``): no BuildConfig, no cluster call."""
    from builder.cli import fromwebhook  # noqa: PLC0415

    if ns.name or ns.from_build or _binary_input(ns) is not None:
        raise CliError(
            "The '--from-webhook' flag is incompatible with arguments and all '--from-*' flags"
        )
    ref = fromwebhook.trigger(ns.from_webhook, ns.git_post_receive, ns.git_repository)
    if ref is not None:
        _out(f"{ref}\n" if ns.output == "name" else f"{ref} started\n")
    return 0


def run(ns: argparse.Namespace) -> int:
    if ns.from_webhook:
        return from_webhook(ns)
    if ns.git_post_receive:
        raise CliError("--git-post-receive is given with --from-webhook")
    target(ns)  # argument errors before any connection
    kube, namespace = connect(ns)
    build = start(kube, namespace, ns)
    name = build.metadata.name
    ref = BUILDS.ref(name)
    _out(f"{ref}\n" if ns.output == "name" else f"{ref} started\n")
    if not (ns.follow or ns.wait):
        return 0
    from builder.kube import KubeError  # noqa: PLC0415

    watch = BuildWatch(kube, namespace, name)
    try:
        if ns.follow:
            try:
                stream_build_logs(kube, build, follow=True, write=_out, note=_note, watch=watch)
            except (CliError, KubeError) as err:
                detail = server_message(err.message) if isinstance(err, KubeError) else str(err)
                _note(
                    f"Failed to stream the build logs - to view the logs, run "
                    f"kbuild logs build/{name}: {detail}"
                )
        final = watch.until(is_terminal)
    finally:
        watch.close()
    problem = failure(final) if final is not None else None
    if problem is not None:
        raise problem
    return 0
