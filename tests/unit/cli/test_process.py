"""``kbuild process`` and ``kbuild new-app --template|-f``: templates from files and the cluster."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from builder.cli import main, newapp_template
from builder.cli import process as process_verb
from builder.cli.common import CliError
from builder.cli.process import parse_param_file, split_template_name
from builder.kube import ApiResource
from tests.unit.cli.test_apply import FakeApi

DATA = Path(__file__).resolve().parents[2] / "data" / "templates"
HTTPD = str(DATA / "httpd.json")
TEMPLATES = ApiResource("template.openshift.io/v1", "Template", "templates", True)


def kbuild(*argv: str) -> int:
    return main.main(list(argv))


def out_json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_process_a_file_prints_a_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert kbuild("process", "-f", HTTPD, "-p", "NAME=web", "-l", "team=a") == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert (data["kind"], data["apiVersion"]) == ("List", "v1")
    assert [o["metadata"]["name"] for o in data["items"]] == ["web"] * 5
    assert data["items"][0]["metadata"]["labels"] == {"template": "httpd-example", "team": "a"}
    # origin's file gives "resources" twice; Go's JSON keeps the last, with a warning here
    assert "key 'resources' given twice" in captured.err


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["-p", "NOPE=1"], 'unknown parameter name "NOPE"'),
        (["-p", "NAME="], "parameter NAME is required and must be specified"),
        (["-p", "NAME"], "invalid parameter assignment 'NAME'"),
        (["other"], "give a template NAME or -f FILE, not both"),
    ],
)
def test_process_errors(argv: list[str], error: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert kbuild("process", "-f", HTTPD, *argv) == 1
    assert error in capsys.readouterr().err


def test_values_from_param_file_then_p_then_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "params.env"
    params.write_text("# values\nNAME=from-file\n\nMEMORY_LIMIT=1Gi\nCONTEXT_DIR=a=b\n")
    argv = ["process", "-f", HTTPD, "--param-file", str(params), "-o", "json"]
    assert kbuild(*argv) == 0
    items = out_json(capsys)["items"]
    assert items[0]["metadata"]["name"] == "from-file"
    bc = items[3]
    assert bc["spec"]["source"]["contextDir"] == "a=b"
    assert kbuild(*argv, "-p", "NAME=from-p") == 0
    assert out_json(capsys)["items"][0]["metadata"]["name"] == "from-p"
    assert kbuild(*argv, "-p", "NAME=from-p", "NAME=from-arg") == 0
    assert out_json(capsys)["items"][0]["metadata"]["name"] == "from-arg"
    assert kbuild("process", "-f", HTTPD, "-p", "NOPE=1", "--ignore-unknown-parameters") == 0


def test_parameters_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert kbuild("process", "-f", HTTPD, "--parameters") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "DESCRIPTION", "GENERATOR", "VALUE"]
    assert re.match(
        r"GITHUB_WEBHOOK_SECRET +Github trigger .* +expression +\[a-zA-Z0-9\]\{40\}$", lines[8]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("x", ("", "x")), ("openshift//x", ("openshift", "x"))],
)
def test_split_template_name(text: str, expected: tuple[str, str]) -> None:
    assert split_template_name(text) == expected


@pytest.mark.parametrize("text", ["//x", "ns//"])
def test_split_template_name_errors(text: str) -> None:
    with pytest.raises(CliError):
        split_template_name(text)


def test_param_file_errors() -> None:
    with pytest.raises(CliError, match=r"p\.env:2: invalid parameter assignment"):
        parse_param_file("A=1\nnot an assignment\n", "p.env")


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    fake.served.append(TEMPLATES)
    raw = json.loads(Path(HTTPD).read_text())
    fake.objects[("templates", "openshift", "httpd-example")] = {
        **raw,
        "apiVersion": "template.openshift.io/v1",
    }

    def connect(ns: Any) -> tuple[FakeApi, str]:
        return fake, ns.namespace or "dev"

    monkeypatch.setattr(process_verb, "connect", connect)
    monkeypatch.setattr(newapp_template, "connect", connect)
    return fake


def test_process_by_name_falls_back_to_openshift(
    cluster: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbuild("process", "httpd-example", "-p", "NAME=web") == 0
    assert out_json(capsys)["items"][0]["metadata"]["name"] == "web"
    assert ("get", "template.template.openshift.io/httpd-example") in cluster.calls
    assert kbuild("process", "dev//httpd-example") == 1
    assert 'template "httpd-example" not found in namespace "dev"' in capsys.readouterr().err
    cluster.served.remove(TEMPLATES)
    assert kbuild("process", "httpd-example") == 1
    assert "does not serve template.openshift.io/v1" in capsys.readouterr().err


def test_new_app_template_creates_what_is_served_and_names_the_rest(
    cluster: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbuild("new-app", "--template", "httpd-example", "-p", "NAME=web") == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(
        '--> Deploying template "openshift/httpd-example" to project dev\n\n'
        "     Apache HTTP Server\n     ------------------\n"
    )
    assert re.search(r"\* GitHub Webhook Secret=[a-zA-Z0-9]{40} # generated\n", captured.out)
    assert "    * Name=web\n" in captured.out
    assert "     The following service(s) have been created in your project: web.\n" in captured.out
    assert '    service "web" created\n' in captured.out
    assert '    imagestream.image.openshift.io "web" created\n' in captured.out
    assert '    buildconfig.build.openshift.io "web" created\n' in captured.out
    assert captured.out.endswith("--> Failed\n")
    assert "Route 'web': this cluster does not serve route.openshift.io/v1" in captured.err
    assert "DeploymentConfig 'web': this cluster does not serve apps.openshift.io/v1" in (
        captured.err
    )
    bc = cluster.stored("buildconfigs", "web")
    assert bc["apiVersion"] == "build.openshift.io/v1"
    assert bc["metadata"]["labels"] == {"template": "httpd-example"}


def test_new_app_template_file_output_and_dry_run(
    cluster: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbuild("new-app", "-f", HTTPD, "-p", "NAME=web", "-o", "yaml") == 0
    assert "kind: BuildConfig" in capsys.readouterr().out
    assert cluster.calls == []
    assert kbuild("new-app", "-f", HTTPD, "--dry-run") == 1
    out = capsys.readouterr().out
    assert '--> Deploying template "dev/httpd-example" for "' in out
    assert '    service "httpd-example" created (dry run)\n' in out
    assert not [c for c in cluster.calls if c[0] == "create"]


def test_new_app_needs_a_component_or_a_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert kbuild("new-app") == 1
    assert "give BUILDER~REPO, --template NAME or -f TEMPLATE_FILE" in capsys.readouterr().err
