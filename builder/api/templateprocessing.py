"""Processing a Template into its objects, by OpenShift's rules (``oc process``).

The rules are those of openshift/library-go ``pkg/template/templateprocessing``
and the expression generator of ``pkg/template/generator``:

1. Parameter values: a value given for processing replaces the parameter's
   ``value``; a parameter still without a value and with ``generate:
   expression`` gets one generated from ``from``; one that is still empty
   and ``required`` is an error.  Every problem is reported, not the first.
2. Substitution in every string of every object, map keys included, and in
   ``message`` and the labels:

   - a string that is exactly ``${{NAME}}`` becomes the value read as JSON
     (``${{REPLICAS}}`` with ``3`` is the number 3, ``true`` a boolean);
     when the value is not JSON it stays a string;
   - otherwise every ``${NAME}`` is replaced inside the string
     (``${A}-${B}``); ``${{NAME}}`` inside a longer string is left as is;
   - a reference to an unknown parameter is left as is.
3. An object's ``metadata.namespace`` is cleared unless it holds a
   ``${PARAM}`` (templates are instantiated in the namespace chosen then).
4. The template's ``labels`` (after substitution) are added to every
   object's ``metadata.labels``, replacing a label of the same key.

The expression generator reads ``[RANGES]{N}`` where RANGES are ``a-z``
style ranges over OpenShift's character order (``a..z A..Z 0..9`` then
punctuation), single characters, ``\\w`` (letters, digits and punctuation),
``\\d`` (digits) and ``\\a`` (letters and digits), and N is 1 to 255; text
around it is kept (``0x[A-F0-9]{4}``).  Differences from OpenShift's code,
on purpose: a range includes its last character (OpenShift's ``[a-z]`` never
yields ``z``, a slicing bug, not a contract); values come from the
operating system's CSPRNG (they are webhook secrets and passwords; OpenShift
seeds ``math/rand`` with the time); each substitution is one pass, so a value
that itself looks like ``${OTHER}`` is never expanded again.

Pure functions on JSON dicts: no API server, no files.  Every failure is a
``TemplateError`` listing every problem, one line each.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.api.nesting import json_depth_exceeds
from builder.api.template import EXPRESSION_GENERATOR, Parameter, Template

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
ASCII_ORDER = LETTERS + DIGITS + "~!@#$%^&*()-_+={}[]\\|<,>.?/\"';:`"
"""OpenShift's generator alphabet; a range ``x-y`` is the run from x to y in this order."""
MAX_GENERATED = 255
"""Longest run one ``[...]{N}`` may generate, as OpenShift."""

_STRING_REF = re.compile(r"\$\{([a-zA-Z0-9_]+?)\}")
_NON_STRING_REF = re.compile(r"\$\{\{([a-zA-Z0-9_]+)\}\}")
_GENERATOR = re.compile(r"\[([a-zA-Z0-9\-\\]+)\]\{([0-9]+)\}")
_RANGE_TOKEN = re.compile(r"\\[a-zA-Z0-9]|[a-zA-Z0-9]-[a-zA-Z0-9]|[a-zA-Z0-9-]")
_CLASSES = {"\\w": ASCII_ORDER, "\\d": DIGITS, "\\a": LETTERS + DIGITS}
PARAMETER_NAME = re.compile(r"^[a-zA-Z0-9_]+$")
"""What a parameter's name may hold (OpenShift's template validation)."""


class TemplateError(ValueError):
    """A template that cannot be processed; ``problems`` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


RandomIndex = Callable[[int], int]
"""A function returning a random integer in ``[0, n)``."""


# ---------------------------------------------------------------------------
# The expression generator


def _alphabet(ranges: str) -> str:
    tokens = _RANGE_TOKEN.findall(ranges)
    if "".join(tokens) != ranges:
        raise ValueError(f"Malformed expression syntax: [{ranges}]")
    if not any(t in _CLASSES or (len(t) == 3 and t[1] == "-") for t in tokens):
        raise ValueError(f"Malformed expression syntax: [{ranges}] (no range such as a-z)")
    alphabet = ""
    for token in tokens:
        if token.startswith("\\"):
            if token not in _CLASSES:
                raise ValueError(
                    f"Malformed expression syntax: [{ranges}] ({token} is not \\w, \\d or \\a)"
                )
            alphabet += _CLASSES[token]
        elif len(token) == 3:
            start, end = ASCII_ORDER.index(token[0]), ASCII_ORDER.index(token[2])
            if start > end:
                raise ValueError(f"Invalid range specified: {token}")
            alphabet += ASCII_ORDER[start : end + 1]
        else:
            alphabet += token
    return alphabet


def generate_expression(expression: str, randbelow: RandomIndex = secrets.randbelow) -> str:
    """A value for ``from``: each ``[RANGES]{N}`` replaced by N random characters of RANGES."""
    out: list[str] = []
    position = 0
    for match in _GENERATOR.finditer(expression):
        count = int(match.group(2)) if len(match.group(2)) <= 4 else MAX_GENERATED + 1
        if not 1 <= count <= MAX_GENERATED:
            raise ValueError(
                f"Range must be within [1-{MAX_GENERATED}] characters ({match.group(2)})"
            )
        alphabet = _alphabet(match.group(1))
        out.append(expression[position : match.start()])
        out.append("".join(alphabet[randbelow(len(alphabet))] for _ in range(count)))
        position = match.end()
    out.append(expression[position:])
    return "".join(out)


# ---------------------------------------------------------------------------
# Parameters


def check_parameters(parameters: list[Parameter]) -> list[str]:
    """Names that OpenShift's validation refuses: malformed or given twice."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, param in enumerate(parameters):
        where = f"parameters[{i}]"
        if not PARAMETER_NAME.match(param.name):
            problems.append(
                f"{where}.name: Invalid value: {param.name!r}: a parameter name must be "
                "letters, digits and _ only"
            )
        elif param.name in seen:
            problems.append(f"{where}.name: Duplicate value: {param.name!r}")
        seen.add(param.name)
    return problems


