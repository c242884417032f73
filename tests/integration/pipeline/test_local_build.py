"""``kbuild build`` end to end: real git, real registry, real buildah, and the
built image run and asked a question."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from pathlib import Path

import pytest

from builder.registry import RegistryClient
from tests.integration.pipeline.conftest import Images, KbuildRunner, git, make_repo
from tests.support.images import ImageBuilder
from tests.support.registry import RunningRegistry
from tests.support.run_image import get_json, run_once, serving

pytestmark = pytest.mark.integration


def skopeo_digest(image: str) -> str:
    return subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{image}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def _layers(image: str, creds: tuple[str, str] | None = None) -> list[str]:
    login = ["--creds", f"{creds[0]}:{creds[1]}"] if creds else []
    out = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", *login, f"docker://{image}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    layers: list[str] = json.loads(out)["Layers"]
    return layers


def image_config(image: str) -> dict[str, object]:
    out = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--config", f"docker://{image}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    config: dict[str, object] = json.loads(out)["config"]
    return config


def test_s2i_build_of_a_git_repo_pushes_a_runnable_image(
    kbuild: KbuildRunner, images: Images, registry: RunningRegistry, python_repo: Path
) -> None:
    out = f"{registry.host}/it/hello:latest"
    ran = kbuild("build", str(python_repo), "--strategy", "source", "--builder", images.s2i_python,
                 "--to", out, "--insecure-registry", registry.host, check=True)  # fmt: skip
    digest = ran.stdout.strip()
    assert digest.startswith("sha256:"), ran.stderr
    assert "RUN /usr/libexec/s2i/assemble" in ran.stderr  # the log streamed through

    # The digest kbuild printed is the registry's, by two independent readers.
    assert skopeo_digest(out) == digest
    assert RegistryClient(insecure={registry.host}).resolve(out).digest == digest

    head = git(python_repo, "rev-parse", "HEAD")
    config = image_config(out)
    labels = config["Labels"]
    assert isinstance(labels, dict)
    assert labels["io.openshift.build.commit.id"] == head
    assert labels["io.openshift.build.commit.ref"] == "main"
    # The builder is pinned to the digest whose config was read.
    builder_digest = skopeo_digest(images.s2i_python)
    assert labels["io.openshift.build.image"] == f"{images.s2i_python}@{builder_digest}"
    assert config["User"] == "1001"
    assert "GREETING=hello from kbuild" in config["Env"]  # type: ignore[operator]

    with serving(f"{out}@{digest}", ["/usr/libexec/s2i/run"]) as url:
        answer = get_json(url)
    assert answer == {"message": "hello from kbuild", "build": "", "commit": head}


def test_docker_strategy_multistage_with_from_override_and_build_args(
    kbuild: KbuildRunner, images: Images, registry: RunningRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path, "docker-multistage")
    out = f"{registry.host}/it/multistage:1"
    ran = kbuild(
        "build", str(repo), "--strategy", "docker",
        "--from", images.s2i_python,
        "--build-arg", f"BASE={images.base}", "--build-arg", "VERSION=1.2.3",
        "-e", "STAGE_ENV=yes",
        "--to", out, "--insecure-registry", registry.host, check=True,
    )  # fmt: skip
    digest = ran.stdout.strip()
    assert skopeo_digest(out) == digest

    config = image_config(out)
    labels = config["Labels"]
    assert isinstance(labels, dict)
    assert labels["org.example.version"] == "1.2.3"  # build arg reached the final stage
    # The last FROM was replaced: the final image descends from the S2I builder.
    assert labels["io.openshift.tags"] == "builder,python,python3"
    assert labels["io.openshift.build.commit.id"] == git(repo, "rev-parse", "HEAD")
    assert "STAGE_ENV=yes" in config["Env"]  # type: ignore[operator]
    # The first stage kept its own FROM (the base via BASE) and ran with the arg.
    assert run_once(f"{out}@{digest}", ["cat", "/srv/version.txt"]) == "version=1.2.3"


def test_as_dockerfile_writes_a_context_buildah_can_build(
    kbuild: KbuildRunner,
    images: Images,
    registry: RunningRegistry,
    python_repo: Path,
    tmp_path: Path,
) -> None:
    target = tmp_path / "out" / "Dockerfile"
    kbuild(
        "build", str(python_repo), "--builder", images.s2i_python,
        "--insecure-registry", registry.host, "--as-dockerfile", str(target), check=True,
    )  # fmt: skip
    text = target.read_text()
    assert text.startswith(f"FROM {images.s2i_python}@{skopeo_digest(images.s2i_python)}\n")
    assert "COPY --chown=1001:0 upload/src /tmp/src" in text
    assert (target.parent / "upload" / "src" / "app.py").is_file()
    tag = f"{registry.host}/it/by-hand:1"
    subprocess.run(
        ["buildah", "bud", "--tls-verify=false", "-t", tag, "-f", str(target), str(target.parent)],
        check=True, capture_output=True,
    )  # fmt: skip


INCREMENTAL_ASSEMBLE = """#!/bin/bash
set -euo pipefail
if [ -f /tmp/artifacts/generation ]; then
  echo "---> restored generation $(cat /tmp/artifacts/generation)"
  n=$(( $(cat /tmp/artifacts/generation) + 1 ))
