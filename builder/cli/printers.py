"""``kbuild get``'s output options, as kubectl has them: ``-o``, ``--sort-by``, labels.

``-o`` takes ``yaml|json|name|wide`` and the template printers
``jsonpath=T``, ``jsonpath-file=F``, ``custom-columns=SPEC``,
``custom-columns-file=F``, ``go-template=T``, ``go-template-file=F``
(``jsonpath-as-json`` and ``template``/``templatefile`` as kubectl's
aliases).  Templates run over the object as ``-o json`` shows it, or over a
``kind: List`` of them for a list query; custom columns run per object.
Everything here is pure: objects come in as dicts, text goes out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.cli import jsonpath
from builder.cli.common import CliError, tabwrite

PLAIN_OUTPUTS = ("yaml", "json", "name", "wide")
TEMPLATE_OUTPUTS = (
    "jsonpath",
    "jsonpath-file",
    "jsonpath-as-json",
    "custom-columns",
    "custom-columns-file",
    "go-template",
    "go-template-file",
    "template",
    "templatefile",
)
ALLOWED = (
    "json, yaml, name, wide, jsonpath=..., jsonpath-file=..., jsonpath-as-json=..., "
    "custom-columns=..., custom-columns-file=..., go-template=..., go-template-file=..."
)
_ALIASES = {"template": "go-template", "templatefile": "go-template-file"}


@dataclass(frozen=True)
class Output:
    """A parsed ``-o``: the printer and its template text (a file's already read)."""

    kind: str  # "" (the table), yaml, json, name, wide, jsonpath, custom-columns(-file), ...
    template: str = ""

    @property
    def is_table(self) -> bool:
        return self.kind in ("", "wide")


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as err:
        raise CliError(f"error reading {what} {path}: {err.strerror or err}") from None


def output_flag(text: str) -> str:
    """``-o``'s argparse type: an unknown format is a usage error, as a ``choices`` list made it."""
    kind = text.partition("=")[0]
    if text in PLAIN_OUTPUTS or kind in TEMPLATE_OUTPUTS:
        return text
    import argparse  # noqa: PLC0415

    raise argparse.ArgumentTypeError(f"unable to match a printer suitable for the output format "
                                     f'"{text}", allowed formats are: {ALLOWED}')  # fmt: skip


def parse_output(text: str | None) -> Output:
    """``-o``'s value as kubectl reads it; an unknown format is one error line."""
    if not text:
        return Output("")
    if text in PLAIN_OUTPUTS:
        return Output(text)
    kind, sep, template = text.partition("=")
    kind = _ALIASES.get(kind, kind)
    if kind not in TEMPLATE_OUTPUTS and kind not in _ALIASES.values():
        raise CliError(f'unable to match a printer suitable for the output format "{text}", '
                       f"allowed formats are: {ALLOWED}")  # fmt: skip
    if not sep or not template:
        raise CliError(f"{kind} template format specified but no template given")
    if kind == "custom-columns-file":  # two lines, headers then paths: its own parser
        return Output(kind, _read(template, f"{kind} template"))
    if kind.endswith("-file"):
        return Output(kind.removesuffix("-file"), _read(template, f"{kind} template"))
    return Output(kind, template)


# ---------------------------------------------------------------------------
# Template printers


def as_list(objects: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What kubectl's printers see for a list query: a ``v1`` ``List``."""
    return {
        "apiVersion": "v1",
        "items": list(objects),
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }


def render_template(output: Output, data: Any) -> str:
    """``jsonpath``, ``jsonpath-as-json`` or ``go-template`` over one document."""
    if output.kind == "jsonpath":
        return jsonpath.execute(output.template, data)
    if output.kind == "jsonpath-as-json":
        results: list[Any] = []
        for node in jsonpath.parse(output.template):
            if node.kind == "path" and node.path is not None:
                results.extend(jsonpath.evaluate(node.path, data, data))
            elif node.kind == "range":
                raise CliError("jsonpath-as-json does not support {range}")
        return json.dumps(results, indent=4, ensure_ascii=False) + "\n"
    from builder.cli import gotemplate  # noqa: PLC0415

    return gotemplate.execute(output.template, data)


# ---------------------------------------------------------------------------
# Custom columns


@dataclass(frozen=True)
class Column:
    header: str
    expression: str


def parse_custom_columns(spec: str) -> list[Column]:
    """``NAME:.metadata.name,PHASE:.status.phase``; headers as given (kubectl keeps case)."""
    columns = []
    for part in spec.split(","):
        header, sep, expression = part.partition(":")
        if not sep or not header or not expression:
            raise CliError(
                "custom-columns format specified but no custom columns given"
                if not spec.strip()
                else f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            )
        jsonpath.relaxed(expression)  # an error now, not half-way through the table
        columns.append(Column(header, expression))
    return columns


def parse_custom_columns_file(text: str) -> list[Column]:
    """The file form: a line of headers, a line of expressions, whitespace separated."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 2:
        raise CliError("custom-columns-file must have exactly two lines: headers, then paths")
    headers, expressions = lines[0].split(), lines[1].split()
    if len(headers) != len(expressions):
        raise CliError(
            f"number of headers ({len(headers)}) does not match number of "
            f"expressions ({len(expressions)})"
        )
    return [Column(h, e) for h, e in zip(headers, expressions, strict=True)]


def column_cell(column: Column, obj: Mapping[str, Any]) -> str:
    """The cell kubectl prints: each value as Go's ``fmt.Sprint``, comma-joined, else ``<none>``."""
    from builder.cli.gotemplate import go_text  # noqa: PLC0415

    found = jsonpath.values(column.expression, obj)
    if not found:
        return "<none>"
    return ",".join(go_text(v) for v in found)


def render_custom_columns(columns: Sequence[Column], objects: Sequence[Mapping[str, Any]]) -> str:
    """The table, headers as written (kubectl does not upper-case custom headers)."""
    lines = ["\t".join(c.header for c in columns)]
    lines.extend("\t".join(column_cell(c, obj) for c in columns) for obj in objects)
    return tabwrite("\n".join(lines) + "\n", minwidth=6, tabwidth=4, padding=3, padchar=" ")


# ---------------------------------------------------------------------------
# Label columns (-L, --show-labels)


def label_headers(label_columns: Sequence[str], show_labels: bool) -> list[str]:
    """kubectl's headers: the last ``/`` segment of each ``-L`` key, upper-cased; LABELS."""
    headers = [key.rsplit("/", 1)[-1].upper() for key in label_columns]
    return [*headers, "LABELS"] if show_labels else headers


def format_labels(labels: Mapping[str, str]) -> str:
    """apimachinery's ``labels.FormatLabels``: sorted ``k=v`` pairs, or ``<none>``."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def label_cells(
    labels: Mapping[str, str], label_columns: Sequence[str], show_labels: bool
) -> list[str]:
    cells = [labels.get(key, "") for key in label_columns]
    return [*cells, format_labels(labels)] if show_labels else cells


def split_label_columns(values: Sequence[str]) -> list[str]:
    """``-L a,b -L c`` is three columns, as kubectl reads the flag."""
    return [key.strip() for value in values for key in value.split(",") if key.strip()]


# ---------------------------------------------------------------------------
# --sort-by


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """``sortorder.NaturalLess``: digit runs compare as numbers (``app-2`` < ``app-10``)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part
    )


def _sort_value(values: list[Any]) -> tuple[int, Any]:
    if not values or values[0] is None:
        return (0, ())
    value = values[0]
    if isinstance(value, bool):
        return (1, (int(value),))
    if isinstance(value, int | float):
        return (1, (value,))
    if isinstance(value, str):
        return (2, natural_key(value))
    return (3, natural_key(jsonpath.text_of(value)))


def sort_key(expression: str) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    """``--sort-by``'s key on an object dict: missing values first, numbers by value."""
    jsonpath.relaxed(expression)

    def key(obj: Mapping[str, Any]) -> tuple[int, Any]:
        return _sort_value(jsonpath.values(expression, obj))

    return key


def check_sort_field(expression: str, objects: Sequence[Mapping[str, Any]]) -> None:
    """kubectl's error when no object has the field (a typo, most likely)."""
    if objects and not any(jsonpath.values(expression, o) for o in objects):
        raise CliError(
            f"couldn't find any field with path {jsonpath.relaxed(expression)!r} in the list "
            "of objects"
        )
