"""Template processing by OpenShift's rules (library-go templateprocessing and generator)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api.template import Parameter, Template
from builder.api.templateprocessing import (
    ASCII_ORDER,
    TemplateError,
    generate_expression,
    parameter_values,
    process,
    substitute,
    substitute_string,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "templates"


def first(n: int) -> int:
    """A 'random' index that always picks the first character."""
    del n
    return 0


def last(n: int) -> int:
    return n - 1


# -- substitution --------------------------------------------------------------

VALUES = {"NAME": "web", "REPLICAS": "3", "FLAG": "true", "OBJ": '{"a": [1]}', "TEXT": "hello"}


@pytest.mark.parametrize(
    ("text", "expected", "as_string"),
    [
        ("${NAME}", "web", True),
        ("app-${NAME}-${REPLICAS}", "app-web-3", True),
        ("${NAME}${NAME}", "webweb", True),
        ("${{REPLICAS}}", "3", False),  # exact ${{...}}: a JSON value
        ("x${{REPLICAS}}", "x${{REPLICAS}}", True),  # not exact: left alone
        ("${{UNKNOWN}}", "${{UNKNOWN}}", True),
        ("${UNKNOWN}-${NAME}", "${UNKNOWN}-web", True),  # unknown names stay
        ("$NAME {NAME} $(NAME)", "$NAME {NAME} $(NAME)", True),
        ("${NA-ME}", "${NA-ME}", True),
        ("", "", True),
    ],
)
def test_substitute_string(text: str, expected: str, as_string: bool) -> None:
    assert substitute_string(text, VALUES) == (expected, as_string)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${{REPLICAS}}", 3),
        ("${{FLAG}}", True),
        ("${{OBJ}}", {"a": [1]}),
        ("${{TEXT}}", "hello"),  # not JSON: stays a string, as OpenShift
        ({"replicas": "${{REPLICAS}}", "${NAME}": "${NAME}"}, {"replicas": 3, "web": "web"}),
        (["${NAME}", 1, None, False], ["web", 1, None, False]),
    ],
)
def test_substitute_values(value: Any, expected: Any) -> None:
    assert substitute(value, VALUES) == expected


def test_a_value_is_not_expanded_again() -> None:
    assert substitute_string("${A}${B}", {"A": "${B}", "B": "b"}) == ("${B}b", True)


def test_non_json_constants_stay_strings() -> None:
    assert substitute("${{X}}", {"X": "NaN"}) == "NaN"
    assert substitute("${{X}}", {"X": "[" * 5000}) == "[" * 5000


# -- the expression generator ---------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "pick", "expected"),
    [
        ("[a-z]{3}", first, "aaa"),
        ("[a-z]{3}", last, "zzz"),  # the range includes its end
        ("[a-zA-Z0-9]{4}", last, "9999"),
        ("test[0-9]{1}x", first, "test0x"),
        ("0x[A-F0-9]{4}", first, "0xAAAA"),
        ("[\\d]{2}", last, "99"),
        ("[\\a]{2}", last, "99"),
        ("[\\w]{1}", last, "`"),
        ("plain text", first, "plain text"),
        ("[a-z_]{3}", first, "[a-z_]{3}"),  # not an expression: kept
        ("[a-z]{2}-[0-9]{2}", first, "aa-00"),
    ],
)
def test_generate_expression(expression: str, pick: Any, expected: str) -> None:
    assert generate_expression(expression, pick) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("[a-z]{0}", "Range must be within [1-255] characters (0)"),
        ("[a-z]{256}", "Range must be within [1-255] characters (256)"),
        ("[a-z]{99999999999}", "Range must be within"),
        ("[z-a]{3}", "Invalid range specified: z-a"),
        ("[abc]{3}", "Malformed expression syntax"),
        ("[\\x]{3}", "Malformed expression syntax"),
    ],
)
def test_generate_expression_errors(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        generate_expression(expression, first)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="[]{}az09AZ-\\wda_x", max_size=30))
def test_generator_ends_in_a_value_or_value_error(expression: str) -> None:
    try:
        out = generate_expression(expression)
    except ValueError:
        return
    assert isinstance(out, str)


def test_generated_characters_come_from_the_range() -> None:
    value = generate_expression("[a-zA-Z0-9]{200}")
    assert len(value) == 200
    assert set(value) <= set(ASCII_ORDER[: 26 * 2 + 10])


# -- parameters --------------------------------------------------------------------


def p(name: str, **kw: Any) -> Parameter:
    return Parameter.model_validate({"name": name, **kw})


@pytest.mark.parametrize(
    ("params", "given", "expected", "generated"),
    [
        ([p("A", value="x")], {}, {"A": "x"}, set()),
        ([p("A", value="x")], {"A": "y"}, {"A": "y"}, set()),
        ([p("A", generate="expression", **{"from": "[a-z]{3}"})], {}, {"A": "aaa"}, {"A"}),
        # a value (default or given) wins over the generator
        ([p("A", value="v", generate="expression", **{"from": "[a-z]{3}"})], {}, {"A": "v"}, set()),
        ([p("A", generate="expression", **{"from": "[a-z]{3}"})], {"A": "g"}, {"A": "g"}, set()),
        ([p("A")], {}, {"A": ""}, set()),  # not required: empty is fine
    ],
)
def test_parameter_values(
    params: list[Parameter], given: dict[str, str], expected: dict[str, str], generated: set[str]
) -> None:
    assert parameter_values(params, given, first) == (expected, generated)


@pytest.mark.parametrize(
    ("params", "problems"),
    [
        (
            [p("A", required=True)],
            [
                "template.parameters[0]: Required value: template.parameters[0]: "
                "parameter A is required and must be specified"
            ],
        ),
        (
            [p("A", generate="random")],
            ["template.parameters[0]: Invalid value: 'random': Unknown generator name 'random'"],
        ),
        (
            [p("A", generate="expression", **{"from": "[z-a]{2}"})],
            ["template.parameters[0]: Invalid value: A: Invalid range specified: z-a"],
        ),
        ([p("A-B")], ["parameters[0].name: Invalid value: 'A-B'"]),
        ([p("A"), p("A")], ["parameters[1].name: Duplicate value: 'A'"]),
        # every problem is reported, not the first only
        ([p("A", required=True), p("B", required=True)], ["parameter A is", "parameter B is"]),
    ],
)
def test_parameter_problems(params: list[Parameter], problems: list[str]) -> None:
    with pytest.raises(TemplateError) as info:
        parameter_values(params, {}, first)
    assert len(info.value.problems) == len(problems)
    for got, want in zip(info.value.problems, problems, strict=True):
        assert want in got


# -- whole templates -------------------------------------------------------------------


def template(**kw: Any) -> Template:
    return Template.model_validate({"metadata": {"name": "t"}, **kw})


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"name": "a", "namespace": "fixed"}, {"name": "a", "namespace": ""}),
        ({"name": "a", "namespace": "${NS}"}, {"name": "a", "namespace": "other"}),
        ({"name": "a"}, {"name": "a"}),
    ],
)
def test_namespace_is_cleared_unless_parameterized(
    metadata: dict[str, Any], expected: dict[str, Any]
) -> None:
    t = template(
        objects=[{"kind": "ConfigMap", "apiVersion": "v1", "metadata": metadata}],
        parameters=[{"name": "NS", "value": "other"}],
    )
    assert process(t).objects[0]["metadata"] == expected


def test_labels_are_substituted_and_added_over_the_objects_own() -> None:
    t = template(
        objects=[
            {"kind": "ConfigMap", "metadata": {"name": "a", "labels": {"app": "mine", "k": "v"}}},
            {"kind": "ConfigMap"},
        ],
        parameters=[{"name": "APP", "value": "web"}],
        labels={"app": "${APP}", "template": "t"},
    )
    out = process(t, labels={"template": "cli"})
    assert out.objects[0]["metadata"]["labels"] == {"app": "web", "k": "v", "template": "cli"}
    assert out.objects[1]["metadata"] == {"labels": {"app": "web", "template": "cli"}}


def test_labels_on_an_object_without_object_metadata_is_an_error() -> None:
    t = template(objects=[{"kind": "ConfigMap", "metadata": "x"}], labels={"a": "b"})
    with pytest.raises(TemplateError, match="label could not be applied"):
        process(t)


def test_message_and_list() -> None:
    t = template(
        message="created ${NAME}",
        objects=[{"kind": "Service", "apiVersion": "v1", "spec": {"replicas": "${{N}}"}}],
        parameters=[{"name": "NAME", "value": "web"}, {"name": "N", "value": "2"}],
    )
    out = process(t)
    assert out.message == "created web"
    assert out.as_list() == {
        "kind": "List",
        "apiVersion": "v1",
        "metadata": {},
        "items": [{"kind": "Service", "apiVersion": "v1", "spec": {"replicas": 2}}],
    }
    assert t.objects[0]["spec"]["replicas"] == "${{N}}"  # the template is unchanged


def test_origin_quickstart_template() -> None:
    raw = json.loads((DATA / "httpd.json").read_text())  # Python keeps the last duplicate too
    t = Template.model_validate({**raw, "apiVersion": "template.openshift.io/v1"})
    out = process(t, {"NAME": "web"})
    kinds = [o["kind"] for o in out.objects]
    assert kinds == ["Service", "Route", "ImageStream", "BuildConfig", "DeploymentConfig"]
    bc = out.objects[3]
    secret = bc["spec"]["triggers"][2]["github"]["secret"]
    assert re.fullmatch(r"[a-zA-Z0-9]{40}", secret)
    assert bc["spec"]["strategy"]["sourceStrategy"]["from"]["namespace"] == "openshift"
    assert all(o["metadata"]["labels"] == {"template": "httpd-example"} for o in out.objects)
    assert out.generated == {"GITHUB_WEBHOOK_SECRET", "GENERIC_WEBHOOK_SECRET"}
    assert "${" not in json.dumps(out.objects)
