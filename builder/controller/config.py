"""Controller settings: where images go, which image runs builds, what to watch.

One immutable object passed to every reconciler, filled from command-line
flags (``kbuild controller --help``) or the environment in the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from builder.controller.podlayout import FEWEST
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
    # The build pod's AppArmor profile: empty (the runtime's default; right
    # for nodes without AppArmor), the name of a profile loaded on every node
    # (deploy/apparmor-loader.yaml loads builder.controller.apparmor's), or
    # "Unconfined", which only a Pod Security "privileged" namespace admits.
    apparmor_profile: str = ""
    # "fewest": pipeline steps that mount no secret share a container
    # (builder.controller.podlayout); "per-step": one container per step.
    build_pod_containers: str = FEWEST
    # A ConfigMap, by name, in each build's namespace whose key ``ca-bundle.crt``
    # is the cluster's trusted CA bundle: OpenShift injects one labelled
    # config.openshift.io/inject-trusted-cabundle; here a distributor such as
    # trust-manager (a Bundle targeting that name) or the admin puts it there.
    # Empty: builds trust the build pod image's CAs only, and mountTrustedCA fails.
    trusted_ca_configmap: str = ""
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
    # The image-lookup mutating admission webhook (lookupPolicy.local), over
    # TLS on this port (0: not served).  Its certificate is kept in Secret
    # admission_secret of lease_namespace, its CA in the caBundle of the
    # MutatingWebhookConfiguration admission_webhook_config; the certificate
    # names the Service admission_service of lease_namespace.
    admission_port: int = 0
    admission_service: str = "kbuild-admission"
    admission_secret: str = "kbuild-admission-tls"  # noqa: S105 - a Secret's name
    admission_webhook_config: str = "kbuild-image-lookup"

    def output_repository(self, namespace: str, stream: str) -> str:
        return f"{self.registry}/{namespace}/{stream}"
