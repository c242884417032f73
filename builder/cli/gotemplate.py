"""A subset of Go's ``text/template`` for ``-o go-template=...``, as kubectl runs it.

Supported: text; ``{{.a.b}}``, ``{{.}}``, ``{{$}}``, ``{{$var.a}}``; string,
number and boolean literals; ``{{range PIPE}}...{{else}}...{{end}}`` with
optional ``$i, $v :=`` / ``$v :=``; ``{{if PIPE}}...{{else if PIPE}}...
{{else}}...{{end}}``; ``{{with PIPE}}...{{end}}``; pipes (``a | f``); the
functions ``index``, ``len``, ``printf`` (``%s %d %v %q``), ``print``,
``println``, ``eq ne lt le gt ge``, ``and or not``, and kubectl's
``base64decode`` and ``exists``; ``{{-``/``-}}`` trimming; ``{{/* */}}``.
Anything else (``define``, ``template``, ``block``, other functions) is
refused with an ``error:`` naming it rather than printed wrong.

Values are the object as JSON (kubectl converts it to ``map[string]interface{}``
first), so a missing map key prints ``<no value>`` and maps print as Go's
``map[k:v]``, as kubectl does.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from builder.cli.common import CliError

NO_VALUE = "<no value>"
_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_/\-]+)*)
    | (?P<field>(?:\.[A-Za-z0-9_/\-]+)+|\.)
    | (?P<assign>:=)
    | (?P<pipe>\|)
    | (?P<comma>,)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
UNSUPPORTED_KEYWORDS = ("define", "template", "block", "break", "continue")


class TemplateError(CliError):
    """A template outside the subset, or malformed: one line naming what."""


class _Missing:
    """A map key that is not there: prints ``<no value>``, is false in ``if``."""


MISSING = _Missing()


# ---------------------------------------------------------------------------
# Parsing


@dataclass
class Pipeline:
    commands: list[list[tuple[str, Any]]]  # each command: tokens (kind, value)
    declare: list[str] = field(default_factory=list)


@dataclass
class TNode:
    kind: str  # text, action, range, if, with
    text: str = ""
    pipe: Pipeline | None = None
    body: list[TNode] = field(default_factory=list)
    orelse: list[TNode] = field(default_factory=list)


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise TemplateError(f"go-template: cannot parse {text[pos:]!r} in {{{{{text}}}}}")
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str" and value.startswith("`"):
            value = value[1:-1]
        elif kind == "str":
            try:
                value = json.loads(value)
            except ValueError:
                raise TemplateError(f"go-template: bad string {value!r}") from None
        elif kind == "num":
            value = float(value) if "." in value else int(value)
        out.append((kind, value))
    return out


def _pipeline(text: str) -> Pipeline:
    tokens = _tokens(text)
    declare: list[str] = []
    if ("assign", ":=") in tokens:
        at = tokens.index(("assign", ":="))
        names = [v for k, v in tokens[:at] if k == "var"]
        if not names or any(k not in ("var", "comma") for k, _ in tokens[:at]):
            raise TemplateError(f"go-template: bad variable declaration in {{{{{text}}}}}")
        declare, tokens = names, tokens[at + 1 :]
    commands: list[list[tuple[str, Any]]] = [[]]
    for token in tokens:
        if token[0] == "pipe":
            commands.append([])
        elif token[0] in ("lparen", "rparen", "comma"):
            raise TemplateError(
                f"go-template: parenthesised arguments are not supported in {{{{{text}}}}}"
            )
        else:
            commands[-1].append(token)
    if any(not c for c in commands):
        raise TemplateError(f"go-template: missing value in {{{{{text}}}}}")
    return Pipeline(commands, declare)


def parse(template: str) -> list[TNode]:  # noqa: PLR0912, PLR0915 - one branch per keyword
    """The template as a tree; TemplateError for syntax outside the subset."""
    root: list[TNode] = []
    stack: list[tuple[TNode | None, list[TNode]]] = [(None, root)]
    pos = 0
    pending_trim = False
    for match in _ACTION.finditer(template):
        text = template[pos : match.start()]
        if pending_trim:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        if text:
            stack[-1][1].append(TNode("text", text))
        pos = match.end()
        pending_trim = bool(match.group(3))
        body = match.group(2).strip()
        if body.startswith("/*"):
            continue
        word = body.split(None, 1)[0] if body else ""
        rest = body[len(word) :].strip()
        if word in UNSUPPORTED_KEYWORDS:
            raise TemplateError(f'go-template: "{word}" is not supported by kbuild')
        if word in ("range", "if", "with"):
            node = TNode(word, pipe=_pipeline(rest))
            stack[-1][1].append(node)
            stack.append((node, node.body))
        elif word == "else":
            owner = stack[-1][0]
            if owner is None:
                raise TemplateError("go-template: unexpected {{else}}")
            stack[-1] = (owner, owner.orelse)
            if rest.startswith("if "):
                nested = TNode("if", pipe=_pipeline(rest[3:]))
                owner.orelse.append(nested)
                # `else if` closes with the same {{end}}: mark the frame to pop twice.
                stack.append((nested, nested.body))
                nested.text = "else-if"
        elif word == "end":
            while True:
                if len(stack) == 1:
                    raise TemplateError("go-template: unexpected {{end}}")
                node_closed, _ = stack.pop()
                if node_closed is None or node_closed.text != "else-if":
                    break
        elif not body:
            raise TemplateError("go-template: missing value for command")
        else:
            stack[-1][1].append(TNode("action", pipe=_pipeline(body)))
    text = template[pos:]
    if pending_trim:
        text = text.lstrip()
    if text:
        stack[-1][1].append(TNode("text", text))
    if len(stack) > 1:
        raise TemplateError("go-template: unexpected EOF (an {{end}} is missing)")
    return root


# ---------------------------------------------------------------------------
# Values as Go prints them


def go_text(value: Any) -> str:  # noqa: PLR0911 - one return per JSON type
    """``fmt.Sprint`` of a JSON value decoded into ``interface{}``."""
    if value is MISSING:
        return NO_VALUE
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_text(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_text(v) for v in value) + "]"
    return str(value)


def truth(value: Any) -> bool:
    if value is MISSING or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | dict | list):
        return len(value) > 0
    return True


def _printf(fmt: str, *args: Any) -> str:
    out: list[str] = []
    queue = list(args)
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%" or i + 1 >= len(fmt):
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1]
        i += 2
        if verb == "%":
            out.append("%")
            continue
        arg = queue.pop(0) if queue else MISSING
        if verb in "sv":
            out.append(go_text(arg))
        elif verb == "d":
            out.append(str(int(arg)) if isinstance(arg, int | float) else go_text(arg))
        elif verb == "q":
            out.append(json.dumps(go_text(arg)))
        else:
            raise TemplateError(f"go-template: printf verb %{verb} is not supported by kbuild")
    return "".join(out)


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key, MISSING)
        elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        else:
            raise TemplateError(f"go-template: error calling index: cannot index with {key!r}")
    return value


def _length(value: Any) -> int:
    if isinstance(value, str | dict | list):
        return len(value)
    raise TemplateError(f"go-template: error calling len: len of {go_text(value)}")


def _base64decode(value: Any) -> str:
    try:
        return base64.b64decode(str(value)).decode(errors="replace")
    except ValueError as err:
        raise TemplateError(f"go-template: base64decode: {err}") from None


def _compare(op: str) -> Callable[..., bool]:
    def compare(a: Any, *others: Any) -> bool:
        if op == "eq":
            return any(a == b for b in others)
        b = others[0]
        try:
            return bool({"ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op])
        except TypeError:
            raise TemplateError(f"go-template: incompatible types for {op}") from None

    return compare


def _and(*args: Any) -> Any:
    for arg in args:
        if not truth(arg):
            return arg
    return args[-1]


def _or(*args: Any) -> Any:
    for arg in args:
        if truth(arg):
            return arg
    return args[-1]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "index": _index,
    "len": _length,
    "printf": _printf,
    "print": lambda *a: "".join(go_text(x) for x in a),
    "println": lambda *a: " ".join(go_text(x) for x in a) + "\n",
    "eq": _compare("eq"),
    "ne": _compare("ne"),
    "lt": _compare("lt"),
    "le": _compare("le"),
    "gt": _compare("gt"),
    "ge": _compare("ge"),
    "and": _and,
    "or": _or,
    "not": lambda a: not truth(a),
    "base64decode": _base64decode,
    "exists": lambda value, *keys: _index(value, *keys) is not MISSING,
}


# ---------------------------------------------------------------------------
# Execution


def _field(value: Any, path: str) -> Any:
    for name in (p for p in path.split(".") if p):
        if isinstance(value, dict):
            value = value.get(name, MISSING)
        elif value is MISSING or value is None:
            return MISSING
        else:
            raise TemplateError(
                f"go-template: can't evaluate field {name} in type {type(value).__name__}"
            )
    return value


@dataclass
class _Scope:
    dot: Any
    variables: dict[str, Any]


def _operand(token: tuple[str, Any], scope: _Scope) -> Any:
    kind, value = token
    if kind == "field":
        return scope.dot if value == "." else _field(scope.dot, value)
    if kind == "var":
        name, _, path = value.partition(".")
        if name not in scope.variables:
            raise TemplateError(f"go-template: undefined variable {name}")
        return _field(scope.variables[name], path)
    if kind == "ident":
        if value in ("true", "false"):
            return value == "true"
        if value == "nil":
            return None
        raise TemplateError(f'go-template: function "{value}" is not supported by kbuild')
    return value


def _command(command: list[tuple[str, Any]], scope: _Scope, piped: tuple[Any, ...]) -> Any:
    head_kind, head = command[0]
    if head_kind == "ident" and head not in ("true", "false", "nil"):
        function = FUNCTIONS.get(head)
        if function is None:
            raise TemplateError(f'go-template: function "{head}" is not supported by kbuild')
        args = [_operand(t, scope) for t in command[1:]]
        return function(*args, *piped)
    if len(command) > 1 or piped:
        raise TemplateError(f"go-template: {head} is not a function and takes no arguments")
    return _operand(command[0], scope)


def _run_pipe(pipe: Pipeline, scope: _Scope) -> Any:
    piped: tuple[Any, ...] = ()
    for command in pipe.commands:
        piped = (_command(command, scope, piped),)
    return piped[0]


def _execute(nodes: list[TNode], scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
            continue
        assert node.pipe is not None  # noqa: S101 - every non-text node has one
        value = _run_pipe(node.pipe, scope)
        if node.kind == "action":
            if node.pipe.declare:
                scope.variables[node.pipe.declare[0]] = value
            else:
                out.append(go_text(value))
        elif node.kind in ("if", "with"):
            if truth(value):
                inner = _Scope(value if node.kind == "with" else scope.dot, dict(scope.variables))
                _execute(node.body, inner, out)
            else:
                _execute(node.orelse, scope, out)
        elif node.kind == "range":
            _range(node, value, scope, out)


def _range(node: TNode, value: Any, scope: _Scope, out: list[str]) -> None:
    assert node.pipe is not None  # noqa: S101
    if isinstance(value, dict):
        pairs: list[tuple[Any, Any]] = [(k, value[k]) for k in sorted(value)]
    elif isinstance(value, list):
        pairs = list(enumerate(value))
    elif value is MISSING or value is None:
        pairs = []
    elif isinstance(value, int) and not isinstance(value, bool):
        pairs = [(i, i) for i in range(value)]
    else:
        raise TemplateError(f"go-template: range can't iterate over {go_text(value)}")
    if not pairs:
        _execute(node.orelse, scope, out)
        return
    names = node.pipe.declare
    for key, item in pairs:
        variables = dict(scope.variables)
        if len(names) == 1:
            variables[names[0]] = item
        elif len(names) == 2:
            variables[names[0]], variables[names[1]] = key, item
        _execute(node.body, _Scope(item, variables), out)


def execute(template: str, data: Any) -> str:
    """Run ``template`` over ``data`` as kubectl's go-template printer does."""
    nodes = parse(template)
    out: list[str] = []
    _execute(nodes, _Scope(data, {"$": data}), out)
    return "".join(out)
