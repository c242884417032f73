"""DeploymentConfig lifecycle hooks against the in-memory fake: order, pods, policies, tags."""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import ImageStream
from builder.api.apps import DeploymentConfig
from builder.controller import dchooks
from builder.kube import NotFound
from tests.unit.controller.dc_fake import DCFakeKube
from tests.unit.controller.test_deploymentconfig import NS, Clock, condition, make_dc, setup

EXEC = {"command": ["/bin/migrate", "--now"], "containerName": "app"}


def hook(policy: str = "Abort", **exec_: Any) -> dict[str, Any]:
    return {"failurePolicy": policy, "execNewPod": {**EXEC, **exec_}}


def rolling(**params: Any) -> dict[str, Any]:
    return {"type": "Rolling", "rollingParams": params}


def recreate(**params: Any) -> dict[str, Any]:
    return {"type": "Recreate", "recreateParams": params}


def finish(kube: DCFakeKube, name: str, phase: str = "Succeeded", code: int = 0) -> None:
    pod = kube.pods[(NS, name)]
    pod["status"] = {"phase": phase, "containerStatuses": [
        {"name": "lifecycle", "state": {"terminated": {"exitCode": code}}}]}  # fmt: skip


def step(kube: DCFakeKube, reconciler: Any, clock: Clock, rounds: int = 1) -> DeploymentConfig:
    for _ in range(rounds):
        reconciler.reconcile(NS, "web")
        kube.run_rcs()
        clock.now += 2
    return kube.dc(NS, "web")


def rc_annotations(kube: DCFakeKube, name: str) -> dict[str, str]:
    annotations: dict[str, str] = kube.rc(NS, name)["metadata"]["annotations"]
    return annotations


def phase(kube: DCFakeKube, name: str) -> str:
    return rc_annotations(kube, name)["openshift.io/deployment.phase"]


def second_version(kube: DCFakeKube, reconciler: Any, clock: Clock) -> None:
    """Roll version 1 out (finishing its hook pods), then change the template."""
    for _ in range(20):
        step(kube, reconciler, clock)
        for (_, name), pod in list(kube.pods.items()):
            if name.startswith("web-1-hook") and "status" not in pod:
                finish(kube, name)
    assert phase(kube, "web-1") == "Complete"
    dc = kube.dc(NS, "web")
    assert dc.spec.template is not None
    dc.spec.template["spec"]["containers"][0]["image"] = "registry/app:2"
    kube.deployment_configs.replace(dc)


# --------------------------------------------------------------------------- order


def test_rolling_pre_hook_runs_before_any_scaling_and_post_before_complete() -> None:
    kube, reconciler, clock = setup(make_dc(strategy=rolling(pre=hook(), post=hook("Ignore"))))
    step(kube, reconciler, clock, rounds=3)
    assert (NS, "web-1-hook-pre") in kube.pods
    assert kube.replicas(NS) == {"web-1": 0}  # nothing scales while pre runs
    assert phase(kube, "web-1") == "Running"
    finish(kube, "web-1-hook-pre")
    step(kube, reconciler, clock, rounds=6)
    assert kube.replicas(NS) == {"web-1": 2}
    assert (NS, "web-1-hook-post") in kube.pods
    assert phase(kube, "web-1") == "Running"  # not complete until post is done
    finish(kube, "web-1-hook-post")
    dc = step(kube, reconciler, clock, rounds=2)
    assert phase(kube, "web-1") == "Complete"
    assert condition(dc, "Progressing")[1] == "NewReplicationControllerAvailable"
    log = rc_annotations(kube, "web-1")["apps.kbuild.io/rollout-log"].splitlines()
    assert log[0].startswith("--> Scaling up web-1 from 0 to 2")
    assert log.index("--> pre: Running hook pod ...") < log.index("--> pre: Success")
    assert log.index("--> pre: Success") < log.index("    Scaling web-1 up to 2")
    assert log[-3:] == ["--> post: Running hook pod ...", "--> post: Success", "--> Success"]


