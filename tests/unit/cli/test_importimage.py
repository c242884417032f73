"""``kbuild import-image``: oc's rules for what may be imported, the request, the answer (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import ImageStream, dump, parse_as
from builder.cli.common import CliError
from builder.cli.importimage import (
    ImportOptions,
    ImportPlan,
    answered,
    failures,
    no_answer,
    parse_target,
    plan_import,
    report,
)
from builder.cli.main import parser
from tests.unit.cli.helpers import NOW

D1 = "sha256:" + "1" * 64
REPOSITORY_ERROR = "image.kbuild.io/repository-import-error"
CHECK = "openshift.io/image.dockerRepositoryCheck"
INSECURE = "openshift.io/image.insecureRepository"


def stream(
    spec_tags: list[dict[str, Any]] | None = None,
    *,
    repository: str = "",
    annotations: dict[str, str] | None = None,
    status_tags: list[dict[str, Any]] | None = None,
) -> ImageStream:
    spec: dict[str, Any] = {"tags": spec_tags or []}
    if repository:
        spec["dockerImageRepository"] = repository
    return parse_as(
        ImageStream,
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {
                "name": "app",
                "namespace": "dev",
                "resourceVersion": "9",
                "annotations": annotations or {},
            },
            "spec": spec,
            "status": {"tags": status_tags or []},
        },
    )


def docker(name: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "from": {"kind": "DockerImage", "name": source}, **extra}


def istag(name: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "from": {"kind": "ImageStreamTag", "name": source}, **extra}


def spec_of(planned: ImportPlan) -> dict[str, Any]:
    return dict(dump(planned.stream)["spec"])


# ---------------------------------------------------------------------------
# The argument


@pytest.mark.parametrize(
    ("opts", "expected"),
    [
        (ImportOptions("app"), ("app", "latest")),
        (ImportOptions("app:3.0"), ("app", "3.0")),
        (ImportOptions("app", all=True), ("app", "")),
        (ImportOptions("docker.io/library/ruby:3.0"), ("ruby", "3.0")),
        (ImportOptions("quay.io/acme/app"), ("app", "latest")),
    ],
)
def test_parse_target(opts: ImportOptions, expected: tuple[str, str]) -> None:
    assert parse_target(opts) == expected


@pytest.mark.parametrize(
    ("opts", "error"),
    [
        (ImportOptions(""), "you must specify the name of an image stream"),
        (ImportOptions("App"), "the image name must be a valid container image pull spec or"),
        (ImportOptions(f"app@{D1}"), "to import images by ID, use the 'tag' command"),
        (ImportOptions("app:1", all=True), 'cannot specify a tag "app:1" as well as --all'),
        (ImportOptions("app", reference_policy="Local"), "reference policy must be set to"),
        (ImportOptions("a/b/c"), '"b/c" \\(from "a/b/c"\\) is not a valid image stream name'),
    ],
)
def test_parse_target_rejects(opts: ImportOptions, error: str) -> None:
    with pytest.raises(CliError, match=error):
        parse_target(opts)


def test_insecure_takes_an_optional_go_boolean() -> None:
    p = parser()
    assert p.parse_args(["import-image", "app"]).insecure is None
    assert p.parse_args(["import-image", "app", "--insecure"]).insecure is True
    assert p.parse_args(["import-image", "app", "--insecure=false"]).insecure is False
    assert p.parse_args(["import-image", "app", "--timeout", "2m"]).timeout == 120.0


# ---------------------------------------------------------------------------
# A new stream


def plan_new(opts: ImportOptions) -> ImportPlan:
    name, tag = parse_target(opts)
    return plan_import(None, "dev", name, tag, opts)


def test_a_missing_stream_needs_confirm() -> None:
    with pytest.raises(CliError, match=r'^no image stream named "app" exists, pass --confirm to'):
        plan_new(ImportOptions("app", from_="quay.io/acme/app:1"))


def test_confirm_creates_the_stream_with_the_tag_to_import() -> None:
    planned = plan_new(
        ImportOptions("app:v1", from_="quay.io/acme/app:1", confirm=True, reference_policy="local")
    )
    assert planned.tags == ["v1"]
    assert dump(planned.stream) == {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "app", "namespace": "dev"},
        "spec": {
            "tags": [
                {
                    "name": "v1",
                    "from": {"kind": "DockerImage", "name": "quay.io/acme/app:1"},
                    "generation": 0,
                    "referencePolicy": {"type": "Local"},
                }
            ]
        },
    }


def test_without_from_the_argument_is_the_image() -> None:
    planned = plan_new(ImportOptions("docker.io/library/ruby:3.0", confirm=True, scheduled=True))
    assert planned.stream.metadata.name == "ruby"
    assert spec_of(planned)["tags"] == [
        {
            "name": "3.0",
            "from": {"kind": "DockerImage", "name": "docker.io/library/ruby:3.0"},
            "generation": 0,
            "importPolicy": {"insecure": False, "scheduled": True},
        }
    ]


def test_all_with_confirm_imports_the_repository() -> None:
    planned = plan_new(
        ImportOptions("app", from_="quay.io/acme/app", all=True, confirm=True, insecure=True)
    )
    assert planned.repository == "quay.io/acme/app"
    assert planned.tags == []
    data = dump(planned.stream)
    assert data["spec"] == {"dockerImageRepository": "quay.io/acme/app"}
    assert data["metadata"]["annotations"] == {INSECURE: "true"}


def test_a_repository_import_has_no_tag_to_carry_tag_policies() -> None:
    with pytest.raises(CliError, match="--scheduled and --reference-policy apply to tags"):
        plan_new(
            ImportOptions("app", from_="quay.io/acme/app", all=True, confirm=True, scheduled=True)
        )


# ---------------------------------------------------------------------------
# An existing stream, one tag


def plan_existing(current: ImageStream, opts: ImportOptions) -> ImportPlan:
    name, tag = parse_target(opts)
    return plan_import(current, "dev", name, tag, opts)


def test_reimport_asks_with_generation_zero_and_keeps_the_tag_policies() -> None:
    current = stream(
        [
            docker(
                "latest",
                "quay.io/acme/app:1",
                generation=4,
                importPolicy={"scheduled": True},
                referencePolicy={"type": "Local"},
                annotations={CHECK: "2024-01-01T00:00:00Z", "description": "x"},
            ),
            docker("other", "quay.io/acme/other:1", generation=2),
        ],
        annotations={INSECURE: "true"},
    )
    planned = plan_existing(current, ImportOptions("app"))
    assert planned.tags == ["latest"]
    assert spec_of(planned)["tags"] == [
        docker(
            "latest",
            "quay.io/acme/app:1",
            generation=0,
            importPolicy={"insecure": True, "scheduled": True},
            referencePolicy={"type": "Local"},
            annotations={"description": "x"},
        ),
        docker("other", "quay.io/acme/other:1", generation=2),
    ]
    assert current.spec.tags[0].generation == 4  # the plan works on a copy


def test_the_insecure_flag_overrides_the_stream_annotation() -> None:
    current = stream(
        [docker("latest", "quay.io/acme/app:1", generation=4)], annotations={INSECURE: "true"}
    )
    planned = plan_existing(current, ImportOptions("app", insecure=False))
    assert "importPolicy" not in spec_of(planned)["tags"][0]


def test_a_tag_following_another_reimports_the_followed_tag() -> None:
    current = stream(
        [
            docker("latest", "quay.io/acme/app:1", generation=4),
            istag("tip", "app:latest", generation=4),
        ]
    )
    planned = plan_existing(current, ImportOptions("app:tip"))
    assert planned.tags == ["latest"]
    assert [t["generation"] for t in spec_of(planned)["tags"]] == [0, 4]


def test_a_new_tag_comes_from_from_or_the_repository() -> None:
    current = stream([docker("latest", "quay.io/acme/app:1")], repository="quay.io/acme/app")
    planned = plan_existing(current, ImportOptions("app:v2", from_="quay.io/acme/app:2"))
    assert spec_of(planned)["tags"][1] == docker("v2", "quay.io/acme/app:2", generation=0)
    bare = stream(repository="quay.io/acme/app")
    assert spec_of(plan_existing(bare, ImportOptions("app")))["tags"] == [
        docker("latest", "quay.io/acme/app", generation=0)
    ]


@pytest.mark.parametrize(
    ("spec_tags", "opts", "error"),
    [
        (
            [],
            ImportOptions("app:v2"),
            'the tag "v2" does not exist on the image stream - choose an existing tag to import '
            "or use the 'tag' command to create a new tag",
        ),
        (
            [istag("latest", "other:latest")],
            ImportOptions("app"),
            'tag "latest" points to an imagestreamtag from another ImageStream',
        ),
        (
            [istag("a", "b"), istag("b", "app:a")],
            ImportOptions("app:a"),
            'tag "a" on the image stream is a reference to same tag',
        ),
        (
            [{"name": "latest", "from": {"kind": "ImageStreamImage", "name": f"app@{D1}"}}],
            ImportOptions("app"),
            f'tag "latest" points to existing ImageStreamImage "app@{D1}", '
            "it cannot be re-imported",
        ),
        (
            [{"name": "latest"}],
            ImportOptions("app", from_="quay.io/a:1"),
            "tag \"latest\" already exists - you must use the 'tag' command if you want to change "
            'the source to "quay.io/a:1"',
        ),
        (
            [docker("latest", "quay.io/a:1")],
            ImportOptions("app", from_="quay.io/a:2"),
            'the tag "latest" points to "quay.io/a:1" - use the \'tag\' command if you want to '
            'change the source to "quay.io/a:2"',
        ),
        (
            [docker("latest", "quay.io/a:1"), istag("tip", "latest")],
            ImportOptions("app:tip", from_="quay.io/a:2"),
            'the tag "tip" points to the tag "latest" which points to "quay.io/a:1" - use the '
            "'tag' command if you want to change the source to \"quay.io/a:2\"",
        ),
    ],
)
def test_import_tag_rejects_as_oc(
    spec_tags: list[dict[str, Any]], opts: ImportOptions, error: str
) -> None:
    with pytest.raises(CliError) as caught:
        plan_existing(stream(spec_tags), opts)
    assert str(caught.value) == error


# ---------------------------------------------------------------------------
# An existing stream, --all


def test_all_reimports_every_container_image_tag() -> None:
    current = stream(
        [
            docker("latest", "quay.io/a:1", generation=3),
            istag("tip", "latest", generation=3),
            docker("v1", "quay.io/a:v1", generation=2, importPolicy={"scheduled": True}),
        ]
    )
    planned = plan_existing(current, ImportOptions("app", all=True))
    assert planned.tags == ["latest", "v1"]
    assert [t.get("generation") for t in spec_of(planned)["tags"]] == [0, 3, 0]


def test_all_needs_something_to_import() -> None:
    with pytest.raises(CliError, match=r"^image stream does not have tags pointing to external"):
        plan_existing(stream([istag("tip", "latest")]), ImportOptions("app", all=True))


@pytest.mark.parametrize(
    ("repository", "error"),
    [
        (
            "",
            "the image stream does not currently import an entire Docker repository, "
            "pass --confirm",
        ),
        (
            "quay.io/old",
            'the image stream has a different import spec "quay.io/old", pass --confirm',
        ),
    ],
)
def test_changing_the_repository_needs_confirm(repository: str, error: str) -> None:
    with pytest.raises(CliError, match=error):
        plan_existing(
            stream(repository=repository), ImportOptions("app", from_="quay.io/new", all=True)
        )


def test_a_repository_import_is_asked_for_by_removing_the_check_annotation() -> None:
    current = stream(
        repository="quay.io/acme/app",
        annotations={CHECK: "2024-01-01T00:00:00Z", REPOSITORY_ERROR: "NotFound: x", "x": "y"},
    )
    planned = plan_existing(current, ImportOptions("app", all=True))
    assert planned.repository == "quay.io/acme/app"
    assert dump(planned.stream)["metadata"]["annotations"] == {"x": "y"}
    moved = plan_existing(
        current, ImportOptions("app", from_="quay.io/new", all=True, confirm=True)
    )
    assert spec_of(moved)["dockerImageRepository"] == "quay.io/new"


# ---------------------------------------------------------------------------
# The answer


def with_status(spec_generation: int | None, **named: Any) -> ImageStream:
    extra = {} if spec_generation is None else {"generation": spec_generation}
    return stream(
        [docker("latest", "quay.io/acme/app:1", **extra)],
        status_tags=[{"tag": "latest", **named}],
    )


def item(generation: int) -> dict[str, Any]:
    return {
        "created": "2024-05-01T11:59:00Z",
        "dockerImageReference": f"quay.io/acme/app@{D1}",
        "image": D1,
        "generation": generation,
    }


def failed(generation: int) -> dict[str, Any]:
    return {
        "type": "ImportSuccess",
        "status": "False",
        "reason": "Unauthorized",
        "message": "quay.io/acme/app:1: authentication required",
        "generation": generation,
        "lastTransitionTime": "2024-05-01T11:59:50Z",
    }


TAG_PLAN = ImportPlan(stream(), tags=["latest"])


@pytest.mark.parametrize(
    ("current", "done"),
    [
        (with_status(0, items=[item(3)]), False),  # not yet seen by the controller
        (with_status(None, items=[item(3)]), False),
        (with_status(5, items=[item(3)]), False),  # generation assigned, import pending
        (with_status(5, items=[item(5)]), True),
        (with_status(5, items=[item(3)], conditions=[failed(5)]), True),
        (stream(), True),  # the tag was removed meanwhile
    ],
)
def test_answered_when_the_status_reflects_the_requested_generation(
    current: ImageStream, done: bool
) -> None:
    assert answered(current, TAG_PLAN) is done


def test_a_repository_import_is_answered_by_the_check_annotation() -> None:
    plan = ImportPlan(stream(), repository="quay.io/acme/app")
    assert answered(stream(), plan) is False
    assert answered(stream(annotations={CHECK: "2024-05-01T12:00:00Z"}), plan) is True


def test_a_failed_repository_import_is_answered_and_reported() -> None:
    plan = ImportPlan(stream(), repository="quay.io/acme/app")
    failed_stream = stream(annotations={REPOSITORY_ERROR: "NotFound: no repository acme/app"})
    assert answered(failed_stream, plan) is True
    out, errors = report(failed_stream, plan, NOW)
    assert out.startswith("imagestream.image.openshift.io/app imported with errors\n")
    assert errors == (
        "error: repository quay.io/acme/app failed: NotFound: no repository acme/app\n"
    )


def test_failures_are_conditions_of_the_requested_generation() -> None:
    assert failures(with_status(5, items=[item(3)], conditions=[failed(4)]), TAG_PLAN) == []
    [(tag, condition)] = failures(with_status(5, items=[item(3)], conditions=[failed(5)]), TAG_PLAN)
    assert (tag, condition.reason) == ("latest", "Unauthorized")


def test_report_success_is_the_name_line_and_the_description() -> None:
    out, errors = report(with_status(5, items=[item(5)]), TAG_PLAN, NOW)
    assert errors == ""
    assert out.startswith("imagestream.image.openshift.io/app imported\n\nName:\t\t\tapp\n")
    assert out.endswith(
        "latest\n  tagged from quay.io/acme/app:1\n\n"
        f"  * quay.io/acme/app@{D1}\n      About a minute ago\n"
    )


def test_report_failure_says_which_tag_and_why() -> None:
    out, errors = report(with_status(5, items=[item(3)], conditions=[failed(5)]), TAG_PLAN, NOW)
    assert out.startswith("imagestream.image.openshift.io/app imported with errors\n\n")
    assert (
        "  ! error: Import failed (Unauthorized): quay.io/acme/app:1: authentication required\n"
        in out
    )
    assert errors == "error: tag latest failed: quay.io/acme/app:1: authentication required\n"


def test_no_answer_names_the_request_and_the_likely_cause() -> None:
    assert no_answer("dev", "app", ImportPlan(stream(), tags=["latest", "v1"]), 60.0) == (
        "the import of dev/app:latest, dev/app:v1 was requested, but no kbuild controller "
        "recorded a result within 60s (is `kbuild controller` running and watching namespace dev?)"
    )
    assert no_answer("dev", "app", ImportPlan(stream(), repository="quay.io/a"), 2.5).startswith(
        "the import of repository quay.io/a into dev/app was requested, but no kbuild controller "
        "recorded a result within 2.5s"
    )
