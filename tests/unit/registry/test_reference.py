from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import BuildError, StatusReason
from builder.registry.errors import InvalidReferenceError
from builder.registry.reference import ImageReference

D = "sha256:" + "a" * 64
D2 = "sha256:" + "0123456789abcdef" * 4

# text -> (registry, repository, tag, digest, canonical str())
VALID = [
    ("busybox", "docker.io", "library/busybox", "latest", None, "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None, None),
    ("library/busybox", "docker.io", "library/busybox", "latest", None, None),
    ("docker.io/busybox", "docker.io", "library/busybox", "latest", None, None),
    ("index.docker.io/busybox", "docker.io", "library/busybox", "latest", None, None),
    ("registry-1.docker.io/org/app", "docker.io", "org/app", "latest", None, None),
    ("openshift/origin:v3", "docker.io", "openshift/origin", "v3", None, None),
    ("quay.io/org/app", "quay.io", "org/app", "latest", None, "quay.io/org/app:latest"),
    ("quay.io/org/sub/app:1.0", "quay.io", "org/sub/app", "1.0", None, None),
    ("localhost/app", "localhost", "app", "latest", None, "localhost/app:latest"),
    ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None, None),
    ("127.0.0.1:5000/ns/app", "127.0.0.1:5000", "ns/app", "latest", None, None),
    ("myhost:5000/app", "myhost:5000", "app", "latest", None, None),
    ("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", None, "[::1]:5000/app:v1"),
    # Upper case in the first component makes it a host, as in docker.
    ("MyRegistry/app", "MyRegistry", "app", "latest", None, None),
    # A digest without a tag gets no default tag.
    (f"quay.io/org/app@{D}", "quay.io", "org/app", None, D, f"quay.io/org/app@{D}"),
    (f"busybox@{D}", "docker.io", "library/busybox", None, D, f"docker.io/library/busybox@{D}"),
    (f"quay.io/org/app:v1@{D2}", "quay.io", "org/app", "v1", D2, f"quay.io/org/app:v1@{D2}"),
    ("a/b.c/d_e/f__g/h-i/j---k", "docker.io", "a/b.c/d_e/f__g/h-i/j---k", "latest", None, None),
    ("app:V1.2_rc-3", "docker.io", "library/app", "V1.2_rc-3", None, None),
    ("app:" + "t" * 128, "docker.io", "library/app", "t" * 128, None, None),
    ("sub.example.com:443/x/y", "sub.example.com:443", "x/y", "latest", None, None),
    (f"app@sha512:{'b' * 128}", "docker.io", "library/app", None, f"sha512:{'b' * 128}", None),
]


@pytest.mark.parametrize("case", VALID, ids=[case[0] or "<empty>" for case in VALID])
def test_parse_valid(case: tuple[str, str, str, str | None, str | None, str | None]) -> None:
    text, registry, repository, tag, digest, canonical = case
    ref = ImageReference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    if canonical is not None:
        assert str(ref) == canonical
    # The canonical form parses back to the same reference.
    assert ImageReference.parse(str(ref)) == ref


