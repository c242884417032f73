"""The image trigger reconciler: keep triggered containers on their tags' current images.

For a Deployment, StatefulSet, DaemonSet, CronJob or Job carrying the
``image.openshift.io/triggers`` annotation, each non-paused trigger's
container image is set to the current pull spec of its image stream tag
(``builder.streams.workloads`` decides what changes).  Level-driven: the
manager calls ``reconcile`` when the annotation or the containers change
and when a followed tag moves; a reconcile that finds every image already
right writes nothing, so our own patch's watch event ends there.

The write is a JSON patch whose ``test`` operations pin the images it was
planned from.  A concurrent edit makes the API server refuse it as Invalid
(the patch no longer applies); the object is then simply planned again.

Problems with the annotation are reported as Warning events on the object,
once per distinct problem (remembered in memory per object), not on every
reconcile: a resync must not flood ``kubectl describe``.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from builder.api import ImageStream, StatusReason
from builder.api.nesting import load_json
from builder.controller import events
from builder.controller.authz import (
    DEFAULT_SERVICE_ACCOUNT,
    AccessDeniedError,
    Authorizer,
    Identity,
)
from builder.controller.build import Result
from builder.controller.config import ControllerConfig
from builder.kube import WORKLOADS, Invalid, Kube, NotFound
from builder.streams.fieldpath import POD_SPEC_PATHS, pod_spec
from builder.streams.tags import current_pull_spec
from builder.streams.workloads import Change, Resolver, json_patch, plan

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (kind, namespace, name)

# A patch refused because the object changed since it was read is planned
# again this soon, at most this many times in a row; after that the next
# change of the object or of a tag tries again.
RACE_RETRY_SECONDS = 1.0
MAX_RACES = 5

# json-patch's messages (Kubernetes uses evanphx/json-patch) when a ``test``
# fails or a path vanished: our plan was made from an object that has changed.
_STALE_PATCH = re.compile(
    r"testing value .* failed|operation does not apply|error in test for path", re.IGNORECASE
)


def patch_is_stale(message: str) -> bool:
    """True if the API server refused the patch because the object changed under it.

    Otherwise the patched object itself was refused (validation, e.g. a
    Job's immutable pod template), and planning again would change nothing.
    """
    return _STALE_PATCH.search(message) is not None


def describe_change(change: Change) -> str:
    """The ImageUpdated event message."""
    what = "init container" if change.container.init else "container"
    return f'{what} "{change.name}" image set to {change.new} from image stream tag {change.source}'


def refusal_message(kind: str, changes: list[Change], server_message: str) -> str:
    """The Warning event for a patch the API server refused on its merits."""
    wanted = "; ".join(
        f'{"init container" if c.container.init else "container"} "{c.name}" to {c.new} '
        f"({c.source})"
        for c in changes
    )
    if kind == "Job" and "immutable" in server_message:
        return (
            f"cannot set {wanted}: a Job's pod template cannot be changed once the Job is "
            "created, so image triggers cannot update this Job; create a new Job with that "
            "image, or use a CronJob, whose job template triggers do update for later runs"
        )
    return (
        f"cannot set {wanted}: the API server refused the change: {_status_message(server_message)}"
    )


def _status_message(body: str) -> str:
    """The ``message`` of a Kubernetes Status body, or the body itself."""
    try:
        status = load_json(body)
    except ValueError:
        return body
    message = status.get("message") if isinstance(status, dict) else None
    return message if isinstance(message, str) and message else body


def _service_account(obj: dict[str, Any], kind: str) -> str:
    """The service account the workload's pods run as (``default`` when unset)."""
    value = pod_spec(obj, kind).get("serviceAccountName") or ""
    return value if isinstance(value, str) else ""


def _stream_key(namespace: str, tag: str) -> tuple[str, str]:
    return namespace, tag.partition(":")[0]


class WorkloadTriggerReconciler:
    def __init__(self, kube: Kube, config: ControllerConfig, *, authorizer: Authorizer) -> None:
        self.kube = kube
        self.config = config
        # A trigger naming another namespace's stream is followed only if the
        # workload's pods (their service account) may pull from there.
        self.authorizer = authorizer
        self._lock = threading.Lock()
        # Per object: (uid, what was last reported), so a Warning is recorded
        # when it first appears, not on every reconcile.
        self._problems: dict[Key, tuple[str, frozenset[str]]] = {}
        self._refused: dict[Key, tuple[str, str]] = {}
        self._races: dict[Key, int] = {}

    # -- entry point ---------------------------------------------------------

    def reconcile(self, kind: str, namespace: str, name: str) -> Result:
        key = (kind, namespace, name)
        resource = WORKLOADS.get(kind)
        if resource is None:
            log.warning("image triggers: %s is not a workload kind kbuild updates", kind)
            return Result()
        obj = self._read(key)
        if obj is None:
            return Result()
        uid = str((obj.get("metadata") or {}).get("uid", ""))
        denied: list[str] = []
        resolve = self._resolver(namespace, _service_account(obj, kind), denied)
        wanted = plan(obj, resolve)
        self._report_problems(key, uid, obj, wanted.problems + sorted(set(denied)))
        if not wanted.changes:
            with self._lock:
                self._races.pop(key, None)
            return Result()
        patch = json_patch(wanted, POD_SPEC_PATHS[kind])
        try:
            patched = self.kube.patch_object(resource, namespace, name, patch)
        except NotFound:
            self.forget(key)
            return Result()
        except Invalid as err:
            return self._refused_patch(key, patch, wanted.changes, err.message, resolve)
        with self._lock:
            self._races.pop(key, None)
            self._refused.pop(key, None)
        patched.setdefault("kind", resource.kind)
        patched.setdefault("apiVersion", resource.api_version)
        for change in wanted.changes:
            log.info("%s %s/%s: %s", kind, namespace, name, describe_change(change))
            events.record_for(self.kube, patched, "Normal", "ImageUpdated", describe_change(change))
        return Result()

    def _read(self, key: Key) -> dict[str, Any] | None:
        """The workload as it is now (with its kind), or None once it is gone."""
        kind, namespace, name = key
        resource = WORKLOADS[kind]
        try:
            obj = self.kube.get_object(resource, namespace, name)
        except NotFound:
            self.forget(key)
            return None
        obj.setdefault("kind", resource.kind)
        obj.setdefault("apiVersion", resource.api_version)
        return obj

    def forget(self, key: Key) -> None:
        """Drop what is remembered of an object (it was deleted)."""
        with self._lock:
            self._problems.pop(key, None)
            self._refused.pop(key, None)
            self._races.pop(key, None)

    # -- helpers ---------------------------------------------------------------

    def _resolver(
        self,
        namespace: str | None = None,
        service_account: str = "",
        denied: list[str] | None = None,
    ) -> Resolver:
        """(namespace, stream:tag) -> pull spec, reading each stream once per reconcile.

        With ``namespace`` (the workload's), a stream of another namespace
        resolves only if the workload's service account may pull from it;
        otherwise it resolves to nothing and the denial goes to ``denied``.
        """
        streams: dict[tuple[str, str], ImageStream | None] = {}
        identity = Identity(namespace or "", service_account or DEFAULT_SERVICE_ACCOUNT)

        def resolve(stream_namespace: str, tag: str) -> str | None:
            key = _stream_key(stream_namespace, tag)
            if namespace is not None and stream_namespace != namespace:
                try:
                    self.authorizer.check_read(
                        identity, stream_namespace, StatusReason.INVALID_IMAGE_REFERENCE
                    )
                except AccessDeniedError as err:
                    if denied is not None:
                        denied.append(f"image stream tag {stream_namespace}/{tag}: {err.detail}")
                    return None
            if key not in streams:
                try:
                    streams[key] = self.kube.image_streams.get(*key)
                except NotFound:
                    streams[key] = None
            stream = streams[key]
            if stream is None:
                return None
            return current_pull_spec(stream, tag.partition(":")[2])

        return resolve

    def _report_problems(
        self, key: Key, uid: str, obj: dict[str, Any], problems: list[str]
    ) -> None:
        current = frozenset(problems)
        with self._lock:
            previous_uid, previous = self._problems.get(key, ("", frozenset[str]()))
            if previous_uid != uid:
                previous = frozenset()
            if current:
                self._problems[key] = (uid, current)
            else:
                self._problems.pop(key, None)
        kind, namespace, name = key
        for problem in problems:
            if problem not in previous:
                log.warning("%s %s/%s: %s", kind, namespace, name, problem)
                events.record_for(self.kube, obj, "Warning", "InvalidImageTrigger", problem)

    def _refused_patch(
        self,
        key: Key,
        refused: list[dict[str, Any]],
        changes: list[Change],
        message: str,
        resolve: Resolver,
    ) -> Result:
        """Tell a lost race (plan again) from a change the API server will never accept.

        The server's answer does not reliably say which (a failed ``test`` may
        come back as a bare "the server rejected our request"), so the object
        is read again: if the patch planned from it differs, it changed under
        us.  If it is the same patch, the server refused the change itself.
        """
        kind, namespace, name = key
        obj = self._read(key)
        if obj is None:
            return Result()
        uid = str((obj.get("metadata") or {}).get("uid", ""))
        again = json_patch(plan(obj, resolve), POD_SPEC_PATHS[kind])
        if not again:
            return Result()  # someone else set the images meanwhile
        if again != refused or patch_is_stale(message):
            with self._lock:
                races = self._races.get(key, 0) + 1
                self._races[key] = races
                if races > MAX_RACES:
                    del self._races[key]
            if races <= MAX_RACES:
                log.info("%s %s/%s changed while being patched; planning again", *key)
                return Result(requeue_after=RACE_RETRY_SECONDS)
            log.warning(
                "%s %s/%s: image trigger patch refused %d times in a row (%s); "
                "waiting for the next change",
                kind, namespace, name, races, message,
            )  # fmt: skip
            return Result()
        text = refusal_message(kind, changes, message)
        with self._lock:
            self._races.pop(key, None)
            seen = self._refused.get(key) == (uid, text)
            self._refused[key] = (uid, text)
        if not seen:
            log.warning("%s %s/%s: %s", kind, namespace, name, text)
            events.record_for(self.kube, obj, "Warning", "ImageUpdateFailed", text)
        return Result()


__all__ = [
    "MAX_RACES",
    "WorkloadTriggerReconciler",
    "describe_change",
    "patch_is_stale",
    "refusal_message",
]
