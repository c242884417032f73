"""Image-stream lookup at admission: ``image: NAME[:TAG]`` becomes the stream's image.

OpenShift resolves short image names in pods and pod templates through the
namespace's image streams when a stream sets ``spec.lookupPolicy.local:
true``, or for every name when the object (or its pod template) carries the
annotation ``alpha.image.policy.openshift.io/resolve-names: '*'``.  kbuild
does the same in a mutating admission webhook served by the controller
(``admissionserver``): the API server sends an AdmissionReview for each
Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet,
ReplicationController and DeploymentConfig created or updated, and the
answer is a JSON patch setting each resolvable container image to the
tag's current pull spec (by digest).

What resolves (this module is the rule, pure but for its two callables):

- ``NAME`` and ``NAME:TAG`` (tag ``latest`` when none): the stream ``NAME``
  of the object's own namespace.
- ``NS/NAME[:TAG]``: the stream ``NAME`` of namespace ``NS``, only if the
  pods' service account (``serviceAccountName``, else ``default``) may
  ``get imagestreams/layers`` in ``NS`` (a SubjectAccessReview, as every
  cross-namespace act of the controller: docs/security.md).  A denial
  leaves the image as written and the answer carries a warning that
  ``kubectl`` prints.
- ReplicaSets and ReplicationControllers that a controller owns are left
  alone (``OWNED_KINDS_LEFT_ALONE`` says why); their pods are resolved.
- The stream must set ``lookupPolicy.local: true`` unless the annotation
  says ``*``; the tag must have an image.  Anything else (a registry host,
  a digest, an unknown stream or tag) is left as written.

The webhook never refuses an object: every failure (a malformed review, an
API error while reading a stream or asking a review) admits the object
unchanged, with a warning, just as the API server does under
``failurePolicy: Ignore`` when the webhook cannot be reached.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from builder.api import ImageStream
from builder.streams.tags import current_pull_spec

RESOLVE_NAMES_ANNOTATION = "alpha.image.policy.openshift.io/resolve-names"
DEFAULT_SERVICE_ACCOUNT = "default"
DEFAULT_TAG = "latest"

# Where the pod spec and its metadata live, per kind (JSON pointers, ``/`` rooted).
_TEMPLATE = ("/spec/template/spec", "/spec/template/metadata")
POD_SPEC_PATHS: dict[str, tuple[str, str]] = {
    "Pod": ("/spec", "/metadata"),
    "Deployment": _TEMPLATE,
    "StatefulSet": _TEMPLATE,
    "DaemonSet": _TEMPLATE,
    "ReplicaSet": _TEMPLATE,
    "ReplicationController": _TEMPLATE,
    "Job": _TEMPLATE,
    "DeploymentConfig": _TEMPLATE,
    "CronJob": ("/spec/jobTemplate/spec/template/spec", "/spec/jobTemplate/spec/template/metadata"),
}
"""The kinds the MutatingWebhookConfiguration sends (deploy/admission.yaml)."""

CONTAINER_LISTS = ("initContainers", "containers")

OWNED_KINDS_LEFT_ALONE = frozenset({"ReplicaSet", "ReplicationController"})
"""Kinds whose controller-owned objects are not resolved.

A Deployment finds its current ReplicaSet by comparing templates: were the
ReplicaSet's template resolved while the Deployment's is not (it was
admitted while the webhook was down, or before the tag had an image), the
Deployment would never find it and would create one ReplicaSet after
another.  The owner's template was resolved at its own admission, and the
pods are resolved at theirs, so nothing is lost.  (DeploymentConfigs'
ReplicationControllers likewise.)
"""

# A stream name is a DNS subdomain; a tag is docker's tag grammar.
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
MAX_IMAGE_LENGTH = 4096


@dataclass(frozen=True)
class StreamName:
    """A container image that names an image stream tag: ``[NS/]NAME[:TAG]``."""

    namespace: str
    """Empty: the object's own namespace."""
    name: str
    tag: str


