"""`vsc-assets verify`: every file the manifests list is reread and compared with the digest written with it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from vsc_assets.builders.writer import check_digests
from vsc_assets.cli.main import main
from vsc_assets.io.manifest import read_manifest
from vsc_assets.layout import Layout

TREES = ("images", "data", "manifests")  # what verify reads; the instance is not linked


def link_copy(root: Path, dest: Path) -> Path:
    """The root's tree as hard links: cheap, and safe as long as a file is replaced, never edited in place."""
    for name in TREES:
        shutil.copytree(root / name, dest / name, copy_function=os.link)
    return dest


def replace(path: Path, data: bytes) -> None:
    path.unlink()  # a new inode: the shared demo root keeps its file
    path.write_bytes(data)


def tamper(root: Path) -> dict[str, Path]:
    """One file of each kind of damage, in four artifacts; returns them by what verify must call them."""
    layout = Layout(root)
    changed = layout.set_dir("train_v1_s3_all") / "7_3.jpg"
    data = bytearray(changed.read_bytes())
    data[len(data) // 2] ^= 0xFF
    replace(changed, bytes(data))
    truncated = sorted(layout.frames_dir("reference").glob("*.jpg"))[3]
    replace(truncated, truncated.read_bytes()[:1000])
    deleted = sorted(layout.pairs_dir.glob("gt_ref/*/*.jpg"))[0]
    deleted.unlink()
    stray = layout.set_dir("train_v1_s27_all") / "99999_0.jpg"
    stray.write_bytes(b"not made by any partition")
    return {"changed": changed, "truncated": truncated, "deleted": deleted, "stray": stray}


def run(capsys, *args) -> tuple[int, str, dict]:
    code = main(["verify", *args])
    out = capsys.readouterr().out
    return code, out, json.loads(out.strip().splitlines()[-1])


def test_an_untouched_root_verifies(demo_root, capsys):
    root = demo_root[0]
    code, out, said = run(capsys, "--root", str(root), "--list", str(root.parent / "unused.tsv"))
    assert code == 0, out
    assert said["problems"] == 0 and said["files_read"] > 9000
    assert "train_v1_s3_all:" in out and "positive_pairs:" in out and "all as written" in out


def test_changed_truncated_deleted_and_stray_files_are_named_and_listed(demo_root, tmp_path, capsys):
    copy = link_copy(demo_root[0], tmp_path / "copy")
    damaged = tamper(copy)
    code, out, said = run(capsys, "--root", str(copy))
    assert code == 1 and said["problems"] == 4, out
    assert f"{damaged['changed']}: changed" in out and f"{damaged['truncated']}: changed" in out
    assert f"{damaged['deleted']}: missing" in out and f"{damaged['stray']}: not in any manifest" in out
    listed = Path(said["list"]).read_text().splitlines()
    assert listed[0] == "artifact\tpartition\tpath\tproblem" and len(listed) == 5
    assert {line.split("\t")[2] for line in listed[1:]} == {str(p) for p in damaged.values()}


def test_a_copy_elsewhere_is_checked_against_the_roots_manifests(demo_root, tmp_path, capsys):
    root = demo_root[0]
    copy = link_copy(root, tmp_path / "elsewhere")
    damaged = tamper(copy)
    code, out, said = run(capsys, "--root", str(root), "--files", str(copy), "--list", str(tmp_path / "problems.tsv"))
    assert code == 1 and said["problems"] == 4, out
    assert all(str(path) in out for path in damaged.values())
    named = [line for line in out.splitlines() if line.startswith("    ") and "..." not in line]
    assert named and all(str(copy) in line for line in named)  # the copy's files are named, not the root's
    assert Path(said["list"]) == tmp_path / "problems.tsv"


def test_at_most_three_files_are_named_per_artifact_and_the_list_has_them_all(demo_root, tmp_path, capsys):
    copy = link_copy(demo_root[0], tmp_path / "copy")
    folder = Layout(copy).set_dir("train_v1_s27_all")
    gone = sorted(folder.glob("1_*.jpg"))
    for path in gone:
        path.unlink()
    code, out, said = run(capsys, "--root", str(copy), "--select", "train_v1_s27_all")
    assert code == 1 and said["problems"] == len(gone) == 20
    assert out.count(": missing") == 3 and f"... and {len(gone) - 3} more" in out
    assert len(Path(said["list"]).read_text().splitlines()) == 21


def test_a_sample_reads_a_fraction_and_a_bad_fraction_is_a_usage_error(demo_root, capsys):
    root = demo_root[0]
    code, out, said = run(capsys, "--root", str(root), "--select", "train_v1_s27_all", "--sample", "0.25")
    assert code == 0 and 0 < said["files_read"] < 1980 * 0.5, out
    assert main(["verify", "--root", str(root), "--sample", "0"]) == 2
    assert "--sample 0" in capsys.readouterr().err


def test_the_digest_check_fails_on_a_changed_file(tmp_path, demo_root):
    copy = link_copy(demo_root[0], tmp_path / "copy")
    layout = Layout(copy)
    rows = read_manifest(layout.manifest_path("query_frames", sorted(p.stem for p in layout.manifests_dir("query_frames").glob("*.parquet"))[0]))
    assert check_digests(layout.frames_dir("query"), rows, ("name",), sample=len(rows)).passed
    victim = layout.frames_dir("query") / next(r["name"] for r in rows if r["name"])
    replace(victim, victim.read_bytes()[:-10])
    outcome = check_digests(layout.frames_dir("query"), rows, ("name",), sample=len(rows))
    assert not outcome.passed and outcome.details["wrong"] == [f"{victim.name}: changed"]
