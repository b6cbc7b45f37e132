"""Building one partition of a greyscale set from its colour set's partition, without Dagster."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vsc_assets.builders.sets import NAME_DIGEST, SetReport, Tally, finish_set
from vsc_assets.builders.writer import PartitionWriter, Progress, Target
from vsc_assets.constants import OUTPUT_SIZE
from vsc_assets.io.images import encode_jpeg, verified_size
from vsc_assets.keys import IdRange
from vsc_assets.parallel import PoolUse, run_tasks


@dataclass(frozen=True)
class GreyTask:
    colour_dir: Path
    target: Target


GreyResult = tuple[str | None, str | None, int | None]  # error or None, digest of the file written, size it verified at


def greyscale_files(task: GreyTask, rows: list[dict]) -> tuple[list[GreyResult], Tally]:
    """Runs in a worker: convert each colour file of one source (its manifest ``rows``) to
    single-channel L, then decode it back from disk in full. Returns a result per row, and the
    tally of the records of the files written (a grey file's chain is its colour file's)."""
    results: list[GreyResult] = []
    written = []
    for row in rows:
        name = row["name"]
        try:
            with Image.open(task.colour_dir / name) as im:
                grey = im.convert("L")
            digest = task.target.write(name, encode_jpeg(grey))
        except OSError as exc:
            results.append((f"{task.colour_dir / name}: {exc}", None, None))
            continue
        results.append((None, digest, verified_size(task.target.folder / name, (OUTPUT_SIZE, OUTPUT_SIZE), "L")))
        written.append(row)
    return results, Tally.of(written)


def build_grey_partition(
    writer: PartitionWriter,
    grey_set: str,
    colour_dir: Path,
    colour_rows: list[dict],
    workers: int,
    pid_range: IdRange,
    progress: Progress | None = None,
) -> SetReport:
    """``colour_rows``: the manifest of the same partition of the colour set, whose files are in ``colour_dir``."""
    started = time.perf_counter()
    task = GreyTask(colour_dir, writer.open())
    by_source: dict[int, list[dict]] = {}
    for row in colour_rows:
        if not row["error"]:
            by_source.setdefault(row["pid"], []).append(row)
    batches = list(by_source.values())
    rows = [r for r in colour_rows if r["error"]]
    verified: dict[str, int] = {}
    tally = Tally()
    work_started, pool_began = time.perf_counter(), time.monotonic()
    spans: list = []
    for done, (batch, (results, batch_tally)) in enumerate(zip(batches, run_tasks(greyscale_files, task, batches, workers, spans)), start=1):
        tally.add(batch_tally)
        for row, (error, digest, size) in zip(batch, results):
            rows.append({**row, NAME_DIGEST: digest, "error": error})
            if size is not None:
                verified[row["name"]] = size
        if progress:
            progress(done, len(batches))
    work_seconds = time.perf_counter() - work_started
    pool_use = PoolUse.of(spans, max(1, min(workers, len(batches))), pool_began, time.monotonic())
    return finish_set(writer, grey_set, pid_range, rows, "L", started, work_seconds, verified, pool_use, tally, workers)
