"""The AppArmor profile of the build containers, and the node loader that installs it.

    python -m builder.controller.apparmor print [--userns]   # the profile's text
    python -m builder.controller.apparmor load --root /host  # what deploy/apparmor-loader.yaml runs
    python -m builder.controller.apparmor check --root /host # its readiness: loaded, or no AppArmor

Where a node's kernel enforces AppArmor (Ubuntu, Debian, SUSE nodes), the
container runtime confines every container with its default profile
(containerd's ``cri-containerd.apparmor.d``, CRI-O's ``crio-default``), which
denies ``mount``: rootless buildah cannot mount its overlay or the RUN step's
``/proc``.  Since AppArmor 4.0 (Ubuntu 23.10 onwards, with
``kernel.apparmor_restrict_unprivileged_userns=1``) the profile must also
allow ``userns`` or the build cannot create its user namespace at all.  Pod
Security ``baseline`` admits ``RuntimeDefault`` and ``Localhost`` AppArmor
profiles and forbids ``Unconfined``, so, as with seccomp, build pods run
under a ``Localhost`` profile (``PROFILE_NAME``) that is the runtime
default's confinement plus

- ``mount``, ``umount`` and ``pivot_root``: the kernel still requires
  CAP_SYS_ADMIN over the mount namespace, which a build container holds only
  in the user namespace buildah made, over nothing but its own mounts (the
  same argument as for the seccomp profile's ``mount``);
- ``userns`` where the kernel mediates user namespace creation: what any
  unprivileged process may do where that restriction is off.

Not narrowed to the mount types buildah uses: that needs an AppArmor node to
observe (the test node's kernel has no AppArmor), and a profile that denies
a mount buildah makes fails every build.  The file rules of the runtime's
default (no writes to most of ``/proc`` and ``/sys``) are kept.

The loader runs the *node's own* ``apparmor_parser`` (``chroot`` into the
host's root, mounted read-only), so the profile is compiled for the node's
AppArmor version, and reads the profile from stdin: nothing is written to
the node.  It loads it again every minute if it is missing (after an
``apparmor.service`` reload, say); on a node without AppArmor it loads
nothing and is ready all the same.  A build pod that asks for the profile on
a node without it fails with ``CannotCreateBuildPod`` naming it
(``builder.controller.podstatus``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

PROFILE_VERSION = 1
PROFILE_NAME = f"kbuild-buildah-v{PROFILE_VERSION}"

# Below the node's root (the loader's --root).
ENABLED_FILE = "sys/module/apparmor/parameters/enabled"
LOADED_FILE = "sys/kernel/security/apparmor/profiles"
USERNS_FEATURE = "sys/kernel/security/apparmor/features/namespaces/userns_create"

_HEADER = """\
# kbuild build pods' AppArmor profile (builder/controller/apparmor.py,
# docs/build-pod.md). Loaded on every node that enforces AppArmor by
# deploy/apparmor-loader.yaml.
#include <tunables/global>

