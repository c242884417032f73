from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest

from builder.registry import httpconn, mediatypes
from builder.registry.image_config import parse_created, parse_image_config
from builder.registry.manifest import (
    Descriptor,
    Platform,
    compute_digest,
    detect_media_type,
    load_json_object,
    parse_image_manifest,
    parse_manifest_list,
    select_platform,
)
from builder.registry.transport import (
    api_host,
    describe_connection_error,
    insecure_policy,
    split_host_port,
)

D = "sha256:" + "1" * 64


def entry(platform: str, digest_char: str) -> Descriptor:
    return Descriptor(
        mediatypes.OCI_MANIFEST, "sha256:" + digest_char * 64, 1, Platform.parse(platform)
    )


ENTRIES = (
    entry("linux/arm/v6", "a"),
    entry("linux/arm/v7", "b"),
    entry("linux/arm64/v8", "c"),
    entry("linux/amd64", "d"),
    entry("windows/amd64", "e"),
    Descriptor(mediatypes.OCI_MANIFEST, "sha256:" + "f" * 64, 1, Platform("unknown", "unknown")),
)


@pytest.mark.parametrize(
    ("wanted", "expected_char"),
    [
        ("linux/amd64", "d"),
        ("windows/amd64", "e"),
        ("linux/arm64", "c"),  # arm64 implies v8
        ("linux/arm64/v8", "c"),
        ("linux/arm/v7", "b"),
        ("linux/arm", "a"),  # no variant asked: first arm entry
        ("linux/arm/v6", "a"),
        ("linux/s390x", None),
        ("linux/arm/v5", None),
    ],
)
def test_select_platform(wanted: str, expected_char: str | None) -> None:
    chosen = select_platform(ENTRIES, Platform.parse(wanted))
    if expected_char is None:
        assert chosen is None
    else:
        assert chosen is not None
        assert chosen.digest == "sha256:" + expected_char * 64


def test_select_platform_prefers_exact_variant() -> None:
    entries = (entry("linux/arm64", "1"), entry("linux/arm64/v8", "2"))
    assert select_platform(entries, Platform.parse("linux/arm64/v8")) == entries[1]
    assert select_platform(entries, Platform.parse("linux/arm64")) == entries[0]


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "a/b/c/d", ""])
def test_platform_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="os/arch"):
        Platform.parse(text)


@pytest.mark.parametrize(
    ("document", "content_type", "expected"),
    [
        ({"mediaType": mediatypes.DOCKER_MANIFEST}, "application/json", mediatypes.DOCKER_MANIFEST),
        ({"schemaVersion": 2}, mediatypes.OCI_INDEX + "; charset=utf-8", mediatypes.OCI_INDEX),
        ({"schemaVersion": 2, "manifests": []}, "text/plain", mediatypes.OCI_INDEX),
        ({"config": {}, "layers": []}, None, mediatypes.OCI_MANIFEST),
        ({"schemaVersion": 1, "fsLayers": []}, None, mediatypes.DOCKER_MANIFEST_SCHEMA1),
    ],
)
def test_detect_media_type(
    document: dict[str, object], content_type: str | None, expected: str
) -> None:
    assert detect_media_type(document, content_type) == expected


def test_detect_media_type_unknown() -> None:
    with pytest.raises(ValueError, match="cannot tell"):
        detect_media_type({"schemaVersion": 2}, "application/json")


def test_parse_image_manifest_and_errors() -> None:
    document = {
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": D, "size": 7},
        "layers": [{"mediaType": "x", "digest": D, "size": 3}],
    }
    config, layers = parse_image_manifest(document)
    assert config == Descriptor(mediatypes.OCI_CONFIG, D, 7)
    assert layers == (Descriptor("x", D, 3),)
    with pytest.raises(ValueError, match="no layers"):
        parse_image_manifest({"config": document["config"]})
    with pytest.raises(ValueError, match="config has no valid digest"):
        parse_image_manifest({"config": {"size": 1}, "layers": []})
    with pytest.raises(ValueError, match="valid size"):
        parse_image_manifest({"config": {"digest": D, "size": True}, "layers": []})
    with pytest.raises(ValueError, match="manifests array"):
        parse_manifest_list({"manifests": {}})


def test_load_json_object() -> None:
    assert load_json_object(b'{"a": 1}', "x") == {"a": 1}
    with pytest.raises(ValueError, match="manifest is not valid JSON"):
        load_json_object(b"\xff", "manifest")
    with pytest.raises(ValueError, match="not a JSON object"):
        load_json_object(b"[1]", "manifest")


