#!/usr/bin/env bash
# Seed 000 ("sticking with HEAD": a scheduled builder image stream in the
# openshift project, new-app from it, a new builder image rebuilds the app,
# then `set triggers --remove` stops that), replayed with kbuild.
#
#   docker.io/...                      -> the cluster's registry ($KBUILD_REGISTRY)
#   https://github.com/openshift/nodejs-ex.git -> git://<this machine>/openshift/nodejs-ex.git
#                                         (hack/seeds/nodejs-ex: no npm dependencies,
#                                         there is no network)
#   namespaces openshift, myproject    -> ${SEED_PREFIX}openshift, ${SEED_PREFIX}myproject
#   bucharestgold/centos7-s2i-nodejs:10.9.0 / 10.10.0 -> kbuild/s2i-nodejs:18, and the same
#                                         image with one more label (a new digest)
#   master-config scheduledImageImportMinimumIntervalSeconds: 60
#                                      -> the controllers' --scheduled-import-interval 60s
#   `oc rsh POD node --version`        -> `kubectl exec POD -- node --version` (kbuild has no rsh)
#   `oc new-app` of OpenShift 3.10 (the transcript's) made a DeploymentConfig; oc 4 and kbuild
#   make a Deployment unless --as-deployment-config, so the replay adds that flag (the only
#   added word; SEED_000_DEPLOYMENT=1 replays without it). With the DeploymentConfig, one
#   command the transcript does not have shows its second rollout: `kbuild rollout status`.
# shellcheck source=hack/seeds/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OS_NS="${PREFIX}openshift"
MY_NS="${PREFIX}myproject"
HUB="$REG"     # docker.io
IMAGE="$HUB/jazinner/centos7-s2i-nodejs"

# push_builder_version VERSION: "a new builder image" of the transcript: kbuild/s2i-nodejs
# with one more label (so a new digest), pushed to $IMAGE:latest.
push_builder_version() {
    local ctr local_name="seed-centos7-s2i-nodejs-$1"
    ctr="$(buildah from -q --tls-verify=false "docker://$REG/kbuild/s2i-nodejs:18")" \
        || fail "buildah from $REG/kbuild/s2i-nodejs:18"
    buildah config --label "seed.kbuild.io/version=$1" "$ctr" >/dev/null || fail "buildah config"
    buildah commit -q "$ctr" "$local_name" >/dev/null || fail "buildah commit"
    buildah rm "$ctr" >/dev/null
    buildah push -q --tls-verify=false "$local_name" "docker://$IMAGE:latest" \
        || fail "buildah push $IMAGE:latest"
    buildah rmi "$local_name" >/dev/null
}

setup "namespaces $OS_NS and $MY_NS, the CRDs, a controller for each (scheduled imports every 60s)"
install_crds
make_namespace "$OS_NS"
make_namespace "$MY_NS"
# As OpenShift's openshift project: every authenticated user may pull its images.
grant_pull "$OS_NS" system:authenticated
start_controller "$OS_NS" 1 --scheduled-import-interval 60s --scheduled-import-minimum-interval 60s
start_controller "$MY_NS" 3 --scheduled-import-interval 60s --scheduled-import-minimum-interval 60s
serve_git
git_repo openshift/nodejs-ex.git "$SEEDS_DIR/nodejs-ex"
REPO_URL="$GIT_URL/openshift/nodejs-ex.git"

setup "docker pull/tag/push of the 10.9.0 builder -> skopeo copy to $IMAGE:latest"
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$REG/kbuild/s2i-nodejs:18" "docker://$IMAGE:latest" \
    || fail "no kbuild/s2i-nodejs:18 in $REG? bash images/build.sh --registry $REG --tls-verify=false s2i-nodejs"

setup "as the administrator, in project $OS_NS"
project "$OS_NS"
step "kbuild import-image $IMAGE:latest \\
--confirm --scheduled=true"

setup "oc login ... -u developer; Using project \"$MY_NS\""
project "$MY_NS"
if [[ "${SEED_000_DEPLOYMENT:-}" == 1 ]]; then
    step "kbuild new-app centos7-s2i-nodejs~$REPO_URL"
    wait_until 400 "kubectl -n $MY_NS get deploy nodejs-ex -o jsonpath='{.status.availableReplicas}' | grep -q 1"
    SELECTOR=deployment=nodejs-ex
else
    step "kbuild new-app --as-deployment-config centos7-s2i-nodejs~$REPO_URL"
    wait_until 400 "kubectl -n $MY_NS get dc nodejs-ex -o jsonpath='{.status.availableReplicas}' | grep -q 1"
    SELECTOR=deploymentconfig=nodejs-ex
fi
step_for 10 "kbuild get pods -w"
step "kubectl get pods"
POD="$(kubectl -n "$MY_NS" get pods -l "$SELECTOR" --field-selector=status.phase=Running \
    -o jsonpath='{.items[0].metadata.name}')"
step "kubectl exec $POD -- node --version"

setup "docker pull/tag/push of the 10.10.0 builder -> the same image with a new label, pushed to $IMAGE:latest"
push_builder_version 10.10.0

setup "waiting for the scheduled import (60s) and the build it triggers"
wait_until 240 "kubectl -n $MY_NS get builds.build.openshift.io nodejs-ex-2 >/dev/null"
step "kbuild describe is/centos7-s2i-nodejs -n $OS_NS"

setup "the developer's own stream centos7-s2i-nodejs in $MY_NS (the transcript's, \"Created: 47 hours ago\", tagged from the same image)"
kbuild tag --source=docker "$IMAGE:latest" centos7-s2i-nodejs:latest >/dev/null
wait_until 60 "kbuild get istag centos7-s2i-nodejs:latest"
step "kbuild import-image $OS_NS/centos7-s2i-nodejs:latest"

wait_until 400 "kubectl -n $MY_NS get builds.build.openshift.io nodejs-ex-2 -o jsonpath='{.status.phase}' | grep -qx Complete"
step "kbuild describe buildconfigs/nodejs-ex"

if [[ "${SEED_000_DEPLOYMENT:-}" != 1 ]]; then
    setup "not in the transcript: the DeploymentConfig's ImageChange trigger rolls out build 2's image"
    wait_until 300 "kubectl -n $MY_NS get dc nodejs-ex -o jsonpath='{.status.latestVersion}' | grep -qx 2"
    step "kbuild rollout status dc/nodejs-ex"
fi

step "kbuild set triggers bc nodejs-ex --remove --from-image='$OS_NS/centos7-s2i-nodejs:latest'"

setup "a third builder image is pushed; it is imported, and no build follows"
push_builder_version 10.11.0
wait_until 150 "kbuild describe is/centos7-s2i-nodejs -n $OS_NS | grep -q 'Unique Images:.*3'"
sleep 20
step "kbuild describe is/centos7-s2i-nodejs -n $OS_NS"
step "kbuild get builds"
