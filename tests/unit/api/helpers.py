"""Shared helpers for the builder.api tests: the sample data and CRD schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from builder.api.crdgen import CRDS, DEFAULT_OUT

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "tests" / "data" / "openshift-examples"
CRD_DIR = DEFAULT_OUT


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".json", ".yaml"))


def raw_objects(path: Path) -> list[dict[str, Any]]:
    """The objects of an example file as plain data (List wrappers flattened).

    Parsed independently of builder.api (JSON, or YAML with timestamps kept
    as text like the API server does) so the round trip is compared against
    what the file says, not against what the loader made of it.
    """
    text = path.read_text()
    if path.suffix == ".json":
        docs = [json.loads(text)]
    else:
        docs = [d for d in yaml.load_all(text, Loader=_TextTimes) if d is not None]
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if str(doc.get("kind", "")).endswith("List"):
            objects.extend(doc["items"])
        else:
            objects.append(doc)
    return objects


class _TextTimes(yaml.SafeLoader):
    pass


_TextTimes.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def committed_crd(kind: str) -> dict[str, Any]:
    spec = next(s for s in CRDS if s.kind == kind)
    loaded: dict[str, Any] = yaml.safe_load((CRD_DIR / spec.filename).read_text())
    return loaded


def openapi_to_jsonschema(node: Any) -> Any:
    """Turn a CRD's OpenAPI v3 schema into JSON Schema (``nullable`` -> null type)."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: openapi_to_jsonschema(v)
        for k, v in node.items()
        if k != "nullable" and not k.startswith("x-kubernetes-")
    }
    if "properties" in node:
        out["properties"] = {k: openapi_to_jsonschema(v) for k, v in node["properties"].items()}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "anyOf" in out:
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    return out


def crd_validator(kind: str) -> jsonschema.protocols.Validator:
    crd = committed_crd(kind)
    schema = openapi_to_jsonschema(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    cls = jsonschema.Draft7Validator
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