def test_recreate_mid_hook_runs_when_old_pods_are_gone_and_before_new_ones_start() -> None:
    kube, reconciler, clock = setup(make_dc(strategy=recreate(pre=hook(), mid=hook(), post=hook())))
    kube.slow_termination = True
    second_version(kube, reconciler, clock)
    seen_mid_with_old_pods = []

    for _ in range(30):
        step(kube, reconciler, clock)
        mid = kube.pods.get((NS, "web-2-hook-mid"))
        if mid is not None and "status" not in mid:
            old = kube.rc(NS, "web-1")
            seen_mid_with_old_pods.append(old["status"]["replicas"])
            assert kube.replicas(NS)["web-2"] == 0
        for name in ("web-2-hook-pre", "web-2-hook-mid", "web-2-hook-post"):
            if (NS, name) in kube.pods and "status" not in kube.pods[(NS, name)]:
                finish(kube, name)
                break
    assert phase(kube, "web-2") == "Complete"
    assert seen_mid_with_old_pods and set(seen_mid_with_old_pods) == {0}
    assert kube.replicas(NS) == {"web-1": 0, "web-2": 2}
    log = rc_annotations(kube, "web-2")["apps.kbuild.io/rollout-log"].splitlines()
    stages = [line for line in log if line.endswith(": Success")]
    assert stages == ["--> pre: Success", "--> mid: Success", "--> post: Success"]


# --------------------------------------------------------------------------- the pod


def test_the_hook_pod_is_made_from_the_container_as_openshift_makes_it() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "serviceAccountName": "runner",
            "nodeSelector": {"disk": "ssd"},
            "imagePullSecrets": [{"name": "pull"}],
            "securityContext": {"runAsNonRoot": True},
            "volumes": [{"name": "data", "emptyDir": {}}, {"name": "other", "emptyDir": {}}],
            "containers": [{
                "name": "app", "image": "registry/app:1", "workingDir": "/srv",
                "imagePullPolicy": "Always",
                "env": [{"name": "A", "value": "base"}, {"name": "B", "value": "base"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"},
                                 {"name": "other", "mountPath": "/other"}],
                "resources": {"limits": {"memory": "64Mi"}},
            }, {"name": "side", "image": "registry/side:1"}],
        },
    }  # fmt: skip
    pre = hook("Retry", env=[{"name": "B", "value": "hook"}], volumes=["data"])
    kube, reconciler, clock = setup(make_dc(template=template, strategy=rolling(pre=pre)))
    step(kube, reconciler, clock, rounds=2)
    pod = kube.pods[(NS, "web-1-hook-pre")]
    meta, spec = pod["metadata"], pod["spec"]
    assert meta["labels"] == {
        "openshift.io/deployer-pod-for.name": "web-1",
        "openshift.io/deployer-pod.type": "hook-pre",
    }
    assert meta["annotations"] == {"openshift.io/deployment.name": "web-1"}
    assert meta["ownerReferences"][0]["kind"] == "ReplicationController"
    (container,) = spec["containers"]
    assert container["name"] == "lifecycle"
    assert container["image"] == "registry/app:1"
    assert container["command"] == ["/bin/migrate", "--now"]
    assert container["workingDir"] == "/srv"
    assert container["imagePullPolicy"] == "Always"
    assert container["resources"] == {"limits": {"memory": "64Mi"}}
    assert container["env"] == [
        {"name": "A", "value": "base"},
        {"name": "B", "value": "hook"},
        {"name": "OPENSHIFT_DEPLOYMENT_NAME", "value": "web-1"},
        {"name": "OPENSHIFT_DEPLOYMENT_NAMESPACE", "value": NS},
    ]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert spec["volumes"] == [{"name": "data", "emptyDir": {}}]
    assert spec["restartPolicy"] == "OnFailure"  # Retry: the kubelet retries
    assert spec["serviceAccountName"] == "runner"
    assert spec["nodeSelector"] == {"disk": "ssd"}
    assert spec["imagePullSecrets"] == [{"name": "pull"}]
    assert spec["securityContext"] == {"runAsNonRoot": True}
    assert 0 < spec["activeDeadlineSeconds"] <= 600


