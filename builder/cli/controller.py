"""``kbuild controller``: run the BuildConfig and Build controllers.

Runs as a host process during development (``--kubeconfig``) and in the
cluster from the build-pod image (in-cluster config).  Every setting has a
flag and an environment variable, so the Deployment manifest can set them
without rebuilding the image.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType

from builder.cli.args import duration_seconds, insecure_registries_from_env


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from builder.controller.apparmor import PROFILE_NAME as APPARMOR_PROFILE  # noqa: PLC0415
    from builder.controller.podlayout import FEWEST, LAYOUTS  # noqa: PLC0415 - the CLI starts fast
    from builder.controller.seccomp import LOCALHOST_PROFILE  # noqa: PLC0415

    p = subparsers.add_parser(
        "controller",
        help="run the build controllers",
        description="Watch BuildConfigs and Builds and run builds in unprivileged buildah pods.",
    )
    p.add_argument("--kubeconfig", default=_env("KUBECONFIG") or None)
    p.add_argument(
        "--registry",
        default=_env("KBUILD_REGISTRY"),
        help="registry for ImageStreamTag outputs, as build pods reach it ($KBUILD_REGISTRY)",
    )
    p.add_argument(
        "--build-pod-image",
        default=_env("KBUILD_BUILD_POD_IMAGE"),
        help="image running the build steps (default: <registry>/kbuild/buildpod:latest)",
    )
    p.add_argument(
        "--insecure-registry",
        action="append",
        default=insecure_registries_from_env(),
        metavar="HOST[:PORT]",
    )
    p.add_argument("--namespace", default=_env("KBUILD_NAMESPACE"), help="watch one namespace")
    p.add_argument("--service-account", default=_env("KBUILD_BUILD_SERVICE_ACCOUNT", "default"))
    p.add_argument(
        "--workspace-size-limit", default=_env("KBUILD_WORKSPACE_SIZE_LIMIT", "4Gi"),
        help="sizeLimit of the build pod's workspace emptyDir (source, context)",
    )  # fmt: skip
    p.add_argument(
        "--storage-size-limit", default=_env("KBUILD_STORAGE_SIZE_LIMIT", "20Gi"),
        help="sizeLimit of the build pod's image-store emptyDir",
    )  # fmt: skip
    p.add_argument(
        "--seccomp-profile", default=_env("KBUILD_SECCOMP_PROFILE", LOCALHOST_PROFILE),
        help="build pods' Localhost seccomp profile, relative to the kubelet's seccomp "
        f"directory (default {LOCALHOST_PROFILE}, installed by deploy/seccomp-installer.yaml), "
        "or Unconfined (admitted only by a Pod Security 'privileged' namespace)",
    )  # fmt: skip
    p.add_argument(
        "--apparmor-profile", default=_env("KBUILD_APPARMOR_PROFILE"), metavar="NAME",
        help="build pods' AppArmor profile where nodes enforce AppArmor: a profile loaded on "
        f"every node ({APPARMOR_PROFILE}, loaded by deploy/apparmor-loader.yaml), or "
        "Unconfined ('privileged' namespaces only); default: none, the runtime's own",
    )  # fmt: skip
    p.add_argument(
        "--build-pod-containers", choices=LAYOUTS,
        default=_env("KBUILD_BUILD_POD_CONTAINERS", FEWEST),
        help="fewest (default): pipeline steps that mount no secret share a container; "
        "per-step: one container per step, as OpenShift's pods (docs/build-pod.md)",
    )  # fmt: skip
    p.add_argument(
        "--trusted-ca-configmap", default=_env("KBUILD_TRUSTED_CA_CONFIGMAP"),
        metavar="NAME",
        help="ConfigMap in each build namespace whose key ca-bundle.crt the build pod "
        "trusts for pulls and pushes (and RUN steps see with mountTrustedCA); what "
        "OpenShift's config.openshift.io/inject-trusted-cabundle injection provides",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=int, default=int(_env("KBUILD_WORKERS", "2")),
        help="threads reconciling BuildConfigs, Builds and workloads",
    )  # fmt: skip
    p.add_argument(
        "--stream-workers", type=int, default=int(_env("KBUILD_STREAM_WORKERS", "2")),
        help="threads reconciling image streams (imports wait on registries), apart",
    )  # fmt: skip
    p.add_argument(
        "--reconcile-deadline", type=duration_seconds,
        default=_env("KBUILD_RECONCILE_DEADLINE", "10m"),
        help="a reconcile running longer makes /healthz fail (default 10m)",
    )  # fmt: skip
    p.add_argument("--resync-seconds", type=int, default=int(_env("KBUILD_RESYNC_SECONDS", "300")))
    p.add_argument(
        "--metrics-port", type=int, default=int(_env("KBUILD_METRICS_PORT", "8080")),
        help="internal port: /metrics, /healthz, /readyz and registry notifications",
    )  # fmt: skip
    p.add_argument(
        "--webhook-port", type=int, default=int(_env("KBUILD_WEBHOOK_PORT", "8081")),
        help="public port for BuildConfig webhooks (0: none; the metrics port: share it)",
    )  # fmt: skip
    p.add_argument("--lease-namespace", default=_env("KBUILD_LEASE_NAMESPACE", "kube-system"))
    p.add_argument("--lease-name", default=_env("KBUILD_LEASE_NAME", "kbuild-controller"))
    p.add_argument("--identity", default=_env("POD_NAME"), help="leader election identity")
    p.add_argument(
        "--scheduled-import-interval",
        type=duration_seconds,
        default=_env("KBUILD_SCHEDULED_IMPORT_INTERVAL", "15m"),
        help="how often scheduled tags are re-imported (default 15m, as OpenShift)",
    )
    p.add_argument(
        "--scheduled-import-minimum-interval",
        type=duration_seconds,
        default=_env("KBUILD_SCHEDULED_IMPORT_MINIMUM_INTERVAL", "10s"),
        help="floor for the interval and for image.kbuild.io/import-interval annotations",
    )
    p.add_argument(
        "--import-qps",
        type=float,
        default=float(_env("KBUILD_IMPORT_QPS", "20")),
        help="registry requests per second for imports, all streams together",
    )
    p.add_argument("--import-burst", type=int, default=int(_env("KBUILD_IMPORT_BURST", "100")))
    p.add_argument("--import-workers", type=int, default=int(_env("KBUILD_IMPORT_WORKERS", "8")))
    p.add_argument(
        "--notifications-token",
        default=_env("KBUILD_NOTIFICATIONS_TOKEN"),
        help="bearer token registry notifications must carry ($KBUILD_NOTIFICATIONS_TOKEN)",
    )
    p.add_argument(
        "--notifications-token-secret",
        default=_env("KBUILD_NOTIFICATIONS_TOKEN_SECRET"),
        help="else keep the token in this Secret of the lease namespace (created if missing); "
        "with neither, notifications are refused",
    )
    p.add_argument(
        "--admission-port", type=int, default=int(_env("KBUILD_ADMISSION_PORT", "0")),
        help="serve the image-lookup admission webhook (lookupPolicy.local) over TLS on this "
        "port (0: not served; deploy/ uses 8443)",
    )  # fmt: skip
    p.add_argument(
        "--admission-service", default=_env("KBUILD_ADMISSION_SERVICE", "kbuild-admission"),
        help="the Service of the lease namespace that the webhook's certificate names",
    )  # fmt: skip
    p.add_argument(
        "--admission-secret", default=_env("KBUILD_ADMISSION_SECRET", "kbuild-admission-tls"),
        help="the Secret of the lease namespace holding the webhook's certificate",
    )  # fmt: skip
    p.add_argument(
        "--admission-webhook-config",
        default=_env("KBUILD_ADMISSION_WEBHOOK_CONFIG", "kbuild-image-lookup"),
        help="the MutatingWebhookConfiguration whose caBundle the controller keeps current",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    # Imported here: every kbuild command parses this verb's flags, and the
    # controller's machinery (informers, prometheus) costs most of
    # a local build's start-up time.
    from builder.controller.config import ControllerConfig  # noqa: PLC0415
    from builder.controller.manager import Manager  # noqa: PLC0415
    from builder.kube import Kube  # noqa: PLC0415

    logging.basicConfig(
        level=logging.DEBUG if ns.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("urllib3",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not ns.registry:
        print("error: --registry (or $KBUILD_REGISTRY) is required", file=sys.stderr)
        return 2
    config = ControllerConfig(
        registry=ns.registry,
        build_pod_image=ns.build_pod_image or f"{ns.registry}/kbuild/buildpod:latest",
        insecure_registries=frozenset(ns.insecure_registry),
        namespace=ns.namespace,
        default_service_account=ns.service_account,
        workspace_size_limit=ns.workspace_size_limit,
        storage_size_limit=ns.storage_size_limit,
        seccomp_profile=ns.seccomp_profile,
        apparmor_profile=ns.apparmor_profile,
        build_pod_containers=ns.build_pod_containers,
        trusted_ca_configmap=ns.trusted_ca_configmap or "",
        resync_seconds=ns.resync_seconds,
        workers=ns.workers,
        stream_workers=ns.stream_workers,
        reconcile_deadline=ns.reconcile_deadline,
        lease_namespace=ns.lease_namespace,
        lease_name=ns.lease_name,
        identity=ns.identity,
        metrics_port=ns.metrics_port,
        webhook_port=ns.webhook_port,
        scheduled_import_interval=ns.scheduled_import_interval,
        scheduled_import_minimum=ns.scheduled_import_minimum_interval,
        import_qps=ns.import_qps,
        import_burst=ns.import_burst,
        import_workers=ns.import_workers,
        notifications_token=ns.notifications_token,
        notifications_token_secret=ns.notifications_token_secret,
        admission_port=ns.admission_port,
        admission_service=ns.admission_service,
        admission_secret=ns.admission_secret,
        admission_webhook_config=ns.admission_webhook_config,
    )
    manager = Manager(Kube.connect(ns.kubeconfig), config)

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: stopping", signum)
        manager.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Losing leadership ends the process at once (see builder.controller.leader).
    manager.run(on_lost=lambda: os._exit(1))
    return 0
