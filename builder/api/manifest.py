"""Loading manifests into models, and dumping models back to JSON dicts.

``load_manifests`` accepts YAML (one or more documents) or JSON, including
``kind: List`` (and ``<Kind>List``) wrappers, and returns one model per
object.  Every problem found, in every document, is collected and raised
together as one ``ManifestError`` holding one readable line per problem.
"""

from __future__ import annotations

import difflib
import json
import types
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from builder.api.base import KubeModel, join_path, to_dict
from builder.api.build import Build, BuildConfig, BuildRequest
from builder.api.constants import BUILD_API_VERSION, IMAGE_API_VERSION, LEGACY_API_VERSION
from builder.api.image import ImageStream

KubeObject = BuildConfig | Build | BuildRequest | ImageStream
"""The top-level objects kbuild reads."""

KINDS: dict[tuple[str, str], type[KubeObject]] = {
    (BUILD_API_VERSION, "BuildConfig"): BuildConfig,
    (BUILD_API_VERSION, "Build"): Build,
    (BUILD_API_VERSION, "BuildRequest"): BuildRequest,
    (IMAGE_API_VERSION, "ImageStream"): ImageStream,
}
"""Model for each ``(apiVersion, kind)`` kbuild handles."""

_M = TypeVar("_M", bound=KubeModel)

_GROUP_FORM = {kind: api_version for api_version, kind in KINDS}


