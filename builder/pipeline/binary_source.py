"""Binary build input as a small OCI artifact in the registry.

``oc start-build --from-dir`` streams the input to a ``buildconfigs/
instantiatebinary`` subresource that a plain cluster does not have.  kbuild
uploads it instead to the registry the builds already use, as a one-layer
OCI artifact, and the build pod's fetch step downloads it by digest:

- the input is content-addressed, so a retried or re-run build fetches
  exactly what was uploaded, and nothing travels through the API server;
- the last upload stays referenced from the BuildConfig, so a later rebuild
  (a new builder image, a plain start-build) can reuse it, which OpenShift
  cannot do.

The artifact's config blob records what the input is (a directory, a file,
an archive) and its name; the layer holds the bytes (a tar.gz for a
directory, the file or archive as given otherwise).
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
import tempfile
from enum import StrEnum
from pathlib import Path

from builder.api import BuildError, StatusReason
from builder.api.nesting import load_json
from builder.record import Record
from builder.registry import ImageReference, RegistryClient, RegistryError

CONFIG_MEDIA_TYPE = "application/vnd.kbuild.binary-source.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.kbuild.binary-source.v1"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
# An upload larger than this is refused on both ends: builds are for source.
MAX_BYTES = 512 * 1024 * 1024


class InputKind(StrEnum):
    DIRECTORY = "dir"
    FILE = "file"
    ARCHIVE = "archive"
    REPOSITORY = "repo"


class Packed(Record):
    kind: InputKind
    name: str
    data: bytes


def _tar_directory(path: Path) -> bytes:
    """A tar.gz of the directory's content, the same bytes for the same files.

    gzip's header time is fixed, so uploading unchanged input again yields the
    same digest and the registry stores it once.
    """
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as tar,
    ):
        for child in sorted(path.iterdir()):
            tar.add(child, arcname=child.name)
    return buffer.getvalue()


def pack(path: Path, kind: InputKind) -> Packed:
    """Read a local input the way ``oc start-build --from-<kind>`` names it."""
    if not path.exists():
        raise BuildError(StatusReason.FETCH_SOURCE_FAILED, f"{path} does not exist")
    if kind in (InputKind.DIRECTORY, InputKind.REPOSITORY):
        if not path.is_dir():
            raise BuildError(StatusReason.FETCH_SOURCE_FAILED, f"{path} is not a directory")
        repo = kind == InputKind.REPOSITORY
        packed = Packed(kind, path.name, _committed_content(path) if repo else _tar_directory(path))
    else:
        if not path.is_file():
            raise BuildError(StatusReason.FETCH_SOURCE_FAILED, f"{path} is not a file")
        packed = Packed(kind, path.name, path.read_bytes())
    if len(packed.data) > MAX_BYTES:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED,
            f"{path} is {len(packed.data) // (1024 * 1024)} MiB; binary input is limited to "
            f"{MAX_BYTES // (1024 * 1024)} MiB",
        )
    return packed


def _committed_content(repo: Path) -> bytes:
    """``--from-repo``: the last commit only (a shallow clone, .git included for its labels)."""
    with tempfile.TemporaryDirectory(prefix="kbuild-from-repo-") as tmp:
        clone = Path(tmp) / "src"
        done = subprocess.run(
            ["git", "clone", "--quiet", "--depth=1", f"file://{repo.resolve()}", str(clone)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED,
                f"{repo} is not a git repository with a commit: {done.stderr.strip()}",
            )
        return _tar_directory(clone)


def upload(registry: RegistryClient, repository: str, packed: Packed) -> str:
    """Push ``packed`` to ``repository`` (``host/ns/name``); returns ``repository@digest``."""
    ref = ImageReference.parse(f"{repository}:latest")
    config = json.dumps({"kind": packed.kind.value, "name": packed.name}).encode()
    try:
        config_digest = registry.push_blob(ref, config)
        layer_digest = registry.push_blob(ref, packed.data)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "artifactType": LAYER_MEDIA_TYPE,
            "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest,
                       "size": len(config)},
            "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest,
                        "size": len(packed.data)}],
        }  # fmt: skip
        digest = registry.push_manifest(
            ref, json.dumps(manifest, separators=(",", ":")).encode(), MANIFEST_MEDIA_TYPE
        )
    except RegistryError as err:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED, f"uploading the build input: {err.detail}"
        ) from err
    return f"{repository}@{digest}"


def download(registry: RegistryClient, artifact: str, dest_dir: Path) -> tuple[Path, InputKind]:
    """Fetch an uploaded input into ``dest_dir``; returns the file and what it is."""
    ref = ImageReference.parse(artifact)
    try:
        manifest = registry.resolve(ref)
        if manifest.config.media_type != CONFIG_MEDIA_TYPE or len(manifest.layers) != 1:
            raise BuildError(
                StatusReason.FETCH_SOURCE_FAILED, f"{artifact} is not a kbuild binary input"
            )
        config = load_json(registry.blob(ref, manifest.config.digest, 64 * 1024))
        data = registry.blob(ref, manifest.layers[0].digest, MAX_BYTES)
        if not isinstance(config, dict):
            raise ValueError("its config is not a JSON object")
        kind = InputKind(config.get("kind", "archive"))
    except RegistryError as err:
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED, f"downloading the build input: {err.detail}"
        ) from err
    except ValueError as err:  # JSON, nesting, or an unknown kind
        raise BuildError(
            StatusReason.FETCH_SOURCE_FAILED, f"{artifact} is not a kbuild binary input: {err}"
        ) from err
    name = Path(str(config.get("name") or "input")).name or "input"
    if kind in (InputKind.DIRECTORY, InputKind.REPOSITORY):
        name = "input.tar.gz"
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / name
    target.write_bytes(data)
    return target, kind
