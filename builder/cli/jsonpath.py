"""kubectl's JSONPath templates (``-o jsonpath=...``, ``--sort-by``, custom columns).

This is the dialect of ``k8s.io/client-go/util/jsonpath``, not RFC 9535:
text with ``{...}`` actions; inside an action a path (``.a.b``, ``..name``,
``['key']``, ``[0]``, ``[-1]``, ``[1:3]``, ``[*]``, ``.*``, ``[?(@.x=="y")]``,
``['a','b']``), a string literal (``{"\\n"}``), or ``range``/``end``.
Several results of one action print space-separated; maps and lists print
as compact JSON; missing keys print nothing (kubectl sets
``AllowMissingKeys``).  The jsonpath libraries on PyPI implement the other
dialect (no ``{range}``, no templates), so this one is written here; it is
pure and small.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from builder.cli.common import CliError

_TERMINATORS = set(" \t\n.[]}{,)(=!<>|&")
_NUMBER = re.compile(r"-?\d+(\.\d+)?$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


class JsonPathError(CliError):
    """A template that does not parse, said in kubectl's words where it has some."""


# ---------------------------------------------------------------------------
# The parsed template


@dataclass(frozen=True)
class Step:
    """One segment of a path: how to go from each current value to the next ones."""

    kind: str  # field, recursive, wildcard, index, slice, union, filter
    name: str = ""
    names: tuple[Any, ...] = ()
    slice_: tuple[int | None, int | None, int | None] = (None, None, None)
    filter_: Filter | None = None


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]
    # "$": from the document root, "@": from the current value (the default).
    anchor: str = "@"


@dataclass(frozen=True)
class Filter:
    left: Path | Any
    op: str  # "exists" or a comparison
    right: Path | Any = None


@dataclass
class Node:
    kind: str  # text, path, literal, range
    text: str = ""
    path: Path | None = None
    body: list[Node] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Parsing


def _split_actions(template: str) -> Iterator[tuple[bool, str]]:
    """(is_action, text) pieces; braces inside quoted strings do not end an action."""
    i, start, n = 0, 0, len(template)
    while i < n:
        if template[i] != "{":
            i += 1
            continue
        if i > start:
            yield False, template[start:i]
        j, quote = i + 1, ""
        while j < n:
            c = template[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c == "}":
                break
            j += 1
        if j >= n:
            raise JsonPathError(f"unclosed action in jsonpath template {template!r}")
        yield True, template[i + 1 : j]
        i = start = j + 1
    if start < n:
        yield False, template[start:]


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, ahead: int = 0) -> str:
        at = self.pos + ahead
        return self.text[at] if at < len(self.text) else ""

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def skip_space(self) -> None:
        while not self.done() and self.text[self.pos].isspace():
            self.pos += 1

    def fail(self, what: str) -> JsonPathError:
        return JsonPathError(f"{what} at position {self.pos} in {self.text!r}")

    def string(self) -> str:
        quote = self.peek()
        self.pos += 1
        out = []
        while not self.done():
            c = self.text[self.pos]
            if c == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                out.append(_ESCAPES.get(nxt, "\\" + nxt))
                self.pos += 2
                continue
            if c == quote:
                self.pos += 1
                return "".join(out)
            out.append(c)
            self.pos += 1
        raise self.fail("unterminated string")

    def name(self) -> str:
        out = []
        while not self.done():
            c = self.text[self.pos]
            if c == "\\" and self.peek(1) == ".":
                out.append(".")
                self.pos += 2
                continue
            if c in _TERMINATORS:
                break
            out.append(c)
            self.pos += 1
        return "".join(out)

    def until_bracket(self) -> str:
        """The text up to the matching ``]`` (quotes and parentheses respected)."""
        depth, quote, start = 0, "", self.pos
        while not self.done():
            c = self.text[self.pos]
            if quote:
                if c == "\\":
                    self.pos += 1
                elif c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c in "([":
                depth += 1
            elif c in ")]":
                if depth == 0 and c == "]":
                    inside = self.text[start : self.pos]
                    self.pos += 1
                    return inside
                depth -= 1
            self.pos += 1
        raise self.fail("unclosed [")


def _int(text: str, reader: _Reader) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise reader.fail(f"invalid array index {text!r}") from None


