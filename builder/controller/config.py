"""Controller settings: where images go, which image runs builds, what to watch.

One immutable object passed to every reconciler, filled from command-line
flags (``kbuild controller --help``) or the environment in the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from builder.controller.seccomp import LOCALHOST_PROFILE

# The ClusterRole a namespace binds to lend its secrets to the controller
# (deploy/rbac.yaml): the controller holds no cluster-wide right on secrets.
SECRETS_ROLE = "kbuild-namespace-secrets"


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
    # sizeLimit of the build pod's emptyDirs (Kubernetes quantities): the
    # source and context, and buildah's image store.  A build that writes
    # more is evicted by the kubelet instead of filling the node's disk.
    workspace_size_limit: str = "4Gi"
    storage_size_limit: str = "20Gi"
    # The build pod's seccomp profile: a path under the kubelet's seccomp
    # directory (deploy/seccomp-installer.yaml puts the default there), or
    # "Unconfined", which only a Pod Security "privileged" namespace admits.
    seccomp_profile: str = LOCALHOST_PROFILE
    # Seconds between full re-lists; every object is reconciled at least this often.
    resync_seconds: int = 300
    # Worker threads reconciling BuildConfigs, Builds and workloads.
    workers: int = 2
    # Worker threads reconciling image streams (imports: registry I/O), apart,
    # so a slow registry cannot hold the reconciles of builds.
    stream_workers: int = 2
    # A reconcile running longer than this makes /healthz fail (a stuck worker).
    reconcile_deadline: float = 600.0
    # Leader election (coordination.k8s.io Lease).
    lease_namespace: str = "kube-system"
    lease_name: str = "kbuild-controller"
    identity: str = ""
    # Health, metrics and registry-notification HTTP endpoint; 0 disables it.
    metrics_port: int = 8080
    # BuildConfig webhooks, the one endpoint meant for callers outside the
    # cluster, on a port of their own so it can be exposed alone (0: none;
    # equal to metrics_port: served there).
    webhook_port: int = 8081
    # Scheduled imports: the default re-import interval of a scheduled tag, and
    # the floor below which no stream or tag annotation can go (OpenShift has
    # one setting, 15 minutes, for both).
    scheduled_import_interval: float = 900.0
    scheduled_import_minimum: float = 10.0
    # Every registry request of an import takes a token: this many per second,
    # bursts up to import_burst; import_workers tags are imported in parallel.
    import_qps: float = 20.0
    import_burst: int = 100
    import_workers: int = 8
    # Bearer token registry notifications must carry (empty: no check).
    notifications_token: str = ""
    # Else the token is kept in this Secret of the lease namespace (created
    # when missing); with neither, notifications are refused (notifytoken).
    notifications_token_secret: str = ""

    def output_repository(self, namespace: str, stream: str) -> str:
        return f"{self.registry}/{namespace}/{stream}"