def parameter_values(
    parameters: list[Parameter],
    given: Mapping[str, str],
    randbelow: RandomIndex = secrets.randbelow,
) -> tuple[dict[str, str], set[str]]:
    """Each parameter's value, and the names whose value was generated.

    ``given`` must only name parameters of the template (the caller decides
    what an unknown name means: ``oc process`` refuses it by default).
    """
    problems = check_parameters(parameters)
    values: dict[str, str] = {}
    generated: set[str] = set()
    for i, param in enumerate(parameters):
        where = f"template.parameters[{i}]"
        value = given.get(param.name, param.value)
        if not value and param.generate:
            if param.generate != EXPRESSION_GENERATOR:
                problems.append(
                    f"{where}: Invalid value: {param.generate!r}: Unknown generator name "
                    f"'{param.generate}' for parameter {param.name}"
                )
                continue
            try:
                value = generate_expression(param.from_, randbelow)
            except ValueError as err:
                problems.append(f"{where}: Invalid value: {param.name}: {err}")
                continue
            generated.add(param.name)
        if not value and param.required:
            problems.append(
                f"{where}: Required value: {where}: parameter {param.name} "
                "is required and must be specified"
            )
        values[param.name] = value
    if problems:
        raise TemplateError(problems)
    return values, generated


# ---------------------------------------------------------------------------
# Substitution


def _json_value(text: str) -> Any:
    """The JSON value of ``text`` as Go's encoding/json reads it, or ``text`` itself."""

    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    if json_depth_exceeds(text):
        return text
    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:
        return text


def substitute_string(text: str, values: Mapping[str, str]) -> tuple[str, bool]:
    """``text`` with its references replaced, and whether it stays a string (False: JSON)."""
    whole = _NON_STRING_REF.fullmatch(text)
    if whole is not None and whole.group(1) in values:
        return values[whole.group(1)], False

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _STRING_REF.sub(replace, text), True


def substitute(value: Any, values: Mapping[str, str]) -> Any:
    """``value`` (a JSON value) with every string substituted; a copy, the input stays."""
    if isinstance(value, str):
        text, as_string = substitute_string(value, values)
        return text if as_string else _json_value(text)
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    if isinstance(value, dict):
        return {
            substitute_string(k, values)[0] if isinstance(k, str) else k: substitute(v, values)
            for k, v in value.items()
        }
    return value


def _strip_namespace(obj: dict[str, Any]) -> None:
    metadata = obj.get("metadata")
    if isinstance(metadata, dict) and "namespace" in metadata:
        namespace = metadata["namespace"]
        if not (isinstance(namespace, str) and _STRING_REF.search(namespace)):
            metadata["namespace"] = ""


def _add_labels(obj: dict[str, Any], labels: Mapping[str, str], where: str) -> str | None:
    if not labels:
        return None
    metadata = obj.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        return f"{where}.metadata: label could not be applied: metadata is not an object"
    current = metadata.get("labels")
    if current is None:
        current = metadata["labels"] = {}
    if not isinstance(current, dict):
        return f"{where}.metadata.labels: label could not be applied: labels is not an object"
    current.update(labels)
    return None


# ---------------------------------------------------------------------------
# Processing


@dataclass
class Processed:
    """A processed template: its objects, its message and the values used."""

    objects: list[dict[str, Any]]
    message: str
    values: dict[str, str]
    generated: set[str] = field(default_factory=set)
    parameters: list[Parameter] = field(default_factory=list)

    def as_list(self) -> dict[str, Any]:
        """The ``kind: List`` ``oc process`` prints."""
        return {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": self.objects}


def process(
    template: Template,
    given: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    randbelow: RandomIndex = secrets.randbelow,
) -> Processed:
    """The template's objects with parameters substituted (see the module docstring).

    ``labels`` are added to the template's own (``oc process -l``), winning on
    the same key.  The template is not changed.
    """
    values, generated = parameter_values(template.parameters, given or {}, randbelow)
    object_labels = {
        substitute_string(k, values)[0]: substitute_string(v, values)[0]
        for k, v in {**template.labels, **(labels or {})}.items()
    }
    problems: list[str] = []
    objects: list[dict[str, Any]] = []
    for i, raw in enumerate(template.objects):
        obj = copy.deepcopy(raw)
        _strip_namespace(obj)
        out = substitute(obj, values)
        problem = _add_labels(out, object_labels, f"objects[{i}]")
        if problem:
            problems.append(problem)
        objects.append(out)
    if problems:
        raise TemplateError(problems)
    message = substitute_string(template.message, values)[0]
    params = [
        p.model_copy(update={"value": values.get(p.name, p.value)}) for p in template.parameters
    ]
    return Processed(objects, message, values, generated, params)