else
  echo "---> no artifacts"
  n=1
fi
echo "$n" > /opt/app-root/generation
exec /usr/libexec/s2i/assemble
"""

INCREMENTAL_SAVE = """#!/bin/bash
tar -C /opt/app-root -cf - generation
"""


def test_incremental_build_restores_artifacts_from_the_previous_image(
    kbuild: KbuildRunner, images: Images, registry: RunningRegistry, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path, "python-hello")
    scripts = repo / ".s2i" / "bin"
    scripts.mkdir(parents=True)
    (scripts / "assemble").write_text(INCREMENTAL_ASSEMBLE)
    (scripts / "save-artifacts").write_text(INCREMENTAL_SAVE)
    for script in scripts.iterdir():
        script.chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "incremental scripts")
    out = f"{registry.host}/it/incremental:latest"
    args = ("build", str(repo), "--builder", images.s2i_python, "--to", out,
            "--insecure-registry", registry.host, "--incremental")  # fmt: skip

    first = kbuild(*args, check=True)
    assert "no artifacts" in first.stderr
    assert "No previous image for an incremental build" in first.stderr
    second = kbuild(*args, check=True)
    assert "restored generation 1" in second.stderr
    assert run_once(f"{out}@{second.stdout.strip()}", ["cat", "/opt/app-root/generation"]) == "2"


def test_build_from_a_buildconfig_manifest(
    kbuild: KbuildRunner,
    images: Images,
    registry: RunningRegistry,
    python_repo: Path,
    tmp_path: Path,
) -> None:
    out = f"{registry.host}/it/from-manifest:v1"
    manifest = tmp_path / "bc.yaml"
    manifest.write_text(f"""\
apiVersion: build.openshift.io/v1
kind: BuildConfig
metadata:
  name: hello
spec:
  source:
    git:
      uri: {python_repo}
      ref: main
  strategy:
    type: Source
    sourceStrategy:
      from:
        kind: DockerImage
        name: {images.s2i_python}
      env:
      - name: GREETING
        value: from the manifest
  output:
    to:
      kind: DockerImage
      name: {out}
    imageLabels:
    - name: io.example.team
      value: platform
