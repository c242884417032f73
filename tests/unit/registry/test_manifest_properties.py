"""A hostile registry's manifests, indexes and configs: ``DocumentError`` and nothing else.

The client turns that ``DocumentError`` into a ``RegistryProtocolError`` naming
the image, so an import ends with a typed condition; anything else would
escape the importer.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.registry import DocumentError, mediatypes
from builder.registry.image_config import parse_image_config
from builder.registry.manifest import (
    MAX_DESCRIPTORS,
    detect_media_type,
    load_json_object,
    parse_image_manifest,
    parse_manifest_list,
)
from tests.support.jsontree import paths, replaced

GOOD = "sha256:" + "a" * 64
LAYER = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": GOOD, "size": 3}
MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": mediatypes.OCI_MANIFEST,
    "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": GOOD, "size": 2},
    "layers": [LAYER],
}
INDEX: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": mediatypes.OCI_INDEX,
    "manifests": [{**LAYER, "platform": {"os": "linux", "architecture": "amd64"}}],
}
CONFIG: dict[str, Any] = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-01-01T00:00:00.123456789Z",
    "config": {
        "User": "1001",
        "Env": ["A=1"],
        "Cmd": ["run"],
        "Labels": {"io.openshift.s2i.scripts-url": "image:///s2i"},
        "ExposedPorts": {"8080/tcp": {}},
        "WorkingDir": "/app",
    },
}


def read_all(body: bytes) -> None:
    """Everything the client does with a manifest or config body; every DocumentError."""
    document = load_json_object(body, "manifest")
    problems: list[DocumentError] = []
    steps = [
        lambda: detect_media_type(document, "application/json"),
        lambda: parse_manifest_list(document),
        lambda: parse_image_manifest(document),
        lambda: parse_image_config(document, manifest_digest=GOOD, config_digest=GOOD),
    ]
    for step in steps:
        try:
            step()
        except DocumentError as err:
            problems.append(err)
    if problems:
        raise DocumentError("; ".join(str(p) for p in problems))


def with_layer_digest(digest: object) -> bytes:
    return json.dumps({**MANIFEST, "layers": [{**LAYER, "digest": digest}]}).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # RecursionError out of json.
        (b"[" * 100_000, "nested more than 100 levels deep"),
        (b'{"layers": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested more than 100 levels deep"),
        # Digests that were passed on to request paths and hashlib.new().
        (with_layer_digest("sha999:" + "a" * 64), "unsupported digest algorithm 'sha999'"),
        (with_layer_digest("sha256:../../../v2/other/blobs/x"), "malformed digest"),
        (with_layer_digest("sha256:" + "A" * 64), "lower-case hex"),
        (with_layer_digest("sha256:abc?mount=x"), "malformed digest"),
        (
            json.dumps({**MANIFEST, "layers": [LAYER] * (MAX_DESCRIPTORS + 1)}).encode(),
            f"more than {MAX_DESCRIPTORS}",
        ),
        (
            json.dumps({**INDEX, "manifests": INDEX["manifests"] * (MAX_DESCRIPTORS + 1)}).encode(),
            f"more than {MAX_DESCRIPTORS}",
        ),
        (b'{"layers": [' + b"1" * 5000 + b"]}", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
    ids=[
        "deep",
        "deep-layers",
        "unknown-algorithm",
        "path-in-digest",
        "upper-case-hex",
        "query-in-digest",
        "too-many-layers",
        "too-many-entries",
        "long-integer",
        "not-utf8",
    ],
)
def test_hostile_manifests(body: bytes, expected: str) -> None:
    with pytest.raises(DocumentError, match=expected):
        read_all(body)


PROPERTY = settings(max_examples=150, deadline=None)

JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from([GOOD, "sha512:" + "b" * 128, "sha999:1", "linux", "2024-13-45T99:99:99Z"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


def only_document_errors(body: bytes) -> None:
    with contextlib.suppress(DocumentError):
        read_all(body)


@PROPERTY
@given(body=st.binary(max_size=300) | st.text(alphabet='[]{}",:\\1a', max_size=300).map(str.encode))
def test_property_arbitrary_bodies(body: bytes) -> None:
    only_document_errors(body)


DOCUMENTS = [MANIFEST, INDEX, CONFIG]
PATHS = [(i, p) for i, doc in enumerate(DOCUMENTS) for p in paths(doc)[1:]]


@PROPERTY
@given(where=st.sampled_from(PATHS), junk=JUNK)
def test_property_a_document_with_one_part_replaced(
    where: tuple[int, tuple[Any, ...]], junk: Any
) -> None:
    number, path = where
    only_document_errors(json.dumps(replaced(DOCUMENTS[number], path, junk)).encode())
