"""Recovery from failure, done for real: a killed worker, a full disk, a re-run of what failed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from vsc_assets.io.atomic import TEMP_PREFIX
from vsc_assets.io.manifest import read_manifest
from vsc_assets.layout import Layout
from vsc_assets.cli.main import main
from vsc_assets_tests.support import S27, make_root
from vsc_assets_tests.servers import cmdline, descendants


def _children(pid: int) -> list[int]:
    """The spawned pool workers under ``pid``."""
    return [p for p in descendants(pid) if "spawn_main" in cmdline(p)]


def _assert_set_is_whole(layout: Layout, set_name: str, sources: int) -> None:
    folder = layout.set_dir(set_name)
    files = sorted(folder.iterdir())
    assert not [p for p in files if p.name.startswith(TEMP_PREFIX)], "stray temp files"
    staging = layout.root / ".staging"
    assert not staging.exists() or not [p for p in staging.rglob("*") if p.is_file()], "temp files left in .staging"
    assert len(files) == 20 * sources
    for path in files:
        with Image.open(path) as im:
            im.load()  # a truncated JPEG raises here
            assert im.size == (256, 256)
    rows = [r for key in sorted(p.stem for p in (layout.root / "manifests" / set_name).glob("*.parquet")) for r in read_manifest(layout.manifest_path(set_name, key))]
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names)) == 20 * sources, "duplicate or missing manifest rows"


def test_worker_killed_mid_partition_is_retried_to_completion(tmp_path):
    root = make_root(tmp_path, count=400)  # 40 sources, 2 partitions
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vsc_assets.cli", "materialize", "--root", str(root), "--select", S27,
         "--workers", "2", "--sources-per-partition", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    folder = Layout(root).set_dir(S27)
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if workers and folder.is_dir() and len(os.listdir(folder)) > 60:
            os.kill(workers[0], signal.SIGKILL)
            killed = workers[0]
        time.sleep(0.05)
    out, _ = proc.communicate(timeout=600)
    assert killed is not None, "no worker was running to kill:\n" + out
    assert proc.returncode == 0, out
    assert json.loads(out.strip().splitlines()[-1])[S27] == 800
    _assert_set_is_whole(Layout(root), S27, 40)


def _tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up here: {result.stderr.strip()}")


def test_full_disk_fails_the_partition_clearly_and_keeps_earlier_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))  # the instance is not on the full disk
    disk = tmp_path / "disk"
    _tmpfs(disk, "24m")
    try:
        root = make_root(disk, count=40)  # 4 sources, 2 partitions
        layout = Layout(root)
        args = ["materialize", "--root", str(root), "--select", S27, "--workers", "1", "--sources-per-partition", "2"]
        assert main(args) == 0
        earlier = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in layout.set_dir(S27).glob("[01]_*.jpg")}
        assert len(earlier) == 40
        for p in layout.set_dir(S27).glob("[23]_*.jpg"):
            p.unlink()  # partition 000002-000003 has to be made again
        filler = disk / "filler"
        with open(filler, "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
            except OSError:
                pass
        capsys.readouterr()
        code = main(args)
        out = capsys.readouterr().out
        assert code == 1
        assert "No space left on device" in out and "cannot write" in out
        assert "failed partition: 000002-000003" in out
        after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in layout.set_dir(S27).glob("[01]_*.jpg")}
        assert after == earlier
        assert not [p for p in layout.set_dir(S27).iterdir() if p.name.startswith(TEMP_PREFIX)]
        assert read_manifest(layout.manifest_path(S27, "000000-000001"))
        # Space again: the re-run does only the failed partition.
        filler.unlink()
        code = main(args)
        out = capsys.readouterr().out
        assert code == 0 and "[1/1] partition 000002-000003" in out
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_unwritable_output_folder_is_a_clear_failure(tmp_path, capsys):
    root = make_root(tmp_path, count=20)
    target = Layout(root).set_dir(S27)
    target.parent.mkdir(parents=True)
    target.write_text("a file where the set folder should be")
    assert main(["materialize", "--root", str(root), "--select", S27, "--workers", "1"]) == 1
    out = capsys.readouterr().out
    assert "train_v1_s27_all" in out and ("File exists" in out or "Not a directory" in out)
