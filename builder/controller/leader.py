"""Leader election on a coordination.k8s.io Lease, so two replicas are safe.

Only the holder reconciles.  The rule is client-go's, because comparing the
holder's ``renewTime`` with our own wall clock gives two leaders as soon as
two machines' clocks disagree by more than the slack:

- A candidate remembers the lease record it last saw and *when it saw it
  change*, by its own monotonic clock.  It may take the lease only when the
  record has not changed for ``leaseDurationSeconds`` of that clock (or the
  lease is free).  The holder's timestamps are never compared with ours.
- Every write carries the resourceVersion read, so two candidates racing for
  an expired lease cannot both win.
- The holder renews every ``renew_seconds`` and gives up when it has not
  renewed for ``renew_deadline`` (< ``lease_seconds``): a candidate that saw
  our last renewal waits a whole ``lease_seconds`` from then, so we have
  stopped acting before anyone can start.  The deadline is kept by this
  thread while the renewal runs in another, so a hung API call cannot keep
  us leading past it.

Figures (client-go's defaults): lease 15 s, renew deadline 10 s, retry 2 s.

Losing the lease is handled crash-only: the process exits and is restarted
(by its Deployment or supervisor) as a follower.  Stopping workers cleanly in
the middle of a reconcile would need every reconcile to be interruptible,
and exiting gives the same guarantee with nothing to get wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any

from builder.kube import AlreadyExists, Conflict, Kube, KubeError, NotFound

log = logging.getLogger(__name__)


def _micro(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        kube: Kube,
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_seconds: int = 15,
        renew_deadline: float = 10.0,
        retry_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not 0 < retry_seconds < renew_deadline < lease_seconds:
            raise ValueError("need 0 < retry_seconds < renew_deadline < lease_seconds")
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.renew_deadline = renew_deadline
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self.is_leader = threading.Event()
        # The record last seen and when (our monotonic clock) it last changed.
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0

    def _spec(self, now: datetime, previous: dict[str, Any] | None) -> dict[str, Any]:
        taking_over = previous is None or previous.get("holderIdentity") != self.identity
        transitions = int((previous or {}).get("leaseTransitions") or 0)
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.lease_seconds,
            "acquireTime": _micro(now) if taking_over else (previous or {}).get("acquireTime"),
            "renewTime": _micro(now),
            "leaseTransitions": transitions + (1 if taking_over and previous else 0),
        }

    def _observe(self, spec: dict[str, Any]) -> None:
        record = tuple(
            str(spec.get(k))
            for k in ("holderIdentity", "renewTime", "acquireTime", "leaseTransitions")
        )
        if record != self._observed:
            self._observed = record
            self._observed_at = self._clock()

    def try_acquire_or_renew(self) -> bool:
        now = self._wall_clock()
        try:
            lease = self.kube.get_lease(self.namespace, self.name)
        except NotFound:
            spec = self._spec(now, None)
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": spec,
            }
            try:
                self.kube.create_lease(self.namespace, body)
            except AlreadyExists:
                return False
            self._observe(spec)
            return True
        spec = lease.get("spec") or {}
        self._observe(spec)
        holder = spec.get("holderIdentity")
        duration = _positive_int(spec.get("leaseDurationSeconds"), self.lease_seconds)
        held = bool(holder) and holder != self.identity
        if held and self._clock() < self._observed_at + duration:
            return False  # held, and renewed within a lease duration as we measure it
        lease["spec"] = self._spec(now, spec)
        try:
            self.kube.replace_lease(self.namespace, self.name, lease)
        except Conflict:
            return False
        self._observe(lease["spec"])
        return True

    def run(self, on_lost: Callable[[], None], stop: threading.Event) -> None:
        """Block until leader, then keep renewing; call ``on_lost`` when it lapses.

        Each attempt runs in a helper thread and this one keeps the deadline:
        an attempt that hangs (an API server that accepts the connection and
        never answers) counts as a failure once the deadline passes.
        """
        last_renewal = 0.0
        attempts = ThreadPoolExecutor(1, thread_name_prefix="lease")
        attempt: Future[bool] | None = None
        try:
            while not stop.is_set():
                if attempt is None:
                    attempt = attempts.submit(self.try_acquire_or_renew)
                ok = False
                try:
                    ok = attempt.result(timeout=self.retry_seconds)
                    attempt = None
                except FutureTimeout:
                    pass  # still running: its answer, if it ever comes, is taken next time
                except KubeError as err:
                    log.warning("lease %s/%s: %s", self.namespace, self.name, err)
                    attempt = None
                now = self._clock()
                if ok:
                    last_renewal = now
                    if not self.is_leader.is_set():
                        log.info("became leader (%s)", self.identity)
                        self.is_leader.set()
                elif self.is_leader.is_set() and now - last_renewal > self.renew_deadline:
                    log.error("lost the leader lease; exiting so a follower can take over")
                    self.is_leader.clear()
                    on_lost()
                    return
                if attempt is None:
                    stop.wait(self.retry_seconds)
        finally:
            attempts.shutdown(wait=False, cancel_futures=True)


def _positive_int(value: object, default: int) -> int:
    """A lease duration from the record, which any client may have written."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return default
