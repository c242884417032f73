"""OpenShift 3's legacy ``apiVersion: v1`` objects, converted on the client as ``oc`` accepts them.

OpenShift served its kinds in the core group (``apiVersion: v1``) before it
had API groups, and ``oc`` still reads those manifests: the build, image,
apps and template kinds are sent to their group versions.  A CRD cannot
serve the core group, so ``kbuild apply|create`` convert on the client:

- ``v1`` BuildConfig, Build, ImageStream, DeploymentConfig, Template and
  Route become ``build.openshift.io/v1``, ``image.openshift.io/v1``,
  ``apps.openshift.io/v1``, ``template.openshift.io/v1`` and
  ``route.openshift.io/v1``;
- ImageStreamTag (either apiVersion) is not an object of its own in kbuild
  (a CRD name cannot hold ``:``): it becomes a spec tag of its stream
  (``tag_request``);
- the other legacy kinds of those groups (BuildRequest, ImageStreamMapping,
  ...) are refused by name; every other object is left unchanged.

On the way the OpenShift API server's own v1 conversions are applied
(openshift-apiserver ``pkg/build/apis/build/v1/conversion.go``): deprecated
trigger types (``github``, ``generic``, ``imageChange``) become
``GitHub``/``Generic``/``ImageChange``; a source's and a strategy's ``type``
follow the field that is set (``type: binary`` with ``binary: {}`` is
``Binary``), an ``ImageStream`` ``from``/``output.to`` is that stream's
``:latest`` tag, and an ImageChange trigger without ``from`` is dropped when
the strategy's image is not an ImageStreamTag (it could never fire).

Fields that OpenShift drops on such objects are dropped too, each with a
warning: ``status`` and server-set metadata (uid, resourceVersion, ...: an
``oc export`` carries them, and a resourceVersion would turn the write into
a stale precondition), and fields that kbuild's schema does not have (the
OpenShift 3 decoder ignored unknown fields; the CRD would prune them
silently).  A value that is wrong, rather than unknown, is a ``ManifestError``
with one line per problem, never a silent drop.

Pure functions on JSON dicts: no API server, no files.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from builder.api.base import KubeModel, join_path
from builder.api.build import Build, BuildConfig
from builder.api.constants import (
    BUILD_API_VERSION,
    IMAGE_API_VERSION,
    KIND_IMAGE_STREAM_TAG,
    LEGACY_API_VERSION,
)
from builder.api.image import ImageLookupPolicy, ImageStream, TagReference
from builder.api.manifest import ManifestError, parse_as
from builder.api.template import Template

APPS_API_VERSION = "apps.openshift.io/v1"
TEMPLATE_API_VERSION = "template.openshift.io/v1"
ROUTE_API_VERSION = "route.openshift.io/v1"

GROUP_OF_LEGACY: dict[str, str] = {
    "BuildConfig": BUILD_API_VERSION,
    "Build": BUILD_API_VERSION,
    "ImageStream": IMAGE_API_VERSION,
    "ImageStreamTag": IMAGE_API_VERSION,
    "DeploymentConfig": APPS_API_VERSION,
    "Template": TEMPLATE_API_VERSION,
    "Route": ROUTE_API_VERSION,
}
"""The legacy ``v1`` kinds kbuild converts, and the group version each is sent to.