# text -> a fragment the error message must contain
INVALID = [
    ("", "empty"),
    (" busybox", "whitespace"),
    ("busy box", "whitespace"),
    ("Busybox", "lowercase"),
    ("quay.io/Org/app", "lowercase"),
    ("https://quay.io/org/app", "scheme"),
    ("app:", "tag is empty"),
    ("app@", "digest is empty"),
    ("app@sha256:abc", "64 lower-case hex"),
    ("app@sha256:" + "A" * 64, "64 lower-case hex"),
    ("app@md5:" + "a" * 32, "unsupported digest algorithm"),
    ("app@sha256", "malformed digest"),
    (f"app@{D}@{D}", "more than one '@'"),
    ("app:" + "t" * 129, "invalid tag"),
    ("app:-lead", "invalid tag"),
    # ASCII only, as in distribution's grammar: Python's \w took these.
    ("app:t\u00e4g", "invalid tag"),
    ("app:1.\u00b2", "invalid tag"),
    ("app:a/b", "invalid"),
    ("quay.io//app", "empty path component"),
    ("quay.io/app/", "empty path component"),
    ("/app", "empty path component"),
    ("quay.io/-app", "invalid repository path component"),
    ("quay.io/app-", "invalid repository path component"),
    ("quay.io/a..b", "invalid repository path component"),
    ("quay.io/a___b", "invalid repository path component"),
    ("quay.io/", "repository name is empty"),
    ("-bad.host/app", "invalid registry host"),
    ("a" * 64, "image ID"),
    ("quay.io/" + "/".join(["abcdefghij"] * 25), "longer than 255"),
    (":tag", "repository name is empty"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID)
def test_parse_invalid(text: str, fragment: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        ImageReference.parse(text)
    err = info.value
    assert fragment in err.detail
    # The message quotes what the user typed and is one line.
    assert repr(text) in err.detail
    assert "\n" not in str(err)


def test_invalid_reference_is_value_error_and_build_error() -> None:
    with pytest.raises(ValueError, match="lowercase"):
        ImageReference.parse("UPPER/Case")
    try:
        ImageReference.parse("a@b")
    except BuildError as err:
        assert err.reason is StatusReason.INVALID_IMAGE_REFERENCE
    else:
        pytest.fail("no error")


def test_with_tag_and_digest_keep_the_other_part() -> None:
    ref = ImageReference.parse("quay.io/org/app:v1")
    pinned = ref.with_digest(D)
    assert str(pinned) == f"quay.io/org/app:v1@{D}"
    assert pinned.manifest_reference == D
    assert str(pinned.with_tag("v2")) == f"quay.io/org/app:v2@{D}"
    assert str(pinned.without_tag()) == f"quay.io/org/app@{D}"
    assert ref.manifest_reference == "v1"
    assert ref.name == "quay.io/org/app"


def test_with_tag_and_digest_validate() -> None:
    ref = ImageReference.parse("quay.io/org/app")
    with pytest.raises(InvalidReferenceError, match="invalid tag"):
        ref.with_tag("bad tag")
    with pytest.raises(InvalidReferenceError, match="64 lower-case hex"):
        ref.with_digest("sha256:1234")
    with pytest.raises(InvalidReferenceError, match="no digest"):
        ref.without_tag()


def test_constructor_validates() -> None:
    with pytest.raises(InvalidReferenceError, match="lowercase"):
        ImageReference("quay.io", "Org/app", "v1")
    with pytest.raises(InvalidReferenceError, match="registry host"):
        ImageReference("", "org/app", "v1")


def test_reference_is_hashable_and_frozen() -> None:
    a = ImageReference.parse("busybox")
    b = ImageReference.parse("docker.io/library/busybox:latest")
    assert a == b
    assert len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.tag = "x"  # type: ignore[misc]


# -- any text: a reference that prints and parses back as itself, or InvalidReferenceError --

REFERENCE_PARTS = st.sampled_from(
    ["quay.io", "localhost", "127.0.0.1:5000", "[::1]:5000", "/", ":", "@", "sha256:", "a" * 64,
     "library", "ubuntu", "-", "_", "__", ".", "Up", "latest", " ", "\n", "://", "sha999:1",
     "ünï", "x" * 130]
)  # fmt: skip


def only_typed(text: str) -> None:
    try:
        ref = ImageReference.parse(text)
    except InvalidReferenceError as err:
        assert err.reason is StatusReason.INVALID_IMAGE_REFERENCE
        return
    assert ImageReference.parse(str(ref)) == ref


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=80))
def test_property_arbitrary_text(text: str) -> None:
    only_typed(text)


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(REFERENCE_PARTS, max_size=8))
def test_property_made_of_reference_parts(parts: list[str]) -> None:
    only_typed("".join(parts))
