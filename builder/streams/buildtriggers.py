"""When a BuildConfig's triggers start a build: OpenShift's rules, as pure functions.

- ``ConfigChange`` fires once, for the first build (``status.lastVersion`` 0).
- An ``ImageChange`` trigger watches an ImageStreamTag: its ``from``, or the
  strategy's own input when ``from`` is empty.  It fires when the tag's
  current pull spec differs from ``status.imageChangeTriggers[].lastTriggeredImageID``
  (which every new build records, whatever started it, so a build never
  re-fires for the image it already used).  Paused triggers never fire.
- Triggers that fire together make one Build, with one ``triggeredBy``
  cause per distinct watched tag (openshift-controller-manager's
  buildconfig image reactor).

kbuild's additions, each closing a gap OpenShift leaves to timing:

- A trigger whose tag *is* the BuildConfig's output (directly, or through
  a tag of the same stream that tracks it) never fires: every build moves
  that tag, so it would rebuild forever.
- While a Build of the BuildConfig waits for its input to get an image (a
  late-bound ``New`` build, still naming the ImageStreamTag), the trigger on
  that input does not fire: the waiting build will use the image and record
  it, so firing too would build the same image twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from builder.api import BuildConfig, BuildTriggerCause, ObjectReference
from builder.api.build import (
    BuildStrategy,
    BuildTriggerType,
    ImageChangeCause,
    ImageChangeTrigger,
    ImageChangeTriggerStatus,
)
from builder.streams.tags import KIND_STREAM_TAG

CONFIG_CHANGE_MESSAGE = "Build configuration change"
IMAGE_CHANGE_MESSAGE = "Image change"
MAX_ALIAS_DEPTH = 10

TagKey = tuple[str, str]  # (namespace, "stream:tag")
# The pull spec of a tag's current image, or None when it has none (or no stream).
LatestImage = Callable[[str, str], "str | None"]
# What a spec tag of a stream tracks in the same namespace: ("stream:tag"), or None.
TrackedTag = Callable[[str, str], "str | None"]


def strategy_input(strategy: BuildStrategy) -> ObjectReference | None:
    """The image the strategy builds from (buildutil.GetInputReference)."""
    if strategy.source_strategy is not None:
        return strategy.source_strategy.from_
    if strategy.docker_strategy is not None:
        return strategy.docker_strategy.from_
    if strategy.custom_strategy is not None:
        return strategy.custom_strategy.from_
    return None


def trigger_source(bc: BuildConfig, trigger: ImageChangeTrigger) -> ObjectReference | None:
    """The ImageStreamTag a trigger watches, or None if it watches none."""
    source = trigger.from_ if trigger.from_ is not None else strategy_input(bc.spec.strategy)
    if source is None or source.kind != KIND_STREAM_TAG or not source.name:
        return None
    return source


def tag_key(ref: ObjectReference, namespace: str) -> TagKey:
    return (ref.namespace or namespace, ref.name)


def image_change_triggers(bc: BuildConfig) -> list[ImageChangeTrigger]:
    return [
        t.image_change
        for t in bc.spec.triggers
        if t.type == BuildTriggerType.IMAGE_CHANGE and t.image_change is not None
    ]


def watched_tags(bc: BuildConfig) -> list[TagKey]:
    """Every tag an ImageChange trigger of ``bc`` watches (paused ones too)."""
    keys: list[TagKey] = []
    for trigger in image_change_triggers(bc):
        source = trigger_source(bc, trigger)
        if source is not None:
            key = tag_key(source, bc.metadata.namespace)
            if key not in keys:
                keys.append(key)
    return keys


def is_input_trigger(bc: BuildConfig, key: TagKey) -> bool:
    """Whether ``key`` is the strategy's own input (the image a build is made from)."""
    source = strategy_input(bc.spec.strategy)
    return (
        source is not None
        and source.kind == KIND_STREAM_TAG
        and tag_key(source, bc.metadata.namespace) == key
    )


def last_triggered(bc: BuildConfig, key: TagKey) -> str:
    for state in bc.status.image_change_triggers:
        if (state.from_.namespace or bc.metadata.namespace, state.from_.name) == key:
            return state.last_triggered_image_id
    return ""


