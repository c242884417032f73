"""choose_driver: kernel overlay if the probe works, vfs (said in the log) if the kernel refuses.

buildah is replaced by a tiny script here (a unit test: the decision, not
buildah); tests/integration/pipeline/test_pod_steps.py runs the real one.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from builder.buildah.storage import (
    DRIVER_FILE,
    OVERLAY,
    STORE_DIR,
    VFS,
    builder_cache,
    choose_driver,
    turn_cache_off,
)

# buildah 1.28's own words when the kernel refuses overlay in a user namespace.
REFUSED = (
    "Error: kernel does not support overlay fs: unable to create kernel-style whiteout: "
    "operation not permitted"
)


def fake_buildah(tmp_path: Path, *, prints: str, exit_code: int) -> Path:
    """A buildah that answers ``info`` as told and records that it ran."""
    script = tmp_path / "buildah"
    script.write_text(
        f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'calls'}\necho '{prints}'\nexit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.parametrize(
    ("prints", "exit_code", "driver", "log_has"),
    [
        (OVERLAY, 0, OVERLAY, "Storage driver: overlay (kernel overlay in the build's user"),
        (REFUSED, 125, VFS, "Storage driver: vfs (fallback: the kernel refused overlay"),
        # Not an answer we understand: vfs, which works wherever buildah does.
        ("vfs", 0, VFS, "Storage driver: vfs (fallback"),
    ],
)
def test_probe_decides_and_records(
    tmp_path: Path, prints: str, exit_code: int, driver: str, log_has: str
) -> None:
    exe = fake_buildah(tmp_path, prints=prints, exit_code=exit_code)
    volume = tmp_path / "volume"
    (volume / STORE_DIR / "overlay").mkdir(parents=True)  # what a failed probe leaves
    lines: list[str] = []
    choice = choose_driver(volume, lines.append, executable=str(exe), flags=("--root", "/r"))
    assert choice.driver == driver
    assert any(log_has in line for line in lines), lines
    assert (volume / DRIVER_FILE).read_text().strip() == driver
    calls = (tmp_path / "calls").read_text()
    assert calls.startswith("--root /r --storage-driver overlay info")
    if driver == VFS:
        assert not (volume / STORE_DIR).exists()  # never two drivers' files in one store
        assert prints.strip() in choice.fallback_reason or exit_code == 0
    else:
        assert (volume / STORE_DIR).exists()


@pytest.mark.parametrize("recorded", [OVERLAY, VFS])
def test_later_containers_use_the_recorded_driver_without_probing(
    tmp_path: Path, recorded: str
) -> None:
    exe = fake_buildah(tmp_path, prints="", exit_code=1)
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / DRIVER_FILE).write_text(recorded + "\n")
    lines: list[str] = []
    assert choose_driver(volume, lines.append, executable=str(exe)).driver == recorded
    assert not (tmp_path / "calls").exists()
    assert lines == [f"Storage driver: {recorded} (chosen by the pod's first buildah container)"]


@pytest.mark.parametrize("content", ["btrfs\n", "", "\xff"])
def test_an_unknown_record_is_probed_again(tmp_path: Path, content: str) -> None:
    exe = fake_buildah(tmp_path, prints=OVERLAY, exit_code=0)
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / DRIVER_FILE).write_text(content, errors="surrogateescape")
    assert choose_driver(volume, [].append, executable=str(exe)).driver == OVERLAY
    assert (tmp_path / "calls").exists()


@pytest.mark.parametrize(
    ("index", "driver", "off", "used", "log_has"),
    [
        ("[]", OVERLAY, False, True, "Builder cache: {cache} (0 image(s), read-only)"),
        ('[{"id": "a"}]', OVERLAY, False, True, "(1 image(s), read-only)"),
        ("[]", VFS, False, False, "it is an overlay store and this build runs vfs"),
        ("[]", OVERLAY, True, False, "a pull from it failed earlier in this build"),
        ("{", OVERLAY, False, False, "is unreadable"),
        ('{"id": "a"}', OVERLAY, False, False, "index is not a list"),
        (None, OVERLAY, False, False, ""),
    ],
)
def test_builder_cache_states(
    tmp_path: Path, index: str | None, driver: str, off: bool, used: bool, log_has: str
) -> None:
    cache, volume = tmp_path / "cache", tmp_path / "volume"
    (cache / "overlay-images").mkdir(parents=True)
    volume.mkdir()
    if index is not None:
        (cache / "overlay-images" / "images.json").write_text(index)
    if off:
        turn_cache_off(volume, "pulling x: layer missing", [].append)
    lines: list[str] = []
    option = builder_cache(cache, volume, driver, lines.append)
    assert option == (f"overlay.imagestore={cache}" if used else None)
    if log_has:
        assert any(log_has.format(cache=cache) in line for line in lines), lines
    else:
        assert lines == []


@pytest.mark.parametrize(("shipped", "present"), [(True, False), (True, True), (False, False)])
def test_the_cache_seeds_the_pods_blob_locations_once(
    tmp_path: Path, shipped: bool, present: bool
) -> None:
    cache, volume = tmp_path / "cache", tmp_path / "volume"
    (cache / "overlay-images").mkdir(parents=True)
    (cache / "overlay-images" / "images.json").write_text("[]")
    volume.mkdir()
    if shipped:
        (cache / "blob-info-cache-v1.boltdb").write_bytes(b"shipped")
    target = volume / "cache" / "blob-info-cache-v1.boltdb"
    if present:
        target.parent.mkdir()
        target.write_bytes(b"the pod's own")
    assert builder_cache(cache, volume, OVERLAY, [].append)
    if present:
        assert target.read_bytes() == b"the pod's own"
    elif shipped:
        assert target.read_bytes() == b"shipped"
    else:
        assert not target.exists()
