"""The committed CRDs are the generated ones, structural, and actually validate."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from builder.api import crdgen
from tests.unit.api.helpers import CRD_DIR, committed_crd, crd_validator

KINDS = ["BuildConfig", "Build", "ImageStream"]


def test_committed_crds_equal_generated() -> None:
    generated = crdgen.generated()
    assert sorted(generated) == sorted(p.name for p in CRD_DIR.glob("*.yaml"))
    for name, text in generated.items():
        assert (CRD_DIR / name).read_text() == text, f"crds/{name} is stale: run crdgen"


def test_check_mode_reports_a_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert crdgen.main(["--out", str(tmp_path), "--check"]) == 1
    assert "+++" in capsys.readouterr().out
    assert crdgen.main(["--out", str(tmp_path)]) == 0
    assert crdgen.main(["--out", str(tmp_path), "--check"]) == 0
    stale = tmp_path / "image.openshift.io_imagestreams.yaml"
    stale.write_text(stale.read_text().replace("shortNames", "shortnames"))
    capsys.readouterr()
    assert crdgen.main(["--out", str(tmp_path), "--check"]) == 1
    diff = capsys.readouterr().out
    assert "-    shortnames:" in diff
    assert "+    shortNames:" in diff


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    nodes: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        nodes.append((path, node))
        for key, sub in node.get("properties", {}).items():
            nodes.extend(_walk(sub, f"{path}.{key}"))
        if "items" in node:
            nodes.extend(_walk(node["items"], f"{path}[]"))
        if isinstance(node.get("additionalProperties"), dict):
            nodes.extend(_walk(node["additionalProperties"], f"{path}{{}}"))
    return nodes


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_structural(kind: str) -> None:
    version = committed_crd(kind)["spec"]["versions"][0]
    schema = version["schema"]["openAPIV3Schema"]
    assert schema["properties"]["metadata"] == {"type": "object"}
    nodes = _walk(schema)
    assert len(nodes) > 40
    for path, node in nodes:
        where = path or "(root)"
        for banned in ("$ref", "$defs", "title", "default", "const", "allOf", "oneOf"):
            assert banned not in node, f"{where} has {banned}"
        if "anyOf" in node:
            assert node.get("x-kubernetes-int-or-string") is True, where
        elif not node.get("x-kubernetes-preserve-unknown-fields"):
            assert node.get("type") in {"object", "array", "string", "integer", "boolean"}, where
        assert not isinstance(node.get("additionalProperties"), bool), where
        assert not ("properties" in node and "additionalProperties" in node), where
        if "enum" in node:
            assert "nullable" not in node, f"{where}: a nullable enum rejects null anyway"


def _names(kind: str) -> dict[str, Any]:
    names: dict[str, Any] = committed_crd(kind)["spec"]["names"]
    return names


def test_names_scope_and_subresources() -> None:
    assert _names("BuildConfig")["shortNames"] == ["bc"]
    assert _names("ImageStream")["shortNames"] == ["is"]
    assert "shortNames" not in _names("Build")
    for kind in KINDS:
        crd = committed_crd(kind)
        assert crd["spec"]["scope"] == "Namespaced"
        assert _names(kind)["categories"] == ["all"]
        (version,) = crd["spec"]["versions"]
        assert version["name"] == "v1"
        assert version["subresources"] == {"status": {}}
    assert committed_crd("BuildConfig")["metadata"]["name"] == "buildconfigs.build.openshift.io"
    assert committed_crd("ImageStream")["spec"]["group"] == "image.openshift.io"


def _columns(kind: str) -> dict[str, tuple[str, str]]:
    version = committed_crd(kind)["spec"]["versions"][0]
    return {c["name"]: (c["jsonPath"], c["type"]) for c in version["additionalPrinterColumns"]}


def test_printer_columns_follow_oc_get() -> None:
    bc = _columns("BuildConfig")
    assert bc["Type"] == (".spec.strategy.type", "string")
    assert bc["From"] == (".spec.source.type", "string")
    assert bc["Latest"] == (".status.lastVersion", "integer")
    build = _columns("Build")
    assert build["Status"] == (".status.phase", "string")
    assert build["Reason"] == (".status.reason", "string")
    assert build["Started"] == (".status.startTimestamp", "date")
    stream = _columns("ImageStream")
    assert stream["Image Repository"] == (".status.dockerImageRepository", "string")


def test_descriptions_come_from_docstrings_and_flag_unimplemented() -> None:
    spec = committed_crd("BuildConfig")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    strategy = spec["properties"]["spec"]["properties"]["strategy"]
    assert strategy["properties"]["sourceStrategy"]["description"] == "Source-to-image build."
    jenkins = strategy["properties"]["jenkinsPipelineStrategy"]["description"]
    assert "Not implemented by kbuild" in jenkins
    assert "Not implemented" not in strategy["properties"]["customStrategy"]["description"]
    assert "Not implemented" not in strategy["properties"]["dockerStrategy"]["description"]


GOOD_BUILD_CONFIG: dict[str, Any] = {
    "apiVersion": "build.openshift.io/v1",
    "kind": "BuildConfig",
    "metadata": {"name": "app"},
    "spec": {
        "source": {"git": {"uri": "https://example.com/app.git"}},
        "strategy": {"type": "Source", "sourceStrategy": {"from": {"name": "ruby:3"}}},
        "resources": {"limits": {"cpu": "500m", "memory": 1073741824}},
        "nodeSelector": None,
    },
}


def _with(change: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(GOOD_BUILD_CONFIG)
    obj["spec"].update(change)
    return obj


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"runPolicy": "Sometimes"}, "is not one of"),
        ({"completionDeadlineSeconds": "30"}, "is not of type"),
        ({"source": {"git": {"ref": "main"}}}, "'uri' is a required property"),
        ({"triggers": [{"github": {}}]}, "'type' is a required property"),
        ({"strategy": None}, "is not of type 'object'"),
    ],
)
def test_crd_schema_rejects_bad_objects(change: dict[str, Any], message: str) -> None:
    validator = crd_validator("BuildConfig")
    assert list(validator.iter_errors(GOOD_BUILD_CONFIG)) == []
    errors = [e.message for e in validator.iter_errors(_with(change))]
    assert any(message in e for e in errors), errors


def test_crd_schema_accepts_fractional_quantities() -> None:
    """``cpu: 0.5`` passes the API server as it does on OpenShift; the model checks it."""
    validator = crd_validator("BuildConfig")
    assert list(validator.iter_errors(_with({"resources": {"limits": {"cpu": 0.5}}}))) == []


def test_crd_schema_checks_times() -> None:
    stream: dict[str, Any] = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "s"},
        "status": {
            "tags": [
                {
                    "tag": "latest",
                    "items": [
                        {
                            "created": "2024-05-01T12:00:00Z",
                            "dockerImageReference": "r/s@sha256:1",
                            "image": "sha256:1",
                            "generation": 1,
                        }
                    ],
                }
            ]
        },
    }
    validator = crd_validator("ImageStream")
    assert list(validator.iter_errors(stream)) == []
    stream["status"]["tags"][0]["items"][0]["created"] = "yesterday"
    assert [e.message for e in validator.iter_errors(stream)] == [
        "'yesterday' is not a 'date-time'"
    ]