def test_a_pod_of_the_hooks_name_made_by_someone_else_is_not_believed() -> None:
    kube, reconciler, clock = setup(make_dc(strategy=rolling(pre=hook())))
    kube.create_pod(NS, {"metadata": {"name": "web-1-hook-pre"},
                         "status": {"phase": "Succeeded"}})  # fmt: skip
    dc = step(kube, reconciler, clock, rounds=3)
    assert phase(kube, "web-1") == "Failed"
    assert kube.replicas(NS) == {"web-1": 0}
    assert (
        "was not created for this rollout"
        in rc_annotations(kube, "web-1")["openshift.io/deployment.status-reason"]
    )
    assert condition(dc, "Progressing")[1] == "ProgressDeadlineExceeded"


# --------------------------------------------------------------------------- policies


def test_an_aborting_hook_fails_the_rollout_and_the_last_complete_one_serves_again() -> None:
    kube, reconciler, clock = setup(make_dc(strategy=rolling(pre=hook("Abort"))))
    second_version(kube, reconciler, clock)
    step(kube, reconciler, clock, rounds=2)
    finish(kube, "web-2-hook-pre", "Failed", 3)
    dc = step(kube, reconciler, clock, rounds=3)
    assert phase(kube, "web-2") == "Failed"
    assert kube.replicas(NS) == {"web-1": 2, "web-2": 0}
    reason = rc_annotations(kube, "web-2")["openshift.io/deployment.status-reason"]
    assert reason.startswith("the pre hook failed: the hook pod web-2-hook-pre failed: exit code 3")
    assert reason.endswith(f"aborting rollout of {NS}/web-2")
    assert condition(dc, "Progressing") == (
        "False", "ProgressDeadlineExceeded", 'replication controller "web-2" has failed progressing'
    )  # fmt: skip
    assert [e["reason"] for e in kube.events if e["type"] == "Warning"] == [
        "FailedHook", "RolloutFailed"
    ]  # fmt: skip


def test_an_ignored_hook_failure_is_logged_and_the_rollout_completes() -> None:
    kube, reconciler, clock = setup(make_dc(strategy=rolling(post=hook("Ignore"))))
    for _ in range(10):
        step(kube, reconciler, clock)
        if (NS, "web-1-hook-post") in kube.pods and "status" not in kube.pods[
            (NS, "web-1-hook-post")
        ]:
            finish(kube, "web-1-hook-post", "Failed", 1)
    assert phase(kube, "web-1") == "Complete"
    assert rc_annotations(kube, "web-1")["apps.kbuild.io/hook-post"] == "Failed"
    warnings = [e for e in kube.events if e["reason"] == "FailedHook"]
    assert len(warnings) == 1
    assert "(ignore), continuing rollout" in warnings[0]["message"]


def test_a_hook_still_running_at_the_timeout_is_deleted_and_the_rollout_fails() -> None:
    strategy = recreate(timeoutSeconds=10, pre=hook())
    kube, reconciler, clock = setup(make_dc(strategy=strategy))
    step(kube, reconciler, clock, rounds=8)
    assert phase(kube, "web-1") == "Failed"
    assert (NS, "web-1-hook-pre") not in kube.pods


# --------------------------------------------------------------------------- tagImages


def tag_hook(to: dict[str, Any], policy: str = "Abort") -> dict[str, Any]:
    return {"failurePolicy": policy, "tagImages": [{"containerName": "app", "to": to}]}


