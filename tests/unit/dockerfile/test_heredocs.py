"""Heredocs and here-strings in multi-stage Dockerfiles: the right stage's FROM is replaced.

Instruction boundaries are BuildKit's (``builder.dockerfile.parse``); these
cases are the ones a hand-written splitter got wrong (``<<<word`` read as a
heredoc swallowed the rest of the file) and the forms BuildKit's grammar has
(``<<-``, quoted words, several heredocs on one line, a file descriptor, a
heredoc after a continuation).
"""

from __future__ import annotations

import dockerfile as buildkit
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import BuildError, StatusReason
from builder.dockerfile import parse, rewrite, stage_images

NEW = "registry.example/builder:1"

CASES = {
    "here-string is not a heredoc": (
        "FROM golang AS build\nRUN cat <<<hello\nFROM debian\nCOPY --from=build /x /x\n",
        ["golang", "debian"],
        "FROM golang AS build\nRUN cat <<<hello\nFROM " + NEW + "\nCOPY --from=build /x /x\n",
    ),
    "heredoc body holding FROM": (
        "FROM golang AS build\nRUN <<EOF\nset -e\nFROM evil\nEOF\nFROM debian\nRUN true\n",
        ["golang", "debian"],
        "FROM golang AS build\nRUN <<EOF\nset -e\nFROM evil\nEOF\nFROM " + NEW + "\nRUN true\n",
    ),
    "last stage in a heredoc body is not a stage": (
        "FROM a AS one\nFROM b\nRUN <<EOF\nFROM c\nEOF\n",
        ["a", "b"],
        "FROM a AS one\nFROM " + NEW + "\nRUN <<EOF\nFROM c\nEOF\n",
    ),
    "here-string then heredoc": (
        "FROM a AS x\nRUN cat <<<one && cat <<EOF\nFROM no\nEOF\nFROM b AS y\n",
        ["a", "b"],
        "FROM a AS x\nRUN cat <<<one && cat <<EOF\nFROM no\nEOF\nFROM " + NEW + " AS y\n",
    ),
    "dash heredoc with tabs": (
        "FROM a\nRUN <<-EOT\n\tFROM no\n\tEOT\nFROM b\n",
        ["a", "b"],
        "FROM a\nRUN <<-EOT\n\tFROM no\n\tEOT\nFROM " + NEW + "\n",
    ),
    "two quoted heredocs on one COPY": (
        'FROM a\nCOPY <<A <<"B" /dst/\nFROM x\nA\nFROM y\nB\nFROM c\n',
        ["a", "c"],
        'FROM a\nCOPY <<A <<"B" /dst/\nFROM x\nA\nFROM y\nB\nFROM ' + NEW + "\n",
    ),
    "file descriptor heredoc": (
        "FROM a\nRUN 3<<EOF cat /dev/fd/3\nFROM no\nEOF\nFROM b\n",
        ["a", "b"],
        "FROM a\nRUN 3<<EOF cat /dev/fd/3\nFROM no\nEOF\nFROM " + NEW + "\n",
    ),
    "heredoc after a continuation": (
        "FROM a\nRUN echo \\\n <<EOF\nFROM no\nEOF\nFROM b\n",
        ["a", "b"],
        "FROM a\nRUN echo \\\n <<EOF\nFROM no\nEOF\nFROM " + NEW + "\n",
    ),
    "LABEL takes no heredoc": (
        "FROM a\nLABEL x=<<EOF\nFROM b\n",
        ["a", "b"],
        "FROM a\nLABEL x=<<EOF\nFROM " + NEW + "\n",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_right_stage_is_replaced(name: str) -> None:
    text, images, expected = CASES[name]
    assert stage_images(text) == images
    assert rewrite(text, from_image=NEW) == expected
    assert parse(text).write() == text


def test_strategy_env_goes_after_real_froms_only() -> None:
    text = "FROM a\nRUN cat <<<x\nRUN <<EOF\nFROM z\nEOF\nFROM b\n"
    out = rewrite(text, strategy_env=[("K", "v")])
    assert out == 'FROM a\nENV K="v"\nRUN cat <<<x\nRUN <<EOF\nFROM z\nEOF\nFROM b\nENV K="v"\n'


def test_an_unterminated_heredoc_is_a_typed_error() -> None:
    with pytest.raises(BuildError) as err:
        rewrite("FROM a\nRUN <<EOF\necho never ends\n", from_image=NEW)
    assert err.value.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
    assert "heredoc" in err.value.detail


PIECES = st.sampled_from(
    ["FROM a", "FROM b AS s", "from c as t", "RUN x", "RUN <<EOF", "RUN <<-EOF", "RUN cat <<<EOF",
     "COPY <<A <<B /d/", 'RUN <<"EOF"', "RUN 3<<EOF c", "EOF", "\tEOF", "A", "B", "# c", "",
     "RUN a \\", "  b", "ENV K=v", "LABEL l=<<EOF", "FROM z", "ONBUILD RUN <<EOF"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(PIECES, min_size=1, max_size=14))
def test_property_instructions_are_buildkits_and_text_round_trips(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    try:
        commands = list(buildkit.parse_string(text))
    except buildkit.GoParseError:
        commands = None
    try:
        parsed = parse(text)
    except BuildError as err:
        assert commands is None
        assert err.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
        return
    assert parsed.write() == text
    instructions = parsed.instructions()
    assert [i.keyword for i in instructions] == [c.cmd.upper() for c in commands or []]
    froms = [i for i, c in enumerate(commands or []) if c.cmd.upper() == "FROM"]
    if not froms:
        return
    try:
        out = rewrite(text, from_image=NEW)
    except BuildError:
        return  # a FROM BuildKit reads but OpenShift's edit refuses (no image)
    # Exactly the last FROM's lines changed, each other instruction kept verbatim.
    again = parse(out).instructions()
    last = froms[-1]
    assert [i.text for k, i in enumerate(again) if k != last] == [
        i.text for k, i in enumerate(instructions) if k != last
    ]
    assert again[last].text.startswith(f"FROM {NEW}")
