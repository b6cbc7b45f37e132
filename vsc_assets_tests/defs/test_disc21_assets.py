"""The DISC21 assets, materialized partition by partition into a temporary root."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket

import dagster as dg
import pytest
from PIL import Image

from vsc_assets.builders.sets import run_checks
from vsc_assets.catalog import artifacts
from vsc_assets.catalog.artifacts import BuildContext
from vsc_assets.definitions import defs
from vsc_assets.defs.resources import VscRoot
from vsc_assets.io.digests import file_digest
from vsc_assets.io.manifest import read_manifest
from vsc_assets.keys import IdRange
from vsc_assets.layout import Layout
from vsc_assets_tests.oddities import write_broken, write_huge_jpeg, write_odd_valid
from vsc_assets_tests.support import make_images, make_root

S27, S3 = artifacts.S27.name, artifacts.S3.name
SETS = [a.name for a in artifacts.CATALOG.partitioned_by(artifacts.DISC21_SOURCES)]


def build(layout, artifact, key, base_seed, workers):
    """One partition of a declared artifact, built as its asset builds it, without Dagster."""
    return artifact.build(artifact, BuildContext(layout, IdRange.parse(key), base_seed, workers))


def materialize(root, key, selection=None, workers=1):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(artifacts.DISC21_SOURCES.name, [key])
    result = dg.materialize(
        list(defs.assets),
        instance=instance,
        partition_key=key,
        resources={"vsc_root": VscRoot(root=str(root), workers=workers, base_seed=3)},
        selection=selection or SETS,
        raise_on_error=False,
    )
    return result


def metadata_of(result, asset):
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(asset):
            return event.step_materialization_data.materialization.metadata
    raise AssertionError(f"no materialization of {asset}")


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.jpg"))}


def test_partition_of_all_four_sets(tmp_path):
    root = make_root(tmp_path, count=120)
    result = materialize(root, "000000-000005", workers=2)
    assert result.success
    layout = Layout(root)
    for name in (S27, S3, S27 + "_bw", S3 + "_bw"):
        files = sorted(p.name for p in layout.set_dir(name).iterdir())
        assert files == sorted(f"{pid}_{j}.jpg" for pid in range(6) for j in range(20)), name
        meta = metadata_of(result, name)
        assert meta["files"].value == 120 and meta["bad_inputs"].value == 0
        assert meta["images_per_second"].value > 0
        # Who built it: outside a Celery worker, the run's own process on this host.
        assert meta["host"].value == socket.gethostname() and meta["worker"].value.startswith("run process ")
        assert meta["preview"].value.startswith("![the first variants of one source (all 20: preview_file)](data:image/jpeg;base64,")
        # The event carries a small sheet; the full one is the file it names.
        assert len(meta["preview"].value) < 40_000 and meta["preview_file"].value == str(layout.preview_path(name, "000000-000005"))
        with Image.open(layout.preview_path(name, "000000-000005")) as sheet:
            assert sheet.size[0] == 5 * 144 and sheet.size[1] > 4 * 144  # 20 tiles of 144 px, 5 a row
        table = meta["family_counts"].value  # a table the UI can sort, not raw JSON
        assert [c.name for c in table.schema.columns] == ["family", "files", "share"]
        families = {r.data["family"]: r.data["files"] for r in table.records}
        records = [json.loads(r["record"]) for r in read_manifest(layout.manifest_path(name, "000000-000005"))]
        assert sum(families.values()) == sum(len(r["families"]) for r in records if r["variant"])  # variant 0: no chain
        assert all(0 < r.data["share"] <= 1 for r in table.records)
        rows = read_manifest(layout.manifest_path(name, "000000-000005"))
        assert len(rows) == 120 and all(r["record"] for r in rows)
        # Each row carries the digest of what was written, which is what is on disk.
        assert all(r["name_blake2b"] == file_digest(layout.set_dir(name) / r["name"]) for r in rows)
        assert layout.preview_path(name, "000000-000005").is_file()
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 16 and all(c.passed for c in checks)
    assert {c.metadata["sampled"].value for c in checks if c.check_name == "digests_sampled"} == {20}
    with Image.open(layout.set_dir(S27 + "_bw") / "3_7.jpg") as im:
        assert im.mode == "L" and im.size == (256, 256)
    with Image.open(layout.set_dir(S27) / "3_7.jpg") as im:
        assert im.mode == "RGB" and im.size == (256, 256)


def test_bad_and_odd_sources_do_not_stop_the_partition(tmp_path):
    root = tmp_path / "root"
    disc21 = root / "data" / "training_images"
    make_images(disc21, 130)
    for i in range(10, 120, 10):  # the sources, replaced by odd and broken files
        (disc21 / f"T{i:06d}.jpg").unlink()
    odd = write_odd_valid(disc21)
    write_huge_jpeg(disc21 / "T000070.jpg")
    broken = write_broken(disc21)
    result = materialize(root, "000000-000012", selection=[S27])
    assert result.success
    meta = metadata_of(result, S27)
    readable = 1 + len(odd) + 1 + 1  # T000000, the odd ones, the huge one, T000120
    assert meta["files"].value == 20 * readable
    assert meta["bad_inputs"].value == len(broken)
    listing = meta["bad_input_list"].value
    for name, reason in broken.items():
        assert name in listing and reason in listing
    rows = read_manifest(Layout(root).manifest_path(S27, "000000-000012"))
    errors = {r["source_file"]: r["error"] for r in rows if r["error"]}
    assert set(errors) == set(broken)
    assert all(r["name"] is None for r in rows if r["error"])
    # no file was written for a broken source: pids 8..11
    assert not list(Layout(root).set_dir(S27).glob("8_*.jpg"))
    assert all(c.passed for c in result.get_asset_check_evaluations())


def test_files_do_not_depend_on_partitioning_or_workers(tmp_path):
    root = make_root(tmp_path, count=60)
    layout = Layout(root)
    build(layout, artifacts.S3, "000000-000005", base_seed=9, workers=1)
    whole = digests(layout.set_dir(S3))
    shutil.rmtree(layout.set_dir(S3))
    build(layout, artifacts.S3, "000000-000001", base_seed=9, workers=2)
    build(layout, artifacts.S3, "000002-000005", base_seed=9, workers=2)
    assert digests(layout.set_dir(S3)) == whole and len(whole) == 120
    build(layout, artifacts.S3, "000000-000005", base_seed=10, workers=1)
    assert digests(layout.set_dir(S3)) != whole  # the base seed matters


def test_rematerializing_restores_byte_identical_files(tmp_path):
    root = make_root(tmp_path, count=40)
    assert materialize(root, "000000-000003").success
    folder = Layout(root).set_dir(S27 + "_bw")
    before = digests(folder)
    for p in list(folder.glob("2_*.jpg")):
        p.unlink()
    assert materialize(root, "000000-000003").success
    assert digests(folder) == before


def test_checks_fail_when_they_should(tmp_path):
    root = make_root(tmp_path, count=30)
    layout = Layout(root)
    report = build(layout, artifacts.S27, "000000-000002", base_seed=1, workers=1)
    folder = layout.set_dir(S27)
    rows = read_manifest(report.manifest)
    assert all(c.passed for c in run_checks(folder, rows, "RGB", IdRange(0, 2)).values())

    (folder / "1_4.jpg").unlink()
    data = (folder / "2_5.jpg").read_bytes()
    (folder / "2_5.jpg").write_bytes(data[: len(data) // 3])
    Image.new("RGB", (128, 128)).save(folder / "0_6.jpg")
    (folder / "3_0.jpg").write_bytes(data)  # pid 3 is in the range below but in no manifest row
    renamed = [{**r, "name": "x_1.jpg"} if r["name"] == "0_1.jpg" else r for r in rows]
    checks = run_checks(folder, renamed, "RGB", IdRange(0, 3))
    assert not checks["files_per_source"].passed and checks["files_per_source"].details["missing"] == ["1_4.jpg"]
    bad = checks["decodable_256"].details["bad"]
    assert not checks["decodable_256"].passed and len(bad) == 2
    assert any(b.startswith("2_5.jpg") for b in bad) and any(b.startswith("0_6.jpg") for b in bad)
    names = checks["names_parse"]
    assert not names.passed and names.details["bad"] == ["x_1.jpg"] and names.details["unlisted"] == ["3_0.jpg"]
    assert not run_checks(folder, rows, "L", IdRange(0, 2))["decodable_256"].passed  # colour files are not L
    assert not run_checks(folder, rows, "RGB", IdRange(1, 2))["names_parse"].passed  # pid 0 is outside 1..2


def test_grey_set_without_its_colour_partition_fails_clearly(tmp_path):
    from vsc_assets.errors import InputError

    root = make_root(tmp_path, count=20)
    with pytest.raises(InputError, match="000000-000001.parquet"):
        build(Layout(root), artifacts.S27_BW, "000000-000001", base_seed=1, workers=1)
    result = materialize(root, "000000-000001", selection=[S27 + "_bw"])
    assert not result.success
    # Deterministic: failed once, in one line, and not retried.
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "has not been materialized (hint: materialize train_v1_s27_all for 000000-000001 first)" in failure.event_specific_data.error.message


def test_linked_emoji_and_fonts_folders_and_unreadable_ones_never_fail_a_partition(tmp_path):
    """A user's data/emoji and data/fonts made of links, with one unreadable emoji and one unreadable font."""
    from vsc_assets.augment.materials import AUGLY_EMOJI_DIR, AUGLY_FONTS_DIR

    root = make_root(tmp_path, count=60)
    emoji, fonts = root / "data" / "emoji", root / "data" / "fonts"
    (emoji / "linked").mkdir(parents=True)
    fonts.mkdir()
    for i, png in enumerate(sorted(AUGLY_EMOJI_DIR.rglob("*.png"))[:3]):
        (emoji / "linked" / f"e{i}.png").symlink_to(png)
    (emoji / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    for ttf in sorted(AUGLY_FONTS_DIR.glob("Raleway-*.ttf"))[:2]:
        (fonts / ttf.name).symlink_to(ttf)
        (fonts / ttf.with_suffix(".pkl").name).symlink_to(ttf.with_suffix(".pkl"))
    (fonts / "Broken.ttf").write_bytes(b"not a font")
    (fonts / "Broken.pkl").symlink_to(sorted(AUGLY_FONTS_DIR.glob("Raleway-*.pkl"))[0])

    result = materialize(root, "000000-000005", selection=[S27, S3], workers=2)
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    fallbacks = []
    for name in (S27, S3):
        for row in read_manifest(Layout(root).manifest_path(name, "000000-000005")):
            fallbacks += json.loads(row["record"])["fallbacks"]
    emoji_notes = [f for f in fallbacks if f["family"] == "overlay_emoji"]
    assert emoji_notes and all(f["emoji"] == "broken.png" and f["reason"] == "emoji unreadable, not overlaid" for f in emoji_notes)
    font_notes = {f["family"] for f in fallbacks if f.get("font") == "Broken.ttf" and f["reason"].startswith("font cannot be read")}
    assert font_notes == {"overlay_text", "meme_format"}
