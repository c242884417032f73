# shellcheck shell=bash
# What the seed replays share: the cluster, namespaces, a git server, a
# controller per namespace, and `step`, which prints a command as the
# transcript shows it, then runs it and prints its output.
#
# The seeds (../shared/seeds) are transcripts of `oc` sessions. A replay runs
# each of their command lines with `oc` replaced by `kbuild`, registries and
# git servers replaced by local ones, and nothing else changed. What the
# transcript did by hand outside `oc` (docker push, the admin's master-config
# edit, `oc login`) is done by a `setup` line, printed with a leading `#`.
#
# Environment:
#   SEED_PREFIX        namespace prefix (default h-cliverbs-: the shared cluster's
#                      rule); SEED_PREFIX= replays with the transcript's own names
#   SEED_PORT_BASE     first of the ports used here (git daemon, controllers;
#                      default 5240)
#   KBUILD_TEST_BUILDPOD_TAG  tag of kbuild/buildpod the build pods run (latest)
#   SEED_KEEP=1        leave the namespaces and the work directory behind
set -uo pipefail

SEEDS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SEEDS_DIR/../.." && pwd)"
eval "$(bash "$REPO_ROOT/hack/cluster.sh" env)"
ADMIN_KUBECONFIG="$KUBECONFIG"
REG="$KBUILD_REGISTRY"                  # every registry of the transcripts
POD_HOST="${REG%:*}"                    # an address of this machine pods reach
PREFIX="${SEED_PREFIX-h-cliverbs-}"
PORT_BASE="${SEED_PORT_BASE:-5240}"
BUILDPOD_TAG="${KBUILD_TEST_BUILDPOD_TAG:-latest}"
WORK="$(mktemp -d /tmp/kbuild-seed.XXXXXX)"
CONTROLLERS=()
NAMESPACES=()
GIT_PID=""

if [[ -x "$REPO_ROOT/.venv/bin/kbuild" ]]; then
    PATH="$REPO_ROOT/.venv/bin:$PATH"
fi
command -v kbuild >/dev/null || { echo "kbuild is not installed (pip install -e .)" >&2; exit 2; }
kubectl() { "$KBUILD_KUBECTL" "$@"; }
export -f kubectl 2>/dev/null || true
export KBUILD_KUBECTL

# The user's kubeconfig: a copy of the admin's whose context namespace is the
# "current project", as `oc project` / `oc login` set it.
export KUBECONFIG="$WORK/kubeconfig"
# The user's client trusts the local registry over plain HTTP, as a docker
# daemon's insecure-registries list would (new-app reads builder images' ports).
export KBUILD_INSECURE_REGISTRIES="$REG"
# oc's `openshift` project, where new-app looks for builders after the current one.
export KBUILD_SHARED_NAMESPACE="${PREFIX}openshift"
cp "$ADMIN_KUBECONFIG" "$KUBECONFIG"

setup() { printf '# setup: %s\n' "$*"; }

# fail 'WHAT': a setup command failed; the replay cannot go on, so it ends here.
fail() { printf '# setup failed: %s\n' "$*"; exit 1; }

# step 'COMMAND LINE': print it as the transcript does, run it, print its output.
step() {
    printf '\n$ %s\n' "$1"
    local rc
    bash -o pipefail -c "$1" 2>&1
    rc=$?
    ((rc == 0)) || printf '[exit status %d]\n' "$rc"
    return 0
}

# step_for SECONDS 'COMMAND LINE': a command that runs until stopped (-w, -f): stopped after SECONDS.
step_for() {
    printf '\n$ %s\n' "$2"
    local rc
    timeout "$1" bash -o pipefail -c "$2" 2>&1
    rc=$?
    if ((rc == 124)); then
        printf '^C (stopped after %ss)\n' "$1"
    elif ((rc != 0)); then
        printf '[exit status %d]\n' "$rc"
    fi
    return 0
}

# wait_until SECONDS 'TEST': poll a shell test until it holds (quietly).
wait_until() {
    local deadline=$((SECONDS + $1))
    until bash -c "$2" >/dev/null 2>&1; do
        # What follows depends on it: the replay ends here rather than
        # waiting on every later step in turn.
        ((SECONDS < deadline)) || { printf '# gave up waiting for: %s\n' "$2"; exit 1; }
        sleep 2
    done
}

