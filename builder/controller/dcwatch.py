"""What wakes the DeploymentConfig reconciler: its own watches, kept out of the manager.

- DeploymentConfigs: any change but the status writes the reconciler made
  itself (``kbuild rollout latest`` bumps ``status.latestVersion``, which must
  wake it); each one's ImageChange triggers are indexed in the manager's
  ``watchers`` so a moved tag queues the DeploymentConfigs following it.
- ReplicationControllers labelled ``openshift.io/deployment-config.name``:
  any change (pods becoming ready is how a rollout advances), mapped to the
  DeploymentConfig.

The manager runs these watches in its loop and sends keys of kind
``DeploymentConfig`` to ``reconcile``; nothing else of it is needed here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from builder.api.apps import DEPLOYMENT_CONFIG_LABEL, KIND_DEPLOYMENT_CONFIG, DeploymentConfig
from builder.controller import dcrollout
from builder.controller.authz import Authorizer
from builder.controller.build import Result
from builder.controller.deploymentconfig import DeploymentConfigReconciler
from builder.controller.triggerindex import Index
from builder.kube import REPLICATION_CONTROLLERS, Kube, WatchEvent

Key = tuple[str, str, str]
StreamKey = tuple[str, str]
Lister = Callable[[], tuple[list[Key], str]]
Watch = tuple[str, Lister, Callable[[str], Iterator[Any]], Callable[[Any], list[Key]]]

KIND = KIND_DEPLOYMENT_CONFIG


def watched_streams(dc: DeploymentConfig) -> frozenset[StreamKey]:
    """(namespace, stream) of every ImageChange trigger."""
    return frozenset(
        (p.from_.namespace or dc.metadata.namespace, p.from_.name.partition(":")[0])
        for _, p in dcrollout.image_triggers(dc)
    )


class DeploymentConfigWatches:
    def __init__(
        self,
        kube: Kube,
        namespace: str | None,
        watchers: Index[Key, StreamKey],
        authorizer: Authorizer,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.watchers = watchers
        self.reconciler = DeploymentConfigReconciler(
            kube, authorizer=authorizer, on_write=self._wrote
        )
        self._lock = threading.Lock()
        self._written: dict[tuple[str, str], str] = {}

    def _wrote(self, dc: DeploymentConfig) -> None:
        with self._lock:
            self._written[(dc.metadata.namespace, dc.metadata.name)] = dc.metadata.resource_version

    def _own_write(self, dc: DeploymentConfig) -> bool:
        with self._lock:
            key = (dc.metadata.namespace, dc.metadata.name)
            return self._written.get(key) == dc.metadata.resource_version

    def on_invalid(self, handler: Callable[[dict[str, Any], Any], None]) -> None:
        """Report DeploymentConfigs the model refuses (lists and watches skip them)."""
        resources = getattr(self.kube, "deployment_configs", None)
        if resources is not None:  # a test double may serve no DeploymentConfigs
            resources.on_invalid = handler

    def reconcile(self, namespace: str, name: str) -> Result:
        return self.reconciler.reconcile(namespace, name)

    # -- DeploymentConfigs ---------------------------------------------------

    def _index(self, dc: DeploymentConfig, deleted: bool = False) -> Key:
        key = (KIND, dc.metadata.namespace, dc.metadata.name)
        if deleted:
            self.watchers.remove(key)
        else:
            self.watchers.put(key, watched_streams(dc))
        return key

    def list_configs(self) -> tuple[list[Key], str]:
        items, version = self.kube.deployment_configs.list(self.namespace)
        return [self._index(dc) for dc in items], version

    def config_keys(self, event: WatchEvent[DeploymentConfig]) -> list[Key]:
        dc = event.object
        if dc is None:
            return []
        deleted = event.type == "DELETED"
        key = self._index(dc, deleted)
        if deleted:
            with self._lock:
                self._written.pop((dc.metadata.namespace, dc.metadata.name), None)
            self.reconciler.forget(dc.metadata.namespace, dc.metadata.name)
            return []
        return [] if self._own_write(dc) else [key]

    # -- ReplicationControllers ----------------------------------------------

    @staticmethod
    def _rc_key(rc: dict[str, Any] | None) -> list[Key]:
        meta = (rc or {}).get("metadata") or {}
        name = (meta.get("labels") or {}).get(DEPLOYMENT_CONFIG_LABEL)
        return [(KIND, str(meta.get("namespace", "")), str(name))] if name else []

    def list_rcs(self) -> tuple[list[Key], str]:
        items, version = self.kube.list_objects(
            REPLICATION_CONTROLLERS, self.namespace, DEPLOYMENT_CONFIG_LABEL
        )
        return sorted({k for rc in items for k in self._rc_key(rc)}), version

    def rc_keys(self, event: WatchEvent[dict[str, Any]]) -> list[Key]:
        return self._rc_key(event.object)

    # -- for the manager -----------------------------------------------------

    def listers(self) -> list[tuple[str, Lister]]:
        return [("deploymentconfigs", self.list_configs), ("replicationcontrollers", self.list_rcs)]

    def watches(self) -> list[Watch]:
        ns = self.namespace
        return [
            (
                "deploymentconfigs", self.list_configs,
                lambda rv: self.kube.deployment_configs.watch(ns, rv), self.config_keys,
            ),
            (
                "replicationcontrollers", self.list_rcs,
                lambda rv: self.kube.watch_objects(
                    REPLICATION_CONTROLLERS, ns, rv, DEPLOYMENT_CONFIG_LABEL
                ),
                self.rc_keys,
            ),
        ]  # fmt: skip


__all__ = ["KIND", "DeploymentConfigWatches", "watched_streams"]
