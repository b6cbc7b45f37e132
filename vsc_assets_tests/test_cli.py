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

from vsc_assets.cli import main
from vsc_assets.constants import DISC21_SETS, S27, S3
from vsc_assets.layout import Layout
from vsc_assets_tests.conftest import make_root


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
    assert counts[S27] == 80 and counts[S3] == 0
    from vsc_assets.demo import make_disc21_demo

    make_disc21_demo(root / "data" / "training_images", count=60)  # 2 more sources
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "registered 1 new disc21_sources partition(s): 000004-000005" in out
    assert "[1/1] partition 000004-000005" in out
    assert last_json(out)[S27] == 120


def test_failed_partition_exits_non_zero(tmp_path, capsys):
    root = make_root(tmp_path, count=20)
    target = Layout(root).set_dir(S27)
    target.parent.mkdir(parents=True)
    target.write_text("a file where the set folder should be")
    code = main(["materialize", "--root", str(root), "--select", S27, "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "failed partition: 000000-000499 (train_v1_s27_all)" in out


def test_unknown_set_and_missing_data_are_clear_errors(tmp_path, capsys):
    with pytest.raises(SystemExit, match="unknown asset"):
        main(["materialize", "--root", str(tmp_path), "--select", "nope"])
    assert main(["materialize", "--root", str(tmp_path / "empty")]) == 2
    assert "no input under" in capsys.readouterr().err


def test_register_prints_added_keys(tmp_path, capsys):
    root = make_root(tmp_path, count=30)
    assert main(["register", "--root", str(root), "--sources-per-partition", "2"]) == 0
    added = last_json(capsys.readouterr().out)["added"]
    assert added == {"disc21_sources": ["000000-000001", "000002-000003"], "query_videos": [], "reference_videos": []}
    assert main(["register", "--root", str(root)]) == 0
    assert all(keys == [] for keys in last_json(capsys.readouterr().out)["added"].values())


def test_demo_on_an_empty_root(demo_root):
    """The researcher's first command: exact DISC21 counts, derived here from the demo files."""
    root, stdout = demo_root
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

    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
    again = subprocess.run(
        [sys.executable, "-m", "vsc_assets.cli", "demo", "--root", str(root)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0 and "0 run(s)" in again.stdout
    assert last_json(again.stdout) == counts


def test_bench_quick_reports_figures(capsys):
    assert main(["bench", "--quick", "--scaling"]) == 0
    result = last_json(capsys.readouterr().out)
    for key in ("floor_images_per_s", "s27_images_per_s_per_core", "s3_images_per_s_per_core", "efficiency_s27", "efficiency_s3",
                "frames_per_s", "frames_per_s_published", "speedup_frames", "peak_rss_mb",
                "scaling_images_per_s_1_worker", "scaling_images_per_s_2_workers", "scaling_speedup_2_workers"):  # fmt: skip
        assert result[key] > 0
    assert result["efficiency_s27"] == pytest.approx(result["s27_images_per_s_per_core"] / result["floor_images_per_s"], abs=0.002)
