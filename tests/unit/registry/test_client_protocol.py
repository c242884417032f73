"""How the client treats answers a well-behaved registry never gives.

A real distribution registry (the integration tier) cannot be made to serve
a manifest whose digest is wrong, a schema1 manifest, or a 500; a tiny local
HTTP server scripted per test can.  It is a stand-in for a broken server,
not for the registry's normal behaviour, which the integration tier covers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.registry import (
    Credential,
    CredentialStore,
    ImageNotFound,
    InvalidReferenceError,
    RegistryClient,
    RegistryProtocolError,
    RegistryUnreachable,
    Unauthorized,
    mediatypes,
)
from builder.registry.client import next_page
from builder.registry.reference import ImageReference


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[BaseHTTPRequestHandler], Reply]


@dataclass
class Stub:
    routes: dict[str, Route]
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)
    host: str = ""


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub(routes={})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            return

        def _serve(self) -> None:
            state.seen.append((self.command, self.path, self.headers.get("Authorization")))
            route = state.routes.get(self.path.split("?")[0])
            reply = route(self) if route else Reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = _serve  # noqa: N815
        do_HEAD = _serve  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.host = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "7"}}).encode()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mediatypes.DOCKER_MANIFEST,
        "config": {"mediaType": mediatypes.DOCKER_CONFIG, "digest": digest(CONFIG), "size": 1},
        "layers": [],
    }
).encode()


def fixed(reply: Reply) -> Route:
    return lambda _handler: reply


def manifest_reply(headers: dict[str, str] | None = None) -> Reply:
    return Reply(200, MANIFEST, {"Content-Type": mediatypes.DOCKER_MANIFEST, **(headers or {})})


def test_digest_computed_when_header_missing_and_checked_when_present(stub: Stub) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(manifest_reply())
    with RegistryClient() as client:
        assert client.resolve(f"{stub.host}/app:v1").digest == digest(MANIFEST)

    stub.routes["/v2/app/manifests/v1"] = fixed(
        manifest_reply({"Docker-Content-Digest": "sha256:" + "0" * 64})
    )
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="hashes to"):
        client.resolve(f"{stub.host}/app:v1")


def test_content_must_match_requested_digest(stub: Stub) -> None:
    wanted = "sha256:" + "1" * 64
    stub.routes[f"/v2/app/manifests/{wanted}"] = fixed(manifest_reply())
    with RegistryClient() as client, pytest.raises(RegistryProtocolError) as info:
        client.resolve(f"{stub.host}/app@{wanted}")
    assert wanted in info.value.detail


def test_config_blob_digest_is_checked(stub: Stub) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(manifest_reply())
    stub.routes[f"/v2/app/blobs/{digest(CONFIG)}"] = fixed(Reply(200, CONFIG + b" "))
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="hashes to"):
        client.image_config(f"{stub.host}/app:v1")
    stub.routes[f"/v2/app/blobs/{digest(CONFIG)}"] = fixed(Reply(200, CONFIG))
    with RegistryClient() as client:
        assert client.image_config(f"{stub.host}/app:v1").user == "7"


def test_blob_redirect_is_followed(stub: Stub) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(manifest_reply())
    stub.routes[f"/v2/app/blobs/{digest(CONFIG)}"] = fixed(
        Reply(307, b"", {"Location": f"http://{stub.host}/storage/config"})
    )
    stub.routes["/storage/config"] = fixed(Reply(200, CONFIG))
    with RegistryClient() as client:
        assert client.image_config(f"{stub.host}/app:v1").user == "7"
    assert ("GET", "/storage/config", None) in stub.seen


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"{not json", mediatypes.DOCKER_MANIFEST, "not valid JSON"),
        (b'{"schemaVersion": 1, "fsLayers": []}', "application/json", "schema 1"),
        (b'{"mediaType": "application/x-weird"}', "application/json", "unsupported manifest"),
        (b'{"mediaType": "' + mediatypes.OCI_MANIFEST.encode() + b'"}', "", "not a descriptor"),
    ],
)
def test_unusable_manifests(stub: Stub, body: bytes, content_type: str, fragment: str) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(Reply(200, body, {"Content-Type": content_type}))
    with RegistryClient() as client, pytest.raises(RegistryProtocolError) as info:
        client.resolve(f"{stub.host}/app:v1")
    assert fragment in info.value.detail
    assert f"{stub.host}/app:v1" in info.value.detail


def test_list_entry_that_is_not_an_image(stub: Stub) -> None:
    inner = json.dumps({"mediaType": mediatypes.OCI_INDEX, "manifests": []}).encode()
    outer = json.dumps(
        {
            "mediaType": mediatypes.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mediatypes.OCI_INDEX,
                    "digest": digest(inner),
                    "size": len(inner),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()
    stub.routes["/v2/app/manifests/v1"] = fixed(Reply(200, outer))
    stub.routes[f"/v2/app/manifests/{digest(inner)}"] = fixed(Reply(200, inner))
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="not an image"):
        client.resolve(f"{stub.host}/app:v1")


def test_oversized_manifest_is_refused(stub: Stub) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(Reply(200, b" " * (4 << 20) + b"{}"))
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="more than"):
        client.resolve(f"{stub.host}/app:v1")


@pytest.mark.parametrize(
    ("status", "error_type", "fragment"),
    [
        (500, RegistryProtocolError, "HTTP 500"),
        (503, RegistryUnreachable, "unavailable"),
        (429, RegistryProtocolError, "TOOMANYREQUESTS"),
        (403, Unauthorized, "access denied"),
    ],
)
def test_status_codes(stub: Stub, status: int, error_type: type[Exception], fragment: str) -> None:
    body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS" if status == 429 else "X"}]})
    stub.routes["/v2/app/manifests/v1"] = fixed(Reply(status, body.encode()))
    with RegistryClient() as client:
        with pytest.raises(error_type) as info:
            client.resolve(f"{stub.host}/app:v1")
        assert fragment in str(info.value)
        with pytest.raises(error_type):
            client.exists(f"{stub.host}/app:v1")


def test_not_found_distinguishes_repository_from_tag(stub: Stub) -> None:
    unknown = Reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
    stub.routes["/v2/app/manifests/v9"] = fixed(unknown)
    stub.routes["/v2/app/tags/list"] = fixed(Reply(200, b'{"name":"app","tags":["v1"]}'))
    with RegistryClient() as client:
        with pytest.raises(ImageNotFound, match="no manifest for v9"):
            client.resolve(f"{stub.host}/app:v9")
        # The stub answers NAME_UNKNOWN for everything not routed.
        with pytest.raises(ImageNotFound, match="repository other does not exist"):
            client.resolve(f"{stub.host}/other:v1")


def test_basic_challenge_sends_credentials_and_remembers(stub: Stub) -> None:
    credential = Credential("u", "p")

    def guarded(handler: BaseHTTPRequestHandler) -> Reply:
        if handler.headers.get("Authorization") != credential.basic_header():
            return Reply(401, b"", {"WWW-Authenticate": 'Basic realm="stub"'})
        return manifest_reply()

    stub.routes["/v2/app/manifests/v1"] = guarded
    with RegistryClient() as anonymous, pytest.raises(Unauthorized, match="requires a login"):
        anonymous.resolve(f"{stub.host}/app:v1")

    store = CredentialStore({stub.host: credential})
    stub.seen.clear()
    with RegistryClient(credentials=store) as client:
        client.resolve(f"{stub.host}/app:v1")
        client.resolve(f"{stub.host}/app:v1")
    # First call: anonymous, then with Basic; second call: Basic up front.
    basic = credential.basic_header()
    assert [auth for _, _, auth in stub.seen] == [None, basic, basic]


def test_401_without_challenge(stub: Stub) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(Reply(401, b""))
    with RegistryClient() as client, pytest.raises(Unauthorized, match="without saying how"):
        client.resolve(f"{stub.host}/app:v1")


def test_bearer_challenge_with_bad_realm(stub: Stub) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(
        Reply(401, b"", {"WWW-Authenticate": 'Bearer realm="/relative",service="s"'})
    )
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="realm"):
        client.resolve(f"{stub.host}/app:v1")


def test_token_server_down(stub: Stub) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(
        Reply(401, b"", {"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:9/token"'})
    )
    with RegistryClient() as client, pytest.raises(RegistryUnreachable) as info:
        client.resolve(f"{stub.host}/app:v1")
    assert "token server http://127.0.0.1:9/token" in info.value.detail
    assert "connection refused" in info.value.detail


def test_token_server_without_token(stub: Stub) -> None:
    stub.routes["/v2/app/manifests/v1"] = fixed(
        Reply(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{stub.host}/token"'})
    )
    stub.routes["/token"] = fixed(Reply(200, b'{"nothing": true}'))
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="gave no token"):
        client.resolve(f"{stub.host}/app:v1")


def test_bearer_token_and_service_and_scope_sent(stub: Stub) -> None:
    def token(handler: BaseHTTPRequestHandler) -> Reply:
        assert "service=svc" in handler.path
        assert "scope=repository%3Aorg%2Fapp%3Apull" in handler.path
        return Reply(200, b'{"access_token": "tok-1", "expires_in": 300}')

    def guarded(handler: BaseHTTPRequestHandler) -> Reply:
        if handler.headers.get("Authorization") != "Bearer tok-1":
            challenge = f'Bearer realm="http://{stub.host}/token",service="svc"'
            return Reply(401, b"", {"WWW-Authenticate": challenge})
        return manifest_reply()

    stub.routes["/token"] = token
    stub.routes["/v2/org/app/manifests/v1"] = guarded
    with RegistryClient() as client:
        assert client.resolve(f"{stub.host}/org/app:v1").digest == digest(MANIFEST)
        assert client.exists(f"{stub.host}/org/app:v1")
    paths = [path.split("?")[0] for _, path, _ in stub.seen]
    assert paths.count("/token") == 1


@pytest.mark.parametrize(("realm_host", "sent"), [("127.0.0.1", True), ("localhost", False)])
def test_credentials_go_to_a_plain_http_realm_only_if_it_is_insecure(
    stub: Stub, realm_host: str, sent: bool
) -> None:
    """A registry's 401 may name any token realm: a password crosses plain HTTP
    only to a host configured insecure (here 127.0.0.1; loopback is not implied)."""
    credential = Credential("u", "p")
    port = stub.host.rpartition(":")[2]

    def token(handler: BaseHTTPRequestHandler) -> Reply:
        return Reply(200, b'{"token": "tok-1", "expires_in": 300}')

    def guarded(handler: BaseHTTPRequestHandler) -> Reply:
        if handler.headers.get("Authorization") != "Bearer tok-1":
            challenge = f'Bearer realm="http://{realm_host}:{port}/token",service="svc"'
            return Reply(401, b"", {"WWW-Authenticate": challenge})
        return manifest_reply()

    stub.routes["/token"] = token
    stub.routes["/v2/app/manifests/v1"] = guarded
    store = CredentialStore({stub.host: credential})
    with RegistryClient(credentials=store, insecure=["127.0.0.1"], insecure_loopback=False) as c:
        c.resolve(f"{stub.host}/app:v1")
    token_auth = [auth for _, path, auth in stub.seen if path.startswith("/token")]
    assert token_auth == [credential.basic_header() if sent else None]


def _tags_page(tags: list[str], link: str = "") -> Route:
    headers = {"Content-Type": "application/json", **({"Link": link} if link else {})}
    return fixed(Reply(200, json.dumps({"name": "app", "tags": tags}).encode(), headers))


# -- a hostile registry: typed errors only, no request it did not earn ---------------


def test_deeply_nested_bodies_are_protocol_errors(stub: Stub) -> None:
    # RecursionError out of json, for the manifest and for an error body alike.
    stub.routes["/v2/app/manifests/v1"] = fixed(Reply(200, b"[" * 100_000))
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="nested"):
        client.resolve(f"{stub.host}/app:v1")
    stub.routes["/v2/app/manifests/v1"] = fixed(Reply(404, b"[" * 60_000))
    stub.routes["/v2/app/tags/list"] = fixed(Reply(404, b"[" * 60_000))  # under the 64 KiB cap
    with RegistryClient() as client, pytest.raises(ImageNotFound):
        client.resolve(f"{stub.host}/app:v1")


def tags_page(tags: list[object], link: str | None) -> Route:
    headers = {"Link": link} if link is not None else {}
    return fixed(Reply(200, json.dumps({"name": "app", "tags": tags}).encode(), headers))


@pytest.mark.parametrize(
    "link",
    [
        # Another host: the registry's credentials would go with the request.
        '<http://127.0.0.1:1/v2/app/tags/list?n=2&last=b>; rel="next"',
        '<//127.0.0.1:1/v2/app/tags/list?last=b>; rel="next"',
        # Another path of the same registry.
        '</v2/other/tags/list?last=b>; rel="next"',
        '</v2/app/manifests/x>; rel="next"',
        # Not a URL at all (urlsplit raises ValueError for it).
        '<http://[::1/v2/app/tags/list>; rel="next"',
    ],
)
def test_a_tag_list_link_elsewhere_is_refused(stub: Stub, link: str) -> None:
    stub.routes["/v2/app/tags/list"] = tags_page(["a", "b"], link)
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="next page"):
        client.list_tags(f"{stub.host}/app")
    assert [path for _, path, _ in stub.seen] == ["/v2/app/tags/list?n=1000"]


def test_tag_list_pages_are_followed(stub: Stub) -> None:
    def pages(handler: BaseHTTPRequestHandler) -> Reply:
        if "last=b" in handler.path:
            return tags_page(["c"], None)(handler)
        link = f'<http://{stub.host}/v2/app/tags/list?n=2&last=b>; rel="next", <x>; rel="prev"'
        return tags_page(["a", "b"], link)(handler)

    stub.routes["/v2/app/tags/list"] = pages
    with RegistryClient() as client:
        assert client.list_tags(f"{stub.host}/app") == ["a", "b", "c"]


def test_an_empty_page_ends_the_tag_list(stub: Stub) -> None:
    # Linking to itself forever with no tags held the import forever.
    stub.routes["/v2/app/tags/list"] = tags_page([], '</v2/app/tags/list?n=1000>; rel="next"')
    with RegistryClient() as client:
        assert client.list_tags(f"{stub.host}/app") == []
    assert len(stub.seen) == 1


def test_a_page_repeating_itself_is_read_once(stub: Stub) -> None:
    stub.routes["/v2/app/tags/list"] = _tags_page(
        ["a", "b"], '</v2/app/tags/list?n=1000&last=b>; rel="next"'
    )
    with RegistryClient(insecure=[stub.host]) as client:
        assert client.list_tags(f"{stub.host}/app") == ["a", "b"]
    assert len(stub.seen) == 2


def test_page_count_is_capped(stub: Stub) -> None:
    counter = {"n": 0}

    def endless(_handler: BaseHTTPRequestHandler) -> Reply:
        counter["n"] += 1
        tag = f"t{counter['n']}"
        link = f'</v2/app/tags/list?last={tag}>; rel="next"'
        return Reply(200, json.dumps({"tags": [tag]}).encode(), {"Link": link})

    stub.routes["/v2/app/tags/list"] = endless
    with RegistryClient(insecure=[stub.host]) as client:
        tags = client.list_tags(f"{stub.host}/app", limit=100_000)
    assert len(tags) == 100
    assert counter["n"] == 100


def test_tags_must_be_strings(stub: Stub) -> None:
    stub.routes["/v2/app/tags/list"] = tags_page(["a", ["b"], {"c": 1}], None)
    with RegistryClient() as client, pytest.raises(RegistryProtocolError, match="not strings"):
        client.list_tags(f"{stub.host}/app")


LINK_PARTS = st.sampled_from(
    ["<", ">", ";", ",", " ", 'rel="next"', "rel=next", "rel=prev", "/v2/app/tags/list",
     "?n=1&last=a", "http://", "//", "[::1", "]", "127.0.0.1:1", "#f", "%", "\\"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(link=st.lists(LINK_PARTS, max_size=10).map("".join) | st.text(max_size=60))
def test_property_link_headers(link: str) -> None:
    ref = ImageReference.parse("127.0.0.1:5000/app:1")
    try:
        path = next_page(ref, link)
    except RegistryProtocolError:
        return
    assert path is None or path.split("?")[0] == "/v2/app/tags/list"


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the read-ahead never reached the registry"
        time.sleep(0.01)


def test_a_read_ahead_runs_in_the_background_and_answers_the_next_read_once(stub: Stub) -> None:
    credential = Credential("u", "p")

    def guarded(reply: Reply) -> Route:
        def route(handler: BaseHTTPRequestHandler) -> Reply:
            if handler.headers.get("Authorization") != credential.basic_header():
                return Reply(401, b"", {"WWW-Authenticate": 'Basic realm="stub"'})
            return reply

        return route

    stub.routes["/v2/app/manifests/v1"] = guarded(manifest_reply())
    stub.routes[f"/v2/app/blobs/{digest(CONFIG)}"] = guarded(Reply(200, CONFIG))
    blob_read = ("GET", f"/v2/app/blobs/{digest(CONFIG)}", credential.basic_header())
    with RegistryClient(credentials=CredentialStore({stub.host: credential})) as client:
        client.read_ahead(f"{stub.host}/app:v1")
        # Read before anyone asks, with the client's own credentials.
        _wait_for(lambda: blob_read in stub.seen)
        assert client.image_config(f"{stub.host}/app:v1").user == "7"
        assert stub.seen.count(blob_read) == 1

        # The tag moves: the next read asks the registry again.
        moved = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "8"}})
        body = json.loads(MANIFEST)
        body["config"]["digest"] = digest(moved.encode())
        stub.routes["/v2/app/manifests/v1"] = guarded(
            Reply(200, json.dumps(body).encode(), {"Content-Type": mediatypes.DOCKER_MANIFEST})
        )
        stub.routes[f"/v2/app/blobs/{digest(moved.encode())}"] = guarded(Reply(200, moved.encode()))
        assert client.image_config(f"{stub.host}/app:v1").user == "8"


def test_a_read_ahead_failure_is_raised_where_the_config_is_asked(stub: Stub) -> None:
    with RegistryClient() as client:
        client.read_ahead(f"{stub.host}/missing:v1")
        with pytest.raises(ImageNotFound):
            client.image_config(f"{stub.host}/missing:v1")
        reads = len(stub.seen)
        # Raised once; the next call is a read of its own.
        with pytest.raises(ImageNotFound):
            client.image_config(f"{stub.host}/missing:v1")
        assert len(stub.seen) > reads
        # A reference that does not parse is refused where it is used.
        client.read_ahead("Not A Reference")
        with pytest.raises(InvalidReferenceError):
            client.image_config("Not A Reference")
