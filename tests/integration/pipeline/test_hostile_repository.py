"""A hostile repository against the build pod's steps: the secrets stay out of everything.

Real git, real buildah, real registries.  The steps run as the pod's
containers do (``kbuild pipeline fetch|prepare|build``, one process each,
one workspace), with a pull and a push secret laid out as the pod mounts
them: ``<root>/var/run/secrets/openshift.io/{pull,push}/.dockerconfigjson``
next to ``<root>/workspace``, so a relative link committed to the repository
(``../../../var/run/...``) climbs to them exactly as it would in the pod.
Here every step can open both files (same host, same user): what keeps them
out is the steps reading the tree through ``builder.source.confined`` and
buildah's own handling of links in its context, not the pod's mounts (those
are the second wall: tests/unit/controller/test_buildpod.py).

The push secret is real: the output goes to a registry with htpasswd auth,
and the push only works with it.  After every build, successful or not, the
secrets' bytes (the password, the ``auth`` token, the whole file) must
appear in no uncompressed layer or config blob of any pushed image, no step's
log and no termination message.

What buildah does with links in a build context (verified here):

- ``COPY upload/src`` (S2I) and ``COPY . /dir`` (Docker) copy a symlink as a
  symlink, whatever it points at, dangling or out of the tree: the image
  holds the link, never the target's bytes;
- ``COPY <link>`` naming a link to an absolute path outside the context
  resolves it inside the context (buildah's copier works chrooted into the
  context directory), so it does not reach the host file: here the build
  fails at that COPY step, with "no such file or directory" (once, for the
  directory link, with a copier subprocess error instead);
- a ``RUN`` step (assemble included) runs chrooted into the image's root
  and sees none of the pod's files.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from builder.registry import CredentialStore, ImageReference, RegistryClient
from tests.integration.pipeline.conftest import Images, git, make_repo
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

POD_SECRETS = "var/run/secrets/openshift.io"
NASTY_VALUE = "a\nRUN touch /injected\n\"q\" \\ 'x' =1 \\"

# From <root>/workspace/source/<path>, how many ".." reach <root>.
MAX_BLOB_BYTES = 512 * 1024 * 1024


@dataclass
class Secrets:
    """The pull and push secrets as the pod mounts them, and the bytes that must not leak."""

    root: Path
    pull: Path
    push: Path
    needles: list[bytes] = field(default_factory=list)

    def leaks(self, data: bytes) -> list[str]:
        return [needle.decode() for needle in self.needles if needle in data]


def _dockerconfig(host: str, user: str, password: str) -> tuple[bytes, str]:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    document = json.dumps({"auths": {host: {"auth": auth}}}).encode()
    return document, auth


@pytest.fixture
def pod_secrets(
    tmp_path: Path, registry: RunningRegistry, htpasswd_registry: RunningRegistry
) -> Secrets:
    root = tmp_path / "pod"
    pull = root / POD_SECRETS / "pull"
    push = root / POD_SECRETS / "push"
    for directory in (pull, push):
        directory.mkdir(parents=True)
    # The pull secret names the (open) builder registry: never sent, never to leak.
    pull_password = f"pull-{secrets.token_hex(16)}"
    pull_doc, pull_auth = _dockerconfig(registry.host, "puller", pull_password)
    (pull / ".dockerconfigjson").write_bytes(pull_doc)
    user, push_password = htpasswd_registry.credentials
    push_doc, push_auth = _dockerconfig(htpasswd_registry.host, user, push_password)
    (push / ".dockerconfigjson").write_bytes(push_doc)
    needles = [pull_password, pull_auth, push_password, push_auth]
    return Secrets(
        root,
        pull,
        push,
        [n.encode() for n in needles] + [pull_doc, push_doc],
    )


def _link(repo: Path, path: str, target: str) -> None:
    link = repo / path
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def _relative_to_root(path: str) -> str:
    """A link at ``workspace/source/<path>`` reaching ``<root>`` by ``..`` alone."""
    depth = 2 + path.count("/")  # workspace/source/ + the link's own directories
    return "/".join([".."] * depth)


def hostile_repo(tmp: Path, secrets_: Secrets, name: str) -> Path:
    """python-hello plus links to the secrets that every build must leave alone."""
    repo = make_repo(tmp, "python-hello", name)
    push_file = secrets_.push / ".dockerconfigjson"
    pull_file = secrets_.pull / ".dockerconfigjson"
    # Links that are only data: they must end up in the image as links at most.
    _link(repo, "leak-abs", str(push_file))
    _link(repo, "leak-rel", f"{_relative_to_root('leak-rel')}/{POD_SECRETS}/push/.dockerconfigjson")
    _link(repo, "leak-pod", f"/{POD_SECRETS}/push/.dockerconfigjson")
    _link(repo, "leak-dir", str(secrets_.root / POD_SECRETS))
    _link(repo, "nested/leak-pull", str(pull_file))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links to the secrets")
    return repo


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def build_object(
    repo: Path, strategy: dict[str, Any], output: str, context_dir: str = ""
) -> dict[str, Any]:
    source: dict[str, Any] = {"git": {"uri": str(repo), "ref": "main"}}
    if context_dir:
        source["contextDir"] = context_dir
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "hostile-1", "namespace": "it", "uid": "u-1"},
        "spec": {
            "source": source,
            "strategy": strategy,
            "output": {
                "to": {"kind": "DockerImage", "name": output},
                "pushSecret": {"name": "push"},
            },
        },
    }


def s2i(images: Images) -> dict[str, Any]:
    return {
        "sourceStrategy": {
            "from": {"kind": "DockerImage", "name": images.s2i_python},
            "pullSecret": {"name": "pull"},
        }
    }


def docker(images: Images) -> dict[str, Any]:
    return {
        "dockerStrategy": {
            "from": {"kind": "DockerImage", "name": images.base},
            "pullSecret": {"name": "pull"},
        }
    }


@dataclass
class Run:
    code: int
    logs: dict[str, str]
    messages: dict[str, str]

    @property
    def last(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(list(self.messages.values())[-1])
        return message


def run_pod(tmp: Path, build: dict[str, Any], pod_secrets: Secrets, *insecure: str) -> Run:
    """The five containers in order, each told of the secrets its pod container mounts.

    PULL_DOCKERCFG_PATH in pull-images, PUSH_DOCKERCFG_PATH in the push
    container (builder.controller.buildpod); the files stay readable to
    every step here, as they would not be in the pod.
    """
    workspace = pod_secrets.root / "workspace"
    base = {
        **os.environ,
        "BUILD": json.dumps(build),
        "KBUILD_WORKSPACE": str(workspace),
        "KBUILD_INSECURE_REGISTRIES": ",".join(insecure),
        "BUILDAH_ISOLATION": "chroot",
        "PYTHONUNBUFFERED": "1",
    }
    pull = {"PULL_DOCKERCFG_PATH": str(pod_secrets.pull)}
    push = {"PUSH_DOCKERCFG_PATH": str(pod_secrets.push)}
    steps: list[tuple[str, dict[str, str]]] = [
        ("fetch", {}),
        ("prepare", {}),
        ("pull", pull),
        ("build", {}),
        ("push", push),
    ]
    logs: dict[str, str] = {}
    messages: dict[str, str] = {}
    code = 0
    for step, env in steps:
        termination = tmp / f"termination-{step}"
        done = subprocess.run(
            [sys.executable, "-m", "builder.cli.main", "pipeline", step],
            env={**base, **env, "KBUILD_TERMINATION_LOG": str(termination)},
            capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip
        logs[step] = done.stdout + done.stderr
        messages[step] = termination.read_text()
        code = done.returncode
        if code != 0:
            break
    return Run(code, logs, messages)


def _uncompressed(blob: bytes) -> bytes:
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    assert blob[:4] != b"\x28\xb5\x2f\xfd", "zstd layer: teach this test to read it"
    return blob


def pushed_blobs(registry: RunningRegistry, reference: str) -> Iterator[tuple[str, bytes]]:
    """Every blob of the pushed image, layers uncompressed, and the tar's members."""
    user, password = registry.credentials
    config = json.dumps({"auths": {registry.host: {"username": user, "password": password}}})
    client = RegistryClient(
        credentials=CredentialStore.from_docker_config(config, source="test"),
        insecure={registry.host},
    )
    ref = ImageReference.parse(reference)
    with client:
        manifest = client.resolve(ref)
        yield "config", client.blob(ref, manifest.config.digest, MAX_BLOB_BYTES)
        for layer in manifest.layers:
            data = _uncompressed(client.blob(ref, layer.digest, MAX_BLOB_BYTES))
            yield layer.digest, data