def parse_short_name(image: str) -> StreamName | None:
    """The stream an image names, or None when it cannot name one.

    Docker's rule decides whether the first path component is a registry
    host: it holds a ``.`` or a ``:``, or is ``localhost``.  Such images, a
    digest (``@``), three or more components and names a stream could not
    have are left alone.
    """
    parts = image.split("/") if image and len(image) <= MAX_IMAGE_LENGTH else []
    if not 1 <= len(parts) <= 2 or "@" in image:
        return None
    namespace = parts[0] if len(parts) == 2 else ""
    # A registry host (docker's rule) or no namespace name: not a stream.
    if namespace and (
        "." in namespace or namespace == "localhost" or not _NAME.fullmatch(namespace)
    ):
        return None
    name, sep, tag = parts[-1].partition(":")
    if (sep and not _TAG.fullmatch(tag)) or not _NAME.fullmatch(name):
        return None
    return StreamName(namespace, name, tag if sep else DEFAULT_TAG)


@dataclass(frozen=True)
class Resolution:
    """One container image changed: where, from what, to what."""

    path: str
    """JSON pointer of the ``image`` field."""
    container: str
    image: str
    resolved: str


@dataclass
class Plan:
    """What the webhook answers for one object: patches and warnings."""

    resolutions: list[Resolution] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def json_patch(self) -> list[dict[str, Any]]:
        return [{"op": "replace", "path": r.path, "value": r.resolved} for r in self.resolutions]


class ImageLookupError(Exception):
    """A stream could not be read or a review could not be asked (an API error)."""


# (namespace, stream) -> the stream, or None when there is none.
StreamGetter = Callable[[str, str], ImageStream | None]
# (pods' namespace, service account, stream namespace) -> may it read?
ReadCheck = Callable[[str, str, str], bool]


