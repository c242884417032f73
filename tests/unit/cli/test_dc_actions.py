"""``rollout cancel|retry|pause|resume``, ``rollback``, ``set triggers dc/``, ``logs dc/``,
``new-app --as-deployment-config``: oc's texts, and the writes against the fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from builder.api.apps import DeploymentConfig
from builder.cli import dcactions
from builder.cli.common import CliError
from builder.cli.dclogs import log_lines
from builder.cli.main import parser
from builder.cli.newapp_dc import as_deployment_config
from builder.cli.settriggers import TriggerFlags
from builder.cli.settriggers_dc import dc_rows, edit_dc_triggers, update_dc
from builder.controller.dcrollout import condition_of
from tests.unit.cli.test_dc import NS, cluster, dc_of, ict, settle
from tests.unit.controller.dc_fake import DCFakeKube

NOW = datetime(2030, 1, 1, tzinfo=UTC)
REF = "deploymentconfig.apps.openshift.io/web"


def phase(kube: DCFakeKube, name: str) -> str:
    annotations: dict[str, str] = kube.rc(NS, name)["metadata"]["annotations"]
    return annotations["openshift.io/deployment.phase"]


def new_template(kube: DCFakeKube, image: str) -> None:
    dc = kube.dc(NS, "web")
    dc.spec.template["spec"]["containers"][0]["image"] = image  # type: ignore[index]
    kube.deployment_configs.replace(dc)


def stuck(kube: DCFakeKube, reconciler: Any) -> None:
    """Version 1 complete, version 2 running (its pods never become ready)."""
    settle(kube, reconciler)
    new_template(kube, "registry/app:2")
    for _ in range(4):
        reconciler.reconcile(NS, "web")
        kube.run_rcs(lambda name: name != "web-2")
    assert phase(kube, "web-2") == "Running"


# --------------------------------------------------------------------------- cancel


def test_cancel_stops_the_running_rollout_and_the_last_complete_one_serves() -> None:
    kube, reconciler = cluster()
    stuck(kube, reconciler)
    result = dcactions.cancel(kube, NS, "web", NOW)  # type: ignore[arg-type]
    assert result == dcactions.CancelResult([f"{REF} cancelling"], [])
    annotations = kube.rc(NS, "web-2")["metadata"]["annotations"]
    assert annotations["openshift.io/deployment.cancelled"] == "true"
    assert annotations["openshift.io/deployment.status-reason"] == "cancelled by the user"
    for _ in range(4):
        reconciler.reconcile(NS, "web")
        kube.run_rcs(lambda name: name != "web-2")
    assert phase(kube, "web-2") == "Failed"
    assert kube.replicas(NS) == {"web-1": 2, "web-2": 0}
    cond = condition_of(kube.dc(NS, "web"), "Progressing")
    assert cond is not None
    assert (cond.reason, cond.message) == (
        "RolloutCancelled", 'rollout of replication controller "web-2" was cancelled'
    )  # fmt: skip
    assert "--> Rollout cancelled" in annotations.get("apps.kbuild.io/rollout-log", "") or (
        "--> Rollout cancelled"
        in kube.rc(NS, "web-2")["metadata"]["annotations"]["apps.kbuild.io/rollout-log"]
    )
    # Nothing runs any more: oc's line, with the latest rollout's age.
    kube.rc(NS, "web-2")["metadata"]["creationTimestamp"] = (NOW - timedelta(minutes=3)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    again = dcactions.cancel(kube, NS, "web", NOW)  # type: ignore[arg-type]
    assert again.lines == ["No rollout is in progress (latest rollout #2 failed 3 minutes ago)"]


def test_cancel_of_a_paused_dc_is_an_error_but_still_cancels_as_oc() -> None:
    kube, reconciler = cluster()
    stuck(kube, reconciler)
    dc = kube.dc(NS, "web")
    dc.spec.paused = True
    kube.deployment_configs.replace(dc)
    result = dcactions.cancel(kube, NS, "web", NOW)  # type: ignore[arg-type]
    assert result.errors == [f"unable to cancel paused deployment {NS}/web"]
    assert result.lines == [f"{REF} cancelling"]


# --------------------------------------------------------------------------- retry


def test_retry_runs_the_failed_rollout_again_and_refuses_others() -> None:
    kube, reconciler = cluster()
    settle(kube, reconciler)
    with pytest.raises(CliError) as err:
        dcactions.retry(kube, NS, "web")  # type: ignore[arg-type]
    assert str(err.value) == (
        "rollout #1 is complete; only failed deployments can be retried.\n"
        "You can start a new deployment with 'kbuild rollout latest dc/web'."
    )
    stuck(kube, reconciler)
    dcactions.cancel(kube, NS, "web", NOW)  # type: ignore[arg-type]
    settle(kube, reconciler, rounds=2)
    assert phase(kube, "web-2") == "Failed"
    kube.create_pod(NS, {"metadata": {"name": "web-2-hook-pre", "labels": {
        "openshift.io/deployer-pod-for.name": "web-2"}}})  # fmt: skip
    assert dcactions.retry(kube, NS, "web") == f"{REF} retried rollout #2"  # type: ignore[arg-type]
    assert (NS, "web-2-hook-pre") not in kube.pods
    annotations = kube.rc(NS, "web-2")["metadata"]["annotations"]
    assert annotations["openshift.io/deployment.phase"] == "New"
    assert "openshift.io/deployment.cancelled" not in annotations
    assert "openshift.io/deployment.status-reason" not in annotations
    settle(kube, reconciler)  # healthy now: the retried rollout completes
    assert phase(kube, "web-2") == "Complete"
    assert kube.replicas(NS) == {"web-1": 0, "web-2": 2}


def test_retry_messages_as_oc() -> None:
    kube, _ = cluster()
    with pytest.raises(CliError, match='no rollouts found for "web"'):
        dcactions.retry(kube, NS, "web")  # type: ignore[arg-type]
    dc = kube.dc(NS, "web")
    dc.spec.paused = True
    kube.deployment_configs.replace(dc)
    with pytest.raises(CliError, match='unable to retry paused deployment config "web"'):
        dcactions.retry(kube, NS, "web")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pause, resume


def test_pause_and_resume_as_oc() -> None:
    kube, _ = cluster()
    assert dcactions.set_paused(kube, NS, "web", True) == f"{REF} paused"  # type: ignore[arg-type]
    assert kube.dc(NS, "web").spec.paused
    with pytest.raises(CliError, match=r'deploymentconfigs.apps.openshift.io "web" is already'):
        dcactions.set_paused(kube, NS, "web", True)  # type: ignore[arg-type]
    assert dcactions.set_paused(kube, NS, "web", False) == f"{REF} resumed"  # type: ignore[arg-type]
    with pytest.raises(CliError, match=r'"web" is not paused'):
        dcactions.set_paused(kube, NS, "web", False)  # type: ignore[arg-type]


@pytest.mark.parametrize("action", ["cancel", "retry", "pause", "resume"])
def test_rollout_takes_the_new_actions(action: str) -> None:
    ns = parser("rollout").parse_args(["rollout", action, "dc/web"])
    assert ns.action == action


# --------------------------------------------------------------------------- rollback


def three_versions(**spec: Any) -> tuple[DCFakeKube, Any]:
    kube, reconciler = cluster(**spec)
    settle(kube, reconciler)
    for image in ("registry/app:2", "registry/app:3"):
        new_template(kube, image)
        settle(kube, reconciler)
    return kube, reconciler


def image_of(kube: DCFakeKube, rc: str) -> str:
    image: str = kube.rc(NS, rc)["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


@pytest.mark.parametrize(
    ("target", "to_version", "image", "back_to"),
    [
        ("dc/web", 0, "registry/app:2", "web-2"),  # the last complete one before the latest
        ("web", 1, "registry/app:1", "web-1"),  # a bare name: an RC first, then the dc
        ("rc/web-1", 0, "registry/app:1", "web-1"),
        ("web-1", 0, "registry/app:1", "web-1"),
    ],
)
def test_rollback_as_oc(target: str, to_version: int, image: str, back_to: str) -> None:
    kube, reconciler = three_versions()
    options = dcactions.RollbackOptions(to_version=to_version)
    rolled, rc = dcactions.rollback(kube, NS, target, options, dry_run=False)  # type: ignore[arg-type]
    assert rc == back_to
    assert dcactions.rollback_message(rolled, rc, dry_run=False) == (
        f"{REF} deployment #4 rolled back to {back_to}"
    )
    settle(kube, reconciler)
    assert image_of(kube, "web-4") == image
    assert kube.dc(NS, "web").status.latest_version == 4


def test_rollback_turns_every_image_trigger_off_and_warns_as_oc() -> None:
    from builder.api import ImageStream  # noqa: PLC0415

    triggers = [{"type": "ConfigChange"}, ict("foo:latest")]
    kube, reconciler = cluster(triggers=triggers)
    kube.image_streams.create(ImageStream.model_validate({
        "metadata": {"name": "foo", "namespace": NS},
        "status": {"tags": [{"tag": "latest", "items": [{
            "created": "2026-01-01T00:00:00Z", "dockerImageReference": "registry/foo@sha256:"
            + "a" * 64, "image": "sha256:" + "a" * 64, "generation": 1}]}]},
    }))  # fmt: skip
    settle(kube, reconciler)
    dc = kube.dc(NS, "web")
    dc.spec.template["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]  # type: ignore[index]
    kube.deployment_configs.replace(dc)
    settle(kube, reconciler)
    assert kube.dc(NS, "web").status.latest_version == 2
    options = dcactions.RollbackOptions()
    rolled, rc = dcactions.rollback(kube, NS, "dc/web", options, dry_run=False)  # type: ignore[arg-type]
    assert dcactions.rollback_message(rolled, rc, dry_run=False).splitlines() == [
        f"{REF} deployment #3 rolled back to web-1",
        "Warning: the following images triggers were disabled: foo:latest",
        "  You can re-enable them with: kbuild set triggers dc/web --auto",
    ]
    params = kube.dc(NS, "web").spec.triggers[1].image_change_params  # type: ignore[index]
    assert params is not None and params.automatic is False


def test_rollback_dry_run_changes_nothing_and_paused_is_refused() -> None:
    kube, _ = three_versions()
    options = dcactions.RollbackOptions(change_scaling=True)
    rolled, rc = dcactions.rollback(kube, NS, "dc/web", options, dry_run=True)  # type: ignore[arg-type]
    assert dcactions.rollback_message(rolled, rc, dry_run=True) == (
        f"{REF} rolled back to web-2 (dry run)"
    )
    assert kube.dc(NS, "web").status.latest_version == 3
    dc = kube.dc(NS, "web")
    dc.spec.paused = True
    kube.deployment_configs.replace(dc)
    with pytest.raises(CliError, match="cannot rollback a paused deployment config"):
        dcactions.rollback(kube, NS, "dc/web", options, dry_run=False)  # type: ignore[arg-type]
    with pytest.raises(CliError, match="is not a valid deployment or deployment config"):
        dcactions.rollback(kube, NS, "dc/nope", options, dry_run=False)  # type: ignore[arg-type]


def test_rollback_with_change_scaling_settings_restores_replicas() -> None:
    kube, reconciler = cluster()
    settle(kube, reconciler)
    dc = kube.dc(NS, "web")
    dc.spec.replicas = 5
    dc.spec.template["spec"]["containers"][0]["image"] = "registry/app:2"  # type: ignore[index]
    kube.deployment_configs.replace(dc)
    settle(kube, reconciler)
    options = dcactions.RollbackOptions(change_scaling=True)
    dcactions.rollback(kube, NS, "dc/web", options, dry_run=False)  # type: ignore[arg-type]
    assert kube.dc(NS, "web").spec.replicas == 2


def test_rollback_is_a_verb() -> None:
    ns = parser("rollback").parse_args(["rollback", "dc/web", "--to-version", "2"])
    assert (ns.target, ns.to_version) == ("dc/web", 2)


# --------------------------------------------------------------------------- set triggers


def flags(**kw: Any) -> TriggerFlags:
    return TriggerFlags(**kw)


TWO = {
    "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "x"}, {"name": "side", "image": "y"}]},
    }
}


@pytest.mark.parametrize(
    ("spec", "rows"),
    [
        ({}, [["config", "", "true"]]),
        ({"triggers": []}, [["config", "", "false"]]),
        ({"triggers": [ict("foo:latest", automatic=False, names=["app", "side"])]},
         [["config", "", "false"], ["image", "foo:latest (app, side)", "false"]]),
    ],
)  # fmt: skip
def test_set_triggers_table_for_a_dc(spec: dict[str, Any], rows: list[list[str]]) -> None:
    assert dc_rows(dc_of(**spec)) == rows


def _dump(dc: DeploymentConfig, **kw: Any) -> list[dict[str, Any]]:
    from builder.api.base import to_dict  # noqa: PLC0415

    return [to_dict(t) for t in edit_dc_triggers(dc, flags(**kw), "dc/web")]


def test_set_triggers_edits_a_dcs_own_list_as_oc() -> None:
    dc = dc_of()  # null triggers: OpenShift's ConfigChange
    added = _dump(dc, from_image="foo:latest")
    assert added == [{"type": "ConfigChange"}, {"type": "ImageChange", "imageChangeParams": {
        "automatic": True, "containerNames": ["app"],
        "from": {"kind": "ImageStreamTag", "name": "foo:latest"}}}]  # fmt: skip
    manual = _dump(dc, from_image="foo:latest", manual=True)
    assert manual[1]["imageChangeParams"]["automatic"] is False
    assert _dump(dc, remove=True, from_config=True) == []
    assert _dump(dc, remove_all=True) == []
    with_image = dc_of(triggers=[{"type": "ConfigChange"}, ict("foo:latest")])
    params = with_image.spec.triggers[1].image_change_params  # type: ignore[index]
    assert params is not None
    params.last_triggered_image = "registry/foo@sha256:" + "a" * 64
    assert _dump(with_image, manual=True) == [
        {"type": "ImageChange", "imageChangeParams": {
            "automatic": False, "containerNames": ["app"],
            "from": {"kind": "ImageStreamTag", "name": "foo:latest"},
            "lastTriggeredImage": "registry/foo@sha256:" + "a" * 64}},
    ]  # fmt: skip
    assert _dump(with_image, auto=True)[0] == {"type": "ConfigChange"}
    assert _dump(with_image, remove=True, from_image="foo:latest") == [{"type": "ConfigChange"}]
    other_ns = _dump(with_image, from_image="foo:latest", from_image_namespace="base")
    assert other_ns[2]["imageChangeParams"]["from"]["namespace"] == "base"


def test_set_triggers_refuses_what_oc_refuses_for_a_dc() -> None:
    with pytest.raises(CliError, match="deployment configs do not support GitHub web hooks"):
        edit_dc_triggers(dc_of(), flags(github=True), "dc/web")
    with pytest.raises(CliError, match="you must specify --containers"):
        edit_dc_triggers(dc_of(**TWO), flags(from_image="foo:latest"), "dc/web")
    with pytest.raises(CliError, match="not all container names exist: nope"):
        edit_dc_triggers(dc_of(), flags(from_image="f:l", containers=("nope",)), "dc/web")


def test_set_triggers_writes_and_the_controller_follows() -> None:
    kube, reconciler = cluster()
    settle(kube, reconciler)
    assert update_dc(kube, NS, "web", flags(remove=True, from_config=True))  # type: ignore[arg-type]
    assert kube.dc(NS, "web").spec.triggers == []
    assert not update_dc(kube, NS, "web", flags(remove_all=True))  # type: ignore[arg-type]
    new_template(kube, "registry/app:2")
    settle(kube, reconciler)
    assert kube.dc(NS, "web").status.latest_version == 1  # no config trigger any more


def test_set_triggers_knows_dc() -> None:
    ns = parser("set").parse_args(["set", "triggers", "dc/web", "--from-config"])
    from builder.cli.settriggers import parse_targets  # noqa: PLC0415

    ((resource, name),) = parse_targets(ns.targets)
    assert (resource.kind, name) == ("DeploymentConfig", "web")


# --------------------------------------------------------------------------- logs dc


def test_logs_dc_prints_the_rollout_log_with_its_hook_pods_output() -> None:
    pre = {"failurePolicy": "Abort", "execNewPod": {"command": ["migrate"], "containerName": "app"}}
    kube, reconciler = cluster(strategy={"type": "Rolling", "rollingParams": {"pre": pre}})
    for _ in range(3):
        reconciler.reconcile(NS, "web")
        kube.run_rcs()
    kube.pods[(NS, "web-1-hook-pre")]["status"] = {"phase": "Succeeded"}
    kube.pod_logs[(NS, "web-1-hook-pre", "lifecycle")] = ["migrated 3 tables"]
    settle(kube, reconciler)
    lines = log_lines(kube, NS, kube.rc(NS, "web-1"))  # type: ignore[arg-type]
    assert lines[0] == (
        "--> Scaling up web-1 from 0 to 2 (keep 2 pods available, don't exceed 3 pods)"
    )
    at = lines.index("--> pre: Running hook pod ...")
    assert lines[at + 1 : at + 3] == ["migrated 3 tables", "--> pre: Success"]
    assert lines[-1] == "--> Success"
    assert "    Scaling web-1 up to 2" in lines


def test_logs_dc_without_a_rollout_log_shows_a_pod_of_the_rollout_as_oc() -> None:
    kube, reconciler = cluster()
    settle(kube, reconciler)
    rc = kube.rc(NS, "web-1")
    del rc["metadata"]["annotations"]["apps.kbuild.io/rollout-log"]
    kube.create_pod(NS, {"metadata": {"name": "web-1-abcde", "labels": {"deployment": "web-1"}},
                         "spec": {"containers": [{"name": "app"}]}})  # fmt: skip
    kube.pod_logs[(NS, "web-1-abcde", "app")] = ["listening on 8080"]
    assert log_lines(kube, NS, rc) == ["listening on 8080"]  # type: ignore[arg-type]


def test_logs_takes_dc() -> None:
    ns = parser("logs").parse_args(["logs", "dc/web", "--version", "2"])
    assert (ns.target, ns.version) == ("dc/web", 2)


# --------------------------------------------------------------------------- new-app


def test_new_app_as_deployment_config_makes_ocs_dc_and_the_service_selects_it() -> None:
    from builder.cli.appobjects import AppParams, BuilderRef, GitSource, Port, app_objects  # noqa: PLC0415

    params = AppParams(
        name="nodejs-ex",
        builder=BuilderRef(kind="ImageStreamTag", name="centos7-s2i-nodejs:latest",
                           namespace="openshift"),
        source=GitSource(uri="https://github.com/openshift/nodejs-ex.git"),
        ports=(Port(8080, "TCP"),),
    )  # fmt: skip
    objects = as_deployment_config(app_objects(params))
    assert [o["kind"] for o in objects] == [
        "ImageStream", "BuildConfig", "DeploymentConfig", "Service"
    ]  # fmt: skip
    dc = DeploymentConfig.model_validate(objects[2])
    assert dc.metadata.name == "nodejs-ex"
    assert dc.spec.replicas == 1
    assert dc.spec.selector == {"deploymentconfig": "nodejs-ex"}
    assert dc.spec.template is not None
    assert dc.spec.template["metadata"]["labels"] == {"deploymentconfig": "nodejs-ex"}
    container = dc.spec.template["spec"]["containers"][0]
    assert container["image"] == "nodejs-ex:latest"
    assert [t.type for t in dc.spec.triggers or []] == ["ConfigChange", "ImageChange"]
    params_ = (dc.spec.triggers or [])[1].image_change_params
    assert params_ is not None
    assert (params_.automatic, params_.container_names, params_.from_.name) == (
        True, ["nodejs-ex"], "nodejs-ex:latest"
    )  # fmt: skip
    assert "image.openshift.io/triggers" not in (dc.metadata.annotations or {})
    assert objects[3]["spec"]["selector"] == {"deploymentconfig": "nodejs-ex"}
    assert json.dumps(objects[2])  # plain JSON, as -o json prints it


def test_new_app_takes_as_deployment_config() -> None:
    ns = parser("new-app").parse_args(["new-app", "b~https://h/r.git", "--as-deployment-config"])
    assert ns.as_deployment_config is True


def test_describe_dc_shows_the_hooks_as_oc() -> None:
    from builder.cli.dc import describe_deployment_config  # noqa: PLC0415

    pre = {"failurePolicy": "Abort", "execNewPod": {
        "command": ["/bin/true"], "containerName": "app",
        "env": [{"name": "CUSTOM_VAR1", "value": "custom_value1"}]}}  # fmt: skip
    post = {
        "failurePolicy": "Ignore",
        "tagImages": [
            {"containerName": "app", "to": {"kind": "ImageStreamTag", "name": "web:deployed"}}
        ],
    }
    dc = dc_of(strategy={"type": "Rolling", "rollingParams": {"pre": pre, "post": post}})
    text = describe_deployment_config(dc, [], [], NOW)
    assert "  Pre-deployment hook (pod type, failure policy: Abort):" in text
    assert "Command:" in text and "/bin/true" in text
    assert "CUSTOM_VAR1=custom_value1" in text
    assert "  Post-deployment hook (tag images, failure policy: Ignore):" in text
    assert "container app to ImageStreamTag web:deployed" in text
