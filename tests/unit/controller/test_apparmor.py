"""The build pods' AppArmor profile, its loader, and the pod field that asks for it.

No kernel here enforces AppArmor, so the loader runs against a node root made
in a temporary directory, with a stand-in for the node's ``apparmor_parser``
that records what it was given and "loads" it by listing the profile where
the kernel would.  The profile itself is compiled by the real parser (Debian's,
hack/setup.sh installs it; no kernel support needed to compile).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from builder.controller import apparmor
from builder.controller.buildpod import pod_security_context


def _node(root: Path, *, enabled: bool, userns: bool = False) -> Path:
    (root / "sys/module/apparmor/parameters").mkdir(parents=True)
    (root / apparmor.ENABLED_FILE).write_text("Y\n" if enabled else "N\n")
    (root / "sys/kernel/security/apparmor").mkdir(parents=True)
    (root / apparmor.LOADED_FILE).write_text("cri-containerd.apparmor.d (enforce)\n")
    if userns:
        (root / apparmor.USERNS_FEATURE).parent.mkdir(parents=True)
        (root / apparmor.USERNS_FEATURE).write_text("yes\n")
    return root


def _parser(tmp_path: Path, root: Path, *, knows_userns: bool, fails: str = "") -> Path:
    """A stand-in for the node's apparmor_parser, reading the profile from stdin."""
    seen = tmp_path / "seen"
    seen.mkdir(exist_ok=True)
    script = tmp_path / "apparmor_parser"
    userns_check = "" if knows_userns else (
        'if grep -q "^  userns," "$f"; then echo "syntax error at userns" >&2; exit 1; fi\n'
    )  # fmt: skip
    failure = f'echo "{fails}" >&2; exit 1\n' if fails else ""
    script.write_text(
        "#!/bin/sh\n"
        f'f="{seen}/$(ls {seen} | wc -l)"; cat > "$f"\n'
        + userns_check
        + failure
        + f'echo "{apparmor.PROFILE_NAME} (enforce)" >> "{root / apparmor.LOADED_FILE}"\n'
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def node(tmp_path: Path) -> Path:
    return tmp_path / "node"


def _load(monkeypatch: pytest.MonkeyPatch, root: Path, parser: Path) -> tuple[bool, str]:
    monkeypatch.setattr(apparmor, "parser_command", lambda _root: [str(parser)])
    return apparmor.load_once(root)


def test_a_node_without_apparmor_loads_nothing_and_is_ready(
    tmp_path: Path, node: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _node(node, enabled=False)
    parser = _parser(tmp_path, node, knows_userns=True)
    assert _load(monkeypatch, node, parser) == (
        True, "AppArmor is not enabled on this node: nothing to load",
    )  # fmt: skip
    assert not list((tmp_path / "seen").iterdir())
    assert apparmor.main(["check", "--root", str(node)]) == 0
    # No sys/module/apparmor at all (a kernel built without it): the same.
    assert apparmor.main(["check", "--root", str(tmp_path / "empty")]) == 0


def test_the_profile_is_loaded_once_and_then_left_alone(
    tmp_path: Path, node: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _node(node, enabled=True)
    assert apparmor.main(["check", "--root", str(node)]) == 1
    parser = _parser(tmp_path, node, knows_userns=False)
    assert _load(monkeypatch, node, parser) == (True, f"loaded {apparmor.PROFILE_NAME}")
    assert apparmor.main(["check", "--root", str(node)]) == 0
    assert _load(monkeypatch, node, parser) == (True, f"{apparmor.PROFILE_NAME} is loaded")
    (given,) = (tmp_path / "seen").iterdir()
    text = given.read_text()
    assert text == apparmor.profile_text(userns=False)
    assert f"profile {apparmor.PROFILE_NAME} " in text
    for rule in ("  mount,", "  umount,", "  pivot_root,", "  deny @{PROC}/kcore rwklx,"):
        assert rule in text.splitlines(), rule
    assert "userns" not in text.replace("unprivileged_userns", "")


def test_userns_is_allowed_where_the_kernel_mediates_it(
    tmp_path: Path, node: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _node(node, enabled=True, userns=True)
    parser = _parser(tmp_path, node, knows_userns=True)
    assert _load(monkeypatch, node, parser) == (True, f"loaded {apparmor.PROFILE_NAME}")
    (given,) = (tmp_path / "seen").iterdir()
    assert "  userns,\n" in given.read_text()


def test_a_parser_too_old_for_userns_gets_the_profile_without_it_and_says_so(
    tmp_path: Path, node: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _node(node, enabled=True, userns=True)
    parser = _parser(tmp_path, node, knows_userns=False)
    ready, said = _load(monkeypatch, node, parser)
    assert ready
    assert said.startswith(f"loaded {apparmor.PROFILE_NAME} without the userns rule")
    assert "apparmor_restrict_unprivileged_userns" in said
    assert len(list((tmp_path / "seen").iterdir())) == 2


def test_a_parser_failure_is_not_ready_and_says_what_the_parser_said(
    tmp_path: Path, node: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _node(node, enabled=True)
    parser = _parser(tmp_path, node, knows_userns=True, fails="cannot open /sys/kernel/security")
    ready, said = _load(monkeypatch, node, parser)
    assert not ready
    assert said == (f"could not load {apparmor.PROFILE_NAME}: cannot open /sys/kernel/security")
    assert apparmor.main(["check", "--root", str(node)]) == 1


def test_the_node_parser_runs_in_the_nodes_root_without_writing_its_cache() -> None:
    assert apparmor.parser_command(Path("/host")) == [
        "chroot", "/host", "apparmor_parser", "--replace", "--skip-cache",
    ]  # fmt: skip


@pytest.mark.skipif(shutil.which("apparmor_parser") is None, reason="hack/setup.sh installs it")
def test_the_profile_compiles_with_the_real_parser(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    profile.write_text(apparmor.profile_text(userns=False))
    # -Q: compile only, load nothing; -K: no cache. Needs no AppArmor kernel.
    done = subprocess.run(["apparmor_parser", "-Q", "-K", str(profile)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    profile.write_text(apparmor.profile_text(userns=True))
    done = subprocess.run(["apparmor_parser", "-Q", "-K", str(profile)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    version = subprocess.run(
        ["apparmor_parser", "--version"], capture_output=True, text=True, check=True
    )
    if "version 3." in version.stdout:
        # Debian bookworm's 3.0: the rule is what the loader drops for it.
        assert done.returncode != 0
        assert "line 23" in done.stderr, done.stderr
        assert apparmor.profile_text(userns=True).splitlines()[22] == "  userns,"
    else:
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("flag", "field"),
    [
        ("", None),
        ("Unconfined", {"type": "Unconfined"}),
        ("kbuild-buildah-v1", {"type": "Localhost", "localhostProfile": "kbuild-buildah-v1"}),
    ],
)
def test_the_pod_asks_for_an_apparmor_profile_only_when_told(
    flag: str, field: dict[str, str] | None
) -> None:
    assert pod_security_context(apparmor=flag).get("appArmorProfile") == field
