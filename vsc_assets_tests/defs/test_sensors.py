"""Refresh: new or changed data leads to exactly the right partition requests, and nothing else."""

import json
import os
import shutil
from fractions import Fraction

import dagster as dg

from vsc_assets.defs.resources import VscRoot
from vsc_assets.definitions import defs
from vsc_assets_tests.support import make_images
from vsc_assets_tests.video_oddities import write_numbered

GT_HEADER = "query_id,ref_id,query_start,query_end,ref_start,ref_end\n"


def tick(instance, root, cursor):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"vsc_root": VscRoot(root=str(root), sources_per_partition=2, videos_per_partition=10)})
    result = defs.resolve_sensor_def("data_change_sensor")(context)
    for request in result.dynamic_partitions_requests:  # what the daemon does with them
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    runs = sorted((r.partition_key, tuple(sorted(k.to_user_string() for k in r.asset_selection))) for r in result.run_requests)
    added = {r.partitions_def_name: list(r.partition_keys) for r in result.dynamic_partitions_requests}
    return added, runs, result.cursor


def mark_materialized(instance, runs):
    for key, assets in runs:
        for asset in assets:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=key))


def test_sensor_requests_only_what_changed(tmp_path):
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", 40)  # 4 sources
    train = root / "data" / "train"
    write_numbered(train / "reference" / "R100000.mp4", Fraction(25), 60)
    write_numbered(train / "reference" / "R100011.mp4", Fraction(25), 60)
    write_numbered(train / "query" / "Q200000.mp4", Fraction(25), 60)
    write_numbered(train / "query" / "Q200012.mp4", Fraction(25), 60)
    (train / "train_matching_ground_truth.csv").write_text(GT_HEADER + "Q200000,R100000,0,2,0,2\nQ200012,R100011,0,2,0,2\n")
    instance = dg.DagsterInstance.ephemeral()
    disc21 = ("train_v1_s27_all", "train_v1_s27_all_bw", "train_v1_s3_all", "train_v1_s3_all_bw")
    refs = ("reference_frames", "train_v1_s3_r1_all", "training_images_ref1")
    queries = ("pair_frames", "query_frames")

    # First look: everything is new.
    added, runs, cursor = tick(instance, root, None)
    assert added == {"disc21_sources": ["000000-000001", "000002-000003"], "query_videos": ["200000-200009", "200010-200019"], "reference_videos": ["100000-100009", "100010-100019"]}
    assert runs == sorted([("000000-000001", disc21), ("000002-000003", disc21), ("100000-100009", refs), ("100010-100019", refs), ("200000-200009", queries), ("200010-200019", queries)])
    mark_materialized(instance, runs)

    # Nothing changed: nothing requested.
    added, runs, cursor = tick(instance, root, cursor)
    assert added == {} and runs == []

    # New DISC21 images: a new partition, and only it.
    make_images(root / "data" / "training_images", 60)
    added, runs, cursor = tick(instance, root, cursor)
    assert added == {"disc21_sources": ["000004-000005"]}
    assert runs == [("000004-000005", disc21)]

    # A replaced reference video: its partition, and what the pairs of its queries read.
    os.utime(train / "reference" / "R100011.mp4", ns=(1, 1))
    added, runs, cursor = tick(instance, root, cursor)
    assert added == {} and runs == [("100010-100019", refs), ("200010-200019", ("pair_frames",))]

    # A changed ground-truth row: the pair frames of that query's partition only.
    (train / "train_matching_ground_truth.csv").write_text(GT_HEADER + "Q200000,R100000,0,2,0,2\nQ200012,R100011,0,2.4,0,2\n")
    added, runs, cursor = tick(instance, root, cursor)
    assert runs == [("200010-200019", ("pair_frames",))]

    # A new query video in a new id range.
    shutil.copy(train / "query" / "Q200000.mp4", train / "query" / "Q200031.mp4")
    added, runs, cursor = tick(instance, root, cursor)
    assert added == {"query_videos": ["200030-200039"]} and runs == [("200030-200039", queries)]
    assert json.loads(cursor)["fingerprints"]


def test_first_look_skips_what_is_already_materialized(tmp_path):
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", 40)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("disc21_sources", ["000000-000001"])
    for asset in ("train_v1_s27_all", "train_v1_s27_all_bw", "train_v1_s3_all", "train_v1_s3_all_bw"):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition="000000-000001"))
    added, runs, _ = tick(instance, root, None)
    assert added == {"disc21_sources": ["000002-000003"]}
    assert [key for key, _ in runs] == ["000002-000003"]


def test_pair_table_follows_its_pair_frames_eagerly():
    from vsc_assets.definitions import defs

    node = defs.resolve_asset_graph().get(dg.AssetKey("positive_pairs"))
    assert node.automation_condition is not None
    sensors = {s.name: s for s in defs.sensors}
    assert sensors["data_change_sensor"].default_status == dg.DefaultSensorStatus.RUNNING
    assert sensors["pair_table_automation"].default_status == dg.DefaultSensorStatus.RUNNING


def test_new_pair_frames_make_the_pair_table_due():
    """positive_pairs' eager condition: once a pair_frames partition is new, the table is requested."""
    from vsc_assets.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("query_videos", ["200000-200009"])
    selection = dg.AssetSelection.assets("positive_pairs")
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
    assert first.total_requested == 0  # nothing upstream happened yet
    instance.report_runless_asset_event(dg.AssetMaterialization("pair_frames", partition="200000-200009"))
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection, cursor=first.cursor)
    assert second.total_requested == 1
    assert second.get_requested_partitions(dg.AssetKey("positive_pairs")) == {None}


def test_a_tick_lists_the_references_once_however_many_query_keys(tmp_path, monkeypatch):
    """The pair fingerprint of each query key looks its references up in one listing per tick, not
    one per key: at 42 query keys and 40,300 references that was 9 s a tick (`bench --scale`)."""
    from vsc_assets.catalog.inputs import Videos

    root = tmp_path / "root"
    train = root / "data" / "train"
    write_numbered(train / "reference" / "R100000.mp4", Fraction(25), 30)
    rows = ""
    for number in (200000, 200010, 200020):  # three query keys of 10
        write_numbered(train / "query" / f"Q{number}.mp4", Fraction(25), 30)
        rows += f"Q{number},R100000,0,1,0,1\n"
    (train / "train_matching_ground_truth.csv").write_text(GT_HEADER + rows)
    listed = []
    real_paths = Videos.paths
    monkeypatch.setattr(Videos, "paths", lambda self: listed.append(self.kind) or real_paths(self))
    instance = dg.DagsterInstance.ephemeral()
    added, runs, cursor = tick(instance, root, None)
    assert added["query_videos"] == ["200000-200009", "200010-200019", "200020-200029"]
    assert listed.count("reference") == 1
    listed.clear()
    tick(instance, root, cursor)
    assert listed.count("reference") == 1
