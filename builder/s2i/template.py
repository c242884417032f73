"""The S2I template's language: the part of Jinja that ``s2i_templates/`` uses, without jinja2.

Why not jinja2 itself: importing it and compiling the template took 55-90 ms
of CPU in every ``kbuild build`` (and every build pod's render step), on a
thread that shared the interpreter's lock with the rest of the start-up,
for a 45-line template that only arranges values ``builder.s2i.render`` has
already quoted.  Without it kbuild's own time per local build fell from
~0.33 s to ~0.26 s (bench/local_build.py, docs/local-build.md).  The file keeps
Jinja's syntax, so it reads (and diffs) as before, and
tests/unit/s2i/test_template.py renders it and randomly generated templates
of this subset with jinja2 as well and requires the same bytes.

The subset:

- text, ``{# comments #}``, ``{{ expression }}``;
- ``{% if %}`` / ``{% elif %}`` / ``{% else %}`` / ``{% endif %}``;
- ``-`` on either side of any tag strips the whitespace (newlines included)
  on that side, as Jinja does; nothing else is trimmed (Jinja's defaults:
  no ``trim_blocks``, no ``lstrip_blocks``) and the final newline is kept
  (``keep_trailing_newline``);
- expressions: names, ``a.b`` (an attribute, else a mapping's key, Jinja's
  order), string literals, ``true``/``false``/``none``, parentheses, the
  filters ``join`` and ``tojson``, ``not``, ``and``, ``or``, ``==``, ``!=``.

Anything else (a ``for``, a macro, another filter, a ``}}`` inside a string,
a tag opened and never closed) is a ``TemplateError`` naming the line when
the template is parsed; an undefined name or attribute is one when it is
rendered (Jinja's ``StrictUndefined``).  The template ships with kbuild, so
either is a bug the tests catch, never a user's input error.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeAlias

Context: TypeAlias = Mapping[str, object]
Expr: TypeAlias = Callable[[Context], object]


class TemplateError(Exception):
    """A template outside the subset, or a value it names that is not there."""


# One tag of each kind; the body is everything up to the first matching
# closer, so a closer inside a string literal is not supported (the subset).
_TAG = re.compile(
    r"\{\{(?P<vl>-?)(?P<v>.*?)(?P<vr>-?)\}\}"
    r"|\{%(?P<bl>-?)(?P<b>.*?)(?P<br>-?)%\}"
    r"|\{#(?P<cl>-?)(?P<c>.*?)(?P<cr>-?)#\}",
    re.S,
)
_OPENER = re.compile(r"\{[{%#]")
_TOKEN = re.compile(
    r"\s*(?:(?P<str>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|[|.(),]))",
    re.S,
)
_LITERALS: dict[str, object] = {
    "true": True, "True": True, "false": False, "False": False, "none": None, "None": None,
}  # fmt: skip
_KEYWORDS = frozenset({"and", "or", "not", "if", "elif", "else", "endif", "in", "is"})


def _tojson(value: object) -> str:
    """Jinja's ``tojson``: sorted keys, and the HTML-sensitive characters as escapes."""
    text = json.dumps(value, sort_keys=True)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


def _join(value: Iterable[object], separator: object = "") -> str:
    return str(separator).join(map(str, value))


_FILTERS: dict[str, Callable[..., object]] = {"join": _join, "tojson": _tojson}


def _lookup(name: str) -> Expr:
    def get(context: Context) -> object:
        if name not in context:
            raise TemplateError(f"{name!r} is undefined")
        return context[name]

    return get


def _attribute(target: Expr, attr: str) -> Expr:
    def get(context: Context) -> object:
        value = target(context)
        try:
            return getattr(value, attr)
        except AttributeError:
            pass
        if isinstance(value, Mapping) and attr in value:
            return value[attr]
        raise TemplateError(f"{type(value).__name__} value has no attribute {attr!r}")

    return get


def _either(a: Expr, b: Expr) -> Expr:
    return lambda context: a(context) or b(context)


def _both(a: Expr, b: Expr) -> Expr:
    return lambda context: a(context) and b(context)


