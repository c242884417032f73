"""Which model fields kbuild's code reads while the tests run: the field guard's evidence.

A pytest plugin.  With it loaded, every read, assignment or constructor
keyword of a model field made by code of ``builder``
is recorded as ``Class.jsonName`` (the class that declares it); generic code
(validation, ``dump``, conversion, the unimplemented-field walk: ``GENERIC``)
does not count, since reading a field there is not acting on it.  At the end of the session
the set is written to ``KBUILD_FIELD_TRACE`` (JSON, sorted).

Regenerate the committed trace after changing what the code reads::

    KBUILD_FIELD_TRACE=tests/unit/api/field_reads.json \\
        python -m pytest tests/unit -q -p tests.support.fieldtrace -p no:cacheprovider

``tests/unit/api/test_field_guard.py`` then checks that every field of
BuildConfig, Build and ImageStream is in it, marked ``Unimplemented`` (and
reported when used), or kept as given for a stated reason.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builder.api.base import KubeModel

READS: set[str] = set()
# Code that touches every field alike (validation, dump, conversion, the
# unimplemented walk, the CRD generator): a read there is not acting on it.
# The models' own behaviour (OpenShift's defaulting, build conditions) counts.
GENERIC = frozenset(
    {
        "builder.api.base",
        "builder.api.crdgen",
        "builder.api.legacy",
        "builder.api.manifest",
        "builder.api.nesting",
    }
)


def owner(cls: type[KubeModel], name: str) -> str:
    """The class that declares field ``name``: a CommonSpec field is one field, not two."""
    for klass in cls.__mro__:
        if name in inspect.get_annotations(klass):
            return klass.__name__
    return cls.__name__


def _record(cls: type[KubeModel], name: str) -> None:
    field = cls.model_fields.get(name)
    if field is None:
        return
    caller = sys._getframe(2).f_globals.get("__name__", "")
    if caller.startswith("builder.") and caller not in GENERIC:
        READS.add(f"{owner(cls, name)}.{field.alias or name}")


def _install() -> tuple[Any, Any, Any]:
    """Reads, assignments and constructor keywords: writing a status field is acting on it."""
    get, put, init = KubeModel.__getattribute__, KubeModel.__setattr__, KubeModel.__init__

    def traced_get(self: KubeModel, name: str) -> Any:
        if not name.startswith("_"):
            _record(type(self), name)
        return get(self, name)

    def traced_set(self: KubeModel, name: str, value: Any) -> None:
        _record(type(self), name)
        put(self, name, value)

    def traced_init(self: KubeModel, **data: Any) -> None:
        for name in data:
            _record(type(self), name)
        init(self, **data)

    KubeModel.__getattribute__ = traced_get  # type: ignore[method-assign,assignment]
    KubeModel.__setattr__ = traced_set  # type: ignore[method-assign,assignment]
    KubeModel.__init__ = traced_init  # type: ignore[method-assign,assignment]
    return get, put, init


@pytest.fixture(scope="session", autouse=True)
def _field_trace() -> Iterator[None]:
    target = os.environ.get("KBUILD_FIELD_TRACE", "")
    if not target:
        yield
        return
    get, put, init = _install()
    try:
        yield
    finally:
        KubeModel.__getattribute__ = get  # type: ignore[method-assign,assignment]
        KubeModel.__setattr__ = put  # type: ignore[method-assign,assignment]
        KubeModel.__init__ = init  # type: ignore[method-assign,assignment]
        Path(target).write_text(json.dumps(sorted(READS), indent=0) + "\n")