Route is not kbuild's: it is sent as ``oc`` sends it, and where the cluster
serves no Route API (plain Kubernetes has no OpenShift router) ``kbuild
apply`` says so and points to an Ingress."""

REFUSED_LEGACY: dict[str, str] = {
    kind: group
    for group, kinds in (
        (BUILD_API_VERSION, ("BuildRequest", "BuildLog", "BinaryBuildRequestOptions")),
        (
            IMAGE_API_VERSION,
            (
                "Image",
                "ImageSignature",
                "ImageStreamImage",
                "ImageStreamImport",
                "ImageStreamMapping",
            ),
        ),
        (APPS_API_VERSION, ("DeploymentConfigRollback", "DeploymentRequest", "DeploymentLog")),
        (TEMPLATE_API_VERSION, ("TemplateInstance", "BrokerTemplateInstance")),
    )
    for kind in kinds
}
"""Legacy ``v1`` kinds of those groups that are requests or server views, not objects to store."""

NEEDS_CRD = {"DeploymentConfig", "Template"}
"""Kinds served by kbuild's CRDs (crds/): when the cluster does not serve them,
the CRDs were not installed."""

_MODELS: dict[str, type[KubeModel]] = {
    "BuildConfig": BuildConfig,
    "Build": Build,
    "ImageStream": ImageStream,
    "Template": Template,
}

_SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "selfLink",
    "creationTimestamp",
    "generation",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
"""Metadata the API server sets; OpenShift clears it on create."""

_TRIGGER_TYPES = {"github": "GitHub", "generic": "Generic", "imageChange": "ImageChange"}
_SOURCE_FIELDS = (("git", "Git"), ("binary", "Binary"), ("dockerfile", "Dockerfile"))
_STRATEGY_FIELDS = (
    ("sourceStrategy", "Source"),
    ("dockerStrategy", "Docker"),
    ("customStrategy", "Custom"),
    ("jenkinsPipelineStrategy", "JenkinsPipeline"),
)
_MAX_PASSES = 20


@dataclass
class Converted:
    """One object as it will be sent, and what was changed or dropped on the way."""

    obj: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    legacy: bool = False
    """True when it came as a legacy ``v1`` object of an OpenShift group."""


@dataclass(frozen=True)
class TagRequest:
    """An ImageStreamTag as what it is in kbuild: one spec tag of one stream."""

    namespace: str
    stream: str
    tag: TagReference
    lookup_policy: ImageLookupPolicy | None
    """The stream's lookupPolicy, when the ImageStreamTag sets one (OpenShift copies it)."""

    @property
    def name(self) -> str:
        return f"{self.stream}:{self.tag.name}"


def label_of(doc: dict[str, Any], where: str) -> str:
    kind = doc.get("kind") or "object"
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"{kind} {name!r}" if isinstance(name, str) and name else f"{kind} ({where})"


def _is_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_empty(v) for v in value.values())
    if isinstance(value, list):
        return all(_is_empty(v) for v in value)
    return value in (None, "", 0, False)


def _drop_server_fields(doc: dict[str, Any], label: str, warnings: list[str]) -> None:
    status = doc.pop("status", None)
    if not _is_empty(status):
        warnings.append(f"{label}: status dropped (the API server and controller write it)")
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict):
        return
    for key in _SERVER_METADATA:
        if key in metadata:
            value = metadata.pop(key)
            if not _is_empty(value):
                warnings.append(f"{label}: metadata.{key} dropped (the API server sets it)")


def _dict_at(doc: Any, *keys: str) -> dict[str, Any] | None:
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc if isinstance(doc, dict) else None


def _stream_to_tag(ref: dict[str, Any] | None, *, empty_kind: bool = False) -> None:
    """``from: {kind: ImageStream, name: x}`` is the tag ``x:latest`` (OpenShift's conversion)."""
    if ref is None:
        return
    kind = ref.get("kind")
    if kind == "ImageStream" or (empty_kind and not kind):
        name = ref.get("name")
        ref["kind"] = KIND_IMAGE_STREAM_TAG
        if isinstance(name, str) and ":" not in name:
            ref["name"] = f"{name}:latest"


def _typed(section: dict[str, Any] | None, fields: tuple[tuple[str, str], ...]) -> None:
    """A ``type`` follows the field that is set, as OpenShift's conversion recomputes it."""
    if section is None:
        return
    for key, type_name in fields:
        if section.get(key) is not None:
            section["type"] = type_name
            return
    given = section.get("type")
    if isinstance(given, str):
        for _, type_name in fields:
            if given.lower() == type_name.lower():
                section["type"] = type_name


def _strategy_from(strategy: dict[str, Any] | None) -> dict[str, Any] | None:
    if strategy is None:
        return None
    for key, _ in _STRATEGY_FIELDS[:3]:
        found = _dict_at(strategy, key, "from")
        if found is not None:
            return found
    return None


