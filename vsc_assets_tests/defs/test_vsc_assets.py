"""The VSC artifacts: the demo end to end, and bad videos and ground truth in a small root."""

import pickle
import shutil
from fractions import Fraction
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from vsc_assets.builders.pair_table import QUERY_PICKLE, REF_PICKLE, table_name
from vsc_assets.catalog.artifacts import POSITIVE_PAIRS, QUERY_VIDEOS, REFERENCE_VIDEOS
from vsc_assets.catalog.artifacts import REFERENCE_SET as REFERENCE_SET_ARTIFACT
from vsc_assets.definitions import defs
from vsc_assets.defs.resources import VscRoot
from vsc_assets.demo.videos import plan_demo, read_stamp
from vsc_assets.io.manifest import read_manifest
from vsc_assets.layout import Layout
from vsc_assets_tests.support import make_images
from vsc_assets_tests.video_oddities import write_broken_videos, write_numbered


REFERENCE_SET = REFERENCE_SET_ARTIFACT.name
PAIR_TABLE = table_name(POSITIVE_PAIRS.name)


def expected_seconds(duration: Fraction) -> int:
    return int(duration - 1) + 1 if duration >= 1 else 0


def expected_pairs(segment) -> int:
    """The recipe's rule again, in exact arithmetic, from the demo's own segments."""
    count, u = 0, 1
    while segment.query_start + u < segment.query_end and segment.ref_start + segment.rate * u < segment.ref_end:
        count, u = count + 1, u + 1
    return count


@pytest.mark.slow
def test_demo_counts_match_the_known_durations_and_ground_truth(demo_root):
    root, *_ = demo_root
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


@pytest.mark.slow
def test_demo_frames_obey_the_timestamp_rule_within_half_a_frame(demo_root):
    """Every demo frame carries its time; the frame saved for second k is the one on screen at k."""
    root, *_ = demo_root
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


@pytest.mark.slow
def test_pair_frames_are_seeked_by_timestamp(demo_root):
    root, *_ = demo_root
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


@pytest.mark.slow
def test_pair_layout_is_what_the_training_code_reads(demo_root):
    root, *_ = demo_root
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


@pytest.mark.slow
def test_reference_pid_is_the_published_sorted_position_on_contiguous_ids(demo_root):
    root, *_ = demo_root
    layout = Layout(root)
    published = sorted(p.name for p in layout.selected_frames_dir.iterdir())  # R100000..R100019
    rows = [row for key in sorted(p.stem for p in (root / "manifests" / REFERENCE_SET).glob("*.parquet"))
            for row in read_manifest(layout.manifest_path(REFERENCE_SET, key))]  # fmt: skip
    for row in rows:
        assert published.index(row["source_file"]) == row["pid"]
    assert len({r["pid"] for r in rows}) == len(published)


def _small_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", 20)  # the overlay pool
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
    refs = _materialize(root, ["reference_frames", "training_images_ref1", REFERENCE_SET], REFERENCE_VIDEOS, "100000-100999", instance)
    assert refs.success
    meta = refs.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert meta["files"].value == 4 and meta["bad_inputs"].value == 5
    listing = meta["bad_input_list"].value
    for name, phrase in write_broken_videos(tmp_path / "again").items():
        assert name in listing and phrase in listing
    assert sorted(p.name for p in layout.frames_dir("reference").iterdir()) == [f"R100000_{k}.jpg" for k in range(4)]
    assert all(c.passed for c in refs.get_asset_check_evaluations())

    queries = _materialize(root, ["query_frames", "pair_frames"], QUERY_VIDEOS, "200000-200999", instance)
    assert queries.success
    pairs = dg.materialize(
        list(defs.assets), instance=instance, selection=["positive_pairs"],
        resources={"vsc_root": VscRoot(root=str(root), workers=1)},
    )  # fmt: skip
    meta = pairs.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert meta["pairs"].value == 3
    skipped = meta["skipped_row_list"].value
    for row, phrase in {1: "R100777 is missing", 3: "empty file", 4: "not a reference video id", 5: "not a number", 6: "<= query_start"}.items():
        assert f"| {row} |" in skipped and phrase in skipped, (row, skipped)
    # Row 2's only pair falls past the reference's end: that pair is skipped, not the row.
    assert "| 2 |" not in skipped
    assert meta["skipped_pairs"].value == 1
    assert "| 2 | 1 | 1 | 1 past the end of its video |" in meta["skipped_pairs_by_row"].value
    assert all(c.passed for c in pairs.get_asset_check_evaluations())
    assert not (root.parent / "etc").exists() and not (layout.data_dir / "etc").exists()


