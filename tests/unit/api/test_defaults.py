"""OpenShift's defaulting of BuildConfigs, and the strategy rules it validates.

Each case is a manifest OpenShift accepts (after its API server's defaulting)
or refuses; kbuild has no admission step, so a refusal is a typed build
failure instead, never a silent choice of one of two strategies.
"""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import BuildConfig, BuildError, StatusReason, parse_as
from builder.pipeline.from_build import plan_from_spec
from builder.pipeline.plan import DockerStrategyPlan
from builder.streams.buildtriggers import trigger_source

GIT = {"git": {"uri": "https://git.test/app.git"}}


def _bc(strategy: dict[str, Any], source: dict[str, Any] | None = None) -> BuildConfig:
    return parse_as(BuildConfig, {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
        "metadata": {"name": "app", "namespace": "ns"},
        "spec": {"source": source or GIT, "strategy": strategy,
                 "triggers": [{"type": "ImageChange", "imageChange": {}}]},
    })  # fmt: skip


@pytest.mark.parametrize(
    "strategy",
    [
        {"type": "Source", "sourceStrategy": {"from": {"name": "python:3.11"}}},
        {"type": "Docker", "dockerStrategy": {"from": {"name": "python:3.11"}}},
    ],
)
def test_a_from_with_no_kind_is_an_image_stream_tag_and_is_watched(
    strategy: dict[str, Any],
) -> None:
    bc = _bc(strategy)
    source = trigger_source(bc, bc.spec.triggers[0].image_change)  # type: ignore[arg-type]
    assert source is not None
    assert (source.kind, source.name) == ("ImageStreamTag", "python:3.11")


def test_type_docker_alone_is_a_docker_build() -> None:
    plan = plan_from_spec(_bc({"type": "Docker"}).spec)
    assert isinstance(plan.strategy, DockerStrategyPlan)
    assert plan.strategy.dockerfile_path == "Dockerfile"


@pytest.mark.parametrize(
    ("policy", "layers"),
    [(None, True), ("None", True), ("SkipLayers", False), ("SkipLayersAndWarn", False)],
)
def test_image_optimization_policy_decides_a_layer_per_instruction(
    policy: str | None, layers: bool
) -> None:
    """OpenShift's default, None, is docker build's image; SkipLayers commits one layer."""
    docker: dict[str, Any] = {} if policy is None else {"imageOptimizationPolicy": policy}
    plan = plan_from_spec(_bc({"type": "Docker", "dockerStrategy": docker}).spec)
    assert isinstance(plan.strategy, DockerStrategyPlan)
    assert plan.strategy.layers is layers


def test_type_binary_alone_is_a_binary_build() -> None:
    bc = _bc({"type": "Docker"}, source={"type": "Binary"})
    assert bc.spec.source.binary is not None
    with pytest.raises(BuildError, match="this is a binary build"):
        plan_from_spec(bc.spec)


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (
            {"type": "Source", "dockerStrategy": {}},
            "spec.strategy.type is Source but spec.strategy sets dockerStrategy",
        ),
        (
            # OpenShift's defaulting adds dockerStrategy: {}, and then both are set.
            {"type": "Docker", "sourceStrategy": {"from": {"kind": "DockerImage", "name": "b"}}},
            "given: sourceStrategy, dockerStrategy",
        ),
        (
            {"sourceStrategy": {"from": {"kind": "DockerImage", "name": "b"}},
             "dockerStrategy": {}},
            "given: sourceStrategy, dockerStrategy",
        ),
        ({"type": "Source"}, "given: none"),
    ],
)  # fmt: skip
def test_a_strategy_that_disagrees_with_itself_is_refused(
    strategy: dict[str, Any], message: str
) -> None:
    with pytest.raises(BuildError) as err:
        plan_from_spec(_bc(strategy).spec)
    assert err.value.reason == StatusReason.CANNOT_CREATE_BUILD_POD_SPEC
    assert message in err.value.detail
