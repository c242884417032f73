# shellcheck shell=bash
# Recipe for kbuild/base:bookworm, sourced by images/build.sh.
#
# A debootstrap --variant=minbase rootfs of Debian bookworm from the Debian
# mirror this host is configured with (override: KBUILD_DEBIAN_MIRROR and
# KBUILD_DEBIAN_SECURITY_MIRROR), trimmed, and committed with buildah from
# scratch as a single layer.

SUITE=bookworm

recipe_parent() { :; }
recipe_tags() { echo "$SUITE"; }

# First URI of an apt source for exactly <suite>, from deb822 .sources files or
# one-line sources.list entries.
apt_source_uri() {
    local suite="$1" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; uris = ""; suites = ""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^Types:/) types = $i
                    if ($i ~ /^URIs:/) uris = $i
                    if ($i ~ /^Suites:/) suites = $i
                }
                if (types ~ /[ \t]deb([ \t]|$)/ && (" " suites " ") ~ ("[ \t]" suite "[ \t]")) {
                    split(uris, u, /[ \t]+/); print u[2]; exit
                }
            }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }'
    done
}

debian_mirror() {
    local m="${KBUILD_DEBIAN_MIRROR:-}"
    [[ -n "$m" ]] || m="$(apt_source_uri "$SUITE" | head -n1)"
    echo "${m:-http://deb.debian.org/debian}"
}

security_mirror() {
    local m="${KBUILD_DEBIAN_SECURITY_MIRROR:-}"
    [[ -n "$m" ]] || m="$(apt_source_uri "$SUITE-security" | head -n1)"
    echo "${m:-http://deb.debian.org/debian-security}"
}

include_packages() {
    sed -e 's/#.*//' -e 's/[[:space:]]//g' "$IMAGES_DIR/base/packages.txt" | grep -v '^$' | LC_ALL=C sort -u | paste -sd, -
}

# What the cached debootstrap tarball depends on. The suite's contents on the
# mirror can move (point releases) without this key changing; delete
# $KBUILD_CACHE_DIR/rootfs to pick them up.
rootfs_key() {
    printf 'suite=%s\nvariant=minbase\narch=%s\nmirror=%s\ninclude=%s\n' \
        "$SUITE" "$(dpkg --print-architecture)" "$(debian_mirror)" "$(include_packages)" \
        | sha256_of_stdin
}

recipe_extra_inputs() {
    echo "rootfs=$(rootfs_key)"
    echo "security-mirror=$(security_mirror)"
}

# Echo the path of the cached rootfs tarball, running debootstrap if needed.
ensure_rootfs() {
    local key tarball tmp mirror lockfd
    key="$(rootfs_key)"
    mirror="$(debian_mirror)"
    tarball="$KBUILD_CACHE_DIR/rootfs/debootstrap-$SUITE-minbase-${key:0:16}.tar.gz"
    # Concurrent runs sharing the cache wait for one debootstrap instead of
    # running two. The lock lives as long as this subshell.
    exec {lockfd}>"$tarball.lock"
    flock "$lockfd"
    if [[ -f "$tarball" ]]; then
        log "base: using cached rootfs $tarball" >&2
        echo "$tarball"
        return 0
    fi
    tmp="$(mktemp -d "$KBUILD_CACHE_DIR/rootfs/.tmp.XXXXXX")"
    # debootstrap mounts proc and sys inside the target; a failure midway
    # would otherwise leave them mounted and the directory undeletable.
    # shellcheck disable=SC2064 # expand now: tmp is local
    trap "umount -l '$tmp/rootfs/proc' '$tmp/rootfs/sys' 2>/dev/null || true; rm -rf '$tmp'" EXIT
    log "base: debootstrap $SUITE minbase from $mirror (include: $(include_packages))" >&2
    if ! debootstrap --variant=minbase --include="$(include_packages)" \
            --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
            "$SUITE" "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
        tail -n 30 "$tmp/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    # Device nodes come from the container runtime at run time, and an image
    # carrying its own would be ignored at best. The downloaded .debs are
    # already unpacked: keeping them would triple the tarball.
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp/rootfs" \
        --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
        --exclude='./var/cache/apt/archives/*.deb' \
        -czf "$tmp/rootfs.tar.gz" .
    mv "$tmp/rootfs.tar.gz" "$tarball"
    echo "$tarball"
}

# Point apt at the mirror (debootstrap only knew the bootstrap suite) and put
# the container-specific apt/dpkg/policy-rc.d settings in place.
configure_rootfs() {
    local r="$1"
    # debootstrap leaves a one-line sources.list for the bootstrap mirror only.
    rm -f "$r/etc/apt/sources.list"
    mkdir -p "$r/etc/apt/sources.list.d"
    cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $(debian_mirror)
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $(security_mirror)
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    tar -C "$RECIPE_DIR/rootfs" --owner=0 --group=0 -cf - . | tar -C "$r" -xf -
}

# Trim what a container never uses. Runs against the mounted image rootfs.
slim_rootfs() {
    local r="$1"
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
        "$r"/var/lib/dpkg/*-old "$r"/var/cache/ldconfig/aux-cache "$r"/var/log/apt/* \
        "$r"/var/log/dpkg.log "$r"/var/log/alternatives.log "$r"/var/log/bootstrap.log \
        "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
        "$r"/usr/share/groff/* "$r"/usr/share/lintian/*
    find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    # Filled in by the runtime; baked-in copies would leak the build host's.
    rm -f "$r/etc/resolv.conf" "$r/etc/hostname"
}

recipe_build() {
    local tarball ctr mnt
    tarball="$(ensure_rootfs)"
    ctr="$(buildah from scratch)"
    # shellcheck disable=SC2064 # expand now: ctr is local
    trap "buildah rm '$ctr' >/dev/null 2>&1 || true" EXIT
    mnt="$(buildah mount "$ctr")"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$mnt" -xzf "$tarball"
    configure_rootfs "$mnt"
    # The cached rootfs is the suite as of its debootstrap; stable and
    # security updates are applied at every image build. A build only happens
    # when inputs change, so `build.sh --force base` picks up new updates.
    buildah run --isolation=chroot --network=host "$ctr" -- sh -c \
        'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get -y -qq upgrade'
    slim_rootfs "$mnt"
    buildah umount "$ctr" >/dev/null
    buildah config \
        --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --env LANG=C.UTF-8 \
        --cmd '["/bin/bash"]' \
        --label org.opencontainers.image.title="kbuild/base" \
        --label org.opencontainers.image.description="Minimal Debian $SUITE (debootstrap minbase) with ca-certificates" \
        --label io.k8s.display-name="Debian $SUITE (kbuild base)" \
        --label io.k8s.description="Minimal Debian $SUITE base image built with debootstrap --variant=minbase" \
        --label io.kbuild.debian.suite="$SUITE" \
        --label "$HASH_LABEL=$INPUTS_HASH" \
        "$ctr"
    buildah commit --quiet --format oci --rm "$ctr" "$LOCAL_IMAGE" >/dev/null
}
