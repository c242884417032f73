"""Hostile manifests: ``load_manifests`` raises ``ManifestError`` and nothing else, quickly.

The regression cases are the reported crashes (RecursionError, TypeError,
ValueError out of the loader) and the unbounded ones (aliases, size); the
properties feed arbitrary text and bytes, YAML built from its own tokens,
and valid BuildConfigs with one part replaced by junk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import ManifestError, load_manifests
from builder.api.manifest import MAX_MANIFEST_CHARS, MAX_NODES
from builder.api.nesting import MAX_DEPTH
from tests.support.jsontree import paths, replaced

BC: dict[str, Any] = {
    "apiVersion": "build.openshift.io/v1",
    "kind": "BuildConfig",
    "metadata": {"name": "app", "annotations": {"a": "b"}, "labels": {"l": "v"}},
    "spec": {
        "source": {"git": {"uri": "https://example.com/app.git"}, "contextDir": "web"},
        "strategy": {
            "sourceStrategy": {
                "from": {"kind": "ImageStreamTag", "name": "ruby:3"},
                "env": [{"name": "A", "value": "1"}],
            }
        },
        "output": {"to": {"kind": "ImageStreamTag", "name": "app:latest"}},
        "triggers": [{"type": "ConfigChange"}],
        "resources": {"limits": {"cpu": "500m"}},
    },
}


def laughs(levels: int) -> str:
    """ "Billion laughs" as one flow mapping: each level ten aliases of the one before."""
    entries = ["x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        entries.append(f"x{level}: &x{level} [" + ", ".join([f"*x{level - 1}"] * 10) + "]")
    return "{" + ", ".join(entries) + "}"


def problems(text: str | bytes) -> str:
    with pytest.raises(ManifestError) as caught:
        load_manifests(text)
    return str(caught.value)


# -- the reported crashes, and the unbounded cases -----------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # RecursionError out of json.
        ("[" * 100_000, "nested more than 100 levels deep"),
        # RecursionError out of PyYAML's composer.
        ("- " * 5000 + "x", "nested more than 100 levels deep"),
        ("a: " + "{b: " * 3000 + "1" + "}" * 3000, "nested more than 100 levels deep"),
        # TypeError: unhashable key.
        ("? [a]\n: 1\n", "a mapping key must be a scalar, not a list"),
        ("? !!set {a}\n: 1\n", "a mapping key must be a scalar, not a set"),
        ("? {a: 1}\n: 1\n", "mapping key"),
        # ValueError: integers past Python's 4300-digit conversion limit.
        ("a: " + "1" * 5000, "as !!int: Exceeds the limit"),
        # IndexError, KeyError, AttributeError out of PyYAML's constructors.
        ("!!int ", "cannot read '' as !!int"),
        ("a: !!bool x", "cannot read 'x' as !!bool"),
        ("a: !!timestamp x", "cannot read 'x' as !!timestamp"),
        ("!!set [a]", "expected a mapping, but found sequence"),
        ("[" + "1" * 5000 + "]", "not valid JSON: Exceeds the limit"),
        # Binary junk.
        (b"\x7fELF\x02\x01\x01\x00\xff\xfe", "not UTF-8 text (byte 8 is 0xff)"),
        # A timestamp with a trailing newline passed the $-anchored check.
        (
            yaml.safe_dump(
                {**BC, "metadata": {"name": "a", "creationTimestamp": "2024-01-01T00:00:00Z\n"}}
            ),
            "must be an RFC3339 time",
        ),
    ],
    ids=[
        "deep-json",
        "deep-yaml-block",
        "deep-yaml-flow",
        "list-key",
        "set-key",
        "map-key",
        "long-int-yaml",
        "empty-int",
        "bad-bool",
        "bad-timestamp",
        "set-of-sequence",
        "long-int-json",
        "binary",
        "time-newline",
    ],
)
def test_reported_crashes_are_manifest_errors(text: str | bytes, expected: str) -> None:
    assert expected in problems(text)


@pytest.mark.parametrize(
    "nested",
    [
        lambda depth: "[" * depth + "1" + "]" * depth,  # JSON (and YAML flow)
        lambda depth: "a: " + "[" * (depth - 1) + "1" + "]" * (depth - 1),  # YAML flow
        lambda depth: "- " * depth + "1",  # YAML block
    ],
    ids=["json", "yaml-flow", "yaml-block"],
)
def test_the_depth_limit_is_exact(nested: Callable[[int], str]) -> None:
    # Exactly MAX_DEPTH collections inside each other load (then fail as not
    # being an object); one more is refused, in JSON and YAML alike.
    assert "nested more than" not in problems(nested(MAX_DEPTH))
    assert f"nested more than {MAX_DEPTH} levels deep" in problems(nested(MAX_DEPTH + 1))


def test_billion_laughs_is_refused_before_anything_expands_it() -> None:
    # Seven levels: 10**7 values once expanded, in a free-form field
    # (managedFields) that pydantic keeps as it is: the expansion would
    # happen later, when the object is dumped or sent.
    text = yaml.safe_dump({**BC, "metadata": {"name": "app", "managedFields": ["BOMB"]}})
    bomb = text.replace("BOMB", laughs(7))
    assert f"more than {MAX_NODES} values once its aliases are expanded" in problems(bomb)
    (bc,) = load_manifests(text.replace("BOMB", laughs(3)))  # 10**3 is fine
    assert len(bc.metadata.managed_fields[0]["x3"]) == 10


def test_aliases_that_do_not_multiply_are_fine() -> None:
    text = (
        "apiVersion: build.openshift.io/v1\nkind: BuildConfig\n"
        "metadata: {name: app, labels: &labels {app: web}, annotations: *labels}\n"
        "spec:\n  strategy: {dockerStrategy: {}}\n  source: {git: {uri: 'https://e/x.git'}}\n"
    )
    (bc,) = load_manifests(text)
    assert bc.metadata.annotations == {"app": "web"}


def test_merge_keys_work() -> None:
    text = (
        "apiVersion: build.openshift.io/v1\nkind: BuildConfig\n"
        "metadata:\n  name: app\n  labels: &labels {app: web}\n"
        "  annotations:\n    <<: *labels\n    extra: x\n"
        "spec:\n  strategy: {dockerStrategy: {}}\n  source: {git: {uri: 'https://e/x.git'}}\n"
    )
    (bc,) = load_manifests(text)
    assert bc.metadata.annotations == {"app": "web", "extra": "x"}


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    assert "refers to its own enclosing node" in problems("a: &a [1, *a]\n")


def test_too_large() -> None:
    text = "# " + "x" * MAX_MANIFEST_CHARS
    assert "too large" in problems(text)


# -- properties ------------------------------------------------------------------

PROPERTY = settings(max_examples=150, deadline=None)


def only_manifest_errors(text: str | bytes) -> None:
    try:
        load_manifests(text)
    except ManifestError as err:
        assert err.problems
        assert all("\n" not in p for p in err.problems)


@PROPERTY
@given(text=st.text(max_size=400))
def test_property_arbitrary_text(text: str) -> None:
    only_manifest_errors(text)


@PROPERTY
@given(data=st.binary(max_size=400))
def test_property_arbitrary_bytes(data: bytes) -> None:
    only_manifest_errors(data)


YAML_TOKENS = st.sampled_from(
    [
        "&a ", "&b ", "*a", "*b", "? ", ": ", "- ", "[", "]", "{", "}", ", ", "\n", "  ",
        "---\n", "!!set ", "!!binary ", "!!int ", "!!float ", "!!str ", "!!map ", "!!seq ",
        "!!omap ", "!!pairs ", "!!timestamp ", "!!python/tuple ", "<<: ", "'", '"', "|",
        ">", "#", "%YAML 1.1\n", "1" * 4400, "0x1F", "1e400", ".nan", "~", "null",
        "true", "2001-12-14", "apiVersion: build.openshift.io/v1\n", "kind: BuildConfig\n",
        "kind: List\n", "items:", "metadata:", "name: ", "a", "\t", "\\", "\x00", "\ufeff",
    ]
)  # fmt: skip


@PROPERTY
@given(tokens=st.lists(YAML_TOKENS, max_size=40))
def test_property_yaml_made_of_yaml_tokens(tokens: list[str]) -> None:
    only_manifest_errors("".join(tokens))


JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["2024-01-01T00:00:00Z", "ImageStreamTag", "500m", "Docker"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


ALL_PATHS = paths(BC)[1:]


@PROPERTY
@given(
    where=st.sampled_from(ALL_PATHS),
    junk=JUNK,
    as_json=st.booleans(),
    wrap=st.sampled_from(["", "List", "many"]),
)
def test_property_a_buildconfig_with_one_part_replaced(
    where: tuple[Any, ...], junk: Any, as_json: bool, wrap: str
) -> None:
    doc = replaced(BC, where, junk)
    top: Any = doc
    if wrap == "List":
        top = {"apiVersion": "v1", "kind": "List", "items": [doc, junk]}
    if as_json:
        text = json.dumps(top)
    elif wrap == "many":
        text = yaml.safe_dump(doc) + "---\n" + yaml.safe_dump(junk)
    else:
        text = yaml.safe_dump(top)
    only_manifest_errors(text)
