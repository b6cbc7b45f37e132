"""What the platform's bookkeeping costs at the real dataset's size, on a root of hard links.

The root holds N DISC21 names, 40,300 reference and 8,400 query video names and
about 2,700 ground-truth rows; every name is a hard link to one of a few small
real files, so the folders are as big as the real ones while the disk holds
almost nothing. Nothing here decodes a video or augments an image: the
partition run swaps its per-source work for a copy of a ready 256 px JPEG, and
the figure reported is everything else (``bookkeeping_s``).

Each figure has its baseline from the same run: what the folder listing the
platform used to do costs on the same folders.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

import dagster as dg
import numpy as np
from PIL import Image

from vsc_assets.augment.generate import Source, output_name
from vsc_assets.builders.sets import NAME_DIGEST, SetTask, build_colour_partition, run_checks
from vsc_assets.builders.writer import PartitionWriter
from vsc_assets.catalog import index
from vsc_assets.catalog.artifacts import S27
from vsc_assets.catalog.inputs import disc21_listing, disc21_materials, disc21_sources_in
from vsc_assets.catalog.preflight import available, root_problems
from vsc_assets.catalog.verify import verify_artifact
from vsc_assets.constants import DEFAULT_SOURCES_PER_PARTITION, VARIANTS_PER_SOURCE
from vsc_assets.defs.resources import VscRoot
from vsc_assets.definitions import defs
from vsc_assets.errors import InputError
from vsc_assets.io.images import list_images
from vsc_assets.io.manifest import read_manifest
from vsc_assets.keys import IdRange
from vsc_assets.layout import Layout
from vsc_assets.runs.instance import open_instance, register_partitions
from vsc_assets.runs.plan import prepare_runs

REFERENCE_VIDEOS = 40_300
QUERY_VIDEOS = 8_400
GROUND_TRUTH_ROWS = 2_700
LINKS_PER_FILE = 50_000  # under ext4's 65,000 links per inode
ENTRY_BYTES = 64  # what a directory entry of these names costs, generously
Echo = Callable[[str], None]


def _jpeg(size: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@functools.lru_cache(maxsize=1)
def _ready_output() -> bytes:
    return _jpeg(256, 0)


def copy_ready_output(task: SetTask, source: Source) -> list[dict]:
    """Stands in for a source's image work: its 20 files are one ready 256 px JPEG."""
    data = _ready_output()
    rows = []
    for variant in range(VARIANTS_PER_SOURCE):
        name = output_name(source.pid, variant)
        digest = task.target.write(name, data)
        record = {"variant": variant, "families": [], "fallbacks": []}
        rows.append({"pid": source.pid, "source_file": source.path.name, "name": name, NAME_DIGEST: digest, "variant": variant, "record": json.dumps(record), "error": None})
    return rows


def check_capacity(folder: Path, links: int) -> None:
    """Hard links take no inode each, but their directory entries take space, and the few
    real files take inodes: refuse at once, naming the shortfall, rather than fail half-built."""
    stats = os.statvfs(folder)
    files = links // LINKS_PER_FILE + 8
    if stats.f_favail < files:
        raise InputError(f"{folder}: {stats.f_favail} free inodes, the scale root needs {files}", "choose a --scale-dir on a disk with free inodes")
    need = links * ENTRY_BYTES
    if stats.f_bavail * stats.f_frsize < need:
        raise InputError(
            f"{folder}: {stats.f_bavail * stats.f_frsize // 2**20} MiB free, the scale root's {links:,} names need about {need // 2**20} MiB",
            "choose a --scale-dir on a bigger disk, or a smaller N",
        )


def _link_many(folder: Path, names, data: bytes) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / ".originals"
    store.mkdir(exist_ok=True)
    count = 0
    for i, name in enumerate(names):
        if i % LINKS_PER_FILE == 0:
            original = store / f"{i}.bin"
            original.write_bytes(data)
        os.link(original, folder / name)
        count += 1
    return count


def build_root(root: Path, n_images: int, echo: Echo) -> Layout:
    layout = Layout(root)
    started = time.perf_counter()
    _link_many(layout.disc21_dir, (f"T{i:06d}.jpg" for i in range(n_images)), _jpeg(64, 1))
    video = b"\x00\x00\x00\x18ftypmp42"  # a name to list and stat; nothing here decodes it
    _link_many(layout.videos_dir("reference"), (f"R{100000 + i}.mp4" for i in range(REFERENCE_VIDEOS)), video)
    _link_many(layout.videos_dir("query"), (f"Q{200000 + i}.mp4" for i in range(QUERY_VIDEOS)), video)
    rng = np.random.default_rng(3)
    lines = ["query_id,ref_id,query_start,query_end,ref_start,ref_end"]
    for q, r in zip(rng.integers(0, QUERY_VIDEOS, GROUND_TRUTH_ROWS), rng.integers(0, REFERENCE_VIDEOS, GROUND_TRUTH_ROWS)):
        lines.append(f"Q{200000 + q},R{100000 + r},1.0,6.5,2.0,7.5")
    layout.ground_truth.write_text("\n".join(lines) + "\n")
    echo(f"scale root: {n_images:,} images, {REFERENCE_VIDEOS:,} + {QUERY_VIDEOS:,} videos in {time.perf_counter() - started:.1f} s")
    # Old enough that the index trusts it (a folder changed in the last 2 s is listed again).
    past = time.time_ns() - 10 * 10**9
    for folder in (layout.disc21_dir, layout.videos_dir("reference"), layout.videos_dir("query")):
        os.utime(folder, ns=(past, past))
    return layout


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, round(time.perf_counter() - started, 3)


