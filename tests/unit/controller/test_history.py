"""History limits: which finished builds a BuildConfig prunes (pure)."""

from __future__ import annotations

import pytest

from builder.api import Build, BuildPhase, parse_as
from builder.api.constants import BUILD_NUMBER_ANNOTATION
from builder.controller.buildconfig import prune_candidates
from builder.rules.names import build_number


def build(number: int, phase: BuildPhase) -> Build:
    b = parse_as(
        Build,
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "Build",
            "metadata": {
                "name": f"app-{number}",
                "namespace": "dev",
                "annotations": {"openshift.io/build.number": str(number)},
            },
            "spec": {"strategy": {"type": "Docker", "dockerStrategy": {}}},
        },
    )
    b.status.phase = phase
    return b


C, F, E, X, R = (
    BuildPhase.COMPLETE,
    BuildPhase.FAILED,
    BuildPhase.ERROR,
    BuildPhase.CANCELLED,
    BuildPhase.RUNNING,
)


@pytest.mark.parametrize(
    ("phases", "ok_limit", "failed_limit", "pruned"),
    [
        ([C, C, C], 2, 2, [1]),
        ([C] * 7, None, None, [2, 1]),  # default limit 5
        ([F, E, X, C], 5, 1, [2, 1]),  # Failed, Error and Cancelled share one limit
        ([C, C, R], 1, 1, [1]),  # running builds are never pruned
        ([C, C], 0, 0, [2, 1]),
        ([], 1, 1, []),
    ],
)
def test_prune_candidates(
    phases: list[BuildPhase], ok_limit: int | None, failed_limit: int | None, pruned: list[int]
) -> None:
    builds = [build(i + 1, p) for i, p in enumerate(phases)]
    names = [b.metadata.name for b in prune_candidates(builds, ok_limit, failed_limit)]
    assert names == [f"app-{n}" for n in pruned]


@pytest.mark.parametrize(
    ("value", "number"), [("7", 7), ("", 0), ("x", 0), ("\u00b2", 0), ("9" * 5000, 0)]
)
def test_build_number_of_any_annotation(value: str, number: int) -> None:
    # The annotation is the tenant's: "\u00b2".isdigit() is true, int() of it raised.
    b = build(1, BuildPhase.NEW)
    b.metadata.annotations[BUILD_NUMBER_ANNOTATION] = value
    assert build_number(b) == number
