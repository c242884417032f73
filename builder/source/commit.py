"""Read the checked-out commit the way OpenShift's ``GetInfo`` does.

OpenShift asks git for each field with ``git show -s --format=...``: the date
in git's default format and the subject truncated to 80 columns
(``%<(80,trunc)%s``).  We ask for the same formats so labels match what an
OpenShift build of the same commit would carry, pinning ``--date=default`` and
``--no-show-signature`` so a user's ``log.*`` settings cannot change them.
"""

from __future__ import annotations

from pathlib import Path

from git import Repo
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from builder.source.info import SourceInfo

_FIELDS = ("%H", "%an", "%ae", "%cn", "%ce", "%ad", "%<(80,trunc)%s")
_FORMAT = "%x00".join(_FIELDS)


def read_head(repo: Repo, *, uri: str, ref: str, context_dir: str = "") -> SourceInfo:
    """SourceInfo for ``repo``'s HEAD; raises GitCommandError if there is none."""
    out = repo.git.show(
        "-s", "--no-show-signature", "--date=default", f"--format={_FORMAT}", "HEAD", "--"
    )
    commit_id, author_name, author_email, committer_name, committer_email, date, message = (
        out.split("\x00", len(_FIELDS) - 1)
    )
    head_ref = repo.git.rev_parse("--abbrev-ref", "HEAD")
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
    goes without when it cannot, and so do we.
    """
    try:
        repo = Repo(path, search_parent_directories=search_parents)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None
    try:
        if repo.bare:
            return None
        return read_head(repo, uri="", ref="")
    except (GitCommandError, ValueError):
        return None
    finally:
        repo.close()
