"""The production path's store of pool images at 256x256 (augment/squared_pool.py)."""

from __future__ import annotations

import os

import pytest

from vsc_assets.augment.families import base
from vsc_assets.augment.families.base import ChainContext, pool_square
from vsc_assets.augment.materials import list_materials
from vsc_assets.augment.squared_pool import RAW_BYTES
from vsc_assets.demo.images import demo_image
from vsc_assets.io.images import encode_jpeg


def kept_files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def pool(tmp_path):
    """A folder whose two pool images (names ending in 9) are JPEGs of different sizes, and a store."""
    folder = tmp_path / "training_images"
    folder.mkdir()
    (folder / "T000009.jpg").write_bytes(encode_jpeg(demo_image(1).convert("RGB").resize((900, 600)), 90))
    (folder / "T000019.jpg").write_bytes(encode_jpeg(demo_image(2).convert("RGB").resize((500, 700)), 90))
    return folder, tmp_path / "pool-256"


def test_a_kept_pool_square_is_the_bytes_the_production_path_makes_and_is_read_back(pool, monkeypatch):
    folder, store = pool
    made = pool_square("T000009.jpg", "stack", ChainContext(list_materials(None, folder)))
    with_store = ChainContext(list_materials(None, folder, squared_pool_dir=store))
    first = pool_square("T000009.jpg", "stack", with_store)
    assert first.tobytes() == made.tobytes()
    [file] = kept_files(store)
    assert file.stat().st_size == RAW_BYTES

    def no_decode(*args, **kwargs):
        raise AssertionError("decoded although kept")

    monkeypatch.setattr(base, "load_pool_image", no_decode)
    again = pool_square("T000009.jpg", "image_opaque", with_store)
    assert again.tobytes() == made.tobytes() and again.mode == "RGB" and with_store.fallbacks == []


def test_a_replaced_pool_image_is_made_again_not_read_from_the_store(pool):
    folder, store = pool
    ctx = ChainContext(list_materials(None, folder, squared_pool_dir=store))
    old = pool_square("T000009.jpg", "stack", ctx)
    path = folder / "T000009.jpg"
    mtime = path.stat().st_mtime_ns
    path.write_bytes(encode_jpeg(demo_image(5).convert("RGB").resize((640, 480)), 90))
    os.utime(path, ns=(mtime + 10**9, mtime + 10**9))
    new = pool_square("T000009.jpg", "stack", ctx)
    fresh = pool_square("T000009.jpg", "stack", ChainContext(list_materials(None, folder)))
    assert new.tobytes() == fresh.tobytes() != old.tobytes()
    assert len(kept_files(store)) == 2


def test_a_kept_file_cut_short_is_made_again_and_replaced(pool):
    folder, store = pool
    ctx = ChainContext(list_materials(None, folder, squared_pool_dir=store))
    made = pool_square("T000019.jpg", "stack", ctx)
    [file] = kept_files(store)
    file.write_bytes(file.read_bytes()[: RAW_BYTES // 2])
    assert pool_square("T000019.jpg", "stack", ctx).tobytes() == made.tobytes()
    assert file.stat().st_size == RAW_BYTES
    assert kept_files(store) == [file]  # and no temp file beside it


def test_an_unreadable_pool_image_is_noted_every_time_and_never_kept(pool):
    folder, store = pool
    (folder / "T000029.jpg").write_bytes(b"not a jpeg at all")
    ctx = ChainContext(list_materials(None, folder, squared_pool_dir=store))
    for _ in range(2):
        grey = pool_square("T000029.jpg", "stack", ctx)
        assert grey.size == (256, 256) and grey.getpixel((10, 10)) == (128, 128, 128)
    assert [f["family"] for f in ctx.fallbacks] == ["stack", "stack"]
    assert "T000029.jpg" in ctx.fallbacks[0]["pool_image"]
    assert kept_files(store) == []


def test_the_reference_path_neither_reads_nor_keeps(pool):
    folder, store = pool
    materials = list_materials(None, folder, squared_pool_dir=store)
    reference = pool_square("T000009.jpg", "stack", ChainContext(materials, reference=True))
    assert kept_files(store) == []
    production = pool_square("T000009.jpg", "stack", ChainContext(materials))
    assert reference.size == production.size == (256, 256)
    assert len(kept_files(store)) == 1
