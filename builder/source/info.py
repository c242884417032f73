"""What a build's source was, and how OpenShift stamps that onto the image.

Users and tooling written for OpenShift read ``io.openshift.build.*`` labels
and ``OPENSHIFT_BUILD_*`` variables from images to trace them back to a commit,
so the names, the "only when non-empty" rules and the author format follow
OpenShift's builder (and source-to-image's label generator) exactly.
"""

from __future__ import annotations

from builder.record import Record

LABEL_PREFIX = "io.openshift.build."


class SourceInfo(Record):
    """The fetched source, as OpenShift's ``git.SourceInfo`` records it.

    ``ref`` is what the user asked for (possibly empty); ``head_ref`` is git's
    own name for the checked-out HEAD (a branch name, or ``HEAD`` when
    detached).  OpenShift labels the image with the requested ref when there is
    one and falls back to git's view otherwise, so both are kept.

    ``date`` is git's default date format and ``message`` the subject cut to 80
    columns, because that is what OpenShift puts in the labels.
    """

    uri: str = ""
    ref: str = ""
    commit_id: str = ""
    author_name: str = ""
    author_email: str = ""
    committer_name: str = ""
    committer_email: str = ""
    date: str = ""
    message: str = ""
    context_dir: str = ""
    head_ref: str = ""


def build_labels(info: SourceInfo) -> list[tuple[str, str]]:
    """``io.openshift.build.*`` labels as ordered pairs, sorted, empties omitted.

    Pairs rather than a dict because they become Dockerfile ``LABEL`` lines,
    where order matters; sorted because OpenShift writes them sorted, which
    keeps generated Dockerfiles (and so layer caches) stable between builds.
    """
    labels: dict[str, str] = {}
    if info.author_name:
        labels["commit.author"] = f"{info.author_name} <{info.author_email}>"
    labels["commit.date"] = info.date
    labels["commit.id"] = info.commit_id
    labels["commit.ref"] = info.ref or info.head_ref
    labels["commit.message"] = info.message
    labels["source-location"] = info.uri
    labels["source-context-dir"] = info.context_dir
    return [(LABEL_PREFIX + key, labels[key]) for key in sorted(labels) if labels[key]]


def build_env(info: SourceInfo) -> list[tuple[str, str]]:
    """``OPENSHIFT_BUILD_SOURCE``/``_REFERENCE``/``_COMMIT``, in OpenShift's order.

    OpenShift sets these only for git sources (a source URI); the reference
    only when one was requested, the commit only once it is known.  Binary
    input has no URI and therefore gets none of them.
    """
    if not info.uri:
        return []
    env = [("OPENSHIFT_BUILD_SOURCE", info.uri)]
    if info.ref:
        env.append(("OPENSHIFT_BUILD_REFERENCE", info.ref))
    if info.commit_id:
        env.append(("OPENSHIFT_BUILD_COMMIT", info.commit_id))
    return env
