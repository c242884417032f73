"""What wakes the DeploymentConfig reconciler: its stream index, its RCs, its own writes."""

from __future__ import annotations

from typing import Any

from builder.api.apps import DeploymentConfig
from builder.controller.authz import Authorizer
from builder.controller.dcwatch import DeploymentConfigWatches
from builder.controller.triggerindex import Index
from builder.kube import WatchEvent
from tests.unit.controller.dc_fake import DCFakeKube

NS = "app"


def dc_with(*tags: tuple[str, str]) -> DeploymentConfig:
    triggers: list[dict[str, Any]] = [{"type": "ConfigChange"}]
    for namespace, tag in tags:
        source = {
            "kind": "ImageStreamTag",
            "name": tag,
            **({"namespace": namespace} if namespace else {}),
        }
        triggers.append({"type": "ImageChange", "imageChangeParams": {
            "automatic": True, "containerNames": ["app"], "from": source}})  # fmt: skip
    return DeploymentConfig.model_validate({
        "metadata": {"name": "web", "namespace": NS},
        "spec": {"triggers": triggers, "template": {"spec": {"containers": [{"name": "app"}]}}},
    })  # fmt: skip


def watches() -> tuple[DCFakeKube, Index[Any, Any], DeploymentConfigWatches]:
    kube = DCFakeKube()
    index: Index[Any, Any] = Index()
    found = DeploymentConfigWatches(kube, None, index, Authorizer(kube))  # type: ignore[arg-type]
    return kube, index, found


def test_a_dc_is_queued_when_a_stream_it_follows_moves() -> None:
    kube, index, dcs = watches()
    dc = kube.deployment_configs.create(dc_with(("", "foo:latest"), ("base", "ruby:3")))
    assert dcs.config_keys(WatchEvent("ADDED", dc, "1")) == [("DeploymentConfig", NS, "web")]
    assert index.watchers((NS, "foo")) == {("DeploymentConfig", NS, "web")}
    assert index.watchers(("base", "ruby")) == {("DeploymentConfig", NS, "web")}
    assert dcs.config_keys(WatchEvent("DELETED", dc, "2")) == []
    assert index.watchers((NS, "foo")) == set()


def test_its_own_status_writes_do_not_wake_it_but_others_do() -> None:
    kube, _, dcs = watches()
    kube.deployment_configs.create(dc_with())
    dcs.reconcile(NS, "web")  # writes status: latestVersion 1
    own = kube.dc(NS, "web")
    assert own.status.latest_version == 1
    assert dcs.config_keys(WatchEvent("MODIFIED", own, "9")) == []
    # kbuild rollout latest bumps the status too: that must wake it.
    own.status.latest_version = 2
    theirs = kube.deployment_configs.replace_status(own)
    assert dcs.config_keys(WatchEvent("MODIFIED", theirs, "10")) == [
        ("DeploymentConfig", NS, "web")
    ]


def test_rc_events_map_to_their_dc() -> None:
    kube, _, dcs = watches()
    rc = {"metadata": {"name": "web-1", "namespace": NS,
                       "labels": {"openshift.io/deployment-config.name": "web"}}}  # fmt: skip
    assert dcs.rc_keys(WatchEvent("MODIFIED", rc, "1")) == [("DeploymentConfig", NS, "web")]
    assert dcs.rc_keys(WatchEvent("MODIFIED", {"metadata": {"name": "x"}}, "1")) == []
    kube.rcs[(NS, "web-1")] = rc
    keys, _ = dcs.list_rcs()
    assert keys == [("DeploymentConfig", NS, "web")]
