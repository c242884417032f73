"""images/catalog: the openshift namespace's builder streams, as new-app REPO finds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.api import ImageStream, parse_as
from builder.api.templateprocessing import TemplateError, process
from builder.cli.detect import StreamTag, select_builder
from builder.cli.process import template_from_file

CATALOG = Path(__file__).resolve().parents[3] / "images" / "catalog" / "openshift-imagestreams.yaml"


def streams(**values: str) -> list[ImageStream]:
    out = process(template_from_file(str(CATALOG)), values)
    return [parse_as(ImageStream, o) for o in out.objects if o.get("kind") == "ImageStream"]


def test_the_catalog_grants_every_authenticated_user_read_only() -> None:
    """As OpenShift's openshift namespace: builders and Templates readable by all, no write."""
    objects = process(template_from_file(str(CATALOG)), {"REGISTRY": "r"}).objects
    role = next(o for o in objects if o.get("kind") == "Role")
    binding = next(o for o in objects if o.get("kind") == "RoleBinding")
    verbs = {verb for rule in role["rules"] for verb in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert resources == {"imagestreams", "imagestreams/layers", "templates"}
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}
    ]


def test_the_catalog_is_valid_image_streams_imported_on_a_schedule() -> None:
    python, nodejs = streams(REGISTRY="registry.local:5000", INSECURE="true")
    assert (python.metadata.name, nodejs.metadata.name) == ("python", "nodejs")
    for stream, image in ((python, "s2i-python:3.11"), (nodejs, "s2i-nodejs:18")):
        versioned = stream.spec.tags[0]
        assert versioned.from_ is not None
        assert versioned.from_.name == f"registry.local:5000/kbuild/{image}"
        assert versioned.import_policy.scheduled is True
        assert versioned.import_policy.insecure is True  # ${{INSECURE}}: a boolean
        assert stream.metadata.annotations["openshift.io/image.insecureRepository"] == "true"
        assert stream.spec.tags[1].name == "latest"
    secure = streams(REGISTRY="r")[0].spec.tags[0].import_policy
    assert secure.insecure is False


@pytest.mark.parametrize(
    ("platform", "expected"), [("python", ("python", "3.11")), ("nodejs", ("nodejs", "18"))]
)
def test_new_app_repo_finds_the_catalog_builders(platform: str, expected: tuple[str, str]) -> None:
    tags = [
        StreamTag("openshift", s.metadata.name, t.name, dict(t.annotations or {}))
        for s in streams(REGISTRY="r")
        for t in s.spec.tags
    ]
    found = select_builder([platform], tags, ["dev", "openshift"])
    assert found is not None
    assert (found.tag.stream, found.tag.tag) == expected


def test_the_registry_is_required() -> None:
    with pytest.raises(TemplateError, match="parameter REGISTRY is required"):
        streams()
