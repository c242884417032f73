"""API server answers, as exceptions the reconcilers can reason about.

Reconcilers branch on meaning, not on HTTP codes: a Conflict means "re-read
and try again", AlreadyExists on a deterministic name means "it is ours",
Gone on a watch means "relist".
"""

from __future__ import annotations

import json


class KubeError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    @property
    def server_message(self) -> str:
        """The API server's own sentence: a Status body's ``message``, else the text as is.

        ``message`` holds the raw response body, a JSON ``Status`` object,
        which is what a log wants; a Build's status or an event wants the one
        line the server wrote (``pods "x" is forbidden: violates PodSecurity ...``).
        """
        try:
            body = json.loads(self.message)
        except ValueError:
            return self.message
        text = body.get("message") if isinstance(body, dict) else None
        return text if isinstance(text, str) and text else self.message


class NotFound(KubeError):  # noqa: N818 - named for the API's own status reason
    pass


class AlreadyExists(KubeError):  # noqa: N818
    pass


class Forbidden(KubeError):  # noqa: N818
    """Refused (403): RBAC, or an admission plugin such as Pod Security or a quota."""


class Conflict(KubeError):  # noqa: N818
    """Optimistic concurrency lost: the object changed since it was read."""


class Gone(KubeError):  # noqa: N818
    """The watch's resourceVersion is too old; relist and watch again."""


class Invalid(KubeError):  # noqa: N818
    """The API server refused the object (422): a bug or a bad manifest."""


def classify(status: int, message: str) -> KubeError:
    kinds: dict[int, type[KubeError]] = {
        403: Forbidden,
        404: NotFound,
        409: Conflict,
        410: Gone,
        422: Invalid,
    }
    if status == 409 and "already exists" in message:
        return AlreadyExists(status, message)
    return kinds.get(status, KubeError)(status, message)
