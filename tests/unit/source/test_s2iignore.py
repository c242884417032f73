""".s2iignore as source-to-image's pkg/ignore applies it, inside the tree only.

The first table is s2i's ``ignore_test.go`` (patterns, files removed, files
kept), as facts; the second is kbuild's: links, ``..``, blank lines and bad
patterns, where s2i would delete outside the source or the whole upload.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import BuildError, StatusReason
from builder.source import apply_s2iignore
from builder.source import s2iignore as ignore_module
from builder.source.s2iignore import PatternError, compile_pattern


@dataclass(frozen=True)
class Case:
    name: str
    patterns: str
    removed: tuple[str, ...]
    kept: tuple[str, ...] = ()
    # Links to create: path -> target (verbatim).
    links: Mapping[str, str] = field(default_factory=dict)
    warnings: int = 0


S2I_CASES = [
    Case("TestSingleIgnore", "foo.bar\n", ("foo.bar",)),
    Case("TestWildcardIgnore", "foo.*\n", ("foo.a", "foo.b")),
    Case("TestExclusion", "foo.*\n!foo.a", ("foo.b",), ("foo.a",)),
    Case("TestSubDirs", "*/foo.a\n", ("asdf/foo.a",), ("foo.a",)),
    Case("TestBasicDelKeepMix", "foo.bar\n", ("foo.bar",), ("bar.foo",)),
    Case(
        "TestExcludeOverride",
        "LICENCSE.*\n!LICENCSE.md\n*.md",
        ("LICENCSE.foo", "LICENCSE.md"),
        ("foo.bar",),
    ),
    Case("TestExclusionWithWildcard", "*.bar\n!foo.*", ("boo.bar", "bar.bar"), ("foo.bar",)),
    Case("TestHopelessExclusion", "!LICENSE.md\nLICENSE.*", ("LICENSE.md",)),
]

KBUILD_CASES = [
    Case("comments, CRLF, spaces", "# foo.a\n  foo.b  \r\n", ("foo.b",), ("foo.a",)),
    Case("not recursive", "*.log\n", ("a.log",), ("sub/b.log",)),
    Case("a directory goes with all it holds", "sub\n", ("sub/x", "sub/y/z")),
    Case("cleaned as filepath.Join: ./a, /a, a/", "./a\n/b\nc/\n", ("a", "b", "c/x")),
    Case(
        "character classes and escapes",
        "[a-b].txt\n[^x]y\n\\*\n",
        ("a.txt", "zy", "*"),
        ("c.txt", "xy"),
    ),
    Case("a blank line is nothing (s2i removes the whole upload)", "\n\n", (), ("keep",)),
    Case("a pattern naming the root is skipped", ".\n/\n", (), ("keep",), warnings=2),
    Case("a pattern climbing out is skipped", "../keep\nsub/../../x\n", (), ("keep",), warnings=2),
    Case("a malformed pattern is skipped", "[a\nfoo\\\n[]a]\nb\n", ("b",), ("keep",), warnings=3),
    Case(
        "a link in the tree is followed",
        "bin/tool\n",
        ("tools/bin/tool",),
        ("tools/bin/other",),
        links={"bin": "tools/bin"},
    ),
    Case(
        "a matched link is removed as a link, its target stays",
        "latest\n",
        (),
        ("real/file",),
        links={"latest": "real"},
    ),
    Case(
        "nothing is matched or removed through a link out of the tree",
        "out/*\nout/victim\n*/victim\n",
        (),
        ("keep",),
        links={"out": "{outside}"},
    ),
]


def _tree(tmp_path: Path, case: Case) -> tuple[Path, Path]:
    root = tmp_path / "upload" / "src"
    root.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("host file")
    for path in (*case.removed, *case.kept):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x")
    for path, where in case.links.items():
        link = root / path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(where.format(outside=outside))
    (root / ".s2iignore").write_text(case.patterns)
    return root, outside


@pytest.mark.parametrize("case", S2I_CASES + KBUILD_CASES, ids=lambda c: c.name)
def test_s2iignore(case: Case, tmp_path: Path) -> None:
    root, outside = _tree(tmp_path, case)
    result = apply_s2iignore(root)
    for path in case.removed:
        assert not (root / path).exists(), path
    for path in case.kept:
        assert (root / path).exists(), path
    for path in case.links:
        assert (root / path).is_symlink() == (path != "latest"), path
    assert (outside / "victim").read_text() == "host file"
    assert len(result.warnings) == case.warnings, result.warnings
    for warning in result.warnings:
        assert warning.startswith(".s2iignore line "), warning


def test_no_s2iignore_removes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    assert apply_s2iignore(tmp_path).removed == ()
    assert (tmp_path / "a").exists()


def test_an_s2iignore_linked_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("*\n")
    root = tmp_path / "src"
    root.mkdir()
    (root / "a").write_text("x")
    (root / ".s2iignore").symlink_to(secret)
    with pytest.raises(BuildError) as caught:
        apply_s2iignore(root)
    assert caught.value.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
    assert "*" not in str(caught.value)
    assert (root / "a").exists()


def test_matching_work_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ignore_module, "MAX_VISITS", 50)
    for i in range(30):
        (tmp_path / f"f{i}").write_text("x")
    (tmp_path / ".s2iignore").write_text("*\n*\n")
    with pytest.raises(BuildError) as caught:
        apply_s2iignore(tmp_path)
    assert caught.value.reason is StatusReason.MANAGE_DOCKERFILE_FAILED


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("*", "a/b", False),
        ("a/*", "a/b", True),
        ("?", "/", False),
        ("[!a]", "!", True),  # Go: ! is literal in a class, ^ negates
        ("[\\]]", "]", True),
        ("a\\*", "a*", True),
        ("a\\*", "ab", False),
        (".*", ".hidden", True),  # Go's Match has no dotfile rule
    ],
)
def test_go_match_semantics(pattern: str, name: str, matches: bool) -> None:
    assert bool(compile_pattern(pattern).fullmatch(name)) is matches


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab*?[]^-\\/!.", max_size=12))
def test_any_pattern_compiles_or_is_a_pattern_error(pattern: str) -> None:
    with contextlib.suppress(PatternError):
        compile_pattern(pattern)
