"""A binary input's config blob is read like any registry document: typed errors only.

The build pod fetches the uploaded input from the registry; a config blob of
64 KiB of brackets raised RecursionError there, a non-object AttributeError,
an unknown ``kind`` ValueError: each a traceback instead of FetchSourceFailed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from builder.api import BuildError, StatusReason
from builder.pipeline.binary_source import CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, download
from builder.registry import RegistryClient, mediatypes
from tests.unit.registry.test_client_protocol import Reply, Stub, fixed, stub  # noqa: F401

LAYER = b"not used"


def digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (b"[" * 60_000, "nested more than 100 levels deep"),
        (b"[]", "not a JSON object"),
        (b'{"kind": "nope"}', "'nope' is not a valid InputKind"),
    ],
    ids=["deep", "not-an-object", "unknown-kind"],
)
def test_a_hostile_config_is_fetch_source_failed(
    stub: Stub,  # noqa: F811
    tmp_path: Path,
    config: bytes,
    expected: str,
) -> None:
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": digest(LAYER), "size": len(LAYER)}],
    }).encode()  # fmt: skip
    stub.routes["/v2/ns/input/manifests/1"] = fixed(
        Reply(200, manifest, {"Content-Type": mediatypes.OCI_MANIFEST})
    )
    stub.routes[f"/v2/ns/input/blobs/{digest(config)}"] = fixed(Reply(200, config))
    stub.routes[f"/v2/ns/input/blobs/{digest(LAYER)}"] = fixed(Reply(200, LAYER))
    with RegistryClient() as client, pytest.raises(BuildError) as caught:
        download(client, f"{stub.host}/ns/input:1", tmp_path)
    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert expected in caught.value.detail