def _sensor_tick(instance: dg.DagsterInstance, root: Path, cursor: str | None) -> tuple[str, int, int]:
    data_change_sensor = defs.resolve_sensor_def("data_change_sensor")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"vsc_root": VscRoot(root=str(root))})
    result = data_change_sensor(context)
    return result.cursor, len(result.run_requests), sum(len(r.partition_keys) for r in result.dynamic_partitions_requests)


def _output_folder_check(layout: Layout, key: str, size: int, data_file: Path, verified: dict[str, int]) -> dict:
    """One partition's checks, temp cleanup and "files present" with ``size`` files in the shared folder."""
    folder = layout.set_dir(S27.name)
    have = sum(1 for _ in os.scandir(folder))
    names = (f"{900000 + i // VARIANTS_PER_SOURCE}_{i % VARIANTS_PER_SOURCE}.jpg" for i in range(have, size))
    _link_many(folder, names, data_file.read_bytes())  # other partitions' files, as after a long backfill
    rows = read_manifest(layout.manifest_path(S27.name, key))
    started = time.perf_counter()
    PartitionWriter(layout, S27.name, key, folder).open()
    run_checks(folder, rows, "RGB", IdRange.parse(key), verified)
    present = S27.present(layout, key)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    listed = len(os.listdir(folder))  # what the old names check and temp cleanup each did per partition
    baseline = time.perf_counter() - started
    return {"files": listed, "partition_s": round(ours, 3), "present": present, "baseline_listdir_s": round(baseline, 3)}


def run_scale(n_images: int = 1_000_000, outputs: int = 2_000_000, scale_dir: str | None = None, echo: Echo = print) -> dict:
    parent = Path(scale_dir or tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    check_capacity(parent, n_images + REFERENCE_VIDEOS + QUERY_VIDEOS + outputs)
    work = Path(tempfile.mkdtemp(prefix="vsc-bench-scale-", dir=parent))
    try:
        layout = build_root(work / "root", n_images, echo)
        out: dict = {"images": n_images, "reference_videos": REFERENCE_VIDEOS, "query_videos": QUERY_VIDEOS, "ground_truth_rows": GROUND_TRUTH_ROWS}
        _, out["baseline_list_images_s"] = _timed(list_images, layout.disc21_dir)  # what each partition run did, twice

        instance = open_instance(layout)
        index.forget()
        added, out["register_first_s"] = _timed(register_partitions, instance, layout)
        out["registered_keys"] = {name: len(keys) for name, keys in added.items()}
        index.forget()  # `vsc-assets register` is a new process each time
        again, out["register_again_s"] = _timed(register_partitions, instance, layout)
        out["register_again_added"] = sum(len(keys) for keys in again.values())
        echo(f"register: {out['register_first_s']} s, again {out['register_again_s']} s")

        shutil.rmtree(layout.root / "index")  # the sensor's first tick on a cold root: no index yet
        index.forget()
        (cursor, requests, _), out["sensor_first_s"] = _timed(_sensor_tick, instance, layout.root, None)
        out["sensor_first_requests"] = requests
        index.forget()  # as in a new process: the index is read from disk
        (cursor, requests, _), out["sensor_cursor_s"] = _timed(_sensor_tick, instance, layout.root, cursor)
        out["sensor_cursor_requests"] = requests
        echo(f"sensor tick: first {out['sensor_first_s']} s, with a cursor {out['sensor_cursor_s']} s")

        def planning():
            selection = available(layout)
            problems = root_problems(layout, selection)
            _, plan, _, _ = prepare_runs(layout, selection, echo=lambda line: None)
            return selection, problems, plan

        index.forget()
        (selection, problems, plan), out["planning_s"] = _timed(planning)
        out["planned_runs"] = len(plan)
        out["planning_problems"] = [str(p) for p in problems]
        out["planning_selection"] = len(selection)
        echo(f"planning before the first run: {out['planning_s']} s ({len(plan)} runs)")

        ids = IdRange(0, DEFAULT_SOURCES_PER_PARTITION - 1)
        key = ids.key
        index.forget()  # a partition run is a new process
        started = time.perf_counter()
        listing = disc21_listing(layout)
        materials = disc21_materials(layout, listing)
        writer = PartitionWriter(layout, S27.name, key, layout.set_dir(S27.name))
        report = build_colour_partition(
            writer, S27.name, 0, 1, disc21_sources_in(listing, ids), materials, ids, work=copy_ready_output
        )
        total = time.perf_counter() - started
        out["partition"] = {
            "key": key,
            "files": report.files,
            "pool_images": len(materials.pool),
            "total_s": round(total, 3),
            "stand_in_work_s": round(report.work_seconds, 3),
            "bookkeeping_s": round(total - report.work_seconds, 3),
            "checks_passed": all(c.passed for c in report.checks.values()),
        }
        echo(f"one DISC21 partition run: bookkeeping {out['partition']['bookkeeping_s']} s")

        # `vsc-assets verify` of that partition: every file reread against its digest (from the page cache here).
        checked, seconds = _timed(verify_artifact, S27, layout)
        out["verify"] = {
            "files_read": checked.read, "bytes_per_file": (layout.set_dir(S27.name) / output_name(0, 0)).stat().st_size,
            "problems": len(checked.problems), "seconds": seconds, "per_10000_files_s": round(seconds * 10_000 / max(checked.read, 1), 3),
        }  # fmt: skip
        echo(f"verify: {checked.read:,} files in {seconds} s")

        data_file = layout.set_dir(S27.name) / output_name(0, 0)
        small = _output_folder_check(layout, key, 20_000, data_file, report.verified)
        large = _output_folder_check(layout, key, outputs, data_file, report.verified)
        out["output_folder"] = {"small": small, "large": large}
        echo(f"one partition's checks: {small['partition_s']} s at {small['files']:,} files, {large['partition_s']} s at {large['files']:,}")
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)
