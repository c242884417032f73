#!/usr/bin/env bash
# The project's test command: set up a fresh Debian machine if needed, then run
# every check: lint, format, types, layer contract, generated CRDs, and the
# unit, integration and cluster test tiers.
#
#   hack/test.sh                 everything
#   hack/test.sh tests/unit      extra arguments go to pytest
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash hack/setup.sh
export PATH="${KBUILD_VENV:-$repo/.venv}/bin:$PATH"

echo "== ruff";          ruff check . && ruff format --check .
echo "== mypy --strict"; mypy
echo "== import layers"; lint-imports
echo "== generated CRDs are committed"; python -m builder.api.crdgen --check
echo "== generated seccomp profile is committed"; python -m builder.controller.seccomp --check
echo "== shellcheck";    shellcheck hack/*.sh images/*.sh .ci/run

echo "== pytest"
# The image recipes' tests build into a registry of their own.
if [[ -z ${KBUILD_TEST_IMAGES_REGISTRY:-} ]]; then
  images_port=${KBUILD_TEST_IMAGES_PORT:-5098}
  images_dir=$(mktemp -d /tmp/kbuild-test-registry.XXXXXX)
  bash hack/registry.sh start --port "$images_port" --dir "$images_dir" >/dev/null
  trap 'bash hack/registry.sh stop --port "$images_port" --dir "$images_dir" >/dev/null 2>&1; rm -rf "$images_dir"' EXIT
  export KBUILD_TEST_IMAGES_REGISTRY=127.0.0.1:$images_port
fi
# The cluster tier brings up hack/cluster.sh's Kubernetes (compiled once and
# cached); KBUILD_TEST_CLUSTER=0 skips it, KBUILD_TEST_KUBECONFIG uses another.
export KBUILD_TEST_CLUSTER=${KBUILD_TEST_CLUSTER:-1}
if (($#)); then
  python -m pytest "$@"
else
  python -m pytest tests
fi
