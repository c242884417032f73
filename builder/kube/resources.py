"""The resources kbuild reads and writes, described once.

Custom resources carry their pydantic model so callers get typed objects;
core resources (pods, events, leases) stay plain dicts: kbuild builds them
but never needs their full schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


def rest_path(
    api_version: str, plural: str, namespace: str | None, name: str | None, sub: str = ""
) -> str:
    """The REST path of a collection (``name`` None), of one object, or of its subresource.

    ``namespace`` None is every namespace (or a cluster-scoped kind).  Names
    are quoted as path segments: nothing in a name reaches another path.
    """
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespace:
        root += f"/namespaces/{quote(namespace, safe='')}"
    root += f"/{plural}"
    if name is None:
        return root
    root += f"/{quote(name, safe='')}"
    return f"{root}/{sub}" if sub else root


@dataclass(frozen=True)
class CustomResource:
    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    def path(self, namespace: str | None, name: str | None = None, sub: str = "") -> str:
        return rest_path(self.api_version, self.plural, namespace, name, sub)


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
        return rest_path(
            self.api_version, self.plural, namespace if self.namespaced else None, name
        )

    def ref(self, name: str) -> str:
        """``buildconfig.build.openshift.io/NAME``, ``service/NAME``: kubectl's name printer."""
        group = self.group
        kind = self.kind.lower()
        return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


@dataclass(frozen=True)
class CoreResource:
    """A built-in namespaced kind kbuild reads and writes as plain dicts."""

    kind: str
    api_version: str
    plural: str

    def path(self, namespace: str | None, name: str | None = None) -> str:
        return rest_path(self.api_version, self.plural, namespace, name)


DEPLOYMENTS = CoreResource("Deployment", "apps/v1", "deployments")
STATEFUL_SETS = CoreResource("StatefulSet", "apps/v1", "statefulsets")
DAEMON_SETS = CoreResource("DaemonSet", "apps/v1", "daemonsets")
CRON_JOBS = CoreResource("CronJob", "batch/v1", "cronjobs")
JOBS = CoreResource("Job", "batch/v1", "jobs")
SERVICES = CoreResource("Service", "v1", "services")
REPLICATION_CONTROLLERS = CoreResource("ReplicationController", "v1", "replicationcontrollers")
"""Each rollout of a DeploymentConfig is one (``<dc>-<version>``)."""

WORKLOADS: dict[str, CoreResource] = {
    r.kind: r for r in (DEPLOYMENTS, STATEFUL_SETS, DAEMON_SETS, CRON_JOBS, JOBS)
}
"""The kinds whose pod templates the ``image.openshift.io/triggers`` annotation updates."""
CORE_RESOURCES: dict[str, CoreResource] = {**WORKLOADS, SERVICES.kind: SERVICES}
