"""Extract tar, tar.gz/tgz (and bz2/xz) and zip archives without trusting them.

Binary build input arrives from whoever may start a build.  An archive
entry named ``/etc/x`` or ``../x``, a chain of links that leads outside the
extraction directory (``l1 -> .``, ``l1/l2 -> ..``, then ``l1/l2/x``), a
device node, or a small archive that expands to gigabytes would let that
person write or read the build pod's files or fill its disk.

The extractor therefore writes every entry itself and relies on nothing
that differs between Python versions (tarfile's ``data`` filter exists only
from 3.11.4; the build pod runs Debian bookworm's 3.11.2):

- names are checked lexically (no absolute paths, no ``..``, no NUL);
- no write ever goes *through* a link: each parent directory of an entry is
  walked component by component with ``lstat`` and must be a real
  directory, and files are opened with ``O_NOFOLLOW``, so a symlink planted
  by an earlier entry cannot redirect a later one;
- links are created as links (never followed) and, once the whole tree is
  written, every symlink in it must resolve inside the root, so a chain that
  only escapes when combined (``d/up -> ..`` then ``s -> d/up/..``) is
  refused too;
- hard links may only point at regular files already extracted;
- entry count and total bytes are capped while streaming (``MAX_ENTRIES``,
  ``MAX_BYTES``; ``$KBUILD_ARCHIVE_MAX_ENTRIES``/``$KBUILD_ARCHIVE_MAX_BYTES``).

A refusal is a ``FetchSourceFailed`` BuildError naming the entry.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from builder.api import BuildError, StatusReason
from builder.record import Record

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Regular files keep their exec bits but lose setuid/setgid/sticky and
# group/other write, the same normalisation as tarfile's ``data`` filter.
_MODE_MASK = 0o755
MAX_ENTRIES = 100_000
MAX_BYTES = 4 * 1024**3
_CHUNK = 1024 * 1024


class Limits(Record):
    entries: int = MAX_ENTRIES
    bytes: int = MAX_BYTES

    @classmethod
    def from_environment(cls) -> Limits:
        def number(name: str, default: int) -> int:
            value = os.environ.get(name, "")
            return int(value) if value.isdigit() and int(value) > 0 else default

        return cls(
            number("KBUILD_ARCHIVE_MAX_ENTRIES", MAX_ENTRIES),
            number("KBUILD_ARCHIVE_MAX_BYTES", MAX_BYTES),
        )


def _refuse(archive: Path, why: str) -> BuildError:
    return BuildError(
        StatusReason.FETCH_SOURCE_FAILED, f"refusing to extract archive {archive.name!r}: {why}"
    )


def _entry_path(archive: Path, name: str) -> str:
    """The entry's path relative to the extraction root, or a refusal."""
    if "\x00" in name:
        raise _refuse(archive, f"entry {name!r} has a NUL character in its name")
    if name.startswith("/") or posixpath.isabs(name) or (len(name) > 1 and name[1] == ":"):
        raise _refuse(archive, f"entry {name!r} has an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _refuse(archive, f"entry {name!r} contains '..'")
    return "/".join(parts)


def _link_target_inside(entry: str, target: str) -> bool:
    """Whether a symlink at ``entry`` pointing at ``target`` stays in the root, lexically."""
    if not target or target.startswith("/") or "\x00" in target:
        return False
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(entry), target))
    return joined != ".." and not joined.startswith("../")


