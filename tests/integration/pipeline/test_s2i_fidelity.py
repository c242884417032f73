"""S2I as source-to-image does it, with real git, buildah and registry.

What only a real buildah can show: that ``$`` in env values and labels
reaches the image as written (s2i escapes it; buildah expands ENV and LABEL
values otherwise), and that ``.s2iignore`` keeps files out of the image, not
only out of a Dockerfile.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.pipeline.conftest import Images, KbuildRunner, git
from tests.support.registry import RunningRegistry
from tests.support.run_image import run_once

pytestmark = pytest.mark.integration


def image_config(image: str) -> dict[str, object]:
    out = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--config", f"docker://{image}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    config: dict[str, object] = json.loads(out)["config"]
    return config


def test_dollar_values_stay_literal_and_s2iignore_keeps_files_out_of_the_image(
    kbuild: KbuildRunner, images: Images, registry: RunningRegistry, python_repo: Path
) -> None:
    (python_repo / "local-secret.txt").write_text("not for the image\n")
    (python_repo / "notes").mkdir()
    (python_repo / "notes" / "draft.md").write_text("draft\n")
    (python_repo / ".s2iignore").write_text("# kept out of the image\nlocal-secret.txt\nnotes\n")
    git(python_repo, "add", "-A")
    git(python_repo, "commit", "-qm", "ignore some files")
    out = f"{registry.host}/it/fidelity:1"
    ran = kbuild(
        "build", str(python_repo), "--builder", images.s2i_python, "--to", out,
        "-e", "PASSWORD=pa$$w0rd", "-e", "FROM_PATH=$PATH:/x", "--label", "note=costs $5",
        "--insecure-registry", registry.host, check=True,
    )  # fmt: skip
    digest = ran.stdout.strip()
    assert "Removed 2 paths listed in .s2iignore: local-secret.txt, notes" in ran.stderr

    config = image_config(out)
    env = config["Env"]
    assert isinstance(env, list)
    assert "PASSWORD=pa$$w0rd" in env
    assert "FROM_PATH=$PATH:/x" in env
    labels = config["Labels"]
    assert isinstance(labels, dict)
    assert labels["note"] == "costs $5"
    assert labels["io.openshift.build.image"].startswith(images.s2i_python + "@sha256:")
    assert "io.openshift.s2i.build.image" not in labels

    listing = run_once(f"{out}@{digest}", ["sh", "-c", "ls -A /opt/app-root/src /tmp/src"])
    assert "app.py" in listing
    assert "local-secret.txt" not in listing
    assert "notes" not in listing


def test_as_dockerfile_directory_writes_dir_dockerfile(
    kbuild: KbuildRunner, images: Images, registry: RunningRegistry, python_repo: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    target = tmp_path / "generated"
    ran = kbuild(
        "build", str(python_repo), "--builder", images.s2i_python,
        "--insecure-registry", registry.host, "--as-dockerfile", f"{target}/",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    assert (target / "Dockerfile").read_text().startswith(f"FROM {images.s2i_python}@")
    assert (target / "upload" / "src" / "app.py").is_file()


def test_a_file_scripts_url_is_refused_before_anything_runs(
    kbuild: KbuildRunner, images: Images, python_repo: Path, tmp_path: Path
) -> None:
    ran = kbuild(
        "build", str(python_repo), "--builder", images.s2i_python, "--to", "localhost/x:1",
        "--scripts-url", f"file://{tmp_path}",
    )  # fmt: skip
    assert ran.returncode == 1
    assert ran.last_line.startswith("error: ManageDockerfileFailed: --scripts-url 'file://")
    assert "Traceback" not in ran.stderr
