"""Create the next Build of a BuildConfig: what OpenShift's instantiate does.

There is no ``buildconfigs/instantiate`` subresource on a plain cluster, so
``kbuild start-build`` and the controller's triggers share this function.

Numbering: Build ``<bc>-<n>`` (n = ``status.lastVersion`` + 1) is created
first, and only then is ``lastVersion`` bumped, with the trigger images the
Build used as ``lastTriggeredImageID``, under optimistic concurrency.  The
Build's name is the lock: two instantiations that read the same
``lastVersion`` collide on it (AlreadyExists), so they can never get the
same number.  The order matters for a crash between the two steps (a
SIGKILLed leader, bench/chaos.py): bumping first, as this module once did,
recorded the trigger's image with no Build made for it, and the standby
then saw the trigger as fired (a lost build).  Creating first leaves an
orphan Build whose number ``lastVersion`` does not count yet; whoever next
instantiates meets it (AlreadyExists), *adopts* it (bumps ``lastVersion``
to it and records the images its causes and pinned input name), and decides
again, so the image that orphan was made for fires no second build.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

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
    now_time,
)
from builder.api.build import BuildSourceType, BuildStrategy, GitSourceRevision, SourceRevision
from builder.api.constants import (
    BUILD_CONFIG_ANNOTATION,
    BUILD_CONFIG_LABEL,
    BUILD_CONFIG_LABEL_DEPRECATED,
    BUILD_CONFIG_PAUSED_ANNOTATION,
    BUILD_NUMBER_ANNOTATION,
    BUILD_RUN_POLICY_LABEL,
)
from builder.api.core import OwnerReference
from builder.api.labels import label_value
from builder.kube import AlreadyExists, Conflict, Kube, NotFound
from builder.pipeline.from_build import BINARY_SOURCE_ANNOTATION, binary_artifact
from builder.rules.retry import update_with_retry
from builder.streams.buildtriggers import (
    TagKey,
    record_images,
    strategy_input,
    tag_key,
    watched_tags,
)
from builder.streams.tags import KIND_DOCKER_IMAGE, KIND_STREAM_TAG, current_pull_spec, split_tag

MAX_ATTEMPTS = 10

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildOptions:
    """What ``oc start-build`` flags and trigger causes add to one Build."""

    causes: tuple[BuildTriggerCause, ...] = ()
    env: tuple[EnvVar, ...] = ()
    build_args: tuple[EnvVar, ...] = ()
    no_cache: bool | None = None
    commit: str = ""
    # The whole revision (author, message...) when known, e.g. from a webhook.
    revision: SourceRevision | None = None
    # Extra annotations, e.g. where a binary build's uploaded source lives.
    annotations: dict[str, str] = field(default_factory=dict)
    # The current pull spec of ImageStreamTags the BuildConfig uses (its input,
    # its triggers' tags), when the caller already knows them.
    images: dict[TagKey, str] = field(default_factory=dict)
    # start-build --incremental[=false]: the source strategy's incremental, this build only.
    incremental: bool | None = None


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
        if options.incremental is not None:
            strategy.source_strategy.incremental = options.incremental
    if strategy.custom_strategy is not None:
        strategy.custom_strategy.env = _merge_env(strategy.custom_strategy.env, options.env)
    if strategy.docker_strategy is not None:
        docker = strategy.docker_strategy
        docker.env = _merge_env(docker.env, options.env)
        docker.build_args = _merge_env(docker.build_args, options.build_args)
        if options.no_cache is not None:
            docker.no_cache = options.no_cache
    if options.revision is not None:
        spec.revision = options.revision.model_copy(deep=True)
    elif options.commit:
        spec.revision = SourceRevision(
            type=BuildSourceType.GIT, git=GitSourceRevision(commit=options.commit)
        )
    spec.triggered_by = list(options.causes)
    _pin_input(spec.strategy, bc.metadata.namespace, options.images)
    run_policy = str(bc.spec.run_policy.value if bc.spec.run_policy else "Serial")
    labels = {
        BUILD_CONFIG_LABEL_DEPRECATED: label_value(bc.metadata.name),
        BUILD_CONFIG_LABEL: label_value(bc.metadata.name),
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


def _pin_input(strategy: BuildStrategy, namespace: str, images: dict[TagKey, str]) -> None:
    """Name the input image by its pull spec, as OpenShift's instantiate does.

    The Build then uses exactly the image its triggers record, whatever the
    tag does later.  An input tag without an image stays as it is: the
    Build waits for it (late binding, see ``builder.controller.build``).
    """
    source = strategy_input(strategy)
    if source is None or source.kind != KIND_STREAM_TAG:
        return
    image = images.get(tag_key(source, namespace))
    if not image:
        return
    pinned = ObjectReference(kind=KIND_DOCKER_IMAGE, name=image)
    if strategy.source_strategy is not None:
        strategy.source_strategy.from_ = pinned
    elif strategy.docker_strategy is not None:
        strategy.docker_strategy.from_ = pinned


def latest_image(kube: Kube, namespace: str, name: str) -> str | None:
    """The pull spec of ``namespace/stream:tag``'s current image; None without one."""
    try:
        stream_name, tag = split_tag(name)
        return current_pull_spec(kube.image_streams.get(namespace, stream_name), tag)
    except (BuildError, NotFound):
        return None