def test_pair_layout_rebuilds_whole_and_checks_catch_damage(tmp_path):
    from vsc_assets.builders.pair_table import check_pair_layout

    root = _small_root(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    assert _materialize(root, ["pair_frames"], QUERY_VIDEOS, "200000-200999", instance).success
    result = dg.materialize(list(defs.assets), instance=instance, selection=["positive_pairs"], resources={"vsc_root": VscRoot(root=str(root), workers=1)})
    assert result.success
    pairs = Layout(root).pairs_dir
    shutil.rmtree(pairs / "gt_ref" / "1")
    (pairs / "gt_query" / "0" / "extra.jpg").write_bytes(b"x")
    checks = check_pair_layout(pairs, PAIR_TABLE)
    assert not checks["pair_files_exist"].passed and not checks["pickles_match_folders"].passed
    result = dg.materialize(list(defs.assets), instance=instance, selection=["positive_pairs"], resources={"vsc_root": VscRoot(root=str(root), workers=1)})
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    assert not [p for p in pairs.parent.iterdir() if p.name.startswith(".tmp-")]


def _frames_of(layout: Layout, video_id: str, qt: float, path: Path) -> int:
    """The frame number stamped in a saved pair frame."""
    from vsc_assets_tests.video_oddities import read_number

    with Image.open(path) as im:
        return read_number(np.asarray(im.convert("RGB")))


def test_segments_past_a_videos_end_keep_every_readable_pair(tmp_path):
    """12-19 s of a 20 s query onto 1-15 s of a 6 s reference: the first pairs exist and are kept."""
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", 20)
    train = root / "data" / "train"
    write_numbered(train / "query" / "Q200000.mp4", Fraction(10), 200, gop=20)  # 20 s
    write_numbered(train / "reference" / "R100000.mp4", Fraction(10), 60, gop=20)  # 6 s
    (train / "train_matching_ground_truth.csv").write_text(
        "query_id,ref_id,query_start,query_end,ref_start,ref_end\n"
        "Q200000,R100000,0,3,0,3\n"  # inside both: u = 1, 2
        "Q200000,R100000,12,19,1,15\n"  # rate 2: reference times 3, 5 readable; 7, 9, 11, 13 past its end
        "Q200000,R100000,17,23,0,6\n"  # query times 18, 19 readable; 20, 21, 22 past its end
    )
    layout = Layout(root)
    instance = dg.DagsterInstance.ephemeral()
    staged = _materialize(root, ["pair_frames"], QUERY_VIDEOS, "200000-200999", instance)
    assert staged.success
    meta = staged.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert meta["candidate_pairs"].value == 13 and meta["staged_pairs"].value == 6 and meta["skipped_rows"].value == 0
    pairs = dg.materialize(list(defs.assets), instance=instance, selection=["positive_pairs"],
                           resources={"vsc_root": VscRoot(root=str(root), workers=1)})  # fmt: skip
    assert pairs.success and all(c.passed for c in pairs.get_asset_check_evaluations())
    meta = pairs.get_asset_materialization_events()[0].step_materialization_data.materialization.metadata
    assert meta["pairs"].value == 6 and meta["skipped_pairs"].value == 7 and meta["skipped_rows"].value == 0
    by_row = meta["skipped_pairs_by_row"].value
    assert "| 1 | 6 | 4 | 4 past the end of its video |" in by_row and "| 2 | 5 | 3 | 3 past the end of its video |" in by_row

    # Pair by pair: numbered in ground-truth order, written, pickled, and the right frames.
    table = read_manifest(layout.pairs_dir / PAIR_TABLE)
    expected = [(0, 1, 1.0, 1.0), (0, 2, 2.0, 2.0), (1, 1, 13.0, 3.0), (1, 2, 14.0, 5.0), (2, 1, 18.0, 1.0), (2, 2, 19.0, 2.0)]
    assert [(r["gt_row"], r["u"], r["query_time"], r["ref_time"]) for r in table] == expected
    assert [r["pair"] for r in table] == list(range(6)) and sorted(r["shuffled"] for r in table) == list(range(6))
    q_map = pickle.loads((layout.pairs_dir / QUERY_PICKLE).read_bytes())
    r_map = pickle.loads((layout.pairs_dir / REF_PICKLE).read_bytes())
    for r in table:
        folder = str(r["shuffled"])
        assert q_map[folder] == "Q200000.jpg" and r_map[folder] == "R100000.jpg"
        assert _frames_of(layout, "Q200000", r["query_time"], layout.pairs_dir / r["query_path"]) == round(r["query_time"] * 10)
        assert _frames_of(layout, "R100000", r["ref_time"], layout.pairs_dir / r["ref_path"]) == round(r["ref_time"] * 10)

    # The unreadable ones are reported, each with its reason, in the skipped-pairs manifest.
    lost = read_manifest(layout.manifest_path("positive_pairs", "all"))
    assert sorted((r["gt_row"], r["u"]) for r in lost) == [(1, 3), (1, 4), (1, 5), (1, 6), (2, 3), (2, 4), (2, 5)]
    reasons = {(r["gt_row"], r["u"]): r["reason"] for r in lost}
    assert reasons[(1, 3)] == "reference time 7.000 s is past the end of R100000 (6.000 s)"
    assert reasons[(2, 3)] == "query time 20.000 s is past the end of Q200000 (20.000 s)"


def test_an_old_layout_root_is_adopted_without_recomputing(tmp_path):
    from vsc_assets.runs.materialize import materialize_missing

    root = _small_root(tmp_path)
    layout = Layout(root)
    selection = ["reference_frames", "training_images_ref1"]
    first = materialize_missing(layout, selection, workers=1, echo=lambda line: None)
    assert first.runs >= 1
    # Make it the earlier layout: frames under reference_one_second/, and note each file's identity.
    new, old = layout.frames_dir("reference"), layout.old_frames_dir("reference")
    new.rename(old)
    marks = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in old.iterdir()}
    assert not new.exists() and marks

    lines = []
    summary = materialize_missing(layout, selection, workers=1, echo=lines.append)
    assert summary.ok and summary.runs == 0, lines  # present after the move: nothing to redo
    assert sum("adopted" in line and "reference_one_second_imageio_v3" in line for line in lines) == 1, lines
    assert not old.exists()
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in new.iterdir()} == marks  # moved, not recomputed


