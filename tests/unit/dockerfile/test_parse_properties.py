"""A committer's Dockerfile: parsed and rewritten, or a ``BuildError``; nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import BuildError, StatusReason
from builder.dockerfile import parse, rewrite, stage_images


@pytest.mark.parametrize("separator", ["\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\r"])
def test_only_newline_ends_a_line(separator: str) -> None:
    # str.splitlines split here, so "RUN x<FF>FROM evil" read as a RUN and a
    # FROM; buildah reads one RUN line.
    text = f"FROM base\nRUN echo a{separator}FROM evil\n"
    assert [i.keyword for i in parse(text).instructions()] == ["FROM", "RUN"]
    assert stage_images(text) == ["base"]
    out = rewrite(text, from_image="registry.example/builder:1")
    assert out.startswith("FROM registry.example/builder:1\n")
    assert f"RUN echo a{separator}FROM evil\n" in out


LINES = st.sampled_from(
    ["FROM a", "FROM a AS b", "FROM --platform=x b", "from b as c", "FROM", "FROM 'a", "RUN x",
     "RUN <<EOF", "EOF", "ENV A=1", "# escape=`", "# escape=x", "# syntax=x", "#", "", "\\",
     "`", "  ", "\t", "\r", "\x0c", "\u2028", "ARG X", "COPY . /", "FROM a b c d", "FROM \"a"]
)  # fmt: skip


def only_typed(text: str) -> None:
    try:
        parse(text)
        stage_images(text)
        rewrite(
            text,
            from_image="registry.example/builder:1",
            strategy_env=[("A", "1")],
            build_env=[("OPENSHIFT_BUILD_NAME", "b-1")],
            labels=[("l", "v")],
        )
    except BuildError as err:
        assert err.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
        return
    if text.endswith("\n"):
        assert parse(text).write() == text


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200))
def test_property_arbitrary_text(text: str) -> None:
    only_typed(text)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(LINES, max_size=12), end=st.sampled_from(["", "\n"]))
def test_property_made_of_dockerfile_lines(lines: list[str], end: str) -> None:
    only_typed("\n".join(lines) + end)
