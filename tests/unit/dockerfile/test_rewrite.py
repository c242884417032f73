"""Table-driven tests of OpenShift's Docker-strategy Dockerfile edits."""

from __future__ import annotations

import pytest

from builder.api import BuildError, StatusReason
from builder.dockerfile import parse, rewrite, stage_images

MULTI = """\
# syntax=docker/dockerfile:1
ARG GO=1.22
FROM golang:${GO} AS build
RUN echo one \\
    && echo two
# the final stage
FROM --platform=linux/amd64 debian:12 AS final
COPY --from=build /out /out
CMD ["/out"]
"""


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("untouched round-trips", {}, MULTI),
        (
            "from replaces only the last FROM, keeping flags and alias",
            {"from_image": "reg/base@sha256:" + "b" * 64},
            MULTI.replace(
                "FROM --platform=linux/amd64 debian:12 AS final",
                "FROM --platform=linux/amd64 reg/base@sha256:" + "b" * 64 + " AS final",
            ),
        ),
        (
            "strategy env after every FROM",
            {"strategy_env": [("A", "1"), ("B", "x y")]},
            MULTI.replace(
                "FROM golang:${GO} AS build\n", 'FROM golang:${GO} AS build\nENV A="1" B="x y"\n'
            ).replace("AS final\n", 'AS final\nENV A="1" B="x y"\n'),
        ),
        (
            "build env and labels appended at the end",
            {"build_env": [("OPENSHIFT_BUILD_NAME", "app-1")], "labels": [("io.k8s.x", 'q"uote')]},
            MULTI + 'ENV OPENSHIFT_BUILD_NAME="app-1"\nLABEL "io.k8s.x"="q\\"uote"\n',
        ),
    ],
)
def test_rewrite(name: str, kwargs: dict[str, object], expected: str) -> None:
    assert rewrite(MULTI, **kwargs) == expected  # type: ignore[arg-type]


def test_single_stage_from_without_alias() -> None:
    assert rewrite("FROM a\nRUN x\n", from_image="b") == "FROM b\nRUN x\n"


def test_missing_final_newline_is_added_once() -> None:
    assert rewrite("FROM a", labels=[("k", "v")]) == 'FROM a\nLABEL "k"="v"\n'


def test_heredoc_body_is_not_parsed_as_instructions() -> None:
    text = "FROM a\nRUN <<EOF\nFROM not-an-instruction\nEOF\nFROM b\n"
    froms = [i.text for i in parse(text).instructions() if i.keyword == "FROM"]
    assert froms == ["FROM a\n", "FROM b\n"]
    assert rewrite(text, from_image="c").endswith("FROM c\n")


def test_backtick_escape_directive() -> None:
    text = "# escape=`\nFROM a\nRUN echo `\n  hi\nFROM b\n"
    assert [i.keyword for i in parse(text).instructions()] == ["FROM", "RUN", "FROM"]


def test_stage_images_skip_stage_references_and_scratch() -> None:
    text = "FROM a AS one\nFROM one AS two\nFROM scratch\nFROM reg/c:1\n"
    assert stage_images(text) == ["a", "reg/c:1"]


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [
        ("RUN echo no from\n", {}),
        ("FROM a b c d\n", {"from_image": "x"}),
        ("FROM a\n", {"strategy_env": [("1BAD", "x")]}),
        ("FROM a\n", {"from_image": "has space"}),
    ],
)
def test_rewrite_refuses(text: str, kwargs: dict[str, object]) -> None:
    with pytest.raises(BuildError) as caught:
        rewrite(text, **kwargs)  # type: ignore[arg-type]
    assert caught.value.reason in {
        StatusReason.MANAGE_DOCKERFILE_FAILED,
        StatusReason.INVALID_IMAGE_REFERENCE,
    }
