"""Bounded nesting for JSON that comes from outside: parse it only if it is shallow.

Python's ``json`` decoder (and everything that walks its result afterwards:
pydantic, ``json.dumps``, ``str()`` of a list) recurses once per level, so a
kilobyte of ``[[[[...`` ends in ``RecursionError``, which no caller expects
from a parser and which kills whatever thread meets it.  Raising the
interpreter's recursion limit only moves the cliff.  Instead every parser of
untrusted JSON in kbuild goes through ``load_json``, which first measures the
document's depth with a linear scan (strings skipped, brackets counted,
stopping at the first level too deep) and refuses anything nested deeper
than ``MAX_DEPTH`` with ``NestingError``, a ``ValueError``, before the
decoder runs.

``MAX_DEPTH`` is 100 levels: a Kubernetes object nests about 20 deep, a
registry manifest or image config under 10, a trigger annotation 3; and 100
levels leave every recursive walker far below Python's default limit of
1000 frames, even when called from deep inside a reconciler.

Everything ``load_json`` raises is a ``ValueError``: ``json.JSONDecodeError``
for syntax, ``UnicodeDecodeError`` for bytes that are not UTF-8/16/32,
``NestingError`` for depth, and the plain ``ValueError`` of an integer
longer than Python's 4300-digit conversion limit.  Callers turn that into
their own typed error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 100
"""Deepest nesting of arrays and objects (together) accepted in untrusted JSON or YAML."""

# A JSON string (its closing quote optional, so an unterminated one ends the
# scan in one step instead of being retried at every later quote).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class NestingError(ValueError):
    """A document nested deeper than the limit; the message says how deep it may go."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} is nested more than {limit} levels deep")
        self.limit = limit


def json_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` opens more than ``limit`` arrays/objects inside each other.

    Linear in the text and cheap when it holds few brackets.  Text that is
    not JSON gets some answer; the decoder reports what is wrong with it.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


def load_json(
    data: str | bytes,
    *,
    what: str = "JSON document",
    limit: int = MAX_DEPTH,
    object_pairs_hook: Callable[[list[tuple[Any, Any]]], Any] | None = None,
) -> Any:
    """``json.loads`` for untrusted input: at most ``limit`` levels deep, only ``ValueError``."""
    if isinstance(data, bytes):
        text = data.decode(json.detect_encoding(data), "surrogatepass")
    else:
        text = data
    if json_depth_exceeds(text, limit):
        raise NestingError(what, limit)
    return json.loads(text, object_pairs_hook=object_pairs_hook)
