"""Extract tar, tar.gz/tgz (and bz2/xz) and zip archives without trusting them.

Binary build input arrives from whoever may start a build.  An archive
entry named ``/etc/x`` or ``../x``, a link aimed outside the extraction
directory (followed by an entry written through it), or a device node would
let that person write or read the build pod's files, so every entry is
checked before anything is written and refused with a reason that names it.
Tar extraction then also runs under the standard library's ``data`` filter,
which re-checks the same things against the real file system.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

from builder.api import BuildError, StatusReason

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Regular files keep their exec bits but lose setuid/setgid/sticky and
# group/other write, the same normalisation as tarfile's ``data`` filter.
_MODE_MASK = 0o755


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
    """Whether a symlink at ``entry`` pointing at ``target`` stays in the root."""
    if target.startswith("/"):
        return False
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(entry), target))
    return joined != ".." and not joined.startswith("../")


def _check_tar_member(archive: Path, member: tarfile.TarInfo) -> None:
    entry = _entry_path(archive, member.name)
    if member.ischr() or member.isblk():
        raise _refuse(archive, f"entry {member.name!r} is a device file")
    if member.isfifo():
        raise _refuse(archive, f"entry {member.name!r} is a named pipe")
    if member.issym():
        if not _link_target_inside(entry, member.linkname):
            raise _refuse(
                archive,
                f"symbolic link {member.name!r} points outside the archive ({member.linkname!r})",
            )
    elif member.islnk():
        target = member.linkname
        if target.startswith("/") or ".." in target.split("/"):
            raise _refuse(
                archive, f"hard link {member.name!r} points outside the archive ({target!r})"
            )
    elif not (member.isfile() or member.isdir()):
        raise _refuse(archive, f"entry {member.name!r} has an unsupported type")


# Python's extraction filters arrived in 3.11.4; the build-pod image runs
# Debian bookworm's 3.11.2.  Every member is checked above before anything is
# written, so the filter is defence in depth where it exists, not the guard.
_DATA_FILTER: dict[str, str] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
_FILTER_ERRORS: tuple[type[Exception], ...] = (
    (tarfile.FilterError,) if hasattr(tarfile, "FilterError") else ()
)


def _extract_tar(archive: Path, dest: Path) -> int:
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_tar_member(archive, member)
            tar.extractall(dest, **_DATA_FILTER)  # type: ignore[arg-type]  # noqa: S202
    except _FILTER_ERRORS as err:
        raise _refuse(archive, str(err)) from None
    except (tarfile.TarError, EOFError, OSError) as err:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED,
            f"cannot extract archive {archive.name!r}: {err}",
        ) from None
    return len(members)


def _inside(root: Path, path: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


def _extract_zip(archive: Path, dest: Path) -> int:
    root = Path(os.path.realpath(dest))
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            kinds: list[tuple[zipfile.ZipInfo, str, int]] = []
            for info in infos:
                entry = _entry_path(archive, info.filename)
                mode = info.external_attr >> 16
                kind = stat.S_IFMT(mode)
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                    raise _refuse(archive, f"entry {info.filename!r} is a device file")
                if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                    raise _refuse(archive, f"entry {info.filename!r} is a special file")
                if stat.S_ISLNK(mode):
                    target = zf.read(info).decode("utf-8", "surrogateescape")
                    if not _link_target_inside(entry, target):
                        raise _refuse(
                            archive,
                            f"symbolic link {info.filename!r} points outside the archive "
                            f"({target!r})",
                        )
                kinds.append((info, entry, kind))
            for info, entry, kind in kinds:
                _write_zip_entry(zf, info, archive=archive, entry=entry, kind=kind, root=root)
    except zipfile.BadZipFile as err:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED, f"cannot extract archive {archive.name!r}: {err}"
        ) from None
    return len(infos)


def _write_zip_entry(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, archive: Path, entry: str, kind: int, root: Path
) -> None:
    if not entry:
        return
    path = root / entry
    if not _inside(root, path.parent):
        raise _refuse(archive, f"entry {info.filename!r} would be written through a link")
    if path.is_symlink():
        raise _refuse(archive, f"entry {info.filename!r} would overwrite a link")
    if info.is_dir() or kind == stat.S_IFDIR:
        path.mkdir(parents=True, exist_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if not _inside(root, path.parent):
        raise _refuse(archive, f"entry {info.filename!r} would be written through a link")
    if kind == stat.S_IFLNK:
        target = zf.read(info).decode("utf-8", "surrogateescape")
        # Checked lexically before; now against the links already written.
        if not _inside(root, path.parent / target):
            raise _refuse(
                archive, f"symbolic link {info.filename!r} would point outside ({target!r})"
            )
        path.symlink_to(target)
        return
    mode = (info.external_attr >> 16) & 0o777 or 0o644
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    fd = os.open(path, flags, (mode & _MODE_MASK) | 0o600)
    with os.fdopen(fd, "wb") as out, zf.open(info) as src:
        shutil.copyfileobj(src, out)


def is_zip(archive: Path) -> bool:
    with archive.open("rb") as handle:
        head = handle.read(4)
    return head in _ZIP_MAGIC


def extract_safely(archive: Path, dest: Path) -> int:
    """Extract ``archive`` into the existing directory ``dest``; entry count."""
    if is_zip(archive):
        return _extract_zip(archive, dest)
    try:
        is_tar = tarfile.is_tarfile(archive)
    except OSError:
        is_tar = False
    if is_tar:
        return _extract_tar(archive, dest)
    if zipfile.is_zipfile(archive):
        return _extract_zip(archive, dest)
    raise BuildError(
        StatusReason.FETCH_SOURCE_FAILED,
        f"cannot extract {archive.name!r}: not a tar, tar.gz, tgz or zip archive "
        "(send a single file with --from-file instead)",
    )