def _convert_build_spec(doc: dict[str, Any], label: str, warnings: list[str]) -> None:
    spec = _dict_at(doc, "spec")
    if spec is None:
        return
    _typed(_dict_at(spec, "source"), _SOURCE_FIELDS)
    strategy = _dict_at(spec, "strategy")
    _typed(strategy, _STRATEGY_FIELDS)
    for key, _ in _STRATEGY_FIELDS[:3]:
        _stream_to_tag(_dict_at(strategy, key, "from"))
    output = _dict_at(spec, "output", "to")
    if output is not None and output.get("kind") == "ImageStream":
        _stream_to_tag(output)
    triggers = spec.get("triggers")
    if doc.get("kind") != "BuildConfig" or not isinstance(triggers, list):
        return
    image = _strategy_from(strategy)
    has_tag = image is not None and image.get("kind", KIND_IMAGE_STREAM_TAG) in (
        KIND_IMAGE_STREAM_TAG,
        "",
    )
    kept: list[Any] = []
    for i, trigger in enumerate(triggers):
        if isinstance(trigger, dict) and trigger.get("type") in _TRIGGER_TYPES:
            trigger["type"] = _TRIGGER_TYPES[trigger["type"]]
        if (
            isinstance(trigger, dict)
            and trigger.get("type") == "ImageChange"
            and _dict_at(trigger, "imageChange", "from") is None
            and not has_tag
        ):
            warnings.append(
                f"{label}: spec.triggers[{i}] dropped: an ImageChange trigger without "
                "'from' follows the strategy's image, which is not an ImageStreamTag "
                "(OpenShift drops it too)"
            )
            continue
        kept.append(trigger)
    spec["triggers"] = kept


def _convert_stream(doc: dict[str, Any], label: str, warnings: list[str]) -> None:
    tags = _dict_at(doc, "spec")
    if tags is None or not isinstance(tags.get("tags"), list):
        return
    by_name: dict[Any, int] = {}
    kept: list[Any] = []
    for tag in tags["tags"]:
        name = tag.get("name") if isinstance(tag, dict) else None
        if name in by_name:
            warnings.append(
                f"{label}: spec.tags has {name!r} twice; the last one is kept (as OpenShift does)"
            )
            kept[by_name[name]] = tag
            continue
        if name is not None:
            by_name[name] = len(kept)
        kept.append(tag)
    tags["tags"] = kept


def _delete_at(doc: Any, loc: tuple[str | int, ...]) -> bool:
    for key in loc[:-1]:
        try:
            doc = doc[key]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(doc, dict) and loc[-1] in doc:
        del doc[loc[-1]]
        return True
    return False


def _path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for element in loc:
        path = join_path(path, element)
    return path


def drop_unknown_fields(
    model: type[KubeModel], doc: dict[str, Any], label: str, warnings: list[str]
) -> None:
    """Remove the fields ``model`` does not have, one warning each; other problems stay."""
    for _ in range(_MAX_PASSES):
        try:
            model.model_validate(doc, by_alias=True, by_name=False)
        except ValidationError as exc:
            unknown = [
                tuple(e["loc"])
                for e in exc.errors(include_url=False)
                if e["type"] == "extra_forbidden"
            ]
            dropped = [loc for loc in unknown if loc and _delete_at(doc, loc)]
            warnings.extend(
                f"{label}: unknown field {_path(loc)!r} dropped (OpenShift ignores it)"
                for loc in dropped
            )
            if dropped:
                continue
        return