def current_images(kube: Kube, bc: BuildConfig) -> dict[TagKey, str]:
    """The current pull spec of the input tag and of every tag a trigger watches."""
    keys = list(watched_tags(bc))
    source = strategy_input(bc.spec.strategy)
    if source is not None and source.kind == KIND_STREAM_TAG:
        key = tag_key(source, bc.metadata.namespace)
        if key not in keys:
            keys.append(key)
    images: dict[TagKey, str] = {}
    for namespace, name in keys:
        image = latest_image(kube, namespace, name)
        if image is not None:
            images[(namespace, name)] = image
    return images


def config_reference(bc: BuildConfig) -> ObjectReference:
    return ObjectReference(
        kind="BuildConfig", namespace=bc.metadata.namespace, name=bc.metadata.name
    )


BuildFactory = Callable[[BuildConfig, int], Build]


Readable = Callable[[BuildConfig, str], bool]
"""Whether a BuildConfig's builds may read images of a namespace (the controller asks RBAC)."""


def instantiate(
    kube: Kube,
    namespace: str,
    name: str,
    options: BuildOptions,
    make: BuildFactory | None = None,
    *,
    readable: Readable | None = None,
) -> Build:
    """Bump ``lastVersion`` and create the next Build; raise BuildError if paused.

    ``make`` builds the Build from the updated BuildConfig and its number:
    ``new_build`` by default; ``start-build --from-build`` passes a clone.
    """
    build = instantiate_when(kube, namespace, name, lambda _bc: options, make, readable=readable)
    if build is None:  # pragma: no cover - the decision above always says yes
        raise BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, "no build was requested")
    return build


def instantiate_when(
    kube: Kube,
    namespace: str,
    name: str,
    decide: Callable[[BuildConfig], BuildOptions | None],
    make: BuildFactory | None = None,
    *,
    readable: Readable | None = None,
    streams: Kube | None = None,
) -> Build | None:
    """Create the next Build if ``decide``, asked again on every fresh read, still wants one.

    Triggers decide from a BuildConfig read moments earlier; deciding again
    on the copy whose ``lastVersion`` is about to be bumped (under
    optimistic concurrency) makes each trigger fire exactly once even when
    ``start-build`` or another replica wrote in between.  Every new Build
    records the images it uses as its triggers' ``lastTriggeredImageID``, in
    the same write as the number.

    With ``readable`` (the controller's acts), an image of another namespace
    that the BuildConfig's builds may not read is not pinned: the Build names
    the tag, and the Build reconciler ends it with the denial.  The CLI acts
    with its user's own rights and passes none.

    ``kube`` must read the API server itself (the BuildConfig is read,
    modified and written under optimistic concurrency); ``streams``, if
    given, answers the image stream reads (the controller's caches).
    """
    for _ in range(MAX_ATTEMPTS):
        bc = kube.build_configs.get(namespace, name)
        if is_paused(bc):
            raise BuildError(
                StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
                f"can't instantiate from BuildConfig {namespace}/{name}: BuildConfig is paused",
            )
        options = decide(bc)
        if options is None:
            return None
        images = {**current_images(streams or kube, bc), **options.images}
        if readable is not None:
            images = {
                key: image for key, image in images.items()
                if key[0] == namespace or readable(bc, key[0])
            }  # fmt: skip
        options = replace(options, images=images)
        number = bc.status.last_version + 1
        build = make(bc, number) if make is not None else new_build(bc, number, options)
        try:
            created = kube.builds.create(build)
        except AlreadyExists:
            # Another instantiation holds this number (it will bump
            # lastVersion), or one that crashed before bumping it left its
            # Build, or someone made one by hand: count it, then decide again.
            _adopt(kube, bc, number)
            continue
        _commit(kube, bc, number, images)
        return created
    raise BuildError(
        StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
        f"could not start a build of {namespace}/{name}: too many concurrent updates",
    )