def _at(obj: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        if not part:
            continue
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def resolve_all(obj: dict[str, Any], kind: str) -> bool:
    """Whether the object (or its pod template) asks for every name to be resolved."""
    paths = POD_SPEC_PATHS.get(kind)
    metas = [obj.get("metadata")]
    if paths is not None:
        metas.append(_at(obj, paths[1]))
    for meta in metas:
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if isinstance(annotations, dict) and annotations.get(RESOLVE_NAMES_ANNOTATION) == "*":
            return True
    return False


def _controlled(obj: dict[str, Any]) -> bool:
    meta = obj.get("metadata")
    owners = meta.get("ownerReferences") if isinstance(meta, dict) else None
    return isinstance(owners, list) and any(
        isinstance(o, dict) and o.get("controller") is True for o in owners
    )


def _containers(pod_spec: dict[str, Any], spec_path: str) -> Iterator[tuple[str, str, str]]:
    """(pointer of ``image``, container name, image) of each container with an image."""
    for list_name in CONTAINER_LISTS:
        containers = pod_spec.get(list_name)
        if not isinstance(containers, list):
            continue
        for index, container in enumerate(containers):
            if not isinstance(container, dict):
                continue
            image = container.get("image")
            if isinstance(image, str):
                name = container.get("name")
                yield (
                    f"{spec_path}/{list_name}/{index}/image",
                    name if isinstance(name, str) else "",
                    image,
                )


def plan(
    obj: dict[str, Any],
    kind: str,
    namespace: str,
    streams: StreamGetter,
    may_read: ReadCheck,
) -> Plan:
    """The images of ``obj`` that its namespace's (or a readable) stream resolves.

    ``streams`` and ``may_read`` may raise ``ImageLookupError``: that image is
    then left as written, with a warning.
    """
    result = Plan()
    paths = POD_SPEC_PATHS.get(kind)
    if paths is None or not namespace or (kind in OWNED_KINDS_LEFT_ALONE and _controlled(obj)):
        return result
    pod_spec = _at(obj, paths[0])
    if not isinstance(pod_spec, dict):
        return result
    account = pod_spec.get("serviceAccountName")
    context = _Context(
        namespace=namespace,
        account=account if isinstance(account, str) and account else DEFAULT_SERVICE_ACCOUNT,
        forced=resolve_all(obj, kind),
        streams=streams,
        may_read=may_read,
    )
    seen: dict[str, str | None] = {}
    for pointer, container, image in _containers(pod_spec, paths[0]):
        if image not in seen:
            seen[image] = _resolve_one(image, context, result)
        resolved = seen[image]
        if resolved is not None and resolved != image:
            result.resolutions.append(Resolution(pointer, container, image, resolved))
    return result


@dataclass(frozen=True)
class _Context:
    namespace: str
    account: str
    forced: bool
    streams: StreamGetter
    may_read: ReadCheck


def _resolve_one(image: str, context: _Context, result: Plan) -> str | None:
    namespace, account = context.namespace, context.account
    ref = parse_short_name(image)
    if ref is None:
        return None
    stream_ns = ref.namespace or namespace
    try:
        stream = context.streams(stream_ns, ref.name)
        if stream is None or not (context.forced or stream.spec.lookup_policy.local):
            return None
        if stream_ns != namespace and not context.may_read(namespace, account, stream_ns):
            result.warnings.append(
                f"image {image!r} not resolved: system:serviceaccount:{namespace}:{account} "
                f"may not get imagestreams/layers in namespace {stream_ns!r} (grant "
                f"system:image-puller there)"
            )
            return None
    except ImageLookupError as err:
        result.warnings.append(f"image {image!r} not resolved: {err}")
        return None
    return current_pull_spec(stream, ref.tag)


# -- the AdmissionReview exchange ------------------------------------------------


class ReviewError(ValueError):
    """A request body that is not an ``admission.k8s.io/v1`` AdmissionReview."""


@dataclass(frozen=True)
class Review:
    uid: str
    kind: str
    namespace: str
    operation: str
    obj: dict[str, Any]


def parse_review(body: bytes) -> Review:
    """The parts of an AdmissionReview request this webhook reads; ReviewError otherwise."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise ReviewError(f"not JSON: {err}") from None
    request = doc.get("request") if isinstance(doc, dict) else None
    if not isinstance(request, dict):
        raise ReviewError("no request in the AdmissionReview")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewError("the request has no uid")
    kind = request.get("kind")
    kind_name = kind.get("kind") if isinstance(kind, dict) else None
    obj = request.get("object")
    namespace = request.get("namespace")
    operation = request.get("operation")
    return Review(
        uid=uid,
        kind=kind_name if isinstance(kind_name, str) else "",
        namespace=namespace if isinstance(namespace, str) else "",
        operation=operation if isinstance(operation, str) else "",
        obj=obj if isinstance(obj, dict) else {},
    )


def response(uid: str, result: Plan | None = None, warnings: list[str] | None = None) -> bytes:
    """An AdmissionReview answer that admits the object, patched as ``result`` says."""
    answer: dict[str, Any] = {"uid": uid, "allowed": True}
    patch = result.json_patch() if result is not None else []
    if patch:
        answer["patchType"] = "JSONPatch"
        answer["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
    said = [*(result.warnings if result is not None else []), *(warnings or [])]
    if said:
        # The API server caps a warning at 256 characters; kubectl prints each.
        answer["warnings"] = [w[:256] for w in said[:16]]
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": answer}
    return json.dumps(review).encode()


def decode_patch(answer: bytes) -> list[dict[str, Any]]:
    """The JSON patch of an answer (for tests and the CLI's diagnostics); [] if none."""
    doc = json.loads(answer)
    encoded = (doc.get("response") or {}).get("patch")
    if not encoded:
        return []
    try:
        patch = json.loads(base64.b64decode(encoded))
    except (binascii.Error, ValueError):
        return []
    return patch if isinstance(patch, list) else []


__all__ = [
    "POD_SPEC_PATHS",
    "RESOLVE_NAMES_ANNOTATION",
    "ImageLookupError",
    "Plan",
    "Resolution",
    "Review",
    "ReviewError",
    "StreamName",
    "decode_patch",
    "parse_review",
    "parse_short_name",
    "plan",
    "resolve_all",
    "response",
]
