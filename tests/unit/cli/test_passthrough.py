"""Which ``kbuild get|describe|logs`` command lines kubectl serves (Kubernetes' own kinds)."""

from __future__ import annotations

import pytest

from builder.cli.passthrough import delegated, exec_kubectl

CASES = [
    (["get", "pod"], True),
    (["get", "pods", "-w"], True),
    (["-n", "dev", "get", "deployment"], True),
    (["get", "-o", "yaml", "deployment", "myapp"], True),
    (["get", "pod", "myapp-1", "-o", "jsonpath={.spec.containers[0].image}"], True),
    (["get", "deploy/myapp", "svc/myapp"], True),
    (["describe", "deployment", "myapp"], True),
    (["logs", "myapp-75c97cd8f-m5pjk"], False),  # a pod: kbuild logs reads it
    (["logs", "-f", "pod/myapp-1", "-c", "app"], False),
    (["logs", "deployment/myapp", "--tail", "1"], True),
    (["get", "is"], False),
    (["get", "istag"], False),
    (["get", "bc", "-o", "name"], False),
    (["get", "buildconfigs.build.openshift.io"], False),
    (["get", "is,pods"], False),
    (["get", "bc/app", "pod/x"], False),
    (["get", "dc"], False),
    (["get", "templates", "-n", "openshift"], False),
    (["describe", "is/ubi"], False),
    (["describe", "buildconfigs/nodejs-ex"], False),
    (["logs", "-f", "bc/nodejs-ex"], False),
    (["logs", "build/app-1"], False),
    (["logs", "dc/foo"], False),
    (["get"], False),
    (["new-app", "pod"], False),
    (["start-build", "pods"], False),
]


@pytest.mark.parametrize(("argv", "kubectl"), CASES)
def test_kubernetes_kinds_go_to_kubectl(argv: list[str], kubectl: bool) -> None:
    assert delegated(argv) is kubectl


def test_no_kubectl_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KBUILD_KUBECTL", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert exec_kubectl(["get", "pods"]) == 1
    assert capsys.readouterr().err.startswith("error: 'kbuild get' of Kubernetes' own kinds")
