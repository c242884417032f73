"""ImageStreams and BuildConfigs as the API server returns them, for the rule tests."""

from __future__ import annotations

from typing import Any

from builder.api import BuildConfig, ImageStream, parse_as

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
DIGEST_C = "sha256:" + "c" * 64


def event(digest: str, *, repo: str = "reg:5000/ns/app", generation: int = 1) -> dict[str, Any]:
    return {
        "created": "2026-01-01T00:00:00Z",
        "dockerImageReference": f"{repo}@{digest}",
        "image": digest,
        "generation": generation,
    }


def stream(
    *,
    name: str = "app",
    namespace: str = "ns",
    generation: int = 1,
    spec_tags: list[dict[str, Any]] | None = None,
    status_tags: list[dict[str, Any]] | None = None,
    annotations: dict[str, str] | None = None,
    repository: str = "",
) -> ImageStream:
    data: dict[str, Any] = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name, "namespace": namespace, "generation": generation},
        "spec": {"tags": spec_tags or []},
        "status": {"tags": status_tags or []},
    }
    if annotations:
        data["metadata"]["annotations"] = annotations
    if repository:
        data["status"]["dockerImageRepository"] = repository
    return parse_as(ImageStream, data)


def build_config(
    *,
    triggers: list[dict[str, Any]],
    strategy_from: dict[str, Any] | None = None,
    output: str = "app:latest",
    last_version: int = 0,
    trigger_status: list[dict[str, Any]] | None = None,
    docker: bool = False,
) -> BuildConfig:
    source_from = strategy_from or {"kind": "ImageStreamTag", "name": "python:3.11"}
    strategy: dict[str, Any] = (
        {"type": "Docker", "dockerStrategy": {"from": source_from}}
        if docker
        else {"type": "Source", "sourceStrategy": {"from": source_from}}
    )
    status: dict[str, Any] = {"lastVersion": last_version}
    if trigger_status is not None:
        status["imageChangeTriggers"] = trigger_status
    return parse_as(
        BuildConfig,
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "BuildConfig",
            "metadata": {"name": "app", "namespace": "ns", "uid": "u-1"},
            "spec": {
                "source": {"git": {"uri": "https://example.com/app.git"}},
                "strategy": strategy,
                "output": {"to": {"kind": "ImageStreamTag", "name": output}},
                "triggers": triggers,
            },
            "status": status,
        },
    )
