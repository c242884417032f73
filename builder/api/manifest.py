"""Loading manifests into models, and dumping models back to JSON dicts.

``load_manifests`` accepts YAML (one or more documents) or JSON, including
``kind: List`` (and ``<Kind>List``) wrappers, and returns one model per
object.  Every problem found, in every document, is collected and raised
together as one ``ManifestError`` holding one readable line per problem.

A manifest is untrusted input, and ``ManifestError`` is the only exception
loading one raises, whatever the bytes.  The bounds that make that true:

- at most ``MAX_MANIFEST_CHARS`` (3 Mi) characters, the API server's own
  limit on a request body: nothing larger could be applied anyway;
- bytes must be UTF-8 (a BOM is allowed);
- nesting at most ``nesting.MAX_DEPTH`` (100) levels, JSON and YAML alike,
  checked before anything walks the document recursively;
- YAML aliases may share nodes but not multiply them: the document,
  expanded, holds at most ``MAX_NODES`` (1,000,000) values, which is about
  what 3 MiB of alias-free YAML can hold (so "billion laughs" is refused
  when composed, before anything is built), and an alias inside its own
  anchor (a cycle) is refused;
- mapping keys must be hashable (``? [a]`` is refused, not a ``TypeError``),
  and an integer too long for Python to convert is a problem, not a crash.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from builder.api.build import Build, BuildConfig, BuildRequest
from builder.api.constants import BUILD_API_VERSION, IMAGE_API_VERSION, LEGACY_API_VERSION
from builder.api.image import ImageStream
from builder.api.nesting import MAX_DEPTH, NestingError, load_json
from builder.api.validation import ManifestError, object_label, parse_as, type_name

KubeObject = BuildConfig | Build | BuildRequest | ImageStream
"""The top-level objects kbuild reads."""

KINDS: dict[tuple[str, str], type[KubeObject]] = {
    (BUILD_API_VERSION, "BuildConfig"): BuildConfig,
    (BUILD_API_VERSION, "Build"): Build,
    (BUILD_API_VERSION, "BuildRequest"): BuildRequest,
    (IMAGE_API_VERSION, "ImageStream"): ImageStream,
}
"""Model for each ``(apiVersion, kind)`` kbuild handles."""

_GROUP_FORM = {kind: api_version for api_version, kind in KINDS}

MAX_MANIFEST_CHARS = 3 << 20
"""Longest manifest text read (the API server refuses request bodies over 3 MiB)."""

MAX_NODES = 1_000_000
"""Most values a YAML stream may hold once its aliases are expanded."""


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
    """Safe YAML loader that keeps timestamps as strings and rejects duplicate and unhashable keys.

    The composer recurses once per level, so it counts levels and stops
    past ``MAX_DEPTH`` (the scanner and parser before it do not recurse).
    libyaml's ``CSafeLoader`` would be faster but words its errors less
    clearly, and it is not always built.
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:  # a scalar inside MAX_DEPTH collections is fine
                event: Any = self.peek_event()  # type: ignore[no-untyped-call]
                too_deep = f"nested more than {MAX_DEPTH} levels deep"
                raise yaml.composer.ComposerError(None, None, too_deep, event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's constructors, with their crashes on explicit tags made YAML errors.

        ``!!int ""`` raises IndexError, ``!!bool x`` KeyError, ``!!timestamp x``
        AttributeError, ``!!int 0b`` and 4301 digits ValueError: all mean
        "this value is not of that type".
        """
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, LookupError, AttributeError, TypeError) as exc:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            value = node.value if isinstance(node.value, str) else "a collection"
            shown = value if len(value) <= 40 else value[:37] + "..."
            cause = f": {exc}" if type(exc) is ValueError else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown!r} as {tag}{cause}", node.start_mark
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # !!set [a], !!map x
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, but found {node.id}", node.start_mark
            )
        self.flatten_mapping(node)  # merge keys (<<) first: they are no keys of their own
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)  # not ``key in seen``: a set would be looked up as a frozenset
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"a mapping key must be a scalar, not a {type_name(key)}",
                    key_node.start_mark,
                ) from None
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


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_graph(root: yaml.Node) -> None:
    """Refuse a composed document too deep or too large once its aliases are expanded.

    Aliases make the node tree a graph whose expansion can be exponential
    in its size, so depth and expanded size are computed per distinct node
    (memoised, iteratively: the graph may be deeper than the stack).  An
    alias of an enclosing node is a cycle, refused too.
    """
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (depth, expanded values)
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            kids = [done[id(kid)] for kid in _children(node)]
            nested = isinstance(node, yaml.CollectionNode)
            depth = (1 + max((d for d, _ in kids), default=0)) if nested else 0
            size = 1 + sum(n for _, n in kids)
            if depth > MAX_DEPTH:
                raise ManifestError(
                    [f"not valid YAML: nested more than {MAX_DEPTH} levels deep "
                     "(counting through aliases)"]
                )  # fmt: skip
            if size > MAX_NODES:
                raise ManifestError(
                    [f"not valid YAML: more than {MAX_NODES} values once its aliases are expanded"]
                )
            done[key] = (depth, size)
            continue
        if key in done:
            continue
        if key in open_nodes:
            raise ManifestError(
                [f"not valid YAML: an alias refers to its own enclosing node at {_where(node)}"]
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node) if id(kid) not in done)


def _where(node: yaml.Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"


def _load_yaml(text: str) -> list[Any]:
    loader = _Loader(text)
    try:
        documents: list[Any] = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            _check_graph(node)
            try:
                documents.append(loader.construct_document(node))
            except yaml.YAMLError:
                raise
            except (ValueError, LookupError, AttributeError, TypeError) as exc:
                # A constructor run from PyYAML's generators, past construct_object.
                raise ManifestError([f"not valid YAML: {type(exc).__name__}: {exc}"]) from None
        return documents
    finally:
        loader.dispose()


def _as_text(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            [f"not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x})"]
        ) from None


def _parse_documents(data: str | bytes) -> list[Any]:
    if len(data) > MAX_MANIFEST_CHARS:
        raise ManifestError(
            [f"too large: {len(data)} characters, more than the {MAX_MANIFEST_CHARS} accepted"]
        )
    text = _as_text(data)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return [load_json(text, what="the document", object_pairs_hook=_no_duplicates)]
        except json.JSONDecodeError as exc:
            raise ManifestError(
                [f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
            ) from None
        except (_DuplicateKeyError, NestingError) as exc:
            raise ManifestError([f"not valid JSON: {exc}"]) from None
        except ValueError as exc:  # an integer past Python's 4300-digit conversion limit
            raise ManifestError([f"not valid JSON: {exc}"]) from None
    try:
        return _load_yaml(text)
    except ManifestError:
        raise
    except yaml.MarkedYAMLError as exc:
        where = ""
        if exc.problem_mark is not None:
            where = f" at line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}"
        raise ManifestError([f"not valid YAML: {exc.problem or exc.context}{where}"]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([f"not valid YAML: {exc}"]) from None
    except ValueError as exc:  # a constructor's int()/float()/base64 on a scalar
        raise ManifestError([f"not valid YAML: {exc}"]) from None


# ---------------------------------------------------------------------------
# Validation errors as lines


# ---------------------------------------------------------------------------
# Objects


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


def parse_object(data: Any, where: str = "object") -> KubeObject:
    """Validate one object, choosing the model by its apiVersion and kind."""
    if not isinstance(data, dict):
        raise ManifestError(
            [f"{where}: expected an object with apiVersion and kind, got {type_name(data)}"]
        )
    label = object_label(data, where)
    model, problem = _model_for(data, label)
    if model is None:
        raise ManifestError([problem or f"{label}: not a known object"])
    return parse_as(model, data, label)


def _is_list(doc: dict[str, Any]) -> bool:
    kind = doc.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and "items" in doc


def load_manifests(text: str | bytes) -> list[KubeObject]:
    """Load every object in YAML or JSON ``text`` (bytes: UTF-8).

    Multi-document YAML and ``List`` wrappers are flattened.  Raises
    ManifestError listing every problem found, one line each, and nothing
    else, whatever the input (see the module docstring for the bounds).
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


def load_documents(text: str) -> list[Any]:
    """The raw documents of YAML or JSON ``text``, for callers that take any kind.

    ``kbuild apply|create`` send objects kbuild has no model for (Services,
    Secrets, ...) as they are, so they need the documents rather than
    models; the text is read by the same loader, with the same limits and
    the same ``ManifestError``s, as ``load_manifests``.
    """
    return _parse_documents(text)


# ManifestError and parse_as are re-exported: manifest readers use them with load_manifests.
__all__ = [
    "KINDS",
    "MAX_MANIFEST_CHARS",
    "MAX_NODES",
    "KubeObject",
    "ManifestError",
    "load_documents",
    "load_manifests",
    "parse_as",
    "parse_object",
]
