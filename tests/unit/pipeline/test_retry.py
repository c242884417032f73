"""Registry reads of a build retried when the registry does not answer, and only then."""

from __future__ import annotations

import pytest

from builder.pipeline.retry import read_with_retries
from builder.registry import (
    ImageNotFound,
    ImageReference,
    RegistryError,
    RegistryUnreachable,
    Unauthorized,
)

REF = ImageReference.parse("registry.example:5000/kbuild/s2i-python:3.11")


class Flaky:
    """Fails with the given errors in turn, then answers."""

    def __init__(self, *errors: RegistryError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def unreachable() -> RegistryUnreachable:
    return RegistryUnreachable("cannot reach registry registry.example:5000: timed out", REF)


@pytest.mark.parametrize(
    ("errors", "calls", "sleeps"),
    [
        ((), 1, []),
        ((unreachable(),), 2, [2.0]),
        ((unreachable(), unreachable()), 3, [2.0, 5.0]),
    ],
)
def test_an_unreachable_registry_is_asked_again_until_it_answers(
    errors: tuple[RegistryError, ...], calls: int, sleeps: list[float]
) -> None:
    call, slept, logged = Flaky(*errors), [], []
    got = read_with_retries(call, logged.append, "reading the builder image", sleep=slept.append)
    assert (got, call.calls, slept) == ("answer", calls, sleeps)
    assert len(logged) == len(sleeps)
    for line in logged:
        assert line.startswith("Warning: reading the builder image: cannot reach registry")
        assert "retrying in" in line


def test_the_last_failure_is_raised_after_the_last_attempt() -> None:
    call, slept, logged = Flaky(unreachable(), unreachable(), unreachable()), [], []
    with pytest.raises(RegistryUnreachable, match="timed out"):
        read_with_retries(call, logged.append, "x", sleep=slept.append)
    assert (call.calls, slept) == (3, [2.0, 5.0])
    assert logged[-1].endswith("(attempt 3 of 3)")


@pytest.mark.parametrize(
    "error",
    [Unauthorized("authentication required", REF), ImageNotFound("not found", REF)],
)
def test_a_refusal_is_not_retried(error: RegistryError) -> None:
    call, slept = Flaky(error), []
    with pytest.raises(type(error)):
        read_with_retries(call, print, "x", sleep=slept.append)
    assert (call.calls, slept) == (1, [])
