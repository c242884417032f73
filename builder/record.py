"""Records: dataclass-like value classes that cost almost nothing to define.

Why not ``dataclasses``: ``kbuild build`` loads about fifty value classes
before its first ``buildah`` call, and a ``@dataclass`` compiles five or six
functions from source text for each (``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, the frozen ``__setattr__``): ~0.7 ms a class under Python 3.11,
plus ~10 ms to import ``dataclasses`` itself (it loads ``inspect``, ``ast``
and ``tokenize``).  That was a fifth of kbuild's own time in a local build
(``bench/local_build.py``).  A record class is defined in ~0.02 ms: its
methods are the shared ones below, reading the field list the class keeps.
An instance costs ~2 us more to make, which no caller here notices.

What a record is, by design the subset of dataclasses this code base uses:

- fields are the class's annotations, in order, the bases' first; a class
  attribute is the field's default, ``field(default_factory=...)`` makes a
  fresh one per instance; ``field(repr=False)`` keeps a secret out of
  ``repr``; ``field(hash=False)`` keeps a mapping out of ``hash``;
- frozen unless declared ``class X(Record, frozen=False)``; equality compares
  the class and the fields; a frozen record hashes like its fields, a mutable
  one is unhashable (as ``@dataclass(eq=True)``);
- ``__post_init__``, if defined, runs after the fields are set;
- ``replace`` and ``asdict`` work as their ``dataclasses`` namesakes.

``typing.dataclass_transform`` tells mypy all of this, so a record's
constructor is checked like a dataclass's.  Annotations are read as written
(strings under ``from __future__ import annotations``) and never evaluated;
``ClassVar`` ones are not fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")
_R = TypeVar("_R", bound="Record")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenRecordError(AttributeError):
    """Assignment to a field of a frozen record (``dataclasses.FrozenInstanceError``'s role)."""


class Field:
    """One field's declaration: its default or factory, and whether repr and hash see it."""

    __slots__ = ("default", "default_factory", "hash", "name", "repr")

    def __init__(
        self,
        default: Any = MISSING,
        default_factory: Callable[[], Any] | Any = MISSING,
        *,
        repr: bool = True,
        hash: bool = True,
    ) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("a field takes a default or a default_factory, not both")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.hash = hash


@overload
def field(*, default: _T, repr: bool = True, hash: bool = True) -> _T: ...
@overload
def field(
    *,
    default_factory: Callable[[], _T],
    repr: bool = True,
    hash: bool = True,
) -> _T: ...
@overload
def field(*, repr: bool = True, hash: bool = True) -> Any: ...
def field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    repr: bool = True,
    hash: bool = True,
) -> Any:
    """A field with a factory default or hidden from ``repr`` or ``hash``."""
    return Field(default, default_factory, repr=repr, hash=hash)


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    """Base of every record class; see the module's docstring."""

    __slots__ = ()
    __record_fields__: ClassVar[tuple[Field, ...]] = ()
    __record_frozen__: ClassVar[bool] = True

    def __init_subclass__(cls, *, frozen: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Field] = {f.name: f for f in cls.__record_fields__}
        # Read off the class's own dict: inspect.get_annotations would load
        # inspect, the very import this module exists to avoid.
        own: dict[str, object] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, annotation in own.items():
            if _is_class_var(annotation):
                continue
            value = cls.__dict__.get(name, MISSING)
            spec = value if isinstance(value, Field) else Field(value)
            spec.name = name
            declared[name] = spec
            if isinstance(value, Field):
                # As dataclasses leave it: the plain default as a class
                # attribute, nothing for a factory or a required field.
                if spec.default is MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, spec.default)
        specs = tuple(declared.values())
        seen_default = ""
        for spec in specs:
            if spec.default is not MISSING or spec.default_factory is not MISSING:
                seen_default = spec.name
            elif seen_default:
                raise TypeError(
                    f"{cls.__qualname__}: field {spec.name!r} without a default "
                    f"follows {seen_default!r}, which has one"
                )
        if any(
            issubclass(base, Record) and base is not Record and base.__record_frozen__ != frozen
            for base in cls.__bases__
        ):
            raise TypeError(f"{cls.__qualname__}: frozen and mutable records do not mix")
        cls.__record_fields__ = specs
        cls.__record_frozen__ = frozen
        cls.__match_args__ = tuple(spec.name for spec in specs)  # type: ignore[attr-defined,misc]
        if not frozen:
            # Equality by value makes a mutable object unhashable, as in dataclasses.
            cls.__hash__ = None  # type: ignore[assignment]
            cls.__setattr__ = object.__setattr__  # type: ignore[method-assign,assignment]
            cls.__delattr__ = object.__delattr__  # type: ignore[method-assign]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        specs = self.__record_fields__
        if len(args) > len(specs):
            raise TypeError(
                f"{type(self).__qualname__}() takes {len(specs)} positional arguments "
                f"but {len(args)} were given"
            )
        for spec, value in zip(specs, args, strict=False):
            if spec.name in kwargs:
                raise TypeError(
                    f"{type(self).__qualname__}() got multiple values for {spec.name!r}"
                )
            object.__setattr__(self, spec.name, value)
        for spec in specs[len(args) :]:
            if spec.name in kwargs:
                value = kwargs.pop(spec.name)
            elif spec.default is not MISSING:
                value = spec.default
            elif spec.default_factory is not MISSING:
                value = spec.default_factory()
            else:
                raise TypeError(f"{type(self).__qualname__}() missing argument {spec.name!r}")
            object.__setattr__(self, spec.name, value)
        if kwargs:
            unknown = ", ".join(repr(name) for name in kwargs)
            raise TypeError(f"{type(self).__qualname__}() got unexpected arguments {unknown}")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, spec.name) for spec in self.__record_fields__)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{spec.name}={getattr(self, spec.name)!r}"
            for spec in self.__record_fields__
            if spec.repr
        )
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, spec.name) for spec in self.__record_fields__ if spec.hash))

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen record")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r} of a frozen record")


def replace(record: _R, /, **changes: Any) -> _R:
    """A copy of ``record`` with ``changes``; ``__post_init__`` checks it again."""
    for spec in record.__record_fields__:
        if spec.name not in changes:
            changes[spec.name] = getattr(record, spec.name)
    return type(record)(**changes)


def asdict(record: Record) -> dict[str, Any]:
    """The fields as a dict; records inside (in lists, tuples and dicts too) as dicts."""
    return {spec.name: _plain(getattr(record, spec.name)) for spec in record.__record_fields__}


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return asdict(value)
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return value
