"""Every user mistake ends in one clear line, a non-zero exit, and no image.

Each case names the output tag it would have pushed; after the failure the
registry must not have it (nothing half-pushed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from builder.registry import CredentialStore, RegistryClient
from tests.integration.pipeline.conftest import Images, KbuildRunner, git, make_repo
from tests.support.registry import RunningRegistry, free_port

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Env:
    images: Images
    registry: RunningRegistry
    refusing: RunningRegistry
    tmp: Path
    repo: Path


@dataclass(frozen=True)
class Case:
    name: str
    args: Callable[[Env], list[str]]
    reason: str
    detail: str


def failing_assemble(env: Env) -> list[str]:
    repo = make_repo(env.tmp, "python-hello", "failing")
    scripts = repo / ".s2i" / "bin"
    scripts.mkdir(parents=True)
    (scripts / "assemble").write_text("#!/bin/sh\necho 'assembling... oh no' >&2\nexit 1\n")
    (scripts / "assemble").chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "broken assemble")
    return [str(repo), "--builder", env.images.s2i_python]


def malformed_manifest(env: Env) -> list[str]:
    manifest = env.tmp / "bad.yaml"
    manifest.write_text(
        "apiVersion: build.openshift.io/v1\nkind: BuildConfig\nmetadata: {name: bad}\n"
        "spec:\n  strategy:\n    sourceStrategy:\n      frm: {kind: DockerImage, name: x}\n"
    )
    return ["-f", str(manifest)]


CASES = [
    Case(
        "unreachable git URL",
        lambda e: [f"http://127.0.0.1:{free_port()}/nothing.git", "--builder", e.images.s2i_python],
        "FetchSourceFailed",
        "server unreachable",
    ),
    Case(
        "missing ref",
        lambda e: [str(e.repo), "--ref", "no-such-branch", "--builder", e.images.s2i_python],
        "FetchSourceFailed",
        "ref 'no-such-branch' not found",
    ),
    Case(
        "contextDir escapes the checkout",
        lambda e: [str(e.repo), "--context-dir", "../..", "--builder", e.images.s2i_python],
        "InvalidContextDirectory",
        "..",
    ),
    Case(
        "builder image not found",
        lambda e: [str(e.repo), "--builder", f"{e.registry.host}/nope/missing:1"],
        "PullBuilderImageFailed",
        "nope/missing",
    ),
    Case("assemble exits 1", failing_assemble, "DockerBuildFailed", "assemble script failed"),
    Case(
        "registry refuses the push",
        lambda e: [str(e.repo), "--builder", e.images.s2i_python],
        "PushImageToRegistryFailed",
        "authentication required",
    ),
    Case(
        "malformed manifest",
        malformed_manifest,
        "CannotCreateBuildPodSpec",
        "spec.strategy.sourceStrategy.frm",
    ),
]


@pytest.fixture
def env(
    images: Images,
    registry: RunningRegistry,
    htpasswd_registry: RunningRegistry,
    tmp_path: Path,
    python_repo: Path,
) -> Env:
    return Env(images, registry, htpasswd_registry, tmp_path, python_repo)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_failure_is_one_clear_line_and_pushes_nothing(
    case: Case, env: Env, kbuild: KbuildRunner
) -> None:
    target_registry = env.refusing if case.reason == "PushImageToRegistryFailed" else env.registry
    out = f"{target_registry.host}/failures/{case.name.replace(' ', '-').lower()}:latest"
    ran = kbuild(
        "build", *case.args(env), "--to", out,
        "--insecure-registry", env.registry.host,
        "--insecure-registry", env.refusing.host,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr
    assert ran.stdout == ""
    assert ran.last_line.startswith(f"error: {case.reason}: "), ran.stderr
    assert case.detail.lower() in ran.last_line.lower(), ran.last_line
    assert "Traceback" not in ran.stderr
    user, password = env.refusing.credentials if target_registry is env.refusing else ("", "")
    client = RegistryClient(insecure={target_registry.host})
    if user:
        auth = json.dumps(
            {"auths": {target_registry.host: {"username": user, "password": password}}}
        )
        client = RegistryClient(
            credentials=CredentialStore.from_docker_config(auth, source="test"),
            insecure={target_registry.host},
        )
    assert not client.exists(out), f"{out} was pushed despite the failure"