class _Writer:
    """Writes entries under ``root`` and never through a link."""

    def __init__(self, archive: Path, root: Path, limits: Limits) -> None:
        self.archive = archive
        self.root = Path(os.path.realpath(root))
        self.limits = limits
        self.entries = 0
        self.bytes = 0
        self.symlinks: list[str] = []

    def count(self, name: str) -> None:
        self.entries += 1
        if self.entries > self.limits.entries:
            raise _refuse(
                self.archive,
                f"more than {self.limits.entries} entries (at {name!r}); "
                "the limit is KBUILD_ARCHIVE_MAX_ENTRIES",
            )

    def _parent(self, entry: str, name: str) -> Path:
        """The entry's parent directory, made of real directories only (created as needed)."""
        path = self.root
        for part in entry.split("/")[:-1]:
            path = path / part
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                path.mkdir(0o755)
                continue
            if not stat.S_ISDIR(info.st_mode):
                kind = "a link" if stat.S_ISLNK(info.st_mode) else "a file"
                raise _refuse(self.archive, f"entry {name!r} would be written through {kind}")
        return path

    def _free(self, path: Path, name: str, *, directory_ok: bool = False) -> bool:
        """Make room for a new entry at ``path``; True if a directory is already there."""
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(info.st_mode):
            if directory_ok:
                return True
            raise _refuse(self.archive, f"entry {name!r} would replace a directory")
        # A later entry of the same name replaces the earlier one (tar semantics);
        # the old one is removed, never written through.
        path.unlink()
        return False

    def directory(self, entry: str, name: str) -> None:
        if not entry:
            return
        path = self._parent(entry, name) / entry.rsplit("/", 1)[-1]
        if not self._free(path, name, directory_ok=True):
            path.mkdir(0o755)

    def file(self, entry: str, name: str, source: IO[bytes], mode: int) -> None:
        if not entry:
            raise _refuse(self.archive, f"entry {name!r} has no name")
        path = self._parent(entry, name) / entry.rsplit("/", 1)[-1]
        self._free(path, name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(path, flags, (mode & _MODE_MASK) | 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK):
                self.bytes += len(chunk)
                if self.bytes > self.limits.bytes:
                    raise _refuse(
                        self.archive,
                        f"it expands to more than {self.limits.bytes} bytes (at {name!r}); "
                        "the limit is KBUILD_ARCHIVE_MAX_BYTES",
                    )
                out.write(chunk)

    def symlink(self, entry: str, name: str, target: str) -> None:
        if not entry or not _link_target_inside(entry, target):
            raise _refuse(
                self.archive, f"symbolic link {name!r} points outside the archive ({target!r})"
            )
        path = self._parent(entry, name) / entry.rsplit("/", 1)[-1]
        self._free(path, name)
        path.symlink_to(target)
        self.symlinks.append(entry)

    def hardlink(self, entry: str, name: str, target: str) -> None:
        try:
            target_entry = _entry_path(self.archive, target)
        except BuildError:
            target_entry = ""
        if not entry or not target_entry:
            raise _refuse(self.archive, f"hard link {name!r} points outside the archive")
        source = self._parent(target_entry, name) / target_entry.rsplit("/", 1)[-1]
        try:
            info = os.lstat(source)
        except FileNotFoundError:
            raise _refuse(
                self.archive, f"hard link {name!r} points at {target!r}, which is not in it"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(self.archive, f"hard link {name!r} points at {target!r}, not a file")
        path = self._parent(entry, name) / entry.rsplit("/", 1)[-1]
        self._free(path, name)
        os.link(source, path, follow_symlinks=False)

    def finish(self) -> None:
        """Every symlink of the finished tree must resolve inside the root."""
        for entry in self.symlinks:
            resolved = Path(os.path.realpath(self.root / entry))
            if resolved != self.root and not resolved.is_relative_to(self.root):
                (self.root / entry).unlink()
                raise _refuse(
                    self.archive,
                    f"symbolic link {entry!r} resolves outside the archive through other links",
                )


def _tar_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Members one by one (headers are read as the stream goes, not all first)."""
    while (member := tar.next()) is not None:
        yield member


def _extract_tar(archive: Path, dest: Path, limits: Limits) -> int:
    writer = _Writer(archive, dest, limits)
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in _tar_members(tar):
                writer.count(member.name)
                entry = _entry_path(archive, member.name)
                if member.ischr() or member.isblk():
                    raise _refuse(archive, f"entry {member.name!r} is a device file")
                if member.isfifo():
                    raise _refuse(archive, f"entry {member.name!r} is a named pipe")
                if member.isdir():
                    writer.directory(entry, member.name)
                elif member.issym():
                    writer.symlink(entry, member.name, member.linkname)
                elif member.islnk():
                    writer.hardlink(entry, member.name, member.linkname)
                elif member.isfile():
                    source = tar.extractfile(member)
                    if source is None:
                        raise _refuse(archive, f"entry {member.name!r} has no data")
                    with source:
                        writer.file(entry, member.name, source, member.mode)
                else:
                    raise _refuse(archive, f"entry {member.name!r} has an unsupported type")
            writer.finish()
    except (tarfile.TarError, EOFError, OSError, UnicodeError) as err:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED,
            f"cannot extract archive {archive.name!r}: {err}",
        ) from None
    return writer.entries


def _extract_zip(archive: Path, dest: Path, limits: Limits) -> int:
    writer = _Writer(archive, dest, limits)
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                writer.count(info.filename)
                entry = _entry_path(archive, info.filename)
                mode = info.external_attr >> 16
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                    raise _refuse(archive, f"entry {info.filename!r} is a device file")
                if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                    raise _refuse(archive, f"entry {info.filename!r} is a special file")
                if info.is_dir() or stat.S_ISDIR(mode):
                    writer.directory(entry, info.filename)
                elif stat.S_ISLNK(mode):
                    if info.file_size > 4096:
                        raise _refuse(archive, f"symbolic link {info.filename!r} is too long")
                    target = zf.read(info).decode("utf-8", "surrogateescape")
                    writer.symlink(entry, info.filename, target)
                else:
                    with zf.open(info) as source:
                        writer.file(entry, info.filename, source, mode & 0o777 or 0o644)
            writer.finish()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        NotImplementedError,
    ) as err:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED, f"cannot extract archive {archive.name!r}: {err}"
        ) from None
    return writer.entries


def is_zip(archive: Path) -> bool:
    with archive.open("rb") as handle:
        head = handle.read(4)
    return head in _ZIP_MAGIC


def extract_safely(archive: Path, dest: Path, limits: Limits | None = None) -> int:
    """Extract ``archive`` into the existing directory ``dest``; entry count.

    All or nothing: entries go to a staging directory inside ``dest`` that is
    moved into place only when the whole archive was accepted, so a refusal
    leaves ``dest`` as it was.
    """
    limits = limits or Limits.from_environment()
    staging = Path(tempfile.mkdtemp(prefix=".kbuild-extract-", dir=dest))
    try:
        count = _extract_any(archive, staging, limits)
        try:
            for child in staging.iterdir():
                child.rename(dest / child.name)
        except OSError as err:
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED,
                f"cannot extract archive {archive.name!r} into {dest}: {err.strerror}",
            ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count


def _extract_any(archive: Path, dest: Path, limits: Limits) -> int:
    if is_zip(archive):
        return _extract_zip(archive, dest, limits)
    try:
        is_tar = tarfile.is_tarfile(archive)
    except OSError:
        is_tar = False
    if is_tar:
        return _extract_tar(archive, dest, limits)
    if zipfile.is_zipfile(archive):
        return _extract_zip(archive, dest, limits)
    raise BuildError(
        StatusReason.FETCH_SOURCE_FAILED,
        f"cannot extract {archive.name!r}: not a tar, tar.gz, tgz or zip archive "
        "(send a single file with --from-file instead)",
    )