class ManifestError(ValueError):
    """A manifest that cannot be loaded; ``problems`` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [" ".join(p.split()) for p in problems]
        super().__init__("\n".join(self.problems))


# ---------------------------------------------------------------------------
# Parsing text


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(f"duplicate key {key!r}")
        out[key] = value
    return out


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that keeps timestamps as strings and rejects duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse_documents(text: str) -> list[Any]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return [json.loads(text, object_pairs_hook=_no_duplicates)]
        except json.JSONDecodeError as exc:
            raise ManifestError(
                [f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
            ) from None
        except _DuplicateKeyError as exc:
            raise ManifestError([f"not valid JSON: {exc}"]) from None
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        where = ""
        if exc.problem_mark is not None:
            where = f" at line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}"
        raise ManifestError([f"not valid YAML: {exc.problem or exc.context}{where}"]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([f"not valid YAML: {exc}"]) from None


# ---------------------------------------------------------------------------
# Validation errors as lines


def _type_name(value: Any) -> str:
    names: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        ((list, tuple), "list"),
        (dict, "object"),
    ]
    if value is None:
        return "null"
    return next((name for kind, name in names if isinstance(value, kind)), type(value).__name__)


def _shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return _type_name(value)
    text = json.dumps(value) if isinstance(value, str | int | float | bool) else repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{_type_name(value)} {text}"


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _model_at(root: type[KubeModel], loc: tuple[str | int, ...]) -> type[KubeModel] | None:
    """The model class found at ``loc`` (JSON names, indices, keys) below ``root``."""
    annotation: Any = root
    for element in loc:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, KubeModel):
            field = next(
                (f for n, f in annotation.model_fields.items() if (f.alias or n) == element),
                None,
            )
            if field is None:
                return None
            annotation = field.annotation
        elif origin is list:
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, KubeModel):
        return annotation
    return None


def _unknown_field(root: type[KubeModel], loc: tuple[str | int, ...]) -> str:
    message = "unknown field"
    parent = _model_at(root, loc[:-1])
    if parent is not None and isinstance(loc[-1], str):
        names = [f.alias or n for n, f in parent.model_fields.items()]
        close = difflib.get_close_matches(loc[-1], names, n=1, cutoff=0.6)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    return message


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def _message(error: ErrorDetails, root: type[KubeModel]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown_field(root, tuple(error["loc"]))
    if kind == "missing":
        return "required field is missing"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_shown(error['input'])}"
    if kind in ("enum", "literal_error"):
        return f"must be one of {ctx.get('expected', '?')}, got {_shown(error['input'])}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def _path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for element in loc:
        path = join_path(path, element)
    return path or "(top level)"


def validation_problems(exc: ValidationError, root: type[KubeModel], label: str) -> list[str]:
    """One ``label: path: message`` line per error in ``exc``."""
    return [
        f"{label}: {_path(tuple(e['loc']))}: {_message(e, root)}"
        for e in exc.errors(include_url=False)
    ]


# ---------------------------------------------------------------------------
# Objects


def _label(doc: dict[str, Any], where: str, default_kind: str = "object") -> str:
    kind = doc.get("kind")
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    kind_text = kind if isinstance(kind, str) and kind else default_kind
    if isinstance(name, str) and name:
        return f"{kind_text} {name!r}"
    return f"{kind_text} ({where})"


def _model_for(doc: dict[str, Any], label: str) -> tuple[type[KubeObject] | None, str | None]:
    api_version = doc.get("apiVersion")
    kind = doc.get("kind")
    if not isinstance(api_version, str) or not api_version:
        return None, f"{label}: apiVersion is missing"
    if not isinstance(kind, str) or not kind:
        return None, f"{label}: kind is missing"
    model = KINDS.get((api_version, kind))
    if model is not None:
        return model, None
    if kind in _GROUP_FORM:
        wanted = _GROUP_FORM[kind]
        if api_version == LEGACY_API_VERSION:
            return None, (
                f"{label}: apiVersion 'v1' is OpenShift 3's legacy ungrouped form, "
                f"which kbuild does not serve; use apiVersion {wanted!r}"
            )
        return None, f"{label}: apiVersion {api_version!r} is not served; use {wanted!r}"
    handled = ", ".join(f"{k} ({v})" for (v, k) in KINDS)
    hint = "; process the template first (oc process)" if kind == "Template" else ""
    return None, (
        f"{label}: kind {kind!r} ({api_version}) is not handled by kbuild, "
        f"which reads {handled}{hint}"
    )


def parse_as(model: type[_M], data: Any, label: str | None = None) -> _M:
    """Validate ``data`` (a JSON dict, by JSON names only) as ``model``.

    Raises ManifestError with one line per problem.
    """
    if label is None:
        label = model.__name__
        if isinstance(data, dict):
            label = _label(data, "object", default_kind=model.__name__)
    try:
        return model.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise ManifestError(validation_problems(exc, model, label)) from None


def parse_object(data: Any, where: str = "object") -> KubeObject:
    """Validate one object, choosing the model by its apiVersion and kind."""
    if not isinstance(data, dict):
        raise ManifestError(
            [f"{where}: expected an object with apiVersion and kind, got {_type_name(data)}"]
        )
    label = _label(data, where)
    model, problem = _model_for(data, label)
    if model is None:
        raise ManifestError([problem or f"{label}: not a known object"])
    return parse_as(model, data, label)


def _is_list(doc: dict[str, Any]) -> bool:
    kind = doc.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and "items" in doc


def load_manifests(text: str) -> list[KubeObject]:
    """Load every object in YAML or JSON ``text``.

    Multi-document YAML and ``List`` wrappers are flattened.  Raises
    ManifestError listing every problem found, one line each.
    """
    objects: list[KubeObject] = []
    problems: list[str] = []
    for number, doc in enumerate(_parse_documents(text), start=1):
        if doc is None:
            continue
        where = f"document {number}"
        items: list[tuple[Any, str]] = [(doc, where)]
        if isinstance(doc, dict) and _is_list(doc):
            if not isinstance(doc["items"], list):
                problems.append(f"{where}: items of {doc['kind']} must be a list")
                continue
            items = [(item, f"{where} item {i + 1}") for i, item in enumerate(doc["items"])]
        for item, item_where in items:
            try:
                objects.append(parse_object(item, item_where))
            except ManifestError as exc:
                problems.extend(exc.problems)
    if problems:
        raise ManifestError(problems)
    return objects


def dump(obj: KubeModel) -> dict[str, Any]:
    """The JSON dict of a model: JSON names, only set fields (see ``to_dict``)."""
    return to_dict(obj)


def load_documents(text: str) -> list[Any]:
    """The raw documents of YAML or JSON ``text``, for callers that take any kind.

    ``kbuild apply|create`` send objects kbuild has no model for (Services,
    Secrets, ...) as they are, so they need the documents rather than
    models; the text is read by the same loader, with the same limits and
    the same ``ManifestError``s, as ``load_manifests``.
    """
    return _parse_documents(text)
