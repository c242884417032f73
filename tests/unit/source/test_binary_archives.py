"""Binary input: archives extracted safely, single files, directories."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from builder.api import BuildError, StatusReason
from builder.source import SourceInfo, copy_directory, extract_archive, fetch_binary, place_file

TarEntry = Callable[[tarfile.TarFile], None]


def _file(name: str, data: bytes = b"data", mode: int = 0o644) -> TarEntry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = mode
        tar.addfile(info, io.BytesIO(data))

    return add


def _special(name: str, kind: bytes, linkname: str = "") -> TarEntry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
            info.devmajor, info.devminor = 1, 3
        tar.addfile(info)

    return add


def _tar(path: Path, *entries: TarEntry, mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for add in entries:
            add(tar)
    return path


def _zip(path: Path, entries: list[tuple[str, bytes, int]]) -> Path:
    """Entries are (name, data, unix mode including file type bits)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "dest"


# ----------------------------------------------------------------- good archives


@pytest.mark.parametrize(("suffix", "mode"), [(".tar", "w"), (".tar.gz", "w:gz"), (".tgz", "w:gz")])
def test_tar_flavours_extract(tmp_path: Path, dest: Path, suffix: str, mode: str) -> None:
    archive = _tar(
        tmp_path / f"in{suffix}",
        _file("./app/main.py", b"print(1)\n"),
        _file("run.sh", b"#!/bin/sh\n", mode=0o4755),
        _special("app/current", tarfile.SYMTYPE, "main.py"),
        _special("app/hard", tarfile.LNKTYPE, "app/main.py"),
        mode=mode,
    )
    info = extract_archive(archive, dest)

    assert info == SourceInfo()
    assert (dest / "app/main.py").read_bytes() == b"print(1)\n"
    assert (dest / "app/current").is_symlink()
    assert (dest / "app/current").read_bytes() == b"print(1)\n"
    assert (dest / "app/hard").read_bytes() == b"print(1)\n"
    run_mode = (dest / "run.sh").stat().st_mode
    assert run_mode & stat.S_IXUSR
    assert not run_mode & stat.S_ISUID  # setuid bit dropped


def test_zip_extracts_files_dirs_modes_and_inner_links(tmp_path: Path, dest: Path) -> None:
    archive = _zip(
        tmp_path / "in.zip",
        [
            ("app/", b"", stat.S_IFDIR | 0o755),
            ("app/main.py", b"print(1)\n", stat.S_IFREG | 0o644),
            ("app/run.sh", b"#!/bin/sh\n", stat.S_IFREG | 0o755),
            ("app/current", b"main.py", stat.S_IFLNK | 0o777),
            ("plain.txt", b"no unix mode", 0),
        ],
    )
    extract_archive(archive, dest)

    assert (dest / "app/main.py").read_bytes() == b"print(1)\n"
    assert (dest / "app/run.sh").stat().st_mode & stat.S_IXUSR
    assert (dest / "app/current").is_symlink()
    assert (dest / "app/current").read_bytes() == b"print(1)\n"
    assert (dest / "plain.txt").read_bytes() == b"no unix mode"


# ------------------------------------------------------------- malicious archives


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([_file("/etc/evil")], "absolute path"),
        ([_file("../evil")], "contains '..'"),
        ([_file("app/../../evil")], "contains '..'"),
        ([_special("link", tarfile.SYMTYPE, "/etc/passwd")], "points outside the archive"),
        ([_special("link", tarfile.SYMTYPE, "../../etc")], "points outside the archive"),
        ([_special("a/link", tarfile.SYMTYPE, "../..")], "points outside the archive"),
        (
            [_special("link", tarfile.SYMTYPE, "/tmp"), _file("link/evil")],
            "points outside the archive",
        ),
        ([_special("hard", tarfile.LNKTYPE, "/etc/passwd")], "hard link"),
        ([_special("hard", tarfile.LNKTYPE, "../outside")], "hard link"),
        ([_special("null", tarfile.CHRTYPE)], "device file"),
        ([_special("disk", tarfile.BLKTYPE)], "device file"),
        ([_special("pipe", tarfile.FIFOTYPE)], "named pipe"),
    ],
)
def test_malicious_tar_is_refused_before_writing(
    tmp_path: Path, dest: Path, entries: list[TarEntry], reason: str
) -> None:
    archive = _tar(tmp_path / "evil.tar", _file("harmless.txt"), *entries)

    with pytest.raises(BuildError) as caught:
        extract_archive(archive, dest)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert caught.value.detail.startswith("refusing to extract archive 'evil.tar': ")
    assert reason in caught.value.detail
    assert list(dest.iterdir()) == []  # nothing written, not even the harmless entry
    assert not (tmp_path / "evil").exists()


