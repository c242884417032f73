"""Copy ``source.images[].paths`` out of an image into the build context.

OpenShift's builder mounts the source image and runs ``cp -r SOURCE DEST``
with ``DEST = <build dir>/<destinationDir>`` (created if missing): a
directory ``/a/dir`` lands as ``DEST/dir``, ``/a/dir/.`` copies its contents
into ``DEST``, a file lands as ``DEST/<name>``.  kbuild does the same from
the image's layers, which ``buildah push dir:`` wrote uncompressed: no mount
(rootless buildah would need ``buildah unshare``) and nothing of the image
runs.  The image is whatever the tenant names and the context is the
committer's tree, so:

- ``apply_layers`` unpacks the layers in order into a staging directory,
  OCI whiteouts (``.wh.NAME``, ``.wh..wh..opq``) applied; an entry whose path
  has ``..`` or runs through a link is skipped (the image tools never
  write such entries; a hostile layer would use them to write outside),
  devices are skipped, hard links become copies, and every entry is made
  readable and writable by the build user.  At most ``MAX_ENTRIES`` entries
  and ``MAX_BYTES`` bytes.
- ``sourcePath`` is resolved inside the staged image as a chroot would: an
  absolute link leads to the image's own ``/``, never to the build pod's
  (where a link to ``/var/run/secrets`` would otherwise copy a mounted
  secret into the context, and from there into a layer); ``..`` stops at
  the image's root.
- Everything written into the context goes through
  ``builder.source.confined``: a link committed at ``destinationDir``, or
  anywhere under it, is never written through.  Links in the copied tree are
  copied as links (``cp -r`` does too); FIFOs and sockets are skipped and
  counted.

Every refusal is ``BuildError(FetchImageContentFailed)``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import tarfile
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.record import Record
from builder.source.confined import resolve_inside

REASON = StatusReason.FETCH_IMAGE_CONTENT_FAILED
MAX_LINKS = 40
MAX_ENTRIES = 100_000
MAX_BYTES = 4 * 1024**3
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _fail(detail: str) -> BuildError:
    return BuildError(REASON, detail)


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def resolve_in_image(root: Path, path: str) -> Path:
    """Where ``path`` leads in the image rooted at ``root``, links resolved as in a chroot."""
    if "\x00" in path:
        raise _fail(f"sourcePath {path!r} contains a NUL character")
    pending = deque(_parts(path))
    current: list[str] = []
    links = 0
    while pending:
        part = pending.popleft()
        if part == "..":
            if current:
                current.pop()
            continue
        here = root.joinpath(*current, part)
        try:
            mode = os.lstat(here).st_mode
        except FileNotFoundError:
            raise _fail(f"sourcePath {path!r} does not exist in the image") from None
        except NotADirectoryError:
            raise _fail(f"sourcePath {path!r} runs through a file in the image") from None
        if stat.S_ISLNK(mode):
            links += 1
            if links > MAX_LINKS:
                raise _fail(f"sourcePath {path!r} follows more than {MAX_LINKS} links")
            target = str(here.readlink())
            if target.startswith("/"):
                current = []
            pending.extendleft(reversed(_parts(target)))
            continue
        if pending and not stat.S_ISDIR(mode):
            raise _fail(f"sourcePath {path!r} runs through a file in the image")
        current.append(part)
    return root.joinpath(*current)


class _Copy(Record, frozen=False):
    context: Path
    entries: int = 0
    size: int = 0
    skipped: int = 0

    def _count(self, size: int = 0) -> None:
        self.entries += 1
        self.size += size
        if self.entries > MAX_ENTRIES:
            raise _fail(f"the image paths hold more than {MAX_ENTRIES} entries")
        if self.size > MAX_BYTES:
            raise _fail(f"the image paths hold more than {MAX_BYTES} bytes")

    def _place(self, relative: str) -> Path:
        """The entry ``relative`` below the context, its directory confined; never a link."""
        head, _, name = relative.rpartition("/")
        parent = self.directory(head or ".")
        target = parent / name
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            return target
        if stat.S_ISDIR(mode):
            raise _fail(f"{relative!r} is a directory in the context; the image has a file there")
        target.unlink()
        return target

    def directory(self, relative: str) -> Path:
        """``relative`` below the context as a directory, made if missing; never via a link out."""
        resolved = resolve_inside(
            self.context, relative, what="a destinationDir of source.images", reason=REASON
        )
        path = resolved.root
        for part in resolved.parts:
            path = path / part
            try:
                path.mkdir(0o755)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    raise _fail(f"{relative!r} runs through a file in the context") from None
        return path

    def entry(self, source: Path, relative: str) -> None:
        mode = os.lstat(source).st_mode
        if stat.S_ISDIR(mode):
            self._count()
            self.directory(relative)
            for child in sorted(p.name for p in source.iterdir()):
                self.entry(source / child, f"{relative}/{child}")
        elif stat.S_ISLNK(mode):
            self._count()
            self._place(relative).symlink_to(source.readlink())
        elif stat.S_ISREG(mode):
            self._count(os.lstat(source).st_size)
            fd = os.open(source, _READ_FLAGS)
            with os.fdopen(fd, "rb") as src:
                out = os.open(self._place(relative), _WRITE_FLAGS, stat.S_IMODE(mode) | 0o600)
                with os.fdopen(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        else:
            self.skipped += 1


def copy_paths(
    image_root: Path, context: Path, paths: list[tuple[str, str]]
) -> tuple[int, int, int]:
    """Copy each ``(sourcePath, destinationDir)``; ``(entries, bytes, skipped)``."""
    copy = _Copy(Path(os.path.realpath(context)))
    for source_path, destination_dir in paths:
        if not source_path.startswith("/"):
            raise _fail(f"sourcePath {source_path!r} must be an absolute path in the image")
        source = resolve_in_image(image_root, source_path)
        dest = os.path.normpath(destination_dir or ".")
        copy.directory(dest)
        contents = source_path.endswith("/.") and stat.S_ISDIR(os.lstat(source).st_mode)
        if contents:
            for child in sorted(p.name for p in source.iterdir()):
                copy.entry(source / child, f"{dest}/{child}")
        else:
            name = source.name or "root"
            copy.entry(source, f"{dest}/{name}")
    return copy.entries, copy.size, copy.skipped


# --------------------------------------------------------------------------- layers


class _Budget(Record, frozen=False):
    entries: int = 0
    size: int = 0

    def take(self, size: int = 0) -> None:
        self.entries += 1
        self.size += size
        if self.entries > MAX_ENTRIES:
            raise _fail(f"the image holds more than {MAX_ENTRIES} entries")
        if self.size > MAX_BYTES:
            raise _fail(f"the image holds more than {MAX_BYTES} bytes")


def layer_files(export: Path) -> list[Path]:
    """The layer files of a ``dir:`` export, bottom first, from its manifest."""
    try:
        manifest = json.loads((export / "manifest.json").read_text())
        digests = [str(layer["digest"]) for layer in manifest["layers"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise _fail(f"the exported image has no readable manifest: {err}") from err
    files: list[Path] = []
    for digest in digests:
        _, _, hexdigest = digest.partition(":")
        if not hexdigest.isalnum():
            raise _fail(f"the exported image names a bad layer digest {digest!r}")
        files.append(export / hexdigest)
    return files


def _remove(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        path.unlink()


def _safe_parts(name: str) -> list[str] | None:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return None if not parts or ".." in parts else parts


def _parent(root: Path, parts: list[str]) -> Path | None:
    """The entry's directory, created as needed; None if the path runs through a non-directory."""
    here = root
    for part in parts[:-1]:
        here = here / part
        try:
            mode = os.lstat(here).st_mode
        except FileNotFoundError:
            here.mkdir(0o755)
            continue
        if not stat.S_ISDIR(mode):
            return None
    return here


