"""``kbuild import-image --dry-run``: which images are read, and the stream it would leave (pure).

The registry is a function here: the rows are about what is asked of it and
what is made of its answers; tests/cluster/test_cli_verbs_more.py reads a
real registry.
"""

from __future__ import annotations

import pytest

from builder.api import BuildError
from builder.api.reasons import StatusReason
from builder.cli.importdryrun import (
    MAX_REPOSITORY_TAGS,
    Resolved,
    _requests,
    access,
    report,
    resolve_all,
    would_be,
)
from builder.cli.importimage import ImportOptions, plan_import
from builder.streams.tags import import_failure, latest_event
from tests.unit.cli.helpers import NOW
from tests.unit.cli.test_importimage import D1, INSECURE, docker, stream

D2 = "sha256:" + "2" * 64
NOW_TEXT = "2024-05-01T12:00:00Z"


def no_listing(_repository: str, _insecure: bool) -> list[str]:
    raise AssertionError("not a repository import")


@pytest.mark.parametrize(
    ("current", "opts", "expected"),
    [
        (None, ImportOptions("app:8", from_="reg.example.com/t/app:8", confirm=True),
         [("8", "reg.example.com/t/app:8", False)]),
        (None, ImportOptions("app", from_="reg.example.com/t/app", confirm=True, insecure=True),
         [("latest", "reg.example.com/t/app", True)]),
        (stream([docker("latest", "reg.example.com/t/app:1")]), ImportOptions("app"),
         [("latest", "reg.example.com/t/app:1", False)]),
        (stream([docker("latest", "reg.example.com/t/app:1")], annotations={INSECURE: "true"}),
         ImportOptions("app"), [("latest", "reg.example.com/t/app:1", True)]),
    ],
)  # fmt: skip
def test_the_tags_read(
    current: object, opts: ImportOptions, expected: list[tuple[str, str, bool]]
) -> None:
    plan = plan_import(current, "dev", "app", opts.target.partition(":")[2] or "latest", opts)  # type: ignore[arg-type]
    assert _requests(plan, no_listing) == expected


def test_a_repository_lists_its_tags_up_to_the_bulk_limit() -> None:
    opts = ImportOptions("app", from_="reg.example.com/t/app", confirm=True, all=True)
    plan = plan_import(stream([docker("own", "x/y:1")]), "dev", "app", "", opts)
    tags = ["own", *(f"v{i}" for i in range(MAX_REPOSITORY_TAGS + 5))]
    requests = _requests(plan, lambda _repository, _insecure: tags)
    assert len(requests) == MAX_REPOSITORY_TAGS
    assert requests[0] == ("v0", "reg.example.com/t/app:v0", False)  # "own" is a spec tag


def test_answers_and_failures() -> None:
    def resolve(source: str, _insecure: bool) -> tuple[str, str]:
        if source.endswith(":gone"):
            raise BuildError(StatusReason.INVALID_IMAGE_REFERENCE, f"{source}: manifest unknown")
        return f"{source.rpartition(':')[0]}@{D2}", D2

    answers = resolve_all([("8", "r.example.com/a:8", False), ("9", "r.example.com/a:gone", False)],
                          resolve)  # fmt: skip
    assert answers == [
        Resolved("8", reference=f"r.example.com/a@{D2}", digest=D2),
        Resolved(
            "9", reason="InvalidImageReference", message="r.example.com/a:gone: manifest unknown"
        ),
    ]


def test_the_stream_it_would_leave_and_the_text() -> None:
    current = stream(
        [docker("8", "r.example.com/a:8"), docker("9", "r.example.com/a:9")],
        status_tags=[{"tag": "8", "items": [{"created": "2024-04-01T00:00:00Z",
                      "dockerImageReference": f"r.example.com/a@{D1}", "image": D1,
                      "generation": 1}]}],
    )  # fmt: skip
    plan = plan_import(current, "dev", "app", "", ImportOptions("app", all=True))
    answers = [
        Resolved("8", reference=f"r.example.com/a@{D2}", digest=D2),
        Resolved("9", reason="InvalidImageReference", message="manifest unknown"),
    ]
    after = would_be(plan, answers, NOW_TEXT)
    event = latest_event(after, "8")
    assert event is not None and event.image == D2
    assert [i.image for i in after.status.tags[0].items] == [D2, D1]  # history kept
    failure = import_failure(after, "9")
    assert failure is not None and failure.message == "manifest unknown"
    assert plan.stream.status.tags[0].items[0].image == D1  # the plan itself is untouched
    out, errors = report(after, answers, NOW)
    assert out.startswith("imagestream.image.openshift.io/app imported with errors (dry run)\n\n")
    assert f"r.example.com/a@{D2}" in out
    assert errors == "error: tag 9 failed: manifest unknown\n"


def test_a_repository_tag_failure_is_named_as_oc_names_it() -> None:
    opts = ImportOptions("app", from_="r.example.com/a", confirm=True, all=True)
    plan = plan_import(None, "dev", "app", "", opts)
    answers = [Resolved("9", reason="InvalidImageReference", message="manifest unknown")]
    _, errors = report(would_be(plan, answers, NOW_TEXT), answers, NOW, repository=True)
    assert errors == "error: repository tag 9 failed: manifest unknown\n"


@pytest.mark.parametrize(
    ("insecure", "flag", "env", "anonymous", "plain"),
    [
        (False, None, set(), False, set()),
        # Plain HTTP allowed by the stream or the tag alone: the user's credentials stay home.
        (True, None, set(), True, {"reg.example.com"}),
        # The user's own choice, by flag or environment: credentials as usual.
        (True, True, set(), False, {"reg.example.com"}),
        (True, None, {"reg.example.com"}, False, {"reg.example.com"}),
        (True, None, {"other.example.com"}, True, {"reg.example.com", "other.example.com"}),
    ],
)
def test_credentials_only_where_the_user_allowed_plain_http(
    insecure: bool, flag: bool | None, env: set[str], anonymous: bool, plain: set[str]
) -> None:
    opts = ImportOptions("app", insecure=flag)
    how = access("reg.example.com/t/app:1", insecure, opts, env)
    assert how.anonymous is anonymous
    assert set(how.insecure) == plain
