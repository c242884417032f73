"""API server answers, as exceptions the reconcilers can reason about.

Reconcilers branch on meaning, not on HTTP codes: a Conflict means "re-read
and try again", AlreadyExists on a deterministic name means "it is ours",
Gone on a watch means "relist".
"""

from __future__ import annotations


class KubeError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class NotFound(KubeError):  # noqa: N818 - named for the API's own status reason
    pass


class AlreadyExists(KubeError):  # noqa: N818
    pass


class Conflict(KubeError):  # noqa: N818
    """Optimistic concurrency lost: the object changed since it was read."""


class Gone(KubeError):  # noqa: N818
    """The watch's resourceVersion is too old; relist and watch again."""


class Invalid(KubeError):  # noqa: N818
    """The API server refused the object (422): a bug or a bad manifest."""


def classify(status: int, message: str) -> KubeError:
    kinds: dict[int, type[KubeError]] = {
        404: NotFound,
        409: Conflict,
        410: Gone,
        422: Invalid,
    }
    if status == 409 and "already exists" in message:
        return AlreadyExists(status, message)
    return kinds.get(status, KubeError)(status, message)
