"""The import token bucket, on a fake clock (time is an input here, not a measurement)."""

from __future__ import annotations

import pytest

from builder.controller.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_burst_then_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock, sleep=clock.sleep)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5
    assert bucket.try_take()
    assert not bucket.try_take()


def test_take_waits_for_the_next_token() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=4.0, burst=1, clock=clock, sleep=clock.sleep)
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(0.25)
    assert clock.now == pytest.approx(0.25)


def test_refill_never_exceeds_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10.0, burst=2, clock=clock, sleep=clock.sleep)
    clock.now += 100
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0), (-1, 5)])
def test_refuses_nonsense(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        TokenBucket(rate, burst)