def feeds_itself(bc: BuildConfig, key: TagKey, tracked: TrackedTag) -> bool:
    """Whether the watched tag is the output tag, directly or through same-stream tracking."""
    output = bc.spec.output.to
    if output is None or output.kind != KIND_STREAM_TAG:
        return False
    target = tag_key(output, bc.metadata.namespace)
    namespace, name = key
    seen: set[str] = set()
    while name not in seen and len(seen) < MAX_ALIAS_DEPTH:
        if (namespace, name) == target:
            return True
        seen.add(name)
        followed = tracked(namespace, name)
        if followed is None:
            return False
        stream = name.partition(":")[0]
        name = followed if ":" in followed else f"{stream}:{followed}"
    return False


@dataclass
class Decision:
    """What a BuildConfig's triggers ask for right now."""

    causes: list[BuildTriggerCause] = field(default_factory=list)
    # The current pull spec of every watched tag that has one (also the non-firing
    # ones): a new build records them all as its triggers' lastTriggeredImageID.
    images: dict[TagKey, str] = field(default_factory=dict)
    # Tags the trigger will not fire for, with why (events, logs).
    skipped: dict[TagKey, str] = field(default_factory=dict)

    @property
    def fire(self) -> bool:
        return bool(self.causes)


def decide(
    bc: BuildConfig,
    latest: LatestImage,
    tracked: TrackedTag,
    *,
    waiting_input_build: bool,
) -> Decision:
    """Which of ``bc``'s triggers fire now (the BuildConfig's ``paused`` annotation aside).

    ``waiting_input_build``: a New build of ``bc`` still waits for its input
    tag to get an image.
    """
    decision = Decision()
    namespace = bc.metadata.namespace
    has_config_change = any(t.type == BuildTriggerType.CONFIG_CHANGE for t in bc.spec.triggers)
    if has_config_change and bc.status.last_version == 0:
        decision.causes.append(BuildTriggerCause(message=CONFIG_CHANGE_MESSAGE))
    fired: set[TagKey] = set()
    for trigger in image_change_triggers(bc):
        source = trigger_source(bc, trigger)
        if source is None:
            continue
        key = tag_key(source, namespace)
        image = latest(*key)
        if image is None:
            continue
        decision.images[key] = image
        if trigger.paused or key in fired:
            continue
        if image == last_triggered(bc, key):
            continue
        if feeds_itself(bc, key, tracked):
            decision.skipped[key] = "the tag is this BuildConfig's own output"
            continue
        if waiting_input_build and is_input_trigger(bc, key):
            decision.skipped[key] = "a queued build will use this image"
            continue
        fired.add(key)
        decision.causes.append(
            BuildTriggerCause(
                message=IMAGE_CHANGE_MESSAGE,
                image_change_build=ImageChangeCause(
                    image_id=image,
                    from_ref=ObjectReference(
                        kind=KIND_STREAM_TAG, name=source.name, namespace=source.namespace
                    ),
                ),
            )
        )
    return decision


def record_images(
    bc: BuildConfig, images: dict[TagKey, str], now: str, *, only: set[TagKey] | None = None
) -> bool:
    """Set ``lastTriggeredImageID`` of each trigger whose tag is in ``images``; True if changed.

    ``only`` limits the update to some tags (a late-bound build records just
    its input).  Entries for tags no trigger watches any more are dropped.
    """
    namespace = bc.metadata.namespace
    wanted = watched_tags(bc)
    current = {
        (s.from_.namespace or namespace, s.from_.name): s for s in bc.status.image_change_triggers
    }
    states: list[ImageChangeTriggerStatus] = []
    changed = False
    for key in wanted:
        state = current.get(key)
        if state is None:
            state = ImageChangeTriggerStatus()
            state.from_.namespace, state.from_.name = key
            changed = True
        image = images.get(key)
        if image and image != state.last_triggered_image_id and (only is None or key in only):
            state.last_triggered_image_id = image
            state.last_trigger_time = now
            changed = True
        states.append(state)
    if len(states) != len(bc.status.image_change_triggers):
        changed = True
    if changed:
        bc.status.image_change_triggers = states
    return changed
