"""Builds and BuildConfigs as the API server returns them, for the formatting tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from builder.api import Build, BuildConfig, parse_as

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
COMMIT = "b7b3c9f0d1e2a3b4c5d6e7f8091a2b3c4d5e6f70"

GIT_SOURCE: dict[str, Any] = {
    "type": "Git",
    "git": {"uri": "https://git.example.com/app.git", "ref": "main"},
    "contextDir": "web",
}
SOURCE_STRATEGY: dict[str, Any] = {
    "type": "Source",
    "sourceStrategy": {
        "from": {"kind": "ImageStreamTag", "name": "python:3.11", "namespace": "ci"}
    },
}
DOCKER_STRATEGY: dict[str, Any] = {
    "type": "Docker",
    "dockerStrategy": {"dockerfilePath": "build/Dockerfile", "noCache": True},
}


def build(
    name: str = "app-1",
    *,
    phase: str = "New",
    strategy: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    spec: dict[str, Any] | None = None,
    created: str = "2024-05-01T11:50:00Z",
) -> Build:
    data: dict[str, Any] = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {
            "name": name,
            "namespace": "dev",
            "uid": "uid-" + name,
            "creationTimestamp": created,
            "labels": {"buildconfig": "app", "openshift.io/build-config.name": "app"},
            "annotations": {
                "openshift.io/build-config.name": "app",
                "openshift.io/build.number": name.rsplit("-", 1)[-1],
            },
        },
        "spec": {
            "source": copy.deepcopy(GIT_SOURCE if source is None else source),
            "strategy": copy.deepcopy(SOURCE_STRATEGY if strategy is None else strategy),
            "output": {"to": {"kind": "ImageStreamTag", "name": "app:latest"}},
            "triggeredBy": [{"message": "Manually triggered"}],
            **(spec or {}),
        },
        "status": {"phase": phase, **(status or {})},
    }
    return parse_as(Build, data)


def build_config(
    name: str = "app",
    *,
    last_version: int = 0,
    strategy: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    spec: dict[str, Any] | None = None,
) -> BuildConfig:
    data: dict[str, Any] = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {
            "name": name,
            "namespace": "dev",
            "uid": "uid-bc",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": name},
        },
        "spec": {
            "source": copy.deepcopy(GIT_SOURCE if source is None else source),
            "strategy": copy.deepcopy(DOCKER_STRATEGY if strategy is None else strategy),
            "output": {"to": {"kind": "ImageStreamTag", "name": f"{name}:latest"}},
            **(spec or {}),
        },
        "status": {"lastVersion": last_version},
    }
    return parse_as(BuildConfig, data)