def _chain(first: Expr, rest: list[tuple[bool, Expr]]) -> Expr:
    """``a == b != c`` as Python and Jinja read it: ``a == b and b != c``."""

    def compare(context: Context) -> object:
        left = first(context)
        for equal, operand in rest:
            right = operand(context)
            if bool(left == right) is not equal:
                return False
            left = right
        return True

    return compare


class _Parser:
    """A recursive-descent parser of one expression, into closures over the context."""

    def __init__(self, source: str, line: int) -> None:
        self.line = line
        self.tokens: list[tuple[str, str]] = []
        pos, end = 0, len(source.rstrip())
        while pos < end:
            match = _TOKEN.match(source, pos)
            kind = match.lastgroup if match else None
            if match is None or kind is None:
                raise self.error(f"unexpected {source[pos:].strip()[:20]!r}")
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.pos = 0

    def error(self, message: str) -> TemplateError:
        return TemplateError(f"line {self.line}: {message}")

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        got_kind, got = self.peek()
        if (value is not None and got != value) or (kind is not None and got_kind != kind):
            raise self.error(f"expected {value or kind}, found {got or 'the end'!r}")
        self.pos += 1
        return got

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value and self.peek()[0] != "str":
            self.pos += 1
            return True
        return False

    def whole(self) -> Expr:
        expr = self.or_()
        if self.pos != len(self.tokens):
            raise self.error(f"unexpected {self.peek()[1]!r}")
        return expr

    def or_(self) -> Expr:
        left = self.and_()
        while self.accept("or"):
            left = _either(left, self.and_())
        return left

    def and_(self) -> Expr:
        left = self.not_()
        while self.accept("and"):
            left = _both(left, self.not_())
        return left

    def not_(self) -> Expr:
        if self.accept("not"):
            inner = self.not_()
            return lambda c: not inner(c)
        return self.compare()

    def compare(self) -> Expr:
        first = self.filtered()
        rest: list[tuple[bool, Expr]] = []
        while True:
            if self.accept("=="):
                equal = True
            elif self.accept("!="):
                equal = False
            else:
                return _chain(first, rest) if rest else first
            rest.append((equal, self.filtered()))

    def filtered(self) -> Expr:
        expr = self.postfix()
        while self.accept("|"):
            name = self.take(kind="name")
            function = _FILTERS.get(name)
            if function is None:
                raise self.error(f"filter {name!r} is not in kbuild's template subset")
            args: list[Expr] = []
            if self.accept("("):
                while not self.accept(")"):
                    if args:
                        self.take(",")
                    args.append(self.or_())
            expr = self._apply(function, expr, args)
        return expr

    def _apply(self, function: Callable[..., object], target: Expr, args: list[Expr]) -> Expr:
        line = self.line

        def call(context: Context) -> object:
            try:
                return function(target(context), *(arg(context) for arg in args))
            except (TypeError, ValueError) as err:
                raise TemplateError(f"line {line}: {err}") from err

        return call

    def postfix(self) -> Expr:
        expr = self.primary()
        while self.accept("."):
            expr = _attribute(expr, self.take(kind="name"))
        return expr

    def primary(self) -> Expr:
        kind, value = self.peek()
        if kind == "str":
            self.pos += 1
            # Jinja reads a literal's escapes as Python's unicode-escape does.
            try:
                text = codecs.decode(
                    value[1:-1].encode("ascii", "backslashreplace"), "unicode_escape"
                )
            except UnicodeDecodeError as err:
                raise self.error(f"string {value} has a bad escape ({err.reason})") from None
            except DeprecationWarning as err:  # an unknown escape, with warnings as errors
                raise self.error(f"string {value} has a bad escape ({err})") from None
            return lambda _c: text
        if kind == "name" and value in _LITERALS:
            self.pos += 1
            constant = _LITERALS[value]
            return lambda _c: constant
        if kind == "name" and value not in _KEYWORDS:
            self.pos += 1
            return _lookup(value)
        if self.accept("("):
            inner = self.or_()
            self.take(")")
            return inner
        raise self.error(f"unexpected {value or 'end of expression'!r}")


