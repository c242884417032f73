"""Binary build input through a real registry: upload, then the fetch step."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.api import BuildError
from builder.pipeline import BuildPlan, DockerStrategyPlan, SourcePlan, StageRecorder, Workspace
from builder.pipeline.binary_source import InputKind, pack, upload
from builder.pipeline.fetch import fetch
from builder.pipeline.plan import BinaryInput
from builder.registry import RegistryClient
from tests.integration.pipeline.conftest import git, make_repo
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration


def fetched(
    registry: RunningRegistry, artifact: str, tmp: Path, as_file: str | None = None
) -> Path:
    plan = BuildPlan(
        source=SourcePlan(binary=BinaryInput(artifact=artifact, as_file=as_file)),
        strategy=DockerStrategyPlan(),
    )
    ws = Workspace(tmp / "ws")
    fetch(plan, ws, lambda _line: None, StageRecorder(), RegistryClient(insecure={registry.host}))
    return ws.source


def test_directory_round_trips(registry: RunningRegistry, tmp_path: Path) -> None:
    src = tmp_path / "app"
    (src / "sub").mkdir(parents=True)
    (src / "app.py").write_text("print('hi')\n")
    (src / "sub" / "data.txt").write_text("data\n")
    client = RegistryClient(insecure={registry.host})
    artifact = upload(
        client, f"{registry.host}/ns/app-binary-source", pack(src, InputKind.DIRECTORY)
    )
    assert artifact.startswith(f"{registry.host}/ns/app-binary-source@sha256:")
    # Content-addressed: the same input uploads to the same digest.
    again = upload(client, f"{registry.host}/ns/app-binary-source", pack(src, InputKind.DIRECTORY))
    assert again == artifact
    source = fetched(registry, artifact, tmp_path)
    assert (source / "app.py").read_text() == "print('hi')\n"
    assert (source / "sub" / "data.txt").read_text() == "data\n"


def test_single_file_lands_under_its_name(registry: RunningRegistry, tmp_path: Path) -> None:
    jar = tmp_path / "app.jar"
    jar.write_bytes(b"PK\x03\x04 not really a jar")
    client = RegistryClient(insecure={registry.host})
    artifact = upload(client, f"{registry.host}/ns/jar-binary-source", pack(jar, InputKind.FILE))
    source = fetched(registry, artifact, tmp_path)
    assert (source / "app.jar").read_bytes() == jar.read_bytes()


def test_from_repo_takes_the_last_commit_only(registry: RunningRegistry, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "python-hello")
    (repo / "uncommitted.txt").write_text("not in the build\n")
    client = RegistryClient(insecure={registry.host})
    artifact = upload(
        client, f"{registry.host}/ns/repo-binary-source", pack(repo, InputKind.REPOSITORY)
    )
    source = fetched(registry, artifact, tmp_path)
    assert (source / "app.py").is_file()
    assert not (source / "uncommitted.txt").exists()
    assert git(source, "rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")


def test_a_missing_artifact_is_a_fetch_failure(registry: RunningRegistry, tmp_path: Path) -> None:
    with pytest.raises(BuildError) as caught:
        fetched(registry, f"{registry.host}/ns/none@sha256:" + "0" * 64, tmp_path)
    assert caught.value.reason.value == "FetchSourceFailed"
