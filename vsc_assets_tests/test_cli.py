"""The vsc-assets command, end to end, through Dagster and its instance."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from PIL import Image

from vsc_assets.layout import Layout
from vsc_assets.cli.main import main
from vsc_assets_tests.support import DISC21_SETS, S27, S3, make_images, make_root


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def digests(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.jpg"))}


def test_materialize_runs_missing_partitions_once_and_restores_wiped_ones(tmp_path, capsys):
    root = make_root(tmp_path, count=120)
    args = ["materialize", "--root", str(root), "--sources-per-partition", "6", "--workers", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "registered 2 new disc21_sources partition(s)" in out
    assert {k: v for k, v in last_json(out).items() if k in DISC21_SETS} == {name: 240 for name in DISC21_SETS}

    instance = dg.DagsterInstance.from_config(str(root / ".dagster"))
    assert len(instance.get_runs()) == 2 and all(r.is_success for r in instance.get_runs())
    assert set(instance.get_dynamic_partitions("disc21_sources")) == {"000000-000005", "000006-000011"}
    # Each is a run of the artifacts' own job, for its partition, as the UI's Runs page lists it.
    runs = sorted(instance.get_runs(), key=lambda r: r.tags["dagster/partition"])
    assert [(r.job_name, r.tags["dagster/partition"]) for r in runs] == [("disc21_sets", "000000-000005"), ("disc21_sets", "000006-000011")]
    assert all(r.asset_selection == {dg.AssetKey(n) for n in DISC21_SETS} for r in runs)
    latest = instance.get_latest_materialization_event(dg.AssetKey(S3)).asset_materialization.metadata
    assert latest["job"].value == "disc21_sets" and latest["launched_by"].value == "vsc-assets materialize"

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "0 run(s), 8 asset partition(s) already complete" in out

    layout = Layout(root)
    before = digests(layout.set_dir(S3))
    for pid in range(6, 12):
        for p in layout.set_dir(S3).glob(f"{pid}_*.jpg"):
            p.unlink()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "[1/1] partition 000006-000011: train_v1_s3_all, train_v1_s3_all_bw" in out
    assert digests(layout.set_dir(S3)) == before
    assert last_json(out)[S3] == 240


def test_select_and_new_data_only_add_partitions(tmp_path, capsys):
    root = make_root(tmp_path, count=40)
    args = ["materialize", "--root", str(root), "--select", S27, "--sources-per-partition", "2", "--workers", "1"]
    assert main(args) == 0
    counts = last_json(capsys.readouterr().out)
    assert counts == {S27: 80}  # only what was selected

    make_images(root / "data" / "training_images", 60)  # 2 more sources
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "registered 1 new disc21_sources partition(s): 000004-000005" in out
    assert "[1/1] partition 000004-000005" in out
    assert last_json(out)[S27] == 120


def test_failed_partition_exits_one_with_an_error_line(tmp_path, capsys):
    root = make_root(tmp_path, count=20)
    target = Layout(root).set_dir(S27)
    target.parent.mkdir(parents=True)
    target.write_text("a file where the set folder should be")
    code = main(["materialize", "--root", str(root), "--select", S27, "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 1
    assert "failed partition: 000000-000499 (train_v1_s27_all)" in captured.out
    assert captured.err.startswith("error: 1 partition(s) failed")


def test_usage_and_input_errors_exit_two_with_one_error_line(tmp_path, capsys):
    # One convention: a wrong command or root is exit 2 with "error:", failed work exit 1.
    assert main(["materialize", "--root", str(tmp_path), "--select", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown asset(s) nope\n") and "hint: choose from train_v1_s27_all" in err
    assert main(["materialize", "--root", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no input under") and "hint: run `vsc-assets demo`" in err
    with pytest.raises(SystemExit) as usage:
        main(["materialize", "--workers", "many"])
    assert usage.value.code == 2 and "error:" in capsys.readouterr().err


def test_a_wrong_root_fails_before_any_run(tmp_path, capsys):
    root = make_root(tmp_path, count=20)
    for path in (root / "data" / "training_images").glob("*9.jpg"):
        path.unlink()  # no image ending in 9: the overlay pool is empty
    assert main(["materialize", "--root", str(root), "--select", S27]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0].startswith("error: the overlay pool is empty")
    assert captured.err.splitlines()[1].startswith("hint: put pool images in")
    assert "Traceback" not in captured.err + captured.out and "run(s)" not in captured.out
    assert not (root / ".dagster").exists()  # no instance, no run: it stopped before


def test_bad_inputs_are_named_on_the_console(tmp_path, capsys):
    root = make_root(tmp_path, count=20)
    bad = root / "data" / "training_images" / "T000010.jpg"
    bad.write_bytes(bad.read_bytes()[:200])
    assert main(["materialize", "--root", str(root), "--select", S27, "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "train_v1_s27_all: skipped 1 input(s): T000010.jpg: cannot decode" in out
    assert "full list: " + str(root / "manifests" / S27 / "000000-000499.parquet") in out
    summary = out[out.index("skipped 1 bad input(s) in this run:"):]
    assert "T000010.jpg: cannot decode" in summary and "full lists: the manifests under" in summary


def test_materialize_help_describes_and_lists_the_assets(capsys):
    with pytest.raises(SystemExit):
        main(["materialize", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "missing, failed, or whose files are gone" in out
    for name in (*DISC21_SETS, "reference_frames", "training_images_ref1", "query_frames", "pair_frames", "positive_pairs"):
        assert name in out


def test_register_prints_added_keys(tmp_path, capsys):
    root = make_root(tmp_path, count=30)
    assert main(["register", "--root", str(root), "--sources-per-partition", "2"]) == 0
    added = last_json(capsys.readouterr().out)["added"]
    assert added == {"disc21_sources": ["000000-000001", "000002-000003"], "query_videos": [], "reference_videos": []}
    assert main(["register", "--root", str(root)]) == 0
    assert all(keys == [] for keys in last_json(capsys.readouterr().out)["added"].values())


def test_new_keys_keep_the_size_the_roots_first_keys_were_made_with(tmp_path, capsys):
    from vsc_assets.catalog.partition_sizes import recorded_sizes

    root = make_root(tmp_path, count=30)
    assert main(["register", "--root", str(root), "--sources-per-partition", "2"]) == 0
    assert recorded_sizes(Layout(root)) == {"disc21_sources": 2}
    make_root(tmp_path, count=70)  # sources 3-6; 3 is in 000002-000003 already
    assert main(["register", "--root", str(root)]) == 0  # no flag: the root's own size, not 500
    assert last_json(capsys.readouterr().out)["added"]["disc21_sources"] == ["000004-000005", "000006-000007"]
    make_root(tmp_path, count=100)  # sources 7-9
    assert main(["register", "--root", str(root), "--sources-per-partition", "10"]) == 0  # a flag wins, for that call
    assert last_json(capsys.readouterr().out)["added"]["disc21_sources"] == ["000008-000009"]
    assert recorded_sizes(Layout(root)) == {"disc21_sources": 2}


def test_a_root_made_before_sizes_were_kept_takes_its_size_from_its_keys(tmp_path, capsys):
    from vsc_assets.catalog.partition_sizes import recorded_sizes
    from vsc_assets.runs.instance import open_instance

    root = make_root(tmp_path, count=120)
    open_instance(Layout(root)).add_dynamic_partitions("disc21_sources", ["000000-000004", "000005-000009"])
    assert main(["register", "--root", str(root)]) == 0
    assert last_json(capsys.readouterr().out)["added"]["disc21_sources"] == ["000010-000014"]
    assert recorded_sizes(Layout(root)) == {"disc21_sources": 5}


@pytest.mark.slow
def test_demo_on_an_empty_root(demo_root):
    """The researcher's first command: exact DISC21 counts, derived here from the demo files."""
    root, stdout, stderr = demo_root
    images = sorted((root / "data" / "training_images").iterdir())
    assert len(images) >= 1000
    sources = images[::10]
    readable = 0
    for path in sources:
        try:
            with Image.open(path) as im:
                im.load()
            readable += 1
        except OSError:
            pass
    assert readable < len(sources)  # the demo carries one broken source on purpose
    counts = last_json(stdout)
    assert {name: counts[name] for name in DISC21_SETS} == {name: 20 * readable for name in DISC21_SETS}
    assert counts["positive_pairs"] > 0 and counts["train_v1_s3_r1_all"] == 400
    assert "0 failed" in stdout
    # Progress while the demo data is made (no silent first minute), and the bad demo source named.
    assert "demo DISC21 images: 1000/1000" in stderr and "demo VSC videos: 28/28" in stderr
    assert "skipped 1 input(s): T000500.jpg: cannot decode" in stdout
    assert "skipped 1 bad input(s) in this run:" in stdout and "T000500.jpg: cannot decode" in stdout.split("in this run:")[1]

    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
    again = subprocess.run(
        [sys.executable, "-m", "vsc_assets.cli", "demo", "--root", str(root)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0 and "0 run(s)" in again.stdout
    assert last_json(again.stdout) == counts


@pytest.mark.slow
def test_bench_quick_reports_figures(capsys):
    assert main(["bench", "--quick", "--sources", "4"]) == 0
    result = last_json(capsys.readouterr().out)
    assert result["sources"] == 4
    for key in ("floor_images_per_s", "s27_images_per_s_per_core", "s3_images_per_s_per_core", "efficiency_s27", "efficiency_s3",
                "s27_reference_images_per_s_per_core", "s3_reference_images_per_s_per_core", "speedup_s27", "speedup_s3",
                "frames_per_s", "frames_per_s_published", "speedup_frames", "peak_rss_mb", "worker_peak_rss_mb_8mpx"):  # fmt: skip
        assert result[key] > 0
    assert result["efficiency_s27"] == pytest.approx(result["s27_images_per_s_per_core"] / result["floor_images_per_s"], abs=0.002)
    assert result["worker_peak_rss_mb_8mpx"] < 500  # a worker on the largest source a chain starts from
    for side in ("s27", "s3"):
        assert result[f"speedup_{side}"] == pytest.approx(
            result[f"{side}_images_per_s_per_core"] / result[f"{side}_reference_images_per_s_per_core"], rel=0.02
        )


def test_missing_ground_truth_is_found_before_any_run(tmp_path, capsys):
    root = make_root(tmp_path, count=20)
    assert main(["materialize", "--root", str(root), "--select", "pair_frames"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: ") and err[0].endswith("train_matching_ground_truth.csv: the ground-truth CSV is missing")
    assert err[1] == "hint: put the VSC training ground truth there: the pair assets read it"
    assert not (root / ".dagster").exists()
