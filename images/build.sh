#!/usr/bin/env bash
# Build kbuild's container images without pulling from any public registry and
# push them to <registry>/kbuild/<name>:<tag>.
#
#   images/build.sh --registry HOST:PORT [--tls-verify=false] [--force] [NAME ...]
#
# NAME: base, s2i-python, s2i-python-fat, s2i-nodejs, buildpod, buildpod-cache,
# custom-builder (default: all but buildpod-cache, which needs podman,
# s2i-python-fat, the 1 GiB builder of the cache benchmark, and
# custom-builder, the sample Custom-strategy builder). Parents of a named image are
# processed too, because a child's inputs include its parent's digest.
#
# Work is skipped when an image's inputs did not change (see docs/images.md):
#   1. the registry already holds every tag with label io.kbuild.inputs-hash=H
#      -> nothing to do;
#   2. ${KBUILD_CACHE_DIR:-/var/cache/kbuild}/images/<name>-<H>.tar exists
#      -> push that oci-archive (a fresh registry costs a copy, not a build);
#   3. otherwise build, write the archive, push.
# --force ignores 1 and 2 (the debootstrap rootfs cache is still used; delete
# ${KBUILD_CACHE_DIR}/rootfs to refresh it).
set -euo pipefail
# Without this, a failure inside $(...) would be ignored by set -e.
shopt -s inherit_errexit

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$IMAGES_DIR/.." && pwd)"
KBUILD_CACHE_DIR="${KBUILD_CACHE_DIR:-/var/cache/kbuild}"
# CA bundle that RUN steps fetching over HTTPS (pip) may use; it is mounted,
# never copied into an image. Defaults to the host's, which carries any CA a
# TLS-intercepting proxy on the build host needs.
BUILD_CA_BUNDLE="${KBUILD_BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
[[ -f "$BUILD_CA_BUNDLE" ]] || BUILD_CA_BUNDLE=""
ALL_IMAGES=(base s2i-python s2i-python-fat s2i-nodejs buildpod buildpod-cache custom-builder)
# What "all" builds: buildpod-cache (the builder cache, docs/build-pod.md)
# needs podman, s2i-python-fat is for the cache benchmark and custom-builder
# (a sample Custom-strategy builder) for the Custom strategy's tests; they
# are built only when named.
DEFAULT_IMAGES=(base s2i-python s2i-nodejs buildpod)
# Bump when the driver changes how images are assembled, so that archives and
# registry tags made by an older driver stop counting as up to date.
DRIVER_INPUTS_VERSION=1
HASH_LABEL=io.kbuild.inputs-hash
ARCHIVES_KEPT=3

REGISTRY=""
TLS_VERIFY=true
FORCE=false
REQUESTED=()

log() { printf '[images %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 2
}

while (($#)); do
    case "$1" in
        --registry) REGISTRY="${2:?--registry needs HOST:PORT}"; shift 2 ;;
        --registry=*) REGISTRY="${1#*=}"; shift ;;
        --tls-verify) TLS_VERIFY=true; shift ;;
        --tls-verify=*) TLS_VERIFY="${1#*=}"; shift ;;
        --force) FORCE=true; shift ;;
        -h|--help) usage ;;
        -*) die "unknown option $1" ;;
        *) REQUESTED+=("$1"); shift ;;
    esac
done
[[ -n "$REGISTRY" ]] || usage
[[ "$TLS_VERIFY" == true || "$TLS_VERIFY" == false ]] || die "--tls-verify must be true or false"
[[ $EUID -eq 0 ]] || die "run as root: debootstrap and buildah mount of the base rootfs need it"

