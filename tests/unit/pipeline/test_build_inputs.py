"""plan_from_spec and the cluster's inputs: resolved in the pod, refused by reason locally."""

from __future__ import annotations

import io
from typing import Any

import pytest

from builder.api import BuildError, BuildSpec, parse_as
from builder.pipeline.from_build import plan_from_spec
from builder.pipeline.inputs import ClusterInputs
from builder.pipeline.pod import StepLog

BUILDER = "registry.test/s2i/python:3.11"


def spec(*, source: dict[str, Any] | None = None, **strategy: Any) -> BuildSpec:
    return parse_as(
        BuildSpec,
        {
            "source": source or {"git": {"uri": "https://git.test/app.git"}},
            "strategy": {
                "sourceStrategy": {"from": {"kind": "DockerImage", "name": BUILDER}, **strategy}
            },
        },
    )


SECRET_ENV = {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}
CM_ENV = {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}}
VOLUME = {
    "name": "creds",
    "source": {"type": "Secret", "secret": {"secretName": "creds"}},
    "mounts": [{"destinationPath": "/run/creds"}],
}
LOCAL_CASES = [
    (spec(env=[SECRET_ENV]), "UnresolvableEnvironmentVariable", "env 'TOKEN'"),
    (spec(env=[CM_ENV]), "UnresolvableEnvironmentVariable", "valueFrom.configMapKeyRef"),
    (
        spec(source={"git": {"uri": "u"}, "secrets": [{"secret": {"name": "sub"}}]}),
        "CannotCreateBuildPodSpec",
        "the Secret 'sub'",
    ),
    (
        spec(source={"git": {"uri": "u"}, "configMaps": [{"configMap": {"name": "c"}}]}),
        "CannotCreateBuildPodSpec",
        "the ConfigMap 'c'",
    ),
    (spec(volumes=[VOLUME]), "CannotCreateBuildPodSpec", "the build volume 'creds'"),
]


@pytest.mark.parametrize(("given", "reason", "fragment"), LOCAL_CASES)
def test_kbuild_build_refuses_what_only_the_cluster_has(
    given: BuildSpec, reason: str, fragment: str
) -> None:
    with pytest.raises(BuildError) as caught:
        plan_from_spec(given)
    assert caught.value.reason.value == reason
    assert fragment in caught.value.detail
    assert "`kbuild build` runs without one" in caught.value.detail
    # The controller's check (no values) and the pod accept it.
    plan_from_spec(given, cluster=ClusterInputs())


def test_the_pod_reads_value_from_variables_the_kubelet_set() -> None:
    given = spec(env=[{"name": "A", "value": "1"}, SECRET_ENV, CM_ENV])
    environ = {"KBUILD_VALUE_FROM_1": "s3cr3t", "KBUILD_VALUE_FROM_2": "fast"}
    plan = plan_from_spec(given, cluster=ClusterInputs(environ=environ))
    assert plan.strategy.env == (("A", "1"), ("TOKEN", "s3cr3t"), ("MODE", "fast"))


def test_an_unresolved_optional_reference_is_left_out_as_kubernetes_does() -> None:
    plan = plan_from_spec(spec(env=[SECRET_ENV]), cluster=ClusterInputs(environ={}))
    assert plan.strategy.env == ()


def test_build_arg_value_from_is_refused_not_ignored() -> None:
    given = parse_as(
        BuildSpec,
        {
            "source": {"git": {"uri": "u"}},
            "strategy": {"dockerStrategy": {"buildArgs": [SECRET_ENV]}},
        },
    )
    with pytest.raises(BuildError, match="OpenShift ignores for build arguments"):
        plan_from_spec(given, cluster=ClusterInputs())


def test_value_from_with_no_reference_is_refused() -> None:
    with pytest.raises(BuildError, match="names no secretKeyRef"):
        plan_from_spec(spec(env=[{"name": "X", "valueFrom": {}}]), cluster=ClusterInputs())


def test_inputs_and_volumes_reach_the_plan() -> None:
    given = spec(
        source={
            "git": {"uri": "u"},
            "secrets": [{"secret": {"name": "sub"}, "destinationDir": "./etc//pki/"}],
            "configMaps": [{"configMap": {"name": "c"}, "destinationDir": "/abs"}],
        },
        volumes=[VOLUME],
    )
    plan = plan_from_spec(given, cluster=ClusterInputs(mount_root="/tmp/x"))
    assert [(i.kind, i.name, i.destination_dir, i.mount_path) for i in plan.source.inputs] == [
        ("Secret", "sub", "etc/pki", "/tmp/x/var/run/secrets/openshift.io/build/sub"),
        ("ConfigMap", "c", "/abs", "/tmp/x/var/run/configs/openshift.io/build/c"),
    ]
    assert [(v.name, v.destinations, v.mount_path) for v in plan.strategy.volumes] == [
        ("creds", ("/run/creds",), "/tmp/x/var/run/openshift.io/volumes/creds")
    ]


def test_the_step_log_masks_secret_values_in_lines_and_the_snippet() -> None:
    """buildah prints ``ENV TOKEN="..."``: a secretKeyRef value never reaches the log."""
    out = io.StringIO()
    log = StepLog(out)
    log.mask(("s3cr3t-value", "line-one\nline-two", "ab"))
    log('STEP 2/5: ENV TOKEN="s3cr3t-value" MULTI="line-one\\nline-two"')
    log("line-two alone")
    assert "s3cr3t" not in out.getvalue()
    assert "line-one" not in out.getvalue()
    assert "line-two" not in out.getvalue()
    assert "line-" not in "\n".join(log.tail)


def test_output_image_labels_reach_the_plan_in_order() -> None:
    """OpenShift's output.imageLabels: the last of a name wins when the Dockerfile is written."""
    given = parse_as(
        BuildSpec,
        {
            "source": {"git": {"uri": "u"}},
            "strategy": {"dockerStrategy": {}},
            "output": {"imageLabels": [{"name": "a", "value": "1"}, {"name": "b"}]},
        },
    )
    assert plan_from_spec(given).image_labels == (("a", "1"), ("b", ""))
