"""Read the checked-out commit the way OpenShift's ``GetInfo`` does.

OpenShift asks git for each field with ``git show -s --format=...``: the date
in git's default format and the subject truncated to 80 columns
(``%<(80,trunc)%s``).  We ask for the same formats so labels match what an
OpenShift build of the same commit would carry, pinning ``--date=default`` and
``--no-show-signature`` so a user's ``log.*`` settings cannot change them.
"""

from __future__ import annotations

from pathlib import Path

from builder.source.gitcmd import Git, GitError, Running
from builder.source.info import SourceInfo

_FIELDS = ("%H", "%an", "%ae", "%cn", "%ce", "%ad", "%<(80,trunc)%s")
_FORMAT = "%x00".join(_FIELDS)


def read_head(
    git: Git, *, uri: str, ref: str, context_dir: str = "", head_ref: str | None = None
) -> SourceInfo:
    """SourceInfo for the work tree's HEAD; raises GitError if there is none.

    ``head_ref`` is the branch HEAD is on (``"HEAD"`` when detached), asked of
    git unless the caller just checked it out and knows.
    """
    out = start_reading(git, "HEAD").result()
    if head_ref is None:
        head_ref = git("rev-parse", "--abbrev-ref", "HEAD")
    return parse_commit(out, uri=uri, ref=ref, context_dir=context_dir, head_ref=head_ref)


def start_reading(git: Git, revision: str) -> Running:
    """Start ``git show`` of ``revision``'s fields; ``parse_commit`` reads its output.

    A fetch starts it as it checks ``revision`` out, not after.
    """
    return git.start(
        "show", "-s", "--no-show-signature", "--date=default", f"--format={_FORMAT}", revision, "--"
    )


def parse_commit(out: str, *, uri: str, ref: str, context_dir: str, head_ref: str) -> SourceInfo:
    """SourceInfo from the output of ``start_reading``'s command."""
    commit_id, author_name, author_email, committer_name, committer_email, date, message = (
        out.split("\x00", len(_FIELDS) - 1)
    )
    return SourceInfo(
        uri=uri,
        ref=ref,
        commit_id=commit_id.strip(),
        author_name=author_name,
        author_email=author_email,
        committer_name=committer_name,
        committer_email=committer_email,
        date=date,
        message=message.strip(),
        context_dir=context_dir,
        head_ref=head_ref.strip(),
    )


def read_worktree(path: Path, *, search_parents: bool) -> SourceInfo | None:
    """Commit info of the git work tree at (or above) ``path``, if there is one.

    Binary input from a developer's directory is often a checkout; OpenShift's
    ``oc start-build --from-dir`` records its HEAD when it can and silently
    goes without when it cannot, and so do we.  Without ``search_parents``
    only a work tree whose top is ``path`` itself counts: an archive unpacked
    inside some unrelated checkout must not report that checkout's commit.
    """
    if not path.is_dir():
        return None
    git = Git(path, None if search_parents else {"GIT_CEILING_DIRECTORIES": str(path.parent)})
    try:
        inside, _, top = git("rev-parse", "--is-inside-work-tree", "--show-toplevel").partition(
            "\n"
        )
        if inside != "true" or (not search_parents and Path(top) != path.resolve()):
            return None
        return read_head(git, uri="", ref="")
    except (GitError, ValueError):
        return None
