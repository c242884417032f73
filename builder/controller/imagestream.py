"""The ImageStream reconciler: imports, scheduled re-imports, tag resolution, tracking.

What OpenShift splits between its API server (spec tag generations, tags
copied from other tags) and its image import controllers, kbuild does here,
level-driven:

1. Spec tags that are new or changed get the stream's generation
   (``builder.streams.generations``), one spec write.
2. A tag whose generation is newer than its status is *pending*:
   - from a ``DockerImage`` (not ``reference``): imported, i.e. the source
     registry's digest for it is recorded as a new history entry;
   - from an ``ImageStreamTag`` / ``ImageStreamImage``, or a ``reference``
     ``DockerImage``: resolved to an entry without asking any registry.
3. ``importPolicy.scheduled`` tags are re-imported every interval (the
   controller's, or the ``image.kbuild.io/import-interval`` annotation, never
   below the minimum) and at once when the registry notifies a push.  A
   re-import that finds the same image writes nothing.
4. A failed import sets ``ImportSuccess=False`` (reason, message,
   generation) on the tag and keeps its history; it is retried with
   exponential backoff until it succeeds, which clears the condition.
5. ``spec.dockerImageRepository`` imports the repository's tags while the
   ``openshift.io/image.dockerRepositoryCheck`` annotation is missing.

Registry requests happen between reading the stream and writing its status,
so the results are applied to a fresh read (``update_with_retry``) instead of
failing the whole reconcile when a build moves a tag meanwhile.

In-memory state (when each scheduled tag was last checked, failure counts)
is lost on restart by design: checks then spread over one interval (jitter)
and failed tags are retried at once, both harmless.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from builder.api import BuildError, ImageStream, StatusReason, TagEvent, now_time
from builder.api.constants import (
    DOCKER_REPOSITORY_CHECK_ANNOTATION,
    IMPORTER_PREFER_ARCH_ANNOTATION,
    IMPORTER_PREFER_OS_ANNOTATION,
    INSECURE_REPOSITORY_ANNOTATION,
    REPOSITORY_IMPORT_ERROR_ANNOTATION,
)
from builder.api.core import ObjectReference
from builder.api.image import ImportModeType, TagReference, TagReferencePolicyType
from builder.controller import events
from builder.controller.authz import (
    DEFAULT_SERVICE_ACCOUNT,
    AccessDeniedError,
    Authorizer,
    Identity,
)
from builder.controller.build import Result
from builder.controller.config import ControllerConfig
from builder.controller.importer import Importer, ImportOutcome, ImportRequest
from builder.controller.unimplemented import UnimplementedReporter
from builder.kube import Kube, NotFound
from builder.registry import DEFAULT_PLATFORM, Platform
from builder.rules.retry import update_with_retry
from builder.streams.generations import assign_generations
from builder.streams.schedule import tag_interval
from builder.streams.tags import (
    KIND_DOCKER_IMAGE,
    KIND_STREAM_IMAGE,
    KIND_STREAM_TAG,
    add_tag_event,
    clear_import_condition,
    find_image,
    generation_pending,
    import_failure,
    latest_event,
    latest_observed_generation,
    parse_from,
    set_import_condition,
    spec_tag,
    tag_importable,
    update_tracking_tags,
)

log = logging.getLogger(__name__)


def _from_repository(ref: TagReference, repository: str) -> bool:
    """Whether a spec tag is the one a repository import writes: ``REPOSITORY:TAG``."""
    source = ref.from_
    return (
        source is not None
        and source.kind == KIND_DOCKER_IMAGE
        and source.name == f"{repository}:{ref.name}"
    )


RETRY_FIRST = 5.0
RETRY_MAX = 300.0
# A tag copied from another stream's tag that has no image yet is looked at again this often.
SOURCE_WAIT = 30.0
# A notified push not visible in the registry yet (the event precedes the tag
# update) is checked again every NOTIFIED_RETRY seconds for this long.
NOTIFIED_PATIENCE = 15.0
NOTIFIED_RETRY = 0.5

StreamKey = tuple[str, str]


@dataclass
class TagClock:
    """When a tag was last checked, and how its failures back off."""

    checked: float
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class Plan:
    """What one reconcile does to a stream."""

    imports: list[ImportRequest] = field(default_factory=list)
    # Tags to import because the user changed them (or asked), not a periodic check.
    explicit: set[str] = field(default_factory=set)
    repository: str = ""
    requeue_after: float | None = None

    def wake(self, seconds: float) -> None:
        seconds = max(seconds, 0.5)
        self.requeue_after = (
            seconds if self.requeue_after is None else min(self.requeue_after, seconds)
        )


@dataclass
class Results:
    """What the registries answered for one plan."""

    tags: list[ImportOutcome] = field(default_factory=list)
    repository: list[ImportOutcome] = field(default_factory=list)
    repository_failure: ImportOutcome | None = None


def preferred_platform(ref: TagReference) -> Platform:
    """The manifest-list entry an import of ``ref`` takes: ``os/arch``.

    OpenShift's importer reads the spec tag's annotations
    ``importer.image.openshift.io/prefer-os`` and ``prefer-arch`` and falls
    back to its own platform for each one not set; kbuild's is linux/amd64
    (the registry client's default).  The values are compared as written
    with each entry's ``os`` and ``architecture`` (any variant), as OpenShift
    does, so one that names no entry fails the import (``NotFound``, listing
    the platforms the list has) instead of taking another one.
    """
    annotations = ref.annotations or {}
    default = Platform.parse(DEFAULT_PLATFORM)
    return Platform(
        annotations.get(IMPORTER_PREFER_OS_ANNOTATION) or default.os,
        annotations.get(IMPORTER_PREFER_ARCH_ANNOTATION) or default.architecture,
    )


def _request(ref: TagReference, local_repository: str) -> ImportRequest:
    local = ref.reference_policy.type == TagReferencePolicyType.LOCAL
    return ImportRequest(
        tag=ref.name,
        source=ref.from_.name if ref.from_ is not None else "",
        insecure=ref.import_policy.insecure,
        whole_list=ref.import_policy.import_mode == ImportModeType.PRESERVE_ORIGINAL,
        mirror_to=local_repository if local else "",
        platform=preferred_platform(ref),
    )


def _head(stream: ImageStream, tag: str) -> tuple[str, str] | None:
    """The tag's current image and pull spec."""
    event = latest_event(stream, tag)
    return (event.image, event.docker_image_reference) if event is not None else None


class ImageStreamReconciler:
    def __init__(
        self,
        kube: Kube,
        config: ControllerConfig,
        importer: Importer,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_write: Callable[[ImageStream], None] = lambda _stream: None,
        on_import: Callable[[ImportOutcome, float], None] = lambda _outcome, _seconds: None,
        authorizer: Authorizer,
    ) -> None:
        self.kube = kube
        self.unimplemented = UnimplementedReporter(kube)
        # Spec tags ``from`` another namespace's stream are read only if the
        # stream's namespace may pull from that one.
        self.authorizer = authorizer
        self.config = config
        self.importer = importer
        self._clock = clock
        self.on_write = on_write
        self.on_import = on_import
        self._clocks: dict[tuple[str, str, str], TagClock] = {}
        # Pushed tags to check now: the digest pushed, and until when to keep
        # checking while the registry does not show it yet.
        self._notified: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    # -- push notifications ----------------------------------------------------

    def notify(self, namespace: str, name: str, tag: str, digest: str = "") -> None:
        """A registry says ``digest`` was pushed under the tag's source: check it now."""
        with self._lock:
            deadline = self._clock() + NOTIFIED_PATIENCE
            self._notified[(namespace, name, tag)] = (digest, deadline)

    def _notified_for(self, namespace: str, name: str, tag: str) -> tuple[str, float] | None:
        with self._lock:
            return self._notified.get((namespace, name, tag))

    def _settle_notified(self, namespace: str, name: str, outcome: ImportOutcome) -> bool:
        """Whether the outcome answers the push; False: not visible yet, check again soon."""
        key = (namespace, name, outcome.tag)
        with self._lock:
            entry = self._notified.get(key)
            if entry is None:
                return True
            digest, deadline = entry
            seen = outcome.ok and (not digest or digest in (outcome.digest, outcome.top_digest))
            if seen or self._clock() >= deadline:
                del self._notified[key]
                return True
            return False

    # -- planning ------------------------------------------------------------

    def _clock_for(self, key: tuple[str, str, str], interval: float) -> TagClock:
        with self._lock:  # workers reconcile other streams concurrently
            state = self._clocks.get(key)
            if state is None:
                # First sight (a new tag, or a restarted controller): spread the
                # first checks over one interval instead of all at once.
                jitter = random.uniform(0, interval)  # noqa: S311
                state = TagClock(checked=self._clock() - jitter)
                self._clocks[key] = state
            return state

    def _plan(self, stream: ImageStream) -> Plan:
        plan = Plan()
        ns, name = stream.metadata.namespace, stream.metadata.name
        local = self.config.output_repository(ns, name)
        now = self._clock()
        for ref in stream.spec.tags:
            if not tag_importable(ref):
                continue
            key = (ns, name, ref.name)
            interval, _ = tag_interval(
                stream, ref, self.config.scheduled_import_interval,
                self.config.scheduled_import_minimum,
            )  # fmt: skip
            state = self._clock_for(key, interval)
            notified = self._notified_for(ns, name, ref.name) is not None
            # A failure recorded before this process started is retried at once.
            failed = state.failures > 0 or import_failure(stream, ref.name) is not None
            retry_due = failed and now >= state.retry_at
            due = notified or now >= state.checked + interval
            check_due = ref.import_policy.scheduled and due
            if generation_pending(stream, ref):
                plan.imports.append(_request(ref, local))
                plan.explicit.add(ref.name)
            elif retry_due or check_due:
                plan.imports.append(_request(ref, local))
            elif failed:
                plan.wake(state.retry_at - now)
            if ref.import_policy.scheduled:
                due_in = state.checked + interval - now
                plan.wake(due_in if due_in > 0 else interval)
        annotations = stream.metadata.annotations or {}
        if stream.spec.docker_image_repository and not annotations.get(
            DOCKER_REPOSITORY_CHECK_ANNOTATION
        ):
            with self._lock:
                repository_state = self._clocks.get((ns, name, ""))
            if repository_state is None or now >= repository_state.retry_at:
                plan.repository = stream.spec.docker_image_repository
            else:
                plan.wake(repository_state.retry_at - now)
        return plan

    # -- the reconcile -----------------------------------------------------------

    def reconcile(self, namespace: str, name: str) -> Result:
        try:
            stream = self.kube.image_streams.get(namespace, name)
        except NotFound:
            self._forget(namespace, name)
            return Result()
        self.unimplemented.report(stream)
        if assign_generations(stream):
            stream = self.kube.image_streams.replace(stream)
        plan = self._plan(stream)
        results = Results(tags=self._import(stream, plan))
        results.tags = self._early(namespace, name, plan, results.tags)
        self._import_repository(stream, plan, results)
        self._apply(namespace, name, plan, results)
        return Result(requeue_after=plan.requeue_after)

    def _forget(self, namespace: str, name: str) -> None:
        with self._lock:
            for key in [k for k in self._clocks if k[:2] == (namespace, name)]:
                del self._clocks[key]

    def _import(self, stream: ImageStream, plan: Plan) -> list[ImportOutcome]:
        if not plan.imports:
            return []
        started = self._clock()
        outcomes = self.importer.run(stream.metadata.namespace, plan.imports)
        took = self._clock() - started
        for outcome in outcomes:
            self.on_import(outcome, took / max(len(outcomes), 1))
        return outcomes

    def _early(
        self, namespace: str, name: str, plan: Plan, outcomes: list[ImportOutcome]
    ) -> list[ImportOutcome]:
        """Drop answers that predate a notified push: they would record the old image or a
        transient error; the tag is checked again in a moment instead."""
        kept: list[ImportOutcome] = []
        for outcome in outcomes:
            if outcome.tag in plan.explicit or self._settle_notified(namespace, name, outcome):
                kept.append(outcome)
            else:
                plan.wake(NOTIFIED_RETRY)
        return kept

    def _import_repository(self, stream: ImageStream, plan: Plan, results: Results) -> None:
        if not plan.repository:
            return
        ns = stream.metadata.namespace
        insecure = stream.metadata.annotations.get(INSECURE_REPOSITORY_ANNOTATION) == "true"
        tags, failure = self.importer.repository_tags(ns, plan.repository, insecure)
        if failure is not None:
            results.repository_failure = failure
            return
        repository = plan.repository.partition("@")[0]
        # Tags of the stream's own, except those this repository's import wrote
        # (OpenShift re-imports those with the repository, as it made them).
        own = {t.name for t in stream.spec.tags if not _from_repository(t, repository)}
        requests = [
            ImportRequest(tag=t, source=f"{repository}:{t}", insecure=insecure)
            for t in tags
            if t not in own
        ]
        results.repository = self.importer.run(ns, requests)

    # -- applying results ------------------------------------------------------

    def _apply(self, namespace: str, name: str, plan: Plan, results: Results) -> None:
        def mutate(stream: ImageStream) -> tuple[ImageStream, dict[str, str], bool] | None:
            now = now_time()
            failing_before = self._failing(stream)
            heads = {o.tag: _head(stream, o.tag) for o in results.tags if o.ok}
            changed = self._apply_imports(stream, plan, results.tags, now)
            imported = any(_head(stream, tag) != head for tag, head in heads.items())
            changed |= self._apply_repository(stream, results.repository, now)
            changed |= self._resolve_references(stream, plan, now)
            repository = self.config.output_repository(namespace, name)
            if stream.status.docker_image_repository != repository:
                stream.status.docker_image_repository = repository
                changed = True
            return (stream, failing_before, imported) if changed else None

        def write(change: tuple[ImageStream, dict[str, str], bool]) -> bool:
            stream, failing_before, imported = change
            written = self.kube.image_streams.replace_status(stream)
            self.on_write(written)
            self._report(written, failing_before)
            return imported

        try:
            # The first attempt reads the cache; a retry after a Conflict reads
            # the API server, as the cache may still lag.  A lost race ten
            # times over propagates (TooManyConflicts): the manager requeues.
            updated = update_with_retry(
                lambda: self.kube.live.image_streams.get(namespace, name),
                mutate,
                write,
                what=f"image stream {namespace}/{name}",
                first=self.kube.image_streams.get(namespace, name),
            )
        except NotFound:
            return
        # A scheduled check that brought a new image stamps the check time too, as
        # OpenShift's import does when it changes the stream (seed 000 reads it).
        imported = bool(updated.written)
        self._record_clocks(namespace, name, results.tags)
        if plan.repository:
            self._add_repository_spec_tags(namespace, name, plan.repository, results.repository)
        failure = results.repository_failure
        if failure is not None:
            # Left without the check annotation, the repository stays pending:
            # it is retried with backoff, and the error says why meanwhile.
            self._record_clocks(namespace, name, [failure])
            with self._lock:
                retry_at = self._clocks[(namespace, name, "")].retry_at
            plan.wake(retry_at - self._clock())
            self._annotate(namespace, name, {
                REPOSITORY_IMPORT_ERROR_ANNOTATION: f"{failure.reason}: {failure.message}"
            })  # fmt: skip
        elif plan.repository or plan.explicit or imported:
            self._annotate(namespace, name, {
                DOCKER_REPOSITORY_CHECK_ANNOTATION: now_time(),
                REPOSITORY_IMPORT_ERROR_ANNOTATION: None,
            })  # fmt: skip

    @staticmethod
    def _failing(stream: ImageStream) -> dict[str, str]:
        return {
            t.tag: f"{c.reason}: {c.message}"
            for t in stream.status.tags
            if (c := import_failure(stream, t.tag)) is not None
        }

    def _report(self, stream: ImageStream, before: dict[str, str]) -> None:
        """Events when a tag starts failing to import (or fails anew), and when it heals."""
        after = self._failing(stream)
        for tag, problem in sorted(after.items()):
            if before.get(tag) != problem:
                events.record(
                    self.kube, stream, "Warning", "ImportFailed",
                    f"Import of tag {tag} failed: {problem}",
                )  # fmt: skip
        for tag in sorted(set(before) - set(after)):
            events.record(
                self.kube, stream, "Normal", "Imported", f"Tag {tag} imported again after failures"
            )

    def _apply_imports(
        self, stream: ImageStream, plan: Plan, outcomes: list[ImportOutcome], now: str
    ) -> bool:
        changed = False
        for outcome in outcomes:
            ref = spec_tag(stream, outcome.tag)
            if ref is None or not tag_importable(ref):
                continue  # the spec changed while we were importing
            generation = ref.generation or stream.metadata.generation
            if not outcome.ok:
                changed |= set_import_condition(
                    stream, outcome.tag, reason=outcome.reason, message=outcome.message,
                    generation=generation, now=now,
                )  # fmt: skip
                continue
            head = latest_event(stream, outcome.tag)
            same = (
                head is not None
                and head.image == outcome.digest
                and head.docker_image_reference == outcome.reference
            )
            if same and outcome.tag not in plan.explicit:
                # A periodic check that found nothing new: only a past failure to clear.
                changed |= clear_import_condition(stream, outcome.tag)
                continue
            event = TagEvent(
                created=now,
                docker_image_reference=outcome.reference,
                image=outcome.digest,
                generation=generation,
            )
            if add_tag_event(stream, outcome.tag, event):
                changed = True
                update_tracking_tags(stream, outcome.tag, event)
        return changed

    def _add_repository_spec_tags(
        self, namespace: str, name: str, source: str, outcomes: list[ImportOutcome]
    ) -> None:
        """A spec tag ``from: DockerImage REPOSITORY:TAG`` for each tag the import brought.

        OpenShift's import (``ensureSpecTag``) adds one for every imported tag
        the stream has no spec tag for, so that ``describe is`` says "tagged
        from" and the tag can be re-imported or moved like any other.  Its
        generation is the one of the status event just written, and the
        observed-sources record is brought along, so the tag is not pending
        and is not imported again on its own.
        """
        repository = source.partition("@")[0]
        imported = {o.tag for o in outcomes if o.ok}

        def add_missing(stream: ImageStream) -> ImageStream | None:
            have = {t.name for t in stream.spec.tags}
            observed = {named.tag: latest_observed_generation(stream, named.tag)
                        for named in stream.status.tags}  # fmt: skip
            missing = sorted(tag for tag in imported - have if observed.get(tag))
            if not missing:
                return None
            for tag in missing:
                stream.spec.tags.append(TagReference(
                    name=tag,
                    from_=ObjectReference(kind=KIND_DOCKER_IMAGE, name=f"{repository}:{tag}"),
                    generation=observed[tag],
                ))  # fmt: skip
            assign_generations(stream)  # records the new tags as observed
            return stream

        def write(stream: ImageStream) -> None:
            self.on_write(self.kube.image_streams.replace(stream))

        with contextlib.suppress(NotFound):
            update_with_retry(
                lambda: self.kube.live.image_streams.get(namespace, name),
                add_missing,
                write,
                what=f"image stream {namespace}/{name}",
            )

    def _apply_repository(
        self, stream: ImageStream, outcomes: list[ImportOutcome], now: str
    ) -> bool:
        changed = False
        for outcome in outcomes:
            if not outcome.ok:
                continue  # one unreadable tag of a repository is not the stream's failure
            event = TagEvent(
                created=now,
                docker_image_reference=outcome.reference,
                image=outcome.digest,
                generation=stream.metadata.generation,
            )
            if add_tag_event(stream, outcome.tag, event):
                changed = True
                update_tracking_tags(stream, outcome.tag, event)
        return changed

    def _resolve_references(self, stream: ImageStream, plan: Plan, now: str) -> bool:
        """Pending tags that name an image without importing it, as OpenShift's server does."""
        changed = False
        for ref in stream.spec.tags:
            if ref.from_ is None or tag_importable(ref) or not generation_pending(stream, ref):
                continue
            generation = ref.generation or stream.metadata.generation
            try:
                event = self._reference_event(stream, ref, now)
            except BuildError as err:
                denied = isinstance(err, AccessDeniedError)
                if denied and import_failure(stream, ref.name) is None:
                    events.record(
                        self.kube, stream, "Warning", "Forbidden", f"tag {ref.name}: {err.detail}"
                    )
                changed |= set_import_condition(
                    stream, ref.name, reason="Forbidden" if denied else "NotFound",
                    message=err.detail, generation=generation, now=now,
                )  # fmt: skip
                continue
            if event is None:
                plan.wake(SOURCE_WAIT)
                continue
            event.generation = generation
            if add_tag_event(stream, ref.name, event):
                changed = True
                update_tracking_tags(stream, ref.name, event)
        return changed

    def _reference_event(self, stream: ImageStream, ref: TagReference, now: str) -> TagEvent | None:
        source = ref.from_
        if source is None:
            return None
        if source.kind == KIND_DOCKER_IMAGE:
            return TagEvent(created=now, docker_image_reference=source.name, image="", generation=0)
        if source.kind not in (KIND_STREAM_TAG, KIND_STREAM_IMAGE):
            raise BuildError(
                StatusReason.INVALID_IMAGE_REFERENCE,
                f"from.kind {source.kind!r} must be DockerImage, ImageStreamImage or "
                "ImageStreamTag",
            )
        other_name, tag_or_id = parse_from(source.kind, source.name, stream.metadata.name)
        other_ns = source.namespace or stream.metadata.namespace
        if (other_ns, other_name) == (stream.metadata.namespace, stream.metadata.name):
            other = stream
        else:
            identity = Identity(stream.metadata.namespace, DEFAULT_SERVICE_ACCOUNT)
            self.authorizer.check_read(identity, other_ns, StatusReason.INVALID_IMAGE_REFERENCE)
            try:
                other = self.kube.image_streams.get(other_ns, other_name)
            except NotFound:
                if source.kind == KIND_STREAM_IMAGE:
                    raise BuildError(
                        StatusReason.INVALID_IMAGE_REFERENCE,
                        f"image stream {other_ns}/{other_name} does not exist",
                    ) from None
                return None
        if source.kind == KIND_STREAM_IMAGE:
            found = find_image(other, tag_or_id)
            return TagEvent(
                created=now, docker_image_reference=found.docker_image_reference,
                image=found.image, generation=0,
            )  # fmt: skip
        head = latest_event(other, tag_or_id)
        if head is None:
            return None
        return TagEvent(
            created=now, docker_image_reference=head.docker_image_reference,
            image=head.image, generation=0,
        )  # fmt: skip

    # -- bookkeeping -----------------------------------------------------------

    def _record_clocks(self, namespace: str, name: str, outcomes: list[ImportOutcome]) -> None:
        now = self._clock()
        with self._lock:
            for outcome in outcomes:
                key = (namespace, name, outcome.tag)
                state = self._clocks.setdefault(key, TagClock(checked=now))
                state.checked = now
                if outcome.ok:
                    state.failures, state.retry_at = 0, 0.0
                else:
                    state.failures += 1
                    backoff = min(RETRY_FIRST * 2 ** (state.failures - 1), RETRY_MAX)
                    state.retry_at = now + backoff

    def _annotate(self, namespace: str, name: str, annotations: dict[str, str | None]) -> None:
        """Merge-patch annotations (None removes one): the import time, as OpenShift sets it."""
        with contextlib.suppress(NotFound):
            self.kube.image_streams.patch_metadata(namespace, name, {"annotations": annotations})
