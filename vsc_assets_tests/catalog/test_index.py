"""The input index: listed once, reused while the folder is unchanged, and right after any change."""

import os
import time

import pyarrow.parquet as pq

from vsc_assets.layout import Layout
from vsc_assets.catalog.index import forget, refresh
from vsc_assets.keys import IdRange
from vsc_assets.catalog.inputs import disc21_listing, disc21_sources_in, source_count, videos


def _quiet(folder, seconds_ago=10):
    """As if the folder's last change were ``seconds_ago`` (a fresh change is not trusted yet)."""
    t = time.time_ns() - seconds_ago * 10**9
    os.utime(folder, ns=(t, t))


def _state(listing):
    return {r["name"]: (r["size"], r["mtime_ns"]) for r in listing.table.to_pylist()}


def test_the_index_picks_up_an_added_a_removed_and_a_replaced_file(tmp_path):
    folder, index = tmp_path / "images", tmp_path / "index" / "images.parquet"
    folder.mkdir()
    for name in ("b.jpg", "a.jpg", "c.jpg"):
        (folder / name).write_bytes(b"x" * 10)
    (folder / "notes.txt").write_text("not an image")
    keep = lambda name: name.endswith(".jpg")  # noqa: E731
    _quiet(folder, 20)

    first = refresh(folder, index, keep)
    assert first.relisted and first.names() == ["a.jpg", "b.jpg", "c.jpg"]
    assert _state(first)["b.jpg"][0] == 10 and index.is_file()
    forget()
    again = refresh(folder, index, keep)
    assert not again.relisted and _state(again) == _state(first)  # read from the index file, not the folder

    (folder / "d.jpg").write_bytes(b"y" * 7)  # added
    (folder / "a.jpg").unlink()  # removed
    (folder / ".tmp-1-new.part").write_bytes(b"z" * 99)
    os.replace(folder / ".tmp-1-new.part", folder / "c.jpg")  # replaced: written aside, renamed over
    _quiet(folder, 5)
    after = refresh(folder, index, keep)
    assert after.relisted and after.names() == ["b.jpg", "c.jpg", "d.jpg"]
    assert _state(after)["c.jpg"][0] == 99 and _state(after)["d.jpg"][0] == 7
    assert _state(after)["b.jpg"] == _state(first)["b.jpg"]
    assert [r["name"] for r in pq.read_table(index).to_pylist()] == ["b.jpg", "c.jpg", "d.jpg"]  # what the next look reads


def test_a_change_just_before_listing_is_not_trusted(tmp_path):
    folder, index = tmp_path / "images", tmp_path / "images.parquet"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"x")
    assert refresh(folder, index, lambda n: True).relisted
    # The folder changed within the last 2 s: a file may have arrived during the listing.
    assert refresh(folder, index, lambda n: True).relisted
    _quiet(folder)
    assert refresh(folder, index, lambda n: True).relisted  # its mtime moved: list once more
    assert not refresh(folder, index, lambda n: True).relisted


def test_a_damaged_or_missing_index_is_rebuilt(tmp_path):
    folder, index = tmp_path / "images", tmp_path / "images.parquet"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"x")
    _quiet(folder)
    refresh(folder, index, lambda n: True)
    index.write_bytes(b"not parquet")
    forget()  # as another process would: it reads the damaged file
    listing = refresh(folder, index, lambda n: True)
    assert listing.relisted and listing.names() == ["a.jpg"]
    assert len(refresh(tmp_path / "absent", tmp_path / "absent.parquet", lambda n: True)) == 0


def test_partitions_read_their_slice_of_the_index(tmp_path):
    layout = Layout(tmp_path)
    layout.disc21_dir.mkdir(parents=True)
    for i in range(25):
        (layout.disc21_dir / f"T{i:06d}.jpg").write_bytes(b"x")
    listing = disc21_listing(layout)
    assert source_count(listing) == 3  # T0, T10, T20
    assert [(s.path.name, s.pid) for s in disc21_sources_in(listing, IdRange(1, 2))] == [("T000010.jpg", 1), ("T000020.jpg", 2)]
    assert disc21_sources_in(listing, IdRange(3, 4)) == []

    folder = layout.videos_dir("reference")
    folder.mkdir(parents=True)
    for name in ("R100010.mp4", "R100002.mp4", "R99.mp4", "Q200000.mp4", "R100003.avi", ".hidden.mp4"):
        (folder / name).write_bytes(b"v")
    found = videos(layout, "reference")
    assert found.ids == ["R99", "R100002", "R100010"] and found.numbers == [99, 100002, 100010]
    assert list(found.in_range(IdRange(100000, 100009))) == ["R100002"]
    assert sorted(s["file"] for s in found.skipped) == ["Q200000.mp4", "R100003.avi"]
