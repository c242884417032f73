"""group_steps: which pipeline steps share a build pod container."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.controller.podlayout import FEWEST, PER_STEP, Run, group_steps

STEPS = ("fetch", "prepare", "pull", "build", "push")
NAMES = {
    "fetch": "git-clone",
    "prepare": "manage-dockerfile",
    "pull": "pull-images",
    "build": "build-image",
    "push": "sti-build",
}


def runs(secret: set[str], layout: str = FEWEST) -> list[Run]:
    return group_steps(STEPS, secret={s: s in secret for s in STEPS}, names=NAMES, layout=layout)


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (set(), [("sti-build", STEPS)]),
        ({"fetch"}, [("git-clone", ("fetch",)),
                     ("sti-build", ("prepare", "pull", "build", "push"))]),
        ({"push"}, [("git-clone", ("fetch", "prepare", "pull", "build")),
                    ("sti-build", ("push",))]),
        ({"pull", "build"}, [("git-clone", ("fetch", "prepare")), ("pull-images", ("pull",)),
                             ("build-image", ("build",)), ("sti-build", ("push",))]),
        (set(STEPS), [(NAMES[s], (s,)) for s in STEPS]),
    ],
)  # fmt: skip
def test_runs_of_steps_without_secrets_share(
    secret: set[str], expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    assert [(r.name, r.steps) for r in runs(secret)] == expected


def test_per_step_is_one_container_each_whatever_the_secrets() -> None:
    assert [(r.name, r.steps) for r in runs(set(), PER_STEP)] == [(NAMES[s], (s,)) for s in STEPS]


def test_an_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="sideways"):
        runs(set(), "sideways")


@settings(max_examples=200, deadline=None)
@given(st.sets(st.sampled_from(STEPS)))
def test_a_step_with_a_secret_never_shares_and_order_is_kept(secret: set[str]) -> None:
    got = runs(secret)
    assert [s for r in got for s in r.steps] == list(STEPS)
    for run in got:
        if secret & set(run.steps):
            assert len(run.steps) == 1
    # The main container is the one that pushes.
    assert got[-1].steps[-1] == "push"
    assert got[-1].name == "sti-build"
    assert len({r.name for r in got}) == len(got)
