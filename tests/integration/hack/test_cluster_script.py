"""hack/cluster.sh's process bookkeeping against real processes.

The script is sourced (it then only defines its functions) with its pid
directory pointed at a temporary one, so nothing here touches a running
cluster. What is tested: a pid file that outlived its process, whose pid
now names somebody else's process, is never signalled. That once killed the
CI run itself: the previous session's cluster had been killed with every
other process, and `up` cleaned the stale state with a SIGKILL to a pid
the CI's own shell had been given since.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CLUSTER_SH = Path(__file__).resolve().parents[3] / "hack" / "cluster.sh"


def _bash(pids: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run SCRIPT in bash after sourcing cluster.sh with PIDS as its pid dir."""
    return subprocess.run(
        ["bash", "-c", f'source "$1"; PIDS="$2"; {script}', "bash", str(CLUSTER_SH), str(pids)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _alive(proc: subprocess.Popen[bytes]) -> bool:
    return proc.poll() is None


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """A process that is not the cluster's: it must survive everything here."""
    proc = subprocess.Popen(["sleep", "300"])
    yield proc
    proc.kill()
    proc.wait()


def _component(name: str) -> subprocess.Popen[bytes]:
    """A process that carries NAME's marker, as `start`'s processes do."""
    return subprocess.Popen(["sleep", "300"], env={**os.environ, "KBUILD_CLUSTER_COMPONENT": name})


def test_stale_pid_files_naming_another_process_are_not_signalled(
    tmp_path: Path, stranger: subprocess.Popen[bytes]
) -> None:
    (tmp_path / "etcd.pid").write_text(f"{stranger.pid}\n")
    (tmp_path / "etcd.supervisor.pid").write_text(f"{os.getpid()}\n")

    result = _bash(tmp_path, "stop_component etcd")

    assert result.returncode == 0, result.stderr
    assert _alive(stranger)
    assert not (tmp_path / "etcd.pid").exists()
    assert "stopped etcd" not in result.stderr


def test_alive_and_is_up_do_not_trust_a_recycled_pid(
    tmp_path: Path, stranger: subprocess.Popen[bytes]
) -> None:
    (tmp_path / "kube-apiserver.supervisor.pid").write_text(f"{stranger.pid}\n")
    (tmp_path / "ready").touch()

    result = _bash(
        tmp_path,
        'STATE_DIR="$PIDS"; alive kube-apiserver supervisor && echo alive || echo dead; '
        "is_up && echo up || echo down",
    )

    assert result.stdout.split() == ["dead", "down"], result.stderr


def test_a_supervised_component_is_stopped(tmp_path: Path) -> None:
    """Started the way `start` starts one: supervise.sh, with the marker."""
    supervisor = subprocess.Popen(
        [
            "setsid",
            "env",
            "KBUILD_CLUSTER_COMPONENT=etcd",
            str(CLUSTER_SH.parent / "cluster" / "supervise.sh"),
            "etcd",
            str(tmp_path),
            str(tmp_path / "etcd.log"),
            "kbuild-test-no-such-cgroup",
            "--",
            "sleep",
            "300",
        ]
    )
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "etcd.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        component = int((tmp_path / "etcd.pid").read_text())

        result = _bash(tmp_path, "alive etcd && alive etcd supervisor && stop_component etcd")

        assert result.returncode == 0, result.stderr
        assert "stopped etcd" in result.stderr
        supervisor.wait(timeout=30)
        assert not Path(f"/proc/{component}").exists() or _zombie(component)
    finally:
        supervisor.kill()
        supervisor.wait()


def _zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(") ", 1)[1].startswith("Z")


def test_another_components_marker_is_not_enough(tmp_path: Path) -> None:
    other = _component("kubelet")
    try:
        (tmp_path / "etcd.pid").write_text(f"{other.pid}\n")

        result = _bash(tmp_path, "stop_component etcd")

        assert result.returncode == 0, result.stderr
        time.sleep(0.2)
        assert _alive(other)
    finally:
        other.kill()
        other.wait()


# Run in a mount namespace of its own (private: nothing reaches the host).
# A namespace file is a bind of this process's own network namespace, as
# containerd's are binds of a pod's; a bind of the directory over itself,
# made shared, is what rootful podman leaves on /run/netns.
_NETNS_SETUP = """
set -e
d=$2/netns; mkdir -p "$d"
touch "$d/cni-before" && mount --bind /proc/self/ns/net "$d/cni-before"
mount --bind "$d" "$d" && mount --make-shared "$d"
touch "$d/cni-after" && mount --bind /proc/self/ns/net "$d/cni-after"
set +e
source "$1"; NETNS_DIR=$d
mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }
"""


def _in_mount_namespace(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0:
        pytest.skip("mount namespaces and bind mounts need root")
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "bash", "-c", _NETNS_SETUP + script,
         "bash", str(CLUSTER_SH), str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_down_removes_a_pod_netns_hidden_under_podmans_bind_of_the_directory(
    tmp_path: Path,
) -> None:
    """The CI failure of 2026-12-04: `rm: cannot remove '/var/run/netns/cni-...': busy`.

    A pod's namespace mounted before podman bound /run/netns over itself
    cannot be unmounted or removed through the bind; `down` failed there,
    and with it the test run's teardown.
    """
    done = _in_mount_namespace(
        tmp_path,
        """
        # The hazard, as plain umount and rm meet it:
        umount "$d/cni-before" 2>/dev/null && echo "control: unmounted"
        rm -f "$d/cni-before" 2>/dev/null && echo "control: removed"
        remove_netns "$d/cni-before" || echo "remove_netns failed"
        [[ -e $d/cni-before ]] && echo "still there"
        mounted "$d/cni-before" && echo "still mounted"
        netns_dir_self_bound && echo "still bound"
        # One mounted through the bind was detached with it; its file is
        # plain now, and goes like any other:
        remove_netns "$d/cni-after"
        [[ -e $d/cni-after ]] && echo "after: still there"
        echo end
        """,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out == ["end"], (out, done.stderr)
    assert "bind-mounted over itself (podman) and hides" in done.stderr


def test_down_leaves_the_bind_alone_when_nothing_is_hidden(tmp_path: Path) -> None:
    done = _in_mount_namespace(
        tmp_path,
        """
        remove_netns "$d/cni-after"
        [[ -e $d/cni-after ]] && echo "still there"
        netns_dir_self_bound && echo "bind kept"
        echo end
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["bind kept", "end"], done.stderr
    assert done.stderr == ""


def test_netns_sh_tells_and_undoes_the_bind_as_a_command(tmp_path: Path) -> None:
    """What the buildpod-cache recipe and the image tests' podman fixture run."""
    netns_sh = CLUSTER_SH.parent / "netns.sh"
    done = _in_mount_namespace(
        tmp_path,
        f"""
        export NETNS_DIR=$d
        bash {netns_sh} self-bound && echo bound
        bash {netns_sh} unbind && echo unbound
        bash {netns_sh} self-bound || echo "not bound"
        bash {netns_sh} unbind && echo "unbind again: nothing to do"
        bash {netns_sh} frobnicate 2>/dev/null || echo "usage: $?"
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "bound",
        "unbound",
        "not bound",
        "unbind again: nothing to do",
        "usage: 2",
    ], done.stderr


def test_down_finds_a_forgotten_pod_netns_by_its_file_wherever_netns_dir_is(
    tmp_path: Path,
) -> None:
    """A crashed run's pod namespace, known only by its pod-subnet address.

    `ip -n NAME` would look for NAME in /run/netns only, whatever NETNS_DIR
    says; the namespaces here are nowhere else but in NETNS_DIR.
    """
    done = _in_mount_namespace(
        tmp_path,
        """
        d=$2/elsewhere; NETNS_DIR=$d; mkdir "$d"
        for name in cni-pod cni-other; do
            touch "$d/$name"
            unshare --net="$d/$name" true || echo "cannot make $name"
        done
        nsenter --net="$d/cni-pod" ip addr add "${NODE_POD_CIDR%.*}.7/24" dev lo
        nsenter --net="$d/cni-other" ip addr add 192.0.2.7/24 dev lo
        forgotten_netns
        if [[ -e /run/netns/cni-pod ]]; then echo "also in /run/netns?"; fi
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{tmp_path}/elsewhere/cni-pod"], done.stderr
