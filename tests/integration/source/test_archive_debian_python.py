"""The link-chain archive through Debian's own python3, the interpreter of the build pod.

Debian bookworm's 3.11.2 has no tarfile ``data`` filter, which is what let
the chain of finding 5 (multi-tenant issue) write two directories above the
extraction root there while newer Pythons refused it.  This runs
``builder.source.extract_archive`` on /usr/bin/python3 itself.
"""

from __future__ import annotations

import io
import subprocess
import sysconfig
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
DEBIAN_PYTHON = Path("/usr/bin/python3")

SCRIPT = """
import sys
from builder.api import BuildError
from builder.source import extract_archive
try:
    extract_archive(sys.argv[1], sys.argv[2])
except BuildError as err:
    print(f"refused: {err.reason.value}: {err.detail}")
    sys.exit(3)
print("extracted")
"""


def _chain(path: Path) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, target in (("l1", "."), ("l1/l2", ".."), ("l2/l3", "..")):
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
        info = tarfile.TarInfo("l2/l3/x")
        info.size = 7
        tar.addfile(info, io.BytesIO(b"escaped"))
    return path


@pytest.mark.skipif(not DEBIAN_PYTHON.exists(), reason="needs Debian's /usr/bin/python3")
def test_the_link_chain_is_refused_on_debians_python(tmp_path: Path) -> None:
    version = subprocess.run(
        [str(DEBIAN_PYTHON), "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    outside = tmp_path / "outside"
    dest = outside / "a" / "root"
    dest.parent.mkdir(parents=True)
    archive = _chain(tmp_path / "app.tar")
    # The project's dependencies come from this test's environment (pure Python,
    # or built for CPython 3.11, which both interpreters are).
    paths = [str(REPO_ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    done = subprocess.run(
        [str(DEBIAN_PYTHON), "-c", SCRIPT, str(archive), str(dest)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={"PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 3, (version, done.stdout, done.stderr)
    assert "refused: FetchSourceFailed" in done.stdout
    assert "Traceback" not in done.stderr
    written = [p for p in outside.rglob("*") if p.is_file() and dest not in p.parents]
    assert written == [], f"python {version} wrote outside the root: {written}"