def _bracket(inside: str, reader: _Reader) -> Step:
    body = inside.strip()
    if body == "*":
        return Step("wildcard")
    if body.startswith("?"):
        expr = body[1:].strip()
        if not (expr.startswith("(") and expr.endswith(")")):
            raise reader.fail("a filter is written [?(...)]")
        return Step("filter", filter_=_filter(expr[1:-1]))
    parts = _split_top(body, ",")
    if len(parts) > 1 or body[:1] in "\"'":
        names: list[Any] = []
        for part in parts:
            sub = _Reader(part.strip())
            if sub.peek() in "\"'":
                names.append(sub.string())
            else:
                names.append(_int(part, sub))
        return Step("union", names=tuple(names))
    if ":" in body:
        pieces = body.split(":")
        if len(pieces) > 3:
            raise reader.fail("invalid slice")
        start, stop, *rest = [_int(p, reader) for p in pieces]
        step = rest[0] if rest else None
        if step == 0:
            raise reader.fail("the step of a slice cannot be 0")
        return Step("slice", slice_=(start, stop, step))
    index = _int(body, reader)
    if index is None:
        raise reader.fail("empty []")
    return Step("index", names=(index,))


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _path(reader: _Reader) -> Path:
    anchor = "@"
    if reader.peek() in ("$", "@"):
        anchor = reader.peek()
        reader.pos += 1
    steps: list[Step] = []
    while not reader.done():
        c = reader.peek()
        if c == ".":
            if reader.peek(1) == ".":
                reader.pos += 2
                if reader.peek() == "*":
                    reader.pos += 1
                    steps.append(Step("recursive", name="*"))
                    continue
                name = reader.name()
                if not name:
                    raise reader.fail("expected a field name after ..")
                steps.append(Step("recursive", name=name))
                continue
            reader.pos += 1
            if reader.peek() == "*":
                reader.pos += 1
                steps.append(Step("wildcard"))
                continue
            name = reader.name()
            if name:
                steps.append(Step("field", name=name))
            continue
        if c == "[":
            reader.pos += 1
            steps.append(_bracket(reader.until_bracket(), reader))
            continue
        if c.isspace() or c in ")=!<>&|":
            break
        name = reader.name()
        if not name:
            raise reader.fail(f"unexpected {c!r}")
        steps.append(Step("field", name=name))  # a leading name without a dot: kubectl allows it
    return Path(tuple(steps), anchor)


def _operand(text: str) -> Path | Any:
    text = text.strip()
    reader = _Reader(text)
    if text[:1] in "\"'":
        value = reader.string()
        if not reader.done():
            raise reader.fail("unexpected text after a string")
        return value
    if _NUMBER.match(text):
        return float(text) if "." in text else int(text)
    if text in ("true", "false"):
        return text == "true"
    if text in {"nil", "null"}:
        return None
    path = _path(reader)
    reader.skip_space()
    if not reader.done():
        raise reader.fail("unexpected text in a filter")
    return path


def _filter(expr: str) -> Filter:
    match = re.search(r"==|!=|<=|>=|<|>|=~", expr)
    if match is None:
        return Filter(_operand(expr), "exists")
    if match.group() == "=~":
        raise JsonPathError("regular expressions (=~) in jsonpath filters are not supported")
    left = _operand(expr[: match.start()])
    right = _operand(expr[match.end() :])
    return Filter(left, match.group(), right)


def _action(text: str) -> Node:
    reader = _Reader(text.strip())
    if reader.done():
        return Node("text", "")
    if reader.peek() in "\"'":
        value = reader.string()
        reader.skip_space()
        if not reader.done():
            raise reader.fail("unexpected text after a string literal")
        return Node("literal", value)
    words = reader.text.split(None, 1)
    if words[0] == "end" and len(words) == 1:
        return Node("end")
    if words[0] == "range":
        if len(words) == 1:
            raise reader.fail("range needs a path")
        sub = _Reader(words[1].strip())
        return Node("range", path=_parse_full_path(sub))
    return Node("path", path=_parse_full_path(reader))


def _parse_full_path(reader: _Reader) -> Path:
    path = _path(reader)
    reader.skip_space()
    if not reader.done():
        raise reader.fail(f"unrecognized character {reader.peek()!r}")
    return path


def parse(template: str) -> list[Node]:
    """The template as nodes, with ``range`` bodies nested; JsonPathError if malformed."""
    root: list[Node] = []
    stack: list[list[Node]] = [root]
    for is_action, text in _split_actions(template):
        if not is_action:
            stack[-1].append(Node("text", text))
            continue
        node = _action(text)
        if node.kind == "end":
            if len(stack) == 1:
                raise JsonPathError(f"not in range, nothing to end in {template!r}")
            stack.pop()
            continue
        stack[-1].append(node)
        if node.kind == "range":
            stack.append(node.body)
    if len(stack) > 1:
        raise JsonPathError(f"unclosed range in jsonpath template {template!r}")
    return root


