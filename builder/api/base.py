"""Foundations for the API models: the base class, scalar types and the dump.

Conventions every model in ``builder.api`` follows:

- A Python attribute is the snake_case of OpenShift's JSON name; a JSON name
  that is a Python keyword gets a trailing underscore (``from`` -> ``from_``,
  ``as`` -> ``as_``).  Where OpenShift's JSON tag is not plain camelCase of the
  attribute (``imageID``, ``mountTrustedCA``) the field carries an explicit alias.
- Unknown fields are errors (``extra="forbid"``), so a typo in a manifest is
  reported with its path instead of being dropped.
- Pointer fields and JSON fields OpenShift may write as ``null`` are
  ``T | None = None``; other optional fields default to Go's zero value so code
  can read them without ``None`` checks.  A ``null`` given for a field that is
  not nullable is treated as absent, as the API server prunes it.
- ``to_dict`` gives the JSON form: only fields that were given (or changed
  since), by JSON name.  Loading a manifest and dumping it returns the input.
"""

from __future__ import annotations

import math
import re
import types
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    PlainValidator,
    StrictStr,
    WithJsonSchema,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticUndefined

from builder.api.times import RFC3339, format_time

# ---------------------------------------------------------------------------
# Names


def json_name(attribute: str) -> str:
    """The default JSON name of an attribute: camelCase, keyword underscore dropped."""
    head, *rest = attribute.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# ---------------------------------------------------------------------------
# Field markers


@dataclass(frozen=True)
class Unimplemented:
    """Marks an OpenShift field kbuild accepts but does not act on.

    Use as ``Annotated[T, Unimplemented("why")]``.  ``unimplemented_fields_in_use``
    reports the field when a manifest sets it to anything other than an empty
    value, ``None`` or one of ``harmless`` (values equivalent to not using it).
    """

    why: str
    harmless: tuple[object, ...] = ()

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["x-kbuild-unimplemented"] = self.why
        return schema


@dataclass(frozen=True)
class AlwaysDump:
    """Marks a field ``to_dict`` always writes (``apiVersion`` and ``kind``)."""


# ---------------------------------------------------------------------------
# Scalar types


def _time_from_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    return value


def _check_time(value: str) -> str:
    if not RFC3339.match(value):
        raise ValueError(f"must be an RFC3339 time such as 2024-05-01T12:00:00Z, got {value!r}")
    return value