def spec_tag(kube: DCFakeKube, namespace: str, stream: str, tag: str) -> tuple[str, str] | None:
    try:
        found: ImageStream = kube.image_streams.get(namespace, stream)
    except NotFound:
        return None
    ref = next((t for t in found.spec.tags if t.name == tag), None)
    if ref is None or ref.from_ is None:
        return None
    return ref.from_.kind, ref.from_.name


def test_tag_images_in_the_own_namespace_writes_the_spec_tag() -> None:
    strategy = rolling(post=tag_hook({"kind": "ImageStreamTag", "name": "web:deployed"}))
    kube, reconciler, clock = setup(make_dc(strategy=strategy))
    step(kube, reconciler, clock, rounds=8)
    assert phase(kube, "web-1") == "Complete"
    assert spec_tag(kube, NS, "web", "deployed") == ("DockerImage", "registry/app:1")
    log = rc_annotations(kube, "web-1")["apps.kbuild.io/rollout-log"]
    assert f'--> post: Tagged "registry/app:1" into {NS}/web:deployed' in log


@pytest.mark.parametrize("granted", [False, True])
def test_tag_images_in_another_namespace_needs_the_pods_identity_to_be_an_image_builder(
    granted: bool,
) -> None:
    to = {"kind": "ImageStreamTag", "name": "web:prod", "namespace": "prod"}
    grants = {("system:serviceaccount:app:default", "update", "prod")} if granted else set()
    kube, reconciler, clock = setup(make_dc(strategy=rolling(pre=tag_hook(to))), grants)
    step(kube, reconciler, clock, rounds=8)
    if granted:
        assert phase(kube, "web-1") == "Complete"
        assert spec_tag(kube, "prod", "web", "prod") == ("DockerImage", "registry/app:1")
        return
    assert phase(kube, "web-1") == "Failed"
    assert spec_tag(kube, "prod", "web", "prod") is None
    reason = rc_annotations(kube, "web-1")["openshift.io/deployment.status-reason"]
    assert "system:serviceaccount:app:default may not update imagestreams/layers" in reason
    assert "system:image-builder" in reason


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("strategy", "text"),
    [
        (rolling(pre={"failurePolicy": "Abort", "execNewPod": {"containerName": "app"}}),
         "spec.strategy.rollingParams.pre.execNewPod.command: a command is required"),
        (rolling(pre=hook(containerName="nope")),
         "spec.strategy.rollingParams.pre.execNewPod.containerName: no container 'nope'"),
        (recreate(mid={"execNewPod": EXEC}),
         "spec.strategy.recreateParams.mid.failurePolicy: must be Abort, Retry or Ignore"),
        (recreate(post=hook(volumes=["missing"])),
         "spec.strategy.recreateParams.post.execNewPod.volumes: no volume 'missing'"),
        (rolling(post={"failurePolicy": "Abort"}),
         "spec.strategy.rollingParams.post: exactly one of execNewPod or tagImages is required"),
        (rolling(post=tag_hook({"name": "no-tag"})),
         "spec.strategy.rollingParams.post.tagImages[0].to: must be an ImageStreamTag NAME:TAG"),
    ],
)  # fmt: skip
def test_unrunnable_hooks_are_refused_by_path(strategy: dict[str, Any], text: str) -> None:
    kube, reconciler, clock = setup(make_dc(strategy=strategy))
    dc = step(kube, reconciler, clock, rounds=2)
    assert kube.rcs == {}
    status, reason, message = condition(dc, "Progressing")
    assert (status, reason) == ("False", "InvalidDeploymentConfig")
    assert text in message


def test_stage_annotations_cover_every_stage() -> None:
    assert dchooks.hook_annotations() == [
        "apps.kbuild.io/hook-pre", "apps.kbuild.io/hook-pre-pod",
        "apps.kbuild.io/hook-mid", "apps.kbuild.io/hook-mid-pod",
        "apps.kbuild.io/hook-post", "apps.kbuild.io/hook-post-pod",
    ]  # fmt: skip
