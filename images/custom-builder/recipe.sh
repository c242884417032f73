# shellcheck shell=bash
# Recipe for kbuild/custom-builder, sourced by images/build.sh: a sample
# builder image for OpenShift's Custom strategy (customStrategy.from).  It is
# the build pod image (rootless buildah, git, user 1000 with /etc/subuid)
# plus one script, custom-build, that does what a custom builder does: read
# the environment OpenShift's custom build pod gives it ($BUILD,
# $SOURCE_URI, $OUTPUT_REGISTRY/$OUTPUT_IMAGE, $PUSH_DOCKERCFG_PATH, ...),
# clone, build with buildah and push, unprivileged, as kbuild's own build
# pod does (builder.pipeline.custom has the contract).

recipe_parent() { echo buildpod; }
# The same tag as the build pod image it extends: one checkout's pair.
recipe_tags() { echo "${KBUILD_BUILDPOD_TAG:-latest}"; }
recipe_extra_inputs() { :; }

recipe_build() {
    buildah bud --quiet --layers=false --isolation=chroot --network=host \
        --tls-verify="$TLS_VERIFY" \
        --build-arg "BASE_IMAGE=$PARENT_REF" \
        --label "$HASH_LABEL=$INPUTS_HASH" \
        -f "$RECIPE_DIR/Containerfile" -t "$LOCAL_IMAGE" "$RECIPE_DIR" >/dev/null
}
