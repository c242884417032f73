"""``kbuild build -f FILE`` with a hostile FILE: one ``error:`` line and exit 1, never a traceback.

Run through the CLI's entry point (``builder.cli.main.main``), as a user
runs it; the manifest is read and refused before anything is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.api.manifest import MAX_MANIFEST_CHARS
from builder.cli.main import main

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
    for i in range(8)
)

CASES: list[tuple[str, str | bytes, str]] = [
    ("deep JSON", "[" * 100_000, "nested more than 100 levels deep"),
    ("deep YAML", "- " * 5000 + "x", "nested more than 100 levels deep"),
    ("unhashable key", "? [a]\n: 1\n", "a mapping key must be a scalar"),
    ("billion laughs", BOMB, "once its aliases are expanded"),
    ("integer too long", "spec: " + "9" * 5000, "Exceeds the limit"),
    ("binary junk", b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00\x00", "not UTF-8 text"),
    ("not a mapping", "- just\n- a list\n", "expected an object with apiVersion and kind"),
    ("huge", "#" * (MAX_MANIFEST_CHARS + 10), "too large"),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, expected: str
) -> None:
    path = tmp_path / "manifest.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    status = main(["build", "-f", str(path), "--to", "registry.example/me/app:1"])
    err = capsys.readouterr().err
    assert status == 1
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: CannotCreateBuildPodSpec: ")
    assert expected in lines[0]


@pytest.mark.parametrize("name", ["/dev/zero", "directory", "missing.yaml"])
def test_files_that_are_not_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = Path(name) if name.startswith("/") else tmp_path / name
    if name == "directory":
        path.mkdir()
    status = main(["build", "-f", str(path), "--to", "registry.example/me/app:1"])
    lines = capsys.readouterr().err.splitlines()
    assert status == 1
    assert len(lines) == 1
    assert lines[0].startswith("error: CannotCreateBuildPodSpec: ")
