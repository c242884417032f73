# shellcheck shell=bash
# Recipe for kbuild/s2i-nodejs:18 (and :latest), sourced by images/build.sh.
# The image itself is described by the Containerfile next to this file.

NODEJS_VERSION=18

recipe_parent() { echo base; }
recipe_tags() { printf '%s\n' "$NODEJS_VERSION" latest; }
recipe_extra_inputs() { :; }

recipe_build() {
    # chroot isolation needs no OCI runtime, and runc refuses to start where
    # the sandbox forbids raising rlimits.
    buildah bud --quiet --layers=false --isolation=chroot --network=host \
        --tls-verify="$TLS_VERIFY" \
        --build-arg "BASE_IMAGE=$PARENT_REF" \
        --build-arg "NODEJS_VERSION=$NODEJS_VERSION" \
        --label "$HASH_LABEL=$INPUTS_HASH" \
        -f "$RECIPE_DIR/Containerfile" -t "$LOCAL_IMAGE" "$RECIPE_DIR" >/dev/null
    # The tag promises a Node.js major version; Debian decides which one we get.
    local ctr got
    ctr="$(buildah from --pull-never "$LOCAL_IMAGE")"
    got="$(buildah run --isolation=chroot "$ctr" node -p 'process.versions.node.split(".")[0]')"
    buildah run --isolation=chroot "$ctr" npm --version >/dev/null
    buildah rm "$ctr" >/dev/null
    [[ "$got" == "$NODEJS_VERSION" ]] || die "s2i-nodejs: image has Node.js $got, recipe tags it $NODEJS_VERSION"
}
