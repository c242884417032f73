#!/usr/bin/env bash
# Install everything kbuild's build, tests and demo need on a fresh Debian
# bookworm machine, as root.  Idempotent: a second run only checks.
#
#   hack/setup.sh            system packages + Python venv (.venv)
#
# The venv lives in $KBUILD_VENV (default: <repo>/.venv); callers put its bin/
# first on PATH.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${KBUILD_VENV:-$repo/.venv}

packages=(
  # the build itself
  buildah skopeo podman uidmap fuse-overlayfs slirp4netns git openssh-client ca-certificates
  # source tests: git over ssh to a local sshd
  openssh-server
  # images/ recipes and the local registry
  debootstrap docker-registry
  # the test cluster (hack/cluster.sh installs its own list too)
  containerd runc containernetworking-plugins iptables openssl conntrack socat
  # checks; apparmor: its parser compiles the build pods' AppArmor profile
  # (no kernel support needed)
  shellcheck python3-venv curl apparmor
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's docker-registry package starts a system registry on :5000; the
# tests and the cluster start their own, so the packaged one must not squat.
if systemctl list-unit-files docker-registry.service >/dev/null 2>&1; then
  systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
fi

python=${PYTHON:-python3}
if [[ ! -x $venv/bin/python ]]; then
  "$python" -m venv "$venv"
fi
stamp=$venv/.kbuild-deps
want=$(sha256sum "$repo/pyproject.toml" "$repo/setup.py" | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -e "${repo}[dev]"
  echo "$want" >"$stamp"
fi
echo "setup: ok (venv $venv)"
