"""The build pods' seccomp profile: generated, current, narrow, installed where pods look."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.controller import seccomp
from builder.controller.buildpod import pod_security_context

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY = REPO_ROOT / "deploy"

CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = {
    "NEWTIME": CLONE_NEWTIME,
    "NEWNS": CLONE_NEWNS,
    "NEWCGROUP": CLONE_NEWCGROUP,
    "NEWUTS": CLONE_NEWUTS,
    "NEWIPC": CLONE_NEWIPC,
    "NEWUSER": CLONE_NEWUSER,
    "NEWPID": CLONE_NEWPID,
    "NEWNET": CLONE_NEWNET,
}


def rules(name: str) -> list[dict[str, Any]]:
    return [r for r in seccomp.profile()["syscalls"] if name in r["names"]]


def allows(name: str, arg0: int = 0) -> bool:
    """Whether the profile lets ``name(arg0, ...)`` through, evaluated as libseccomp would."""
    for rule in rules(name):
        if rule["action"] != "SCMP_ACT_ALLOW":
            continue
        checks = rule.get("args") or []
        if all(
            (arg0 & check["value"]) == check["valueTwo"]
            if check["op"] == "SCMP_CMP_MASKED_EQ"
            else arg0 == check["value"]
            for check in checks
        ):
            return True
    return False


def test_committed_files_are_the_generated_ones() -> None:
    for path, text in seccomp.generated().items():
        assert path.read_text() == text, f"{path} is stale: python -m builder.controller.seccomp"
    assert seccomp.main(["--check"]) == 0


def test_a_published_profile_never_changes_under_its_name() -> None:
    # Nodes keep old files: a changed rule needs a new file name (PROFILE_VERSION).
    assert seccomp.PUBLISHED[seccomp.PROFILE_FILE] == seccomp.digest(seccomp.profile_json())


def test_the_format_is_the_oci_one_containerd_reads() -> None:
    profile = json.loads((DEPLOY / "seccomp" / seccomp.PROFILE_FILE).read_text())
    assert set(profile) == {"defaultAction", "defaultErrnoRet", "architectures", "syscalls"}
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    for rule in profile["syscalls"]:
        # No Docker-format conditions: containerd would ignore them and apply the rule.
        assert set(rule) <= {"names", "action", "args", "errnoRet"}, rule
        assert rule["names"] == sorted(rule["names"])


def test_additions_are_exactly_the_documented_ones() -> None:
    assert set(seccomp.ADDED) == {
        "unshare", "mount", "umount2", "chroot", "pivot_root", "sethostname",
    }  # fmt: skip
    assert not set(seccomp.ADDED) & set(seccomp.RUNTIME_DEFAULT)
    for name in seccomp.ADDED:
        assert allows(name, CLONE_NEWUSER if name == "unshare" else 0), name
    # The documentation table names each one.
    doc = (REPO_ROOT / "docs" / "build-pod.md").read_text()
    for name in seccomp.ADDED:
        assert f"`{name}`" in doc, name


@pytest.mark.parametrize(
    "name",
    # CAP_SYS_ADMIN calls buildah does not make, and the new mount API.
    ["setns", "keyctl", "bpf", "perf_event_open", "fsopen", "fsmount", "move_mount",
     "open_tree", "mount_setattr", "init_module", "kexec_load", "reboot", "swapon"],
)  # fmt: skip
def test_what_buildah_does_not_call_stays_refused(name: str) -> None:
    assert not allows(name), name


def test_clone_and_clone3_are_the_runtime_default() -> None:
    assert not allows("clone", CLONE_NEWUSER)
    assert allows("clone", 0x3D0F00)  # a thread: CLONE_VM|FS|FILES|SIGHAND|THREAD|...
    [clone3] = rules("clone3")
    assert clone3["action"] == "SCMP_ACT_ERRNO"
    assert clone3["errnoRet"] == seccomp.ENOSYS  # glibc then falls back to clone


@pytest.mark.parametrize(
    ("flags", "allowed"),
    [
        (("NEWUSER",), True),
        (("NEWNS",), True),
        (("NEWNS", "NEWUTS"), True),
        (("NEWUSER", "NEWNS"), True),
        (("NEWNET",), False),
        (("NEWUSER", "NEWNET"), False),
        (("NEWIPC",), False),
        (("NEWPID",), False),
        (("NEWCGROUP",), False),
        (("NEWTIME",), False),
    ],
)
def test_unshare_makes_user_mount_and_uts_namespaces_only(
    flags: tuple[str, ...], allowed: bool
) -> None:
    value = 0
    for flag in flags:
        value |= NAMESPACES[flag]
    assert allows("unshare", value) is allowed


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_unshare_never_lets_a_network_namespace_through(flags: int) -> None:
    if allows("unshare", flags):
        assert flags & ~seccomp.UNSHARE_FLAGS == 0
        assert not flags & CLONE_NEWNET


def test_the_installer_puts_the_profile_where_the_pod_names_it() -> None:
    [config_map] = [
        d
        for d in yaml.safe_load_all((DEPLOY / "seccomp-profile.yaml").read_text())
        if d["kind"] == "ConfigMap"
    ]
    docs = [d for d in yaml.safe_load_all((DEPLOY / "seccomp-installer.yaml").read_text()) if d]
    [namespace] = [d for d in docs if d["kind"] == "Namespace"]
    [daemon_set] = [d for d in docs if d["kind"] == "DaemonSet"]
    assert namespace["metadata"]["name"] == config_map["metadata"]["namespace"]
    assert daemon_set["metadata"]["namespace"] == seccomp.NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    pod = daemon_set["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["profiles"]["configMap"]["name"] == config_map["metadata"]["name"]
    host = volumes["host"]["hostPath"]["path"]
    profile = pod_security_context()["seccompProfile"]["localhostProfile"]
    directory, _, file_name = profile.rpartition("/")
    # <kubelet root>/seccomp/<directory>/<file>: the file is a key of the ConfigMap.
    assert host == f"/var/lib/kubelet/seccomp/{directory}"
    assert file_name in config_map["data"]
    assert json.loads(config_map["data"][file_name]) == seccomp.profile()
    container = pod["containers"][0]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["tolerations"] == [{"operator": "Exists"}]


@pytest.mark.parametrize(
    "manifest", ["rbac.yaml", "seccomp-installer.yaml", "seccomp-profile.yaml"]
)
def test_the_controller_namespace_is_declared_the_same_in_every_manifest(manifest: str) -> None:
    # Any file may be applied first; one applied without the label would remove
    # it (kubectl apply drops what the last-applied configuration had).
    docs = [d for d in yaml.safe_load_all((DEPLOY / manifest).read_text()) if d]
    [namespace] = [d for d in docs if d["kind"] == "Namespace"]
    assert namespace["metadata"] == {
        "name": "kbuild-system",
        "labels": {"pod-security.kubernetes.io/enforce": "privileged"},
    }
    assert docs[0] is namespace, "first, so that the rest of the file has somewhere to go"
