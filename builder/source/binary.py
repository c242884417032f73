"""Binary build input: ``oc start-build --from-dir / --from-file / --from-archive``.

OpenShift streams the input into the build pod and unpacks it there: an
archive is extracted into the source root, a single file lands in the root
under its own name (or the BuildConfig's ``binary.asFile``), and a directory
arrives as a tar of itself.  When that directory is a git checkout, ``oc``
records its HEAD commit on the build; we do the same so labels can say which
commit a binary build came from.
"""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.source.archive import extract_safely
from builder.source.commit import read_worktree
from builder.source.info import SourceInfo

Log = Callable[[str], None]


def _discard(_line: str) -> None:
    return None


def _failed(detail: str) -> BuildError:
    return BuildError(StatusReason.FETCH_SOURCE_FAILED, detail)


def _prepare_dest(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise _failed(f"cannot place binary input into {dest}: destination exists and is not empty")
    dest.mkdir(parents=True, exist_ok=True)


def _existing(source: Path, what: str) -> Path:
    if not source.exists():
        raise _failed(f"binary input {what} {str(source)!r} does not exist")
    return source


def _file_name(as_file: str) -> str:
    # asFile names a file in the source root; a path would let the uploader
    # write anywhere the build pod can.
    if (
        not as_file
        or as_file in (".", "..")
        or "/" in as_file
        or "\\" in as_file
        or "\x00" in as_file
    ):
        raise _failed(f"invalid asFile name {as_file!r}: it must be a plain file name")
    return as_file


def copy_directory(source: Path | str, dest: Path | str, *, log: Log = _discard) -> SourceInfo:
    """``--from-dir``: copy a directory tree, symlinks kept as symlinks.

    Sockets, pipes and device nodes are skipped (with a log line): reading a
    pipe would hang the copy and none of them can go into an image layer.
    """
    source, dest = Path(source), Path(dest)
    if not _existing(source, "directory").is_dir():
        raise _failed(f"binary input {str(source)!r} is not a directory")
    if dest.resolve().is_relative_to(source.resolve()):
        raise _failed(f"cannot copy binary input {str(source)!r} into itself ({dest})")
    _prepare_dest(dest)
    log(f'Uploading directory "{source}" as binary input for the build ...')

    def skip_special(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            path = Path(directory) / name
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                log(f"Skipping special file {path}")
                skipped.add(name)
        return skipped

    try:
        shutil.copytree(source, dest, symlinks=True, ignore=skip_special, dirs_exist_ok=True)
    except (shutil.Error, OSError) as err:
        raise _failed(f"cannot copy binary input directory {str(source)!r}: {err}") from None
    info = read_worktree(source, search_parents=True)
    if info is not None:
        log(f"\tCommit:\t{info.commit_id} ({info.message})")
        return info
    return SourceInfo()


def extract_archive(archive: Path | str, dest: Path | str, *, log: Log = _discard) -> SourceInfo:
    """``--from-archive``: unpack a tar, tar.gz, tgz or zip into ``dest``.

    An archive made from a checkout (``.git`` at its root) yields that
    checkout's commit; ``dest`` itself is never searched upwards, since the
    build directory may well sit inside some unrelated repository.
    """
    archive, dest = Path(archive), Path(dest)
    if not _existing(archive, "archive").is_file():
        raise _failed(f"binary input archive {str(archive)!r} is not a file")
    _prepare_dest(dest)
    log(f'Extracting archive "{archive.name}" as binary input for the build ...')
    try:
        count = extract_safely(archive, dest)
    except BaseException:
        _empty(dest)
        raise
    log(f"Extracted {count} entries")
    if (dest / ".git").exists():
        info = read_worktree(dest, search_parents=False)
        if info is not None:
            return info
    return SourceInfo()


def place_file(
    source: Path | str, dest: Path | str, *, as_file: str | None = None, log: Log = _discard
) -> SourceInfo:
    """``--from-file``: put one file into the source root, named ``as_file``."""
    source, dest = Path(source), Path(dest)
    if not _existing(source, "file").is_file():
        raise _failed(f"binary input {str(source)!r} is not a regular file")
    name = _file_name(as_file or source.name)
    _prepare_dest(dest)
    log(f'Receiving file "{source.name}" as binary input {name} ...')
    try:
        shutil.copyfile(source, dest / name)
    except OSError as err:
        raise _failed(f"cannot copy binary input file {str(source)!r}: {err}") from None
    return SourceInfo()


def fetch_binary(
    source: Path | str, dest: Path | str, *, as_file: str | None = None, log: Log = _discard
) -> SourceInfo:
    """Place binary input the way the build pod does for its stdin stream.

    With ``as_file`` the input is one file whatever it contains; otherwise a
    directory is copied and a file must be an archive.
    """
    source = Path(source)
    if as_file:
        return place_file(source, dest, as_file=as_file, log=log)
    if source.is_dir():
        return copy_directory(source, dest, log=log)
    return extract_archive(source, dest, log=log)


def _empty(dest: Path) -> None:
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
