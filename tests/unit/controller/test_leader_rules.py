"""The lease record a candidate writes, the races it can lose, and the run loop's deadline.

Found unguarded by mutmut over leader.py: a lost create or update race
counted as winning, the record's own lease duration ignored, the takeover
bookkeeping (acquireTime, leaseTransitions), and the loop that gives up the
lease.  Each row or test names the mistake it catches.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from builder.controller.leader import LeaderElector
from builder.kube import Conflict, NotFound
from tests.unit.controller.test_leader import Clock, FakeLeases, elector

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def stamp(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Recorded(FakeLeases):
    """Records the namespace and name of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[tuple[str, str]] = []

    def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        self.addresses.append((namespace, name))
        return super().get_lease(namespace, name)

    def create_lease(self, namespace: str, lease: dict[str, Any]) -> dict[str, Any]:
        self.addresses.append((namespace, lease["metadata"]["name"]))
        assert lease["metadata"]["namespace"] == namespace
        return super().create_lease(namespace, lease)

    def replace_lease(self, namespace: str, name: str, lease: dict[str, Any]) -> dict[str, Any]:
        self.addresses.append((namespace, name))
        return super().replace_lease(namespace, name, lease)


def held_by(leases: FakeLeases, holder: str, duration: object = 15, at: float = 500.0) -> None:
    leases.create_lease("ns", {
        "metadata": {"name": "kbuild", "namespace": "ns"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                 "acquireTime": stamp(at), "renewTime": stamp(at), "leaseTransitions": 3},
    })  # fmt: skip


def test_a_free_lease_is_created_with_a_whole_record() -> None:
    leases, clock = Recorded(), Clock()
    me = elector(leases, "me", clock)
    assert me.try_acquire_or_renew()
    spec = leases.lease["spec"]  # type: ignore[index]
    assert spec == {
        "holderIdentity": "me", "leaseDurationSeconds": 15, "acquireTime": stamp(500),
        "renewTime": stamp(500), "leaseTransitions": 0,
    }  # fmt: skip
    assert set(leases.addresses) == {("ns", "kbuild")}


class CreatedMeanwhile(FakeLeases):
    """Another candidate creates the lease between our read (none) and our create."""

    def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        if self.lease is None:
            held_by(self, "rival")
            raise NotFound(404, "no lease (yet)")
        return super().get_lease(namespace, name)