def _commit(kube: Kube, bc: BuildConfig, number: int, images: dict[TagKey, str]) -> None:
    """Bump ``lastVersion`` to the Build just created and record the images it used.

    First under the version of ``bc`` read before the Build was created (no
    extra request when nobody wrote since); on a Conflict, read again.
    Nothing to do when ``lastVersion`` already counts the Build: whoever met
    it first adopted it (and recorded its images), and a later instantiation
    may have recorded newer ones since.
    """
    namespace, name = bc.metadata.namespace, bc.metadata.name

    def bump(current: BuildConfig) -> BuildConfig | None:
        if current.status.last_version >= number:
            return None
        current.status.last_version = number
        record_images(current, images, now_time())
        return current

    with contextlib.suppress(NotFound):
        update_with_retry(
            lambda: kube.build_configs.get(namespace, name),
            bump,
            kube.build_configs.replace_status,
            what=f"BuildConfig {namespace}/{name}",
            first=bc,
        )


def adopted_images(bc: BuildConfig, build: Build) -> dict[TagKey, str]:
    """The trigger images an existing Build of ``bc`` was made for: its causes and pinned input.

    What an instantiation that created ``build`` and died before its
    ``lastVersion`` write would have recorded for the triggers that fired.
    """
    namespace = bc.metadata.namespace
    images: dict[TagKey, str] = {}
    for cause in build.spec.triggered_by or []:
        change = cause.image_change_build
        if change is not None and change.from_ref is not None and change.image_id:
            images[tag_key(change.from_ref, namespace)] = change.image_id
    source = strategy_input(bc.spec.strategy)
    pinned = strategy_input(build.spec.strategy)
    if (
        source is not None and source.kind == KIND_STREAM_TAG
        and pinned is not None and pinned.kind == KIND_DOCKER_IMAGE and pinned.name
    ):  # fmt: skip
        images.setdefault(tag_key(source, namespace), pinned.name)
    return images


def _adopt(kube: Kube, bc: BuildConfig, number: int) -> None:
    """Count Build ``number``, which exists already, in ``lastVersion`` (under ``bc``'s version).

    Its trigger images are recorded only if it is this BuildConfig's own
    Build of that number (owner uid, annotations): a Build someone made by
    hand with the name only burns the number.  A Conflict is left to the
    caller's next read.
    """
    namespace, name = bc.metadata.namespace, bc.metadata.name
    try:
        existing = kube.builds.get(namespace, f"{name}-{number}")
    except NotFound:
        return  # deleted in between: the number is free again
    owners = existing.metadata.owner_references or []
    annotations = existing.metadata.annotations or {}
    ours = (
        any(o.uid == bc.metadata.uid for o in owners)
        and annotations.get(BUILD_CONFIG_ANNOTATION) == name
        and annotations.get(BUILD_NUMBER_ANNOTATION) == str(number)
    )
    bc.status.last_version = max(bc.status.last_version, number)
    if ours:
        # An instantiation that died between its two writes, or one still
        # between them: either way this Build is the one for its images.
        log.info("%s/%s: counting build %s-%d in lastVersion (adopted)",
                 namespace, name, name, number)  # fmt: skip
        record_images(bc, adopted_images(bc, existing), now_time())
    with contextlib.suppress(Conflict):
        kube.build_configs.replace_status(bc)


def record_input_image(kube: Kube, namespace: str, name: str, key: TagKey, image: str) -> None:
    """A late-bound Build of ``name`` took ``image`` for its input tag: record it as triggered.

    Written before the Build names the image, so the ImageChange trigger on
    that tag never starts a second build for the same image.
    """

    def mutate(bc: BuildConfig) -> BuildConfig | None:
        return bc if record_images(bc, {key: image}, now_time(), only={key}) else None

    with contextlib.suppress(NotFound):
        update_with_retry(
            lambda: kube.build_configs.get(namespace, name),
            mutate,
            kube.build_configs.replace_status,
            what=f"BuildConfig {namespace}/{name}",
        )