# ---------------------------------------------------------------------------
# Host tools. The project's machines are rebuilt often, so the script installs
# what it needs instead of assuming a prepared host.
ensure_tools() {
    local -A pkg_for=(
        [buildah]=buildah [skopeo]=skopeo [debootstrap]=debootstrap [jq]=jq
        [tar]=tar [gzip]=gzip [sha256sum]=coreutils [python3]=python3
        [flock]=util-linux
    )
    local missing=() cmd
    for cmd in "${!pkg_for[@]}"; do
        command -v "$cmd" >/dev/null || missing+=("${pkg_for[$cmd]}")
    done
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || missing+=(debian-archive-keyring)
    # The buildpod wheel is built with the host's pip.
    python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
    if ((${#missing[@]})); then
        log "installing host packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# ---------------------------------------------------------------------------
# Hashing helpers, also used by the recipes.

# Print "<x|-> <sha256> <path>" for every file under the given paths (relative
# to $1), in a locale-independent order. Only the owner-execute bit of the
# mode is hashed: it is the only mode bit git keeps, so other bits differ
# between checkouts without meaning anything.
hash_tree() {
    local root="$1" p present=()
    shift
    # Optional inputs (a README that may not exist yet) are simply absent
    # from the listing; their later appearance then changes the hash.
    for p in "$@"; do
        [[ -e "$root/$p" ]] && present+=("$p")
    done
    ((${#present[@]})) || return 0
    (
        cd "$root"
        find "${present[@]}" -type f \
            ! -path '*/__pycache__/*' ! -name '*.pyc' ! -name '*.swp' ! -name '*~' \
            ! -path '*/.mypy_cache/*' ! -path '*.egg-info/*' -print0 \
            | LC_ALL=C sort -z \
            | while IFS= read -r -d '' f; do
                if [[ -x "$f" ]]; then x=x; else x=-; fi
                printf '%s %s %s\n' "$x" "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
            done
    )
}

sha256_of_stdin() { sha256sum | cut -d' ' -f1; }

# Run one function of a recipe in a subshell, so that recipes can define the
# same function names without clobbering one another.
recipe() {
    local name="$1" fn="$2"; shift 2
    (
        # shellcheck source=/dev/null
        source "$IMAGES_DIR/$name/recipe.sh"
        "$fn" "$@"
    )
}

# ---------------------------------------------------------------------------
# Registry helpers.

tls_args() { echo "--tls-verify=$TLS_VERIFY"; }

repo_ref() { echo "$REGISTRY/kbuild/$1"; }

# Echo the inputs-hash label of <ref>, or nothing if the tag does not exist.
# Any other failure (registry down, TLS mismatch) is fatal: treating it as
# "absent" would silently rebuild everything.
registry_hash() {
    local ref="$1" out err
    err="$(mktemp)"
    if out="$(skopeo inspect "$(tls_args)" --format "{{index .Labels \"$HASH_LABEL\"}}" "docker://$ref" 2>"$err")"; then
        rm -f "$err"
        [[ "$out" == "<no value>" ]] && out=""
        echo "$out"
        return 0
    fi
    if grep -qiE 'manifest unknown|name unknown|not found|404' "$err"; then
        rm -f "$err"
        return 0
    fi
    cat "$err" >&2
    rm -f "$err"
    die "cannot inspect docker://$ref"
}

# Sets MANIFEST_DIGEST[name] and CONFIG_DIGEST[name] from what the registry
# now serves, which is what children are built FROM and hashed against.
declare -A MANIFEST_DIGEST=() CONFIG_DIGEST=()
record_digests() {
    local name="$1" tag="$2" raw
    raw="$(skopeo inspect "$(tls_args)" --raw "docker://$(repo_ref "$name"):$tag")"
    MANIFEST_DIGEST[$name]="sha256:$(printf '%s' "$raw" | sha256_of_stdin)"
    CONFIG_DIGEST[$name]="$(jq -r '.config.digest' <<<"$raw")"
    [[ "${CONFIG_DIGEST[$name]}" == sha256:* ]] || die "$name:$tag has no single-image manifest"
}

# Run through recipe(): the layer compression the recipe asks for with
# recipe_push_compression, if it has one; else nothing, and the archive's
# gzip layers go up as they are.
push_compression_of() {
    if declare -F recipe_push_compression >/dev/null; then recipe_push_compression; fi
}

push_archive() {
    local name="$1" archive="$2"; shift 2
    local first="" tag compress=()
    local format
    format="$(recipe "$name" push_compression_of)"
    # A layer the registry already holds (the shared base) keeps the
    # compression it has there: skopeo reuses it rather than recompress.
    if [[ -n "$format" ]]; then compress=(--dest-compress-format "$format"); fi
    for tag in "$@"; do
        if [[ -z "$first" ]]; then
            skopeo copy --quiet --dest-tls-verify="$TLS_VERIFY" "${compress[@]}" \
                "oci-archive:$archive" "docker://$(repo_ref "$name"):$tag" >&2
            first="$tag"
        else
            # Registry-side copy: the blobs are already there, only the
            # manifest travels.
            skopeo copy --quiet --src-tls-verify="$TLS_VERIFY" --dest-tls-verify="$TLS_VERIFY" \
                "docker://$(repo_ref "$name"):$first" "docker://$(repo_ref "$name"):$tag" >&2
        fi
    done
}

prune_archives() {
    local name="$1"
    # Newest first; keep a few so that switching branches back and forth does
    # not rebuild. Archives are touched when reused, so this is LRU.
    find "$KBUILD_CACHE_DIR/images" -maxdepth 1 -name "$name-*.tar" -printf '%T@ %p\n' \
        | sort -rn | tail -n +$((ARCHIVES_KEPT + 1)) | cut -d' ' -f2- \
        | while IFS= read -r old; do
            log "$name: pruning old archive $(basename "$old")"
            rm -f "$old"
        done
}

# ---------------------------------------------------------------------------
# Dependency order.

resolve_order() {
    local -A want=()
    local name parent
    for name in "$@"; do
        [[ -f "$IMAGES_DIR/$name/recipe.sh" ]] || die "no such image recipe: $name (have: ${ALL_IMAGES[*]})"
        while [[ -n "$name" ]]; do
            want[$name]=1
            name="$(recipe "$name" recipe_parent)"
        done
    done
    for name in "${ALL_IMAGES[@]}"; do
        [[ -n "${want[$name]:-}" ]] && echo "$name"
    done
    return 0
}

# ---------------------------------------------------------------------------

SUMMARY=()

process_image() {
    local name="$1" start="$EPOCHREALTIME" lockfd
    # Several runs may share one cache (a human, CI, the cluster scripts):
    # one image at a time per cache, and whoever comes second finds the
    # first one's archive.
    exec {lockfd}>"$KBUILD_CACHE_DIR/images/.$name.lock"
    if ! flock -n "$lockfd"; then
        log "$name: waiting for another build.sh using $KBUILD_CACHE_DIR"
        flock "$lockfd"
    fi
    local parent tags=() hash archive action tag have current=""
    parent="$(recipe "$name" recipe_parent)"
    mapfile -t tags < <(recipe "$name" recipe_tags)
    ((${#tags[@]})) || die "$name: recipe lists no tags"

    local parent_ref="" parent_config="none"
    if [[ -n "$parent" ]]; then
        [[ -n "${CONFIG_DIGEST[$parent]:-}" ]] || die "$name: parent $parent was not processed"
        parent_ref="$(repo_ref "$parent")@${MANIFEST_DIGEST[$parent]}"
        parent_config="${CONFIG_DIGEST[$parent]}"
    fi

    hash="$(
        {
            echo "kbuild-image-inputs v$DRIVER_INPUTS_VERSION"
            echo "name=$name"
            echo "parent=$parent_config"
            echo "tags=${tags[*]}"
            echo "[recipe files]"
            hash_tree "$IMAGES_DIR/$name" .
            echo "[recipe extra]"
            recipe "$name" recipe_extra_inputs
        } | sha256_of_stdin
    )"
    archive="$KBUILD_CACHE_DIR/images/$name-$hash.tar"
    log "$name: inputs hash ${hash:0:16} (parent ${parent_config:0:19})"

    action=""
    if [[ "$FORCE" == false ]]; then
        local missing_tags=()
        for tag in "${tags[@]}"; do
            have="$(registry_hash "$(repo_ref "$name"):$tag")"
            if [[ "$have" == "$hash" ]]; then
                current="$tag"
            else
                missing_tags+=("$tag")
            fi
        done
        if [[ -n "$current" && ${#missing_tags[@]} -eq 0 ]]; then
            action="skipped (registry up to date)"
        elif [[ -n "$current" ]]; then
            for tag in "${missing_tags[@]}"; do
                skopeo copy --quiet --src-tls-verify="$TLS_VERIFY" --dest-tls-verify="$TLS_VERIFY" \
                    "docker://$(repo_ref "$name"):$current" "docker://$(repo_ref "$name"):$tag" >&2
            done
            action="skipped build (retagged ${missing_tags[*]} in registry)"
        elif [[ -f "$archive" ]]; then
            log "$name: pushing cached archive $archive"
            push_archive "$name" "$archive" "${tags[@]}"
            touch "$archive"
            action="skipped build (pushed cached archive)"
        fi
    fi

    if [[ -z "$action" ]]; then
        # The pid keeps concurrent runs with other caches from sharing a tag.
        local local_image="localhost/kbuild-build/$name:${hash:0:16}-$$"
        local workdir="$WORK/$name"
        mkdir -p "$workdir"
        local build_log="$KBUILD_CACHE_DIR/logs/$name.log"
        mkdir -p "$KBUILD_CACHE_DIR/logs"
        log "$name: building (log: $build_log)"
        # Recipes get what they need through the environment, so that their
        # function signatures stay small. The recipe runs as a background job
        # because bash ignores set -e in anything called from an if/||
        # condition, and a recipe must stop at its first failing command.
        IMAGE_NAME="$name" INPUTS_HASH="$hash" LOCAL_IMAGE="$local_image" \
            PARENT_REF="$parent_ref" RECIPE_DIR="$IMAGES_DIR/$name" WORKDIR="$workdir" \
            recipe "$name" recipe_build >"$build_log" 2>&1 &
        if ! wait $!; then
            tail -n 40 "$build_log" >&2
            die "$name: build failed (full log: $build_log)"
        fi
        [[ "$(buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$HASH_LABEL\"}}" "$local_image")" == "$hash" ]] \
            || die "$name: recipe did not label $local_image with $HASH_LABEL=$hash"
        mkdir -p "$KBUILD_CACHE_DIR/images"
        # Write to a temporary name and rename, so that an interrupted build
        # never leaves a truncated archive that later runs would trust.
        local partial
        partial="$(mktemp "$KBUILD_CACHE_DIR/images/.$name.XXXXXX.partial")"
        rm -f "$partial"
        buildah push --quiet "$local_image" "oci-archive:$partial:kbuild/$name:${tags[0]}" >&2
        mv "$partial" "$archive"
        buildah rmi "$local_image" >/dev/null
        # The parent was pulled by digest only for this build; left behind,
        # every base change would strand another copy in local storage. Fails
        # harmlessly if something else is using it.
        if [[ -n "$parent_ref" ]]; then
            buildah rmi "$parent_ref" >/dev/null 2>&1 || true
        fi
        push_archive "$name" "$archive" "${tags[@]}"
        prune_archives "$name"
        action="built"
    fi

    record_digests "$name" "${tags[0]}"
    local secs size
    secs="$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
    size="-"
    [[ -f "$archive" ]] && size="$(du -h "$archive" | cut -f1)"
    log "$name: $action in ${secs}s"
    SUMMARY+=("$(printf '%-11s %-48s %7ss  archive %-5s  hash %s  %s' \
        "$name" "$action" "$secs" "$size" "${hash:0:12}" "${MANIFEST_DIGEST[$name]}")")
    exec {lockfd}>&-
}

main() {
    ensure_tools
    mkdir -p "$KBUILD_CACHE_DIR/images" "$KBUILD_CACHE_DIR/rootfs"
    WORK="$(mktemp -d /var/tmp/kbuild-images.XXXXXX)"
    # shellcheck disable=SC2064 # expand now: WORK is fixed for this run
    trap "rm -rf '$WORK'" EXIT
    export WORK IMAGES_DIR REPO_ROOT KBUILD_CACHE_DIR TLS_VERIFY REGISTRY HASH_LABEL BUILD_CA_BUNDLE
    export -f log die hash_tree sha256_of_stdin

    ((${#REQUESTED[@]})) || REQUESTED=("${DEFAULT_IMAGES[@]}")
    local order=() name total_start="$EPOCHREALTIME"
    mapfile -t order < <(resolve_order "${REQUESTED[@]}")
    log "registry $REGISTRY (tls-verify=$TLS_VERIFY), cache $KBUILD_CACHE_DIR, images: ${order[*]}"
    for name in "${order[@]}"; do
        process_image "$name"
    done
    echo "image       result                                              time  archive       inputs hash   digest"
    printf '%s\n' "${SUMMARY[@]}"
    awk -v a="$total_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "total %.1fs\n", b - a }'
}

main
