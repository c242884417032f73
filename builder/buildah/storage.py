"""Which containers-storage driver a build pod's buildah runs: kernel overlay, else vfs.

vfs copies every layer in full: pulling a 175 MB builder writes it out once
per layer, and each ``RUN`` step copies the whole root filesystem again.
Kernel overlay mounted inside the build's user namespace (Linux >= 5.11,
buildah >= 1.21, storage on a filesystem that is not itself the container's
root: the pod's emptyDir) stacks layers instead, with no fuse and no
``/dev/fuse``.  Some kernels refuse it (older than 5.11, a distribution that
disables unprivileged overlay, an exotic backing filesystem), so the first
buildah container of the pod *probes*: ``buildah --storage-driver overlay
info`` initialises the overlay driver, which mounts a test overlay in the
user namespace and fails with "kernel does not support overlay fs" when the
kernel says no.  Then the pod falls back to vfs and says so in the build log.

The choice is written next to the storage (``DRIVER_FILE`` in the storage
volume), because every buildah container of the pod must open the same
store with the same driver: the later ones read it instead of probing again.
Each container logs the driver it runs, so ``kbuild logs`` shows it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.buildah.process import LogFn, run_streaming

OVERLAY = "overlay"
VFS = "vfs"
DRIVERS = (OVERLAY, VFS)
# In the storage volume, beside buildah's own "storage" directory.
DRIVER_FILE = "kbuild-storage-driver"
# The directory containers-storage makes under the volume (storage.conf's
# rootless_storage_path = $HOME/.local/share/containers/storage).
STORE_DIR = "storage"


@dataclass(frozen=True)
class StorageChoice:
    driver: str
    # Why vfs, when it is the fallback; empty for overlay or a recorded choice.
    fallback_reason: str = ""


def _probe_overlay(
    executable: str, flags: Sequence[str], env: dict[str, str] | None
) -> tuple[bool, str]:
    """Initialise the overlay driver once; (works, buildah's last line if not)."""
    lines: list[str] = []
    info = ["info", "--format", "{{.store.GraphDriverName}}"]
    done = run_streaming(
        [executable, *flags, "--storage-driver", OVERLAY, *info], lines.append, env=env
    )
    if done.returncode == 0 and any(line.strip() == OVERLAY for line in lines):
        return True, ""
    problem = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return False, problem or f"buildah info exited {done.returncode}"


def _recorded(volume: Path) -> str:
    try:
        value = (volume / DRIVER_FILE).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return value if value in DRIVERS else ""


def choose_driver(
    volume: Path,
    log: LogFn,
    *,
    executable: str = "buildah",
    flags: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> StorageChoice:
    """The driver for the store under ``volume``: the recorded one, else probe and record.

    Never fails: whatever the probe finds, vfs works wherever buildah does.
    A store the overlay probe left behind is removed before vfs uses the
    volume, so the two drivers' files never mix.  ``flags`` are buildah's
    global flags for that store (``--root``, ``--runroot``).
    """
    recorded = _recorded(volume)
    if recorded:
        log(f"Storage driver: {recorded} (chosen by the pod's first buildah container)")
        return StorageChoice(recorded)
    works, problem = _probe_overlay(executable, flags, env)
    if works:
        choice = StorageChoice(OVERLAY)
        log("Storage driver: overlay (kernel overlay in the build's user namespace)")
    else:
        shutil.rmtree(volume / STORE_DIR, ignore_errors=True)
        choice = StorageChoice(VFS, fallback_reason=problem)
        log(
            "Storage driver: vfs (fallback: the kernel refused overlay in the build's user "
            f"namespace: {problem}); every layer is copied in full, so this build is slower"
        )
    try:
        volume.mkdir(parents=True, exist_ok=True)
        (volume / DRIVER_FILE).write_text(choice.driver + "\n")
    except OSError as err:
        # The next container probes again and finds the same answer.
        log(f"warning: could not record the storage driver in {volume}: {err}")
    return choice


# --------------------------------------------------------------------------- the builder cache

# Where images/buildpod-cache puts the read-only additional image store.
BUILDER_CACHE_DIR = "/home/build/builder-cache"
# In the storage volume: the pod stopped using the cache (a pull from it failed).
CACHE_OFF_FILE = "kbuild-builder-cache-off"
MAX_CACHE_INDEX_BYTES = 16 * 1024 * 1024
# containers/image's record of where blobs live (rootless: under the storage
# volume); the cache image ships one made when it was filled.
BLOB_INFO_CACHE = "blob-info-cache-v1.boltdb"
MAX_BLOB_INFO_CACHE_BYTES = 64 * 1024 * 1024


def builder_cache(cache: Path, volume: Path, driver: str, log: LogFn) -> str | None:
    """The ``--storage-opt`` that reads ``cache`` as an additional image store, or None.

    The cache is a layer of the build pod image (images/buildpod-cache):
    read-only to every container, filled only by the platform with builders
    pulled by digest and checked layer by layer against the registry.  Used
    only with overlay (it is an overlay store), only if its image index
    reads as JSON, and not once a pull through it failed in this pod
    (``CACHE_OFF_FILE``): a missing, stale or corrupt cache means a normal
    pull, never a failed build.  A stale entry is simply never found: the
    pod asks for the builder by digest.
    """
    if (volume / CACHE_OFF_FILE).exists():
        log("Builder cache: not used (a pull from it failed earlier in this build)")
        return None
    index = cache / "overlay-images" / "images.json"
    if not index.is_file():
        return None
    if driver != OVERLAY:
        log(f"Builder cache: not used (it is an overlay store and this build runs {driver})")
        return None
    try:
        if index.stat().st_size > MAX_CACHE_INDEX_BYTES:
            raise ValueError("index too large")
        images = json.loads(index.read_text())
        if not isinstance(images, list):
            raise ValueError("index is not a list")
    except (OSError, ValueError) as err:
        log(f"Builder cache: not used ({index} is unreadable: {err}); pulling normally")
        return None
    log(f"Builder cache: {cache} ({len(images)} image(s), read-only)")
    _seed_blob_locations(cache, volume)
    return f"{OVERLAY}.imagestore={cache}"


def _seed_blob_locations(cache: Path, volume: Path) -> None:
    """Give this pod's blob-info cache the registry locations of the cached layers.

    Only hints: with them the push asks the registry to mount the builder's
    layers from their repository (the registry checks the push credentials
    may read it) instead of uploading them again.  Copied once per pod, into
    the pod's own volume; any problem just leaves the push uploading.
    """
    source = cache / BLOB_INFO_CACHE
    target = volume / "cache" / BLOB_INFO_CACHE
    try:
        if target.exists() or not source.is_file():
            return
        if source.stat().st_size > MAX_BLOB_INFO_CACHE_BYTES:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except OSError:
        return


def turn_cache_off(volume: Path, why: str, log: LogFn) -> None:
    """Stop using the cache for the rest of this pod's containers."""
    log(f"Builder cache: a pull through it failed ({why}); pulling without it")
    try:
        (volume / CACHE_OFF_FILE).write_text(why[:400] + "\n")
    except OSError as err:
        log(f"warning: could not record that the builder cache is off: {err}")


__all__ = [
    "BUILDER_CACHE_DIR",
    "CACHE_OFF_FILE",
    "DRIVERS",
    "DRIVER_FILE",
    "OVERLAY",
    "VFS",
    "StorageChoice",
    "builder_cache",
    "choose_driver",
    "turn_cache_off",
]
