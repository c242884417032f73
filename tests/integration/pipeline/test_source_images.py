"""``source.images``: paths copied out of another image into the build, through the pod's steps.

Real git, buildah and registry: an "artifacts" image is pushed, then a
Docker and an S2I build copy a directory out of it (``destinationDir``
relative to the repository, as OpenShift's build directory) and their RUN
step / assemble checks the bytes; the pushed image holds what the build
copied.  The copy runs in build-image (no registry secret) under
``buildah unshare`` with the image mounted.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builder.registry import RegistryClient
from tests.integration.pipeline.conftest import Images, git, make_repo
from tests.integration.pipeline.test_build_inputs import build_of, scan, sha
from tests.integration.pipeline.test_pod_steps import PodRun
from tests.support.images import PushedImage
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

JAR = b"artifact built elsewhere\n"
NOTE = b"a note\n"


@pytest.fixture
def artifacts(push_image: Callable[..., PushedImage], unique_repo: str) -> PushedImage:
    return push_image(
        f"{unique_repo}-artifacts",
        files={"opt/app/lib/app.jar": JAR, "opt/app/lib/sub/note.txt": NOTE},
    )


def _image_source(artifacts: PushedImage, destination: str) -> dict[str, Any]:
    return {
        "from": {"kind": "DockerImage", "name": artifacts.reference},
        "paths": [{"sourcePath": "/opt/app/lib/.", "destinationDir": destination}],
    }


def test_docker_build_copies_a_directory_out_of_another_image(
    tmp_path: Path,
    images: Images,
    registry: RunningRegistry,
    unique_repo: str,
    artifacts: PushedImage,
) -> None:
    repo = make_repo(tmp_path, "python-hello")
    (repo / "Dockerfile").write_text(
        f"FROM {images.base}\n"
        "COPY deps/ /deps/\n"
        # A token of this run keeps buildah's layer cache (--layers) from
        # answering for the RUN step from an earlier run of this test.
        f'RUN echo {secrets.token_hex(8)} && echo "{sha(JAR)}  /deps/app.jar" | sha256sum -c -\n'
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a Dockerfile")
    output = f"{registry.host}/{unique_repo}:latest"
    build = build_of(
        repo, {"dockerStrategy": {}}, output, images=[_image_source(artifacts, "deps")]
    )
    run = PodRun(tmp_path, build, registry)
    code, _ = run.run_all()
    assert code == 0, run.logs
    assert f"Pulling the source image {artifacts.reference}" in run.logs["pull-images"]
    assert "Copied 3 entries" in run.logs["build-image"]
    assert "/deps/app.jar: OK" in run.logs["build-image"]
    layers = scan(RegistryClient(insecure={registry.host}), output)
    assert any(NOTE in data for data in layers.values())


def test_s2i_build_sees_the_copied_directory_below_its_context_dir(
    tmp_path: Path,
    images: Images,
    registry: RunningRegistry,
    unique_repo: str,
    artifacts: PushedImage,
) -> None:
    repo = make_repo(tmp_path, "python-hello")
    app = repo / "app"
    app.mkdir()
    for item in list(repo.iterdir()):
        if item.name not in (".git", "app"):
            item.rename(app / item.name)
    assemble = app / ".s2i" / "bin" / "assemble"
    assemble.parent.mkdir(parents=True, exist_ok=True)
    assemble.write_text(
        "#!/bin/sh\nset -e\n"
        f'echo "{sha(JAR)}  /tmp/src/vendor/app.jar" | sha256sum -c -\n'
        "exec /usr/libexec/s2i/assemble\n"
    )
    assemble.chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "under app/")
    output = f"{registry.host}/{unique_repo}:latest"
    strategy = {"sourceStrategy": {"from": {"kind": "DockerImage", "name": images.s2i_python}}}
    # destinationDir is relative to the repository (OpenShift's build dir), so
    # app/vendor is vendor/ in a build whose contextDir is app; elsewhere/ is
    # outside the context and said so.
    image = _image_source(artifacts, "app/vendor")
    image["paths"].append({"sourcePath": "/opt/app/lib", "destinationDir": "elsewhere"})
    build = build_of(repo, strategy, output, contextDir="app", images=[image])
    run = PodRun(tmp_path, build, registry)
    code, _ = run.run_all()
    assert code == 0, run.logs
    assert "/tmp/src/vendor/app.jar: OK" in run.logs["build-image"]
    assert "outside contextDir 'app': not part of the build" in run.logs["build-image"]


def test_a_missing_source_path_fails_with_fetch_image_content_failed(
    tmp_path: Path,
    images: Images,
    registry: RunningRegistry,
    unique_repo: str,
    artifacts: PushedImage,
) -> None:
    repo = make_repo(tmp_path, "python-hello")
    (repo / "Dockerfile").write_text(f"FROM {images.base}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a Dockerfile")
    image = _image_source(artifacts, "deps")
    image["paths"] = [{"sourcePath": "/no/such/dir", "destinationDir": "deps"}]
    build = build_of(
        repo, {"dockerStrategy": {}}, f"{registry.host}/{unique_repo}:latest", images=[image]
    )
    run = PodRun(tmp_path, build, registry)
    code, message = run.run_all()
    assert code != 0
    assert message["reason"] == "FetchImageContentFailed", message
    assert "'/no/such/dir' does not exist in the image" in message["detail"]