def _members(layer: Path) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    with layer.open("rb") as raw:
        head = raw.read(2)
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    yield tar, member
        except (tarfile.TarError, EOFError, OSError) as err:
            raise _fail(f"layer {layer.name[:12]} is not a readable tar: {err}") from err


def _staged_file(root: Path, parts: list[str] | None) -> Path | None:
    """A hard link's target: a regular file reached through real directories only."""
    if not parts:
        return None
    here = root
    try:
        for part in parts[:-1]:
            here = here / part
            if not stat.S_ISDIR(os.lstat(here).st_mode):
                return None
        leaf = here / parts[-1]
        return leaf if stat.S_ISREG(os.lstat(leaf).st_mode) else None
    except FileNotFoundError:
        return None


def _create(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path, target: Path) -> bool:
    """Write one layer entry at ``target`` (its directory is a real one); False if skipped."""
    if member.isdir():
        if not target.is_dir() or target.is_symlink():
            _remove(target)
            target.mkdir(0o755)
        target.chmod(stat.S_IMODE(member.mode) | 0o700)
        return True
    _remove(target)
    if member.issym():
        target.symlink_to(member.linkname)
    elif member.islnk():
        source = _staged_file(root, _safe_parts(member.linkname))
        if source is None:
            return False
        shutil.copyfile(source, target, follow_symlinks=False)
    elif member.isfile():
        data = tar.extractfile(member)
        fd = os.open(target, _WRITE_FLAGS, 0o600)
        with os.fdopen(fd, "wb") as out:
            if data is not None:
                shutil.copyfileobj(data, out)
        target.chmod(stat.S_IMODE(member.mode) | 0o600)
    else:
        return False  # devices, FIFOs: nothing a build copies
    return True


def apply_layers(layers: list[Path], root: Path) -> int:
    """Unpack ``layers`` in order into ``root``; the number of entries skipped."""
    budget = _Budget()
    skipped = 0
    for layer in layers:
        for tar, member in _members(layer):
            parts = _safe_parts(member.name)
            parent = _parent(root, parts) if parts else None
            if parts is None or parent is None:
                skipped += 1
                continue
            name = parts[-1]
            if name == ".wh..wh..opq":
                for child in list(parent.iterdir()):
                    _remove(child)
                continue
            if name.startswith(".wh."):
                if name[4:] not in ("", ".", ".."):
                    _remove(parent / name[4:])
                continue
            budget.take(member.size if member.isfile() else 0)
            if not _create(tar, member, root, parent / name):
                skipped += 1
    return skipped


def copy_from_export(
    export: Path, staging: Path, context: Path, paths: list[tuple[str, str]]
) -> tuple[int, int, int]:
    """Stage the exported image, then copy ``paths``: ``(entries, bytes, skipped)``."""
    staging.mkdir(parents=True, exist_ok=True)
    try:
        skipped = apply_layers(layer_files(export), staging)
        entries, size, special = copy_paths(staging, context, paths)
    except RecursionError:
        raise _fail("the image paths are nested too deeply") from None
    except OSError as err:
        raise _fail(f"copying the image paths: {err.strerror or err}") from None
    return entries, size, skipped + special
