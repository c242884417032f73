"""kubectl's output printers: jsonpath, go-template, custom columns, labels, sort-by (pure).

Expected texts are what kubectl prints for the same template and object
(kubectl's jsonpath and go-template documentation examples, and its
printers' tests), so a difference is a difference a user would see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builder.cli.common import BUILD_CONFIGS, BUILDS, CliError, table
from builder.cli.get import (
    TEMPLATES,
    TableOptions,
    parse_targets,
    render_output,
    render_tables,
    template_row,
)
from builder.cli.getwatch import Printer, _events
from builder.cli.gotemplate import TemplateError
from builder.cli.gotemplate import execute as go_template
from builder.cli.jsonpath import JsonPathError, relaxed
from builder.cli.jsonpath import execute as jsonpath
from builder.cli.printers import (
    Output,
    check_sort_field,
    format_labels,
    label_headers,
    parse_custom_columns,
    parse_custom_columns_file,
    parse_output,
    render_custom_columns,
    sort_key,
    split_label_columns,
)
from builder.kube import Gone, WatchEvent
from tests.unit.cli.helpers import NOW, build, build_config

DOC: dict[str, Any] = {
    "kind": "List",
    "items": [
        {
            "kind": "Build",
            "metadata": {"name": "app-1", "labels": {"app": "web", "tier": "front"}},
            "status": {"phase": "Complete", "duration": 95, "tags": ["a", "b"]},
        },
        {
            "kind": "Build",
            "metadata": {"name": "app-2", "labels": {"app.kubernetes.io/name": "x"}},
            "status": {"phase": "Failed", "duration": 3.5, "ok": False},
        },
        {"kind": "Build", "metadata": {"name": "app-10"}, "status": {"phase": "Running"}},
    ],
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{.kind}", "List"),
        ("{.items[*].metadata.name}", "app-1 app-2 app-10"),
        ("{.items[0].metadata.name}", "app-1"),
        ("{.items[-1].metadata.name}", "app-10"),
        ("{.items[1:].metadata.name}", "app-2 app-10"),
        ("{.items[0:3:2].metadata.name}", "app-1 app-10"),
        ("{.items[5].metadata.name}", ""),
        ("{.items[*].nothere}", ""),
        ('{.items[?(@.status.phase=="Failed")].metadata.name}', "app-2"),
        ('{.items[?(@.status.phase!="Failed")].metadata.name}', "app-1 app-10"),
        ("{.items[?(@.status.duration>4)].metadata.name}", "app-1"),
        ("{.items[?(@.status.duration)].metadata.name}", "app-1 app-2"),
        ("{.items[0].metadata.labels}", '{"app":"web","tier":"front"}'),
        ("{.items[0].status.tags}", '["a","b"]'),
        ("{.items[1].status.ok} {.items[1].status.duration}", "false 3.5"),
        ("{.items[0].status.duration}", "95"),
        ("{.items[1].metadata.labels.app\\.kubernetes\\.io/name}", "x"),
        ("{.items[0]['metadata']['name']}", "app-1"),
        ("{.items[0].metadata['name','labels']}", 'app-1 {"app":"web","tier":"front"}'),
        ("{..phase}", "Complete Failed Running"),
        ("{.items[0].metadata.labels.*}", "web front"),
        ("{$.kind}", "List"),
        ("names: {.items[0].metadata.name}!", "names: app-1!"),
        (
            '{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}',
            "app-1\tComplete\napp-2\tFailed\napp-10\tRunning\n",
        ),
        ("{range .items}[{.metadata.name}]{end}", "[app-1][app-2][app-10]"),
        (
            "{range .items[*]}{range .status.tags[*]}<{@}>{end}{end}",
            "<a><b>",
        ),
    ],
)
def test_jsonpath_as_kubectl_prints_it(template: str, expected: str) -> None:
    assert jsonpath(template, DOC) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{.items[*]", "unclosed action"),
        ("{range .items[*]}{.x}", "unclosed range"),
        ("{.x}{end}", "not in range"),
        ('{.items[?(@.x=~"a")]}', "not supported"),
        ("{.items[a:b]}", "invalid array index"),
    ],
)
def test_jsonpath_errors_are_one_line(template: str, message: str) -> None:
    with pytest.raises(JsonPathError, match=message):
        jsonpath(template, DOC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (".metadata.name", "{.metadata.name}"),
        ("metadata.name", "{.metadata.name}"),
        ("{.metadata.name}", "{.metadata.name}"),
        ("{metadata.name}", "{.metadata.name}"),
        (".items[0]", "{.items[0]}"),
    ],
)
def test_relaxed_expressions(expression: str, expected: str) -> None:
    assert relaxed(expression) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}', "app-1\napp-2\napp-10\n"),
        ("{{.kind}}", "List"),
        ("{{.nothere}}", "<no value>"),
        ("{{len .items}}", "3"),
        ("{{(index .items 0).kind}}", None),
        ('{{index .items 0 "metadata" "name"}}', "app-1"),
        (
            "{{range $i, $b := .items}}{{$i}}:{{$b.metadata.name}} {{end}}",
            "0:app-1 1:app-2 2:app-10 ",
        ),
        ("{{range $b := .items}}{{$b.status.phase}},{{end}}", "Complete,Failed,Running,"),
        (
            '{{range .items}}{{if eq .status.phase "Failed"}}F{{else if eq .status.phase '
            '"Running"}}R{{else}}C{{end}}{{end}}',
            "CFR",
        ),
        ("{{with .items}}{{len .}}{{end}}", "3"),
        ("{{range .nothere}}x{{else}}empty{{end}}", "empty"),
        ("{{- range .items }} {{ .metadata.name -}} {{ end }}", " app-1 app-2 app-10"),
        ("{{/* a comment */}}ok", "ok"),
        ('{{printf "%s=%d" .kind 3}}', "List=3"),
        ("{{index .items 0 | len}}", "3"),
        ("{{(index .items 0).metadata}}", None),
        ("{{$.kind}}", "List"),
        ("{{range .items}}{{$.kind}}{{end}}", "ListListList"),
        ('{{index .items 0 "metadata" "labels"}}', "map[app:web tier:front]"),
        ('{{index .items 0 "status" "tags"}}', "[a b]"),
        ('{{index .items 1 "status" "duration"}}', "3.5"),
        ("{{if not .nothere}}none{{end}}", "none"),
        ("{{if and .kind .items}}both{{end}}", "both"),
        ('{{exists . "kind"}} {{exists . "nope"}}', "true false"),
        ('{{base64decode "aGVsbG8="}}', "hello"),
    ],
)
def test_go_template_subset(template: str, expected: str | None) -> None:
    if expected is None:  # parenthesised calls are outside the subset: a clear error
        with pytest.raises(TemplateError, match="parenthesised"):
            go_template(template, DOC)
        return
    assert go_template(template, DOC) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('{{template "x"}}', '"template" is not supported'),
        ('{{define "x"}}{{end}}', '"define" is not supported'),
        ("{{upper .kind}}", 'function "upper" is not supported'),
        ("{{range .items}}", "an {{end}} is missing"),
        ("{{end}}", "unexpected {{end}}"),
        ("{{else}}", "unexpected {{else}}"),
        ('{{printf "%x" 3}}', "printf verb %x is not supported"),
        ("{{$nope}}", "undefined variable"),
        ("{{.kind.x}}", "can't evaluate field x"),
    ],
)
def test_go_template_refuses_what_it_does_not_support(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message) as info:
        go_template(template, DOC)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "kind", "template"),
    [
        (None, "", ""),
        ("wide", "wide", ""),
        ("name", "name", ""),
        ("jsonpath={.a}", "jsonpath", "{.a}"),
        ("jsonpath={.a=b}", "jsonpath", "{.a=b}"),
        ("go-template={{.a}}", "go-template", "{{.a}}"),
        ("template={{.a}}", "go-template", "{{.a}}"),
        ("custom-columns=N:.a", "custom-columns", "N:.a"),
        ("jsonpath-as-json={.a}", "jsonpath-as-json", "{.a}"),
    ],
)
def test_parse_output(text: str | None, kind: str, template: str) -> None:
    assert parse_output(text) == Output(kind, template)


def test_parse_output_reads_template_files(tmp_path: Path) -> None:
    (tmp_path / "t.jsonpath").write_text("{.kind}")
    (tmp_path / "t.tmpl").write_text("{{.kind}}")
    assert parse_output(f"jsonpath-file={tmp_path}/t.jsonpath") == Output("jsonpath", "{.kind}")
    assert parse_output(f"go-template-file={tmp_path}/t.tmpl") == Output("go-template", "{{.kind}}")
    (tmp_path / "columns").write_text("NAME PHASE\n.metadata.name .status.phase\n")
    columns = parse_output(f"custom-columns-file={tmp_path}/columns")
    assert columns.kind == "custom-columns-file"
    assert render_output([build("app-1", phase="Complete")], columns, single=True) == (
        "NAME    PHASE\napp-1   Complete\n"
    )
    with pytest.raises(CliError, match="error reading"):
        parse_output(f"jsonpath-file={tmp_path}/missing")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("xml", "unable to match a printer"),
        ("jsonpath", "no template given"),
        ("jsonpath=", "no template given"),
        ("custom-columns=", "no template given"),
    ],
)
def test_parse_output_errors(text: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse_output(text)


def test_custom_columns_table() -> None:
    columns = parse_custom_columns("NAME:.metadata.name,phase:{.status.phase},TAGS:.status.tags[*]")
    assert render_custom_columns(columns, DOC["items"]) == (
        "NAME     phase      TAGS\n"
        "app-1    Complete   a,b\n"
        "app-2    Failed     <none>\n"
        "app-10   Running    <none>\n"
    )


def test_custom_columns_file_form() -> None:
    columns = parse_custom_columns_file("NAME   PHASE\n.metadata.name   .status.phase\n")
    assert [(c.header, c.expression) for c in columns] == [
        ("NAME", ".metadata.name"),
        ("PHASE", ".status.phase"),
    ]
    with pytest.raises(CliError, match="does not match"):
        parse_custom_columns_file("A B\n.a\n")


@pytest.mark.parametrize("spec", ["NAME", "NAME:", ":.a", "A:.a,B"])
def test_custom_columns_bad_spec(spec: str) -> None:
    with pytest.raises(CliError, match="expected <header>:<json-path-expr>"):
        parse_custom_columns(spec)


@pytest.mark.parametrize(
    ("values", "show", "headers"),
    [
        (["app"], False, ["APP"]),
        (["app,tier", "app.kubernetes.io/name"], True, ["APP", "TIER", "NAME", "LABELS"]),
        ([], True, ["LABELS"]),
    ],
)
def test_label_headers(values: list[str], show: bool, headers: list[str]) -> None:
    assert label_headers(split_label_columns(values), show) == headers


@pytest.mark.parametrize(
    ("labels", "text"),
    [({}, "<none>"), ({"b": "2", "a": "1"}, "a=1,b=2")],
)
def test_format_labels(labels: dict[str, str], text: str) -> None:
    assert format_labels(labels) == text


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        (".metadata.name", ["app-1", "app-2", "app-10"]),  # natural order, as kubectl
        ("{.status.phase}", ["app-1", "app-2", "app-10"]),
        (".status.duration", ["app-10", "app-2", "app-1"]),  # missing first, then numeric
    ],
)
def test_sort_key(expression: str, names: list[str]) -> None:
    items = sorted(DOC["items"], key=sort_key(expression))
    assert [i["metadata"]["name"] for i in items] == names


def test_sort_by_a_field_no_object_has_is_an_error() -> None:
    with pytest.raises(CliError, match="couldn't find any field with path"):
        check_sort_field(".status.nothere", DOC["items"])


# ---------------------------------------------------------------------------
# The printers wired into `get`


def test_table_with_labels_and_label_columns() -> None:
    bcs = [build_config("web"), build_config("api")]
    text = render_tables(
        {BUILD_CONFIGS: bcs},
        NOW,
        all_namespaces=False,
        wide=False,
        options=TableOptions(label_columns=("app", "tier"), show_labels=True),
    )
    assert text.splitlines() == [
        "NAME   TYPE     FROM       LATEST   APP   TIER   LABELS",
        "web    Docker   Git@main   0        web          app=web",
        "api    Docker   Git@main   0        api          app=api",
    ]


def test_table_sort_by_overrides_the_default_order() -> None:
    builds = [build("app-10"), build("app-2", created="2024-05-01T11:00:00Z"), build("app-1")]
    default = render_tables({BUILDS: builds}, NOW, all_namespaces=False, wide=False)
    assert [line.split()[0] for line in default.splitlines()[1:]] == ["app-2", "app-1", "app-10"]
    by_name = render_tables(
        {BUILDS: builds},
        NOW,
        all_namespaces=False,
        wide=False,
        options=TableOptions(sort_by=".metadata.name"),
    )
    assert [line.split()[0] for line in by_name.splitlines()[1:]] == ["app-1", "app-2", "app-10"]


@pytest.mark.parametrize(
    ("output", "single", "expected"),
    [
        (Output("jsonpath", "{.items[*].metadata.name}"), False, "app-1 app-2"),
        (Output("jsonpath", "{.metadata.name}"), True, "app-1"),
        (
            Output("go-template", '{{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}'),
            False,
            "app-1\napp-2\n",
        ),
        (
            Output("custom-columns", "NAME:.metadata.name,PHASE:.status.phase"),
            False,
            "NAME    PHASE\napp-1   Complete\napp-2   Complete\n",
        ),
    ],
)
def test_render_output_of_builds(output: Output, single: bool, expected: str) -> None:
    builds = [build("app-1", phase="Complete"), build("app-2", phase="Complete")]
    objs = builds[:1] if single else builds
    assert render_output(objs, output, single) == expected


def test_jsonpath_as_json() -> None:
    out = render_output([build("app-1")], Output("jsonpath-as-json", "{.metadata.name}"), True)
    assert json.loads(out) == ["app-1"]


TEMPLATE: dict[str, Any] = {
    "apiVersion": "template.openshift.io/v1",
    "kind": "Template",
    "metadata": {
        "name": "nodejs-example",
        "namespace": "openshift",
        "annotations": {"description": "An example Node.js application.\nMore text."},
    },
    "objects": [{"kind": "Service"}, {"kind": "Route"}, {"kind": "BuildConfig"}],
}


@pytest.mark.parametrize(
    ("parameters", "summary"),
    [
        ([], "0 (all set)"),
        ([{"name": "A", "value": "x"}], "1 (all set)"),
        ([{"name": "A", "value": "x"}, {"name": "B", "generate": "expression"}], "2 (1 generated)"),
        ([{"name": "A"}, {"name": "B", "generate": "expression"}], "2 (1 blank)"),
    ],
)
def test_template_row(parameters: list[dict[str, str]], summary: str) -> None:
    row = template_row({**TEMPLATE, "parameters": parameters})
    assert row == ["nodejs-example", "An example Node.js application....", summary, "3"]


def test_templates_are_a_gettable_type() -> None:
    assert parse_targets(["templates"]) == [(TEMPLATES, None)]
    assert parse_targets(["template/x"]) == [(TEMPLATES, "x")]
    text = render_tables({TEMPLATES: [TEMPLATE]}, NOW, all_namespaces=True, wide=False)
    assert text.splitlines()[0].split() == [
        "NAMESPACE",
        "NAME",
        "DESCRIPTION",
        "PARAMETERS",
        "OBJECTS",
    ]


# ---------------------------------------------------------------------------
# get -w: rows per event under the list's header, and a watch that resumes


def test_watch_rows_line_up_under_the_list() -> None:
    printer = Printer(BUILDS, Output(""), TableOptions())
    first = printer.format([["NAME", "STATUS"], ["app-1", "New"]])
    assert first == table(["NAME", "STATUS"], [["app-1", "New"]])
    assert printer.format([["app-1", "Running"]]) == "app-1   Running\n"
    # a wider cell widens its column for the rows after it
    assert printer.format([["app-1234567", "Complete"]]) == "app-1234567   Complete\n"
    assert printer.format([["app-1", "Failed"]]) == "app-1         Failed\n"


class FlakyWatch:
    """A watch that closes once, then answers 410 Gone once, then ends the test."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.lists = 0

    def watch(self, namespace: str | None, rv: str, label_selector: str = "") -> Iterator[Any]:
        del namespace
        self.calls.append((rv, label_selector))
        if len(self.calls) == 1:
            yield WatchEvent("ADDED", "obj-a", "11")
            yield WatchEvent("BOOKMARK", None, "12")
            return  # the server closed the watch
        if len(self.calls) == 2:
            raise Gone(410, "too old resource version")
        yield WatchEvent("MODIFIED", "obj-b", "30")

    def list(self, namespace: str | None, label_selector: str = "") -> tuple[list[Any], str]:
        del namespace, label_selector
        self.lists += 1
        return [], "25"


def test_watch_resumes_after_close_and_relists_after_gone() -> None:
    client = FlakyWatch()
    events = _events(client, "dev", "10", "app=web")  # type: ignore[arg-type]
    assert next(events) == ("ADDED", "obj-a", "11")
    assert next(events) == ("MODIFIED", "obj-b", "30")
    assert client.calls == [("10", "app=web"), ("12", "app=web"), ("25", "app=web")]
    assert client.lists == 1
