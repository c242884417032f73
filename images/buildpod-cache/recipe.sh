# shellcheck shell=bash
# Recipe for kbuild/buildpod-cache: the build pod image plus a read-only
# builder cache (docs/build-pod.md, "The builder cache"), sourced by
# images/build.sh.
#
# The cache is a containers-storage *additional image store* holding the
# builders below, pulled by digest, in the layout and ownership that rootless
# buildah in the pod reads: it is filled by the build pod image itself, as
# uid 1000 in its own user namespace (1000 -> 0, 100000.. -> 1..), with
# kernel overlay, at /home/build/builder-cache.  The node's container
# runtime pulls this image once and keeps it (kubelet image GC bounds it);
# every build pod on the node then finds the builder there instead of pulling
# and unpacking it.  Nothing a build does can change it: it is a layer of the
# image, read-only to every container.

recipe_parent() { echo buildpod; }
recipe_tags() { echo "${KBUILD_BUILDPOD_TAG:-latest}"; }
# zstd layers: a node's first build pulls and unpacks this image, and
# containerd unpacks zstd ~17% faster than gzip here (8.7 s against 10.6 s
# for the cache image, docs/build-pod.md). containerd >= 1.5 and CRI-O read it.
recipe_push_compression() { echo zstd; }

# Builders cached, as repository:tag under $REGISTRY/kbuild; resolved to a
# digest when the cache is built (the digest is part of the inputs hash).
# $KBUILD_CACHED_BUILDERS (space-separated) replaces the list: the benchmark
# builds a cache holding its own builder (bench/controller_build.py --builder).
read -ra CACHED_BUILDERS <<<"${KBUILD_CACHED_BUILDERS:-s2i-python:3.11}"
# In the image user's home (writable by uid 1000 when filled; the pod mounts
# its storage emptyDir elsewhere, at ~/.local/share/containers).
CACHE_DIR=/home/build/builder-cache

builder_digest() {
    skopeo inspect "$(tls_args)" --format '{{.Digest}}' "docker://$(repo_ref "$1")"
}

recipe_extra_inputs() {
    local b
    echo "[builders]"
    for b in "${CACHED_BUILDERS[@]}"; do
        echo "$b@$(builder_digest "$b")"
    done
}

# podman (rootful) bind-mounts /run/netns over itself, shared, even with
# --network host; that hides the network namespaces containerd mounts there
# and leaves pods deleted meanwhile stuck in Terminating (hack/netns.sh).
# shellcheck source=/dev/null
source "$REPO_ROOT/hack/netns.sh"

recipe_build() {
    command -v podman >/dev/null || die "buildpod-cache: needs podman to fill the cache as the pod's user"
    local had_netns_bind=false
    if netns_dir_self_bound; then had_netns_bind=true; fi
    recipe_build_with_podman
    # Undo only what this build's podman did.
    if [[ "$had_netns_bind" == false ]]; then
        netns_unbind
    fi
}

recipe_build_with_podman() {
    local b refs=() ctr fill="$WORKDIR/fill" run_as_pod
    for b in "${CACHED_BUILDERS[@]}"; do
        refs+=("$(repo_ref "${b%%:*}")@$(builder_digest "$b")")
    done
    # podman (not buildah run): buildah's chroot isolation cannot create the
    # user namespace rootless buildah needs inside it.  Host network: no
    # netns is made (see docs/build-pod.md on podman and /run/netns).  The
    # store is filled on a host directory: overlay refuses an overlayfs
    # (the container's root) as its backing filesystem.
    # shellcheck disable=SC2054 # setuid,setgid is one podman argument
    run_as_pod=(podman run --rm --network host --user 1000:0 --tls-verify="$TLS_VERIFY"
        --ulimit nofile=8192:8192 --ulimit nproc=8192:8192
        --cap-drop all --cap-add setuid,setgid
        -e CACHE_DIR="$CACHE_DIR" -e TLS_VERIFY="$TLS_VERIFY"
        -v "$RECIPE_DIR/fill.sh:/tmp/fill.sh:ro")
    mkdir -p "$fill" && chown 1000:0 "$fill"
    "${run_as_pod[@]}" -v "$fill:$CACHE_DIR" "$PARENT_REF" bash /tmp/fill.sh fill "${refs[@]}"
    # A tar keeps the owners (1000 and the subordinate uids) and the overlay
    # markers; buildah add unpacks it as it is.
    tar --xattrs --xattrs-include='*' -C "$fill" -cpf "$WORKDIR/cache.tar" .
    ctr="$(buildah from --pull-never --tls-verify="$TLS_VERIFY" "$PARENT_REF" 2>/dev/null \
        || buildah from --tls-verify="$TLS_VERIFY" "$PARENT_REF")"
    buildah add "$ctr" "$WORKDIR/cache.tar" "$CACHE_DIR/"
    buildah config --label "$HASH_LABEL=$INPUTS_HASH" \
        --label "io.kbuild.builder-cache=$CACHE_DIR" "$ctr"
    buildah commit --quiet --format docker "$ctr" "$LOCAL_IMAGE" >/dev/null
    buildah rm "$ctr" >/dev/null
    rm -rf "$fill" "$WORKDIR/cache.tar"
    # Check the image as a pod will see it: every cached layer is still
    # exactly the registry's after the round trip through an image layer.
    mkdir -p "$WORKDIR/check" && chown 1000:0 "$WORKDIR/check"
    "${run_as_pod[@]}" -v "$WORKDIR/check:/home/build/.local/share/containers" \
        "$LOCAL_IMAGE" bash /tmp/fill.sh check "${refs[@]}"
    rm -rf "$WORKDIR/check"
}
