"""Decoding sources: odd-but-valid files are normalised, broken ones named with a reason."""

from __future__ import annotations

import io
import resource

import pytest
from PIL import Image

from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.io.images import BadImageError, encode_jpeg, load_rgb
from vsc_assets_tests.oddities import write_broken, write_huge_jpeg, write_odd_valid


def test_odd_but_valid_sources_become_rgb_at_their_own_size(tmp_path):
    for name, what in write_odd_valid(tmp_path).items():
        image, info = load_rgb(tmp_path / name)
        assert image.mode == "RGB", what
        assert info["source_size"] and info["source_mode"], what
        if what == "1x1":
            assert image.size == (32, 32) and info["upscaled_to"] == [32, 32]
        elif what == "EXIF-rotated":
            assert image.size == tuple(reversed(info["source_size"]))
        else:  # the recipe works on the source as it is: no resampling
            assert list(image.size) == info["source_size"], what
            assert "upscaled_to" not in info and "decoded_at" not in info, what


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


def test_source_decodes_pixel_for_pixel(tmp_path):
    # No draft decode and no resize: the recipe's chain sees the source's own pixels.
    from PIL import Image

    path = tmp_path / "T000000.png"
    photo = __import__("vsc_assets.demo.images", fromlist=["demo_image"]).demo_image(4)
    photo.save(path)
    image, info = load_rgb(path)
    assert image.tobytes() == photo.convert("RGB").tobytes()
    assert info == {"source_size": list(photo.size), "source_mode": Image.open(path).mode}


def test_huge_jpeg_decodes_at_a_dct_scale_within_the_chain_bound(tmp_path):
    path = tmp_path / "T000070.jpg"
    write_huge_jpeg(path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    image, info = load_rgb(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert info["source_size"] == [12000, 9000] and info["decoded_at"] == "1/4"
    assert image.size == (3000, 2250)  # 1/2 would be 27 Mpx, over the 12 Mpx bound
    assert grown_mb < 150  # the 324 MB full decode never happens (DCT scaling)


def test_huge_png_is_box_reduced_within_the_chain_bound(tmp_path):
    from PIL import Image

    path = tmp_path / "T000071.png"
    Image.new("RGB", (5000, 3000), (9, 99, 199)).save(path)
    image, info = load_rgb(path)
    assert info["decoded_at"] == "1/2" and image.size == (2500, 1500)


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


def test_an_encoded_jpeg_carries_no_comment_its_image_inherited_from_a_file():
    # A chain's output inherits the info of a source or pool image it was pasted from; a file's
    # bytes must not depend on that (the pool's 256x256 store hands out images without it).
    with_comment = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 30)).save(with_comment, "JPEG", comment=b"made by a camera")
    decoded = Image.open(io.BytesIO(with_comment.getvalue()))
    decoded.load()
    assert decoded.info.get("comment") == b"made by a camera"
    data = encode_jpeg(decoded)
    assert b"\xff\xfe" not in data and b"made by a camera" not in data
    assert data == encode_jpeg(Image.frombytes("RGB", decoded.size, decoded.tobytes()))
