"""A tag's ``importer.image.openshift.io/prefer-os`` / ``prefer-arch`` pick the manifest-list entry.

The report: an s390x tag (``prefer-arch: s390x``) imported the amd64 image.
OpenShift's importer reads both annotations from the spec tag and falls
back to its own platform for each; an entry that does not exist fails the
import rather than taking another.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from builder.api import parse_as
from builder.api.image import TagReference
from builder.controller.authz import Authorizer
from builder.controller.config import ControllerConfig
from builder.controller.imagestream import _request, preferred_platform
from builder.controller.importer import Importer
from builder.controller.ratelimit import TokenBucket
from builder.registry import Platform, mediatypes
from tests.unit.controller.tenancy_fake import FakeKube
from tests.unit.registry.test_client_protocol import Reply, Stub, fixed, stub  # noqa: F401

CONFIG = ControllerConfig(
    registry="registry.example:5000", build_pod_image="registry.example:5000/kbuild/buildpod:1"
)


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _image(os: str, arch: str) -> bytes:
    config = json.dumps({"os": os, "architecture": arch}).encode()
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": _digest(config), "size": 1},
        "layers": [],
    }).encode()  # fmt: skip


def _platform(os: str, arch: str) -> dict[str, str]:
    return {"os": os, "architecture": arch, **({"variant": "v8"} if arch == "arm64" else {})}


PLATFORMS = [("linux", "amd64"), ("linux", "s390x"), ("linux", "arm64"), ("windows", "amd64")]
IMAGES = {p: _image(*p) for p in PLATFORMS}
INDEX = json.dumps({
    "schemaVersion": 2,
    "mediaType": mediatypes.OCI_INDEX,
    "manifests": [
        {"mediaType": mediatypes.OCI_MANIFEST, "digest": _digest(body), "size": len(body),
         "platform": _platform(os, arch)}
        for (os, arch), body in IMAGES.items()
    ],
}).encode()  # fmt: skip


def _serve(stub: Stub) -> None:  # noqa: F811
    stub.routes["/v2/src/manifests/1"] = fixed(
        Reply(200, INDEX, {"Content-Type": mediatypes.OCI_INDEX})
    )
    for body in IMAGES.values():
        stub.routes[f"/v2/src/manifests/{_digest(body)}"] = fixed(
            Reply(200, body, {"Content-Type": mediatypes.OCI_MANIFEST})
        )


def _tag(host: str, annotations: dict[str, str] | None) -> TagReference:
    return parse_as(
        TagReference,
        {
            "name": "t",
            "from": {"kind": "DockerImage", "name": f"{host}/src:1"},
            "importPolicy": {"insecure": True},
            **({"annotations": annotations} if annotations is not None else {}),
        },
    )


@pytest.mark.parametrize(
    ("annotations", "wanted"),
    [
        (None, ("linux", "amd64")),
        ({"importer.image.openshift.io/prefer-arch": "s390x"}, ("linux", "s390x")),
        ({"importer.image.openshift.io/prefer-arch": "arm64"}, ("linux", "arm64")),
        ({"importer.image.openshift.io/prefer-os": "windows"}, ("windows", "amd64")),
        (
            {
                "importer.image.openshift.io/prefer-os": "linux",
                "importer.image.openshift.io/prefer-arch": "s390x",
            },
            ("linux", "s390x"),
        ),
        ({"importer.image.openshift.io/prefer-arch": ""}, ("linux", "amd64")),
    ],
)
def test_the_preferred_entry_is_imported(
    stub: Stub,  # noqa: F811
    annotations: dict[str, str] | None,
    wanted: tuple[str, str],
) -> None:
    _serve(stub)
    kube = FakeKube()
    importer = Importer(kube, CONFIG, TokenBucket(100, 100), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    (outcome,) = importer.run("tenant", [_request(_tag(stub.host, annotations), "")])
    assert outcome.ok, outcome.message
    assert outcome.digest == _digest(IMAGES[wanted])
    assert outcome.top_digest == _digest(INDEX)


def test_a_platform_the_list_lacks_fails_the_import_naming_it(stub: Stub) -> None:  # noqa: F811
    _serve(stub)
    kube = FakeKube()
    importer = Importer(kube, CONFIG, TokenBucket(100, 100), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    tag = _tag(stub.host, {"importer.image.openshift.io/prefer-arch": "ppc64le"})
    (outcome,) = importer.run("tenant", [_request(tag, "")])
    assert outcome.reason == "NotFound"
    assert "linux/ppc64le" in outcome.message
    assert "linux/s390x" in outcome.message


def test_a_value_with_a_slash_names_no_entry() -> None:
    tag = _tag("r.example", {"importer.image.openshift.io/prefer-arch": "arm64/v8"})
    assert preferred_platform(tag) == Platform("linux", "arm64/v8")
