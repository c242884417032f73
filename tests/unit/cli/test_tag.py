"""``kbuild tag``: oc's reading of SOURCE and DEST, its checks, messages and spec edits (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import ImageStream, dump, parse_as
from builder.cli.common import CliError
from builder.cli.streams_common import DockerRef, parse_docker_ref
from builder.cli.tag import (
    Dest,
    Flags,
    TagRequest,
    drop_status_tag,
    message,
    parse_dest,
    parse_source,
    pin_source,
    plan,
    tag_reference,
    with_spec_tag,
    without_spec_tag,
)

D1, D2 = "sha256:4f2c" + "1" * 60, "sha256:4f2d" + "2" * 60
REPO = "registry.kbuild.local:5000/dev/app"


def stream(spec_tags: list[dict[str, Any]] | None = None, **status_tags: Any) -> ImageStream:
    return parse_as(
        ImageStream,
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": "app", "namespace": "dev", "resourceVersion": "7"},
            "spec": {"tags": spec_tags or []},
            "status": {
                "dockerImageRepository": REPO,
                "tags": [{"tag": t, "items": items} for t, items in status_tags.items()],
            },
        },
    )


def event(image: str, ref: str = "", created: str = "2024-05-01T11:00:00Z") -> dict[str, Any]:
    return {
        "created": created,
        "dockerImageReference": ref or f"{REPO}@{image}",
        "image": image,
        "generation": 1,
    }


# ---------------------------------------------------------------------------
# Pull specs, read without defaults


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ruby", DockerRef(name="ruby")),
        ("ruby:3.0", DockerRef(name="ruby", tag="3.0")),
        ("openshift/ruby:3.0", DockerRef(namespace="openshift", name="ruby", tag="3.0")),
        ("docker.io/library/ruby", DockerRef("docker.io", "library", "ruby")),
        ("quay.io/acme/app:1", DockerRef("quay.io", "acme", "app", "1")),
        ("localhost/app", DockerRef("localhost", "", "app")),
        ("localhost:5000/a/b/c:t", DockerRef("localhost:5000", "a", "b/c", "t")),
        ("a/b/c", DockerRef("", "a", "b/c")),
        (f"quay.io/x/y@{D1}", DockerRef("quay.io", "x", "y", id=D1)),
        ("x.io", DockerRef(registry="x.io")),
    ],
)
def test_parse_docker_ref(text: str, expected: DockerRef) -> None:
    assert parse_docker_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "repository name must have at least one component"),
        ("Ruby", "repository name must be lowercase"),
        ("acme/Ruby:1", "repository name must be lowercase"),
        ("a:b:c", "invalid reference format"),
        ("a//b", "invalid reference format"),
        ("app@sha256:4f2c", "invalid reference format"),
        ("-app", "invalid reference format"),
    ],
)
def test_parse_docker_ref_rejects(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=f"^{error}$"):
        parse_docker_ref(text)


def test_exact_writes_back_what_was_given() -> None:
    for text in ("ruby", "openshift/ruby:3.0", "localhost:5000/a/b/c:t", f"quay.io/x/y@{D1}"):
        assert parse_docker_ref(text).exact() == text


# ---------------------------------------------------------------------------
# SOURCE and DEST


@pytest.mark.parametrize(
    ("text", "hint", "kind", "ref"),
    [
        ("quay.io/acme/app:1", "", "DockerImage", DockerRef("quay.io", "acme", "app", "1")),
        ("app@sha256:4f2c", "", "ImageStreamImage", DockerRef(name="app", id="sha256:4f2c")),
        (f"ci/app@{D1}", "", "ImageStreamImage", DockerRef("", "ci", "app", id=D1)),
        ("app:latest", "", "ImageStreamTag", DockerRef(name="app", tag="latest")),
        ("nginx", "", "DockerImage", DockerRef(name="nginx")),
        ("nginx:1.25", "DockerImage", "DockerImage", DockerRef(name="nginx", tag="1.25")),
        ("library/app:1", "ImageStreamTag", "ImageStreamTag", DockerRef("", "dev", "app", "1")),
        ("app@4f2c", "ImageStreamImage", "ImageStreamImage", DockerRef(name="app", id="4f2c")),
    ],
)
def test_source_kind_is_guessed_as_oc_does(text: str, hint: str, kind: str, ref: DockerRef) -> None:
    assert parse_source(text, hint, "dev") == (kind, ref)


@pytest.mark.parametrize(
    ("text", "hint", "error"),
    [
        (
            "quay.io/x:1",
            "ImageStreamTag",
            "server in SOURCE is only allowed when providing a container image",
        ),
        (
            "app",
            "ImageStreamTag",
            "--source=ImageStreamTag requires a valid <name>:<tag> in SOURCE",
        ),
        (
            "app:1",
            "ImageStreamImage",
            "--source=ImageStreamImage requires a valid <name>@<id> in SOURCE",
        ),
        ("Bad:1", "", "invalid SOURCE: repository name must be lowercase"),
        ("quay.io/x@sha256:4f2c", "", "invalid SOURCE: invalid reference format"),
        ("app@4f2c", "DockerImage", "invalid SOURCE: invalid reference format"),
    ],
)
def test_source_errors(text: str, hint: str, error: str) -> None:
    with pytest.raises(CliError, match=f"^{error}$"):
        parse_source(text, hint, "dev")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app:prod", Dest("dev", "app", "prod", "app:prod")),
        ("ci/app:prod", Dest("ci", "app", "prod", "app:prod")),
        ("app:", Dest("dev", "app", "latest", "app:")),
    ],
)
def test_parse_dest(text: str, expected: Dest) -> None:
    assert parse_dest(text, "dev") == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("app", "'app' must be of the form <stream_name>:<tag>"),
        ("a/b/c:d", "invalid image stream 'a/b/c:d'"),
        ("/app:x", "invalid namespace '' for image stream '/app:x'"),
        ("ci/", "invalid name '' for image stream 'ci/'"),
    ],
)
def test_parse_dest_errors(text: str, error: str) -> None:
    with pytest.raises(CliError, match=f"^{error}$"):
        parse_dest(text, "dev")


# ---------------------------------------------------------------------------
# oc's checks, in its order and words


@pytest.mark.parametrize(
    ("args", "flags", "error"),
    [
        ([], Flags(), "you must specify a source and at least one destination"),
        (
            ["app:latest"],
            Flags(source="image"),
            "invalid source 'image'; valid values are docker, ",
        ),
        (["app:latest"], Flags(), "at least a destination is required"),
        ([], Flags(delete=True), "at least a destination is required"),
        (
            ["app:x"],
            Flags(delete=True, alias=True),
            "--alias and --delete may not be both specified",
        ),
        (
            ["app:a", "app:b"],
            Flags(reference_policy="Local"),
            "reference policy must be set to 'source' or 'local'",
        ),
        (
            ["app:x"],
            Flags(delete=True, source="docker"),
            "cannot specify a source kind when deleting",
        ),
        (
            ["app:x"],
            Flags(delete=True, scheduled=True),
            "cannot set flags for importing images when deleting a tag",
        ),
        (
            ["app:a", "app:b"],
            Flags(scheduled=True),
            "only container images can have importing flags set",
        ),
        (
            ["app@4f2c", "app:b"],
            Flags(insecure=True),
            "only container images can have importing flags set",
        ),
        (["app:a", "app:b"], Flags(alias=True, insecure=True), "only container images"),
        (
            ["quay.io/x:1", "app:b"],
            Flags(alias=True, scheduled=True),
            "cannot set a container image tag as an alias and also set import flags",
        ),
        (
            ["app:a", "other:b"],
            Flags(alias=True),
            "cannot set alias across different Image Streams",
        ),
        (
            ["app:a", "ci/app:b"],
            Flags(alias=True),
            "cannot set alias across different Image Streams",
        ),
        (["app:a", "app"], Flags(), "'app' must be of the form <stream_name>:<tag>"),
    ],
)
def test_plan_rejects_as_oc(args: list[str], flags: Flags, error: str) -> None:
    with pytest.raises(CliError, match=error):
        plan(args, flags, "dev")


def test_plan_for_delete_takes_every_argument_as_a_destination() -> None:
    request = plan(["app:a", "ci/app:b"], Flags(delete=True), "dev")
    assert request.kind == ""
    assert request.dests == (Dest("dev", "app", "a", "app:a"), Dest("ci", "app", "b", "app:b"))


# ---------------------------------------------------------------------------
# Pinning the source


def request(args: list[str], flags: Flags | None = None) -> TagRequest:
    return plan(args, flags or Flags(), "dev")


def test_a_stream_tag_source_is_pinned_to_its_current_image() -> None:
    source = stream(latest=[event(D1), event(D2)])
    kind, ref = pin_source(request(["app:latest", "app:prod"]), source)
    assert (kind, ref.exact()) == ("ImageStreamImage", f"app@{D1}")


def test_a_source_tag_without_image_id_is_pinned_to_its_pull_spec() -> None:
    source = stream(ext=[event("", ref="quay.io/acme/app:edge")])
    assert pin_source(request(["app:ext", "app:b"]), source) == (
        "DockerImage",
        DockerRef("quay.io", "acme", "app", "edge"),
    )


def test_a_source_tag_without_image_cannot_be_used() -> None:
    with pytest.raises(
        CliError, match=r"^'app:nope' is not currently pointing to an image, cannot"
    ):
        pin_source(request(["app:nope", "app:b"]), stream(latest=[event(D1)]))


def test_an_image_prefix_is_expanded_to_the_stream_image() -> None:
    source = stream(latest=[event(D1)], old=[event(D2)])
    kind, ref = pin_source(request(["app@sha256:4f2d", "app:latest"]), source)
    assert (kind, ref.exact()) == ("ImageStreamImage", f"app@{D2}")


@pytest.mark.parametrize(
    ("prefix", "error"),
    [("4f2", "is ambiguous in image stream dev/app"), ("beef", "image beef is not in")],
)
def test_an_image_prefix_must_name_one_image(prefix: str, error: str) -> None:
    source = stream(latest=[event(D1)], old=[event(D2)])
    with pytest.raises(CliError, match=error):
        pin_source(request([f"app@{prefix}", "app:latest"]), source)


# ---------------------------------------------------------------------------
# The spec tag written and the message


def pinned(args: list[str], flags: Flags | None = None, image: str = D1) -> TagRequest:
    r = request(args, flags)
    return TagRequest(
        r.flags,
        r.namespace,
        "ImageStreamImage",
        DockerRef(name="app", id=image),
        r.source_text,
        r.dests,
    )


@pytest.mark.parametrize(
    ("req", "expected", "text"),
    [
        (
            request(["quay.io/acme/app:1", "app:base"], Flags(scheduled=True, insecure=True)),
            {
                "name": "base",
                "from": {"kind": "DockerImage", "name": "quay.io/acme/app:1"},
                "generation": 0,
                "importPolicy": {"insecure": True, "scheduled": True},
                "referencePolicy": {"type": "Source"},
            },
            "Tag app:base set to import quay.io/acme/app:1 periodically.",
        ),
        (
            pinned(["app:latest", "app:prod"]),
            {
                "name": "prod",
                "from": {"kind": "ImageStreamImage", "name": f"app@{D1}"},
                "generation": 0,
                "referencePolicy": {"type": "Source"},
            },
            f"Tag app:prod set to app@{D1}.",
        ),
        (
            pinned(["app:latest", "ci/app:prod"]),
            {
                "name": "prod",
                "from": {"kind": "ImageStreamImage", "name": f"app@{D1}", "namespace": "dev"},
                "generation": 0,
                "referencePolicy": {"type": "Source"},
            },
            f"Tag ci/app:prod set to app@{D1}.",
        ),
        (
            request(["app:latest", "app:tip"], Flags(alias=True)),
            {
                "name": "tip",
                "from": {"kind": "ImageStreamTag", "name": "app:latest"},
                "generation": 0,
                "referencePolicy": {"type": "Source"},
            },
            "Tag app:tip set up to track app:latest.",
        ),
        (
            request(["xy.io/z:1", "app:ext"], Flags(reference=True, reference_policy="local")),
            {
                "name": "ext",
                "from": {"kind": "DockerImage", "name": "xy.io/z:1"},
                "reference": True,
                "generation": 0,
                "referencePolicy": {"type": "Local"},
            },
            "Tag app:ext set to xy.io/z:1.",
        ),
    ],
)
def test_spec_tag_and_message(req: TagRequest, expected: dict[str, Any], text: str) -> None:
    dest = req.dests[0]
    assert dump(tag_reference(req, dest)) == expected
    assert message(req, dest, req.source) == text


def test_scheduled_into_another_namespace_keeps_ocs_wording() -> None:
    req = request(["quay.io/acme/app:1", "ci/app:base"], Flags(scheduled=True))
    assert (
        message(req, req.dests[0], req.source)
        == "Tag ci/app:base set to quay.io/acme/app:1 periodically."
    )


def test_with_spec_tag_creates_the_stream() -> None:
    req = pinned(["app:latest", "app:prod"])
    created = with_spec_tag(None, "dev", "app", tag_reference(req, req.dests[0]))
    assert dump(created) == {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "app", "namespace": "dev"},
        "spec": {"tags": [dump(tag_reference(req, req.dests[0]))]},
    }


def test_with_spec_tag_replaces_in_place_and_leaves_the_input_alone() -> None:
    original = stream(
        [
            {
                "name": "latest",
                "from": {"kind": "DockerImage", "name": "quay.io/a:1"},
                "generation": 3,
            },
            {
                "name": "prod",
                "from": {"kind": "ImageStreamTag", "name": "app:latest"},
                "generation": 2,
            },
        ]
    )
    req = pinned(["app:latest", "app:latest"], image=D2)
    updated = with_spec_tag(original, "dev", "app", tag_reference(req, req.dests[0]))
    assert [(t.name, t.from_.name if t.from_ else "", t.generation) for t in updated.spec.tags] == [
        ("latest", f"app@{D2}", 0),
        ("prod", "app:latest", 2),
    ]
    assert original.spec.tags[0].generation == 3
    assert dump(updated)["metadata"]["resourceVersion"] == "7"  # the write is conditional
    appended = with_spec_tag(
        original, "dev", "app", tag_reference(req, parse_dest("app:new", "dev"))
    )
    assert [t.name for t in appended.spec.tags] == ["latest", "prod", "new"]


def test_delete_edits() -> None:
    original = stream(
        [{"name": "prod", "from": {"kind": "ImageStreamTag", "name": "app:latest"}}],
        prod=[event(D1)],
        latest=[event(D1)],
    )
    without = without_spec_tag(original, "prod")
    assert without is not None
    assert without.spec.tags == []
    assert dump(without)["spec"] == {"tags": []}
    assert without_spec_tag(original, "latest") is None
    assert without_spec_tag(None, "prod") is None
    assert drop_status_tag(original, "prod") is True
    assert [t.tag for t in original.status.tags] == ["latest"]
    assert drop_status_tag(original, "prod") is False
