"""Registry reads of a build, retried when the registry does not answer.

A registry that times out or drops a connection once is a busy registry, not
a failed build: buildah already retries its own pulls and pushes (three
times, 2 s apart), and OpenShift's builder retries its registry calls too.
The reads kbuild makes itself (the builder's config, the access check of a
cached builder) get the same treatment here.  Only ``RegistryUnreachable``
is retried: a refusal (401, 403, 404) or a malformed answer is the same the
next time, and fails the build at once with its reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from builder.buildah import LogFn
from builder.registry import RegistryUnreachable

T = TypeVar("T")

ATTEMPTS = 3
DELAYS = (2.0, 5.0)


def read_with_retries(
    call: Callable[[], T],
    log: LogFn,
    what: str,
    *,
    attempts: int = ATTEMPTS,
    delays: Sequence[float] = DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, again after a pause each time the registry was unreachable, ``attempts`` in all.

    The last failure is raised as it came; each retry is said in the build
    log, with the registry's error, so a slow build explains itself.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except RegistryUnreachable as err:
            if attempt >= attempts:
                raise
            delay = delays[min(attempt - 1, len(delays) - 1)]
            log(
                f"Warning: {what}: {err.detail}; retrying in {delay:g}s "
                f"(attempt {attempt + 1} of {attempts})"
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
