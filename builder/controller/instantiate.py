"""Create the next Build of a BuildConfig: what OpenShift's instantiate does.

There is no ``buildconfigs/instantiate`` subresource on a plain cluster, so
``kbuild start-build`` and the controller's triggers share this function.

Numbering: the BuildConfig's ``status.lastVersion`` is bumped first, under
optimistic concurrency (a Conflict re-reads and retries), and only then is
Build ``<bc>-<n>`` created.  Two instantiations can never get the same
number; a crash between the two steps leaves a gap in the numbers, never a
duplicate, which is the trade-off OpenShift makes too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from builder.api import (
    Build,
    BuildConfig,
    BuildError,
    BuildSpec,
    BuildTriggerCause,
    EnvVar,
    ObjectMeta,
    ObjectReference,
    StatusReason,
)
from builder.api.build import BuildSourceType, GitSourceRevision, SourceRevision
from builder.api.constants import (
    BUILD_CONFIG_ANNOTATION,
    BUILD_CONFIG_LABEL,
    BUILD_CONFIG_LABEL_DEPRECATED,
    BUILD_CONFIG_PAUSED_ANNOTATION,
    BUILD_NUMBER_ANNOTATION,
    BUILD_RUN_POLICY_LABEL,
)
from builder.api.core import OwnerReference
from builder.kube import AlreadyExists, Conflict, Kube
from builder.pipeline.from_build import BINARY_SOURCE_ANNOTATION, binary_artifact

MAX_ATTEMPTS = 10
LABEL_VALUE_MAX = 63


@dataclass(frozen=True)
class BuildOptions:
    """What ``oc start-build`` flags and trigger causes add to one Build."""

    causes: tuple[BuildTriggerCause, ...] = ()
    env: tuple[EnvVar, ...] = ()
    build_args: tuple[EnvVar, ...] = ()
    no_cache: bool | None = None
    commit: str = ""
    # Extra annotations, e.g. where a binary build's uploaded source lives.
    annotations: dict[str, str] = field(default_factory=dict)


def _label_value(value: str) -> str:
    return value[:LABEL_VALUE_MAX].rstrip("-_.")


def _merge_env(base: list[EnvVar], extra: tuple[EnvVar, ...]) -> list[EnvVar]:
    names = {e.name for e in extra}
    return [e for e in base if e.name not in names] + list(extra)


def _last_binary_input(bc: BuildConfig) -> dict[str, str]:
    """A binary BuildConfig's last uploaded input, reused by builds that bring none."""
    artifact = binary_artifact(bc.metadata)
    if bc.spec.source.binary is None or not artifact:
        return {}
    return {BINARY_SOURCE_ANNOTATION: artifact}


def is_paused(bc: BuildConfig) -> bool:
    value = (bc.metadata.annotations or {}).get(BUILD_CONFIG_PAUSED_ANNOTATION, "")
    return value.strip().lower() == "true"


def new_build(bc: BuildConfig, number: int, options: BuildOptions) -> Build:
    """Build number ``number`` of ``bc``: a pure function, tested without a cluster."""
    name = f"{bc.metadata.name}-{number}"
    # Only what the BuildConfig sets: defaults stay unset, so the Build reads
    # back exactly as written (no nulls and empty lists the user never wrote).
    spec_data = bc.spec.model_dump(
        by_alias=True,
        exclude_unset=True,
        exclude={"triggers", "run_policy", "successful_builds_history_limit",
                 "failed_builds_history_limit"},
    )  # fmt: skip
    spec = BuildSpec.model_validate(spec_data, by_alias=True)
    strategy = spec.strategy
    if strategy.source_strategy is not None:
        strategy.source_strategy.env = _merge_env(strategy.source_strategy.env, options.env)
    if strategy.docker_strategy is not None:
        docker = strategy.docker_strategy
        docker.env = _merge_env(docker.env, options.env)
        docker.build_args = _merge_env(docker.build_args, options.build_args)
        if options.no_cache is not None:
            docker.no_cache = options.no_cache
    if options.commit:
        spec.revision = SourceRevision(
            type=BuildSourceType.GIT, git=GitSourceRevision(commit=options.commit)
        )
    spec.triggered_by = list(options.causes)
    run_policy = str(bc.spec.run_policy.value if bc.spec.run_policy else "Serial")
    labels = {
        BUILD_CONFIG_LABEL_DEPRECATED: _label_value(bc.metadata.name),
        BUILD_CONFIG_LABEL: _label_value(bc.metadata.name),
        BUILD_RUN_POLICY_LABEL: run_policy,
    }
    annotations = {
        BUILD_CONFIG_ANNOTATION: bc.metadata.name,
        BUILD_NUMBER_ANNOTATION: str(number),
        **_last_binary_input(bc),
        **options.annotations,
    }
    owner = OwnerReference(
        api_version="build.openshift.io/v1",
        kind="BuildConfig",
        name=bc.metadata.name,
        uid=bc.metadata.uid,
        controller=True,
    )
    return Build(
        metadata=ObjectMeta(
            name=name,
            namespace=bc.metadata.namespace,
            labels=labels,
            annotations=annotations,
            owner_references=[owner] if bc.metadata.uid else [],
        ),
        spec=spec,
    )


def config_reference(bc: BuildConfig) -> ObjectReference:
    return ObjectReference(
        kind="BuildConfig", namespace=bc.metadata.namespace, name=bc.metadata.name
    )


BuildFactory = Callable[[BuildConfig, int], Build]


def instantiate(
    kube: Kube,
    namespace: str,
    name: str,
    options: BuildOptions,
    make: BuildFactory | None = None,
) -> Build:
    """Bump ``lastVersion`` and create the next Build; raise BuildError if paused.

    ``make`` builds the Build from the updated BuildConfig and its number:
    ``new_build`` by default; ``start-build --from-build`` passes a clone.
    """
    for _ in range(MAX_ATTEMPTS):
        bc = kube.build_configs.get(namespace, name)
        if is_paused(bc):
            raise BuildError(
                StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
                f"can't instantiate from BuildConfig {namespace}/{name}: BuildConfig is paused",
            )
        number = bc.status.last_version + 1
        bc.status.last_version = number
        try:
            bc = kube.build_configs.replace_status(bc)
        except Conflict:
            continue
        build = make(bc, number) if make is not None else new_build(bc, number, options)
        try:
            return kube.builds.create(build)
        except AlreadyExists:
            # Only possible if a Build was created by hand with our next name:
            # the number is burnt, take the next one.
            continue
    raise BuildError(
        StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
        f"could not start a build of {namespace}/{name}: too many concurrent updates",
    )
