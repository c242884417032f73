"""``kbuild pipeline <step>``: the build pod's steps and their termination messages.

fetch and prepare run for real against a local git repository (a Docker
strategy build without ``from`` needs no registry); the build step runs
against a stand-in ``buildah`` on PATH that behaves like buildah's CLI (the
real one is exercised in tests/integration/pipeline/test_pod_steps.py).
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from builder.api import STATUS_MESSAGES, StatusReason
from builder.cli.main import main
from builder.pipeline.pod import (
    MAX_MESSAGE_BYTES,
    SNIPPET_LINES,
    TerminationMessage,
    inputs_from_environment,
    run_step,
    run_steps,
    snippet,
)

DIGEST = "sha256:" + "ab" * 32
OUTPUT = "registry.test:5000/team/app:latest"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Ada", "-c", "user.email=ada@example.com",
         *args],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "Dockerfile").write_text("FROM scratch\nCOPY hello /hello\n")
    (repo / "app" / "hello").write_text("hi\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first commit")
    return repo


def docker_build(repo: Path, **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source": {"git": {"uri": str(repo), "ref": "main"}, "contextDir": "app"},
        "strategy": {"dockerStrategy": {}},
        "output": {"to": {"kind": "DockerImage", "name": OUTPUT}},
    }
    base.update(spec)
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "app-1", "namespace": "team", "uid": "u-1"},
        "spec": base,
    }


class Pod:
    """One build pod's shared workspace; each ``run`` is one container."""

    def __init__(self, tmp_path: Path, build: dict[str, Any], **env: str) -> None:
        self.tmp = tmp_path
        self.env = {
            "BUILD": json.dumps(build),
            "KBUILD_WORKSPACE": str(tmp_path / "workspace"),
            **env,
        }
        self.logs: dict[str, str] = {}

    def run(self, step: str) -> tuple[int, dict[str, Any]]:
        termination = self.tmp / f"termination-{step}"
        out = io.StringIO()
        code = run_step(
            step, environ={**self.env, "KBUILD_TERMINATION_LOG": str(termination)}, out=out
        )
        self.logs[step] = out.getvalue()
        text = termination.read_text()
        assert len(text.encode()) <= MAX_MESSAGE_BYTES
        message: dict[str, Any] = json.loads(text)
        return code, message


def stage_names(message: dict[str, Any]) -> list[str]:
    return [s["name"] for s in message["stages"]]


def test_fetch_reports_stages_and_the_commit(tmp_path: Path, repo: Path) -> None:
    pod = Pod(tmp_path, docker_build(repo))
    code, message = pod.run("fetch")
    assert code == 0, pod.logs["fetch"]
    assert "reason" not in message
    (stage,) = message["stages"]
    assert stage["name"] == "FetchInputs"
    assert [s["name"] for s in stage["steps"]] == ["FetchGitSource"]
    assert isinstance(stage["durationMilliseconds"], int)
    assert stage["startTime"].endswith("Z")
    git_rev = message["revision"]["git"]
    assert message["revision"]["type"] == "Git"
    assert git_rev["commit"] == git(repo, "rev-parse", "HEAD")
    assert git_rev["author"] == {"name": "Ada", "email": "ada@example.com"}
    assert git_rev["message"] == "first commit"
    assert "Cloning" in pod.logs["fetch"]  # the log streamed to stdout
    assert (tmp_path / "workspace" / "source" / "app" / "Dockerfile").is_file()


