"""The resources kbuild reads and writes, described once.

Custom resources carry their pydantic model so callers get typed objects;
core resources (pods, events, leases) stay plain dicts: kbuild builds them
but never needs their full schema.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomResource:
    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


BUILD_CONFIGS = CustomResource("build.openshift.io", "v1", "buildconfigs", "BuildConfig")
BUILDS = CustomResource("build.openshift.io", "v1", "builds", "Build")
IMAGE_STREAMS = CustomResource("image.openshift.io", "v1", "imagestreams", "ImageStream")
DEPLOYMENT_CONFIGS = CustomResource(
    "apps.openshift.io", "v1", "deploymentconfigs", "DeploymentConfig"
)


@dataclass(frozen=True)
class ApiResource:
    """Any kind the API server serves, as discovery names it (for ``kbuild apply|create``)."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def path(self, namespace: str | None, name: str | None) -> str:
        """The REST path of the collection (``name`` None) or of one object."""
        from urllib.parse import quote  # noqa: PLC0415

        root = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            root += f"/namespaces/{quote(namespace, safe='')}"
        root += f"/{self.plural}"
        return root if name is None else f"{root}/{quote(name, safe='')}"

    def ref(self, name: str) -> str:
        """``buildconfig.build.openshift.io/NAME``, ``service/NAME``: kubectl's name printer."""
        group = self.group
        kind = self.kind.lower()
        return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


@dataclass(frozen=True)
class CoreResource:
    """A built-in kind reached through the client library's typed API classes.

    ``api`` names the library class (``AppsV1Api``) and ``suffix`` the part
    of its method names after ``read_namespaced_`` (``deployment``).
    """

    kind: str
    api_version: str
    plural: str
    api: str
    suffix: str


DEPLOYMENTS = CoreResource("Deployment", "apps/v1", "deployments", "AppsV1Api", "deployment")
STATEFUL_SETS = CoreResource("StatefulSet", "apps/v1", "statefulsets", "AppsV1Api", "stateful_set")
DAEMON_SETS = CoreResource("DaemonSet", "apps/v1", "daemonsets", "AppsV1Api", "daemon_set")
CRON_JOBS = CoreResource("CronJob", "batch/v1", "cronjobs", "BatchV1Api", "cron_job")
JOBS = CoreResource("Job", "batch/v1", "jobs", "BatchV1Api", "job")
SERVICES = CoreResource("Service", "v1", "services", "CoreV1Api", "service")
REPLICATION_CONTROLLERS = CoreResource(
    "ReplicationController", "v1", "replicationcontrollers", "CoreV1Api", "replication_controller"
)
"""Each rollout of a DeploymentConfig is one (``<dc>-<version>``)."""

WORKLOADS: dict[str, CoreResource] = {
    r.kind: r for r in (DEPLOYMENTS, STATEFUL_SETS, DAEMON_SETS, CRON_JOBS, JOBS)
}
"""The kinds whose pod templates the ``image.openshift.io/triggers`` annotation updates."""
CORE_RESOURCES: dict[str, CoreResource] = {**WORKLOADS, SERVICES.kind: SERVICES}