""")
    ran = kbuild("build", "-f", str(manifest), "--insecure-registry", registry.host, check=True)
    config = image_config(out)
    assert config["Labels"]["io.example.team"] == "platform"  # type: ignore[index]
    # Strategy env wins over .s2i/environment, as in OpenShift.
    assert "GREETING=from the manifest" in config["Env"]  # type: ignore[operator]
    assert skopeo_digest(out) == ran.stdout.strip()


@pytest.mark.parametrize(("policy", "new_layers"), [("None", 3), ("SkipLayers", 1), ("SkipLayersAndWarn", 1), ("", 3)])  # fmt: skip # noqa: E501
def test_image_optimization_policy_squashes_the_dockerfiles_layers(
    kbuild: KbuildRunner,
    images: Images,
    registry: RunningRegistry,
    tmp_path: Path,
    policy: str,
    new_layers: int,
) -> None:
    """None (the default) keeps a layer per instruction, as docker build; SkipLayers makes
    the Dockerfile's changes one layer; the base image's layers stay in both."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text(
        "FROM base\nCOPY a /a\nRUN echo one > /one\nRUN echo two > /two\nENV X=1\n"
    )
    (repo / "a").write_text("a\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "layers")
    out = f"{registry.host}/it/optimized:{policy.lower() or 'unset'}"
    manifest = tmp_path / "bc.yaml"
    manifest.write_text(f"""\
apiVersion: build.openshift.io/v1
kind: BuildConfig
metadata: {{name: optimized}}
spec:
  source: {{git: {{uri: {repo}, ref: main}}}}
  strategy:
    type: Docker
    dockerStrategy:
      from: {{kind: DockerImage, name: {images.base}}}
      {f"imageOptimizationPolicy: {policy}" if policy else "noCache: false"}
  output: {{to: {{kind: DockerImage, name: {out}}}}}
""")
    kbuild("build", "-f", str(manifest), "--insecure-registry", registry.host, check=True)
    client = RegistryClient(insecure={registry.host})
    base_layers = len(client.resolve(images.base).layers)
    built = client.resolve(out).layers
    assert len(built) == base_layers + new_layers
    config = image_config(out)
    assert "X=1" in config["Env"]  # type: ignore[operator]
    assert run_once(out, ["cat", "/a", "/one", "/two"]) == "a\none\ntwo"


def test_a_private_from_image_is_pulled_by_the_build_with_the_authfile(
    kbuild: KbuildRunner,
    registry: RunningRegistry,
    htpasswd_registry: RunningRegistry,
    image_builder: ImageBuilder,
    tmp_path: Path,
) -> None:
    """``kbuild build`` lets ``buildah bud`` pull what it starts from, with the same credentials.

    The base is new to this machine's storage (a fresh tag in a registry that
    wants a login): the build pulls it through the authfile it was given, with
    no ``buildah pull`` of its own first; without the authfile it is refused
    with the pull reason before anything runs.
    """
    user, password = htpasswd_registry.credentials
    base = f"{htpasswd_registry.host}/private/base:{secrets.token_hex(6)}"
    image_builder.build_and_push(
        base, creds=(user, password), files={"base.txt": b"private base\n"}, format="docker"
    )
    context = tmp_path / "app"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base}\nCOPY app.txt /app.txt\n")
    (context / "app.txt").write_text("app\n")
    authfile = tmp_path / "auth.json"
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    authfile.write_text(json.dumps({"auths": {htpasswd_registry.host: {"auth": pair}}}))
    out = f"{registry.host}/it/private-base:1"
    insecure = ("--insecure-registry", registry.host,
                "--insecure-registry", htpasswd_registry.host)  # fmt: skip

    refused = kbuild("build", str(context), "--strategy", "docker", "--to", out, *insecure)
    assert refused.returncode == 1
    assert refused.last_line.startswith("error: PullBuilderImageFailed: "), refused.stderr

    ran = kbuild("build", str(context), "--strategy", "docker", "--authfile", str(authfile),
                 "--to", out, *insecure, check=True)  # fmt: skip
    assert "Pulling image" not in ran.stderr  # no separate pull: buildah bud fetched it
    digest = ran.stdout.strip()
    assert skopeo_digest(out) == digest
    # The output is built on the private base: its layers, then one of the build's.
    base_layers = _layers(base, (user, password))
    assert _layers(out)[: len(base_layers)] == base_layers
