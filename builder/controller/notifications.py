"""Registry push notifications: import a scheduled tag seconds after its image is pushed.

A distribution registry configured with ``notifications.endpoints`` POSTs an
envelope of events (media type
``application/vnd.docker.distribution.events.v1+json``) for every push and
pull.  A manifest pushed under a tag is a ``push`` event whose target names
the repository and tag; every scheduled stream tag importing that
``repository:tag`` is then checked at once instead of at its next interval.

The registry retries a delivery until it gets a 2xx, so anything we cannot
use (a pull, a blob, a repository nobody imports) is still acknowledged;
only a malformed envelope (400) or a wrong token (401) is refused.

distribution sends the event when the manifest is stored, before the tag
points to it: an import right then can still see the old image (or a
half-written tag).  So each woken tag carries the pushed digest, and the
importer checks again until the registry shows it (see ``imagestream``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from builder.api.nesting import load_json
from builder.controller.triggerindex import SourceIndex, StreamTag

PATH = "/registry/notifications"
# Manifest media types: pushes of anything else (blobs) never move a tag.
_MANIFEST_MARKERS = ("manifest", "image.index")


@dataclass(frozen=True)
class Push:
    repository: str
    tag: str
    digest: str


class NotificationError(ValueError):
    """An envelope that is not one; answered with 400."""


def parse_envelope(body: bytes) -> list[Push]:
    """The manifest pushes by tag in a notification envelope.

    Whoever can reach the endpoint can send anything: only
    ``NotificationError`` comes out (nesting bounded by ``load_json``).
    """
    try:
        document = load_json(body, what="the envelope")
    except ValueError as err:
        raise NotificationError(f"not JSON: {err}") from None
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        raise NotificationError('an envelope holds a list of "events"')
    pushes: list[Push] = []
    for event in events:
        if not isinstance(event, dict) or event.get("action") != "push":
            continue
        target = event.get("target")
        if not isinstance(target, dict):
            continue
        media_type = str(target.get("mediaType", ""))
        repository, tag = target.get("repository"), target.get("tag")
        if not isinstance(repository, str) or not isinstance(tag, str) or not tag:
            continue
        if media_type and not any(m in media_type for m in _MANIFEST_MARKERS):
            continue
        pushes.append(Push(repository, tag, str(target.get("digest", ""))))
    return pushes


class NotificationReceiver:
    """Turns pushes into "check this tag now" for the streams that import it."""

    def __init__(
        self,
        index: SourceIndex,
        on_push: Callable[[StreamTag, str], None],
        token: str = "",
    ) -> None:
        self.index = index
        self.on_push = on_push
        self.token = token

    def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """An HTTP answer (status, body) for one delivery."""
        if self.token:
            given = headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return 401, b"bad or missing bearer token\n"
        try:
            pushes = parse_envelope(body)
        except NotificationError as err:
            return 400, f"{err}\n".encode()
        woken: dict[StreamTag, str] = {}
        for push in pushes:  # in order: a later push of the same tag wins
            for stream_tag in self.index.tags_for(push.repository, push.tag):
                woken[stream_tag] = push.digest
        for stream_tag, digest in sorted(woken.items()):
            self.on_push(stream_tag, digest)
        return 200, f"{len(woken)} tags to check\n".encode()
