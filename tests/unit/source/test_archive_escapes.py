"""Archives that escape through chains of links, and archives that explode.

The link chain of the multi-tenant issue's finding 5 passed the old
per-member lexical check and wrote outside the root on Python 3.11.2 (no
tarfile ``data`` filter); the bomb of finding 7 had no limit at all.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.api import BuildError, StatusReason
from builder.source.archive import Limits, extract_safely


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def _hardlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE
    info.linkname = target
    return info


def _regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, io.BytesIO(data)


def write_tar(path: Path, members: list[tarfile.TarInfo | tuple[tarfile.TarInfo, io.BytesIO]],
              mode: str = "w") -> Path:  # fmt: skip
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for member in members:
            if isinstance(member, tuple):
                tar.addfile(*member)
            else:
                tar.addfile(member)
    return path


# The chain of finding 5: each member passes a lexical check alone.
CHAIN = [
    _symlink("l1", "."),
    _symlink("l1/l2", ".."),
    _symlink("l2/l3", ".."),
    _regular("l2/l3/x", b"escaped"),
]


@pytest.fixture
def box(tmp_path: Path) -> tuple[Path, Path]:
    """(root, sentinel): extraction root two levels below a directory watched for writes."""
    sentinel = tmp_path / "outside"
    root = sentinel / "a" / "root"
    root.mkdir(parents=True)
    return root, sentinel


def _files_outside(sentinel: Path, root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(sentinel, followlinks=False):
        here = Path(dirpath)
        if here == root or root in here.parents:
            continue
        found += [here / f for f in filenames]
        dirnames[:] = [d for d in dirnames if (here / d) != root]
    return found


def test_the_link_chain_is_refused_and_writes_nothing_outside(
    tmp_path: Path, box: tuple[Path, Path]
) -> None:
    root, sentinel = box
    archive = write_tar(tmp_path / "app.tar", list(CHAIN))
    with pytest.raises(BuildError) as caught:
        extract_safely(archive, root)
    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert "through a link" in caught.value.detail
    assert _files_outside(sentinel, root) == []
    assert list(root.iterdir()) == []


def test_links_that_escape_only_together_are_refused(
    tmp_path: Path, box: tuple[Path, Path]
) -> None:
    """``d/up -> ..`` is the root; ``s -> d/up/..`` is lexically ``d`` but really the parent."""
    root, _ = box
    archive = write_tar(tmp_path / "app.tar", [
        _regular("d/keep", b"x"), _symlink("d/up", ".."), _symlink("s", "d/up/.."),
    ])  # fmt: skip
    with pytest.raises(BuildError, match="resolves outside the archive"):
        extract_safely(archive, root)
    assert list(root.iterdir()) == []


def test_a_hard_link_to_a_link_is_refused(tmp_path: Path, box: tuple[Path, Path]) -> None:
    root, _ = box
    archive = write_tar(tmp_path / "app.tar", [_symlink("l", "a"), _regular("a", b"x"),
                                               _hardlink("h", "l")])  # fmt: skip
    with pytest.raises(BuildError, match="not a file"):
        extract_safely(archive, root)


def test_links_inside_and_later_duplicates_still_work(
    tmp_path: Path, box: tuple[Path, Path]
) -> None:
    root, _ = box
    archive = write_tar(tmp_path / "app.tar", [
        _regular("app/main.py", b"old"), _regular("app/main.py", b"new"),
        _symlink("app/current", "main.py"), _hardlink("app/copy.py", "app/main.py"),
        _symlink("top", "app"),
    ])  # fmt: skip
    assert extract_safely(archive, root) == 5
    assert (root / "app/current").read_bytes() == b"new"
    assert (root / "app/copy.py").read_bytes() == b"new"
    assert (root / "top").is_symlink()


def test_a_gzip_bomb_stops_at_the_byte_limit(tmp_path: Path, box: tuple[Path, Path]) -> None:
    root, _ = box
    archive = write_tar(tmp_path / "bomb.tar.gz", [_regular("zeros", b"\0" * (8 << 20))], "w:gz")
    assert archive.stat().st_size < 64 << 10
    with pytest.raises(BuildError) as caught:
        extract_safely(archive, root, Limits(bytes=1 << 20))
    assert "more than 1048576 bytes" in caught.value.detail
    assert "KBUILD_ARCHIVE_MAX_BYTES" in caught.value.detail
    assert list(root.iterdir()) == []


def test_too_many_entries_stop_at_the_entry_limit(tmp_path: Path, box: tuple[Path, Path]) -> None:
    root, _ = box
    archive = write_tar(tmp_path / "many.tar", [_regular(f"f{i}", b"") for i in range(50)])
    with pytest.raises(BuildError, match="more than 20 entries"):
        extract_safely(archive, root, Limits(entries=20))
    assert list(root.iterdir()) == []


def test_a_zip_bomb_stops_at_the_byte_limit(tmp_path: Path, box: tuple[Path, Path]) -> None:
    root, _ = box
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros", b"\0" * (8 << 20))
    with pytest.raises(BuildError, match="more than 1048576 bytes"):
        extract_safely(archive, root, Limits(bytes=1 << 20))


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBUILD_ARCHIVE_MAX_ENTRIES", "7")
    monkeypatch.setenv("KBUILD_ARCHIVE_MAX_BYTES", "nonsense")
    limits = Limits.from_environment()
    assert limits.entries == 7
    assert limits.bytes == 4 * 1024**3


# -- property: whatever the archive, nothing lands outside the root -----------------

NAMES = st.lists(st.sampled_from(["a", "b", ".", "..", "c"]), min_size=1, max_size=3).map("/".join)
TARGETS = st.lists(st.sampled_from(["a", "b", ".", "..", "c", ""]), min_size=1, max_size=4).map(
    "/".join
) | st.sampled_from(["/", "/etc", "../../.."])
MEMBER = st.one_of(
    st.tuples(st.just("file"), NAMES, st.just("")),
    st.tuples(st.just("dir"), NAMES, st.just("")),
    st.tuples(st.just("sym"), NAMES, TARGETS),
    st.tuples(st.just("hard"), NAMES, NAMES),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(members=st.lists(MEMBER, min_size=1, max_size=8))
def test_property_no_archive_writes_outside_its_root(
    tmp_path: Path, members: list[tuple[str, str, str]]
) -> None:
    base = Path(tempfile.mkdtemp(dir=tmp_path))
    sentinel = base / "outside"
    root = sentinel / "a" / "root"
    root.mkdir(parents=True)
    infos: list[tarfile.TarInfo | tuple[tarfile.TarInfo, io.BytesIO]] = []
    for kind, name, target in members:
        if kind == "file":
            infos.append(_regular(name, b"payload"))
        elif kind == "dir":
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            infos.append(info)
        elif kind == "sym":
            infos.append(_symlink(name, target))
        else:
            infos.append(_hardlink(name, target))
    archive = write_tar(base / "p.tar", infos)
    try:
        extract_safely(archive, root)
    except BuildError as err:
        assert err.reason is StatusReason.FETCH_SOURCE_FAILED
    assert _files_outside(sentinel, root) == []
    real_root = Path(os.path.realpath(root))
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for entry in dirnames + filenames:
            path = Path(dirpath) / entry
            if stat.S_ISLNK(os.lstat(path).st_mode):
                resolved = Path(os.path.realpath(path))
                assert resolved == real_root or resolved.is_relative_to(real_root), path
