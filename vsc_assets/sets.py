"""Building one partition of an augmented set, without Dagster.

The Dagster assets call these and turn the report into metadata and check
results; the CLI's benchmark and the tests call them directly.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PIL import Image

from vsc_assets.augment.assets_pool import AugmentAssets, list_assets
from vsc_assets.augment.generate import SetJob, Source, augment_source, output_name
from vsc_assets.chunks import parse_range_key
from vsc_assets.constants import OUTPUT_SIZE, REFERENCE_ID_BASE, SOURCE_STRIDE, VARIANTS_PER_SOURCE
from vsc_assets.errors import not_materialized
from vsc_assets.io.atomic import TEMP_PREFIX, remove_stale_temps, write_bytes_atomic
from vsc_assets.io.contact_sheet import contact_sheet
from vsc_assets.io.images import encode_jpeg, jpeg_problems, list_images
from vsc_assets.io.manifest import AUGMENTED_SCHEMA, read_manifest, write_manifest
from vsc_assets.layout import Layout
from vsc_assets.parallel import run_tasks
from vsc_assets.video.ids import id_number

NAME_RE = re.compile(r"^(\d+)_(\d+)\.jpg$")
Progress = Callable[[int, int], None]


def disc21_sources(disc21_dir: Path) -> list[Source]:
    """Every 10th image of the sorted list; pid = index // 10."""
    images = list_images(disc21_dir)
    return [Source(path, i // SOURCE_STRIDE) for i, path in enumerate(images) if i % SOURCE_STRIDE == 0]


def sources_in_key(sources: list[Source], key: str) -> list[Source]:
    first, last = parse_range_key(key)
    return [s for s in sources if first <= s.pid <= last]


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


def disc21_assets(layout: Layout) -> AugmentAssets:
    return list_assets(layout.pool_dir, layout.disc21_dir, layout.fonts_dir, layout.emoji_dir)


@dataclass
class CheckOutcome:
    passed: bool
    description: str
    details: dict = field(default_factory=dict)


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


def check_decodable(folder: Path, pids: list[int], mode: str) -> CheckOutcome:
    names = [output_name(pid, j) for pid in pids for j in range(VARIANTS_PER_SOURCE)]
    bad = jpeg_problems(folder, names, (OUTPUT_SIZE, OUTPUT_SIZE), mode)
    return CheckOutcome(not bad, f"every file a decodable {OUTPUT_SIZE}x{OUTPUT_SIZE} {mode} JPEG", {"bad": bad[:20], "bad_count": len(bad)})


def check_names(folder: Path) -> CheckOutcome:
    """Training code takes the class from int(name.split('_')[0]): every name must parse."""
    names = os.listdir(folder) if folder.is_dir() else []
    # Hidden temp files of writers still at work are not part of the set.
    bad = [n for n in names if not NAME_RE.match(n) and not n.startswith(TEMP_PREFIX)]
    return CheckOutcome(not bad, "every file in the set folder is named {pid}_{j}.jpg", {"bad": bad[:20], "bad_count": len(bad)})


def run_checks(folder: Path, pids: list[int], mode: str) -> dict[str, CheckOutcome]:
    return {
        "files_per_source": check_files_per_source(folder, pids, mode),
        "decodable_256": check_decodable(folder, pids, mode),
        "names_parse": check_names(folder),
    }


# ------------------------------------------------------------------ colour sets


def build_colour_partition(
    layout: Layout,
    set_name: str,
    partition_key: str,
    base_seed: int,
    workers: int,
    sources: list[Source] | None = None,
    assets: AugmentAssets | None = None,
    progress: Progress | None = None,
) -> PartitionReport:
    started = time.perf_counter()
    if sources is None:
        sources = sources_in_key(disc21_sources(layout.disc21_dir), partition_key)
    assets = assets or disc21_assets(layout)
    out_dir = layout.set_dir(set_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)
    job = SetJob(set_name, base_seed, assets, out_dir)
    rows: list[dict] = []
    for done, source_rows in enumerate(run_tasks(augment_source, job, sources, workers), start=1):
        rows.extend(source_rows)
        if progress:
            progress(done, len(sources))
    manifest = layout.manifest_path(set_name, partition_key)
    write_manifest(manifest, rows, AUGMENTED_SCHEMA)
    return _report(layout, set_name, partition_key, rows, started, "RGB", manifest)


def _report(layout, set_name, partition_key, rows, started, mode, manifest) -> PartitionReport:
    out_dir = layout.set_dir(set_name)
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
    seconds = time.perf_counter() - started
    preview = None
    if pids:
        names = [output_name(pids[0], j) for j in range(VARIANTS_PER_SOURCE)]
        preview = contact_sheet([out_dir / n for n in names], [captions.get(n, n) for n in names])
        write_bytes_atomic(layout.preview_path(set_name, partition_key), preview, make_parents=True)
    return PartitionReport(
        set_name=set_name,
        partition_key=partition_key,
        sources=len(pids) + len(bad),
        files=len(good),
        seconds=seconds,
        bad_inputs=bad,
        manifest=manifest,
        preview=preview,
        family_counts=dict(sorted(families.items())),
        fallback_files=fallback_files,
        checks=run_checks(out_dir, pids, mode),
        chains=chains,
    )



# ------------------------------------------------------------------ greyscale sets


@dataclass(frozen=True)
class GreyJob:
    colour_dir: Path
    out_dir: Path


def greyscale_files(job: GreyJob, names: list[str]) -> list[str | None]:
    """Convert each colour file to single-channel L; returns an error per name (None if fine)."""
    errors = []
    for name in names:
        try:
            with Image.open(job.colour_dir / name) as im:
                grey = im.convert("L")
            write_bytes_atomic(job.out_dir / name, encode_jpeg(grey))
            errors.append(None)
        except OSError as exc:
            errors.append(f"{job.colour_dir / name}: {exc}")
    return errors


def build_grey_partition(
    layout: Layout,
    colour_set: str,
    grey_set: str,
    partition_key: str,
    workers: int,
    progress: Progress | None = None,
) -> PartitionReport:
    started = time.perf_counter()
    colour_manifest = layout.manifest_path(colour_set, partition_key)
    if not colour_manifest.is_file():
        raise not_materialized(colour_manifest, colour_set, partition_key)
    colour_rows = read_manifest(colour_manifest)
    job = GreyJob(layout.set_dir(colour_set), layout.set_dir(grey_set))
    job.out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(job.out_dir)
    by_source: dict[int, list[dict]] = {}
    for row in colour_rows:
        if not row["error"]:
            by_source.setdefault(row["pid"], []).append(row)
    batches = list(by_source.values())
    rows = [r for r in colour_rows if r["error"]]
    for done, (batch, errors) in enumerate(
        zip(batches, run_tasks(greyscale_files, job, [[r["name"] for r in b] for b in batches], workers)),
        start=1,
    ):
        for row, error in zip(batch, errors):
            rows.append({**row, "error": error} if error else row)
        if progress:
            progress(done, len(batches))
    manifest = layout.manifest_path(grey_set, partition_key)
    write_manifest(manifest, rows, AUGMENTED_SCHEMA)
    return _report(layout, grey_set, partition_key, rows, started, "L", manifest)
