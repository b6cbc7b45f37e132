"""Decoding sources: odd-but-valid files are normalised, broken ones named with a reason."""

from __future__ import annotations

import resource

import pytest

from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.io.images import BadImageError, load_rgb
from vsc_assets_tests.oddities import write_broken, write_huge_jpeg, write_odd_valid


def test_odd_but_valid_sources_become_bounded_rgb(tmp_path):
    for name, what in write_odd_valid(tmp_path).items():
        image, info = load_rgb(tmp_path / name)
        assert image.mode == "RGB", what
        assert 32 <= min(image.size) and max(image.size) <= 512, what
        assert image.width * image.height <= 2 * 256 * 256 or min(image.size) == 32, what
        assert info["source_size"] and info["source_mode"], what


def test_exif_rotation_is_applied(tmp_path):
    write_odd_valid(tmp_path)
    image, info = load_rgb(tmp_path / "T000050.jpg")
    assert info["source_size"] == [300, 200]
    assert image.height > image.width  # stored landscape, shown portrait


def test_sixteen_bit_keeps_its_range(tmp_path):
    write_odd_valid(tmp_path)
    image, _ = load_rgb(tmp_path / "T000040.png")
    lo, hi = image.convert("L").getextrema()
    assert hi > 128 and lo < 128


def test_tiny_source_is_upscaled_and_pixel_scale_never_grows(tmp_path):
    write_odd_valid(tmp_path)
    image, info = load_rgb(tmp_path / "T000060.jpg")
    assert image.size == (32, 32) and info["pixel_scale"] == 1.0


def test_huge_jpeg_decodes_small_and_cheaply(tmp_path):
    path = tmp_path / "T000070.jpg"
    write_huge_jpeg(path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    image, info = load_rgb(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert info["source_size"] == [12000, 9000]
    assert max(image.size) <= 512 and 0 < info["pixel_scale"] < 0.05
    assert grown_mb < 150  # the 324 MB full decode never happens (DCT draft)


@pytest.mark.parametrize("name", ["T000080.jpg", "T000090.jpg", "T000100.jpg", "T000110.png"])
def test_broken_sources_raise_with_file_and_reason(tmp_path, name):
    expected = write_broken(tmp_path)[name]
    with pytest.raises(BadImageError) as info:
        load_rgb(tmp_path / name)
    assert expected in info.value.reason
    assert str(tmp_path / name) in str(info.value)


def test_atomic_write_leaves_no_temp_and_replaces_whole(tmp_path):
    target = tmp_path / "1_0.jpg"
    write_bytes_atomic(target, b"first")
    write_bytes_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["1_0.jpg"]


def test_atomic_write_failure_keeps_old_file_and_cleans_temp(tmp_path):
    target = tmp_path / "1_0.jpg"
    write_bytes_atomic(target, b"old")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, None)  # the write itself fails half-way
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["1_0.jpg"]


def test_stale_temps_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    import os
    import subprocess
    import sys

    from vsc_assets.io.atomic import remove_stale_temps

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    (tmp_path / f".tmp-{dead}-abc.part").write_bytes(b"half a jpeg")
    (tmp_path / f".tmp-{os.getpid()}-def.part").write_bytes(b"being written")
    (tmp_path / "1_0.jpg").write_bytes(b"finished")
    assert remove_stale_temps(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".tmp-{os.getpid()}-def.part", "1_0.jpg"]
