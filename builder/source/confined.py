"""Open files of a checked-out tree without ever leaving it.

Every file a build step reads from the source (``.s2i/bin/*``,
``.s2i/environment``, the Docker strategy's Dockerfile, ``contextDir``)
was written by whoever may commit to the repository.  In the build pod the
steps run next to mounted secrets (``/var/run/secrets/openshift.io/{pull,push}``)
and, locally, next to the user's home: a committed ``.s2i/environment ->
/var/run/secrets/openshift.io/push/.dockerconfigjson`` read with a plain
``open()`` would copy the push secret into the image and the build log.

So paths of the tree are resolved here, component by component, the way
Linux's ``openat2(RESOLVE_BENEATH)`` would if Python had it:

- each component is ``lstat``-ed; a symbolic link is read and its target
  walked in its place, so ``..`` applies to where the link leads;
- a ``..`` that would climb above the root, or an absolute link target that
  does not lie under the root's real path, is an escape and is refused with
  the caller's reason, naming the path and the link, never its target's
  content;
- more than ``MAX_LINKS`` links in one walk is a loop;
- the file is then opened through directory file descriptors with
  ``O_NOFOLLOW`` on every component, so a link that appears between the walk
  and the open is refused by the kernel instead of followed.

A symlink that stays inside the tree (``bin -> tools/bin``) is followed as
git users expect.  Nothing here writes; ``write_inside`` replaces a file
(never writing through a link) for the one place a step writes into the tree.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.record import Record, field

# Linux's own limit on links followed in one lookup (MAXSYMLINKS).
MAX_LINKS = 40
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO someone committed through an archive must not hang.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class Resolved(Record):
    """A path below ``root`` with every link replaced by where it leads."""

    root: Path
    parts: tuple[str, ...]
    # False when the walk ran past the last existing component.
    exists: bool

    @property
    def path(self) -> Path:
        return self.root.joinpath(*self.parts)

    @property
    def relative(self) -> str:
        return "/".join(self.parts) or "."


def _error(reason: StatusReason, what: str, relative: str, why: str) -> BuildError:
    return BuildError(reason, f"{what} {relative!r} {why}")


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


class _Walk(Record, frozen=False):
    """One lookup's state: where it stands below the root and what is left to walk."""

    base: Path
    relative: str
    what: str
    reason: StatusReason
    pending: deque[str]
    parts: list[str] = field(default_factory=list)
    links: int = 0
    last_link: str = ""

    def fail(self, why: str) -> BuildError:
        return _error(self.reason, self.what, self.relative, why)

    def up(self) -> None:
        if self.parts:
            self.parts.pop()
        elif self.last_link:
            raise _escape(self.reason, self.what, self.relative, self.last_link)
        else:
            raise self.fail("points outside the source ('..' escapes its root)")

    def follow(self, here: Path, part: str) -> None:
        """Walk the link ``here`` in place of ``part``: its target's components come next."""
        self.links += 1
        if self.links > MAX_LINKS:
            raise self.fail("cannot be resolved: too many levels of symbolic links")
        self.last_link = "/".join((*self.parts, part))
        target = str(here.readlink())
        target_parts = _components(target)
        if target.startswith("/"):
            base_parts = _components(str(self.base))
            if target_parts[: len(base_parts)] != base_parts:
                raise _escape(self.reason, self.what, self.relative, self.last_link)
            self.parts = []
            target_parts = target_parts[len(base_parts) :]
        # A ".." in the target is checked as the walk pops it (``up``).
        self.pending.extendleft(reversed(target_parts))

    def step(self) -> bool:
        """Walk one component; False once the rest does not exist."""
        part = self.pending.popleft()
        if part == "..":
            self.up()
            return True
        here = self.base.joinpath(*self.parts, part)
        try:
            mode = os.lstat(here).st_mode
        except FileNotFoundError:
            self.parts.append(part)
            return False
        except OSError as err:
            raise self.fail(f"cannot be read: {err.strerror}") from None
        if stat.S_ISLNK(mode):
            self.follow(here, part)
            return True
        if self.pending and not stat.S_ISDIR(mode):
            raise self.fail(f"runs through a file ({'/'.join((*self.parts, part))!r})")
        self.parts.append(part)
        return True


