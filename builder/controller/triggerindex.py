"""Who watches which image stream, and which streams follow which registry repository.

The controller learns both from watch events, so that a tag move reaches
exactly the BuildConfigs and workloads that watch the stream, and a registry
push notification reaches exactly the streams that import from that
repository, without listing anything.  An index is only a hint: every
object it names is reconciled from what the API server says, and a full
resync rebuilds it.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

from builder.api import ImageStream
from builder.registry import ImageReference, InvalidReferenceError
from builder.streams.tags import tag_importable

W = TypeVar("W", bound=Hashable)
T = TypeVar("T", bound=Hashable)


class Index(Generic[W, T]):
    """A many-to-many map from watchers to what they watch, queried by the watched."""

    def __init__(self) -> None:
        self._by_watcher: dict[W, frozenset[T]] = {}
        self._by_target: dict[T, set[W]] = {}
        self._lock = threading.Lock()

    def put(self, watcher: W, targets: frozenset[T]) -> None:
        with self._lock:
            old = self._by_watcher.pop(watcher, frozenset())
            for target in old - targets:
                watchers = self._by_target.get(target)
                if watchers is not None:
                    watchers.discard(watcher)
                    if not watchers:
                        del self._by_target[target]
            if targets:
                self._by_watcher[watcher] = targets
            for target in targets:
                self._by_target.setdefault(target, set()).add(watcher)

    def remove(self, watcher: W) -> None:
        self.put(watcher, frozenset())

    def watchers(self, target: T) -> set[W]:
        with self._lock:
            return set(self._by_target.get(target, ()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_watcher)


StreamTag = tuple[str, str, str]  # (namespace, stream, tag)
Repository = tuple[str, str]  # (repository path, tag)


def scheduled_sources(stream: ImageStream) -> dict[StreamTag, Repository]:
    """The registry ``repository:tag`` each scheduled tag of ``stream`` imports.

    Keyed by repository path and tag, not host: the host a registry puts in
    its notifications is the one its client used, which need not be how the
    stream names it; importing one tag too many is harmless, missing one is not.
    """
    found: dict[StreamTag, Repository] = {}
    for ref in stream.spec.tags:
        if not tag_importable(ref) or not ref.import_policy.scheduled or ref.from_ is None:
            continue
        try:
            parsed = ImageReference.parse(ref.from_.name)
        except InvalidReferenceError:
            continue
        if parsed.tag is None or parsed.digest is not None:
            continue  # a digest never moves: nothing to be notified about
        found[(stream.metadata.namespace, stream.metadata.name, ref.name)] = (
            parsed.repository,
            parsed.tag,
        )
    return found


class SourceIndex:
    """Scheduled stream tags by the registry repository and tag they import."""

    def __init__(self) -> None:
        self._index: Index[StreamTag, Repository] = Index()
        self._tags: dict[tuple[str, str], set[StreamTag]] = {}
        self._lock = threading.Lock()

    def update(self, stream: ImageStream) -> None:
        sources = scheduled_sources(stream)
        key = (stream.metadata.namespace, stream.metadata.name)
        with self._lock:
            gone = self._tags.get(key, set()) - set(sources)
            self._tags[key] = set(sources)
        for stream_tag in gone:
            self._index.remove(stream_tag)
        for stream_tag, repository in sources.items():
            self._index.put(stream_tag, frozenset({repository}))

    def remove(self, namespace: str, name: str) -> None:
        with self._lock:
            gone = self._tags.pop((namespace, name), set())
        for stream_tag in gone:
            self._index.remove(stream_tag)

    def tags_for(self, repository: str, tag: str) -> set[StreamTag]:
        return self._index.watchers((repository, tag))