def test_tar_link_chain_out_of_the_root_is_refused(tmp_path: Path, dest: Path) -> None:
    """Each link looks harmless lexically; together they would escape."""
    archive = _tar(
        tmp_path / "chain.tar",
        _special("a", tarfile.SYMTYPE, "."),
        _special("a/b", tarfile.SYMTYPE, ".."),
        _file("a/b/escaped"),
    )
    with pytest.raises(BuildError) as caught:
        extract_archive(archive, dest)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([("/etc/evil", b"x", stat.S_IFREG | 0o644)], "absolute path"),
        ([("../evil", b"x", stat.S_IFREG | 0o644)], "contains '..'"),
        ([("a/../../evil", b"x", stat.S_IFREG | 0o644)], "contains '..'"),
        ([("link", b"/etc/passwd", stat.S_IFLNK | 0o777)], "points outside the archive"),
        ([("link", b"../..", stat.S_IFLNK | 0o777)], "points outside the archive"),
        ([("null", b"", stat.S_IFCHR | 0o666)], "device file"),
        ([("pipe", b"", stat.S_IFIFO | 0o666)], "special file"),
    ],
)
def test_malicious_zip_is_refused_before_writing(
    tmp_path: Path, dest: Path, entries: list[tuple[str, bytes, int]], reason: str
) -> None:
    archive = _zip(tmp_path / "evil.zip", [("harmless.txt", b"ok", stat.S_IFREG | 0o644), *entries])

    with pytest.raises(BuildError) as caught:
        extract_archive(archive, dest)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert reason in caught.value.detail
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "evil").exists()


def test_zip_entry_through_a_link_is_refused(tmp_path: Path, dest: Path) -> None:
    archive = _zip(
        tmp_path / "chain.zip",
        [
            ("a", b".", stat.S_IFLNK | 0o777),
            ("a/b", b"..", stat.S_IFLNK | 0o777),
            ("a/b/escaped", b"x", stat.S_IFREG | 0o644),
        ],
    )
    with pytest.raises(BuildError):
        extract_archive(archive, dest)

    assert not (tmp_path / "escaped").exists()


def test_not_an_archive(tmp_path: Path, dest: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("just text, not an archive\n")

    with pytest.raises(BuildError) as caught:
        extract_archive(junk, dest)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert "not a tar, tar.gz, tgz or zip archive" in caught.value.detail


def test_truncated_gzip_is_a_fetch_failure(tmp_path: Path, dest: Path) -> None:
    good = _tar(tmp_path / "good.tgz", _file("a.txt", os.urandom(100_000)), mode="w:gz")
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(good.read_bytes()[:200])

    with pytest.raises(BuildError) as caught:
        extract_archive(broken, dest)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED


# ------------------------------------------------------------ files and directories


def test_single_file_lands_in_the_root_under_its_name(tmp_path: Path, dest: Path) -> None:
    jar = tmp_path / "app.jar"
    jar.write_bytes(b"PK\x03\x04 pretend jar")

    info = place_file(jar, dest)

    assert info == SourceInfo()
    assert (dest / "app.jar").read_bytes() == b"PK\x03\x04 pretend jar"
    assert [p.name for p in dest.iterdir()] == ["app.jar"]


def test_as_file_renames_and_is_not_extracted(tmp_path: Path, dest: Path) -> None:
    archive = _tar(tmp_path / "bundle.tgz", _file("inner.txt"), mode="w:gz")

    fetch_binary(archive, dest, as_file="ROOT.war")

    assert [p.name for p in dest.iterdir()] == ["ROOT.war"]
    assert (dest / "ROOT.war").read_bytes() == archive.read_bytes()


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".", "/abs", "a\\b"])
def test_as_file_must_be_a_plain_name(tmp_path: Path, dest: Path, name: str) -> None:
    src = tmp_path / "f"
    src.write_text("x")

    with pytest.raises(BuildError) as caught:
        place_file(src, dest, as_file=name)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert "plain file name" in caught.value.detail


def test_fetch_binary_dispatches_archive_and_directory(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "in.tar", _file("from-archive.txt"))
    fetch_binary(archive, tmp_path / "a")
    assert (tmp_path / "a" / "from-archive.txt").is_file()

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "from-dir.txt").write_text("d")
    fetch_binary(folder, tmp_path / "b")
    assert (tmp_path / "b" / "from-dir.txt").is_file()


def test_directory_copy_keeps_links_and_skips_pipes(tmp_path: Path, dest: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub/a.txt").write_text("a")
    (src / "link").symlink_to("sub/a.txt")
    pipe = src / "pipe"
    os.mkfifo(pipe)
    lines: list[str] = []

    copy_directory(src, dest, log=lines.append)

    assert (dest / "sub/a.txt").read_text() == "a"
    assert (dest / "link").is_symlink()
    assert not (dest / "pipe").exists()
    assert any("Skipping special file" in line and "pipe" in line for line in lines)


def test_directory_cannot_be_copied_into_itself(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_text("a")

    with pytest.raises(BuildError, match="into itself"):
        copy_directory(src, src / "build")


def test_destination_must_be_empty(tmp_path: Path, dest: Path) -> None:
    dest.mkdir()
    (dest / "old").write_text("old")
    src = tmp_path / "f.txt"
    src.write_text("x")

    with pytest.raises(BuildError, match="not empty"):
        place_file(src, dest)


@pytest.mark.parametrize("call", [copy_directory, extract_archive, place_file])
def test_missing_input_is_a_fetch_failure(
    tmp_path: Path, dest: Path, call: Callable[[Path, Path], SourceInfo]
) -> None:
    with pytest.raises(BuildError) as caught:
        call(tmp_path / "missing", dest)

    assert caught.value.reason is StatusReason.FETCH_SOURCE_FAILED
    assert "does not exist" in caught.value.detail
