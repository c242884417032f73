"""Fetch a git source into the build's working directory, as OpenShift does.

Instead of ``git clone`` we ``init`` + ``ls-remote`` + ``fetch``: asking the
remote for its refs first tells "unreachable / not found / bad credentials"
apart from "no such ref" before anything is downloaded (OpenShift checks the
URL with ``ls-remote`` for the same reason), and it lets us fetch exactly the
one ref with ``--depth 1`` whatever it is: branch, tag, any advertised ref or
a commit the server will hand out directly.  Only a commit the server will not
serve on its own (protocol v0, or an abbreviated SHA) costs a full fetch.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.record import Record
from builder.source import gitcmd
from builder.source.commit import parse_commit, start_reading
from builder.source.gitcmd import Git, GitError, Running
from builder.source.gitenv import git_environment
from builder.source.gitfailure import describe, one_line, redact
from builder.source.gituri import GitURI, parse_git_uri, redact_url
from builder.source.info import SourceInfo

Log = Callable[[str], None]

_HEX = re.compile(r"^[0-9a-fA-F]{4,64}$")
_FULL_SHA_LENGTHS = (40, 64)


def _discard(_line: str) -> None:
    return None


class RefKind(Enum):
    BRANCH = "branch"
    TAG = "tag"
    OTHER = "ref"
    COMMIT = "commit"


class RemoteRefs(Record):
    """What ``git ls-remote --symref`` said: refs, peeled tags, default branch."""

    refs: dict[str, str]
    peeled: dict[str, str]
    head: str | None

    @classmethod
    def parse(cls, output: str) -> RemoteRefs:
        refs: dict[str, str] = {}
        peeled: dict[str, str] = {}
        head: str | None = None
        for line in output.splitlines():
            if line.startswith("ref: "):
                target, _, name = line[len("ref: ") :].partition("\t")
                if name == "HEAD":
                    head = target
                continue
            sha, _, name = line.partition("\t")
            if not name:
                continue
            if name.endswith("^{}"):
                peeled[name[: -len("^{}")]] = sha
            else:
                refs[name] = sha
        return cls(refs=refs, peeled=peeled, head=head)

    def commit_of(self, name: str) -> str:
        return self.peeled.get(name, self.refs[name])


class Target(Record):
    """The resolved thing to fetch: a remote ref name, or a commit id."""

    kind: RefKind
    name: str  # full ref name ("refs/heads/main"), or the commit id as given
    commit: str  # what the remote says it points at; "" if not advertised


def resolve_ref(remote: RemoteRefs, ref: str) -> Target | None:
    """Map a requested ref to a remote ref or commit, or None if it is neither.

    Ambiguous names resolve in git's own order (gitrevisions(7)):
    ``refs/<ref>``, then tags, then branches.  An empty ref (or ``HEAD``)
    means the remote's default branch.  A hex string that is no ref name is
    taken as a commit id, full or abbreviated.
    """
    if ref in ("", "HEAD"):
        if remote.head and remote.head in remote.refs:
            return Target(RefKind.BRANCH, remote.head, remote.refs[remote.head])
        return None
    candidates = [ref] if ref.startswith("refs/") else [f"refs/{ref}", f"refs/tags/{ref}"]
    candidates.append(f"refs/heads/{ref}")
    for name in candidates:
        if name in remote.refs:
            if name.startswith("refs/heads/"):
                kind = RefKind.BRANCH
            elif name.startswith("refs/tags/"):
                kind = RefKind.TAG
            else:
                kind = RefKind.OTHER
            return Target(kind, name, remote.commit_of(name))
    if _HEX.match(ref):
        wanted = ref.lower()
        tips = {*remote.refs.values(), *remote.peeled.values()}
        matching = {sha for sha in tips if sha.startswith(wanted)}
        if len(matching) == 1:
            return Target(RefKind.COMMIT, ref, matching.pop())
        return Target(RefKind.COMMIT, ref, "")
    return None


def _check_ref_syntax(ref: str, uri: GitURI) -> None:
    # A ref starting with '-' would be an option to git; whitespace and
    # control characters are never valid in ref names.
    if ref.startswith("-") or any(c.isspace() or ord(c) < 0x20 for c in ref):
        raise BuildError(StatusReason.FETCH_SOURCE_FAILED, f"invalid ref {ref!r} for {uri.display}")


def _prepare_dest(dest: Path, uri: GitURI) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED,
            f"cannot fetch {uri.display} into {dest}: destination exists and is not empty",
        )
    dest.mkdir(parents=True, exist_ok=True)


def _empty(dest: Path) -> None:
    """Leave ``dest`` as empty as we found it, so a retry can start over."""
    if not dest.is_dir():
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _what(ref: str) -> str:
    return f"ref {ref!r}" if ref else "the default branch"


def fetch_git(
    uri: str,
    ref: str,
    dest: Path | str,
    *,
    secret_dir: Path | str | None = None,
    http_proxy: str | None = None,
    https_proxy: str | None = None,
    no_proxy: str | None = None,
    submodules: bool = True,
    context_dir: str = "",
    log: Log = _discard,
) -> SourceInfo:
    """Check out ``ref`` of ``uri`` into the empty directory ``dest``.

    Raises BuildError(FETCH_SOURCE_FAILED) with one line naming the URI, the
    ref and the cause; ``dest`` is left empty on failure.
    """
    remote = parse_git_uri(uri)
    _check_ref_syntax(ref, remote)
    dest = Path(dest)
    _prepare_dest(dest, remote)
    secrets = Path(secret_dir) if secret_dir is not None else None
    with tempfile.TemporaryDirectory(prefix="kbuild-git-") as scratch:
        setup = git_environment(
            remote,
            secrets,
            Path(scratch),
            http_proxy=http_proxy,
            https_proxy=https_proxy,
            no_proxy=no_proxy,
        )
        hidden = [*setup.secrets, remote.password]

        def say(line: str) -> None:
            log(redact(redact_url(line), hidden))

        if setup.descriptions:
            say(f"Using source secret: {', '.join(setup.descriptions)}")

        # The remote's refs are asked for while the clone is set up: the
        # answer needs no repository, and the wait is the network's.  Run
        # where no repository is found, so nobody's config but the
        # environment's and the user's applies, as to ``git clone``.
        listing = Git(
            scratch, {**setup.env, "GIT_CEILING_DIRECTORIES": str(Path(scratch).parent)}
        ).start("ls-remote", "--symref", "--", setup.fetch_url)
        try:
            return _fetch(
                gitcmd.init(dest, setup.env),
                remote,
                fetch_url=setup.fetch_url,
                listing=listing,
                ref=ref,
                submodules=submodules,
                context_dir=context_dir,
                log=say,
            )
        except GitError as err:
            _empty(dest)
            cause = describe(err.stderr)
            detail = f"cannot fetch {_what(ref)} from {remote.display}: {cause}"
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED, one_line(redact(redact_url(detail), hidden))
            ) from None
        except BaseException:
            _empty(dest)
            raise
        finally:
            listing.stop()


def _fetch(
    git: Git,
    remote: GitURI,
    *,
    fetch_url: str,
    listing: Running,
    ref: str,
    submodules: bool,
    context_dir: str,
    log: Log,
) -> SourceInfo:
    """The clone's steps after ``git init``; ``listing``: the remote's ``ls-remote --symref``."""
    log(f'Cloning "{remote.display}" ...')
    git("remote", "add", "origin", fetch_url)
    remote_refs = RemoteRefs.parse(listing.result())
    if not remote_refs.refs:
        raise _failure(remote, ref, "the repository is empty")
    target = resolve_ref(remote_refs, ref)
    if target is None:
        if not ref or ref == "HEAD":
            raise _failure(remote, ref, "the remote does not advertise a default branch")
        raise _not_found(remote, ref)

    checkout: tuple[str, ...]
    if target.kind is RefKind.COMMIT:
        revision = _fetch_commit(git, remote, ref, target, log)
        checkout = ("checkout", "-q", "--detach", revision)
    else:
        log(f"Fetching {target.kind.value} {target.name} (depth 1)")
        local = _local_name(target)
        git("fetch", "--depth", "1", "--no-tags", "origin", f"+{target.name}:{local}")
        if target.kind is RefKind.BRANCH:
            revision = local
            branch = target.name[len("refs/heads/") :]
            # The branch tracks origin's, as after ``git clone``: one process, not two.
            checkout = ("checkout", "-q", "-B", branch, "--track", local)
        else:
            revision = f"{local}^{{commit}}"
            checkout = ("checkout", "-q", "--detach", revision)

    # The commit's fields are read from the objects while the work tree is
    # written: neither waits for the other.
    reading = start_reading(git, revision)
    try:
        git(*checkout)
        out = reading.result()
    finally:
        reading.stop()
    if submodules and (git.cwd / ".gitmodules").is_file():
        log("Updating submodules (recursive) ...")
        git("submodule", "update", "--init", "--recursive")

    # Checked out by name just above: no need to ask git which branch HEAD is.
    head_ref = target.name[len("refs/heads/") :] if target.kind is RefKind.BRANCH else "HEAD"
    info = parse_commit(
        out, uri=remote.display, ref=ref, context_dir=context_dir, head_ref=head_ref
    )
    log(f"\tCommit:\t{info.commit_id} ({info.message})")
    log(f"\tAuthor:\t{info.author_name} <{info.author_email}>")
    log(f"\tDate:\t{info.date}")
    return info


def _local_name(target: Target) -> str:
    if target.kind is RefKind.BRANCH:
        return "refs/remotes/origin/" + target.name[len("refs/heads/") :]
    return target.name


def _fetch_commit(git: Git, remote: GitURI, ref: str, target: Target, log: Log) -> str:
    """Fetch a commit shallowly if the server allows it, else everything."""
    wanted = target.commit or (ref.lower() if len(ref) in _FULL_SHA_LENGTHS else "")
    if wanted:
        log(f"Fetching commit {wanted} (depth 1)")
        try:
            git("fetch", "--depth", "1", "--no-tags", "origin", wanted)
            return git("rev-parse", "--verify", f"{wanted}^{{commit}}")
        except GitError as err:
            # Protocol v0 servers refuse unadvertised commits; a missing
            # commit also lands here.  Either way, the full fetch decides.
            cause = describe(err.stderr)
            log(f"Shallow fetch of {wanted} refused ({cause}); fetching branches and tags")
    else:
        log(f"Fetching branches and tags to find commit {ref}")
    git(
        "fetch",
        "--no-tags",
        "origin",
        "+refs/heads/*:refs/remotes/origin/*",
        "+refs/tags/*:refs/tags/*",
    )
    try:
        return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        raise _not_found(remote, ref) from None


def _failure(remote: GitURI, ref: str, cause: str) -> BuildError:
    return BuildError(
        StatusReason.FETCH_SOURCE_FAILED,
        f"cannot fetch {_what(ref)} from {remote.display}: {cause}",
    )


def _not_found(remote: GitURI, ref: str) -> BuildError:
    return BuildError(
        StatusReason.FETCH_SOURCE_FAILED, f"ref {ref!r} not found in {remote.display}"
    )