def test_an_old_folder_beside_a_new_one_is_merged(tmp_path):
    from vsc_assets.builders.frames import adopt_old_frame_folders

    layout = Layout(tmp_path)
    old, new = layout.old_frames_dir("query"), layout.frames_dir("query")
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    (old / "Q200000_0.jpg").write_bytes(b"old 0")
    (old / "Q200000_1.jpg").write_bytes(b"old 1")
    (new / "Q200000_1.jpg").write_bytes(b"new 1")
    notes = adopt_old_frame_folders(layout)
    assert len(notes) == 1 and "moved 1 frames" in notes[0]
    assert (new / "Q200000_0.jpg").read_bytes() == b"old 0" and (new / "Q200000_1.jpg").read_bytes() == b"new 1"
    assert not old.exists() and adopt_old_frame_folders(layout) == []


def test_a_build_leaves_the_old_folder_to_planning(tmp_path):
    """The folder migration runs where runs are planned (materialize, backfill, the sensor), never inside a build."""
    root = _small_root(tmp_path)
    layout = Layout(root)
    old = layout.old_frames_dir("reference")
    old.mkdir(parents=True)
    (old / "R100000_0.jpg").write_bytes(b"an old frame")
    result = _materialize(root, ["reference_frames"], REFERENCE_VIDEOS, "100000-100999", dg.DagsterInstance.ephemeral())
    assert result.success
    assert (old / "R100000_0.jpg").read_bytes() == b"an old frame"  # not moved by the build
    assert (layout.frames_dir("reference") / "R100000_0.jpg").read_bytes() != b"an old frame"  # built, not adopted
