"""A build's own inputs through the pod's five steps: real git, buildah and registry.

Source secrets and configMaps, a build volume and env valueFrom, laid out as
the kubelet lays out Secret and ConfigMap volumes (keys as links into a
``..data`` directory) under ``KBUILD_INPUTS_ROOT``, and the value the
kubelet would resolve in ``KBUILD_VALUE_FROM_<i>``.  The build reads each
(its assemble or RUN step checks a hash, never printing the value), then
every layer of the pushed image, its config and every step's log are
searched for the secret's bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from pathlib import Path
from typing import Any

import pytest

from builder.registry import RegistryClient
from tests.integration.pipeline.conftest import Images, git, make_repo
from tests.integration.pipeline.test_pod_steps import PodRun
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration


def kubelet_volume(root: Path, path: str, files: dict[str, bytes]) -> None:
    """A Secret/ConfigMap volume as the kubelet writes it (atomic writer layout)."""
    mount = root / path.lstrip("/")
    data = mount / "..2026_12_02_00_00_00.000000001"
    data.mkdir(parents=True)
    for key, value in files.items():
        (data / key).write_bytes(value)
        (data / key).chmod(0o444)
    (mount / "..data").symlink_to(data.name)
    for key in files:
        (mount / key).symlink_to(f"..data/{key}")


def sha(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def scan(registry: RegistryClient, reference: str) -> dict[str, bytes]:
    """The image's config and every layer, uncompressed."""
    manifest = registry.resolve(reference)
    places = {"config": registry.blob(reference, manifest.config.digest, 64 << 20)}
    for layer in manifest.layers:
        blob = registry.blob(reference, layer.digest, 1 << 30)
        places[layer.digest] = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    return places


def leaks(places: dict[str, bytes], needles: list[bytes]) -> list[tuple[str, bytes]]:
    return [(where, n[:6]) for where, data in places.items() for n in needles if n in data]


def build_of(repo: Path, strategy: dict[str, Any], output: str, **source: Any) -> dict[str, Any]:
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "inputs-1", "namespace": "it", "uid": "u-1"},
        "spec": {
            "source": {"git": {"uri": str(repo), "ref": "main"}, **source},
            "strategy": strategy,
            "output": {"to": {"kind": "DockerImage", "name": output}},
        },
    }


