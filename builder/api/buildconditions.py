"""Build ``status.conditions`` kept in step with the phase, as OpenShift keeps them.

OpenShift's build controller records each phase a Build enters as a condition
whose type is the phase name (``New``, ``Pending``, ``Running``, ``Complete``,
``Failed``, ``Error``, ``Cancelled``) with status ``True``; the phase it left
stays listed with status ``False``.  Tools wait on them: ``kubectl wait
--for=condition=Complete build/x`` returns only when a ``Complete`` condition
is ``True``.  One pure function, applied on every status write, so no code
path that changes the phase can forget them.
"""

from __future__ import annotations

from builder.api.build import BuildCondition, BuildStatus
from builder.api.core import ConditionStatus


def sync_conditions(status: BuildStatus, now: str) -> bool:
    """Make ``status.conditions`` agree with ``status.phase``; True if anything changed.

    The current phase's condition is True and carries the Build's reason and
    message; every other phase condition is False.  ``lastTransitionTime``
    moves only when a condition's status changes, ``lastUpdateTime`` when
    anything about it does.
    """
    phase = status.phase.value
    changed = False
    current = next((c for c in status.conditions if c.type == phase), None)
    if current is None:
        status.conditions.append(
            BuildCondition(
                type=phase,
                status=ConditionStatus.TRUE,
                last_update_time=now,
                last_transition_time=now,
                reason=status.reason,
                message=status.message,
            )
        )
        changed = True
    elif (current.status, current.reason, current.message) != (
        ConditionStatus.TRUE,
        status.reason,
        status.message,
    ):
        if current.status != ConditionStatus.TRUE:
            current.last_transition_time = now
        current.status = ConditionStatus.TRUE
        current.reason = status.reason
        current.message = status.message
        current.last_update_time = now
        changed = True
    for condition in status.conditions:
        if condition.type != phase and condition.status != ConditionStatus.FALSE:
            condition.status = ConditionStatus.FALSE
            condition.last_transition_time = now
            condition.last_update_time = now
            changed = True
    return changed
