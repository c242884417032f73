"""Leader election: client-go's expiry rule, and a deadline a hung call cannot stretch."""

from __future__ import annotations

import copy
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from builder.controller.leader import LeaderElector
from builder.kube import AlreadyExists, Conflict, NotFound


class FakeLeases:
    """One Lease with resourceVersion checks, as the API server keeps it."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.version = 0
        self.hang = threading.Event()  # set: replace_lease blocks until released
        self.release = threading.Event()
        self.lock = threading.Lock()

    def get_lease(self, _namespace: str, _name: str) -> dict[str, Any]:
        with self.lock:
            if self.lease is None:
                raise NotFound(404, "no lease")
            return copy.deepcopy(self.lease)

    def create_lease(self, _namespace: str, lease: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if self.lease is not None:
                raise AlreadyExists(409, "exists")
            self.version += 1
            self.lease = copy.deepcopy(lease)
            self.lease["metadata"]["resourceVersion"] = str(self.version)
            return copy.deepcopy(self.lease)

    def replace_lease(self, _namespace: str, _name: str, lease: dict[str, Any]) -> dict[str, Any]:
        if self.hang.is_set():
            self.release.wait(30)
        with self.lock:
            assert self.lease is not None
            if (
                lease["metadata"].get("resourceVersion")
                != self.lease["metadata"]["resourceVersion"]
            ):
                raise Conflict(409, "changed")
            self.version += 1
            self.lease = copy.deepcopy(lease)
            self.lease["metadata"]["resourceVersion"] = str(self.version)
            return copy.deepcopy(self.lease)

    def holder(self) -> str:
        return (self.lease or {}).get("spec", {}).get("holderIdentity", "")


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def elector(leases: FakeLeases, identity: str, clock: Clock, skew: float = 0.0) -> LeaderElector:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return LeaderElector(
        leases,  # type: ignore[arg-type]
        "ns", "kbuild", identity, lease_seconds=15, renew_deadline=10, retry_seconds=2,
        clock=clock,
        wall_clock=lambda: base + timedelta(seconds=clock.now + skew),
    )  # fmt: skip


def test_a_renewing_holder_is_never_displaced_whatever_the_clocks_say() -> None:
    """The holder's clock is an hour behind: by renewTime its lease looks long expired."""
    leases = FakeLeases()
    clock = Clock()
    a = elector(leases, "a", clock, skew=-3600)
    b = elector(leases, "b", clock)
    assert a.try_acquire_or_renew()
    for _ in range(20):
        clock.now += 5
        assert a.try_acquire_or_renew()
        assert not b.try_acquire_or_renew()
    assert leases.holder() == "a"


def test_a_silent_holder_is_replaced_a_lease_duration_after_it_was_last_seen() -> None:
    leases = FakeLeases()
    clock = Clock()
    a = elector(leases, "a", clock)
    b = elector(leases, "b", clock, skew=+3600)  # b's wall clock is an hour ahead
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()  # b sees the record for the first time now
    clock.now += 14
    assert not b.try_acquire_or_renew()
    clock.now += 2
    assert b.try_acquire_or_renew()
    assert leases.holder() == "b"
    assert leases.lease is not None and leases.lease["spec"]["leaseTransitions"] == 1
    assert not a.try_acquire_or_renew()  # a is back, but b renewed just now


@pytest.mark.parametrize("bad", [None, 0, -5, "15", True])
def test_a_junk_lease_duration_falls_back_to_ours(bad: object) -> None:
    leases = FakeLeases()
    clock = Clock()
    a = elector(leases, "a", clock)
    assert a.try_acquire_or_renew()
    assert leases.lease is not None
    leases.lease["spec"]["leaseDurationSeconds"] = bad
    b = elector(leases, "b", clock)
    assert not b.try_acquire_or_renew()
    clock.now += 16
    assert b.try_acquire_or_renew()


def test_two_candidates_racing_for_a_free_lease_one_wins() -> None:
    leases = FakeLeases()
    clock = Clock()
    results = [elector(leases, n, clock).try_acquire_or_renew() for n in ("a", "b")]
    assert results == [True, False]


def test_a_hung_renewal_gives_up_the_lease_before_anyone_can_take_it() -> None:
    """The API server stops answering: the leader must stop within its renew deadline."""
    leases = FakeLeases()
    e = LeaderElector(
        leases,  # type: ignore[arg-type]
        "ns", "kbuild", "a", lease_seconds=3, renew_deadline=1.0, retry_seconds=0.2,
    )  # fmt: skip
    lost = threading.Event()
    stop = threading.Event()
    runner = threading.Thread(target=e.run, args=(lost.set, stop), daemon=True)
    runner.start()
    assert e.is_leader.wait(2)
    leases.hang.set()
    began = time.monotonic()
    assert lost.wait(3), "still leading with every renewal hung"
    # Others may take over 3 s after our last renewal: we stopped well before.
    assert time.monotonic() - began < 2.0
    assert not e.is_leader.is_set()
    leases.release.set()
    stop.set()
    runner.join(2)


def test_inconsistent_figures_are_refused() -> None:
    with pytest.raises(ValueError, match="renew_deadline"):
        LeaderElector(None, "ns", "n", "a", lease_seconds=10, renew_deadline=10)  # type: ignore[arg-type]
