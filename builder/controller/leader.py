"""Leader election on a coordination.k8s.io Lease, so two replicas are safe.

Only the holder reconciles.  The lease is taken when it is free or expired
(``renewTime + leaseDurationSeconds`` in the past) and renewed well before
it expires; every write carries the resourceVersion read, so two candidates
racing for an expired lease cannot both win.

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
from datetime import UTC, datetime, timedelta
from typing import Any

from builder.kube import AlreadyExists, Conflict, Kube, KubeError, NotFound

log = logging.getLogger(__name__)


def _micro(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class LeaderElector:
    def __init__(
        self,
        kube: Kube,
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_seconds: int = 15,
        renew_seconds: float = 5.0,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self.is_leader = threading.Event()

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

    def try_acquire_or_renew(self) -> bool:
        now = datetime.now(UTC)
        try:
            lease = self.kube.get_lease(self.namespace, self.name)
        except NotFound:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(now, None),
            }
            try:
                self.kube.create_lease(self.namespace, body)
            except AlreadyExists:
                return False
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        renewed = _parse(spec.get("renewTime"))
        duration = int(spec.get("leaseDurationSeconds") or self.lease_seconds)
        expired = renewed is None or now > renewed + timedelta(seconds=duration)
        if holder and holder != self.identity and not expired:
            return False
        lease["spec"] = self._spec(now, spec)
        try:
            self.kube.replace_lease(self.namespace, self.name, lease)
        except Conflict:
            return False
        return True

    def run(self, on_lost: Callable[[], None], stop: threading.Event) -> None:
        """Block until leader, then keep renewing in this thread; call ``on_lost`` if it lapses."""
        last_renewal = 0.0
        while not stop.is_set():
            try:
                ok = self.try_acquire_or_renew()
            except KubeError as err:
                log.warning("lease %s/%s: %s", self.namespace, self.name, err)
                ok = False
            now = time.monotonic()
            if ok:
                last_renewal = now
                if not self.is_leader.is_set():
                    log.info("became leader (%s)", self.identity)
                    self.is_leader.set()
            elif (
                self.is_leader.is_set()
                and now - last_renewal > self.lease_seconds - self.renew_seconds
            ):
                # Others may take the lease ``lease_seconds`` after our last
                # renewTime; stop one renewal interval before that can happen.
                log.error("lost the leader lease; exiting so a follower can take over")
                self.is_leader.clear()
                on_lost()
                return
            stop.wait(self.renew_seconds if self.is_leader.is_set() else self.renew_seconds / 2)
