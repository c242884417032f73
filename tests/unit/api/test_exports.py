"""``builder.api`` loads its models lazily; every exported name must still resolve."""

from __future__ import annotations

import subprocess
import sys

import builder.api


def test_every_exported_name_resolves() -> None:
    missing = [name for name in builder.api.__all__ if getattr(builder.api, name, None) is None]
    assert missing == []


def test_importing_the_package_does_not_build_the_models() -> None:
    code = "import sys, builder.api; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