Time = Annotated[
    StrictStr,
    BeforeValidator(_time_from_datetime),
    AfterValidator(_check_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An RFC3339 timestamp, kept as the string it was given (``metav1.Time``).

A ``datetime`` is accepted on construction and stored via ``format_time``.
"""


# Kubernetes' quantity grammar (resource.ParseQuantity): a signed decimal
# number and an optional binary (Ki..Ei), decimal (n, u, m, k, M..E) or
# exponent suffix.
_QUANTITY = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)


def _check_quantity(value: Any) -> int | float | str:
    """An integer, a finite number (``cpu: 0.5``, as Kubernetes accepts it) or a quantity string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(
            f"must be a number or a quantity string such as '500m' or '1Gi', got {value!r}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    if isinstance(value, str) and not _QUANTITY.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ValueError(f"must be a quantity such as '500m', '0.5' or '1Gi', got {shown!r}")
    return value


Quantity = Annotated[
    int | float | str,
    PlainValidator(_check_quantity),
    # Not x-kubernetes-int-or-string: that refuses 0.5, which Kubernetes'
    # own quantities accept.  Any JSON value passes the API server; the model
    # above is the check (a build with a bad quantity fails with its path).
    WithJsonSchema({"x-kubernetes-preserve-unknown-fields": True}),
]
"""A Kubernetes resource quantity: an integer or a string such as ``500m``."""

FreeFormObject = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""An object whose content is not modelled (kept as given)."""


# ---------------------------------------------------------------------------
# Base class


def json_nullable(annotation: Any) -> bool:
    """Whether a field of this type may hold JSON ``null``.

    ``T | None`` may, except for enumerations: ``None`` there only means
    "not set" (Go writes no null for them, and a CRD enum rejects null).
    """
    origin = get_origin(annotation)
    if origin is Annotated:
        return json_nullable(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == len(get_args(annotation)):
            return False
        return not all(isinstance(m, type) and issubclass(m, Enum) for m in members)
    return annotation is None or annotation is type(None) or annotation is Any


class KubeModel(BaseModel):
    """Base of every API model: camelCase JSON names, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=json_name,
        populate_by_name=True,
        extra="forbid",
        # Attribute docstrings are the CRDs' field descriptions; crdgen reads them
        # itself, so that loading the models (every CLI call) skips parsing source.
        use_attribute_docstrings=False,
        validate_assignment=False,
        # A model's validator is built when first used, not at import: `kbuild get is`
        # never builds the Build models' (bench/cli_startup.py measures start-up).
        defer_build=True,
    )

    _non_nullable_keys: ClassVar[dict[type[KubeModel], frozenset[str]]] = {}

    @classmethod
    def _keys_not_nullable(cls) -> frozenset[str]:
        keys = KubeModel._non_nullable_keys.get(cls)
        if keys is None:
            collected: set[str] = set()
            for name, field in cls.model_fields.items():
                if not json_nullable(field.annotation):
                    collected.update({name, field.alias or name})
            keys = frozenset(collected)
            KubeModel._non_nullable_keys[cls] = keys
        return keys

    @model_validator(mode="before")
    @classmethod
    def _drop_null_for_non_nullable(cls, data: Any) -> Any:
        # Go decodes null as "leave the zero value" and the API server prunes
        # null from non-nullable CRD fields: do the same instead of failing.
        if isinstance(data, dict) and None in data.values():
            keys = cls._keys_not_nullable()
            return {k: v for k, v in data.items() if not (v is None and k in keys)}
        return data


# ---------------------------------------------------------------------------
# Dump


def _is_marked(field: FieldInfo, marker: type) -> bool:
    return any(isinstance(m, marker) for m in field.metadata)


def _field_in_use(model: KubeModel, name: str, field: FieldInfo, value: Any) -> bool:
    """Given in the input, assigned since, or changed in place from its default."""
    if name in model.model_fields_set:
        return True
    default = field.get_default(call_default_factory=True)
    if default is PydanticUndefined:
        return True
    return bool(value != default)


def _plain(value: Any) -> Any:
    if isinstance(value, KubeModel):
        return to_dict(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_dict(model: KubeModel) -> dict[str, Any]:
    """The JSON form of ``model``: JSON names, only the fields that were set.

    A field counts as set when it was in the input or passed to the
    constructor (explicit ``null`` and empty values included), assigned
    afterwards, or differs from its default (a nested default object or list
    changed in place).  ``None`` is written as ``null`` only where JSON allows
    it (see ``json_nullable``).  So ``to_dict(load(x)) == x`` for a valid ``x``.
    """
    out: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None and not json_nullable(field.annotation):
            continue
        if _is_marked(field, AlwaysDump) or _field_in_use(model, name, field, value):
            out[field.alias or name] = _plain(value)
    return out


# ---------------------------------------------------------------------------
# Paths and unimplemented fields

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def join_path(path: str, element: str | int) -> str:
    """Append a JSON name, list index or map key to a dotted path."""
    if isinstance(element, int):
        return f"{path}[{element}]"
    if not _IDENT.match(element):
        return f'{path}["{element}"]'
    return f"{path}.{element}" if path else element


def _empty(value: Any) -> bool:
    return value is None or value is False or value in ("", [], {})


def _walk_unimplemented(value: Any, path: str, found: list[tuple[str, str]]) -> None:
    if isinstance(value, KubeModel):
        for name, field in type(value).model_fields.items():
            child = getattr(value, name)
            if not _field_in_use(value, name, field, child):
                continue
            child_path = join_path(path, field.alias or name)
            marker = next((m for m in field.metadata if isinstance(m, Unimplemented)), None)
            if marker is not None:
                plain = child.value if isinstance(child, Enum) else child
                if not _empty(plain) and plain not in marker.harmless:
                    found.append((child_path, marker.why))
                    continue
            _walk_unimplemented(child, child_path, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_unimplemented(item, join_path(path, index), found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_unimplemented(item, join_path(path, str(key)), found)


def unimplemented_fields_in_use(obj: KubeModel) -> list[tuple[str, str]]:
    """``(json path, why)`` for each set field kbuild accepts but does not implement.

    Only fields that are set are walked; empty values (``false``, ``""``,
    ``[]``, ``{}``, ``null``) and a marker's harmless values do not count.
    """
    found: list[tuple[str, str]] = []
    _walk_unimplemented(obj, "", found)
    return found
