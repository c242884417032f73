"""RegistryClient against a real distribution registry and images pushed by buildah.

Expected digests come from buildah's ``--digestfile`` and ``skopeo inspect``,
never from the client under test.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from builder.api import BuildError, StatusReason
from builder.registry import (
    Credential,
    CredentialStore,
    ImageNotFound,
    ImageReference,
    PlatformNotFound,
    RegistryClient,
    RegistryUnreachable,
    Unauthorized,
    mediatypes,
)
from tests.support.images import ImageBuilder, PushedImage, run, skopeo_inspect
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

PushImage = Callable[..., PushedImage]


@pytest.fixture
def client() -> Iterator[RegistryClient]:
    with RegistryClient(timeout=10) as registry_client:
        yield registry_client


def raw_manifest(reference: str, creds: tuple[str, str] | None = None) -> dict[str, object]:
    return skopeo_inspect(reference, raw=True, creds=creds)


def one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text
    assert "Traceback" not in text
    return text


# -- resolve -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("push_format", "media_type"),
    [("oci", mediatypes.OCI_MANIFEST), ("docker", mediatypes.DOCKER_MANIFEST)],
)
def test_resolve_digest_matches_buildah_and_skopeo(
    client: RegistryClient,
    push_image: PushImage,
    unique_repo: str,
    push_format: str,
    media_type: str,
) -> None:
    pushed = push_image(unique_repo, "v1", format=push_format)
    skopeo_digest = skopeo_inspect(pushed.reference)["Digest"]
    assert pushed.digest == skopeo_digest  # the two tools agree, so the oracle is sound

    info = client.resolve(pushed.reference)

    assert info.digest == pushed.digest
    assert info.top_digest == pushed.digest
    assert info.list_digest is None
    assert info.media_type == media_type
    raw = raw_manifest(pushed.reference)
    config = raw["config"]
    assert isinstance(config, dict)
    assert info.config.digest == config["digest"]
    assert len(info.layers) == 1
    assert info.reference == ImageReference.parse(pushed.reference)
    assert str(info.pinned) == f"{pushed.reference}@{pushed.digest}"


def test_resolve_by_digest(client: RegistryClient, push_image: PushImage, unique_repo: str) -> None:
    pushed = push_image(unique_repo)
    info = client.resolve(pushed.by_digest)
    assert info.digest == pushed.digest
    assert info.reference.tag is None

    other = "sha256:" + "0" * 64
    with pytest.raises(ImageNotFound) as missing:
        client.resolve(f"{pushed.reference.rpartition(':')[0]}@{other}")
    assert other in one_line(missing.value)


def test_distinct_images_have_distinct_digests(
    client: RegistryClient, push_image: PushImage, unique_repo: str
) -> None:
    first = push_image(unique_repo, "a", labels={"n": "1"})
    second = push_image(unique_repo, "b", labels={"n": "2"})
    assert first.digest != second.digest
    assert client.resolve(first.reference).digest == first.digest
    assert client.resolve(second.reference).digest == second.digest


# -- image config --------------------------------------------------------------


@pytest.mark.parametrize("push_format", ["oci", "docker"])
def test_image_config_reads_back_what_buildah_set(
    client: RegistryClient, push_image: PushImage, unique_repo: str, push_format: str
) -> None:
    labels = {
        "io.openshift.s2i.scripts-url": "image:///usr/libexec/s2i",
        "io.openshift.s2i.assemble-user": "1002",
    }
    pushed = push_image(
        unique_repo,
        format=push_format,
        labels=labels,
        user="1001:0",
        env={"APP_ROOT": "/opt/app-root", "HOME": "/opt/app-root/src"},
        cmd=["/usr/libexec/s2i/usage"],
        entrypoint=["/bin/entry", "--flag"],
        workdir="/opt/app-root/src",
        ports=["8080/tcp", "8443"],
    )

    config = client.image_config(pushed.reference)

    assert config.manifest_digest == pushed.digest
    assert config.labels.items() >= labels.items()
    assert config.user == "1001:0"
    assert config.env_map["APP_ROOT"] == "/opt/app-root"
    assert config.env_map["HOME"] == "/opt/app-root/src"
    assert config.cmd == ("/usr/libexec/s2i/usage",)
    assert config.entrypoint == ("/bin/entry", "--flag")
    assert config.workdir == "/opt/app-root/src"
    assert set(config.exposed_ports) == {"8080/tcp", "8443/tcp"}
    assert (config.os, config.architecture) == ("linux", "amd64")
    assert config.created is not None
    # skopeo's view of the same config blob.
    skopeo_config = skopeo_inspect(pushed.reference)
    assert skopeo_config["Labels"] == dict(config.labels)
    assert config.config_digest == client.resolve(pushed.reference).config.digest


def test_image_config_without_user_or_labels(
    client: RegistryClient, push_image: PushImage, unique_repo: str
) -> None:
    pushed = push_image(unique_repo)
    config = client.image_config(pushed.reference)
    assert config.user == ""
    assert config.cmd is None
    assert "io.openshift.s2i.scripts-url" not in config.labels


# -- manifest lists ------------------------------------------------------------


@pytest.mark.parametrize(
    ("push_format", "list_type"),
    [("oci", mediatypes.OCI_INDEX), ("v2s2", mediatypes.DOCKER_MANIFEST_LIST)],
)
def test_manifest_list_resolves_to_platform(
    client: RegistryClient,
    push_manifest_list: PushImage,
    unique_repo: str,
    push_format: str,
    list_type: str,
) -> None:
    pushed = push_manifest_list(unique_repo, "multi", format=push_format)
    assert set(pushed.members) == {"linux/amd64", "linux/arm64"}
    assert pushed.digest == skopeo_inspect(pushed.reference)["Digest"]

    amd64 = client.resolve(pushed.reference)
    assert amd64.digest == pushed.members["linux/amd64"]
    assert amd64.list_digest == pushed.digest
    assert amd64.top_digest == pushed.digest
    assert amd64.list_media_type == list_type
    assert amd64.media_type in mediatypes.IMAGE_MANIFESTS
    assert str(amd64.platform) == "linux/amd64"

    arm64 = client.resolve(pushed.reference, platform="linux/arm64")
    assert arm64.digest == pushed.members["linux/arm64"]
    assert arm64.digest != amd64.digest

    config = client.image_config(pushed.reference, platform="linux/arm64")
    assert config.labels["test.platform"] == "linux/arm64"
    assert config.architecture == "arm64"
    assert config.list_digest == pushed.digest
    assert client.image_config(pushed.reference).labels["test.platform"] == "linux/amd64"


def test_manifest_list_by_digest_and_missing_platform(
    client: RegistryClient, push_manifest_list: PushImage, unique_repo: str
) -> None:
    pushed = push_manifest_list(unique_repo, platforms=("linux/arm64", "linux/ppc64le"))
    assert (
        client.resolve(pushed.by_digest, "linux/ppc64le").digest
        == (pushed.members["linux/ppc64le"])
    )
    with pytest.raises(PlatformNotFound) as info:
        client.resolve(pushed.reference)  # default linux/amd64 is not in the list
    message = one_line(info.value)
    assert "linux/amd64" in message
    assert "linux/arm64, linux/ppc64le" in message
    assert isinstance(info.value, ImageNotFound)


# -- not found / exists ----------------------------------------------------------


def test_unknown_tag_and_repository(
    client: RegistryClient, registry: RunningRegistry, push_image: PushImage, unique_repo: str
) -> None:
    pushed = push_image(unique_repo, "exists")
    missing_tag = f"{registry.host}/{unique_repo}:nope"
    with pytest.raises(ImageNotFound) as tag_info:
        client.resolve(missing_tag)
    message = one_line(tag_info.value)
    assert missing_tag in message
    assert f"on {registry.host}" in message
    assert tag_info.value.reference == missing_tag
    assert tag_info.value.registry == registry.host
    assert tag_info.value.reason is StatusReason.PULL_BUILDER_IMAGE_FAILED

    assert "no manifest for nope" in message

    with pytest.raises(ImageNotFound, match=f"repository {unique_repo}-never-pushed does not"):
        client.image_config(f"{registry.host}/{unique_repo}-never-pushed:v1")

    assert client.exists(pushed.reference)
    assert client.exists(pushed.by_digest)
    assert not client.exists(missing_tag)
    assert not client.exists(f"{registry.host}/{unique_repo}-never-pushed")


def test_registry_errors_are_build_errors(
    client: RegistryClient, registry: RunningRegistry
) -> None:
    with pytest.raises(BuildError) as info:
        client.resolve(f"{registry.host}/kbuild-test/absent:v1")
    assert str(info.value).startswith("PullBuilderImageFailed: image ")


# -- unreachable ---------------------------------------------------------------


def test_stopped_registry_is_unreachable(
    client: RegistryClient,
    registry_factory: Callable[..., RunningRegistry],
    image_builder: ImageBuilder,
) -> None:
    doomed = registry_factory()
    pushed = image_builder.build_and_push(f"{doomed.host}/app/x:v1")
    assert client.resolve(pushed.reference).digest == pushed.digest
    doomed.stop()

    for call in (client.resolve, client.image_config, client.exists):
        with pytest.raises(RegistryUnreachable) as info:
            call(pushed.reference)
        message = one_line(info.value)
        assert "connection refused" in message
        assert doomed.host in message
    # A fresh client (no remembered scheme) fails the same way.
    with RegistryClient(timeout=5) as fresh, pytest.raises(RegistryUnreachable):
        fresh.resolve(pushed.reference)


def test_unanswering_server_times_out() -> None:
    # Listening but never accepting: TCP connects, the HTTP answer never comes.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        host = f"127.0.0.1:{server.getsockname()[1]}"
        with RegistryClient(timeout=0.5) as slow, pytest.raises(RegistryUnreachable) as info:
            slow.resolve(f"{host}/app:v1")
    assert "timed out" in one_line(info.value)


def test_unresolvable_host() -> None:
    with RegistryClient(timeout=5) as dns, pytest.raises(RegistryUnreachable) as info:
        dns.resolve("no-such-registry.invalid/app:v1")
    assert "does not resolve" in one_line(info.value)


# -- Basic auth (htpasswd) -------------------------------------------------------


def test_htpasswd_registry(
    htpasswd_registry: RunningRegistry, image_builder: ImageBuilder, unique_repo: str
) -> None:
    creds = htpasswd_registry.credentials
    reference = f"{htpasswd_registry.host}/{unique_repo}:v1"
    pushed = image_builder.build_and_push(reference, creds=creds, labels={"auth": "basic"})

    with RegistryClient(timeout=10) as anonymous, pytest.raises(Unauthorized) as info:
        anonymous.resolve(reference)
    message = one_line(info.value)
    assert reference in message
    assert "no credentials" in message

    wrong = CredentialStore({htpasswd_registry.host: Credential(creds[0], "wrong")})
    with RegistryClient(credentials=wrong, timeout=10) as bad, pytest.raises(Unauthorized) as info:
        bad.resolve(reference)
    assert "not accepted" in one_line(info.value)

    store = CredentialStore({f"https://{htpasswd_registry.host}": Credential(*creds)})
    with RegistryClient(credentials=store, timeout=10) as good:
        assert good.resolve(reference).digest == pushed.digest
        assert good.image_config(reference).labels["auth"] == "basic"
        assert good.exists(reference)
        assert not good.exists(f"{htpasswd_registry.host}/{unique_repo}:missing")


def test_htpasswd_credentials_from_mounted_secret(
    htpasswd_registry: RunningRegistry,
    image_builder: ImageBuilder,
    unique_repo: str,
    tmp_path: Path,
) -> None:
    user, password = htpasswd_registry.credentials
    reference = f"{htpasswd_registry.host}/{unique_repo}:v1"
    pushed = image_builder.build_and_push(reference, creds=(user, password))
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (tmp_path / ".dockerconfigjson").write_text(
        json.dumps({"auths": {htpasswd_registry.host: {"auth": auth}}})
    )
    store = CredentialStore.from_secret_dir(tmp_path)
    with RegistryClient(credentials=store, timeout=10) as secret_client:
        assert secret_client.resolve(reference).digest == pushed.digest


# -- Bearer token auth ---------------------------------------------------------------


def test_token_registry_bearer_flow(
    token_registry: RunningRegistry, image_builder: ImageBuilder, unique_repo: str
) -> None:
    server = token_registry.token_server
    assert server is not None
    creds = token_registry.credentials
    reference = f"{token_registry.host}/{unique_repo}:v1"
    pushed = image_builder.build_and_push(reference, creds=creds, user="4242")
    scope = f"repository:{unique_repo}:pull"

    # Anonymous: the token server hands out a token with no access; the registry refuses it.
    with RegistryClient(timeout=10) as anonymous, pytest.raises(Unauthorized) as info:
        anonymous.resolve(reference)
    assert "no credentials" in one_line(info.value)
    anonymous_requests = server.requests_for(scope)
    assert anonymous_requests
    assert all(r.user is None for r in anonymous_requests)
    assert {r.service for r in anonymous_requests} == {server.service}

    store = CredentialStore({token_registry.host: Credential(*creds)})
    before = len(server.requests_for(scope))
    with RegistryClient(credentials=store, timeout=10) as good:
        assert good.resolve(reference).digest == pushed.digest
        assert good.image_config(reference).user == "4242"
        assert good.exists(reference)
        assert good.resolve(pushed.by_digest).digest == pushed.digest
    issued = server.requests_for(scope)[before:]
    # One token served all four calls: it was cached per (realm, service, scope).
    assert [(r.user, r.status) for r in issued] == [(creds[0], 200)]


def test_token_registry_rejects_wrong_password(
    token_registry: RunningRegistry, unique_repo: str
) -> None:
    user = token_registry.credentials[0]
    store = CredentialStore({token_registry.host: Credential(user, "not-the-password-42")})
    with RegistryClient(credentials=store, timeout=10) as bad, pytest.raises(Unauthorized) as info:
        bad.resolve(f"{token_registry.host}/{unique_repo}:v1")
    message = one_line(info.value)
    assert "token server" in message
    assert repr(user) in message
    assert "not-the-password-42" not in message


def test_token_is_per_repository(
    token_registry: RunningRegistry, image_builder: ImageBuilder, unique_repo: str
) -> None:
    server = token_registry.token_server
    assert server is not None
    creds = token_registry.credentials
    first = image_builder.build_and_push(f"{token_registry.host}/{unique_repo}-a:v1", creds=creds)
    second = image_builder.build_and_push(f"{token_registry.host}/{unique_repo}-b:v1", creds=creds)
    store = CredentialStore({token_registry.host: Credential(*creds)})
    with RegistryClient(credentials=store, timeout=10) as good:
        assert good.resolve(first.reference).digest == first.digest
        assert good.resolve(second.reference).digest == second.digest
    for repo in (f"{unique_repo}-a", f"{unique_repo}-b"):
        pulls = [r for r in server.requests_for(f"repository:{repo}:pull") if r.user == creds[0]]
        assert len(pulls) == 1


# -- TLS and insecure registries ------------------------------------------------------


def test_tls_registry_verification(
    registry_factory: Callable[..., RunningRegistry], image_builder: ImageBuilder
) -> None:
    tls = registry_factory(tls=True)
    assert tls.ca_cert is not None
    pushed = image_builder.build_and_push(f"{tls.host}/app/tls:v1")

    # Loopback is insecure by default: HTTPS without verification.
    with RegistryClient(timeout=10) as default:
        assert default.resolve(pushed.reference).digest == pushed.digest

    with RegistryClient(timeout=10, insecure_loopback=False) as strict:
        with pytest.raises(RegistryUnreachable) as info:
            strict.resolve(pushed.reference)
        assert "certificate verify failed" in one_line(info.value)

    with RegistryClient(timeout=10, insecure_loopback=False, ca_bundle=str(tls.ca_cert)) as ca:
        assert ca.resolve(pushed.reference).digest == pushed.digest

    listed = RegistryClient(timeout=10, insecure_loopback=False, insecure={tls.host})
    with listed:
        assert listed.resolve(pushed.reference).digest == pushed.digest


def test_plain_http_registry_needs_insecure(
    registry: RunningRegistry, push_image: PushImage, unique_repo: str
) -> None:
    pushed = push_image(unique_repo)
    # Not marked insecure: never downgraded to plain HTTP.
    with RegistryClient(timeout=10, insecure_loopback=False) as strict:
        with pytest.raises(RegistryUnreachable) as info:
            strict.resolve(pushed.reference)
        assert "plain HTTP" in one_line(info.value)
    predicate = RegistryClient(timeout=10, insecure_loopback=False, insecure=lambda _host: True)
    with predicate:
        assert predicate.resolve(pushed.reference).digest == pushed.digest
    host_only = RegistryClient(timeout=10, insecure_loopback=False, insecure=["127.0.0.1"])
    with host_only:
        assert host_only.resolve(pushed.reference).digest == pushed.digest


# -- copy and tag lists (image stream imports) ----------------------------------


def test_copy_to_another_registry_keeps_the_digest(
    client: RegistryClient,
    push_image: PushImage,
    unique_repo: str,
    registry_factory: Callable[..., RunningRegistry],
    tmp_path: Path,
) -> None:
    pushed = push_image(unique_repo, "v1")
    other = registry_factory()
    destination = f"{other.host}/mirror/{unique_repo}"
    assert client.copy(pushed.by_digest, destination) == pushed.digest
    # Another tool reads the copy: same manifest, and its blobs are all there.
    copied = f"{destination}@{pushed.digest}"
    assert raw_manifest(copied) == raw_manifest(pushed.by_digest)
    run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", f"docker://{copied}",
         f"dir:{tmp_path / 'pulled'}"])  # fmt: skip
    config = client.image_config(copied)
    assert config.manifest_digest == pushed.digest
    # A second copy finds every blob in place and changes nothing.
    assert client.copy(pushed.by_digest, destination) == pushed.digest


def test_copy_within_one_registry_and_of_a_manifest_list(
    client: RegistryClient,
    registry: RunningRegistry,
    push_manifest_list: PushImage,
    unique_repo: str,
) -> None:
    pushed = push_manifest_list(unique_repo, "multi")
    destination = f"{registry.host}/{unique_repo}-local"
    assert client.copy(pushed.by_digest, destination) == pushed.digest
    arm64 = client.resolve(f"{destination}@{pushed.digest}", platform="linux/arm64")
    assert arm64.digest == pushed.members["linux/arm64"]
    assert arm64.list_digest == pushed.digest


def test_list_tags(
    client: RegistryClient, registry: RunningRegistry, push_image: PushImage, unique_repo: str
) -> None:
    for tag in ("1.0", "1.1", "latest"):
        push_image(unique_repo, tag)
    assert sorted(client.list_tags(f"{registry.host}/{unique_repo}")) == ["1.0", "1.1", "latest"]
    assert len(client.list_tags(f"{registry.host}/{unique_repo}", limit=2)) == 2
    with pytest.raises(ImageNotFound, match="does not exist"):
        client.list_tags(f"{registry.host}/{unique_repo}-never-pushed")
