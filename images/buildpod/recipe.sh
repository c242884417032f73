# shellcheck shell=bash
# Recipe for kbuild/buildpod:latest, sourced by images/build.sh: the image
# the build pod runs (rootless buildah + git + the kbuild package).

recipe_parent() { echo base; }
# KBUILD_BUILDPOD_TAG: a tag of its own for one checkout (tests of several
# checkouts against one registry must not run each other's code in pods).
recipe_tags() { echo "${KBUILD_BUILDPOD_TAG:-latest}"; }
# zstd layers: a node's first build pulls and unpacks this image, and
# containerd unpacks zstd ~17% faster than gzip here (8.7 s against 10.6 s
# for the cache image, docs/build-pod.md). containerd >= 1.5 and CRI-O read it.
recipe_push_compression() { echo zstd; }

# Everything that decides what the wheel installed in the image contains.
# setup.py matters: it is what maps s2i_templates/ into the package.
PACKAGE_PATHS=(pyproject.toml setup.py setup.cfg MANIFEST.in README.md LICENSE builder s2i_templates)

recipe_extra_inputs() {
    echo "[package]"
    hash_tree "$REPO_ROOT" "${PACKAGE_PATHS[@]}"
}

recipe_build() {
    local src="$WORKDIR/src" ctx="$WORKDIR/context" p
    mkdir -p "$src" "$ctx/wheels"
    # Build from a copy holding exactly the hashed files, so that nothing
    # unhashed (build/, stale egg-info) can leak into the wheel, and the
    # work tree is left untouched.
    for p in "${PACKAGE_PATHS[@]}"; do
        [[ -e "$REPO_ROOT/$p" ]] && cp -a "$REPO_ROOT/$p" "$src/"
    done
    find "$src" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
    python3 -m pip wheel --no-deps --disable-pip-version-check --quiet -w "$ctx/wheels" "$src"
    cp -a "$RECIPE_DIR"/. "$ctx/"
    local ca_mount=()
    # pip reaches PyPI with the build host's trust store, bind-mounted for the
    # RUN step only: a TLS-intercepting proxy's CA must not ship in the image.
    if [[ -n "${BUILD_CA_BUNDLE:-}" ]]; then
        ca_mount=(--volume "$BUILD_CA_BUNDLE:/run/kbuild-build/ca-bundle.crt:ro")
    fi
    # chroot isolation: see s2i-python/recipe.sh.
    buildah bud --layers=false --isolation=chroot --network=host \
        --tls-verify="$TLS_VERIFY" "${ca_mount[@]}" \
        --build-arg "BASE_IMAGE=$PARENT_REF" \
        --label "$HASH_LABEL=$INPUTS_HASH" \
        -f "$ctx/Containerfile" -t "$LOCAL_IMAGE" "$ctx"
}
