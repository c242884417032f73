"""BuildConfigs with names of 63+ characters: the Builds they label are the Builds they find."""

from __future__ import annotations

import pytest

from builder.api import BuildConfig, BuildPhase, parse_as
from builder.api.constants import BUILD_CONFIG_LABEL
from builder.api.labels import build_config_selector, label_value
from builder.rules.instantiate import BuildOptions, new_build

from .tenancy_fake import FakeKube
from .test_tenancy import reconciler

NAMES = [
    "short",
    "a" * 63,
    "a" * 62 + "-tail-of-a-long-name",  # the 63rd character is "-": cut, then trimmed
    "b" * 61 + "._" + "c" * 10,
    "d" * 200,
]


def _config(name: str) -> BuildConfig:
    return parse_as(BuildConfig, {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
        "metadata": {"name": name, "namespace": "tenant", "uid": "bc-uid"},
        "spec": {"runPolicy": "Serial",
                 "source": {"git": {"uri": "https://git.test/app.git"}},
                 "strategy": {"type": "Docker", "dockerStrategy": {}},
                 "output": {}},
    })  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_label_values_are_valid_and_selected_the_same_way(name: str) -> None:
    value = label_value(name)
    assert len(value) <= 63
    assert value[-1].isalnum()
    assert build_config_selector(name) == f"{BUILD_CONFIG_LABEL}={value}"


@pytest.mark.parametrize("name", NAMES)
def test_serial_policy_sees_the_running_sibling_of_a_long_named_config(name: str) -> None:
    kube = FakeKube()
    bc = _config(name)
    first = new_build(bc, 1, BuildOptions())
    first.status.phase = BuildPhase.RUNNING
    kube.builds.create(first)
    second = new_build(bc, 2, BuildOptions())
    kube.builds.create(second)
    r = reconciler(kube)
    siblings = r._siblings(kube.builds.get("tenant", second.metadata.name))
    assert [b.metadata.name for b in siblings] == [first.metadata.name]
