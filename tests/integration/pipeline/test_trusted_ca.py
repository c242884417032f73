"""The cluster's trusted CA bundle: buildah's push trusts it, and mountTrustedCA shows it to RUN.

A TLS registry whose certificate only the test's own CA signs is the
output; the bundle is given as the pod gives it (``KBUILD_TRUSTED_CA_FILE``,
the ConfigMap the controller's ``--trusted-ca-configmap`` names, mounted).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.pipeline.conftest import Images, git, make_repo
from tests.integration.pipeline.test_build_inputs import build_of
from tests.integration.pipeline.test_pod_steps import PodRun
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration


@pytest.fixture
def tls_registry(registry_factory: Callable[..., RunningRegistry]) -> RunningRegistry:
    return registry_factory(tls=True)


def _run(
    tmp_path: Path,
    images: Images,
    registry: RunningRegistry,
    tls_registry: RunningRegistry,
    *,
    bundle: bool,
    mount: bool,
) -> tuple[int, PodRun]:
    assert tls_registry.ca_cert is not None
    repo = make_repo(tmp_path, "python-hello")
    ca_line = tls_registry.ca_cert.read_text().splitlines()[1]
    (repo / "Dockerfile").write_text(
        f"FROM {images.base}\n"
        + (
            f"RUN grep -q '{ca_line}' /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem\n"
            if mount
            else ""
        )
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a Dockerfile")
    build = build_of(repo, {"dockerStrategy": {}}, f"{tls_registry.host}/it/ca:latest")
    if mount:
        build["spec"]["mountTrustedCA"] = True
    run = PodRun(tmp_path, build, registry)
    if bundle:
        run.env["KBUILD_TRUSTED_CA_FILE"] = str(tls_registry.ca_cert)
    code, _ = run.run_all()
    return code, run


def test_without_the_bundle_the_push_is_refused(
    tmp_path: Path, images: Images, registry: RunningRegistry, tls_registry: RunningRegistry
) -> None:
    code, run = _run(tmp_path, images, registry, tls_registry, bundle=False, mount=False)
    assert code != 0
    assert "certificate" in run.logs["sti-build"]


def test_with_the_bundle_the_push_trusts_it_and_run_steps_see_it(
    tmp_path: Path, images: Images, registry: RunningRegistry, tls_registry: RunningRegistry
) -> None:
    code, run = _run(tmp_path, images, registry, tls_registry, bundle=True, mount=True)
    assert code == 0, run.logs
    assert "mountTrustedCA: the RUN steps see the trusted CA bundle" in run.logs["build-image"]


def test_mount_trusted_ca_without_the_bundle_fails_naming_it(
    tmp_path: Path, images: Images, registry: RunningRegistry, tls_registry: RunningRegistry
) -> None:
    code, run = _run(tmp_path, images, registry, tls_registry, bundle=False, mount=True)
    assert code != 0
    # The first step already refuses it, before any source is fetched.
    assert list(run.logs) == ["git-clone"]
    assert "--trusted-ca-configmap" in run.logs["git-clone"]