def test_compute_digest_matches_known_value() -> None:
    # sha256 of the empty string, a value every registry client knows.
    assert compute_digest(b"") == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_parse_image_config_full() -> None:
    document = json.loads(
        """{
        "created": "2024-05-06T07:08:09.123456789Z",
        "architecture": "arm64", "os": "linux", "variant": "v8",
        "config": {
            "User": "1001", "Env": ["PATH=/usr/bin", "A=1", "A=2=3"],
            "Cmd": ["/run"], "Entrypoint": null, "WorkingDir": "/opt/app",
            "ExposedPorts": {"8080/tcp": {}, "53/udp": {}, "9000": {}},
            "Labels": {"io.openshift.s2i.scripts-url": "image:///usr/libexec/s2i"}
        }}"""
    )
    config = parse_image_config(document, manifest_digest="m", config_digest="c")
    assert config.user == "1001"
    assert config.labels == {"io.openshift.s2i.scripts-url": "image:///usr/libexec/s2i"}
    assert config.env_map == {"PATH": "/usr/bin", "A": "2=3"}
    assert config.cmd == ("/run",)
    assert config.entrypoint is None
    assert config.workdir == "/opt/app"
    assert config.exposed_ports == ("53/udp", "8080/tcp", "9000/tcp")
    assert config.created == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert (config.architecture, config.os, config.variant) == ("arm64", "linux", "v8")
    assert (config.manifest_digest, config.config_digest) == ("m", "c")


def test_parse_image_config_sloppy_nulls() -> None:
    config = parse_image_config(
        {"config": {"Labels": None, "ExposedPorts": None, "Env": None}},
        manifest_digest="m",
        config_digest="c",
    )
    assert config.labels == {}
    assert config.exposed_ports == ()
    assert config.env == ()
    assert config.user == ""
    assert config.created is None
    assert parse_image_config({}, manifest_digest="m", config_digest="c").labels == {}


@pytest.mark.parametrize(
    "document",
    [
        {"config": []},
        {"config": {"Labels": {"a": 1}}},
        {"config": {"Cmd": "not-a-list"}},
        {"config": {"User": 1001}},
    ],
)
def test_parse_image_config_wrong_types(document: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="config"):
        parse_image_config(document, manifest_digest="m", config_digest="c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05.5+00:00", datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
        ("garbage", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_created(text: str | None, expected: datetime | None) -> None:
    assert parse_created(text) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("quay.io", ("quay.io", None)),
        ("127.0.0.1:5000", ("127.0.0.1", "5000")),
        ("[::1]:5000", ("::1", "5000")),
        ("[::1]", ("::1", None)),
    ],
)
def test_split_host_port(host: str, expected: tuple[str, str | None]) -> None:
    assert split_host_port(host) == expected


def test_insecure_policy() -> None:
    default = insecure_policy(None)
    assert default("localhost:5000")
    assert default("127.0.0.1:5000")
    assert default("127.0.0.2")
    assert default("[::1]:5000")
    assert not default("quay.io")
    assert not insecure_policy(None, loopback=False)("127.0.0.1:5000")

    listed = insecure_policy({"reg.local", "other.local:5000"}, loopback=False)
    assert listed("reg.local")
    assert listed("reg.local:8443")  # no port listed: every port
    assert listed("other.local:5000")
    assert not listed("other.local:5001")
    assert not listed("quay.io")

    predicate = insecure_policy(lambda host: host.endswith(".test"), loopback=False)
    assert predicate("a.test")
    assert not predicate("a.io")


def test_api_host() -> None:
    assert api_host("docker.io") == "registry-1.docker.io"
    assert api_host("quay.io") == "quay.io"


def test_describe_connection_error_refused_and_dns() -> None:
    # A port nothing listens on: bind, note the port, close.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = httpconn.Session(timeout=5, user_agent="test")
    with pytest.raises(httpconn.ConnectError) as refused:
        session.request("GET", f"http://127.0.0.1:{port}/v2/", headers={}, verify=True)
    assert describe_connection_error(refused.value) == "connection refused"

    with pytest.raises(httpconn.ConnectError) as dns:
        session.request("GET", "http://no-such-host.invalid/v2/", headers={}, verify=True)
    assert describe_connection_error(dns.value) == "host name does not resolve"
