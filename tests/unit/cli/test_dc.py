"""``get dc``, ``describe dc`` and ``rollout``: oc's shapes, and the writes against the fake."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from builder.api.apps import DeploymentConfig
from builder.cli.common import CliError
from builder.cli.dc import (
    describe_deployment_config,
    history_text,
    render_deployment_configs,
    request_rollout,
    rollback,
    rollouts_of,
    status_text,
    triggered_by,
)
from builder.cli.get import parse_targets
from builder.controller.authz import Authorizer
from builder.controller.deploymentconfig import DeploymentConfigReconciler
from tests.unit.controller.dc_fake import DCFakeKube

NS = "app"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def dc_of(**spec: Any) -> DeploymentConfig:
    body: dict[str, Any] = {
        "replicas": 2,
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "registry/app:1",
                                     "ports": [{"containerPort": 8080}]}]},
        },
    }  # fmt: skip
    body.update(spec)
    return DeploymentConfig.model_validate(
        {"metadata": {"name": "web", "namespace": NS, "creationTimestamp": "2026-12-02T11:58:00Z"},
         "spec": body}
    )  # fmt: skip


def ict(tag: str, automatic: bool = True, names: list[str] | None = None) -> dict[str, Any]:
    params = {"automatic": automatic, "containerNames": names or ["app"],
              "from": {"kind": "ImageStreamTag", "name": tag}}  # fmt: skip
    return {"type": "ImageChange", "imageChangeParams": params}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, "config"),  # null triggers: OpenShift's default ConfigChange
        ({"triggers": []}, "manual"),
        ({"triggers": [{"type": "ConfigChange"}, ict("foo:latest")]}, "config,image(foo:latest)"),
        ({"triggers": [ict("foo:latest", automatic=False)]}, "manual"),
        # oc names the containers only when the template has several
        ({"triggers": [ict("foo:latest", names=["other"])]}, "image(foo:latest)"),
        ({"triggers": [{"type": "ConfigChange"}], "paused": True}, "config (paused)"),
        ({"triggers": [{"type": "ConfigChange"}], "test": True}, "config (test)"),
    ],
)
def test_triggered_by_as_oc_prints_it(spec: dict[str, Any], expected: str) -> None:
    assert triggered_by(dc_of(**spec)) == expected


def test_get_dc_table() -> None:
    dc = dc_of(triggers=[{"type": "ConfigChange"}, ict("foo:latest")])
    dc.status.latest_version = 3
    dc.status.replicas = 2
    assert render_deployment_configs([dc]).splitlines() == [
        "NAME   REVISION   DESIRED   CURRENT   TRIGGERED BY",
        "web    3          2         2         config,image(foo:latest)",
    ]


@pytest.mark.parametrize("arg", ["dc", "deploymentconfigs", "deploymentconfig.apps.openshift.io"])
def test_get_knows_dc(arg: str) -> None:
    assert [(r.kind, n) for r, n in parse_targets([arg, "web"])] == [("DeploymentConfig", "web")]
    assert [(r.kind, n) for r, n in parse_targets([f"{arg}/web"])] == [("DeploymentConfig", "web")]


# --------------------------------------------------------------------------- with the fake


def cluster(**spec: Any) -> tuple[DCFakeKube, DeploymentConfigReconciler]:
    kube = DCFakeKube()
    kube.deployment_configs.create(dc_of(**spec))
    ticks = iter(range(1_800_000_000, 1_900_000_000, 2))  # 2 s per look: past updatePeriod
    reconciler = DeploymentConfigReconciler(
        kube,  # type: ignore[arg-type]
        authorizer=Authorizer(kube),  # type: ignore[arg-type]
        clock=lambda: float(next(ticks)),
    )
    return kube, reconciler


def settle(kube: DCFakeKube, reconciler: DeploymentConfigReconciler, rounds: int = 10) -> None:
    for _ in range(rounds):
        reconciler.reconcile(NS, "web")
        kube.run_rcs()


def test_rollout_latest_then_history_and_undo() -> None:
    kube, reconciler = cluster()
    settle(kube, reconciler)
    request_rollout(kube, NS, "web")  # type: ignore[arg-type]
    with pytest.raises(CliError, match=r"#2 is already in progress \(Running\)"):
        reconciler.reconcile(NS, "web")  # the RC exists now, not yet finished
        request_rollout(kube, NS, "web")  # type: ignore[arg-type]
    settle(kube, reconciler)
    dc = kube.dc(NS, "web")
    dc.spec.template["spec"]["containers"][0]["image"] = "registry/app:2"  # type: ignore[index]
    kube.deployment_configs.replace(dc)
    settle(kube, reconciler)
    dc = kube.dc(NS, "web")
    text = history_text(dc, rollouts_of(kube, dc))  # type: ignore[arg-type]
    assert text.splitlines() == [
        'deploymentconfigs "web"',
        "REVISION   STATUS     CAUSE",
        "1          Complete   config change",
        "2          Complete   manual change",
        "3          Complete   config change",
    ]
    assert rollback(kube, NS, "web", 0) == []  # type: ignore[arg-type]
    settle(kube, reconciler)
    dc = kube.dc(NS, "web")
    assert dc.status.latest_version == 4
    image = kube.rc(NS, "web-4")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry/app:1"
    assert kube.replicas(NS) == {"web-1": 0, "web-2": 0, "web-3": 0, "web-4": 2}
    assert status_text(dc) == ('replication controller "web-4" successfully rolled out\n', True, "")


def test_undo_turns_off_automatic_image_triggers_and_rolls_back_without_config_trigger() -> None:
    from builder.api import ImageStream  # noqa: PLC0415

    kube, reconciler = cluster(triggers=[ict("foo:latest")])
    body = {"metadata": {"name": "foo", "namespace": NS}, "status": {"tags": [{"tag": "latest",
            "items": [{"created": "2026-01-01T00:00:00Z", "dockerImageReference": "r/foo@sha256:1",
                       "image": "sha256:1", "generation": 1}]}]}}  # fmt: skip
    kube.image_streams.create(ImageStream.model_validate(body))
    settle(kube, reconciler)
    stream = kube.image_streams.get(NS, "foo")
    stream.status.tags[0].items[0].docker_image_reference = "r/foo@sha256:2"  # type: ignore[index]
    kube.image_streams.replace_status(stream)
    settle(kube, reconciler)
    assert kube.dc(NS, "web").status.latest_version == 2
    assert rollback(kube, NS, "web", 0) == ["foo:latest"]  # type: ignore[arg-type]
    settle(kube, reconciler)
    dc = kube.dc(NS, "web")
    assert dc.status.latest_version == 3
    assert dc.spec.triggers[0].image_change_params.automatic is False  # type: ignore[index,union-attr]
    image = kube.rc(NS, "web-3")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "r/foo@sha256:1"
    assert (
        "rolled back to revision 1"
        in kube.rc(NS, "web-3")["metadata"]["annotations"]["openshift.io/deployment.status-reason"]
    )
    # rollout latest resolves the (now manual) trigger: the tag's current image again.
    request_rollout(kube, NS, "web")  # type: ignore[arg-type]
    settle(kube, reconciler)
    image = kube.rc(NS, "web-4")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "r/foo@sha256:2"


def test_undo_without_a_previous_rollout_is_refused() -> None:
    kube, reconciler = cluster()
    settle(kube, reconciler)
    with pytest.raises(CliError, match="couldn't find deployment for rollback"):
        rollback(kube, NS, "web", 0)  # type: ignore[arg-type]
    with pytest.raises(CliError, match="unable to find the specified revision 7"):
        rollback(kube, NS, "web", 7)  # type: ignore[arg-type]


def test_rollout_latest_of_a_paused_dc_is_refused() -> None:
    kube, _ = cluster(paused=True)
    with pytest.raises(CliError, match="cannot deploy a paused deployment config"):
        request_rollout(kube, NS, "web")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "spec", "expected"),
    [
        ({}, {"triggers": [ict("foo:latest")]},
         ('Deployment config "web" waiting on image update\n', False, "")),
        ({}, {"triggers": []},
         ("", True, "Deployment config \"web\" waiting on manual update (use 'kbuild rollout "
          "latest web')")),
        ({"latestVersion": 1, "updatedReplicas": 1, "replicas": 1}, {},
         ("Waiting for rollout to finish: 1 out of 2 new replicas have been updated...\n",
          False, "")),
        ({"latestVersion": 2, "updatedReplicas": 2, "replicas": 3}, {},
         ("Waiting for rollout to finish: 1 old replicas are pending termination...\n", False, "")),
        ({"latestVersion": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1}, {},
         ("Waiting for rollout to finish: 1 of 2 updated replicas are available...\n", False, "")),
        ({"latestVersion": 2, "conditions": [{"type": "Progressing", "status": "False",
          "reason": "ProgressDeadlineExceeded",
          "message": 'replication controller "web-2" has failed progressing'}]}, {},
         ("", True, 'replication controller "web-2" has failed progressing')),
    ],
)  # fmt: skip
def test_status_messages_as_oc(
    status: dict[str, Any], spec: dict[str, Any], expected: tuple[str, bool, str]
) -> None:
    dc = dc_of(**spec)
    dc.status = type(dc.status).model_validate(status)
    assert status_text(dc) == expected


def test_describe_dc() -> None:
    kube, reconciler = cluster(triggers=[{"type": "ConfigChange"}, ict("foo:latest")])
    dc = kube.dc(NS, "web")
    text = describe_deployment_config(dc, [], [], NOW)
    assert "Latest Version:" in text
    assert "Not deployed" in text
    assert "Image(foo@latest, auto=true)" in text
    assert "Config, Image(foo@latest, auto=true)" in text
    assert "MaxSurge:" in text
    assert "registry/app:1" in text
    assert "8080/TCP" in text
    kube2, reconciler2 = cluster()
    settle(kube2, reconciler2)
    dc = kube2.dc(NS, "web")
    text = describe_deployment_config(dc, rollouts_of(kube2, dc), [], NOW)  # type: ignore[arg-type]
    assert "Deployment #1 (latest):" in text
    assert "web-1" in text
    assert "2 current / 2 desired" in text
    del reconciler


def test_rollout_latest_deploys_the_current_image_of_a_manual_trigger() -> None:
    from builder.api import ImageStream  # noqa: PLC0415

    kube, reconciler = cluster(triggers=[{"type": "ConfigChange"}, ict("foo:latest", False)])
    body = {"metadata": {"name": "foo", "namespace": NS}, "status": {"tags": [{"tag": "latest",
            "items": [{"created": "2026-01-01T00:00:00Z", "dockerImageReference": "r/foo@sha256:1",
                       "image": "sha256:1", "generation": 1}]}]}}  # fmt: skip
    kube.image_streams.create(ImageStream.model_validate(body))
    settle(kube, reconciler)
    assert kube.rc(NS, "web-1")["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry/app:1"  # automatic: false leaves the template alone
    )
    request_rollout(kube, NS, "web")  # type: ignore[arg-type]
    settle(kube, reconciler)
    dc = kube.dc(NS, "web")
    assert dc.status.latest_version == 2  # one rollout, not two
    assert kube.rc(NS, "web-2")["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "r/foo@sha256:1"
    )
    params = dc.spec.triggers[1].image_change_params  # type: ignore[index]
    assert params is not None and params.last_triggered_image == "r/foo@sha256:1"
    assert params.automatic is False


@pytest.mark.parametrize(
    ("args", "watch"),
    [([], True), (["-w=false"], False), (["--watch=false"], False), (["-w", "false"], False)],
)
def test_rollout_status_watch_flag_as_kubectl_spells_it(args: list[str], watch: bool) -> None:
    from builder.cli.main import parse_args  # noqa: PLC0415

    assert parse_args(["rollout", "status", "dc/web", *args]).watch is watch
