#!/usr/bin/env bash
# Seed 001 ("Why managing container images on OpenShift is better"): a legacy
# `apiVersion: v1` BuildConfig applied as the article shows it, built, and
# `oc import-image foo --scheduled`; then the article's DeploymentConfig
# ImageChange trigger on foo:latest, moved by a second build.
#
#   git@git.example.com:foo.git  -> git://<this machine>/foo.git (hack/seeds/foo: a Dockerfile,
#                                   FROM the local registry's kbuild/base)
#   namespace openshift (in the trigger) -> ${SEED_PREFIX}openshift-001, the current project
#   Builds start when started: the BuildConfig has no trigger, so `kbuild start-build` (the
#   article: "when started will do the following things").
# shellcheck source=hack/seeds/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NS="${PREFIX}openshift-001"
setup "namespace $NS, the CRDs, a controller"
install_crds
make_namespace "$NS"
start_controller "$NS" 7
serve_git
sed "s#^FROM kbuild/#FROM $REG/kbuild/#" "$SEEDS_DIR/foo/Dockerfile" > "$WORK/Dockerfile"
mkdir -p "$WORK/foo" && mv "$WORK/Dockerfile" "$WORK/foo/Dockerfile"
git_repo foo.git "$WORK/foo"
project "$NS"
cd "$WORK" || exit 1

cat > foo-buildconfig.yaml <<YAML
apiVersion: v1
kind: BuildConfig
metadata:
  name: foo-build
spec:
  source:
    git:
        uri: "$GIT_URL/foo.git"
    type: Git
  strategy:
    dockerStrategy:
      noCache: true
  output:
    to:
      kind: ImageStreamTag
      name: foo:latest
YAML
step "cat foo-buildconfig.yaml"
step "kbuild apply -f foo-buildconfig.yaml"
step "kbuild start-build foo-build --follow"
step "kbuild get istag"

step "kbuild import-image foo --scheduled"

cat > foo-dc.yaml <<YAML
apiVersion: v1
kind: DeploymentConfig
metadata:
  name: foo
spec:
  replicas: 1
  selector:
    app: foo
  template:
    metadata:
      labels:
        app: foo
    spec:
      containers:
      - name: foo
        image: " "
        command: ["sh", "-c", "cat /foo.txt; sleep 3600"]
  triggers:
    - type: ImageChange
      imageChangeParams:
        automatic: true
        containerNames: [foo]
        from:
          kind: ImageStreamTag
          name: 'foo:latest'
          namespace: $NS
YAML
setup "a DeploymentConfig with the article's trigger (automatic, container foo)"
step "kbuild apply -f foo-dc.yaml"
wait_until 180 "kubectl get dc foo -o jsonpath='{.status.latestVersion}' | grep -qx 1"
step "kbuild rollout status dc/foo"
setup "a new foo:latest: a second build"
step "kbuild start-build foo-build --wait"
wait_until 180 "kubectl get dc foo -o jsonpath='{.status.conditions[?(@.type==\"Progressing\")].message}' | grep -q 'foo-2\" successfully rolled out'"
step "kbuild describe dc foo"
step "kubectl get rc"
