"""``source.images[].paths``: copied as ``cp -r`` does, resolved in the image, kept in context."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from builder.api import BuildError, StatusReason
from builder.source.imagepaths import apply_layers, copy_paths, resolve_in_image


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """An image root, and beside it a "pod" file a link must never reach."""
    root = tmp_path / "image"
    (root / "opt/app/lib").mkdir(parents=True)
    (root / "opt/app/lib/a.jar").write_bytes(b"jar")
    (root / "opt/app/README").write_text("readme")
    (root / "etc").mkdir()
    (root / "etc/config").write_text("image config")
    (root / "opt/app/conf").symlink_to("/etc")  # absolute: the image's /etc
    (root / "opt/app/up").symlink_to("../../../../..")  # climbs past the root
    (root / "opt/app/loop").symlink_to("loop")
    os.mkfifo(root / "opt/app/fifo")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/config").write_text("POD SECRET")
    return root


def _context(tmp_path: Path) -> Path:
    context = tmp_path / "context"
    context.mkdir()
    return context


CASES = {
    # cp -r DIR DEST -> DEST/DIR
    "a directory lands under its name": (
        [("/opt/app/lib", "deps")],
        {"deps/lib/a.jar": b"jar"},
    ),
    # cp -r DIR/. DEST -> its contents
    "a trailing /. copies the contents": (
        [("/opt/app/lib/.", "deps")],
        {"deps/a.jar": b"jar"},
    ),
    "a file lands under its name": ([("/opt/app/README", "")], {"README": b"readme"}),
    "an absolute link resolves in the image": (
        [("/opt/app/conf/config", "x")],
        {"x/config": b"image config"},
    ),
    "dot-dot stops at the image root": (
        [("/opt/app/up/etc/config", "y")],
        {"y/config": b"image config"},
    ),
    "nested destination is created": (
        [("/opt/app/README", "a/b/c")],
        {"a/b/c/README": b"readme"},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_copies(image: Path, tmp_path: Path, name: str) -> None:
    paths, expected = CASES[name]
    context = _context(tmp_path)
    copy_paths(image, context, paths)
    for relative, data in expected.items():
        assert (context / relative).read_bytes() == data
    found = b"".join(p.read_bytes() for p in context.rglob("*") if p.is_file())
    assert b"POD SECRET" not in found


def test_links_in_the_tree_stay_links_and_special_files_are_skipped(
    image: Path, tmp_path: Path
) -> None:
    context = _context(tmp_path)
    entries, size, skipped = copy_paths(image, context, [("/opt/app", "")])
    assert str((context / "app/conf").readlink()) == "/etc"
    assert not (context / "app/fifo").exists()
    assert skipped == 1
    assert (entries, size) == (7, len(b"jar") + len(b"readme"))  # 2 dirs, 2 files, 3 links


@pytest.mark.parametrize(
    ("paths", "says"),
    [
        ([("/nope", "")], "does not exist in the image"),
        ([("/opt/app/README/x", "")], "runs through a file"),
        ([("/opt/app/loop/x", "")], "more than 40 links"),
        ([("opt/app", "")], "must be an absolute path"),
    ],
)
def test_refusals_are_typed(
    image: Path, tmp_path: Path, paths: list[tuple[str, str]], says: str
) -> None:
    with pytest.raises(BuildError) as err:
        copy_paths(image, _context(tmp_path), paths)
    assert err.value.reason is StatusReason.FETCH_IMAGE_CONTENT_FAILED
    assert says in err.value.detail


def test_a_committed_link_at_the_destination_is_not_written_through(
    image: Path, tmp_path: Path
) -> None:
    context = _context(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (context / "deps").symlink_to(outside)
    with pytest.raises(BuildError) as err:
        copy_paths(image, context, [("/opt/app/lib", "deps")])
    assert err.value.reason is StatusReason.FETCH_IMAGE_CONTENT_FAILED
    assert list(outside.iterdir()) == []


def test_a_committed_link_where_a_file_goes_is_replaced_not_followed(
    image: Path, tmp_path: Path
) -> None:
    context = _context(tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (context / "README").symlink_to(victim)
    copy_paths(image, context, [("/opt/app/README", "")])
    assert victim.read_text() == "keep"
    assert stat.S_ISREG(os.lstat(context / "README").st_mode)


def test_resolution_never_leaves_the_root(image: Path) -> None:
    assert resolve_in_image(image, "/opt/app/up/../../..") == image


def _layer(path: Path, entries: list[tuple[str, str, bytes | str]]) -> Path:
    """A tar layer: (name, type, data-or-linkname); type is f, d, l (symlink) or h (hard link)."""
    with tarfile.open(path, "w") as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o555
                tar.addfile(info)
            elif kind in ("l", "h"):
                info.type = tarfile.SYMTYPE if kind == "l" else tarfile.LNKTYPE
                info.linkname = str(data)
                tar.addfile(info)
            else:
                body = data if isinstance(data, bytes) else data.encode()
                info.size, info.mode = len(body), 0o400
                tar.addfile(info, io.BytesIO(body))
    return path


def test_layers_apply_in_order_with_whiteouts(tmp_path: Path) -> None:
    one = _layer(tmp_path / "1.tar", [
        ("app", "d", b""), ("app/keep", "f", b"keep"), ("app/gone", "f", b"gone"),
        ("old", "d", b""), ("old/x", "f", b"x"), ("app/twin", "h", "app/keep"),
    ])  # fmt: skip
    two = _layer(tmp_path / "2.tar", [
        ("app/.wh.gone", "f", b""), ("old/.wh..wh..opq", "f", b""), ("old/y", "f", b"y"),
        ("app/keep", "f", b"new"),
    ])  # fmt: skip
    root = tmp_path / "root"
    root.mkdir()
    assert apply_layers([one, two], root) == 0
    assert (root / "app/keep").read_bytes() == b"new"
    assert (root / "app/twin").read_bytes() == b"keep"
    assert not (root / "app/gone").exists()
    assert sorted(p.name for p in (root / "old").iterdir()) == ["y"]


def test_a_hostile_layer_writes_nothing_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("POD SECRET")
    layer = _layer(tmp_path / "evil.tar", [
        ("../escaped", "f", b"x"),
        ("link", "l", str(outside)),
        ("link/planted", "f", b"x"),
        ("stolen", "h", "link/secret"),
        ("abs", "l", "/"),
        ("abs/etc/planted", "f", b"x"),
        (".wh..", "f", b""),
    ])  # fmt: skip
    root = tmp_path / "root"
    root.mkdir()
    assert apply_layers([layer], root) == 4
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert not (tmp_path / "escaped").exists()
    assert not (root / "stolen").exists()
    assert root.is_dir()


def test_a_layer_that_is_not_a_tar_is_a_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x1f\x8b not gzip at all")
    with pytest.raises(BuildError) as err:
        apply_layers([bad], tmp_path)
    assert err.value.reason is StatusReason.FETCH_IMAGE_CONTENT_FAILED
