"""What every partition builder does around its work: temp files, leftovers, check outcomes.

All of it touches only the files the partition owns (names from its manifest,
its own temp folder), never the output folder other partitions share, so its
cost does not grow with the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow.parquet as pq

from vsc_assets.io.atomic import remove_stale_temps, temp_dir_for
from vsc_assets.io.images import verified_size
from vsc_assets.layout import Layout

Progress = Callable[[int, int], None]


@dataclass
class CheckOutcome:
    passed: bool
    description: str
    details: dict = field(default_factory=dict)


def staging_for(layout: Layout, asset: str, partition_key: str, out_dir: Path) -> Path | None:
    """The partition's own temp folder, cleared of what a killed writer left; None when it is
    on another filesystem than ``out_dir`` (then temps sit beside the outputs, the old way)."""
    temp_dir = temp_dir_for(layout.staging_dir(asset, partition_key), out_dir)
    remove_stale_temps(temp_dir or out_dir)
    return temp_dir


def names_listed(manifest: Path) -> set[str]:
    """The output names a manifest records (empty without one); reads that one column."""
    if not manifest.is_file():
        return set()
    return {n for n in pq.read_table(manifest, columns=["name"]).column("name").to_pylist() if n}


def prune_unlisted(folder: Path, before: set[str], rows: list[dict]) -> int:
    """Remove the files the previous materialization wrote and this one did not (a source that
    became unreadable, a video that got shorter); returns how many."""
    now = {r["name"] for r in rows if r["name"]}
    gone = sorted(before - now)
    for name in gone:
        (folder / name).unlink(missing_ok=True)
    return len(gone)


def made_and_verified(job, item: tuple) -> tuple[list[dict], dict[str, int]]:
    """Runs in a worker: the per-source task, then a full decode of every file it wrote, read
    back from disk. Returns the task's rows and the size of each file that decoded, so the
    partition's check, run in one process afterwards, need only see those files unchanged."""
    task, source, size, mode = item
    rows = task(job, source)
    sizes = {row["name"]: verified_size(job.out_dir / row["name"], size, mode) for row in rows if row["name"]}
    return rows, {name: n for name, n in sizes.items() if n is not None}


def release_staging(temp_dir: Path | None) -> None:
    """Remove the partition's temp folder once its writers are done (only if empty: a live
    writer of a concurrent run of the same key keeps its files)."""
    if temp_dir is None:
        return
    for folder in (temp_dir, temp_dir.parent):
        try:
            folder.rmdir()
        except OSError:
            return