def layer_links(data: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name.removeprefix("./"): m.linkname for m in tar.getmembers() if m.issym()}


def assert_nothing_leaked(run: Run, pod_secrets: Secrets, images: list[tuple[str, bytes]]) -> None:
    for step, log in run.logs.items():
        assert pod_secrets.leaks(log.encode()) == [], f"{step} log leaks a secret"
    for step, message in run.messages.items():
        assert pod_secrets.leaks(message.encode()) == [], f"{step} message leaks a secret"
    for name, blob in images:
        assert pod_secrets.leaks(blob) == [], f"blob {name} holds a secret"


# --------------------------------------------------------------------------- the builds


@pytest.fixture
def output(htpasswd_registry: RunningRegistry, unique_repo: str) -> str:
    return f"{htpasswd_registry.host}/{unique_repo}:latest"


def test_s2i_build_of_a_repository_full_of_links_to_the_secrets(
    tmp_path: Path,
    images: Images,
    registry: RunningRegistry,
    htpasswd_registry: RunningRegistry,
    pod_secrets: Secrets,
    output: str,
) -> None:
    """Links are copied as links; assemble, looking for the secrets, finds nothing."""
    repo = hostile_repo(tmp_path, pod_secrets, "s2i-links")
    assemble = repo / ".s2i" / "bin" / "assemble"
    assemble.parent.mkdir(parents=True)
    # Tries every way to the secrets from inside the build, and writes what it
    # finds into the image and the log.
    assemble.write_text(
        "#!/bin/sh\n"
        "mkdir -p /tmp/found\n"
        "for f in /tmp/src/leak-abs /tmp/src/leak-rel /tmp/src/leak-pod "
        f"/tmp/src/leak-dir/push/.dockerconfigjson /{POD_SECRETS}/push/.dockerconfigjson "
        f"{pod_secrets.push}/.dockerconfigjson {pod_secrets.pull}/.dockerconfigjson; do\n"
        '  cat "$f" 2>/dev/null && cat "$f" >> /tmp/found/all\n'
        "done\n"
        "cp -rL /tmp/src /tmp/found/src 2>/dev/null || true\n"
        "exec /usr/libexec/s2i/assemble\n"
    )
    assemble.chmod(0o755)
    commit(repo, "a curious assemble")

    # A webhook's env could carry this value; buildah must see one ENV value.
    strategy = s2i(images)
    strategy["sourceStrategy"]["env"] = [{"name": "NASTY", "value": NASTY_VALUE}]
    run = run_pod(
        tmp_path, build_object(repo, strategy, output), pod_secrets,
        registry.host, htpasswd_registry.host,
    )  # fmt: skip
    assert run.code == 0, run.logs
    blobs = list(pushed_blobs(htpasswd_registry, output))
    assert_nothing_leaked(run, pod_secrets, blobs)
    # The value stayed a value: no instruction ran, the variable is set.
    names: set[str] = set()
    for _, blob in blobs[1:]:
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            names |= {m.name.removeprefix("./") for m in tar.getmembers()}
    assert "injected" not in names
    env = json.loads(blobs[0][1])["config"]["Env"]
    nasty = [e for e in env if e.startswith("NASTY=")]
    assert len(nasty) == 1 and "RUN touch /injected" in nasty[0], env
    # The links are in the image, as links to where they pointed (where
    # assemble moved them: the builder's assemble moves /tmp/src away).
    targets: set[str] = set()
    for _, blob in blobs[1:]:
        targets |= set(layer_links(blob).values())
    assert str(pod_secrets.push / ".dockerconfigjson") in targets
    assert f"/{POD_SECRETS}/push/.dockerconfigjson" in targets
    assert str(pod_secrets.pull / ".dockerconfigjson") in targets


