#!/usr/bin/env bash
# The end-to-end demo on a local default (no cluster): set up the machine,
# start a local registry, build the images kbuild needs, S2I-build the sample
# app from a git repository with `kbuild build`, check the pushed digest
# against the registry, run the image and ask it something.
#
#   bash hack/demo-local.sh   (as root; KBUILD_DEMO_PORT to move the registry)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash hack/setup.sh
export PATH="${KBUILD_VENV:-$repo/.venv}/bin:$PATH"

port=${KBUILD_DEMO_PORT:-5050}
registry=127.0.0.1:$port
state=$(mktemp -d /tmp/kbuild-demo.XXXXXX)
container=""
app_pid=""
cleanup() {
  [[ -n $app_pid ]] && kill "$app_pid" >/dev/null 2>&1
  [[ -n $container ]] && buildah rm "$container" >/dev/null 2>&1
  bash hack/registry.sh stop --port "$port" --dir "$state/registry" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "registry on $registry"
bash hack/registry.sh start --port "$port" --dir "$state/registry"

step "images (cached under ${KBUILD_CACHE_DIR:-/var/cache/kbuild})"
bash images/build.sh --registry "$registry" --tls-verify=false base s2i-python

step "a git repository holding the sample app"
src=$state/python-hello
cp -r examples/python-hello "$src"
git -C "$src" init -q -b main
git -C "$src" add -A
git -C "$src" -c user.name=demo -c user.email=demo@example.com commit -q -m "sample app"

step "kbuild build (S2I)"
image=$registry/demo/python-hello:latest
digest=$(kbuild build "$src" --strategy source \
  --builder "$registry/kbuild/s2i-python:3.11" --to "$image" \
  --insecure-registry "$registry")
echo "kbuild printed digest: $digest"
remote=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$image")
echo "registry says digest:  $remote"
[[ $digest == "$remote" ]] || { echo "digest mismatch" >&2; exit 1; }

step "run it"
# buildah's chroot isolation runs the image's CMD as its USER on the host
# network, without a container runtime daemon (runc cannot set rlimits in
# some sandboxes, which rules podman out there).
app_port=${KBUILD_DEMO_APP_PORT:-18080}
container=$(buildah from --tls-verify=false "$image@$digest")
buildah config --env PORT="$app_port" "$container"
buildah run --isolation chroot "$container" -- /usr/libexec/s2i/run >"$state/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 50); do
  if answer=$(curl -fsS "http://127.0.0.1:$app_port/" 2>/dev/null); then break; fi
  sleep 0.2
done
echo "the app answers: ${answer:-nothing}"
grep -q '"message": "hello from kbuild"' <<<"${answer:-}" || { echo "unexpected answer" >&2; exit 1; }
step "demo ok"