def resolve_inside(
    root: Path | str,
    relative: str,
    *,
    what: str,
    reason: StatusReason,
) -> Resolved:
    """Where ``relative`` leads below ``root``, or a ``BuildError(reason)`` if it leaves.

    ``relative`` must be relative (an absolute path is refused: OpenShift
    re-roots it silently, which hides the mistake).  The result need not exist.
    """
    if "\x00" in relative:
        raise _error(reason, what, relative, "contains a NUL character")
    if relative.startswith(("/", "\\")):
        raise _error(reason, what, relative, "must be a path relative to the source root")
    walk = _Walk(Path(os.path.realpath(root)), relative, what, reason, deque(_components(relative)))
    while walk.pending:
        if not walk.step():
            return Resolved(walk.base, (*walk.parts, *walk.pending), exists=False)
    return Resolved(walk.base, tuple(walk.parts), exists=True)


def _escape(reason: StatusReason, what: str, relative: str, link: str) -> BuildError:
    return _error(
        reason,
        what,
        relative,
        f"resolves outside the source through a symbolic link ({link!r}); "
        "links in the source may only point inside it",
    )


def _open_resolved(resolved: Resolved) -> int:
    """An fd for the resolved path, opened with O_NOFOLLOW at every step."""
    fd = os.open(resolved.root, _DIR_FLAGS)
    if not resolved.parts:
        return fd
    try:
        for part in resolved.parts[:-1]:
            next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        leaf = os.open(resolved.parts[-1], _FILE_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)
    return leaf


def read_inside(
    root: Path | str,
    relative: str,
    *,
    what: str,
    reason: StatusReason,
    limit: int,
) -> bytes | None:
    """The bytes of the regular file ``relative`` names below ``root``; None if there is none.

    Refused (``BuildError(reason)``): a path that leaves the tree, something
    other than a regular file, more than ``limit`` bytes.  The message names
    the path only: the content may be anything, a secret included.
    """
    resolved = resolve_inside(root, relative, what=what, reason=reason)
    if not resolved.exists:
        return None
    try:
        fd = _open_resolved(resolved)
    except OSError as err:
        if err.errno == errno.ELOOP:  # a link appeared after the walk
            raise _escape(reason, what, relative, resolved.relative) from None
        raise _error(reason, what, relative, f"cannot be opened: {err.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise _error(reason, what, relative, f"is {kind}")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _error(reason, what, relative, f"is larger than {limit} bytes")
    return data


def mode_inside(root: Path | str, relative: str, *, what: str, reason: StatusReason) -> int | None:
    """``st_mode`` of what ``relative`` leads to below ``root`` (never a link); None if absent."""
    resolved = resolve_inside(root, relative, what=what, reason=reason)
    if not resolved.exists:
        return None
    return os.lstat(resolved.path).st_mode


def write_inside(
    root: Path | str, relative: str, data: bytes, *, what: str, reason: StatusReason
) -> Path:
    """Replace ``relative`` below ``root`` with a new regular file holding ``data``.

    The directory is resolved as any read is; the entry itself is never
    followed: a committed link where the file goes is removed (the link, not
    where it leads) and the file created with ``O_EXCL | O_NOFOLLOW``, so the
    write lands in the tree and nowhere else.
    """
    head, _, name = relative.rstrip("/").rpartition("/")
    if name in ("", ".", ".."):
        raise _error(reason, what, relative, "does not name a file")
    parent = resolve_inside(root, head or ".", what=what, reason=reason)
    if not parent.exists or not stat.S_ISDIR(os.lstat(parent.path).st_mode):
        raise _error(reason, what, relative, "has no directory to go into")
    target = parent.path / name
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISDIR(mode):
            raise _error(reason, what, relative, "is a directory")
        target.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(target, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return target


__all__ = [
    "MAX_LINKS",
    "Resolved",
    "mode_inside",
    "read_inside",
    "resolve_inside",
    "write_inside",
]
