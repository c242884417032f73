"""Templates against a real API server: the CRD, ``kbuild process`` and ``new-app --template``.

The template is origin's httpd quickstart verbatim (tests/data/templates).
It is stored as a legacy ``apiVersion: v1`` Template through ``kbuild
apply``, processed by name, and its objects applied; the Route (a kind this
cluster does not serve) is refused by name while the Service, ImageStream,
BuildConfig and DeploymentConfig (kbuild ships its CRD) are created.  ``new-app
--template`` finds a template in ``openshift`` when the namespace has none.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.conftest import REPO_ROOT, Kubectl, create_namespace
from tests.cluster.test_cli_verbs import Kbuild, get

pytestmark = pytest.mark.cluster

RUN_ID = secrets.token_hex(4)
HTTPD = REPO_ROOT / "tests" / "data" / "templates" / "httpd.json"
FALLBACK = "openshift"


@pytest.fixture(scope="module")
def template_namespace(kubectl: Kubectl) -> Iterator[str]:
    kubectl("apply", "-f", str(REPO_ROOT / "crds"))
    for crd in (
        "buildconfigs.build.openshift.io",
        "imagestreams.image.openshift.io",
        "templates.template.openshift.io",
    ):
        kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
    prefix = os.environ.get("KBUILD_TEST_NS_PREFIX", "kbuild-tpl")
    name = f"{prefix}-{RUN_ID}"
    create_namespace(kubectl, name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def _template_file(tmp_path: Path, name: str) -> Path:
    """Origin's file with its name made unique (Python's JSON keeps the last duplicate key)."""
    doc = json.loads(HTTPD.read_text())
    doc["metadata"]["name"] = name
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    return path


def test_process_a_stored_legacy_template_and_apply_its_objects(
    kubeconfig: Path, kubectl: Kubectl, template_namespace: str, tmp_path: Path
) -> None:
    kbuild = Kbuild(kubeconfig, template_namespace)
    name = f"httpd-{RUN_ID}"
    stored = kbuild("apply", "-f", str(_template_file(tmp_path, name)))
    assert stored.out == f"template.template.openshift.io/{name} created\n", stored.err
    template = get(kubectl, template_namespace, "template.template.openshift.io", name)
    assert template["apiVersion"] == "template.openshift.io/v1"
    assert len(template["objects"]) == 5
    # kept as given: the CRD preserves the objects unpruned
    github = template["objects"][3]["spec"]["triggers"][2]["github"]
    assert github == {"secret": "${GITHUB_WEBHOOK_SECRET}"}

    listed = kbuild("process", name, "-p", "NAME=web", "-l", "run=t")
    assert listed.code == 0, listed.err
    items = json.loads(listed.out)["items"]
    assert [i["kind"] for i in items] == [
        "Service",
        "Route",
        "ImageStream",
        "BuildConfig",
        "DeploymentConfig",
    ]
    applied = subprocess.run(
        Kbuild(kubeconfig, template_namespace).argv("apply", "-f", "-"),
        input=listed.out,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in applied.stderr, applied.stderr
    assert applied.returncode == 1  # the Route
    assert applied.stdout.splitlines() == [
        "service/web created",
        "imagestream.image.openshift.io/web created",
        "buildconfig.build.openshift.io/web created",
        "deploymentconfig.apps.openshift.io/web created",
    ], applied.stderr
    assert "Route 'web': this cluster does not serve route.openshift.io/v1" in applied.stderr
    dc = get(kubectl, template_namespace, "deploymentconfig.apps.openshift.io", "web")
    assert dc["metadata"]["labels"] == {"template": "httpd-example", "run": "t"}
    bc = get(kubectl, template_namespace, "buildconfig.build.openshift.io", "web")
    assert bc["metadata"]["labels"] == {"template": "httpd-example", "run": "t"}
    secret = bc["spec"]["triggers"][2]["github"]["secret"]
    assert len(secret) == 40 and secret.isalnum()
    assert bc["spec"]["strategy"]["sourceStrategy"]["from"] == {
        "kind": "ImageStreamTag",
        "namespace": "openshift",
        "name": "httpd:2.4",
    }
    service = get(kubectl, template_namespace, "service", "web")
    assert service["spec"]["selector"] == {"name": "web"}


def test_new_app_finds_a_template_in_openshift(
    kubeconfig: Path, kubectl: Kubectl, template_namespace: str, tmp_path: Path
) -> None:
    name = f"httpd-shared-{RUN_ID}"
    if kubectl("get", "namespace", FALLBACK, check=False).returncode != 0:
        kubectl("create", "namespace", FALLBACK, check=False)
    try:
        shared = Kbuild(kubeconfig, FALLBACK)
        stored = shared("apply", "-f", str(_template_file(tmp_path, name)))
        assert stored.code == 0, stored.err
        kbuild = Kbuild(kubeconfig, template_namespace)
        made = kbuild("new-app", "--template", name, "-p", "NAME=shared")
        assert made.code == 1  # Route is not served here
        assert made.out.startswith(
            f'--> Deploying template "openshift/{name}" to project {template_namespace}\n'
        ), made.out
        assert '    buildconfig.build.openshift.io "shared" created\n' in made.out
        assert "# generated" in made.out
        assert get(kubectl, template_namespace, "imagestream.image.openshift.io", "shared")
        missing = kbuild("process", f"{template_namespace}//{name}")
        assert missing.code == 1
        assert f'template "{name}" not found in namespace "{template_namespace}"' in missing.err
    finally:
        kubectl("-n", FALLBACK, "delete", "template.template.openshift.io", name, check=False)


def test_process_without_the_crd_reads_files_only(kubeconfig: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "builder.cli.main", "process", "-f", str(HTTPD), "--local"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "KUBECONFIG": "/nonexistent"},
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["items"]) == 5
    del kubeconfig


CATALOG = REPO_ROOT / "images" / "catalog" / "openshift-imagestreams.yaml"


def _repo(tmp_path: Path, name: str, files: dict[str, str]) -> str:
    src = tmp_path / name
    src.mkdir()
    for path, text in files.items():
        (src / path).write_text(text)
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "app"],
    ):
        subprocess.run(["git", "-C", str(src), *args], check=True, capture_output=True)
    return f"file://{src}"


def test_catalog_install_and_new_app_repo_detection(
    kubeconfig: Path, kubectl: Kubectl, template_namespace: str, tmp_path: Path
) -> None:
    """The catalog goes in with one pipeline; new-app REPO picks the stream that supports it."""
    kbuild = Kbuild(kubeconfig, template_namespace)
    listed = kbuild("process", "-f", str(CATALOG), "-p", "REGISTRY=registry.invalid:5000")
    assert listed.code == 0, listed.err
    installed = subprocess.run(
        kbuild.argv("apply", "-f", "-"),
        input=listed.out,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert installed.stdout.splitlines() == [
        "imagestream.image.openshift.io/python created",
        "imagestream.image.openshift.io/nodejs created",
        "role.rbac.authorization.k8s.io/shared-resource-viewer created",
        "rolebinding.rbac.authorization.k8s.io/shared-resource-viewers created",
    ], installed.stderr
    # Every namespace may build from the catalog, as from OpenShift's `openshift` namespace.
    for verb, resource, subresource, answer in (
        ("get", "imagestreams.image.openshift.io", "layers", "yes"),
        ("get", "templates.template.openshift.io", "", "yes"),
        ("update", "imagestreams.image.openshift.io", "", "no"),
    ):
        can = kubectl(
            "auth", "can-i", verb, resource, f"--subresource={subresource}",
            "-n", template_namespace,
            "--as", "system:serviceaccount:elsewhere:builder",
            "--as-group", "system:authenticated", "--as-group", "system:serviceaccounts",
            check=False,
        )  # fmt: skip
        assert can.stdout.strip() == answer, (verb, resource, can.stderr)
    nodejs = get(kubectl, template_namespace, "imagestream.image.openshift.io", "nodejs")
    assert nodejs["spec"]["tags"][0]["annotations"]["supports"] == "nodejs:18,nodejs"
    assert nodejs["spec"]["tags"][0]["importPolicy"] == {"scheduled": True, "insecure": False}

    cases = {
        "node-app": ({"package.json": "{}", "server.js": ""}, "nodejs:18"),
        "py-app": ({"requirements.txt": "flask\n", "app.py": ""}, "python:3.11"),
    }
    for name, (files, stream_tag) in cases.items():
        made = kbuild("new-app", _repo(tmp_path, name, files), "-o", "json")
        assert made.code == 0, made.err
        bc = next(o for o in json.loads(made.out)["items"] if o["kind"] == "BuildConfig")
        assert bc["spec"]["strategy"]["sourceStrategy"]["from"] == {
            "kind": "ImageStreamTag",
            "name": stream_tag,
            "namespace": template_namespace,
        }
    docker = kbuild(
        "new-app", _repo(tmp_path, "docker-app", {"Dockerfile": "FROM scratch\n"}), "-o", "json"
    )
    assert docker.code == 0, docker.err
    bc = next(o for o in json.loads(docker.out)["items"] if o["kind"] == "BuildConfig")
    assert bc["spec"]["strategy"] == {"type": "Docker", "dockerStrategy": {}}
    unknown = kbuild("new-app", _repo(tmp_path, "ruby-app", {"Gemfile": ""}), "-o", "json")
    assert unknown.code == 1
    assert "looks like ruby, but no image stream" in unknown.err


def test_new_app_image_deploys_a_stream_tag_without_a_build(
    kubeconfig: Path, kubectl: Kubectl, template_namespace: str
) -> None:
    kbuild = Kbuild(kubeconfig, template_namespace)
    kubectl.apply(
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": "web"},
            "spec": {
                "tags": [{"name": "1", "from": {"kind": "DockerImage", "name": "x.invalid/web:1"}}]
            },
        },
        template_namespace,
    )
    made = kbuild("new-app", "web:1", "--name", "front")
    assert made.code == 0, made.err
    assert '    deployment.apps "front" created\n' in made.out
    assert '    service "front" created\n' in made.out
    deployment = get(kubectl, template_namespace, "deployment", "front")
    triggers = json.loads(deployment["metadata"]["annotations"]["image.openshift.io/triggers"])
    assert triggers[0]["from"] == {
        "kind": "ImageStreamTag",
        "name": "web:1",
        "namespace": template_namespace,
    }
    assert not kubectl(
        "-n", template_namespace, "get", "buildconfig.build.openshift.io", "front", check=False
    ).stdout
    refused = kbuild("new-build", "web:1")
    assert refused.code == 1
    assert "new-build needs source" in refused.err
