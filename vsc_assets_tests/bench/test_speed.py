"""The speed benchmark's turns: every side (the reference paths too) measures every source once, and each set keeps its own store."""

from vsc_assets.augment.materials import list_materials
from vsc_assets.bench.speed import timed_in_turns
from vsc_assets.catalog.artifacts import S3, S27
from vsc_assets.catalog.inputs import sources_in_folder
from vsc_assets.constants import VARIANTS_PER_SOURCE
from vsc_assets.demo.images import make_disc21_demo


def test_every_side_covers_every_source_once_whatever_the_turns(tmp_path):
    make_disc21_demo(tmp_path / "images", count=20, workers=1)
    sources = [s for s in sources_in_folder(tmp_path / "images") if s.path.stat().st_size > 0]
    assert len(sources) >= 2
    materials = {art.name: list_materials(None, tmp_path / "images", squared_pool_dir=tmp_path / art.name) for art in (S27, S3)}
    for turns in (1, 2, len(sources) + 3):
        reference = turns == 1  # the reference paths once: they are the slow sides
        timed = timed_in_turns(sources, materials, "published", turns, reference)
        assert sorted(timed) == ["floor_first", "floor_last", "s27", *(["s27_reference"] if reference else []), "s3", *(["s3_reference"] if reference else [])]
        for name, (files, seconds) in timed.items():
            assert files == len(sources) * VARIANTS_PER_SOURCE, (turns, name)
            assert seconds > 0
    # Each set kept the pool images it drew in its own store.
    assert any((tmp_path / S27.name).rglob("*.rgb")) and any((tmp_path / S3.name).rglob("*.rgb"))
