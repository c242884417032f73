#!/bin/bash
# Runs in the build pod image as uid 1000 (images/buildpod-cache/recipe.sh):
# pull each builder by digest into the cache store, then check that every
# layer buildah would hand to a build is exactly the registry's (its diffID
# recomputed from the store equals the one in the image config), so the
# cache can only ever hold the registry's content.
#
#   fill.sh fill REF...    pull into $CACHE_DIR (a host directory) and check
#   fill.sh check REF...   check the cache as the finished image holds it
set -euo pipefail
mode="$1"; shift
run="$(mktemp -d)"
store=(--root "$CACHE_DIR" --runroot "$run" --storage-driver overlay)
if [[ "$mode" == check ]]; then
    # Read-only, as in a pod: an additional image store, and a scratch store.
    scratch="$(mktemp -d -p "$HOME/.local/share/containers")"
    store=(--root "$scratch" --runroot "$run" --storage-driver overlay
           --storage-opt "overlay.imagestore=$CACHE_DIR")
fi
for ref in "$@"; do
    if [[ "$mode" == fill ]]; then
        buildah "${store[@]}" pull --quiet --tls-verify="$TLS_VERIFY" "$ref" >/dev/null
    fi
    want="$(buildah "${store[@]}" inspect --type image "$ref" | python3 -c \
        'import json, sys; print(json.dumps(json.load(sys.stdin)["OCIv1"]["rootfs"]["diff_ids"], separators=(",", ":")))')"
    out="$(mktemp -d)"
    buildah "${store[@]}" push --quiet --format oci "$ref" "oci:$out/img" >/dev/null
    got="$(python3 - "$out/img" <<'PY'
import hashlib, json, sys, gzip
from pathlib import Path
root = Path(sys.argv[1])
index = json.loads((root / "index.json").read_text())
def blob(d): return root / "blobs" / "sha256" / d.split(":")[1]
manifest = json.loads(blob(index["manifests"][0]["digest"]).read_text())
ids = []
for layer in manifest["layers"]:
    data = blob(layer["digest"]).read_bytes()
    if "gzip" in layer["mediaType"]:
        data = gzip.decompress(data)
    ids.append("sha256:" + hashlib.sha256(data).hexdigest())
print(json.dumps(ids, separators=(",", ":")))
PY
)"
    rm -rf "$out"
    if [[ "$want" != "$got" ]]; then
        echo "builder cache: $ref differs from the registry after unpacking: $want != $got" >&2
        exit 1
    fi
    echo "$mode: $ref is the registry's content"
done
rm -rf "$run"
if [[ "$mode" == fill ]]; then
    # Where the pulled blobs live in the registry (location hints only): a
    # pod seeds its own blob-info cache with it, so its push can ask the
    # registry for a cross-repository mount of the builder's layers instead
    # of uploading them; the registry decides with the pod's credentials.
    bic="$HOME/.local/share/containers/cache/blob-info-cache-v1.boltdb"
    if [[ -f "$bic" ]]; then cp "$bic" "$CACHE_DIR/blob-info-cache-v1.boltdb"; fi
fi
