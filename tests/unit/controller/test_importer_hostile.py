"""A hostile registry ends an import with a typed condition, never an exception.

The report: a layer digest with an unknown algorithm (``sha999:...``)
raised ValueError out of the importer when it copied the image
(referencePolicy Local), so the stream's reconcile failed on every retry.
"""

from __future__ import annotations

import hashlib
import json

from builder.controller.authz import Authorizer
from builder.controller.config import ControllerConfig
from builder.controller.importer import Importer, ImportRequest
from builder.controller.ratelimit import TokenBucket
from builder.registry import mediatypes
from tests.unit.controller.tenancy_fake import FakeKube
from tests.unit.registry.test_client_protocol import Reply, Stub, fixed, stub  # noqa: F401

CONFIG = ControllerConfig(
    registry="registry.example:5000", build_pod_image="registry.example:5000/kbuild/buildpod:1"
)
BLOB = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
ODD = "sha999:" + "a" * 64


def manifest(layer_digest: str) -> bytes:
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": BLOB_DIGEST, "size": len(BLOB)},
        "layers": [{"mediaType": "application/octet-stream", "digest": layer_digest, "size": 3}],
    }).encode()  # fmt: skip


def run(stub: Stub, body: bytes) -> tuple[str, str]:  # noqa: F811
    stub.routes["/v2/src/manifests/1"] = fixed(
        Reply(200, body, {"Content-Type": mediatypes.OCI_MANIFEST})
    )
    # The copy: the config is already there, the layer is served as asked.
    stub.routes[f"/v2/mirror/blobs/{BLOB_DIGEST}"] = fixed(Reply(200))
    stub.routes[f"/v2/src/blobs/{ODD}"] = fixed(Reply(200, b"abc"))
    kube = FakeKube()
    importer = Importer(kube, CONFIG, TokenBucket(100, 100), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    request = ImportRequest(
        "t", f"{stub.host}/src:1", insecure=True, mirror_to=f"{stub.host}/mirror"
    )
    (outcome,) = importer.run("tenant", [request])
    assert not outcome.ok
    return outcome.reason, outcome.message


def test_an_unknown_digest_algorithm_is_an_import_failure(stub: Stub) -> None:  # noqa: F811
    reason, message = run(stub, manifest(ODD))
    assert reason == "InternalError"
    assert "unsupported digest algorithm 'sha999'" in message


def test_a_deeply_nested_manifest_is_an_import_failure(stub: Stub) -> None:  # noqa: F811
    reason, message = run(stub, b"[" * 100_000)
    assert reason == "InternalError"
    assert "nested more than 100 levels deep" in message