class RenewedMeanwhile(FakeLeases):
    """The holder renews between our read and our write: our write is stale."""

    def replace_lease(self, namespace: str, name: str, lease: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        assert self.lease is not None
        self.lease["metadata"]["resourceVersion"] = str(self.version)
        return super().replace_lease(namespace, name, lease)


@pytest.mark.parametrize(
    "kind", [CreatedMeanwhile, RenewedMeanwhile], ids=["create race", "update race"]
)
def test_a_lost_race_is_not_leadership(kind: type[FakeLeases]) -> None:
    leases, clock = kind(), Clock()
    if isinstance(leases, RenewedMeanwhile):
        held_by(leases, "rival")
        clock.now += 16  # expired by our clock: we try to take it, and lose
    me = elector(leases, "me", clock)
    assert me.try_acquire_or_renew() is False  # lost the create, or the record is fresh
    assert not me.is_leader.is_set()
    clock.now += 16
    assert me.try_acquire_or_renew() is False
    assert leases.holder() == "rival"


@dataclass(frozen=True)
class Case:
    name: str
    duration: object  # leaseDurationSeconds as the holder wrote it
    after: float  # seconds since we first saw the record unchanged
    taken: bool


CASES = [
    Case("held within its own duration", 30, 20, False),
    Case("expired after its own duration", 30, 31, True),
    Case("expired exactly at the duration", 15, 15, True),
    Case("one second is a duration too", 1, 2, True),
    Case("not a number: ours (15 s)", "30", 10, False),
    Case("a boolean is not a duration: ours", True, 10, False),
    Case("zero is not a duration: ours", 0, 10, False),
    Case("negative: ours", -5, 16, True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_records_duration_counted_on_our_clock(case: Case) -> None:
    leases, clock = FakeLeases(), Clock()
    held_by(leases, "rival", case.duration)
    me = elector(leases, "me", clock)
    assert me.try_acquire_or_renew() is False  # first sight: the clock starts now
    clock.now += case.after
    assert me.try_acquire_or_renew() is case.taken
    assert leases.holder() == ("me" if case.taken else "rival")


def test_a_takeover_and_a_renewal_keep_the_books() -> None:
    leases, clock = FakeLeases(), Clock()
    held_by(leases, "rival", 15, at=100)
    me = elector(leases, "me", clock)
    me.try_acquire_or_renew()
    clock.now += 16
    assert me.try_acquire_or_renew()
    spec = dict(leases.lease["spec"])  # type: ignore[index]
    assert spec["leaseTransitions"] == 4  # the rival's 3, and ours
    assert spec["acquireTime"] == spec["renewTime"] == stamp(516)
    clock.now += 2
    assert me.try_acquire_or_renew()
    renewed = leases.lease["spec"]  # type: ignore[index]
    assert renewed["leaseTransitions"] == 4  # a renewal is no transition
    assert renewed["acquireTime"] == stamp(516)  # kept from the takeover
    assert renewed["renewTime"] == stamp(518)


def fast(leases: FakeLeases, identity: str) -> LeaderElector:
    return LeaderElector(
        leases,  # type: ignore[arg-type]
        "ns", "kbuild", identity, lease_seconds=2, renew_deadline=0.4, retry_seconds=0.05,
    )  # fmt: skip


class Refusing(FakeLeases):
    """After ``refuse`` is set every renewal loses (another replica took the lease)."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse = threading.Event()
        self.reads = 0

    def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        self.reads += 1
        return super().get_lease(namespace, name)

    def replace_lease(self, namespace: str, name: str, lease: dict[str, Any]) -> dict[str, Any]:
        if self.refuse.is_set():
            raise Conflict(409, "taken")
        return super().replace_lease(namespace, name, lease)


def test_the_leader_gives_up_after_the_renew_deadline_not_before() -> None:
    leases = Refusing()
    me = fast(leases, "me")
    stop = threading.Event()
    lost: list[float] = []
    runner = threading.Thread(target=me.run, args=(lambda: lost.append(time.monotonic()), stop))
    runner.start()
    assert me.is_leader.wait(2)
    leases.refuse.set()
    refused_at = time.monotonic()
    runner.join(timeout=5)
    stop.set()
    assert not runner.is_alive()
    assert len(lost) == 1
    assert lost[0] - refused_at >= 0.3  # the deadline (0.4 s after the last renewal)
    assert not me.is_leader.is_set()


def test_a_follower_neither_loses_what_it_never_held_nor_spins() -> None:
    leases = Refusing()
    held_by(leases, "rival")
    me = fast(leases, "me")
    stop = threading.Event()
    lost: list[str] = []
    runner = threading.Thread(target=me.run, args=(lambda: lost.append("lost"), stop))
    runner.start()
    time.sleep(0.6)
    stop.set()
    runner.join(timeout=5)
    assert lost == []
    assert not me.is_leader.is_set()
    assert leases.reads <= 20  # one look per retry period (0.05 s), not a busy loop


@pytest.mark.parametrize(
    ("retry", "deadline", "lease"), [(0, 1, 2), (1, 1, 2), (1, 2, 2), (2, 1, 3)]
)
def test_timings_must_nest(retry: float, deadline: float, lease: int) -> None:
    with pytest.raises(ValueError, match="retry_seconds < renew_deadline < lease_seconds"):
        LeaderElector(
            FakeLeases(),  # type: ignore[arg-type]
            "ns", "kbuild", "me", lease_seconds=lease, renew_deadline=deadline,
            retry_seconds=retry,
        )  # fmt: skip
