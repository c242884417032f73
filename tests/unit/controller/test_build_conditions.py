"""The Build reconciler's status writes carry conditions in step with the phase."""

from __future__ import annotations

from builder.api import BuildPhase

from .tenancy_fake import FakeKube
from .test_tenancy import VICTIM_PROD, complete_pod, make_build, reconciler


def _conditions(kube: FakeKube) -> dict[str, str]:
    build = kube.builds.get("tenant", "app-1")
    return {c.type: c.status.value for c in build.status.conditions}


def test_a_build_that_runs_to_completion_ends_with_complete_true() -> None:
    kube = FakeKube()
    kube.builds.create(make_build({"kind": "DockerImage", "name": "registry.test:5000/t/a:1"}))
    r = reconciler(kube)
    r.reconcile("tenant", "app-1")
    assert kube.builds.get("tenant", "app-1").status.phase == BuildPhase.PENDING
    assert _conditions(kube) == {"Pending": "True"}
    complete_pod(kube, "app-1-build")
    r.reconcile("tenant", "app-1")
    assert kube.builds.get("tenant", "app-1").status.phase == BuildPhase.COMPLETE
    assert _conditions(kube) == {"Pending": "False", "Complete": "True"}


def test_a_refused_build_has_failed_true_with_the_reason() -> None:
    kube = FakeKube()
    kube.builds.create(make_build(VICTIM_PROD))
    reconciler(kube).reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    failed = [c for c in build.status.conditions if c.type == "Failed"]
    assert [(c.status.value, c.reason) for c in failed] == [("True", "InvalidOutputReference")]