def test_fetch_failure_names_reason_message_detail_and_snippet(tmp_path: Path, repo: Path) -> None:
    build = docker_build(repo)
    build["spec"]["source"]["git"]["ref"] = "no-such-branch"
    pod = Pod(tmp_path, build)
    code, message = pod.run("fetch")
    assert code == 1
    assert message["reason"] == "FetchSourceFailed"
    assert message["message"] == STATUS_MESSAGES[StatusReason.FETCH_SOURCE_FAILED]
    assert "no-such-branch" in message["detail"]
    assert "\n" not in message["detail"]
    lines = message["logSnippet"].splitlines()
    assert 1 <= len(lines) <= SNIPPET_LINES
    # The error line closes the snippet (shortened past 120 columns, as OpenShift does).
    assert lines[-1].startswith("error: FetchSourceFailed: ref 'no-such-branch' not found")
    assert lines[-1].endswith(message["detail"][-20:])
    # The stage is recorded even though its step failed.
    assert stage_names(message) == ["FetchInputs"]
    assert "revision" not in message


def test_stages_of_earlier_containers_reach_later_messages(tmp_path: Path, repo: Path) -> None:
    pod = Pod(tmp_path, docker_build(repo))
    assert pod.run("fetch")[0] == 0
    code, message = pod.run("prepare")
    assert code == 0, pod.logs["prepare"]
    assert stage_names(message) == ["FetchInputs"]
    assert message["revision"]["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    # prepare only stages the tree: the Dockerfile is rendered by the build step.
    staged = json.loads((tmp_path / "workspace" / "staged.json").read_text())
    assert Path(staged["dockerfile"]).read_text() == "FROM scratch\nCOPY hello /hello\n"
    assert not (tmp_path / "workspace" / "prepared.json").exists()


def test_prepare_failure_keeps_the_fetch_stage(tmp_path: Path, repo: Path) -> None:
    build = docker_build(repo, strategy={"dockerStrategy": {"dockerfilePath": "nope/Dockerfile"}})
    pod = Pod(tmp_path, build)
    assert pod.run("fetch")[0] == 0
    code, message = pod.run("prepare")
    assert code == 1
    assert message["reason"] == "ManageDockerfileFailed"
    assert "nope/Dockerfile" in message["detail"]
    assert stage_names(message) == ["FetchInputs"]


FAKE_BUILDAH = r"""#!/bin/sh
# A stand-in for buildah's CLI: enough of bud and push for the pipeline.
mode=$(cat "$FAKE_BUILDAH_MODE")
cmd=$1; shift
for arg in "$@"; do
  case $prev in
    --iidfile) iid=$arg ;;
    --digestfile) digestfile=$arg ;;
  esac
  prev=$arg
done
case $cmd in
  bud)
    echo "STEP 1/2: FROM scratch"
    echo "STEP 2/2: COPY hello /hello"
    if [ "$mode" = fail ]; then
      i=0
      while [ $i -lt 30 ]; do echo "noise line $i"; i=$((i+1)); done
      echo 'error building at STEP "COPY hello /hello": checking on sources: no such file'
      exit 1
    fi
    echo "COMMIT"
    echo "sha256:1111111111111111111111111111111111111111111111111111111111111111" > "$iid"
    ;;
  push)
    echo "Writing manifest to image destination"
    printf '%s' "$FAKE_DIGEST" > "$digestfile"
    ;;
  pull)
    echo "Copying config sha256:2222"
    ;;
esac
"""


@pytest.fixture
def fake_buildah(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "buildah"
    script.write_text(FAKE_BUILDAH)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    mode = tmp_path / "buildah-mode"
    mode.write_text("ok")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_BUILDAH_MODE", str(mode))
    monkeypatch.setenv("FAKE_DIGEST", DIGEST)
    return mode


def test_build_success_reports_digest_image_and_all_stages(
    tmp_path: Path, repo: Path, fake_buildah: Path
) -> None:
    pod = Pod(tmp_path, docker_build(repo))
    for step in ("fetch", "prepare", "pull", "build"):
        assert pod.run(step)[0] == 0, pod.logs[step]
    code, message = pod.run("push")
    assert code == 0, pod.logs["push"]
    assert message["digest"] == DIGEST
    assert message["image"] == f"registry.test:5000/team/app@{DIGEST}"
    assert stage_names(message) == ["FetchInputs", "PullImages", "Build", "PushImage"]
    assert message["revision"]["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert "STEP 2/2" in pod.logs["build"]
    assert "Successfully pushed" in pod.logs["push"]
    prepared = json.loads((tmp_path / "workspace" / "prepared.json").read_text())
    assert '"io.openshift.build.commit.id"' in Path(prepared["dockerfile"]).read_text()


def _run_in_one_container(
    tmp_path: Path, build: dict[str, Any], steps: tuple[str, ...]
) -> tuple[int, dict[str, Any], str]:
    termination = tmp_path / "termination-one"
    out = io.StringIO()
    env = {
        "BUILD": json.dumps(build),
        "KBUILD_WORKSPACE": str(tmp_path / "workspace"),
        "KBUILD_TERMINATION_LOG": str(termination),
    }
    code = run_steps(steps, environ=env, out=out)
    return code, json.loads(termination.read_text()), out.getvalue()


def test_all_steps_in_one_container_report_as_the_last_one(
    tmp_path: Path, repo: Path, fake_buildah: Path
) -> None:
    """``kbuild pipeline fetch prepare pull build push``: the one-container pod's main container."""
    steps = ("fetch", "prepare", "pull", "build", "push")
    code, message, log = _run_in_one_container(tmp_path, docker_build(repo), steps)
    assert code == 0, log
    assert message["digest"] == DIGEST
    assert message["image"] == f"registry.test:5000/team/app@{DIGEST}"
    assert stage_names(message) == ["FetchInputs", "PullImages", "Build", "PushImage"]
    assert message["revision"]["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert log.index("Cloning") < log.index("STEP 2/2") < log.index("Successfully pushed")


def test_the_first_failing_step_ends_the_container_with_its_reason(
    tmp_path: Path, repo: Path, fake_buildah: Path
) -> None:
    fake_buildah.write_text("fail")
    steps = ("fetch", "prepare", "pull", "build", "push")
    code, message, log = _run_in_one_container(tmp_path, docker_build(repo), steps)
    assert code == 1
    assert message["reason"] == "DockerBuildFailed"
    assert stage_names(message) == ["FetchInputs", "PullImages", "Build"]
    assert "Successfully pushed" not in log  # push never ran
    assert not (tmp_path / "workspace" / "built.json").exists()


def test_an_unknown_step_among_several_runs_none(tmp_path: Path, repo: Path) -> None:
    code, message, log = _run_in_one_container(tmp_path, docker_build(repo), ("fetch", "deploy"))
    assert code == 1
    assert message["reason"] == "GenericBuildFailed"
    assert "deploy" in message["detail"]
    assert "Cloning" not in log


def test_build_failure_reports_the_buildah_error_and_snippet(
    tmp_path: Path, repo: Path, fake_buildah: Path
) -> None:
    fake_buildah.write_text("fail")
    pod = Pod(tmp_path, docker_build(repo))
    for step in ("fetch", "prepare", "pull"):
        assert pod.run(step)[0] == 0
    code, message = pod.run("build")
    assert code == 1
    assert message["reason"] == "DockerBuildFailed"
    assert message["message"] == "Docker build strategy has failed."
    assert "COPY hello /hello" in message["detail"]
    lines = message["logSnippet"].splitlines()
    assert len(lines) == SNIPPET_LINES
    assert lines[-2].startswith("error building at STEP")
    assert lines[-1].startswith("error: DockerBuildFailed: ")
    assert "noise line 29" in message["logSnippet"]
    assert "noise line 0\n" not in message["logSnippet"]
    assert stage_names(message) == ["FetchInputs", "PullImages", "Build"]
    assert "digest" not in message


def test_unexpected_exception_is_generic_build_failed_with_one_line(
    tmp_path: Path, repo: Path
) -> None:
    pod = Pod(tmp_path, docker_build(repo))
    assert pod.run("fetch")[0] == 0
    code, message = pod.run("build")  # prepare and pull never ran: no prepared.json
    assert code == 1
    assert message["reason"] == "GenericBuildFailed"
    assert message["detail"].startswith("FileNotFoundError: ")
    assert "prepared.json" in message["detail"]
    assert "Traceback (most recent call last)" in pod.logs["build"]
    assert stage_names(message) == ["FetchInputs"]


@pytest.mark.parametrize(
    ("build_env", "reason", "fragment"),
    [
        ("", "GenericBuildFailed", "no BUILD"),
        ("{not json", "CannotCreateBuildPodSpec", "BUILD"),
        (
            json.dumps({"apiVersion": "build.openshift.io/v1", "kind": "Build", "spec": {}}),
            "CannotCreateBuildPodSpec",
            "strategy",
        ),
    ],
)
def test_unreadable_build_variable(
    tmp_path: Path, build_env: str, reason: str, fragment: str
) -> None:
    termination = tmp_path / "termination"
    code = run_step(
        "fetch",
        environ={"BUILD": build_env, "KBUILD_TERMINATION_LOG": str(termination),
                 "KBUILD_WORKSPACE": str(tmp_path / "ws")},
        out=io.StringIO(),
    )  # fmt: skip
    message = json.loads(termination.read_text())
    assert code == 1
    assert message["reason"] == reason
    assert fragment in message["detail"]


def test_unresolved_image_stream_reference_is_invalid_image_reference(
    tmp_path: Path, repo: Path
) -> None:
    build = docker_build(repo, output={"to": {"kind": "ImageStreamTag", "name": "app:latest"}})
    code, message = Pod(tmp_path, build).run("fetch")
    assert code == 1
    assert message["reason"] == "InvalidImageReference"
    assert "app:latest" in message["detail"]


def test_unknown_step(tmp_path: Path, repo: Path) -> None:
    code, message = Pod(tmp_path, docker_build(repo)).run("deploy")
    assert code == 1
    assert message["reason"] == "GenericBuildFailed"
    assert "deploy" in message["detail"]


def test_cli_verb_runs_the_step(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    termination = tmp_path / "termination"
    monkeypatch.setenv("BUILD", json.dumps(docker_build(repo)))
    monkeypatch.setenv("KBUILD_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("KBUILD_TERMINATION_LOG", str(termination))
    assert main(["pipeline", "fetch"]) == 0
    assert "Cloning" in capsys.readouterr().out
    assert json.loads(termination.read_text())["stages"][0]["name"] == "FetchInputs"
    with pytest.raises(SystemExit):
        main(["pipeline", "deploy"])
    with pytest.raises(SystemExit):
        main(["pipeline"])
    # Several steps in one process, as a shared container runs them.
    monkeypatch.setenv("KBUILD_WORKSPACE", str(tmp_path / "ws2"))
    assert main(["pipeline", "fetch", "prepare"]) == 0
    assert (tmp_path / "ws2" / "staged.json").is_file()


# --------------------------------------------------------------------------- registry secrets


def _secret(directory: Path, key: str, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True)
    (directory / key).write_text(json.dumps(data))
    return directory


def test_dockerconfigjson_secret_is_the_authfile(tmp_path: Path, repo: Path) -> None:
    auths = {"auths": {"registry.test:5000": {"auth": "dTpw"}}}
    pull = _secret(tmp_path / "pull", ".dockerconfigjson", auths)
    env = {"BUILD": json.dumps(docker_build(repo)), "PULL_DOCKERCFG_PATH": str(pull)}
    inputs = inputs_from_environment(env)
    assert inputs.plan.pull_authfile == str(pull / ".dockerconfigjson")
    assert inputs.plan.push_authfile is None
    assert inputs.registry_client() is not None


def test_legacy_dockercfg_secret_is_wrapped_for_buildah(tmp_path: Path, repo: Path) -> None:
    legacy = {"registry.test:5000": {"auth": "dTpw"}}
    push = _secret(tmp_path / "push", ".dockercfg", legacy)
    env = {"BUILD": json.dumps(docker_build(repo)), "PUSH_DOCKERCFG_PATH": str(push)}
    inputs = inputs_from_environment(env)
    assert inputs.plan.push_authfile is not None
    assert json.loads(Path(inputs.plan.push_authfile).read_text()) == {"auths": legacy}
    assert inputs.scratch == [Path(inputs.plan.push_authfile)]


def test_registry_secret_without_a_docker_config(tmp_path: Path, repo: Path) -> None:
    pull = _secret(tmp_path / "pull", "password", {})
    termination = tmp_path / "termination"
    env = {
        "BUILD": json.dumps(docker_build(repo)),
        "PULL_DOCKERCFG_PATH": str(pull),
        "KBUILD_TERMINATION_LOG": str(termination),
        "KBUILD_WORKSPACE": str(tmp_path / "ws"),
    }
    assert run_step("prepare", environ=env, out=io.StringIO()) == 1
    message = json.loads(termination.read_text())
    assert message["reason"] == "GenericBuildFailed"
    assert ".dockerconfigjson" in message["detail"]


# --------------------------------------------------------------------------- the message itself


def test_message_round_trips() -> None:
    original = TerminationMessage(
        reason="DockerBuildFailed",
        message="Docker build strategy has failed.",
        detail="assemble script failed: exit status 1",
        log_snippet="a\nb",
        stages=({"name": "Build", "startTime": "2024-01-01T00:00:00Z",
                 "durationMilliseconds": 5, "steps": []},),
        revision={"type": "Git", "git": {"commit": "abc"}},
    )  # fmt: skip
    assert TerminationMessage.parse(original.encode()) == original
    ok = TerminationMessage(digest=DIGEST, image=f"r/x@{DIGEST}")
    assert json.loads(ok.encode()) == {"digest": DIGEST, "image": f"r/x@{DIGEST}", "stages": []}


@pytest.mark.parametrize("text", [None, "", "plain log text", "[1, 2]", '"str"'])
def test_unreadable_messages_parse_to_none(text: str | None) -> None:
    assert TerminationMessage.parse(text) is None


def test_message_is_trimmed_to_what_the_kubelet_keeps() -> None:
    stages = tuple(
        {
            "name": f"Stage{i}",
            "startTime": "2024-01-01T00:00:00Z",
            "durationMilliseconds": i,
            "steps": [{"name": f"Step{j}", "startTime": "2024-01-01T00:00:00Z",
                       "durationMilliseconds": j} for j in range(10)],
        }
        for i in range(5)
    )  # fmt: skip
    big = TerminationMessage(
        reason="DockerBuildFailed",
        message="Docker build strategy has failed.",
        detail="x" * 400,
        log_snippet="\n".join("y" * 120 for _ in range(10)),
        stages=stages,
    )
    text = big.encode()
    assert len(text.encode()) <= MAX_MESSAGE_BYTES
    parsed = TerminationMessage.parse(text)
    assert parsed is not None
    assert parsed.reason == "DockerBuildFailed"
    # The newest snippet lines and every stage name survive.
    assert [s["name"] for s in parsed.stages] == [f"Stage{i}" for i in range(5)]
    assert parsed.log_snippet == "" or parsed.log_snippet.endswith("y" * 120)


def test_snippet_keeps_the_last_lines_and_shortens_long_ones_as_openshift() -> None:
    lines = [f"line {i}" for i in range(30)] + ["", "z" * 200]
    text = snippet(lines)
    kept = text.splitlines()
    assert len(kept) == SNIPPET_LINES
    assert kept[0] == "line 21"
    assert kept[-1] == "z" * 58 + "..." + "z" * 59


def test_a_deeply_nested_termination_message_is_not_understood() -> None:
    # A termination message holds up to 4 KiB: enough brackets for RecursionError.
    assert TerminationMessage.parse("[" * 4000) is None
    assert TerminationMessage.parse('{"stages": ' + "[" * 4000 + "}") is None