profile {name} flags=(attach_disconnected,mediate_deleted) {{
  #include <abstractions/base>

  # As under the runtime's default profile.
  network,
  capability,
  file,
  signal (receive) peer=unconfined,
  signal (send,receive) peer={name},
  ptrace (trace,tracedby,read,readby) peer={name},

  # Rootless buildah: mounts inside the user namespace it makes (overlay,
  # the RUN step's /proc, /sys and /dev, bind mounts), and its root switch.
  mount,
  umount,
  pivot_root,
"""

_USERNS = """\
  # Creating that user namespace (mediated since AppArmor 4.0).
  userns,
"""

_FOOTER = """\

  # Kernel interfaces no build writes, as the runtime's default denies them:
  # /proc except a process's own entries and /proc/sys/kernel/shm*, and /sys
  # except the cgroup tree.
  deny @{{PROC}}/* w,
  deny @{{PROC}}/{{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9/]*}}/** w,
  deny @{{PROC}}/sys/[^k]** w,
  deny @{{PROC}}/sys/kernel/{{?,??,[^s][^h][^m]**}} w,
  deny @{{PROC}}/sysrq-trigger rwklx,
  deny @{{PROC}}/kcore rwklx,
  deny /sys/[^f]*/** wklx,
  deny /sys/f[^s]*/** wklx,
  deny /sys/fs/[^c]*/** wklx,
  deny /sys/fs/c[^g]*/** wklx,
  deny /sys/fs/cg[^r]*/** wklx,
  deny /sys/firmware/** rwklx,
  deny /sys/devices/virtual/powercap/** rwklx,
  deny /sys/kernel/security/** rwklx,
}}
"""


def profile_text(*, userns: bool) -> str:
    """The profile; ``userns`` adds the rule that only AppArmor >= 4.0 parsers know."""
    return (
        _HEADER.format(name=PROFILE_NAME)
        + (_USERNS if userns else "")
        + _FOOTER.format(name=PROFILE_NAME)
    )


def enabled(root: Path) -> bool:
    """Whether the node's kernel enforces AppArmor (what the kubelet checks too)."""
    try:
        return (root / ENABLED_FILE).read_text().strip().upper().startswith("Y")
    except OSError:
        return False


def loaded(root: Path, name: str = PROFILE_NAME) -> bool:
    """Whether ``name`` is among the kernel's loaded profiles ("name (mode)" lines)."""
    try:
        lines = (root / LOADED_FILE).read_text().splitlines()
    except OSError:
        return False
    return any(line.rsplit(" (", 1)[0] == name for line in lines)


def parser_command(root: Path) -> list[str]:
    """The node's parser, replacing the profile read from stdin, without its cache.

    ``--skip-cache``: the node's cache directory is not written (the root is
    mounted read-only); compiling one small profile takes milliseconds.
    """
    return ["chroot", str(root), "apparmor_parser", "--replace", "--skip-cache"]


def load_once(root: Path) -> tuple[bool, str]:
    """Load the profile if the node enforces AppArmor and lacks it; (ready, what happened)."""
    if not enabled(root):
        return True, "AppArmor is not enabled on this node: nothing to load"
    if loaded(root):
        return True, f"{PROFILE_NAME} is loaded"
    userns = (root / USERNS_FEATURE).exists()
    attempts = [True, False] if userns else [False]
    said = ""
    for with_userns in attempts:
        done = subprocess.run(
            parser_command(root),
            input=profile_text(userns=with_userns),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and loaded(root):
            note = "" if with_userns or not userns else (
                " without the userns rule, which this node's apparmor_parser does not know:"
                " builds fail if kernel.apparmor_restrict_unprivileged_userns is 1"
            )  # fmt: skip
            return True, f"loaded {PROFILE_NAME}{note}"
        said = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
    return False, f"could not load {PROFILE_NAME}: {said}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m builder.controller.apparmor")
    verbs = parser.add_subparsers(dest="verb", required=True)
    printed = verbs.add_parser("print", help="write the profile to stdout")
    printed.add_argument("--userns", action="store_true", help="with the AppArmor 4 userns rule")
    for verb in ("load", "check"):
        sub = verbs.add_parser(verb)
        sub.add_argument("--root", type=Path, default=Path("/host"), help="the node's root")
    verbs.choices["load"].add_argument("--interval", type=float, default=60.0)
    verbs.choices["load"].add_argument("--once", action="store_true")
    args = parser.parse_args(argv)
    if args.verb == "print":
        sys.stdout.write(profile_text(userns=args.userns))
        return 0
    if args.verb == "check":
        return 0 if not enabled(args.root) or loaded(args.root) else 1
    said = ""
    while True:
        ready, what = load_once(args.root)
        if what != said:  # each change once, not a line a minute
            print(what, flush=True)
            said = what
        if args.once:
            return 0 if ready else 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