class _If:
    """``{% if %}``: its branches in order, ``else`` with no condition."""

    __slots__ = ("branches",)

    def __init__(self, branches: list[tuple[Expr | None, list[_Node]]]) -> None:
        self.branches = branches


_Node: TypeAlias = "str | Expr | _If"


class Template:
    """A parsed template; ``render`` is a pure function of the context.

    Plain classes here, not dataclasses: each dataclass costs ~1 ms to
    create at import under Python 3.11, on the path to ``buildah bud``.
    """

    __slots__ = ("nodes",)

    def __init__(self, nodes: tuple[_Node, ...]) -> None:
        self.nodes = nodes

    def render(self, **context: object) -> str:
        out: list[str] = []
        _emit(self.nodes, context, out)
        return "".join(out)


def _emit(nodes: Sequence[_Node], context: Context, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _If):
            for condition, body in node.branches:
                if condition is None or condition(context):
                    _emit(body, context, out)
                    break
        else:
            out.append(str(node(context)))


def parse(source: str) -> Template:
    """``source`` as a Template, or a TemplateError naming the line it cannot take."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    # The open blocks: each an If and the body being filled; the root's is last.
    root: list[_Node] = []
    stack: list[tuple[_If, list[_Node], int]] = []
    body = root
    pos, strip_next = 0, False
    for match in _TAG.finditer(source):
        _refuse_unclosed(source, pos, match.start())
        text = source[pos : match.start()]
        if strip_next:
            text = text.lstrip()
        if match["vl"] or match["bl"] or match["cl"]:
            text = text.rstrip()
        if text:
            body.append(text)
        pos = match.end()
        strip_next = bool(match["vr"] or match["br"] or match["cr"])
        line = source.count("\n", 0, match.start()) + 1
        if match["v"] is not None:
            body.append(_Parser(match["v"], line).whole())
        elif match["b"] is not None:
            body = _statement(match["b"], line, body, stack)
    if stack:
        raise TemplateError(f"line {stack[-1][2]}: this if has no endif")
    _refuse_unclosed(source, pos, len(source))
    text = source[pos:]
    if strip_next:
        text = text.lstrip()
    if text:
        root.append(text)
    return Template(tuple(root))


def _refuse_unclosed(source: str, start: int, end: int) -> None:
    """Text between tags holding an opener: a tag never closed, which Jinja refuses too.

    Written out as text it would put ``{{ run.path }]`` or a whole unclosed
    comment into the Dockerfile.
    """
    opener = _OPENER.search(source, start, end)
    if opener is not None:
        line = source.count("\n", 0, opener.start()) + 1
        raise TemplateError(f"line {line}: {opener.group()!r} is never closed")


def _statement(
    source: str,
    line: int,
    body: list[_Node],
    stack: list[tuple[_If, list[_Node], int]],
) -> list[_Node]:
    """Apply one ``{% ... %}`` tag; returns the body that text goes to next."""
    word, _, rest = source.strip().partition(" ")
    if word == "if":
        block = _If([(_Parser(rest, line).whole(), [])])
        body.append(block)
        stack.append((block, body, line))
        return block.branches[-1][1]
    if word in ("elif", "else", "endif") and not stack:
        raise TemplateError(f"line {line}: {word} without an if")
    if word == "elif":
        block = stack[-1][0]
        if block.branches[-1][0] is None:
            raise TemplateError(f"line {line}: elif after else")
        block.branches.append((_Parser(rest, line).whole(), []))
        return block.branches[-1][1]
    if word in ("else", "endif") and rest.strip():
        raise TemplateError(f"line {line}: {word} takes nothing after it")
    if word == "else":
        block = stack[-1][0]
        if block.branches[-1][0] is None:
            raise TemplateError(f"line {line}: a second else")
        block.branches.append((None, []))
        return block.branches[-1][1]
    if word == "endif":
        _, outer, _ = stack.pop()
        return outer
    raise TemplateError(f"line {line}: {{% {word} %}} is not in kbuild's template subset")
