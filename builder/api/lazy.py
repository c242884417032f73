"""Package re-exports loaded on first use (PEP 562 ``__getattr__``).

``builder.api`` re-exports the pydantic models, which cost ~0.2 s to load,
and ``builder.pipeline`` the steps, which load the registry client, buildah
and the renderer: an entry point that needs neither must not pay for them
by importing the package for one light name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping
from typing import Any


def lazy_export(
    package: str, namespace: MutableMapping[str, Any], where: Mapping[str, str], name: str
) -> Any:
    """``name`` from the module ``where`` says, kept in ``namespace`` for the next lookup."""
    module = where.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