project() {
    "$KBUILD_KUBECTL" config set-context --current --namespace="$1" >/dev/null
}

make_namespace() {
    local ns="$1"
    "$KBUILD_KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" delete namespace "$ns" --wait=true \
        --ignore-not-found >/dev/null 2>&1
    "$KBUILD_KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" create namespace "$ns" >/dev/null
    # Build pods run under Pod Security "baseline" (docs/build-pod.md).
    "$KBUILD_KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" label namespace "$ns" \
        pod-security.kubernetes.io/enforce=baseline >/dev/null
    NAMESPACES+=("$ns")
    until "$KBUILD_KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" -n "$ns" get sa default >/dev/null 2>&1
    do sleep 1; done
}

# grant_pull NS GROUP: OpenShift's system:image-puller in NS for GROUP, as a Role
# (no cluster-scoped objects on a shared cluster).
grant_pull() {
    "$KBUILD_KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" -n "$1" apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: image-puller}
rules:
- apiGroups: [image.openshift.io]
  resources: [imagestreams/layers]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: image-puller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: image-puller}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: $2}
YAML
}

install_crds() {
    "$KBUILD_KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" apply -f "$REPO_ROOT/crds" >/dev/null
}

# start_controller NS PORT_OFFSET [EXTRA...]: a kbuild controller for NS alone,
# restarted when it exits, as its Deployment would be (a controller that loses
# its lease, say while the API server restarts, exits for a follower to lead).
start_controller() {
    local ns="$1" offset="$2"
    shift 2
    local log="$WORK/controller-$ns.log"
    local args=(controller --kubeconfig "$ADMIN_KUBECONFIG" --registry "$REG"
        --insecure-registry "$REG" --namespace "$ns" --lease-namespace "$ns"
        --identity "seed-$ns" --metrics-port $((PORT_BASE + offset))
        --webhook-port $((PORT_BASE + offset + 1))
        --build-pod-image "$REG/kbuild/buildpod:$BUILDPOD_TAG" --resync-seconds 20 "$@")
    # shellcheck disable=SC2016 # $1 and $@ are the inner bash's
    # setsid: its own process group, so cleanup stops the loop and the controller together.
    setsid bash -c 'cd "$1" && shift && while :; do python3 -m builder.cli.main "$@"; sleep 2; done' \
        _ "$REPO_ROOT" "${args[@]}" >"$log" 2>&1 &
    CONTROLLERS+=("$!")
}

# serve_git: a git daemon on POD_HOST:PORT_BASE serving $WORK/git; prints git://...
serve_git() {
    mkdir -p "$WORK/git"
    git daemon --reuseaddr --export-all --base-path="$WORK/git" --listen="$POD_HOST" \
        --port="$PORT_BASE" "$WORK/git" >/dev/null 2>&1 &
    GIT_PID="$!"
    export GIT_URL="git://$POD_HOST:$PORT_BASE"
}

# git_repo PATH FILES_DIR: a one-commit repository at $WORK/git/PATH from FILES_DIR.
git_repo() {
    local repo="$WORK/git/$1"
    mkdir -p "$repo"
    cp -a "$2/." "$repo/"
    git -C "$repo" init -q -b master
    git -C "$repo" add -A
    git -C "$repo" -c user.name=seed -c user.email=seed@example.com commit -qm "$1"
}

cleanup() {
    local pid
    for pid in "${CONTROLLERS[@]}"; do
        kill -- "-$pid" 2>/dev/null
    done
    if [[ -n "$GIT_PID" ]]; then
        kill "$GIT_PID" 2>/dev/null
    fi
    wait 2>/dev/null
    if [[ "${SEED_KEEP:-}" != 1 ]]; then
        for ns in "${NAMESPACES[@]}"; do
            "$KBUILD_KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" delete namespace "$ns" \
                --wait=false >/dev/null 2>&1
        done
        rm -rf "$WORK"
    else
        echo "# kept: $WORK (controller logs) and namespaces ${NAMESPACES[*]}"
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT
