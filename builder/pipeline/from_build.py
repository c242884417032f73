"""Turn a Build (or a BuildConfig's spec) into the pipeline's BuildPlan.

This is the single translation from OpenShift's schema to what the pipeline
runs, used by the build pod (the Build arrives as JSON) and by ``kbuild build
-f`` (a BuildConfig or Build from a manifest).  Anything that needs the
cluster (an ImageStreamTag, an env var from a Secret) must already have been
resolved by the caller through ``resolve_image``; what cannot be resolved is
a typed failure, never a silently different build.

Inputs only a cluster has (``source.secrets``/``configMaps``, strategy
``volumes``, ``env[].valueFrom``) need ``cluster``: the build pod passes its
environment (the kubelet resolved the valueFrom variables into it), the
controller passes ``ClusterInputs()`` to check the pod can be written, and
``kbuild build`` passes nothing, so they are refused there with a reason
saying why (``builder.pipeline.inputs``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from builder.api import (
    BuildError,
    BuildSource,
    CommonSpec,
    EnvVar,
    ObjectMeta,
    ObjectReference,
    StatusReason,
    check_env_names,
    unimplemented_fields_in_use,
)
from builder.api.build import BuildVolume, ImageOptimizationPolicy
from builder.pipeline.inputs import (
    ClusterInputs,
    VolumeInput,
    build_volumes,
    local_refusal,
    source_inputs,
    value_from_variable,
)
from builder.pipeline.plan import (
    BinaryInput,
    BuildPlan,
    DockerStrategyPlan,
    GitInput,
    ImageInput,
    Pairs,
    PostCommitPlan,
    SourcePlan,
    SourceStrategyPlan,
)

ImageResolver = Callable[[ObjectReference, str], str]

# Where ``start-build --from-*`` put a Build's (and its BuildConfig's last) input.
BINARY_SOURCE_ANNOTATION = "build.kbuild.io/binary-source"


_SKIP_LAYERS = (ImageOptimizationPolicy.SKIP_LAYERS, ImageOptimizationPolicy.SKIP_LAYERS_AND_WARN)
"""Policies under which a Docker build commits its changes as one layer (no --layers)."""


def binary_artifact(metadata: ObjectMeta) -> str:
    return (metadata.annotations or {}).get(BINARY_SOURCE_ANNOTATION, "")


def docker_image_only(ref: ObjectReference, role: str) -> str:
    """The resolver for places with no cluster: only DockerImage references work."""
    if ref.kind in ("", "DockerImage"):
        if not ref.name:
            raise BuildError(StatusReason.INVALID_IMAGE_REFERENCE, f"{role} names no image")
        return ref.name
    raise BuildError(
        StatusReason.INVALID_IMAGE_REFERENCE,
        f"{role} is {ref.kind} {ref.name!r}, which needs a cluster to resolve; "
        "use a DockerImage reference (or --builder/--to) for a local build",
    )


def _value_from_kind(var: EnvVar) -> str:
    source = var.value_from
    if source is None:
        return ""
    for kind, given in (
        ("secretKeyRef", source.secret_key_ref),
        ("configMapKeyRef", source.config_map_key_ref),
        ("fieldRef", source.field_ref),
        ("resourceFieldRef", source.resource_field_ref),
    ):
        if given is not None:
            return kind
    return ""


def _env(
    pairs: list[EnvVar],
    what: str,
    *,
    names_in_dockerfile: bool = True,
    cluster: ClusterInputs | None = None,
    value_from: bool = True,
    secret_values: list[str] | None = None,
) -> Pairs:
    """The pairs; names that go into an ``ENV`` line pass the one env-name rule.

    A webhook's or ``start-build``'s env lands here too (merged into the
    Build's strategy env), so a name like ``X=1\nRUN ...`` fails the Build
    with ManageDockerfileFailed before any pod exists (the controller calls
    this to check the pod spec), never reaching a Dockerfile.

    A ``valueFrom`` entry takes its value from the pod's environment
    (``builder.pipeline.inputs``: the kubelet resolved it); in a container
    that was not given it, and for an ``optional`` reference the kubelet
    could not resolve, the variable is left out, as Kubernetes leaves it out.
    """
    if names_in_dockerfile:
        check_env_names(((var.name, var.value) for var in pairs), what=what)
    out: list[tuple[str, str]] = []
    for index, var in enumerate(pairs):
        if var.value_from is None:
            out.append((var.name, var.value))
            continue
        kind = _value_from_kind(var)
        if not value_from:
            raise BuildError(
                StatusReason.UNRESOLVABLE_ENVIRONMENT_VARIABLE,
                f"{what} {var.name!r} sets valueFrom, which OpenShift ignores for build "
                "arguments (only name and value are used); kbuild refuses it rather than "
                "build without the value: give a value",
            )
        if not kind:
            raise BuildError(
                StatusReason.UNRESOLVABLE_ENVIRONMENT_VARIABLE,
                f"{what} {var.name!r}: valueFrom names no secretKeyRef, configMapKeyRef, "
                "fieldRef or resourceFieldRef",
            )
        if cluster is None:
            raise local_refusal(f"env {var.name!r} ({what} valueFrom.{kind})")
        if cluster.environ is None:
            out.append((var.name, ""))
            continue
        value = cluster.environ.get(value_from_variable(index))
        if value is None:
            continue
        out.append((var.name, value))
        if kind == "secretKeyRef" and secret_values is not None:
            secret_values.append(value)
    return tuple(out)


def source_image_role(index: int) -> str:
    return f"source.images[{index}].from"


def _images(
    source: BuildSource,
    resolve_image: ImageResolver,
    authfiles: Mapping[int, str],
    pull_authfile: str | None,
) -> tuple[ImageInput, ...]:
    """``source.images`` as the steps use them: resolved, each with its paths and authfile."""
    images: list[ImageInput] = []
    for index, item in enumerate(source.images):
        where = f"spec.source.images[{index}]"
        if not item.paths:
            # OpenShift's validation: an image source needs at least one path.
            raise BuildError(
                StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, f"{where} must name at least one path"
            )
        for number, path in enumerate(item.paths):
            if not path.source_path.startswith("/"):
                raise BuildError(
                    StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
                    f"{where}.paths[{number}].sourcePath must be an absolute path",
                )
            if path.destination_dir.startswith("/") or ".." in path.destination_dir.split("/"):
                raise BuildError(
                    StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
                    f"{where}.paths[{number}].destinationDir must be relative, without '..'",
                )
        images.append(
            ImageInput(
                image=resolve_image(item.from_, source_image_role(index)),
                paths=tuple((p.source_path, p.destination_dir) for p in item.paths),
                authfile=authfiles.get(index, pull_authfile),
            )
        )
    return tuple(images)


def _source(
    source: BuildSource,
    revision_commit: str,
    binary: Path | None,
    artifact: str,
    secret_dir: Path | None,
    *,
    docker: bool,
    cluster: ClusterInputs | None,
    images: tuple[ImageInput, ...] = (),
) -> SourcePlan:
    git = None
    if source.git is not None:
        git = GitInput(
            uri=source.git.uri,
            # A revision (start-build --commit, a webhook) pins the commit.
            ref=revision_commit or source.git.ref,
            http_proxy=source.git.http_proxy,
            https_proxy=source.git.https_proxy,
            no_proxy=source.git.no_proxy,
        )
    binary_input = None
    if source.binary is not None:
        as_file = source.binary.as_file or None
        if binary is not None:
            binary_input = BinaryInput(path=binary, as_file=as_file)
        elif artifact:
            binary_input = BinaryInput(artifact=artifact, as_file=as_file)
        else:
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED,
                "this is a binary build: give the input with --from-dir, --from-file, "
                "--from-archive or --from-repo",
            )
    root = cluster.mount_root if cluster is not None else ""
    inputs = source_inputs(source, docker=docker, root=root)
    if inputs and cluster is None:
        first = inputs[0]
        raise local_refusal(f"the {first.kind} {first.name!r} of spec.source")
    return SourcePlan(
        inputs=inputs,
        images=images,
        git=git,
        binary=binary_input,
        dockerfile=source.dockerfile,
        context_dir=source.context_dir,
        secret_dir=secret_dir if source.source_secret is not None else None,
    )


def _volumes(
    volumes: list[BuildVolume], strategy: str, cluster: ClusterInputs | None
) -> tuple[VolumeInput, ...]:
    checked = build_volumes(volumes, strategy, cluster.mount_root if cluster is not None else "")
    if checked and cluster is None:
        raise local_refusal(f"the build volume {checked[0].name!r} of spec.strategy.{strategy}")
    return checked


def plan_from_spec(
    spec: CommonSpec,
    *,
    metadata: ObjectMeta | None = None,
    resolve_image: ImageResolver = docker_image_only,
    binary: Path | None = None,
    source_secret_dir: Path | None = None,
    insecure_registries: frozenset[str] = frozenset(),
    pull_authfile: str | None = None,
    push_authfile: str | None = None,
    cluster: ClusterInputs | None = None,
    source_image_authfiles: Mapping[int, str] | None = None,
    trusted_ca: str | None = None,
) -> BuildPlan:
    unimplemented = unimplemented_fields_in_use(spec)
    if unimplemented:
        path, why = unimplemented[0]
        more = f" (and {len(unimplemented) - 1} more)" if len(unimplemented) > 1 else ""
        raise BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, f"spec.{path}: {why}{more}")

    strategy_spec = spec.strategy
    problem = strategy_spec.strategy_problem()
    if problem:
        raise BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, problem)
    strategy: SourceStrategyPlan | DockerStrategyPlan
    # Values of secretKeyRef variables: every step's log masks them.
    secret_values: list[str] = []
    if strategy_spec.source_strategy is not None:
        s = strategy_spec.source_strategy
        strategy = SourceStrategyPlan(
            builder_image=resolve_image(s.from_, "the builder image (sourceStrategy.from)"),
            scripts_url=s.scripts or None,
            incremental=bool(s.incremental),
            force_pull=s.force_pull,
            env=_env(s.env, "sourceStrategy env", cluster=cluster, secret_values=secret_values),
            volumes=_volumes(s.volumes, "sourceStrategy", cluster),
        )
    elif strategy_spec.docker_strategy is not None:
        d = strategy_spec.docker_strategy
        strategy = DockerStrategyPlan(
            from_image=resolve_image(d.from_, "dockerStrategy.from") if d.from_ else None,
            dockerfile_path=d.dockerfile_path or "Dockerfile",
            # Build args are buildah arguments, never written into the Dockerfile.
            build_args=_env(
                d.build_args,
                "dockerStrategy build arg",
                names_in_dockerfile=False,
                value_from=False,
            ),
            no_cache=d.no_cache,
            force_pull=d.force_pull,
            layers=d.image_optimization_policy not in _SKIP_LAYERS,
            env=_env(d.env, "dockerStrategy env", cluster=cluster, secret_values=secret_values),
            volumes=_volumes(d.volumes, "dockerStrategy", cluster),
        )
    elif strategy_spec.custom_strategy is not None:
        raise BuildError(
            StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
            "a customStrategy build is run by its builder image in a build pod "
            "(builder.pipeline.custom); kbuild build runs Source and Docker builds",
        )
    else:
        raise BuildError(
            StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
            "spec.strategy must set sourceStrategy or dockerStrategy",
        )

    revision_commit = ""
    if spec.revision is not None and spec.revision.git is not None:
        revision_commit = spec.revision.git.commit
    output = None
    if spec.output.to is not None:
        output = resolve_image(spec.output.to, "the output (output.to)")
    hook = spec.post_commit
    post_commit = None
    if hook.script or hook.command or hook.args:
        post_commit = PostCommitPlan(
            script=hook.script, command=tuple(hook.command), args=tuple(hook.args)
        )
    mounted_ca = None
    if spec.mount_trusted_ca:
        if cluster is None:
            raise local_refusal("spec.mountTrustedCA (the cluster's trusted CA bundle)")
        if cluster.environ is not None and trusted_ca is None:
            raise BuildError(
                StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
                "spec.mountTrustedCA is set but the build pod has no trusted CA bundle: the "
                "ConfigMap the controller's --trusted-ca-configmap names is missing from this "
                "namespace or has no key ca-bundle.crt",
            )
        mounted_ca = trusted_ca
    return BuildPlan(
        trusted_ca=mounted_ca,
        source=_source(
            spec.source,
            revision_commit,
            binary,
            binary_artifact(metadata) if metadata is not None else "",
            source_secret_dir,
            docker=isinstance(strategy, DockerStrategyPlan),
            cluster=cluster,
            images=_images(spec.source, resolve_image, source_image_authfiles or {}, pull_authfile),
        ),
        strategy=strategy,
        output=output,
        name=metadata.name if metadata is not None else "",
        namespace=metadata.namespace if metadata is not None else "",
        image_labels=tuple((label.name, label.value) for label in spec.output.image_labels),
        post_commit=post_commit,
        insecure_registries=insecure_registries,
        pull_authfile=pull_authfile,
        push_authfile=push_authfile,
        secret_values=tuple(secret_values),
    )
