"""Controller settings: where images go, which image runs builds, what to watch.

One immutable object passed to every reconciler, filled from command-line
flags (``kbuild controller --help``) or the environment in the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ControllerConfig:
    # Registry that ImageStreamTag outputs are pushed to, as build pods reach
    # it: images go to <registry>/<namespace>/<stream>:<tag>.
    registry: str
    # The image whose kbuild runs the pipeline steps in build pods.
    build_pod_image: str
    # Registries spoken to over plain HTTP (the in-cluster test registry).
    insecure_registries: frozenset[str] = field(default_factory=frozenset)
    # Namespace to watch; empty watches all namespaces.
    namespace: str = ""
    # Service account for build pods when the BuildConfig names none.
    default_service_account: str = "default"
    # Seconds between full re-lists; every object is reconciled at least this often.
    resync_seconds: int = 300
    # Worker threads draining the reconcile queue.
    workers: int = 2
    # Leader election (coordination.k8s.io Lease).
    lease_namespace: str = "kube-system"
    lease_name: str = "kbuild-controller"
    identity: str = ""
    # Health and metrics HTTP endpoint; 0 disables it.
    metrics_port: int = 8080

    def output_repository(self, namespace: str, stream: str) -> str:
        return f"{self.registry}/{namespace}/{stream}"