def test_s2i_assemble_reads_a_source_secret_a_configmap_and_a_volume_none_reach_a_layer(
    tmp_path: Path, images: Images, registry: RunningRegistry, unique_repo: str
) -> None:
    secret = f"source-secret-{secrets.token_hex(12)}".encode()
    volume_secret = f"volume-secret-{secrets.token_hex(12)}".encode()
    setting = b"setting-value"
    inputs = tmp_path / "mounts"
    kubelet_volume(inputs, "/var/run/secrets/openshift.io/build/subscription", {"token": secret})
    kubelet_volume(inputs, "/var/run/configs/openshift.io/build/settings", {"mode": setting})
    kubelet_volume(inputs, "/var/run/openshift.io/volumes/creds", {"password": volume_secret})

    repo = make_repo(tmp_path, "python-hello")
    assemble = repo / ".s2i" / "bin" / "assemble"
    assemble.parent.mkdir(parents=True, exist_ok=True)
    # Relative paths: destinationDir is relative to the builder's WORKDIR.
    assemble.write_text(
        "#!/bin/sh\nset -e\n"
        f'echo "{sha(secret)}  etc/pki/token" | sha256sum -c -\n'
        f'echo "{sha(setting)}  settings/mode" | sha256sum -c -\n'
        f'echo "{sha(volume_secret)}  /run/creds/password" | sha256sum -c -\n'
        'test "$API_TOKEN" = "$(cat etc/pki/token)"\n'
        "exec /usr/libexec/s2i/assemble\n"
    )
    assemble.chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "assemble reads the inputs")

    output = f"{registry.host}/{unique_repo}:latest"
    strategy = {
        "sourceStrategy": {
            "from": {"kind": "DockerImage", "name": images.s2i_python},
            "env": [
                {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
            ],
            "volumes": [
                {
                    "name": "creds",
                    "source": {"type": "Secret", "secret": {"secretName": "creds"}},
                    "mounts": [{"destinationPath": "/run/creds"}],
                }
            ],
        }
    }
    build = build_of(
        repo,
        strategy,
        output,
        secrets=[{"secret": {"name": "subscription"}, "destinationDir": "etc/pki"}],
        configMaps=[{"configMap": {"name": "settings"}, "destinationDir": "settings"}],
    )
    run = PodRun(tmp_path, build, registry)
    run.env["KBUILD_INPUTS_ROOT"] = str(inputs)
    # What the kubelet resolves for pull-images (it renders the ENV lines).
    run.env["KBUILD_VALUE_FROM_0"] = secret.decode()
    code, _ = run.run_all()
    assert code == 0, run.logs
    assert "etc/pki/token: OK" in run.logs["build-image"]
    assert "/run/creds/password: OK" in run.logs["build-image"]

    places = scan(RegistryClient(insecure={registry.host}), output)
    layers = {k: v for k, v in places.items() if k != "config"}
    assert leaks(layers, [secret, setting, volume_secret]) == []
    # env valueFrom ends in the image config as OpenShift's build env does
    # (docs: not for secrets that must stay out of the image).
    assert leaks({"config": places["config"]}, [volume_secret, setting]) == []
    logs = {f"log {name}": text.encode() for name, text in run.logs.items()}
    assert leaks(logs, [secret, setting, volume_secret]) == []


def test_docker_run_reads_a_build_volume_and_the_source_secret_copied_into_the_context(
    tmp_path: Path, images: Images, registry: RunningRegistry, unique_repo: str
) -> None:
    secret = f"source-secret-{secrets.token_hex(12)}".encode()
    volume_secret = f"volume-secret-{secrets.token_hex(12)}".encode()
    inputs = tmp_path / "mounts"
    kubelet_volume(inputs, "/var/run/secrets/openshift.io/build/subscription", {"token": secret})
    kubelet_volume(inputs, "/var/run/openshift.io/volumes/creds", {"password": volume_secret})

    repo = make_repo(tmp_path, "python-hello")
    # OpenShift's documented pattern: the secret is in the context; only a
    # stage that is not the output copies it.
    (repo / "Dockerfile").write_text(
        f"FROM {images.base} AS use\n"
        "COPY pki/token /token\n"
        f'RUN echo "{sha(secret)}  /token" | sha256sum -c - && touch /checked\n'
        f"FROM {images.base}\n"
        "COPY --from=use /checked /checked\n"
        f'RUN echo "{sha(volume_secret)}  /run/creds/password" | sha256sum -c -\n'
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a Dockerfile")

    output = f"{registry.host}/{unique_repo}:latest"
    strategy = {
        "dockerStrategy": {
            "volumes": [
                {
                    "name": "creds",
                    "source": {"type": "Secret", "secret": {"secretName": "creds"}},
                    "mounts": [{"destinationPath": "/run/creds"}],
                }
            ]
        }
    }
    build = build_of(
        repo,
        strategy,
        output,
        secrets=[{"secret": {"name": "subscription"}, "destinationDir": "pki"}],
    )
    run = PodRun(tmp_path, build, registry)
    run.env["KBUILD_INPUTS_ROOT"] = str(inputs)
    code, _ = run.run_all()
    assert code == 0, run.logs
    assert "/token: OK" in run.logs["build-image"]
    assert "/run/creds/password: OK" in run.logs["build-image"]
    assert (
        "Copied the Secret 'subscription' (1 files) into the context at pki"
        in (run.logs["build-image"])
    )
    places = scan(RegistryClient(insecure={registry.host}), output)
    assert leaks(places, [secret, volume_secret]) == []
    logs = {f"log {name}": text.encode() for name, text in run.logs.items()}
    assert leaks(logs, [secret, volume_secret]) == []
