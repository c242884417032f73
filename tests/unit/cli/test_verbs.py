"""The cluster verbs' arguments, pure helpers and error handling (no cluster)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from builder.api import EnvVar
from builder.cli import main
from builder.cli.args import duration_seconds
from builder.cli.cancelbuild import states
from builder.cli.common import (
    BUILD_CONFIGS,
    BUILDS,
    CliError,
    default_namespace,
    run_guarded,
    server_message,
    split_ref,
)
from builder.cli.follow import container_state, failure, init_containers, main_container
from builder.cli.logs import build_name_for
from builder.cli.startbuild import clone_of, options_from_args, target
from builder.kube import NotFound
from tests.unit.cli.helpers import COMMIT, DOCKER_STRATEGY, build, build_config


def parse(*argv: str) -> argparse.Namespace:
    return main.parser().parse_args(list(argv))


# ---------------------------------------------------------------------------
# start-build


def test_start_build_flags() -> None:
    ns = parse(
        "start-build", "bc/app", "-F", "-w", "-e", "A=1", "--env", "B=two=2",
        "--build-arg", "V=3", "--no-cache", "--commit", "abc", "-n", "dev",
        "--kubeconfig", "/k", "--build-loglevel", "5",
    )  # fmt: skip
    assert (ns.name, ns.follow, ns.wait, ns.namespace, ns.kubeconfig) == (
        "bc/app",
        True,
        True,
        "dev",
        "/k",
    )
    assert ns.env == [("A", "1"), ("B", "two=2")]
    options = options_from_args(ns)
    assert [c.message for c in options.causes] == ["Manually triggered"]
    assert options.env == (
        EnvVar(name="A", value="1"),
        EnvVar(name="B", value="two=2"),
        EnvVar(name="BUILD_LOGLEVEL", value="5"),
    )
    assert options.build_args == (EnvVar(name="V", value="3"),)
    assert options.no_cache is True
    assert options.commit == "abc"
    assert target(ns) == ("bc", "app")


def test_start_build_leaves_no_cache_alone_unless_given() -> None:
    assert options_from_args(parse("start-build", "app")).no_cache is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["start-build"], "must pass a name of a build config"),
        (["start-build", "build/app-1"], "use --from-build to rerun your builds"),
        (["start-build", "app", "--from-build", "app-1"], "not both"),
        (["start-build", "pods/x"], "doesn't have a resource type"),
    ],
)
def test_start_build_argument_errors(argv: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message):
        target(parse(*argv))


def test_start_build_from_build_target() -> None:
    assert target(parse("start-build", "--from-build", "app-1")) == ("build", "app-1")


def test_start_build_rejects_a_malformed_env() -> None:
    with pytest.raises(SystemExit):
        parse("start-build", "app", "-e", "no-equals-sign")


def test_clone_keeps_the_spec_and_numbers_from_the_build_config() -> None:
    source = build(
        "app-2",
        phase="Failed",
        strategy={"dockerStrategy": {"env": [{"name": "A", "value": "old"}]}},
        spec={"revision": {"type": "Git", "git": {"commit": COMMIT}}},
        status={"reason": "DockerBuildFailed"},
    )
    source.metadata.annotations["openshift.io/build.pod-name"] = "app-2-build"
    source.metadata.annotations["team"] = "blue"
    bc = build_config(last_version=5, spec={"runPolicy": "Parallel"})
    options = options_from_args(parse("start-build", "--from-build", "app-2", "-e", "A=new"))
    clone = clone_of(source, bc, 5, options)
    meta = clone.metadata
    assert meta.name == "app-5"
    assert meta.annotations["openshift.io/build.clone-of"] == "app-2"
    assert meta.annotations["openshift.io/build.number"] == "5"
    assert meta.annotations["team"] == "blue"
    assert "openshift.io/build.pod-name" not in meta.annotations
    assert meta.labels["openshift.io/build.start-policy"] == "Parallel"
    assert [(o.kind, o.name) for o in meta.owner_references] == [("BuildConfig", "app")]
    # The clone builds what the old build built (its commit), not the config's spec.
    assert clone.spec.revision is not None and clone.spec.revision.git is not None
    assert clone.spec.revision.git.commit == COMMIT
    docker = clone.spec.strategy.docker_strategy
    assert docker is not None
    assert [(e.name, e.value) for e in docker.env] == [("A", "new")]
    assert [c.message for c in clone.spec.triggered_by or []] == ["Manually triggered"]
    assert clone.status.phase.value == "New"
    assert not clone.status.reason


def test_clone_without_build_config_gets_a_time_suffix() -> None:
    source = build("handmade-1234567890", strategy=DOCKER_STRATEGY)
    clone = clone_of(source, None, 0, options_from_args(parse("start-build", "--from-build", "x")))
    base, _, suffix = clone.metadata.name.rpartition("-")
    assert base == "handmade"
    assert len(suffix) == 10 and suffix.isdigit()
    assert "openshift.io/build.number" not in clone.metadata.annotations
    assert clone.metadata.annotations["openshift.io/build.clone-of"] == source.metadata.name
    assert clone.metadata.owner_references == []


# ---------------------------------------------------------------------------
# logs, cancel-build, get, describe arguments


def test_logs_flags_and_bc_version() -> None:
    ns = parse("logs", "-f", "bc/app", "--version", "2", "-n", "dev")
    assert (ns.target, ns.follow, ns.version, ns.namespace) == ("bc/app", True, 2, "dev")
    assert build_name_for("app", 0, 7) == "app-7"
    assert build_name_for("app", 2, 7) == "app-2"
    with pytest.raises(CliError, match="no builds yet"):
        build_name_for("app", 0, 0)


def test_cancel_build_flags() -> None:
    ns = parse("cancel-build", "app-1", "bc/app", "--state", "new,Running", "--timeout", "2m")
    assert ns.targets == ["app-1", "bc/app"]
    assert ns.state == ["new", "running"]
    assert ns.timeout == 120.0
    assert parse("cancel-build", "x").state == ["new", "pending", "running"]
    assert duration_seconds("1.5") == 1.5
    assert duration_seconds("250ms") == 0.25
    with pytest.raises(argparse.ArgumentTypeError):
        states("complete")
    with pytest.raises(argparse.ArgumentTypeError):
        duration_seconds("soon")


def test_get_and_describe_flags() -> None:
    ns = parse("get", "builds", "app-1", "-o", "yaml", "-l", "a=b", "-A")
    assert (ns.args, ns.output, ns.selector, ns.all_namespaces) == (
        ["builds", "app-1"],
        "yaml",
        "a=b",
        True,
    )
    assert parse("describe", "bc/app", "--context", "c").context == "c"


def test_split_ref() -> None:
    assert split_ref("bc/app", None) == (BUILD_CONFIGS, "app")
    assert split_ref("builds.build.openshift.io/a-1", None) == (BUILDS, "a-1")
    assert split_ref("a-1", BUILDS) == (BUILDS, "a-1")
    with pytest.raises(CliError):
        split_ref("a-1", None)
    with pytest.raises(CliError):
        split_ref("bc/", None)


# ---------------------------------------------------------------------------
# Following a build


def pod(init: list[tuple[str, dict[str, Any]]], main_state: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": {
            "initContainers": [{"name": n} for n, _ in init],
            "containers": [{"name": "istio-proxy"}, {"name": "sti-build"}],
        },
        "status": {
            "initContainerStatuses": [{"name": n, "state": s} for n, s in init],
            "containerStatuses": [{"name": "sti-build", "state": main_state}],
        },
    }


def test_container_states() -> None:
    p = pod(
        [
            ("git-clone", {"terminated": {"exitCode": 0}}),
            ("manage-dockerfile", {"terminated": {"exitCode": 2}}),
        ],
        {"waiting": {"reason": "PodInitializing"}},
    )
    assert init_containers(p) == ["git-clone", "manage-dockerfile"]
    assert main_container(p) == "sti-build"  # the build container, not a sidecar
    assert container_state(p, "git-clone", True) == ("terminated", 0)
    assert container_state(p, "manage-dockerfile", True) == ("terminated", 2)
    assert container_state(p, "sti-build", False) == ("waiting", None)
    assert container_state(p, "absent", True) == ("waiting", None)
    running = pod([], {"running": {}})
    assert container_state(running, "sti-build", False) == ("running", None)


def test_failure_line_of_each_final_phase() -> None:
    assert failure(build(phase="Complete")) is None
    failed = failure(
        build(phase="Failed", status={"reason": "DockerBuildFailed", "message": "step 2 failed"})
    )
    assert str(failed) == (
        'DockerBuildFailed: the build dev/app-1 status is "Failed": step 2 failed'
    )
    assert str(failure(build(phase="Error"))) == 'Error: the build dev/app-1 status is "Error"'


# ---------------------------------------------------------------------------
# Namespaces and errors


def test_default_namespace_reads_the_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "current-context: x\ncontexts:\n- name: x\n  context: {namespace: from-file}\n"
    )
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{config}")
    assert default_namespace(None, None) == "from-file"
    assert default_namespace(str(tmp_path / "missing"), None) == "default"


def test_server_message() -> None:
    body = '{"kind":"Status","message":"builds.build.openshift.io \\"x\\" is forbidden:\\n no"}'
    assert server_message(body) == 'builds.build.openshift.io "x" is forbidden: no'
    assert server_message("plain\ntext") == "plain text"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (CliError('buildconfigs.build.openshift.io "x" not found'),
         'error: buildconfigs.build.openshift.io "x" not found\n'),
        (NotFound(404, '{"message": "builds.build.openshift.io \\"y\\" not found"}'),
         'error: builds.build.openshift.io "y" not found\n'),
        (ConnectionRefusedError(111, "Connection refused"),
         "error: unable to connect to the server: [Errno 111] Connection refused\n"),
        (ValueError("bad\nthing"), "error: ValueError: bad thing\n"),
    ],
)  # fmt: skip
def test_run_guarded_prints_one_line(
    error: Exception, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def verb(_ns: argparse.Namespace) -> int:
        raise error

    assert run_guarded(verb, argparse.Namespace()) == 1
    captured = capsys.readouterr()
    assert captured.err == expected
    assert captured.out == ""


def test_run_guarded_interrupt_is_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    def verb(_ns: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    assert run_guarded(verb, argparse.Namespace()) == 130
    assert capsys.readouterr().err == ""


def test_a_missing_kubeconfig_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main.main(["get", "bc", "--kubeconfig", str(tmp_path / "nope"), "-n", "x"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("error: invalid configuration: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
