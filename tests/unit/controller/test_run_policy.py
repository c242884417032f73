"""runPolicy against the in-memory fake: which New build gets its pod, and which waits.

Builds are made by ``new_build`` (the labels and numbers instantiate gives
them); each row reconciles one build in a given family and says whether it
got a pod, waited, or was cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from builder.api import BuildConfig, BuildPhase, parse_as
from builder.controller.authz import Authorizer
from builder.controller.build import BuildReconciler
from builder.controller.config import ControllerConfig
from builder.controller.metrics import Metrics
from builder.rules.instantiate import BuildOptions, new_build
from builder.rules.names import pod_name
from tests.unit.controller.tenancy_fake import FakeKube

REGISTRY = "registry.test:5000"
CONFIG = ControllerConfig(registry=REGISTRY, build_pod_image=f"{REGISTRY}/kbuild/buildpod:1")
BUILDER = f"{REGISTRY}/kbuild/s2i@sha256:" + "1" * 64
NS = "tenant"


def config(policy: str) -> BuildConfig:
    return parse_as(BuildConfig, {
        "metadata": {"name": "app", "namespace": NS, "uid": "bc-uid"},
        "spec": {
            "runPolicy": policy,
            "source": {"git": {"uri": "https://git.test/app.git"}},
            "strategy": {"type": "Source",
                         "sourceStrategy": {"from": {"kind": "DockerImage", "name": BUILDER}}},
            "output": {"to": {"kind": "DockerImage", "name": f"{REGISTRY}/{NS}/app:latest"}},
        },
    })  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    policy: str
    phases: tuple[str, ...]  # of app-1, app-2, ... as they are before the reconcile
    reconcile: int  # the build reconciled
    outcome: str  # "pod", "waits" or "cancelled"


CASES = [
    Case("Serial: the older New build goes first", "Serial", ("New", "New"), 1, "pod"),
    Case("Serial: the newer New build waits for the older", "Serial", ("New", "New"), 2, "waits"),
    Case("Serial: the newest of three waits", "Serial", ("New", "New", "New"), 3, "waits"),
    Case("Serial: a running build holds the next", "Serial", ("Running", "New"), 2, "waits"),
    Case("Serial: a pending build holds the next", "Serial", ("Pending", "New"), 2, "waits"),
    Case("Serial: a finished build does not", "Serial", ("Complete", "New"), 2, "pod"),
    Case("Serial: nor a failed one", "Serial", ("Failed", "New"), 2, "pod"),
    Case("Serial: an older build after a newer one finished", "Serial", ("New", "Complete"), 1,
         "pod"),
    Case("SerialLatestOnly: a superseded New build is cancelled", "SerialLatestOnly",
         ("New", "New"), 1, "cancelled"),
    Case("SerialLatestOnly: the latest waits for a running one", "SerialLatestOnly",
         ("Running", "New"), 2, "waits"),
    Case("SerialLatestOnly: the latest starts when nothing runs", "SerialLatestOnly",
         ("Cancelled", "New"), 2, "pod"),
    Case("Parallel: all start", "Parallel", ("Running", "New", "New"), 3, "pod"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_run_policy(case: Case) -> None:
    kube = FakeKube()
    bc = config(case.policy)
    for number, phase in enumerate(case.phases, start=1):
        build = new_build(bc, number, BuildOptions())
        build.status.phase = BuildPhase(phase)
        kube.builds.create(build)
    reconciler = BuildReconciler(kube, CONFIG, Metrics(), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    name = f"app-{case.reconcile}"
    result = reconciler.reconcile(NS, name)
    build = kube.builds.objects[(NS, name)]
    has_pod = (NS, pod_name(build)) in kube.pods
    if case.outcome == "pod":
        assert has_pod
        assert build.status.phase == BuildPhase.PENDING
    elif case.outcome == "waits":
        assert not has_pod
        assert build.status.phase == BuildPhase.NEW
        assert result.requeue_after is not None
    else:
        assert not has_pod
        assert build.status.phase == BuildPhase.CANCELLED
        assert build.status.reason == "CancelledBuild"
