#!/usr/bin/env bash
# The end-to-end demo, on a local Kubernetes (no existing cluster needed):
#
#   1. set up the machine, bring up hack/cluster.sh's cluster (compiled once
#      and cached), build the images kbuild needs, deploy the controller from
#      deploy/ with its least-privilege RBAC and the build pods' seccomp
#      profile (a DaemonSet installs it on the node), so the app's namespace
#      enforces Pod Security "baseline", not "privileged";
#   2. a second registry plays the external one (quay.io, Docker Hub) and
#      notifies the controller of every push;
#   3. `kbuild import-image --scheduled` brings the S2I Python builder from
#      there into an image stream; `kbuild new-app builder~repo` creates the
#      app's ImageStream, BuildConfig, Deployment and Service; the build runs
#      in an unprivileged buildah pod, the Deployment rolls out, the app answers;
#   4. a new builder image is pushed under the same tag: it is imported within
#      seconds, rebuilds the app by itself and rolls the Deployment to it, and
#      the app answers from build 2.
#
#   bash hack/demo.sh          (as root)
#
# KBUILD_DEMO_KEEP=1 leaves the namespace, the registry and a cluster this
# demo started running afterwards, to look around.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash hack/setup.sh
export PATH="${KBUILD_VENV:-$repo/.venv}/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }
fail() {
	echo "demo: $*" >&2
	exit 1
}

ns=kbuild-demo
ext_port=${KBUILD_DEMO_EXTERNAL_PORT:-5060}
git_port=${KBUILD_DEMO_GIT_PORT:-9418}
state=$(mktemp -d /tmp/kbuild-demo.XXXXXX)
started_cluster=""
git_pid=""
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

cleanup() {
	if [[ ${KBUILD_DEMO_KEEP:-} == 1 ]]; then
		echo "(KBUILD_DEMO_KEEP=1: leaving namespace $ns, the controller, the registry on port $ext_port and the cluster up)"
		[[ -n $git_pid ]] && kill "$git_pid" >/dev/null 2>&1
		return
	fi
	[[ -n $git_pid ]] && kill "$git_pid" >/dev/null 2>&1
	kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
	# The controller watches every namespace: it must not outlive the demo
	# (a test run's own controllers would share its BuildConfigs).
	kubectl delete -f deploy/admission.yaml --timeout=60s >/dev/null 2>&1 || true
	kubectl delete -f deploy/rbac.yaml --timeout=180s >/dev/null 2>&1 || true
	bash hack/registry.sh stop --port "$ext_port" --dir "$state/external" >/dev/null 2>&1 || true
	if [[ -n $started_cluster ]]; then
		bash hack/cluster.sh down >/dev/null 2>&1 || true
	fi
	rm -rf "$state"
}
trap cleanup EXIT

step "a local Kubernetes (hack/cluster.sh; the first run compiles it, 5-15 minutes)"
if ! bash hack/cluster.sh status >/dev/null 2>&1; then
	started_cluster=1
fi
bash hack/cluster.sh up
eval "$(bash hack/cluster.sh env)"
kubectl() { "$KBUILD_KUBECTL" "$@"; }
registry=$KBUILD_REGISTRY
node=${registry%:*}

step "images: base, the S2I Python builder, the build pod (cached by input hash)"
bash images/build.sh --registry "$registry" --tls-verify=false base s2i-python buildpod

step "the controller, from deploy/ (CRDs, RBAC, two replicas, one leader)"
kubectl apply -f crds/ -f deploy/rbac.yaml >/dev/null
# The build pod image carries kbuild; every registry on the node's address
# speaks plain HTTP; notifications must carry the token.  Set in the manifest
# itself, so no replica ever runs without them.
insecure_line='{name: KBUILD_INSECURE_REGISTRIES, value: __REGISTRY__}'
sed -e "s|$insecure_line|{name: KBUILD_INSECURE_REGISTRIES, value: \"$node\"}\\n            - {name: KBUILD_NOTIFICATIONS_TOKEN, value: \"$token\"}|" \
	-e "s|__REGISTRY__|$registry|g" deploy/controller.yaml >"$state/controller.yaml"
grep -q KBUILD_NOTIFICATIONS_TOKEN "$state/controller.yaml" || fail "deploy/controller.yaml changed shape"
kubectl apply -f "$state/controller.yaml" >/dev/null
kubectl -n kbuild-system rollout status deployment/kbuild-controller --timeout=180s
# The image-lookup admission webhook (lookupPolicy.local); the controller fills its caBundle.
kubectl apply -f deploy/admission.yaml >/dev/null

step "the build pods' seccomp profile on the node (deploy/seccomp-installer.yaml)"
# This kubelet's --root-dir is not the default /var/lib/kubelet.
sed -e "s|__REGISTRY__|$registry|g" -e "s|/var/lib/kubelet/seccomp/|$KBUILD_KUBELET_ROOT/seccomp/|" \
	deploy/seccomp-installer.yaml >"$state/seccomp-installer.yaml"