@dataclass(frozen=True)
class Refused:
    name: str
    # (path in the repository, target); "{root}" is the pod's root, "{up}" the
    # ".." chain from the link's directory to it.
    links: tuple[tuple[str, str], ...]
    strategy: str
    reason: str
    fragment: str
    context_dir: str = ""
    dockerfile_path: str = ""


PUSH = f"{POD_SECRETS}/push/.dockerconfigjson"
PULL = f"{POD_SECRETS}/pull/.dockerconfigjson"

REFUSED = [
    Refused(
        ".s2i/environment -> push secret (absolute)",
        ((".s2i/environment", "{root}/" + PUSH),),
        "s2i",
        "ManageDockerfileFailed",
        "'.s2i/environment'",
    ),
    Refused(
        ".s2i/environment -> push secret (relative)",
        ((".s2i/environment", "{up}/" + PUSH),),
        "s2i",
        "ManageDockerfileFailed",
        "'.s2i/environment'",
    ),
    Refused(
        ".s2i/bin/assemble -> pull secret (relative)",
        ((".s2i/bin/assemble", "{up}/" + PULL),),
        "s2i",
        "ManageDockerfileFailed",
        "'.s2i/bin/assemble'",
    ),
    Refused(
        ".s2i/bin -> the secrets directory",
        ((".s2i/bin", "{root}/" + POD_SECRETS + "/push"),),
        "s2i",
        "ManageDockerfileFailed",
        "'.s2i/bin",
    ),
    Refused(
        "Dockerfile -> push secret",
        (("Dockerfile", "{root}/" + PUSH),),
        "docker",
        "ManageDockerfileFailed",
        "'Dockerfile'",
    ),
    Refused(
        "dockerfilePath through a link out",
        (("build", "{root}/" + POD_SECRETS + "/push"),),
        "docker",
        "ManageDockerfileFailed",
        "'build/.dockerconfigjson'",
        dockerfile_path="build/.dockerconfigjson",
    ),
    Refused(
        ".dockerignore -> push secret",
        (("Dockerfile", ""), (".dockerignore", "{root}/" + PUSH)),
        "docker",
        "ManageDockerfileFailed",
        "'.dockerignore'",
    ),
    Refused(
        "contextDir through a link out",
        (("app", "{root}/" + POD_SECRETS),),
        "s2i",
        "InvalidContextDirectory",
        "'app/push'",
        context_dir="app/push",
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_links_out_of_the_tree_are_refused_by_name_without_their_content(
    tmp_path: Path,
    images: Images,
    registry: RunningRegistry,
    htpasswd_registry: RunningRegistry,
    pod_secrets: Secrets,
    output: str,
    case: Refused,
) -> None:
    repo = make_repo(tmp_path, "python-hello", "refused")
    (repo / ".s2i" / "environment").unlink()
    for path, target in case.links:
        if not target:  # a plain file
            (repo / path).write_text(f"FROM {images.base}\nCOPY . /src/\n")
            continue
        up = "/".join([".."] * (2 + path.count("/")))
        _link(repo, path, target.format(root=pod_secrets.root, up=up))
    commit(repo, case.name)
    strategy = s2i(images) if case.strategy == "s2i" else docker(images)
    if case.dockerfile_path:
        strategy["dockerStrategy"]["dockerfilePath"] = case.dockerfile_path
    build = build_object(repo, strategy, output, case.context_dir)

    run = run_pod(tmp_path, build, pod_secrets, registry.host, htpasswd_registry.host)

    assert run.code == 1
    failed_in = list(run.messages)[-1]
    assert failed_in == ("fetch" if case.context_dir else "prepare"), run.logs
    message = run.last
    assert message["reason"] == case.reason, message
    assert case.fragment in message["detail"], message["detail"]
    assert "symbolic link" in message["detail"], message["detail"]
    assert "\n" not in message["detail"]
    assert_nothing_leaked(run, pod_secrets, [])
    client = RegistryClient(
        credentials=CredentialStore.from_secret_dir(pod_secrets.push),
        insecure={htpasswd_registry.host},
    )
    assert not client.exists(output)


DOCKERFILES = {
    # COPY of the whole context: the links are copied as links.
    "copy-the-context": ("COPY . /src/\n", 0),
    # COPY naming a link to an absolute path: buildah resolves it inside the
    # context, where there is no such file.
    "copy-a-link-out": ("COPY leak-abs /leak\n", 1),
    "copy-a-relative-link-out": ("COPY leak-rel /leak\n", 1),
    "copy-a-directory-link-out": ("COPY leak-dir/ /leak/\n", 1),
}


@pytest.mark.parametrize("name", list(DOCKERFILES))
def test_docker_copy_of_links_out_of_the_context(
    tmp_path: Path,
    images: Images,
    registry: RunningRegistry,
    htpasswd_registry: RunningRegistry,
    pod_secrets: Secrets,
    output: str,
    name: str,
) -> None:
    body, code = DOCKERFILES[name]
    repo = hostile_repo(tmp_path, pod_secrets, name)
    (repo / "Dockerfile").write_text(f"FROM {images.base}\n{body}")
    commit(repo, "a Dockerfile")

    run = run_pod(
        tmp_path, build_object(repo, docker(images), output), pod_secrets,
        registry.host, htpasswd_registry.host,
    )  # fmt: skip

    assert run.code == code, run.logs
    blobs = list(pushed_blobs(htpasswd_registry, output)) if code == 0 else []
    assert_nothing_leaked(run, pod_secrets, blobs)
    if code == 0:
        links: dict[str, str] = {}
        for _, blob in blobs[1:]:
            links |= layer_links(blob)
        assert links["src/leak-abs"] == str(pod_secrets.push / ".dockerconfigjson")
        assert links["src/leak-dir"] == str(pod_secrets.root / POD_SECRETS)
    else:
        assert run.last["reason"] == "DockerBuildFailed", run.last
        assert list(run.messages)[-1] == "build"
        # Usually "no such file or directory" (the link resolved inside the
        # context); once, for the directory link, buildah's copier subprocess
        # failed instead ("broken pipe").  Either way the COPY step failed.
        assert 'step "COPY leak-' in run.last["detail"], run.last
