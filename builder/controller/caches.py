"""The controller's informers, their indexes, and who a stream change wakes.

Indexes (``Store.by_index``):

- BuildConfigs by each ``(namespace, "stream:tag")`` an ImageChange trigger
  watches (``TAGS``);
- Builds by BuildConfig (``CONFIG``) and, while a New build waits for its
  input tag to have an image, by that tag (``INPUT``);
- pods by Build (``BUILD``);
- workloads by each ``(namespace, stream, tag)`` their
  ``image.openshift.io/triggers`` annotation names (``TAGS``).

Fan-out is by tag, decided from the two versions of a stream the informer
hands over (``moved_tags``): a status write that moves no tag (a condition,
the controller's own bookkeeping) wakes nobody; one that moves ``base:v1``
wakes only what watches ``base:v1``.  A spec change may change what a tag
follows, so it wakes every watcher of the stream, as before.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from builder.api import Build, BuildConfig, ImageStream
from builder.api.constants import BUILD_ANNOTATION, BUILD_LABEL, IMAGE_TRIGGERS_ANNOTATION
from builder.controller.buildconfig import waits_for_input
from builder.kube import WORKLOADS, CoreResource, Kube
from builder.kube.cached import CachedKube
from builder.kube.informer import Informer
from builder.rules.names import config_name
from builder.streams.buildtriggers import strategy_input, tag_key
from builder.streams.buildtriggers import watched_tags as bc_watched_tags
from builder.streams.tags import current_pull_spec
from builder.streams.workloads import watched_tags as workload_watched_tags

TAGS = "tags"
CONFIG = "config"
INPUT = "input"
BUILD = "build"


def build_config_tags(bc: BuildConfig) -> Iterable[Hashable]:
    return bc_watched_tags(bc)


def build_config_of(build: Build) -> Iterable[Hashable]:
    name = config_name(build)
    return [(build.metadata.namespace, name)] if name else []


def input_tag(build: Build) -> Iterable[Hashable]:
    """The tag a New build waits on (woken by its move instead of polling)."""
    if not waits_for_input(build):
        return []
    source = strategy_input(build.spec.strategy)
    return [tag_key(source, build.metadata.namespace)] if source is not None else []


def build_of_pod(pod: dict[str, Any]) -> list[tuple[str, str]]:
    """(namespace, build) of a build pod: annotation, else label."""
    meta = pod.get("metadata") or {}
    build = (meta.get("annotations") or {}).get(BUILD_ANNOTATION) or (meta.get("labels") or {}).get(
        BUILD_LABEL
    )
    return [(str(meta.get("namespace") or ""), str(build))] if build else []


def workload_tags(obj: dict[str, Any]) -> Iterable[Hashable]:
    return workload_watched_tags(obj)


def has_triggers(obj: dict[str, Any]) -> bool:
    """Only workloads with the trigger annotation are kept: memory follows what is used."""
    return IMAGE_TRIGGERS_ANNOTATION in ((obj.get("metadata") or {}).get("annotations") or {})


def _tags(stream: ImageStream) -> set[str]:
    return {t.tag for t in stream.status.tags} | {t.name for t in stream.spec.tags}


def moved_tags(old: ImageStream | None, new: ImageStream | None) -> set[str] | None:
    """The tags whose current image changed between two versions of a stream.

    None means "any tag may have": the spec changed (what a tag follows,
    its reference policy), so every watcher of the stream must look.
    """
    if old is None or new is None:
        present = old if new is None else new
        if present is None:
            return set()
        return {t for t in _tags(present) if current_pull_spec(present, t) is not None}
    if (old.metadata.generation or 0) != (new.metadata.generation or 0):
        return None
    return {
        t for t in _tags(old) | _tags(new) if current_pull_spec(old, t) != current_pull_spec(new, t)
    }


@dataclass
class Caches:
    """One informer per kind the controller reads; ``kube`` reads them, writes the API."""

    build_configs: Informer[BuildConfig]
    builds: Informer[Build]
    image_streams: Informer[ImageStream]
    pods: Informer[dict[str, Any]]
    workloads: dict[str, Informer[dict[str, Any]]] = field(default_factory=dict)
    # Kinds whose reconcilers read the API directly (DeploymentConfigs and
    # their ReplicationControllers): informers only for the wake-ups.
    others: list[Informer[Any]] = field(default_factory=list)
    # The namespace the informers watch (None: all); reads elsewhere go live.
    namespace: str | None = None

    def all(self) -> list[Informer[Any]]:
        return [
            self.build_configs, self.builds, self.image_streams, self.pods,
            *self.workloads.values(), *self.others,
        ]  # fmt: skip

    def reader(self, live: Kube) -> CachedKube:
        return CachedKube(
            live,
            build_configs=self.build_configs.store,
            builds=self.builds.store,
            image_streams=self.image_streams.store,
            pods=self.pods.store,
            workloads={kind: i.store for kind, i in self.workloads.items()},
            scope=self.namespace,
        )


def _workload_informer(kube: Kube, resource: CoreResource, ns: str | None) -> Informer[Any]:
    return Informer(
        resource.plural,
        lambda: kube.list_objects(resource, ns),
        lambda rv: kube.watch_objects(resource, ns, rv),
        indexers={TAGS: workload_tags},
        keep=has_triggers,
    )


def make_caches(kube: Kube, namespace: str | None) -> Caches:
    """The informers of a controller watching ``namespace`` (None: every namespace)."""
    ns = namespace or None
    return Caches(
        build_configs=Informer(
            "buildconfigs",
            lambda: kube.build_configs.list(ns),
            lambda rv: kube.build_configs.watch(ns, rv),
            indexers={TAGS: build_config_tags},
        ),
        builds=Informer(
            "builds",
            lambda: kube.builds.list(ns),
            lambda rv: kube.builds.watch(ns, rv),
            indexers={CONFIG: build_config_of, INPUT: input_tag},
        ),
        image_streams=Informer(
            "imagestreams",
            lambda: kube.image_streams.list(ns),
            lambda rv: kube.image_streams.watch(ns, rv),
        ),
        pods=Informer(
            "pods",
            lambda: kube.list_pods(ns, BUILD_LABEL),
            lambda rv: kube.watch_pods(ns, BUILD_LABEL, rv),
            indexers={BUILD: build_of_pod},
        ),
        workloads={
            kind: _workload_informer(kube, resource, ns) for kind, resource in WORKLOADS.items()
        },
        namespace=ns,
    )


__all__ = ["Caches", "build_of_pod", "make_caches", "moved_tags"]
