"""``rollout latest`` and ``rollout undo`` under a rival writer (update_with_retry).

Before, ``rollout latest`` let a Conflict on its spec write escape as an
error, and ``rollout undo`` gave up silently after five lost races: the
rollback's spec was written and no new version ever asked for.
"""

from __future__ import annotations

import pytest

from builder.api.apps import DeploymentConfig
from builder.cli.common import CliError
from builder.cli.dc import request_rollout, rollback
from builder.rules import retry
from tests.unit.cli.test_dc import NS, cluster, ict, settle
from tests.unit.rules.racing import race
from tests.unit.rules.test_writers_race import stream


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry.time, "sleep", lambda _s: None)


def test_rollout_latest_retries_its_spec_write() -> None:
    kube, reconciler = cluster(triggers=[ict("base:1", automatic=False)])
    base = stream({"1": 5})
    base.metadata.namespace = NS
    kube.image_streams.create(base)
    settle(kube, reconciler)

    def rival(dc: DeploymentConfig) -> None:
        dc.metadata.annotations = {**(dc.metadata.annotations or {}), "rival": "yes"}

    race(kube.deployment_configs, "replace", rival, 2)
    written = request_rollout(kube, NS, "web")  # type: ignore[arg-type]
    stored = kube.dc(NS, "web")
    assert written.status.latest_version == stored.status.latest_version == 2
    assert (stored.metadata.annotations or {}).get("rival") == "yes"
    image = stored.spec.template["spec"]["containers"][0]["image"]  # type: ignore[index]
    assert image.endswith("5")


def test_rollback_says_so_when_it_cannot_ask_for_the_version() -> None:
    kube, reconciler = cluster()
    settle(kube, reconciler)
    request_rollout(kube, NS, "web")  # type: ignore[arg-type]
    settle(kube, reconciler)
    race(kube.deployment_configs, "replace_status", lambda _dc: None, retry.MAX_ATTEMPTS)
    with pytest.raises(CliError, match="keeps changing; try again"):
        rollback(kube, NS, "web", 0)  # type: ignore[arg-type]
