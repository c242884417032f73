# shellcheck shell=bash
# Recipe for kbuild/s2i-python-fat:3.11, sourced by images/build.sh: the
# s2i-python builder plus one generated layer of 1 GiB, so the builder is
# over 1 GB compressed as well as unpacked.  It exists for the benchmark of
# the builder cache (bench/controller_build.py --builder s2i-python-fat:3.11,
# docs/build-pod.md): a builder that large must cost a build nothing once the
# node has it.  Not part of "all".
#
# The bytes are a keystream (AES-256-CTR of zeros under a fixed key), so they
# are the same on every machine (the recipe's inputs say what the image is)
# and do not compress: the registry serves 1 GiB, as it would for a real
# fat builder's binaries.

FAT_BYTES=$((1024 * 1024 * 1024))
FAT_PATH=/opt/kbuild-fat/blob

recipe_parent() { echo s2i-python; }
recipe_tags() { echo 3.11; }
recipe_extra_inputs() { echo "fat=$FAT_BYTES $FAT_PATH aes-256-ctr kbuild-fat"; }

recipe_build() {
    command -v openssl >/dev/null || die "s2i-python-fat: needs openssl to generate the layer"
    local ctr mnt
    ctr="$(buildah from --pull-never --tls-verify="$TLS_VERIFY" "$PARENT_REF" 2>/dev/null \
        || buildah from --tls-verify="$TLS_VERIFY" "$PARENT_REF")"
    mnt="$(buildah mount "$ctr")"
    mkdir -p "$mnt$(dirname "$FAT_PATH")"
    # head closes the pipe at FAT_BYTES: openssl's SIGPIPE is expected (pipefail).
    { openssl enc -aes-256-ctr -nosalt -pass pass:kbuild-fat -pbkdf2 </dev/zero 2>/dev/null || true; } \
        | head -c "$FAT_BYTES" >"$mnt$FAT_PATH"
    [[ "$(stat -c %s "$mnt$FAT_PATH")" == "$FAT_BYTES" ]] || die "s2i-python-fat: short layer"
    buildah umount "$ctr" >/dev/null
    buildah config --label "$HASH_LABEL=$INPUTS_HASH" "$ctr"
    buildah commit --quiet --format docker "$ctr" "$LOCAL_IMAGE" >/dev/null
    buildah rm "$ctr" >/dev/null
}
