#!/usr/bin/env bash
# Seed 002 ("Using Red Hat OpenShift image streams with Kubernetes
# deployments"): a plain Deployment, an image stream imported with --all, `oc
# set triggers deployment/myapp --from-image ubi:8 -c myapp`, a new image
# under the same tag, `oc import-image ubi --confirm --all`, a rollout.
#
#   registry.access.redhat.com, quay.io -> the cluster's registry ($KBUILD_REGISTRY)
#   ubi8/ubi:8.0-122 and 8.0-154        -> kbuild/base with /root/buildinfo/Dockerfile-ubi8-8.0-122
#                                          (and -154), as UBI's builds carry it
#   `podman login -u flozanorht quay.io` -> nothing (the local registry has no accounts)
#   skopeo reaches the plain-HTTP registry through a registries.conf marking it insecure
#   (a shell function adds --registries-conf: skopeo 1.9 ignores CONTAINERS_REGISTRIES_CONF),
#   so its command lines stay as written.
# shellcheck source=hack/seeds/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NS="${PREFIX}myapp-002"
REDHAT="$REG"   # registry.access.redhat.com
QUAY="$REG"     # quay.io
setup "namespace $NS, the CRDs, a controller; the two UBI builds in $REDHAT/ubi8/ubi"
install_crds
make_namespace "$NS"
start_controller "$NS" 5
project "$NS"
cat > "$WORK/registries.conf" <<CONF
[[registry]]
location = "$REG"
insecure = true
CONF
export REGISTRIES_CONF="$WORK/registries.conf"
skopeo() { command skopeo --registries-conf "$REGISTRIES_CONF" "$@"; }
export -f skopeo
for build in 8.0-122 8.0-154; do
    mkdir -p "$WORK/buildinfo-$build"
    touch "$WORK/buildinfo-$build/Dockerfile-ubi8-$build"
    ctr="$(buildah from -q --tls-verify=false "docker://$REG/kbuild/base:bookworm")" \
        || fail "no kbuild/base:bookworm in $REG? bash images/build.sh --registry $REG --tls-verify=false base"
    buildah copy -q "$ctr" "$WORK/buildinfo-$build" /root/buildinfo/ >/dev/null || fail "buildah copy"
    buildah commit -q "$ctr" "seed-ubi-$build" >/dev/null || fail "buildah commit"
    buildah rm "$ctr" >/dev/null
    buildah push -q --tls-verify=false "seed-ubi-$build" "docker://$REDHAT/ubi8/ubi:$build" \
        || fail "buildah push $REDHAT/ubi8/ubi:$build"
    buildah rmi "seed-ubi-$build" >/dev/null
done
cd "$WORK" || exit 1

step "skopeo copy docker://$REDHAT/ubi8/ubi:8.0-122 \\
docker://$QUAY/flozanorht/ubi:8"

cat > myapp.yaml <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: myapp
  labels:
    app: myapp
spec:
  selector:
    matchLabels:
      app: myapp
  replicas: 1
  template:
    metadata:
      labels:
        app: myapp
    spec:
      containers:
        - name: myapp
          image: $QUAY/flozanorht/ubi:8
          command:
            - "/bin/bash"
            - "-c"
            - "while true; do ls /root/buildinfo/; sleep 30; done"
YAML

pod() {  # the newest Running pod of myapp
    kubectl get pods -l app=myapp --field-selector=status.phase=Running \
        --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1:].metadata.name}'
}
settled() {  # one pod, running, using the image of IMAGE_MATCH
    [[ "$(kubectl get pods -l app=myapp -o name | wc -l)" == 1 ]] \
        && kubectl get pods -l app=myapp -o jsonpath='{.items[0].spec.containers[0].image}' \
            | grep -q -- "$1" \
        && [[ -n "$(pod)" ]]
}
export -f pod settled

step "kbuild create -f myapp.yaml"
wait_until 180 "settled '$QUAY/flozanorht/ubi:8'"
step "kbuild get deployment"
step "kbuild get pod"
P="$(pod)"
step "kbuild logs $P | tail -n1"
step "kbuild get pod $P -o jsonpath='{.spec.containers[0].image}{\"\\n\"}'"

step "kbuild import-image ubi --confirm --all --from $QUAY/flozanorht/ubi"
step "kbuild get istag"

step "kbuild set triggers deployment/myapp --from-image ubi:8 -c myapp"
step "kbuild get deployment myapp -o yaml | grep -A2 annotations:"
wait_until 180 "settled '@sha256:'"
step "kbuild get pod"
P="$(pod)"
step "kbuild get pod $P -o jsonpath='{.spec.containers[0].image}{\"\\n\"}'"
OLD_IMAGE="$(kubectl get pod "$P" -o jsonpath='{.spec.containers[0].image}')"

step "skopeo copy docker://$REDHAT/ubi8/ubi:8.0-154 \\
docker://$QUAY/flozanorht/ubi:8"
step "kbuild get pod $P -o jsonpath='{.spec.containers[0].image}{\"\\n\"}'"

step "kbuild import-image ubi --confirm --all"
step "kbuild get istag"
wait_until 180 "settled '@sha256:' && ! kubectl get pods -l app=myapp -o jsonpath='{.items[0].spec.containers[0].image}' | grep -qF '$OLD_IMAGE'"
step "kbuild get pod"
P="$(pod)"
step "kbuild get pod $P -o jsonpath='{.spec.containers[0].image}{\"\\n\"}'"
sleep 2
step "kbuild logs $P | tail -n1"
step "kbuild describe deployment myapp"
step "kbuild describe is ubi | grep -A5 tagged"
