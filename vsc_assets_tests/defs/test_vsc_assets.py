"""The VSC artifacts: the demo end to end, and bad videos and ground truth in a small root."""

import pickle
import shutil
from fractions import Fraction
from pathlib import Path

import dagster as dg
import numpy as np
from PIL import Image

from vsc_assets.constants import REFERENCE_SET
from vsc_assets.defs.partitions import query_videos_partitions_def, reference_videos_partitions_def
from vsc_assets.defs.resources import VscRoot
from vsc_assets.definitions import defs
from vsc_assets.demo import make_disc21_demo
from vsc_assets.demo_video import plan_demo, read_stamp
from vsc_assets.io.manifest import read_manifest
from vsc_assets.layout import Layout
from vsc_assets.pair_table import PAIR_TABLE, QUERY_PICKLE, REF_PICKLE
from vsc_assets_tests.video_oddities import write_broken_videos, write_numbered


def expected_seconds(duration: Fraction) -> int:
    return int(duration - 1) + 1 if duration >= 1 else 0


def expected_pairs(segment) -> int:
    """The SPEC rule again, in exact arithmetic, from the demo's own segments."""
    count, u = 0, 1
    while segment.query_start + u < segment.query_end and segment.ref_start + segment.rate * u < segment.ref_end:
        count, u = count + 1, u + 1
    return count


def test_demo_counts_match_the_known_durations_and_ground_truth(demo_root):
    root, _ = demo_root
    references, queries = plan_demo()
    layout = Layout(root)
    for kind, videos in (("reference", references), ("query", queries)):
        for video in videos:
            files = list(layout.frames_dir(kind).glob(f"{video.video_id}_*.jpg"))
            assert len(files) == expected_seconds(video.duration), video.video_id
    selected = sorted(p.name for p in layout.selected_frames_dir.iterdir())
    assert len(selected) == len(references)
    for video in references:
        k = expected_seconds(video.duration) // 2
        assert f"{video.video_id}_{k}.jpg" in selected
    assert len(list(layout.set_dir(REFERENCE_SET).glob("*.jpg"))) == 20 * len(references)
    table = read_manifest(layout.pairs_dir / PAIR_TABLE)
    assert len(table) == sum(expected_pairs(s) for q in queries for s in q.segments)


def test_demo_frames_obey_the_timestamp_rule_within_half_a_frame(demo_root):
    """Every demo frame carries its time; the frame saved for second k is the one on screen at k."""
    root, _ = demo_root
    references, queries = plan_demo()
    layout = Layout(root)
    for kind, videos in (("reference", references), ("query", queries)):
        for video in videos:
            shown = video.frame_times()
            for k in range(expected_seconds(video.duration)):
                on_screen = max(t for t in shown if t <= k)
                with Image.open(layout.frames_dir(kind) / f"{video.video_id}_{k}.jpg") as im:
                    stamped = Fraction(read_stamp(np.asarray(im.convert("RGB"))), 1000)
                assert abs(stamped - on_screen) < 1 / (2 * video.fps), (video.video_id, k)


def test_pair_frames_are_seeked_by_timestamp(demo_root):
    root, _ = demo_root
    layout = Layout(root)
    references, queries = plan_demo()
    fps = {v.video_id: v for v in references + queries}
    for row in read_manifest(layout.pairs_dir / PAIR_TABLE)[:40]:
        for vid, t, path in ((row["query_id"], row["query_time"], row["query_path"]), (row["ref_id"], row["ref_time"], row["ref_path"])):
            video = fps[vid]
            on_screen = max(s for s in video.frame_times() if s <= Fraction(t))
            with Image.open(layout.pairs_dir / path) as im:
                stamped = Fraction(read_stamp(np.asarray(im.convert("RGB"))), 1000)
            assert abs(stamped - on_screen) < 1 / (2 * video.fps)


def test_pair_layout_is_what_the_training_code_reads(demo_root):
    root, _ = demo_root
    pairs = Layout(root).pairs_dir
    q = pickle.loads((pairs / QUERY_PICKLE).read_bytes())
    r = pickle.loads((pairs / REF_PICKLE).read_bytes())
    table = read_manifest(pairs / PAIR_TABLE)
    assert set(q) == set(r) == {str(i) for i in range(len(table))}
    for folder, name in q.items():
        assert [p.name for p in (pairs / "gt_query" / folder).iterdir()] == [name]
        assert [p.name for p in (pairs / "gt_ref" / folder).iterdir()] == [r[folder]]
    assert [row["pair"] for row in table] == list(range(len(table)))
    assert sorted(row["shuffled"] for row in table) == list(range(len(table)))
    assert [row["shuffled"] for row in table] != list(range(len(table)))
    assert [(row["gt_row"], row["u"]) for row in table] == sorted((row["gt_row"], row["u"]) for row in table)


