"""The BuildConfig reconciler: triggers (ConfigChange, ImageChange) and build history.

- Triggers: ``builder.streams.buildtriggers.decide`` says which fire; all
  that fire together start one Build with one cause each.  The decision is
  taken again on the fresh BuildConfig that ``instantiate_when`` is about to
  bump, so a trigger fires once per image however many reconciles, replicas
  or ``start-build`` calls race (the status write of ``lastVersion`` and of
  ``lastTriggeredImageID`` is one, under optimistic concurrency).
  ConfigChange fires for build 1 only (``lastVersion == 0``); a paused
  BuildConfig (annotation) fires nothing.
- History: keep ``successfulBuildsHistoryLimit`` Complete builds and
  ``failedBuildsHistoryLimit`` Failed/Error/Cancelled builds (both default to
  5 in build.openshift.io/v1); older ones are deleted, oldest first.

The reconciler runs when the BuildConfig's spec or annotations change, when
one of its builds finishes, and when an image stream holding a tag it
watches changes (the manager's trigger index).
"""

from __future__ import annotations

import contextlib
import logging

from builder.api import Build, BuildConfig, BuildError, BuildPhase, ImageStream
from builder.api.labels import build_config_selector
from builder.controller import events
from builder.controller.build import Result
from builder.controller.unimplemented import UnimplementedReporter
from builder.kube import Kube, NotFound
from builder.rules.instantiate import BuildOptions, Readable, instantiate_when, is_paused
from builder.rules.names import build_number, config_name
from builder.streams.buildtriggers import Decision, decide, strategy_input
from builder.streams.tags import KIND_STREAM_TAG, current_pull_spec, spec_tag

log = logging.getLogger(__name__)

DEFAULT_HISTORY_LIMIT = 5
FAILED = {BuildPhase.FAILED, BuildPhase.ERROR, BuildPhase.CANCELLED}


def prune_candidates(
    builds: list[Build], successful_limit: int | None, failed_limit: int | None
) -> list[Build]:
    """The builds history limits remove: a pure function of the list."""
    doomed: list[Build] = []
    for phases, limit in (
        ({BuildPhase.COMPLETE}, successful_limit),
        (FAILED, failed_limit),
    ):
        keep = DEFAULT_HISTORY_LIMIT if limit is None else max(limit, 0)
        finished = sorted(
            (b for b in builds if b.status.phase in phases), key=build_number, reverse=True
        )
        doomed.extend(finished[keep:])
    return doomed


def waits_for_input(build: Build) -> bool:
    """A New build whose input is still an ImageStreamTag: it takes the image when it starts."""
    if build.status.phase != BuildPhase.NEW or build.status.cancelled:
        return False
    source = strategy_input(build.spec.strategy)
    return source is not None and source.kind == KIND_STREAM_TAG


class StreamCache:
    """Image streams read once per reconcile: several triggers often watch one stream."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._streams: dict[tuple[str, str], ImageStream | None] = {}

    def stream(self, namespace: str, name: str) -> ImageStream | None:
        key = (namespace, name)
        if key not in self._streams:
            try:
                self._streams[key] = self.kube.image_streams.get(namespace, name)
            except NotFound:
                self._streams[key] = None
        return self._streams[key]

    def latest(self, namespace: str, name: str) -> str | None:
        stream_name, _, tag = name.partition(":")
        stream = self.stream(namespace, stream_name) if tag else None
        return current_pull_spec(stream, tag) if stream is not None else None

    def tracked(self, namespace: str, name: str) -> str | None:
        """The same-stream tag that ``stream:tag`` tracks, if it tracks one."""
        stream_name, _, tag = name.partition(":")
        stream = self.stream(namespace, stream_name) if tag else None
        ref = spec_tag(stream, tag) if stream is not None else None
        source = ref.from_ if ref is not None else None
        if source is None or source.kind != KIND_STREAM_TAG:
            return None
        if (source.namespace or namespace) != namespace:
            return None
        return source.name


class BuildConfigReconciler:
    def __init__(self, kube: Kube, readable: Readable | None = None) -> None:
        self.kube = kube
        # Images of other namespaces are pinned into a Build only if its
        # service account may read them (builder.controller.authz).
        self.readable = readable
        self.unimplemented = UnimplementedReporter(kube)

    def reconcile(self, namespace: str, name: str) -> Result:
        try:
            bc = self.kube.build_configs.get(namespace, name)
        except NotFound:
            return Result()  # its builds go with it (owner references)
        self.unimplemented.report(bc)
        mine = self._builds(bc)
        result = Result()
        if not is_paused(bc):
            self._trigger(bc, mine, result)
        self._prune(bc, mine)
        return result

    def _builds(self, bc: BuildConfig) -> list[Build]:
        builds, _ = self.kube.builds.list(
            bc.metadata.namespace, label_selector=build_config_selector(bc.metadata.name)
        )
        return [b for b in builds if config_name(b) == bc.metadata.name]

    def _trigger(self, bc: BuildConfig, mine: list[Build], result: Result) -> None:
        namespace, name = bc.metadata.namespace, bc.metadata.name
        waiting = any(waits_for_input(b) for b in mine)

        def decision(config: BuildConfig) -> Decision:
            streams = StreamCache(self.kube)
            return decide(config, streams.latest, streams.tracked, waiting_input_build=waiting)

        first = decision(bc)
        for key, why in first.skipped.items():
            log.debug("%s/%s: not triggering on %s/%s: %s", namespace, name, *key, why)
        if not first.fire:
            return

        def again(fresh: BuildConfig) -> BuildOptions | None:
            # Decided again on the copy about to be bumped: time passed, streams too.
            latest = decision(fresh)
            if not latest.fire:
                return None
            return BuildOptions(causes=tuple(latest.causes), images=latest.images)

        try:
            # The read-modify-write of lastVersion reads the API server, not a cache.
            build = instantiate_when(
                self.kube.live, namespace, name, again, readable=self.readable, streams=self.kube
            )
        except BuildError as err:
            events.record(self.kube, bc, "Warning", "BuildConfigInstantiateFailed", err.detail)
            return
        if build is not None:
            causes = ", ".join(c.message for c in build.spec.triggered_by or [])
            log.info("%s/%s: started %s (%s)", namespace, name, build.metadata.name, causes)
            result.also.append(("Build", namespace, build.metadata.name))

    def _prune(self, bc: BuildConfig, mine: list[Build]) -> None:
        for build in prune_candidates(
            mine, bc.spec.successful_builds_history_limit, bc.spec.failed_builds_history_limit
        ):
            log.info("pruning build %s/%s", build.metadata.namespace, build.metadata.name)
            with contextlib.suppress(NotFound):
                self.kube.builds.delete(build.metadata.namespace, build.metadata.name)