def convert(doc: Any, where: str = "object") -> Converted:
    """The object to send for ``doc``: a legacy one converted, anything else unchanged.

    Raises ManifestError for a refused legacy kind or a converted object
    that kbuild's schema rejects.
    """
    if not isinstance(doc, dict):
        raise ManifestError([f"{where}: expected an object with apiVersion and kind"])
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    label = label_of(doc, where)
    if not isinstance(kind, str) or not kind:
        raise ManifestError([f"{label}: kind is missing"])
    if not isinstance(api_version, str) or not api_version:
        raise ManifestError([f"{label}: apiVersion is missing"])
    is_istag = kind == KIND_IMAGE_STREAM_TAG and api_version in (
        LEGACY_API_VERSION,
        IMAGE_API_VERSION,
    )
    if api_version == LEGACY_API_VERSION and kind in REFUSED_LEGACY:
        raise ManifestError(
            [
                f"{label}: {kind} ({REFUSED_LEGACY[kind]}) is a request to or a view of the "
                "OpenShift API server, which kbuild does not have; it cannot be applied"
            ]
        )
    legacy = api_version == LEGACY_API_VERSION and kind in GROUP_OF_LEGACY
    if not legacy and not is_istag:
        return Converted(doc)
    out = copy.deepcopy(doc)
    out["apiVersion"] = GROUP_OF_LEGACY[kind]
    warnings: list[str] = []
    _drop_server_fields(out, label, warnings)
    if kind in ("BuildConfig", "Build"):
        _convert_build_spec(out, label, warnings)
    elif kind == "ImageStream":
        _convert_stream(out, label, warnings)
    elif is_istag:
        for key in ("image", "generation", "conditions"):
            value = out.pop(key, None)
            if not _is_empty(value):
                warnings.append(f"{label}: {key} dropped (the API server computes it)")
    model = _MODELS.get(kind)
    if model is not None:
        drop_unknown_fields(model, out, label, warnings)
        parse_as(model, out, label)  # what is still wrong is a ManifestError
    return Converted(out, warnings, legacy)


def tag_request(doc: dict[str, Any], namespace: str, where: str = "object") -> TagRequest:
    """An ImageStreamTag (already converted) as the spec tag it sets on its stream.

    As OpenShift: the name is ``STREAM:TAG``, ``tag`` is required, ``tag.name``
    (if given) must be that TAG, and ``lookupPolicy`` goes to the stream.
    """
    label = label_of(doc, where)
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = metadata.get("name") if isinstance(metadata, dict) else None
    parts = name.split(":") if isinstance(name, str) else []
    if len(parts) != 2 or not all(parts):
        raise ManifestError([f"{label}: metadata.name must be STREAM:TAG, got {name!r}"])
    stream, tag_name = parts
    raw = doc.get("tag")
    if not isinstance(raw, dict):
        raise ManifestError(
            [f"{label}: tag is required (the spec tag to set: from, importPolicy, ...)"]
        )
    given = raw.get("name")
    if given not in (None, "", tag_name):
        raise ManifestError(
            [f"{label}: tag.name {given!r} must be the tag of metadata.name ({tag_name!r})"]
        )
    tag = parse_as(TagReference, {**raw, "name": tag_name}, f"{label}: tag")
    lookup = doc.get("lookupPolicy")
    policy = (
        None if lookup is None else parse_as(ImageLookupPolicy, lookup, f"{label}: lookupPolicy")
    )
    extra = sorted(set(doc) - {"apiVersion", "kind", "metadata", "tag", "lookupPolicy"})
    if extra:
        raise ManifestError([f"{label}: unknown field {extra[0]!r}"])
    return TagRequest(namespace, stream, tag, policy)


def flatten(docs: list[Any], where: str = "document") -> list[tuple[Any, str]]:
    """Each object of ``docs`` with where it came from; ``List`` and ``<Kind>List`` unwrapped."""
    out: list[tuple[Any, str]] = []
    for number, doc in enumerate(docs, start=1):
        if doc is None:
            continue
        out.extend(_flatten_one(doc, f"{where} {number}", depth=0))
    return out


def _flatten_one(doc: Any, where: str, depth: int) -> list[tuple[Any, str]]:
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if not (isinstance(kind, str) and kind.endswith("List") and "items" in doc):
        return [(doc, where)]
    items = doc["items"]
    if not isinstance(items, list):
        raise ManifestError([f"{where}: items of {kind} must be a list"])
    if depth >= 10:
        raise ManifestError([f"{where}: Lists nested more than 10 deep"])
    out: list[tuple[Any, str]] = []
    for i, item in enumerate(items, start=1):
        out.extend(_flatten_one(item, f"{where} item {i}", depth + 1))
    return out