def test_reference_pid_is_the_published_sorted_position_on_contiguous_ids(demo_root):
    root, _ = demo_root
    layout = Layout(root)
    published = sorted(p.name for p in layout.selected_frames_dir.iterdir())  # R100000..R100019
    rows = [row for key in sorted(p.stem for p in (root / "manifests" / REFERENCE_SET).glob("*.parquet"))
            for row in read_manifest(layout.manifest_path(REFERENCE_SET, key))]  # fmt: skip
    for row in rows:
        assert published.index(row["source_file"]) == row["pid"]
    assert len({r["pid"] for r in rows}) == len(published)


def _small_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    make_disc21_demo(root / "data" / "training_images", count=20)  # the overlay pool
    train = root / "data" / "train"
    write_broken_videos(train / "reference")
    write_numbered(train / "reference" / "R100000.mp4", Fraction(25), 100)  # 4 s
    write_numbered(train / "query" / "Q200000.mp4", Fraction(30), 180)  # 6 s
    (train / "reference" / "notes.txt").write_text("not a video")
    (train / "train_matching_ground_truth.csv").write_text(
        "query_id,ref_id,query_start,query_end,ref_start,ref_end\n"
        "Q200000,R100000,0.5,4.5,0,3.5\n"  # fine: 3 pairs
        "Q200000,R100777,1,3,0,2\n"  # missing reference video
        "Q200000,R100000,1,3,2,9\n"  # past the reference's end
        "Q200000,R100901,1,3,0,2\n"  # zero-byte reference
        "Q200000,../../etc/x,1,3,0,2\n"  # an id that is a path
        "Q200000,R100000,1,x,0,2\n"  # not numeric
        "Q200000,R100000,3,1,0,2\n"  # end before start
    )
    return root


def _materialize(root, names, pdef, key, instance):
    instance.add_dynamic_partitions(pdef.name, [key])
    return dg.materialize(
        list(defs.assets), instance=instance, partition_key=key, selection=names,
        resources={"vsc_root": VscRoot(root=str(root), workers=1)}, raise_on_error=False,
    )  # fmt: skip


def test_bad_videos_and_ground_truth_rows_are_reported_and_skipped(tmp_path):
    root = _small_root(tmp_path)
    layout = Layout(root)
    instance = dg.DagsterInstance.ephemeral()
    refs = _materialize(root, ["reference_frames", "training_images_ref1", REFERENCE_SET], reference_videos_partitions_def, "100000-100999", instance)
    assert refs.success
    meta = refs.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert meta["files"].value == 4 and meta["bad_inputs"].value == 5
    listing = meta["bad_input_list"].value
    for name, phrase in write_broken_videos(tmp_path / "again").items():
        assert name in listing and phrase in listing
    assert sorted(p.name for p in layout.frames_dir("reference").iterdir()) == [f"R100000_{k}.jpg" for k in range(4)]
    assert all(c.passed for c in refs.get_asset_check_evaluations())

    queries = _materialize(root, ["query_frames", "pair_frames"], query_videos_partitions_def, "200000-200999", instance)
    assert queries.success
    pairs = dg.materialize(
        list(defs.assets), instance=instance, selection=["positive_pairs"],
        resources={"vsc_root": VscRoot(root=str(root), workers=1)},
    )  # fmt: skip
    meta = pairs.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert meta["pairs"].value == 3
    skipped = meta["skipped_row_list"].value
    for row, phrase in {1: "R100777 is missing", 2: "past the end", 3: "empty file", 4: "not a reference video id", 5: "not a number", 6: "<= query_start"}.items():
        assert f"| {row} |" in skipped and phrase in skipped, (row, skipped)
    assert all(c.passed for c in pairs.get_asset_check_evaluations())
    assert not (root.parent / "etc").exists() and not (layout.data_dir / "etc").exists()


def test_pair_layout_rebuilds_whole_and_checks_catch_damage(tmp_path):
    from vsc_assets.pair_table import check_pair_layout

    root = _small_root(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    assert _materialize(root, ["pair_frames"], query_videos_partitions_def, "200000-200999", instance).success
    result = dg.materialize(list(defs.assets), instance=instance, selection=["positive_pairs"], resources={"vsc_root": VscRoot(root=str(root), workers=1)})
    assert result.success
    pairs = Layout(root).pairs_dir
    shutil.rmtree(pairs / "gt_ref" / "1")
    (pairs / "gt_query" / "0" / "extra.jpg").write_bytes(b"x")
    checks = check_pair_layout(pairs)
    assert not checks["pair_files_exist"].passed and not checks["pickles_match_folders"].passed
    result = dg.materialize(list(defs.assets), instance=instance, selection=["positive_pairs"], resources={"vsc_root": VscRoot(root=str(root), workers=1)})
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    assert not [p for p in pairs.parent.iterdir() if p.name.startswith(".tmp-")]
