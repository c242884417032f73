"""The prepare step reads the committer's tree without leaving it and without echoing it.

S2I cases call ``prepare`` on a workspace laid out as the build pod's, with a
pull and a push secret where the pod mounts them (``<root>/var/run/secrets``
next to ``<root>/workspace``), so relative links climb to them as in the
pod.  Docker cases run ``kbuild pipeline fetch`` and ``prepare`` from a real
git repository (no registry needed without ``dockerStrategy.from``).
The real-buildah, real-registry version is
tests/integration/pipeline/test_hostile_repository.py.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from builder.api import BuildError, StatusReason
from builder.pipeline import BuildPlan, SourcePlan, SourceStrategyPlan, Workspace, prepare
from builder.pipeline.pod import run_step

SECRET = b'{"auths":{"registry.test":{"auth":"cHVzaGVyOnMzY3IzdA=="}}}'
PUSH = "var/run/secrets/openshift.io/push/.dockerconfigjson"


@pytest.fixture
def pod_root(tmp_path: Path) -> Path:
    root = tmp_path / "pod"
    secret = root / PUSH
    secret.parent.mkdir(parents=True)
    secret.write_bytes(SECRET)
    return root


def _workspace(root: Path, files: dict[str, str | None], links: dict[str, str]) -> Workspace:
    ws = Workspace(root / "workspace").create()
    for path, text in files.items():
        target = ws.source / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            target.mkdir()
        else:
            target.write_text(text)
    for path, where in links.items():
        link = ws.source / path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(where.format(root=root, up="/".join([".."] * (2 + path.count("/")))))
    return ws


def s2i_plan(context_dir: str = "") -> BuildPlan:
    return BuildPlan(
        source=SourcePlan(context_dir=context_dir),
        strategy=SourceStrategyPlan(builder_image="registry.test/s2i/python:3.11"),
    )


def _no_secret(text: str) -> None:
    assert "cHVzaGVyOnMzY3IzdA" not in text
    assert "auths" not in text


@pytest.mark.parametrize(
    ("links", "fragment"),
    [
        ({".s2i/environment": "{root}/" + PUSH}, "the S2I environment file '.s2i/environment' "),
        ({".s2i/environment": "{up}/" + PUSH}, "the S2I environment file '.s2i/environment' "),
        ({".s2i/environment": "/" + PUSH}, "the S2I environment file '.s2i/environment' "),
        ({".s2i/bin/assemble": "{up}/" + PUSH}, "the S2I script '.s2i/bin/assemble' "),
        ({".s2i/bin/run": "{root}/" + PUSH}, "the S2I script '.s2i/bin/run' "),
        ({".s2i/bin": "{root}/var/run/secrets/openshift.io/push"}, "('.s2i/bin')"),
        ({".s2i": "{up}/var/run/secrets/openshift.io/push"}, "('.s2i')"),
    ],
)
def test_s2i_files_linked_out_of_the_tree_are_refused(
    pod_root: Path, links: dict[str, str], fragment: str
) -> None:
    ws = _workspace(pod_root, {"app.py": "print()\n"}, links)
    lines: list[str] = []
    with pytest.raises(BuildError) as caught:
        prepare(s2i_plan(), ws=ws, log=lines.append)
    assert caught.value.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
    assert fragment in caught.value.detail
    assert "resolves outside the source through a symbolic link" in caught.value.detail
    _no_secret(str(caught.value))
    _no_secret("\n".join(lines))
    assert not (ws.context / "upload" / "scripts").exists()


def test_s2i_files_reached_through_a_context_dir_link_are_confined_to_the_tree(
    pod_root: Path,
) -> None:
    ws = _workspace(
        pod_root,
        {"services/api/app.py": "print()\n"},
        {"api": "services/api", "services/api/.s2i/environment": "{up}/" + PUSH},
    )
    with pytest.raises(BuildError, match="through a symbolic link") as caught:
        prepare(s2i_plan("api"), ws=ws, log=lambda _: None)
    assert "'api/.s2i/environment'" in caught.value.detail


def test_links_inside_the_tree_are_followed(pod_root: Path) -> None:
    ws = _workspace(
        pod_root,
        {"tools/assemble": "#!/bin/sh\necho hi\n", "config/env": "GREETING=hi\n"},
        {".s2i/bin/assemble": "../../tools/assemble", ".s2i/environment": "../config/env"},
    )
    staged = prepare(s2i_plan(), ws=ws, log=lambda _: None)
    assert staged.scripts == ("assemble",)
    assert staged.env == (("GREETING", "hi"),)
    script = ws.context / "upload" / "scripts" / "assemble"
    assert script.read_text() == "#!/bin/sh\necho hi\n"
    assert not script.is_symlink()


def test_links_elsewhere_in_the_tree_are_copied_as_links(pod_root: Path) -> None:
    """upload/src is what the image gets: a link stays a link, its target is never read."""
    ws = _workspace(pod_root, {"app.py": "print()\n"}, {"leak": "{root}/" + PUSH})
    prepare(s2i_plan(), ws=ws, log=lambda _: None)
    copied = ws.context / "upload" / "src" / "leak"
    assert copied.is_symlink()
    assert str(copied.readlink()) == str(pod_root / PUSH)


def test_bad_environment_lines_are_logged_by_number_only(pod_root: Path) -> None:
    text = f"GOOD=1\n{SECRET.decode()}\nX-{SECRET.decode()}=2\n"
    ws = _workspace(pod_root, {".s2i/environment": text}, {})
    lines: list[str] = []
    staged = prepare(s2i_plan(), ws=ws, log=lines.append)
    assert staged.env == (("GOOD", "1"),)
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert len(warnings) == 2
    assert ".s2i/environment line 2" in warnings[0]
    assert ".s2i/environment line 3" in warnings[1]
    _no_secret("\n".join(lines))


def test_prepare_needs_no_registry_and_no_secret(pod_root: Path) -> None:
    """The step the pod runs with no secret: it takes no registry client at all."""
    ws = _workspace(pod_root, {"app.py": "print()\n", ".s2i/environment": "A=1\n"}, {})
    staged = prepare(s2i_plan(), ws=ws, log=lambda _: None)
    assert json.loads(ws.staged.read_text())["env"] == [["A", "1"]]
    assert staged.context == str(ws.context)


# --------------------------------------------------------------------------- Docker, as the pod


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Ada", "-c", "user.email=ada@example.com",
         *args],
        check=True, capture_output=True,
    )  # fmt: skip


def _repo(tmp_path: Path, files: dict[str, str], links: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    for path, target in links.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).symlink_to(target)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "hostile")
    return repo


def _pod_steps(
    pod_root: Path, repo: Path, strategy: dict[str, Any], **source: Any
) -> tuple[int, dict[str, Any], str]:
    build = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "app-1", "namespace": "team", "uid": "u-1"},
        "spec": {
            "source": {"git": {"uri": str(repo), "ref": "main"}, **source},
            "strategy": strategy,
            "output": {"to": {"kind": "DockerImage", "name": "registry.test/team/app:latest"}},
        },
    }
    logs = ""
    code, message = 0, {}
    for step in ("fetch", "prepare"):
        termination = pod_root / f"termination-{step}"
        out = io.StringIO()
        env = {
            "BUILD": json.dumps(build),
            "KBUILD_WORKSPACE": str(pod_root / "workspace"),
            "KBUILD_TERMINATION_LOG": str(termination),
        }
        code = run_step(step, environ=env, out=out)
        logs += out.getvalue()
        message = json.loads(termination.read_text())
        if code:
            break
    return code, message, logs


@pytest.mark.parametrize(
    ("links", "strategy", "fragment"),
    [
        ({"Dockerfile": "{root}/" + PUSH}, {}, "dockerfilePath 'Dockerfile'"),
        ({"Dockerfile": "../../" + PUSH}, {}, "dockerfilePath 'Dockerfile'"),
        ({"build": "{root}/var/run/secrets/openshift.io/push"},
         {"dockerfilePath": "build/.dockerconfigjson"}, "'build/.dockerconfigjson'"),
        ({".dockerignore": "{root}/" + PUSH}, {}, "'.dockerignore'"),
        ({".containerignore": "../../" + PUSH}, {}, "'.containerignore'"),
    ],
)  # fmt: skip
def test_docker_files_linked_out_of_the_tree_are_refused(
    tmp_path: Path, pod_root: Path, links: dict[str, str], strategy: dict[str, str], fragment: str
) -> None:
    files = {} if "Dockerfile" in links else {"Dockerfile": "FROM scratch\nCOPY . /src/\n"}
    repo = _repo(tmp_path, files, {k: v.format(root=pod_root) for k, v in links.items()})
    code, message, logs = _pod_steps(pod_root, repo, {"dockerStrategy": strategy})
    assert code == 1, logs
    assert message["reason"] == "ManageDockerfileFailed", message
    assert fragment in message["detail"]
    assert "symbolic link" in message["detail"]
    _no_secret(json.dumps(message))
    _no_secret(logs)
    assert not (pod_root / "workspace" / "Dockerfile.source").exists()
    assert not (pod_root / "workspace" / "Dockerfile").exists()


def test_docker_file_path_may_not_climb_out_of_the_context_dir(
    tmp_path: Path, pod_root: Path
) -> None:
    repo = _repo(tmp_path, {"Dockerfile": "FROM scratch\n", "app/x": "x"}, {})
    code, message, _ = _pod_steps(
        pod_root, repo, {"dockerStrategy": {"dockerfilePath": "../Dockerfile"}}, contextDir="app"
    )
    assert code == 1
    assert message["reason"] == "ManageDockerfileFailed"
    assert "'../Dockerfile'" in message["detail"]


def test_an_inline_dockerfile_replaces_a_committed_link_never_writing_through_it(
    tmp_path: Path, pod_root: Path
) -> None:
    """OpenShift's source.dockerfile replaces the tree's Dockerfile: here a link to a secret."""
    victim = pod_root / PUSH
    repo = _repo(tmp_path, {"x": "x"}, {"Dockerfile": str(victim)})
    code, message, logs = _pod_steps(
        pod_root, repo, {"dockerStrategy": {}}, dockerfile="FROM scratch\nCOPY x /x\n"
    )
    assert code == 0, (message, logs)
    assert victim.read_bytes() == SECRET
    written = pod_root / "workspace" / "source" / "Dockerfile"
    assert not written.is_symlink()
    assert written.read_text() == "FROM scratch\nCOPY x /x\n"


def test_pod_steps_leave_the_secret_alone_when_everything_is_fine(
    tmp_path: Path, pod_root: Path
) -> None:
    repo = _repo(tmp_path, {"Dockerfile": "FROM scratch\nCOPY . /src/\n"}, {"leak": "/" + PUSH})
    code, message, logs = _pod_steps(pod_root, repo, {"dockerStrategy": {}})
    assert code == 0, (message, logs)
    staged = json.loads((pod_root / "workspace" / "staged.json").read_text())
    assert Path(staged["dockerfile"]).read_text() == "FROM scratch\nCOPY . /src/\n"
    shutil.rmtree(pod_root / "workspace")
