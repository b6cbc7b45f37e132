"""Building one partition of an augmented set, without Dagster.

The Dagster assets call these and turn the report into metadata and check
results; the CLI's benchmark and the tests call them directly.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from vsc_assets.augment.assets_pool import AugmentAssets
from vsc_assets.augment.generate import SetJob, Source, augment_source, output_name
from vsc_assets.build.chunks import parse_range_key
from vsc_assets.build.outputs import (
    CheckOutcome,
    Progress,
    made_and_verified,
    names_listed,
    prune_unlisted,
    release_staging,
    staging_for,
)
from vsc_assets.build.parallel import run_tasks
from vsc_assets.constants import OUTPUT_SIZE, REFERENCE_ID_BASE, SOURCE_STRIDE, VARIANTS_PER_SOURCE
from vsc_assets.errors import not_materialized
from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.io.contact_sheet import contact_sheet
from vsc_assets.io.images import encode_jpeg, jpeg_problems, list_images, verified_size
from vsc_assets.io.manifest import AUGMENTED_SCHEMA, read_manifest, write_manifest
from vsc_assets.layout import Layout
from vsc_assets.video.ids import id_number

NAME_RE = re.compile(r"^(\d+)_(\d+)\.jpg$")


def disc21_sources(disc21_dir: Path) -> list[Source]:
    """Every 10th image of the sorted list; pid = index // 10. Lists the folder: for small
    folders (benchmarks, tests); partition runs take their slice of the input index."""
    images = list_images(disc21_dir)
    return [Source(path, i // SOURCE_STRIDE) for i, path in enumerate(images) if i % SOURCE_STRIDE == 0]


def reference_sources(layout: Layout, selected_asset: str, partition_key: str) -> list[Source]:
    """The selected frames of a reference partition; pid = reference id number - 100000."""
    manifest = layout.manifest_path(selected_asset, partition_key)
    if not manifest.is_file():
        raise not_materialized(manifest, selected_asset, partition_key)
    rows = [r for r in read_manifest(manifest) if r["name"]]
    return [
        Source(layout.selected_frames_dir / r["name"], id_number(r["video_id"], "reference") - REFERENCE_ID_BASE)
        for r in sorted(rows, key=lambda r: r["video_id"])
    ]


def reference_pid_range(partition_key: str) -> tuple[int, int]:
    first, last = parse_range_key(partition_key)
    return first - REFERENCE_ID_BASE, last - REFERENCE_ID_BASE


@dataclass
class PartitionReport:
    set_name: str
    partition_key: str
    sources: int
    files: int
    seconds: float
    bad_inputs: list[dict]
    manifest: Path
    preview: bytes | None
    family_counts: dict
    fallback_files: int
    checks: dict[str, CheckOutcome]
    chains: int = 0  # files made by a chain (variant 0, the plain resize, is not one)
    work_seconds: float = 0.0  # inside the per-source (or per-file) work; the rest is bookkeeping
    verified: dict[str, int] = field(default_factory=dict)  # files the workers decoded in full, by size

    @property
    def bookkeeping_seconds(self) -> float:
        return max(0.0, self.seconds - self.work_seconds)

    @property
    def images_per_second(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0


# ------------------------------------------------------------------ checks


def check_files_per_source(folder: Path, pids: list[int], mode: str) -> CheckOutcome:
    missing = [
        output_name(pid, j)
        for pid in pids
        for j in range(VARIANTS_PER_SOURCE)
        if not (folder / output_name(pid, j)).is_file()
    ]
    return CheckOutcome(
        not missing,
        f"{VARIANTS_PER_SOURCE} files for each of {len(pids)} readable sources",
        {"missing": missing[:20], "missing_count": len(missing)},
    )


def check_decodable(folder: Path, pids: list[int], mode: str, verified: dict[str, int] | None = None) -> CheckOutcome:
    """``verified``: files the workers decoded in full after writing them, by size then."""
    names = [output_name(pid, j) for pid in pids for j in range(VARIANTS_PER_SOURCE)]
    bad = jpeg_problems(folder, names, (OUTPUT_SIZE, OUTPUT_SIZE), mode, verified)
    return CheckOutcome(not bad, f"every file a decodable {OUTPUT_SIZE}x{OUTPUT_SIZE} {mode} JPEG", {"bad": bad[:20], "bad_count": len(bad)})


def check_names(folder: Path, rows: list[dict], pid_range: tuple[int, int]) -> CheckOutcome:
    """Training code takes the class from int(name.split('_')[0]): every name of the partition
    parses to a pid of its range, and no file of its range is one the manifest does not list.

    Looks only at this partition's names (one stat per unlisted name of its range), never
    at the folder other partitions share.
    """
    first, last = pid_range
    names = [r["name"] for r in rows if r["name"]]
    bad = []
    for name in names:
        match = NAME_RE.match(name)
        if not match or not first <= int(match.group(1)) <= last or int(match.group(2)) >= VARIANTS_PER_SOURCE:
            bad.append(name)
    bad += sorted(n for n, count in Counter(names).items() if count > 1)
    listed = {r["pid"] for r in rows if r["name"]}
    strays = [
        output_name(pid, j)
        for pid in range(first, last + 1)
        if pid not in listed
        for j in range(VARIANTS_PER_SOURCE)
        if (folder / output_name(pid, j)).exists()
    ]
    return CheckOutcome(
        not bad and not strays,
        "every file of the partition is named {pid}_{j}.jpg with a pid of its range, and listed in its manifest",
        {"bad": bad[:20], "bad_count": len(bad), "unlisted": strays[:20], "unlisted_count": len(strays)},
    )


def run_checks(
    folder: Path, rows: list[dict], mode: str, pid_range: tuple[int, int], verified: dict[str, int] | None = None
) -> dict[str, CheckOutcome]:
    pids = sorted({r["pid"] for r in rows if not r["error"]})
    return {
        "files_per_source": check_files_per_source(folder, pids, mode),
        "decodable_256": check_decodable(folder, pids, mode, verified),
        "names_parse": check_names(folder, rows, pid_range),
    }


# ------------------------------------------------------------------ colour sets


def build_colour_partition(
    layout: Layout,
    set_name: str,
    partition_key: str,
    base_seed: int,
    workers: int,
    sources: list[Source],
    assets: AugmentAssets,
    pid_range: tuple[int, int] | None = None,
    progress: Progress | None = None,
    task=augment_source,
) -> PartitionReport:
    """``sources`` and ``assets`` come from the caller (the platform's input index); ``pid_range``
    defaults to the key's own range. ``task`` is the per-source work: the scale benchmark swaps
    in a copy of ready files to time everything else."""
    started = time.perf_counter()
    out_dir = layout.set_dir(set_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    job = SetJob(set_name, base_seed, assets, out_dir, staging_for(layout, set_name, partition_key, out_dir))
    rows: list[dict] = []
    verified: dict[str, int] = {}
    work_started = time.perf_counter()
    items = [(task, source, (OUTPUT_SIZE, OUTPUT_SIZE), "RGB") for source in sources]
    for done, (source_rows, source_verified) in enumerate(run_tasks(made_and_verified, job, items, workers), start=1):
        rows.extend(source_rows)
        verified.update(source_verified)
        if progress:
            progress(done, len(sources))
    work = time.perf_counter() - work_started
    return _finish(layout, set_name, partition_key, rows, started, "RGB", pid_range, work, verified, job.temp_dir)


def _finish(layout, set_name, partition_key, rows, started, mode, pid_range, work, verified, temp_dir) -> PartitionReport:
    """After the work: the temp folder, leftovers of the last run, the manifest, checks and report."""
    release_staging(temp_dir)
    out_dir = layout.set_dir(set_name)
    manifest = layout.manifest_path(set_name, partition_key)
    prune_unlisted(out_dir, names_listed(manifest), rows)
    write_manifest(manifest, rows, AUGMENTED_SCHEMA)
    bad = [{"file": r["source_file"], "reason": r["error"]} for r in rows if r["error"]]
    good = [r for r in rows if not r["error"]]
    pids = sorted({r["pid"] for r in good})
    families: Counter = Counter()
    fallback_files = chains = 0
    captions: dict[str, str] = {}
    for r in good:
        record = json.loads(r["record"])
        if record["variant"]:  # variant 0 is the plain resize, no family
            families.update(record["families"])
            chains += 1
        fallback_files += bool(record["fallbacks"])
        if pids and r["pid"] == pids[0]:
            captions[r["name"]] = f"{record['variant']}: {', '.join(record['families']) or 'resize'}"
    preview = None
    if pids:
        names = [output_name(pids[0], j) for j in range(VARIANTS_PER_SOURCE)]
        preview = contact_sheet([out_dir / n for n in names], [captions.get(n, n) for n in names])
        write_bytes_atomic(layout.preview_path(set_name, partition_key), preview, make_parents=True)
    checks = run_checks(out_dir, rows, mode, pid_range or parse_range_key(partition_key), verified)
    return PartitionReport(
        set_name=set_name,
        partition_key=partition_key,
        sources=len(pids) + len(bad),
        files=len(good),
        seconds=time.perf_counter() - started,
        bad_inputs=bad,
        manifest=manifest,
        preview=preview,
        family_counts=dict(sorted(families.items())),
        fallback_files=fallback_files,
        checks=checks,
        chains=chains,
        work_seconds=work,
        verified=verified,
    )



# ------------------------------------------------------------------ greyscale sets


@dataclass(frozen=True)
class GreyJob:
    colour_dir: Path
    out_dir: Path
    temp_dir: Path | None = None


def greyscale_files(job: GreyJob, names: list[str]) -> list[tuple[str | None, int | None]]:
    """Convert each colour file to single-channel L, then decode it back from disk in full;
    returns (error or None, size of the verified file or None) per name."""
    results = []
    for name in names:
        try:
            with Image.open(job.colour_dir / name) as im:
                grey = im.convert("L")
            write_bytes_atomic(job.out_dir / name, encode_jpeg(grey), temp_dir=job.temp_dir)
        except OSError as exc:
            results.append((f"{job.colour_dir / name}: {exc}", None))
            continue
        results.append((None, verified_size(job.out_dir / name, (OUTPUT_SIZE, OUTPUT_SIZE), "L")))
    return results


def build_grey_partition(
    layout: Layout,
    colour_set: str,
    grey_set: str,
    partition_key: str,
    workers: int,
    pid_range: tuple[int, int] | None = None,
    progress: Progress | None = None,
) -> PartitionReport:
    started = time.perf_counter()
    colour_manifest = layout.manifest_path(colour_set, partition_key)
    if not colour_manifest.is_file():
        raise not_materialized(colour_manifest, colour_set, partition_key)
    colour_rows = read_manifest(colour_manifest)
    out_dir = layout.set_dir(grey_set)
    out_dir.mkdir(parents=True, exist_ok=True)
    job = GreyJob(layout.set_dir(colour_set), out_dir, staging_for(layout, grey_set, partition_key, out_dir))
    by_source: dict[int, list[dict]] = {}
    for row in colour_rows:
        if not row["error"]:
            by_source.setdefault(row["pid"], []).append(row)
    batches = list(by_source.values())
    rows = [r for r in colour_rows if r["error"]]
    verified: dict[str, int] = {}
    work_started = time.perf_counter()
    for done, (batch, results) in enumerate(
        zip(batches, run_tasks(greyscale_files, job, [[r["name"] for r in b] for b in batches], workers)),
        start=1,
    ):
        for row, (error, size) in zip(batch, results):
            rows.append({**row, "error": error} if error else row)
            if size is not None:
                verified[row["name"]] = size
        if progress:
            progress(done, len(batches))
    work = time.perf_counter() - work_started
    return _finish(layout, grey_set, partition_key, rows, started, "L", pid_range, work, verified, job.temp_dir)
