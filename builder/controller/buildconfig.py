"""The BuildConfig reconciler: the ConfigChange trigger and build history.

- ConfigChange: a BuildConfig with this trigger gets its first build when
  it is created, as on OpenShift.  "First" is ``status.lastVersion == 0``,
  which ``instantiate`` bumps before creating the Build, so a reconcile
  repeated after a crash or a second replica cannot start build 1 twice.
- History: keep ``successfulBuildsHistoryLimit`` Complete builds and
  ``failedBuildsHistoryLimit`` Failed/Error/Cancelled builds (both default to
  5 in build.openshift.io/v1); older ones are deleted, oldest first.
"""

from __future__ import annotations

import contextlib
import logging

from builder.api import Build, BuildConfig, BuildError, BuildPhase, BuildTriggerCause
from builder.api.build import BuildTriggerType
from builder.api.constants import BUILD_CONFIG_LABEL
from builder.controller import events
from builder.controller.build import Result, build_number, config_name
from builder.controller.instantiate import BuildOptions, instantiate, is_paused
from builder.kube import Kube, NotFound

log = logging.getLogger(__name__)

DEFAULT_HISTORY_LIMIT = 5
CONFIG_CHANGE_MESSAGE = "Build configuration change"
FAILED = {BuildPhase.FAILED, BuildPhase.ERROR, BuildPhase.CANCELLED}


def prune_candidates(
    builds: list[Build], successful_limit: int | None, failed_limit: int | None
) -> list[Build]:
    """The builds history limits remove: a pure function of the list."""
    doomed: list[Build] = []
    for phases, limit in (
        ({BuildPhase.COMPLETE}, successful_limit),
        (FAILED, failed_limit),
    ):
        keep = DEFAULT_HISTORY_LIMIT if limit is None else max(limit, 0)
        finished = sorted(
            (b for b in builds if b.status.phase in phases), key=build_number, reverse=True
        )
        doomed.extend(finished[keep:])
    return doomed


class BuildConfigReconciler:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube

    def reconcile(self, namespace: str, name: str) -> Result:
        try:
            bc = self.kube.build_configs.get(namespace, name)
        except NotFound:
            return Result()  # its builds go with it (owner references)
        result = Result()
        if self._wants_first_build(bc):
            try:
                build = instantiate(
                    self.kube, namespace, name,
                    BuildOptions(causes=(BuildTriggerCause(message=CONFIG_CHANGE_MESSAGE),)),
                )  # fmt: skip
            except BuildError as err:
                events.record(self.kube, bc, "Warning", "BuildConfigInstantiateFailed", err.detail)
            else:
                log.info("ConfigChange: started %s/%s", namespace, build.metadata.name)
                result.also.append(("Build", namespace, build.metadata.name))
        self._prune(bc)
        return result

    @staticmethod
    def _wants_first_build(bc: BuildConfig) -> bool:
        has_trigger = any(t.type == BuildTriggerType.CONFIG_CHANGE for t in bc.spec.triggers)
        return has_trigger and bc.status.last_version == 0 and not is_paused(bc)

    def _prune(self, bc: BuildConfig) -> None:
        builds, _ = self.kube.builds.list(
            bc.metadata.namespace, label_selector=f"{BUILD_CONFIG_LABEL}={bc.metadata.name[:63]}"
        )
        mine = [b for b in builds if config_name(b) == bc.metadata.name]
        for build in prune_candidates(
            mine, bc.spec.successful_builds_history_limit, bc.spec.failed_builds_history_limit
        ):
            log.info("pruning build %s/%s", build.metadata.namespace, build.metadata.name)
            with contextlib.suppress(NotFound):
                self.kube.builds.delete(build.metadata.namespace, build.metadata.name)
