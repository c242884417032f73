"""Validating JSON as a model, and saying what is wrong in one line per problem.

Apart from ``builder.api.manifest`` (which loads YAML and picks a model by
kind) so that reading one kind (``kbuild get is``: the ImageStream models)
does not load every other kind's models with it.
"""

from __future__ import annotations

import difflib
import json
import types
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from builder.api.base import KubeModel, join_path, to_dict

_M = TypeVar("_M", bound=KubeModel)


class ManifestError(ValueError):
    """A manifest that cannot be loaded; ``problems`` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [" ".join(p.split()) for p in problems]
        super().__init__("\n".join(self.problems))


def type_name(value: Any) -> str:
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
        return type_name(value)
    text = json.dumps(value) if isinstance(value, str | int | float | bool) else repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type_name(value)} {text}"


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


def object_label(doc: dict[str, Any], where: str, default_kind: str = "object") -> str:
    kind = doc.get("kind")
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    kind_text = kind if isinstance(kind, str) and kind else default_kind
    if isinstance(name, str) and name:
        return f"{kind_text} {name!r}"
    return f"{kind_text} ({where})"


def parse_as(model: type[_M], data: Any, label: str | None = None) -> _M:
    """Validate ``data`` (a JSON dict, by JSON names only) as ``model``.

    Raises ManifestError with one line per problem.
    """
    if label is None:
        label = model.__name__
        if isinstance(data, dict):
            label = object_label(data, "object", default_kind=model.__name__)
    try:
        return model.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise ManifestError(validation_problems(exc, model, label)) from None


def dump(obj: KubeModel) -> dict[str, Any]:
    """The JSON dict of a model: JSON names, only set fields (see ``to_dict``)."""
    return to_dict(obj)
