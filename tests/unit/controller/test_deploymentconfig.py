"""The DeploymentConfig reconciler against the in-memory fake: triggers, strategies, status."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import ImageStream
from builder.api.apps import DeploymentConfig
from builder.controller import dcrollout
from builder.controller.authz import Authorizer
from builder.controller.deploymentconfig import DeploymentConfigReconciler
from tests.unit.controller.dc_fake import DCFakeKube

NS = "app"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_dc(name: str = "web", **spec: Any) -> DeploymentConfig:
    body: dict[str, Any] = {
        "replicas": 2,
        "selector": {"app": name},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "registry/app:1"}]},
        },
    }
    body.update(spec)
    return DeploymentConfig.model_validate(
        {"metadata": {"name": name, "namespace": NS}, "spec": body}
    )


def setup(dc: DeploymentConfig, grants: set[tuple[str, str, str]] | None = None) -> Any:
    kube = DCFakeKube(grants)
    kube.deployment_configs.create(dc)
    clock = Clock()
    reconciler = DeploymentConfigReconciler(
        kube,  # type: ignore[arg-type]
        authorizer=Authorizer(kube),  # type: ignore[arg-type]
        clock=clock,
    )
    return kube, reconciler, clock


def converge(kube: DCFakeKube, reconciler: DeploymentConfigReconciler, clock: Clock,
             name: str = "web", rounds: int = 30, healthy: Any = None,
             check: Any = None) -> DeploymentConfig:  # fmt: skip
    """Reconcile and let the RC controller run until nothing changes."""
    for _ in range(rounds):
        reconciler.reconcile(NS, name)
        if check is not None:
            check(kube)
        if healthy is None:
            kube.run_rcs()
        else:
            kube.run_rcs(healthy)
        clock.now += 2
    return kube.dc(NS, name)


def condition(dc: DeploymentConfig, kind: str) -> tuple[str, str, str]:
    found = dcrollout.condition_of(dc, kind)
    assert found is not None, kind
    return found.status.value, found.reason, found.message


def stream(name: str, tag: str, image: str, namespace: str = NS) -> ImageStream:
    return ImageStream.model_validate({
        "metadata": {"name": name, "namespace": namespace},
        "status": {"tags": [{"tag": tag, "items": [{
            "created": "2026-01-01T00:00:00Z", "dockerImageReference": image,
            "image": "sha256:" + "a" * 64, "generation": 1,
        }]}]},
    })  # fmt: skip


def move_tag(kube: DCFakeKube, name: str, image: str, namespace: str = NS) -> None:
    current = kube.image_streams.get(namespace, name)
    current.status.tags[0].items[0].docker_image_reference = image  # type: ignore[index]
    kube.image_streams.replace_status(current)


# --------------------------------------------------------------------------- first rollout


def test_config_change_rolls_out_version_1_with_openshifts_annotations() -> None:
    kube, reconciler, clock = setup(make_dc())
    dc = converge(kube, reconciler, clock)
    assert dc.status.latest_version == 1
    assert dc.status.details is not None
    assert [c.type for c in dc.status.details.causes] == ["ConfigChange"]
    assert dc.status.details.message == "config change"
    rc = kube.rc(NS, "web-1")
    meta = rc["metadata"]
    assert meta["labels"] == {"openshift.io/deployment-config.name": "web"}
    assert meta["annotations"]["openshift.io/deployment-config.name"] == "web"
    assert meta["annotations"]["openshift.io/deployment-config.latest-version"] == "1"
    assert meta["annotations"]["openshift.io/deployment.phase"] == "Complete"
    encoded = json.loads(meta["annotations"]["openshift.io/encoded-deployment-config"])
    assert encoded["spec"]["template"] == make_dc().spec.template
    assert meta["ownerReferences"][0]["kind"] == "DeploymentConfig"
    assert meta["ownerReferences"][0]["controller"] is True
    assert rc["spec"]["selector"] == {
        "app": "web",
        "deployment": "web-1",
        "deploymentconfig": "web",
    }
    labels = rc["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app": "web", "deployment": "web-1", "deploymentconfig": "web"}
    assert rc["spec"]["replicas"] == 2
    assert (dc.status.replicas, dc.status.available_replicas, dc.status.updated_replicas) == (
        2,
        2,
        2,
    )
    assert condition(dc, "Progressing") == (
        "True", "NewReplicationControllerAvailable",
        'replication controller "web-1" successfully rolled out',
    )  # fmt: skip
    assert condition(dc, "Available") == ("True", "", "Deployment config has minimum availability.")
    reasons = [e["reason"] for e in kube.events]
    assert "DeploymentCreated" in reasons


def test_no_triggers_waits_for_a_manual_rollout_then_rolls_out() -> None:
    kube, reconciler, clock = setup(make_dc(triggers=[]))
    dc = converge(kube, reconciler, clock, rounds=3)
    assert dc.status.latest_version == 0
    assert kube.rcs == {}
    # kbuild rollout latest: latestVersion + 1 with a Manual cause, as oc's instantiate.
    dc.status.latest_version = 1
    dc.status.details = dcrollout.details_for([dcrollout.manual_cause()])
    kube.deployment_configs.replace_status(dc)
    dc = converge(kube, reconciler, clock)
    assert (
        kube.rc(NS, "web-1")["metadata"]["annotations"]["openshift.io/deployment.status-reason"]
        == "manual change"
    )
    assert condition(dc, "Progressing")[1] == "NewReplicationControllerAvailable"


def test_a_manual_rollout_of_an_unchanged_template_makes_a_new_rc() -> None:
    kube, reconciler, clock = setup(make_dc())
    dc = converge(kube, reconciler, clock)
    dc.status.latest_version = 2
    kube.deployment_configs.replace_status(dc)
    dc = converge(kube, reconciler, clock)
    assert kube.replicas(NS) == {"web-1": 0, "web-2": 2}
    assert dc.status.latest_version == 2


# --------------------------------------------------------------------------- strategies


def edit_image(kube: DCFakeKube, image: str, name: str = "web") -> None:
    dc = kube.dc(NS, name)
    assert dc.spec.template is not None
    dc.spec.template["spec"]["containers"][0]["image"] = image
    kube.deployment_configs.replace(dc)


@pytest.mark.parametrize(
    ("replicas", "params", "surge", "unavailable"),
    [
        (4, None, 1, 1),  # OpenShift's default 25% / 25%
        (4, {"maxSurge": 0, "maxUnavailable": 1}, 0, 1),
        (4, {"maxSurge": "50%", "maxUnavailable": 0}, 2, 0),
        (3, {"maxSurge": 1, "maxUnavailable": 0}, 1, 0),
        (1, None, 1, 0),
    ],
)
def test_rolling_keeps_within_surge_and_unavailable(
    replicas: int, params: dict[str, Any] | None, surge: int, unavailable: int
) -> None:
    strategy: dict[str, Any] = {"type": "Rolling", "rollingParams": params}
    kube, reconciler, clock = setup(make_dc(replicas=replicas, strategy=strategy))
    converge(kube, reconciler, clock)
    edit_image(kube, "registry/app:2")

    def check(k: DCFakeKube) -> None:
        # What the RC controller is about to run must stay within the bounds,
        # counting the pods that are available now.
        spec = k.replicas(NS)
        assert sum(spec.values()) <= replicas + surge, spec
        running = {n: rc["status"].get("availableReplicas", 0) for (_, n), rc in k.rcs.items()}
        still = sum(min(running[n], spec[n]) for n in spec)
        assert still >= replicas - unavailable, (spec, running)

    dc = converge(kube, reconciler, clock, rounds=40, check=check)
    assert kube.replicas(NS) == {"web-1": 0, "web-2": replicas}
    assert dc.status.latest_version == 2
    assert condition(dc, "Progressing")[1] == "NewReplicationControllerAvailable"


@pytest.mark.parametrize("slow", [False, True])
def test_recreate_never_runs_old_and_new_pods_together(slow: bool) -> None:
    kube, reconciler, clock = setup(make_dc(replicas=3, strategy={"type": "Recreate"}))
    kube.slow_termination = slow
    converge(kube, reconciler, clock)
    edit_image(kube, "registry/app:2")

    def check(k: DCFakeKube) -> None:
        pods = {n: rc["status"].get("replicas", 0) for (_, n), rc in k.rcs.items()}
        spec = k.replicas(NS)
        assert not (spec["web-1"] and spec.get("web-2")), spec
        assert not (pods["web-1"] and spec.get("web-2")), (pods, spec)

    dc = converge(kube, reconciler, clock, check=check)
    assert kube.replicas(NS) == {"web-1": 0, "web-2": 3}
    assert [c.type for c in dc.status.details.causes] == ["ConfigChange"]  # type: ignore[union-attr]


def test_min_ready_seconds_is_the_rcs() -> None:
    kube, reconciler, clock = setup(make_dc(minReadySeconds=7))
    converge(kube, reconciler, clock, rounds=2)
    assert kube.rc(NS, "web-1")["spec"]["minReadySeconds"] == 7


@pytest.mark.parametrize("strategy", ["Rolling", "Recreate"])
def test_a_rollout_that_never_gets_ready_fails_and_the_last_one_serves(strategy: str) -> None:
    params = {"timeoutSeconds": 30}
    key = "rollingParams" if strategy == "Rolling" else "recreateParams"
    kube, reconciler, clock = setup(make_dc(strategy={"type": strategy, key: params}))
    converge(kube, reconciler, clock)
    edit_image(kube, "registry/app:broken")
    dc = converge(kube, reconciler, clock, rounds=30, healthy=lambda name: name != "web-2")
    assert kube.rc(NS, "web-2")["metadata"]["annotations"]["openshift.io/deployment.phase"] == (
        "Failed"
    )
    assert kube.replicas(NS) == {"web-1": 2, "web-2": 0}
    assert condition(dc, "Progressing") == (
        "False", "ProgressDeadlineExceeded", 'replication controller "web-2" has failed progressing'
    )  # fmt: skip
    assert condition(dc, "Available")[0] == "True"
    assert any(e["reason"] == "RolloutFailed" for e in kube.events)


def test_first_rollout_never_ready_ends_without_availability() -> None:
    kube, reconciler, clock = setup(make_dc(strategy={"recreateParams": {"timeoutSeconds": 10},
                                                       "type": "Recreate"}))  # fmt: skip
    dc = converge(kube, reconciler, clock, rounds=12, healthy=lambda _name: False)
    assert condition(dc, "Progressing")[1] == "ProgressDeadlineExceeded"
    assert condition(dc, "Available") == (
        "False", "", "Deployment config does not have minimum availability."
    )  # fmt: skip


def test_a_newer_version_cancels_the_running_one() -> None:
    kube, reconciler, clock = setup(make_dc())
    converge(kube, reconciler, clock)
    edit_image(kube, "registry/app:2")
    reconciler.reconcile(NS, "web")  # web-2 starts, never becomes ready
    edit_image(kube, "registry/app:3")
    converge(kube, reconciler, clock)
    annotations = kube.rc(NS, "web-2")["metadata"]["annotations"]
    assert annotations["openshift.io/deployment.cancelled"] == "true"
    assert annotations["openshift.io/deployment.phase"] == "Failed"
    assert kube.replicas(NS) == {"web-1": 0, "web-2": 0, "web-3": 2}


def test_test_mode_scales_to_zero_after_the_rollout() -> None:
    kube, reconciler, clock = setup(make_dc(test=True))
    dc = converge(kube, reconciler, clock)
    assert kube.replicas(NS) == {"web-1": 0}
    assert condition(dc, "Progressing")[1] == "NewReplicationControllerAvailable"


def test_scaling_the_dc_scales_its_complete_rollout() -> None:
    kube, reconciler, clock = setup(make_dc())
    converge(kube, reconciler, clock)
    dc = kube.dc(NS, "web")
    dc.spec.replicas = 5
    kube.deployment_configs.replace(dc)
    dc = converge(kube, reconciler, clock, rounds=3)
    assert kube.replicas(NS) == {"web-1": 5}
    assert dc.status.latest_version == 1


def test_revision_history_limit_prunes_old_rollouts() -> None:
    kube, reconciler, clock = setup(make_dc(revisionHistoryLimit=1))
    for n in range(2, 5):
        converge(kube, reconciler, clock, rounds=8)
        edit_image(kube, f"registry/app:{n}")
    converge(kube, reconciler, clock)
    assert kube.replicas(NS) == {"web-3": 0, "web-4": 2}
    assert kube.deleted_rcs == ["web-1", "web-2"]


def test_paused_rolls_out_nothing_and_says_so() -> None:
    kube, reconciler, clock = setup(make_dc(paused=True))
    dc = converge(kube, reconciler, clock, rounds=3)
    assert kube.rcs == {}
    assert condition(dc, "Progressing") == ("Unknown", "DeploymentConfigPaused",
                                            "Deployment config is paused")  # fmt: skip


# --------------------------------------------------------------------------- image triggers


def image_trigger(tag: str = "foo:latest", namespace: str = "", **extra: Any) -> dict[str, Any]:
    source: dict[str, Any] = {"kind": "ImageStreamTag", "name": tag}
    if namespace:
        source["namespace"] = namespace
    params = {"automatic": True, "containerNames": ["app"], "from": source, **extra}
    return {"type": "ImageChange", "imageChangeParams": params}


def test_image_change_waits_for_the_tag_then_follows_it() -> None:
    dc = make_dc(triggers=[{"type": "ConfigChange"}, image_trigger()])
    kube, reconciler, clock = setup(dc)
    converge(kube, reconciler, clock, rounds=3)
    assert kube.rcs == {}  # no image yet: OpenShift waits too
    kube.image_streams.create(stream("foo", "latest", "registry/app/foo@sha256:1"))
    dc = converge(kube, reconciler, clock)
    params = dc.spec.triggers[1].image_change_params  # type: ignore[index]
    assert params is not None
    assert params.last_triggered_image == "registry/app/foo@sha256:1"
    assert dc.spec.template["spec"]["containers"][0]["image"] == "registry/app/foo@sha256:1"  # type: ignore[index]
    assert dc.status.latest_version == 1
    move_tag(kube, "foo", "registry/app/foo@sha256:2")
    dc = converge(kube, reconciler, clock)
    assert dc.status.latest_version == 2
    assert dc.status.details is not None
    cause = dc.status.details.causes[0]
    assert cause.type == "ImageChange"
    assert cause.image_trigger is not None
    assert cause.image_trigger.from_.name == "foo:latest"
    assert kube.rc(NS, "web-2")["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry/app/foo@sha256:2"
    )
    assert kube.replicas(NS) == {"web-1": 0, "web-2": 2}


def test_image_change_alone_rolls_out_without_a_config_trigger() -> None:
    kube, reconciler, clock = setup(make_dc(triggers=[image_trigger()]))
    kube.image_streams.create(stream("foo", "latest", "registry/app/foo@sha256:1"))
    converge(kube, reconciler, clock)
    edit_image(kube, "registry/app:edited")  # no ConfigChange trigger: no rollout
    dc = converge(kube, reconciler, clock, rounds=3)
    assert dc.status.latest_version == 1
    move_tag(kube, "foo", "registry/app/foo@sha256:2")
    dc = converge(kube, reconciler, clock)
    assert dc.status.latest_version == 2


def test_non_automatic_trigger_does_not_touch_the_template() -> None:
    kube, reconciler, clock = setup(make_dc(triggers=[{"type": "ConfigChange"},
                                                      image_trigger(automatic=False)]))  # fmt: skip
    kube.image_streams.create(stream("foo", "latest", "registry/app/foo@sha256:1"))
    dc = converge(kube, reconciler, clock)
    assert dc.spec.template["spec"]["containers"][0]["image"] == "registry/app:1"  # type: ignore[index]
    assert dc.status.latest_version == 1


@pytest.mark.parametrize("granted", [False, True])
def test_another_namespaces_stream_only_with_image_puller(granted: bool) -> None:
    grants = {("system:serviceaccount:app:runner", "get", "base")} if granted else set()
    dc = make_dc(triggers=[image_trigger(namespace="base")])
    assert dc.spec.template is not None
    dc.spec.template["spec"]["serviceAccountName"] = "runner"
    kube, reconciler, clock = setup(dc, grants)
    kube.image_streams.create(stream("foo", "latest", "registry/base/foo@sha256:1", "base"))
    dc = converge(kube, reconciler, clock, rounds=4)
    assert ("system:serviceaccount:app:runner", "get", "base") in kube.reviews
    image = dc.spec.template["spec"]["containers"][0]["image"]  # type: ignore[index]
    if granted:
        assert image == "registry/base/foo@sha256:1"
        assert dc.status.latest_version == 1
    else:
        assert image == "registry/app:1"
        assert dc.status.latest_version == 0
        warnings = [e for e in kube.events if e["reason"] == "InvalidImageTrigger"]
        assert len(warnings) == 1
        assert "system:serviceaccount:app:runner" in warnings[0]["message"]


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("strategy", "field"),
    [
        ({"type": "Custom", "customParams": {"image": "x"}}, "spec.strategy.customParams"),
        ({"type": "Rolling", "activeDeadlineSeconds": 100}, "spec.strategy.activeDeadlineSeconds"),
    ],
)  # fmt: skip
def test_unsupported_fields_are_refused_by_name(strategy: dict[str, Any], field: str) -> None:
    kube, reconciler, clock = setup(make_dc(strategy=strategy))
    dc = converge(kube, reconciler, clock, rounds=3)
    assert kube.rcs == {}
    status, reason, message = condition(dc, "Progressing")
    assert (status, reason) == ("False", "UnsupportedField")
    assert field in message
    warnings = [e for e in kube.events if e["reason"] == "UnsupportedField"]
    assert len(warnings) >= 1  # once per problem, not once per reconcile
    assert len(warnings) == len({e["message"] for e in warnings})


def test_an_rc_the_api_server_refuses_is_a_create_error() -> None:
    kube, reconciler, clock = setup(make_dc())
    kube.refuse_rc = 'ReplicationController "web-1" is invalid: spec.template.spec.containers'
    dc = converge(kube, reconciler, clock, rounds=2)
    status, reason, message = condition(dc, "Progressing")
    assert (status, reason) == ("False", "ReplicationControllerCreateError")
    assert "is invalid" in message


def test_an_rc_of_the_same_name_it_does_not_own_is_left_alone() -> None:
    kube, reconciler, clock = setup(make_dc())
    kube.create_object(
        type("R", (), {"kind": "ReplicationController"})(), NS,
        {"metadata": {"name": "web-1", "labels": {"openshift.io/deployment-config.name": "web"}},
         "spec": {"replicas": 3}},
    )  # fmt: skip
    dc = converge(kube, reconciler, clock, rounds=2)
    assert condition(dc, "Progressing")[1] == "ReplicationControllerCreateError"
    assert kube.rc(NS, "web-1")["spec"]["replicas"] == 3


# --------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("value", "total", "up", "expected"),
    [(None, 4, True, 1), (None, 4, False, 1), ("25%", 3, True, 1), ("25%", 3, False, 0),
     (2, 10, True, 2), ("100%", 5, False, 5), ("0%", 5, True, 0)],
)  # fmt: skip
def test_resolve_int_or_percent(value: Any, total: int, up: bool, expected: int) -> None:
    assert dcrollout.resolve(value, total, round_up=up) == expected


@pytest.mark.parametrize("bad", ["25", "abc%", "-1%", "1.5%", -1])
def test_bad_surge_is_a_manifest_error(bad: Any) -> None:
    from builder.api import ManifestError, parse_as  # noqa: PLC0415

    with pytest.raises(ManifestError, match="maxSurge"):
        parse_as(DeploymentConfig, {"spec": {"strategy": {"rollingParams": {"maxSurge": bad}}}})


def test_null_triggers_mean_config_change_and_empty_means_none() -> None:
    assert dcrollout.has_config_trigger(make_dc())
    assert not dcrollout.has_config_trigger(make_dc(triggers=[]))


# --------------------------------------------------------------------------- hostile templates

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=12,
)  # fmt: skip
_template = st.fixed_dictionaries(
    {},
    optional={
        "metadata": _json | st.fixed_dictionaries({}, optional={"labels": _json,
                                                                "annotations": _json}),
        "spec": _json | st.fixed_dictionaries({}, optional={"containers": _json,
                                                            "initContainers": _json}),
    },
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(template=_template)
def test_any_template_is_rolled_out_or_refused_with_a_reason(template: dict[str, Any]) -> None:
    """Whatever JSON a tenant puts in the template: an RC, or a typed problem, never a crash."""
    dc = make_dc(template=template, triggers=[{"type": "ConfigChange"}, image_trigger()])
    dc.metadata.uid = "uid-1"
    found = dcrollout.problems(dc)
    if found:
        assert all(isinstance(reason, dcrollout.DeploymentReason) for reason, _ in found)
        return
    body = dcrollout.new_rc(dc, 1)
    assert body["spec"]["template"]["metadata"]["labels"]["deployment"] == "web-1"
    dcrollout.set_images(template, ["app"], "registry/x@sha256:1")
    dcrollout.trigger_causes(dc, body)
    dcrollout.selector_of(dc)


def test_an_edited_image_of_a_followed_container_is_put_back_and_rolls_out_once_at_most() -> None:
    """Regression: the edit made every look see an image change, a new version each time."""
    trigger = {"type": "ImageChange", "imageChangeParams": {
        "automatic": True, "containerNames": ["app"],
        "from": {"kind": "ImageStreamTag", "name": "foo:latest"}}}  # fmt: skip
    kube, reconciler, clock = setup(make_dc(triggers=[{"type": "ConfigChange"}, trigger]))
    kube.image_streams.create(stream("foo", "latest", "registry/foo@sha256:" + "b" * 64))
    converge(kube, reconciler, clock)
    dc = kube.dc(NS, "web")
    assert dc.status.latest_version == 1
    assert dc.spec.template is not None
    dc.spec.template["spec"]["containers"][0]["image"] = "registry/edited:1"
    kube.deployment_configs.replace(dc)
    dc = converge(kube, reconciler, clock)
    assert dc.status.latest_version <= 2
    assert dc.spec.template is not None
    assert dc.spec.template["spec"]["containers"][0]["image"] == "registry/foo@sha256:" + "b" * 64