def relaxed(expression: str) -> str:
    """kubectl's ``RelaxedJSONPathExpression``: ``.a.b``, ``a.b`` and ``{.a.b}`` all work."""
    text = expression.strip()
    if not text:
        raise JsonPathError("jsonpath expression cannot be empty")
    match = re.fullmatch(r"\{?\.?([^{}]*?)\}?", text)
    if match is None:
        raise JsonPathError(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
            f"'{{name1.name2}}' or '{{.name1.name2}}': {expression!r}"
        )
    inner = match.group(1)
    if inner.startswith(("[", "$", "@")):
        return "{" + inner + "}"
    return "{." + inner + "}"


# ---------------------------------------------------------------------------
# Evaluation


def _recurse(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for child in value.values():
            yield from _recurse(child)
    elif isinstance(value, list):
        for child in value:
            yield from _recurse(child)


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        if op not in ("==", "!="):
            return False
    elif isinstance(left, int | float) and isinstance(right, int | float):
        pass
    elif isinstance(left, int | float) and isinstance(right, str):
        try:
            right = float(right)
        except ValueError:
            return op == "!="
    elif type(left) is not type(right):
        return op == "!="
    try:
        return bool(
            {
                "==": left == right,
                "!=": left != right,
                "<": left < right,
                "<=": left <= right,
                ">": left > right,
                ">=": left >= right,
            }[op]
        )
    except TypeError:
        return False


def _operand_values(operand: Path | Any, current: Any, root: Any) -> list[Any]:
    if isinstance(operand, Path):
        return evaluate(operand, current, root)
    return [operand]


def _matches(flt: Filter, item: Any, root: Any) -> bool:
    left = _operand_values(flt.left, item, root)
    if flt.op == "exists":
        return any(v is not None for v in left)
    right = _operand_values(flt.right, item, root)
    return any(_compare(a, flt.op, b) for a in left for b in right)


def _step(step: Step, values: list[Any], root: Any) -> list[Any]:  # noqa: PLR0912 - one case per kind
    out: list[Any] = []
    for value in values:
        if step.kind == "field":
            if isinstance(value, dict) and step.name in value:
                out.append(value[step.name])
        elif step.kind == "recursive":
            for node in _recurse(value):
                if step.name == "*":
                    if isinstance(node, dict):
                        out.extend(node.values())
                    elif isinstance(node, list):
                        out.extend(node)
                elif isinstance(node, dict) and step.name in node:
                    out.append(node[step.name])
        elif step.kind == "wildcard":
            if isinstance(value, dict):
                out.extend(value.values())
            elif isinstance(value, list):
                out.extend(value)
        elif step.kind == "index":
            index = step.names[0]
            if isinstance(value, list) and -len(value) <= index < len(value):
                out.append(value[index])
        elif step.kind == "slice":
            if isinstance(value, list):
                start, stop, stride = step.slice_
                out.extend(value[slice(start, stop, stride)])
        elif step.kind == "union":
            for name in step.names:
                if isinstance(name, int):
                    if isinstance(value, list) and -len(value) <= name < len(value):
                        out.append(value[name])
                elif isinstance(value, dict) and name in value:
                    out.append(value[name])
        elif step.kind == "filter" and step.filter_ is not None:
            items = value if isinstance(value, list) else [value]
            out.extend(item for item in items if _matches(step.filter_, item, root))
    return out


def evaluate(path: Path, current: Any, root: Any) -> list[Any]:
    """Every value the path reaches from ``current`` (``$`` paths from ``root``)."""
    values = [root if path.anchor == "$" else current]
    for step in path.steps:
        values = _step(step, values, root)
    return values


def text_of(value: Any) -> str:
    """A value as kubectl's jsonpath printer writes it: maps and lists as compact JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _render(nodes: list[Node], current: Any, root: Any, out: list[str]) -> None:
    for node in nodes:
        if node.kind in ("text", "literal"):
            out.append(node.text)
        elif node.kind == "path" and node.path is not None:
            values = evaluate(node.path, current, root)
            out.append(" ".join(text_of(v) for v in values))
        elif node.kind == "range" and node.path is not None:
            for value in evaluate(node.path, current, root):
                items = value if isinstance(value, list) else [value]
                for item in items:
                    _render(node.body, item, root, out)


def render(nodes: list[Node], data: Any) -> str:
    out: list[str] = []
    _render(nodes, data, data, out)
    return "".join(out)


def execute(template: str, data: Any) -> str:
    """Parse and run ``template`` over ``data`` (kubectl's ``-o jsonpath=TEMPLATE``)."""
    return render(parse(template), data)


def values(expression: str, data: Any) -> list[Any]:
    """The values one relaxed expression reaches (``--sort-by``, custom columns)."""
    nodes = parse(relaxed(expression))
    if len(nodes) != 1 or nodes[0].kind != "path" or nodes[0].path is None:
        raise JsonPathError(f"expected a single path, got {expression!r}")
    return evaluate(nodes[0].path, data, data)
