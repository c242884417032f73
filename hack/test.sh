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
echo "== shellcheck";    shellcheck hack/*.sh images/*.sh .ci/run

echo "== pytest"
# The cluster tier brings up hack/cluster.sh's Kubernetes (compiled once and
# cached); KBUILD_TEST_CLUSTER=0 skips it, KBUILD_TEST_KUBECONFIG uses another.
export KBUILD_TEST_CLUSTER=${KBUILD_TEST_CLUSTER:-1}
if (($#)); then
  exec python -m pytest "$@"
fi
exec python -m pytest tests
