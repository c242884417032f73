# shellcheck shell=bash
# Recipe for kbuild/s2i-python:3.11 (and :latest), sourced by images/build.sh.
# The image itself is described by the Containerfile next to this file.

PYTHON_VERSION=3.11

recipe_parent() { echo base; }
recipe_tags() { printf '%s\n' "$PYTHON_VERSION" latest; }
recipe_extra_inputs() { :; }

recipe_build() {
    # chroot isolation needs no OCI runtime, and runc refuses to start where
    # the sandbox forbids raising rlimits.
    buildah bud --quiet --layers=false --isolation=chroot --network=host \
        --tls-verify="$TLS_VERIFY" \
        --build-arg "BASE_IMAGE=$PARENT_REF" \
        --build-arg "PYTHON_VERSION=$PYTHON_VERSION" \
        --label "$HASH_LABEL=$INPUTS_HASH" \
        -f "$RECIPE_DIR/Containerfile" -t "$LOCAL_IMAGE" "$RECIPE_DIR" >/dev/null
    # The tag promises a Python version; Debian decides which one we get.
    local ctr got
    ctr="$(buildah from --pull-never "$LOCAL_IMAGE")"
    got="$(buildah run --isolation=chroot "$ctr" \
        python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    buildah rm "$ctr" >/dev/null
    [[ "$got" == "$PYTHON_VERSION" ]] || die "s2i-python: image has Python $got, recipe tags it $PYTHON_VERSION"
}
