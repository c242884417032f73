"""update_with_retry against the in-memory fake (Conflict on a stale resourceVersion)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from builder.api import BuildConfig, parse_as
from builder.kube import AlreadyExists, Conflict, NotFound
from builder.rules.retry import MAX_ATTEMPTS, TooManyConflicts, update_with_retry
from tests.unit.controller.tenancy_fake import FakeKube
from tests.unit.rules.racing import race

NS = "dev"


def config(name: str = "app") -> BuildConfig:
    return parse_as(
        BuildConfig,
        {
            "metadata": {"name": name, "namespace": NS},
            "spec": {"strategy": {"type": "Docker", "dockerStrategy": {}}},
        },
    )


def annotate(key: str):  # type: ignore[no-untyped-def]
    def mutate(bc: BuildConfig) -> BuildConfig | None:
        if (bc.metadata.annotations or {}).get(key) == "yes":
            return None  # already there: nothing to write
        bc.metadata.annotations = {**(bc.metadata.annotations or {}), key: "yes"}
        return bc

    return mutate


@dataclass(frozen=True)
class Case:
    name: str
    rivals: int  # writes that win the race before ours
    attempts: int = MAX_ATTEMPTS
    already: bool = False  # our change is already there
    written: bool = True
    tries: int = 1  # attempts used
    gives_up: bool = False


CASES = [
    Case("no rival: one read, one write", rivals=0),
    Case("three rivals: re-read and re-applied, nobody's write lost", rivals=3, tries=4),
    Case("a rival on every attempt: gives up, typed", rivals=MAX_ATTEMPTS, gives_up=True),
    Case("the limit is the caller's", rivals=2, attempts=2, gives_up=True),
    Case("one attempt left is enough", rivals=2, attempts=3, tries=3),
    Case("the change is already there: no write", rivals=0, already=True, written=False),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_update_with_retry(case: Case) -> None:
    kube = FakeKube()
    start = config()
    if case.already:
        start.metadata.annotations = {"ours": "yes"}
    kube.build_configs.create(start)
    rounds = [0]

    def rival(bc: BuildConfig) -> None:
        rounds[0] += 1
        bc.metadata.annotations = {**(bc.metadata.annotations or {}), f"rival-{rounds[0]}": "yes"}

    race(kube.build_configs, "replace", rival, case.rivals)
    sleeps: list[float] = []
    kwargs = {"what": "BuildConfig dev/app", "attempts": case.attempts, "sleep": sleeps.append}
    read = lambda: kube.build_configs.get(NS, "app")  # noqa: E731
    if case.gives_up:
        with pytest.raises(TooManyConflicts, match="BuildConfig dev/app kept changing") as err:
            update_with_retry(read, annotate("ours"), kube.build_configs.replace, **kwargs)
        assert isinstance(err.value, Conflict) and err.value.status == 409
        assert err.value.attempts == case.attempts
        assert "ours" not in (kube.build_configs.objects[(NS, "app")].metadata.annotations or {})
        return
    updated = update_with_retry(read, annotate("ours"), kube.build_configs.replace, **kwargs)
    assert updated.attempts == case.tries
    assert (updated.written is not None) is case.written
    stored = kube.build_configs.objects[(NS, "app")].metadata.annotations or {}
    assert stored.get("ours") == "yes"
    # Every rival's write survives ours: the mutation ran on a fresh read each time.
    assert all(stored.get(f"rival-{n}") == "yes" for n in range(1, case.rivals + 1))
    assert len(sleeps) == case.tries - 1  # a short pause before each retry, none before the first
    assert all(0.01 <= s <= 0.011 for s in sleeps)


def test_a_stale_first_copy_costs_one_conflict_then_the_retry_reads() -> None:
    kube = FakeKube()
    kube.build_configs.create(config())
    stale = kube.build_configs.get(NS, "app")
    kube.build_configs.replace(kube.build_configs.get(NS, "app"))  # someone wrote since
    kube.calls.clear()
    updated = update_with_retry(
        lambda: kube.build_configs.get(NS, "app"),
        annotate("ours"),
        kube.build_configs.replace,
        what="x",
        first=stale,
        sleep=lambda _s: None,
    )
    assert updated.attempts == 2
    # The first attempt used the copy handed in (no read), the retry read.
    assert kube.calls == ["replace buildconfigs", "get buildconfigs", "replace buildconfigs"]


def test_read_and_mutate_errors_are_not_retried() -> None:
    kube = FakeKube()
    calls: list[str] = []

    def read() -> BuildConfig:
        calls.append("read")
        return kube.build_configs.get(NS, "missing")

    with pytest.raises(NotFound):
        update_with_retry(read, annotate("x"), kube.build_configs.replace, what="x")
    assert calls == ["read"]

    kube.build_configs.create(config())

    def refuse(_bc: BuildConfig) -> BuildConfig:
        raise ValueError("paused")

    with pytest.raises(ValueError, match="paused"):
        update_with_retry(
            lambda: kube.build_configs.get(NS, "app"), refuse, kube.build_configs.replace, what="x"
        )


@pytest.mark.parametrize(
    ("retry_on", "retried"), [((Conflict,), False), ((Conflict, AlreadyExists), True)]
)
def test_other_races_count_only_when_the_caller_says(
    retry_on: tuple[type[Exception], ...], retried: bool
) -> None:
    """A create racing another create (AlreadyExists) is a lost race only where the caller says."""
    kube = FakeKube()

    def read() -> BuildConfig | None:
        try:
            return kube.build_configs.get(NS, "app")
        except NotFound:
            return None

    def create_or_annotate(current: BuildConfig | None) -> BuildConfig | None:
        if current is None:
            kube.build_configs.create(config())  # a rival creates it first
            return config()
        return annotate("ours")(current)

    def write(bc: BuildConfig) -> BuildConfig:
        if bc.metadata.resource_version:
            return kube.build_configs.replace(bc)
        return kube.build_configs.create(bc)

    if not retried:
        with pytest.raises(AlreadyExists):
            update_with_retry(read, create_or_annotate, write, what="x", retry_on=retry_on)  # type: ignore[arg-type]
        return
    updated = update_with_retry(
        read,
        create_or_annotate,
        write,
        what="x",
        retry_on=retry_on,
        sleep=lambda _s: None,  # type: ignore[arg-type]
    )
    assert updated.attempts == 2
    assert (kube.build_configs.objects[(NS, "app")].metadata.annotations or {}) == {"ours": "yes"}


def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        update_with_retry(lambda: 1, lambda x: x, lambda x: x, what="x", attempts=0)