kubectl apply -f deploy/seccomp-profile.yaml -f "$state/seccomp-installer.yaml" >/dev/null
kubectl -n kbuild-system rollout status daemonset/kbuild-seccomp-installer --timeout=180s
ls "$KBUILD_KUBELET_ROOT"/seccomp/kbuild/
controller_ip=$(kubectl -n kbuild-system get service kbuild-controller -o jsonpath='{.spec.clusterIP}')

step "an \"external\" registry on $node:$ext_port that notifies the controller of pushes"
bash hack/registry.sh start --port "$ext_port" --dir "$state/external" --listen "$node" \
	--notify "http://$controller_ip:8080/registry/notifications" --notify-token "$token"
bash hack/cluster.sh trust-registry "$node:$ext_port"
external=$node:$ext_port
skopeo copy --quiet --src-tls-verify=false --dest-tls-verify=false \
	"docker://$registry/kbuild/s2i-python:3.11" "docker://$external/s2i/python:3.11"
echo "pushed $external/s2i/python:3.11"

step "the sample app in a git repository the pods can clone"
mkdir -p "$state/git"
cp -r examples/python-hello "$state/git/hello"
git -C "$state/git/hello" init -q -b main
git -C "$state/git/hello" add -A
git -C "$state/git/hello" -c user.name=demo -c user.email=demo@example.com commit -q -m "sample app"
git daemon --reuseaddr --export-all --base-path="$state/git" --listen="$node" --port="$git_port" \
	"$state/git" >/dev/null 2>&1 &
git_pid=$!
app_repo="git://$node:$git_port/hello"

kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$ns" >/dev/null
# Build pods pass Pod Security's "baseline" level (docs/build-pod.md): only
# kbuild-system, for the profile installer's hostPath, is "privileged".
kubectl label namespace "$ns" pod-security.kubernetes.io/enforce=baseline >/dev/null

step "kbuild import-image python:3.11 --from $external/s2i/python:3.11 --confirm --scheduled"
kbuild import-image python:3.11 --from "$external/s2i/python:3.11" --confirm --scheduled -n "$ns"

step "kbuild new-app python:3.11~$app_repo --name hello"
kbuild new-app "python:3.11~$app_repo" --name hello -n "$ns"

step "build 1 (kbuild logs -f build/hello-1)"
for _ in $(seq 1 60); do
	kbuild get build hello-1 -n "$ns" >/dev/null 2>&1 && break
	sleep 1
done
kbuild logs -f build/hello-1 -n "$ns" | tail -n 5
kbuild get builds -n "$ns"
phase=$(kubectl -n "$ns" get build hello-1 -o jsonpath='{.status.phase}')
[[ $phase == Complete ]] || fail "hello-1 ended $phase"

ask_app() {
	local ip answer
	ip=$(kubectl -n "$ns" get service hello -o jsonpath='{.spec.clusterIP}')
	for _ in $(seq 1 90); do
		if answer=$(curl -fsS --max-time 2 "http://$ip:8080/" 2>/dev/null) && [[ $answer == *"\"$1\""* ]]; then
			echo "$answer"
			return 0
		fi
		sleep 2
	done
	fail "the app did not answer from $1 (last answer: ${answer:-none})"
}

step "the rollout, and the app answering on its Service"
kubectl -n "$ns" rollout status deployment/hello --timeout=180s
echo "the app answers: $(ask_app hello-1)"

step "a new builder image under the same tag: pushed to the external registry"
ctr=$(buildah from --quiet --tls-verify=false "docker://$external/s2i/python:3.11")
buildah config --label "org.example.builder-release=2" "$ctr"
buildah commit --quiet "$ctr" "$external/s2i/python:3.11" >/dev/null
buildah rm "$ctr" >/dev/null
buildah push --quiet --tls-verify=false "$external/s2i/python:3.11"
pushed=$(date +%s)

step "imported at once (the registry's notification), and build 2 starts by itself"
for _ in $(seq 1 120); do
	kbuild get build hello-2 -n "$ns" >/dev/null 2>&1 && break
	sleep 1
done
kbuild get build hello-2 -n "$ns" >/dev/null 2>&1 || fail "no build 2 after the builder image moved"
echo "build 2 created $(($(date +%s) - pushed))s after the push"
kbuild describe is/python -n "$ns"
kbuild logs -f build/hello-2 -n "$ns" | tail -n 3
phase=$(kubectl -n "$ns" get build hello-2 -o jsonpath='{.status.phase}')
[[ $phase == Complete ]] || fail "hello-2 ended $phase"
kbuild describe build/hello-2 -n "$ns" | grep -A3 "Build trigger cause"

step "the Deployment rolled to build 2's image"
kubectl -n "$ns" rollout status deployment/hello --timeout=180s
echo "the app answers: $(ask_app hello-2)"
kbuild get builds -n "$ns"
step "demo ok"
