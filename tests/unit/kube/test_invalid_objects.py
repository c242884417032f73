"""One object the models refuse must not stop a list for every other tenant."""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import BuildConfig, ManifestError
from builder.kube.client import CustomResources
from builder.kube.resources import BUILD_CONFIGS


def _bc(name: str, memory: object = "1Gi") -> dict[str, Any]:
    return {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
        "metadata": {"name": name, "namespace": f"ns-{name}", "uid": f"uid-{name}",
                     "resourceVersion": "7"},
        "spec": {"source": {"git": {"uri": "https://git.test/a.git"}},
                 "strategy": {"dockerStrategy": {}},
                 "resources": {"limits": {"memory": memory}}},
    }  # fmt: skip


class FakeCustomObjects:
    """Answers a list of every namespace with ``items``, and a get with the second."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def call(self, method: str, path: str, *_: Any, **__: Any) -> dict[str, Any]:
        assert method == "GET"
        if path == "/apis/build.openshift.io/v1/buildconfigs":
            return {"items": self.items, "metadata": {"resourceVersion": "42"}}
        assert path == "/apis/build.openshift.io/v1/namespaces/ns-bad/buildconfigs/bad"
        return self.items[1]


def test_a_list_skips_and_reports_what_the_models_refuse() -> None:
    # "lots" passes the CRD schema (quantities accept any JSON) but not the model.
    api = FakeCustomObjects([_bc("good"), _bc("bad", memory="lots"), _bc("fine")])
    resources: CustomResources[BuildConfig] = CustomResources(api, BUILD_CONFIGS, BuildConfig)  # type: ignore[arg-type]
    reported: list[tuple[str, str]] = []
    resources.on_invalid = lambda raw, err: reported.append((raw["metadata"]["name"], str(err)))
    items, version = resources.list()
    assert [bc.metadata.name for bc in items] == ["good", "fine"]
    assert version == "42"
    assert len(reported) == 1
    assert reported[0][0] == "bad"
    assert "spec.resources.limits.memory" in reported[0][1]


def test_getting_the_invalid_object_itself_is_a_manifest_error() -> None:
    api = FakeCustomObjects([_bc("good"), _bc("bad", memory="lots")])
    resources: CustomResources[BuildConfig] = CustomResources(api, BUILD_CONFIGS, BuildConfig)  # type: ignore[arg-type]
    with pytest.raises(ManifestError):
        resources.get("ns-bad", "bad")
