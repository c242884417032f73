"""Build conditions follow the phase, as OpenShift's build controller writes them."""

from __future__ import annotations

from builder.api import BuildPhase
from builder.api.build import BuildStatus
from builder.api.buildconditions import sync_conditions
from builder.api.core import ConditionStatus

T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"


def _table(status: BuildStatus) -> dict[str, tuple[str, str, str | None]]:
    return {c.type: (c.status.value, c.reason, c.last_transition_time) for c in status.conditions}


def test_each_phase_is_a_condition_true_while_current_false_after() -> None:
    status = BuildStatus()
    assert sync_conditions(status, T0)
    assert _table(status) == {"New": ("True", "", T0)}
    status.phase = BuildPhase.PENDING
    assert sync_conditions(status, T1)
    assert _table(status) == {"New": ("False", "", T1), "Pending": ("True", "", T1)}
    status.phase = BuildPhase.FAILED
    status.reason = "FetchSourceFailed"
    status.message = "no such ref"
    assert sync_conditions(status, T2)
    assert _table(status) == {
        "New": ("False", "", T1),
        "Pending": ("False", "", T2),
        "Failed": ("True", "FetchSourceFailed", T2),
    }
    failed = next(c for c in status.conditions if c.type == "Failed")
    assert failed.message == "no such ref"


def test_an_unchanged_status_changes_nothing() -> None:
    status = BuildStatus(phase=BuildPhase.RUNNING)
    sync_conditions(status, T0)
    before = status.model_copy(deep=True)
    assert not sync_conditions(status, T1)
    assert status == before


def test_complete_is_what_kubectl_wait_looks_for() -> None:
    status = BuildStatus(phase=BuildPhase.RUNNING)
    sync_conditions(status, T0)
    status.phase = BuildPhase.COMPLETE
    sync_conditions(status, T1)
    complete = [c for c in status.conditions if c.type == "Complete"]
    assert [c.status for c in complete] == [ConditionStatus.TRUE]
    assert sum(c.status == ConditionStatus.TRUE for c in status.conditions) == 1
