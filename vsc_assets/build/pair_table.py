"""Positive query/reference pairs (SPEC artifact 6), without Dagster.

Two steps. Per partition of query videos, the frames of every candidate pair
are decoded by timestamp (each video decoded once for all its times) into a
staging folder. Then all partitions together are numbered in ground-truth
order, permuted with a seeded generator and laid out as the training code
reads them; that layout is built in a temp folder and swapped in whole.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from PIL import Image

from vsc_assets.build.chunks import parse_range_key
from vsc_assets.build.outputs import CheckOutcome, Progress
from vsc_assets.build.parallel import run_tasks
from vsc_assets.constants import JPEG_QUALITY
from vsc_assets.io.atomic import TEMP_PREFIX, remove_stale_temps, write_bytes_atomic
from vsc_assets.io.contact_sheet import contact_sheet
from vsc_assets.io.images import encode_jpeg
from vsc_assets.io.manifest import read_manifest, write_manifest
from vsc_assets.layout import Layout
from vsc_assets.pairs.ground_truth import GtRow, parse_ground_truth
from vsc_assets.pairs.rule import pair_times, shuffled_numbers
from vsc_assets.video.decode import frames_at
from vsc_assets.video.ids import id_number
from vsc_assets.video.probe import BadVideoError, probe_video

CANDIDATE_SCHEMA = pa.schema(
    [
        ("gt_row", pa.int64()),
        ("u", pa.int64()),
        ("query_id", pa.string()),
        ("ref_id", pa.string()),
        ("query_time", pa.float64()),
        ("ref_time", pa.float64()),
        ("query_file", pa.string()),
        ("ref_file", pa.string()),
        ("error", pa.string()),
    ]
)
PAIR_SCHEMA = pa.schema(
    [
        ("pair", pa.int64()),
        ("shuffled", pa.int64()),
        ("query_id", pa.string()),
        ("ref_id", pa.string()),
        ("query_time", pa.float64()),
        ("ref_time", pa.float64()),
        ("gt_row", pa.int64()),
        ("u", pa.int64()),
        ("query_path", pa.string()),
        ("ref_path", pa.string()),
    ]
)
# What positive_pairs skipped: one row per pair whose frame can't be read, one per unusable ground-truth row (u null).
PAIR_KEY_FIELDS = ("gt_row", "u", "query_id", "ref_id", "query_time", "ref_time")
SKIPPED_SCHEMA = pa.schema([CANDIDATE_SCHEMA.field(name) for name in PAIR_KEY_FIELDS] + [("reason", pa.string())])
PAST_END = "past the end of"  # how a pair whose frame lies after its video's end is reported
PAIR_TABLE = "positive_pairs.parquet"
QUERY_PICKLE = "pull_gt_all_shuffle_q.pickle"
REF_PICKLE = "pull_gt_all_shuffle_r.pickle"


@dataclass(frozen=True)
class StageJob:
    out_dir: Path


def stage_video_times(job: StageJob, task: tuple[Path, list[tuple[float, str]]]) -> dict[str, str | None]:
    """Decode the frames on screen at the given times of one video; file name -> error or None."""
    path, wanted = task
    try:
        info = probe_video(path)
        times = [t for t, _ in wanted]
        done: dict[str, str | None] = {}
        for positions, frame in frames_at(info, times):
            data = encode_jpeg(Image.fromarray(frame), JPEG_QUALITY)
            for p in positions:
                write_bytes_atomic(job.out_dir / wanted[p][1], data)
                done[wanted[p][1]] = None
        return {name: done.get(name, "frame could not be decoded") for _, name in wanted}
    except BadVideoError as exc:
        return {name: exc.reason for _, name in wanted}


@dataclass
class StageReport:
    partition_key: str
    candidates: int
    staged: int
    skipped_rows: list[dict]
    seconds: float
    manifest: Path
    skipped_pairs: list[dict] = field(default_factory=list)  # per ground-truth row: how many, and why


def skipped_pairs_by_row(candidates: list[dict]) -> list[dict]:
    """{row, pairs, skipped, reasons} for each row that lost a pair, in row order."""
    by_row: dict[int, dict] = {}
    for c in candidates:
        entry = by_row.setdefault(c["gt_row"], {"row": c["gt_row"], "pairs": 0, "skipped": 0, "reasons": {}})
        entry["pairs"] += 1
        if c["error"]:
            entry["skipped"] += 1
            kind = f"{PAST_END} its video" if PAST_END in c["error"] else c["error"]
            entry["reasons"][kind] = entry["reasons"].get(kind, 0) + 1
    return [
        {**e, "reason": "; ".join(f"{n} {k}" for k, n in e.pop("reasons").items())}
        for _, e in sorted(by_row.items())
        if e["skipped"]
    ]


def _durations(row: GtRow, layout: Layout, cache: dict) -> tuple[float, float] | str:
    """(query duration, reference duration) of a row's videos, or why the row can't be used at all."""
    found = []
    for kind, video_id in (("query", row.query_id), ("reference", row.ref_id)):
        path = layout.videos_dir(kind) / f"{video_id}.mp4"
        if not path.is_file():
            return f"{kind} video {video_id} is missing"
        if path not in cache:
            try:
                cache[path] = float(probe_video(path).duration)
            except BadVideoError as exc:
                cache[path] = exc
        if isinstance(cache[path], BadVideoError):
            return f"{kind} video {video_id} unreadable: {cache[path].reason}"
        found.append(cache[path])
    return found[0], found[1]


def _past_end(row: GtRow, qt: float, rt: float, durations: tuple[float, float]) -> str | None:
    """Why the frame of a pair can't be read: its time is at or after its video's end."""
    for kind, video_id, t, duration in (("query", row.query_id, qt, durations[0]), ("reference", row.ref_id, rt, durations[1])):
        if t >= duration:
            return f"{kind} time {t:.3f} s is {PAST_END} {video_id} ({duration:.3f} s)"
    return None


def build_pair_frames_partition(
    layout: Layout, asset: str, partition_key: str, workers: int, progress: Progress | None = None
) -> StageReport:
    started = time.perf_counter()
    first, last = parse_range_key(partition_key)
    rows, _ = parse_ground_truth(layout.ground_truth)
    rows = [r for r in rows if first <= id_number(r.query_id, "query") <= last]
    out_dir = layout.pair_frames_dir(partition_key)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)
    cache: dict = {}
    skipped, candidates = [], []
    per_video: dict[Path, list[tuple[float, str]]] = {}
    for row in rows:
        durations = _durations(row, layout, cache)
        if isinstance(durations, str):
            skipped.append({"row": row.row, "reason": durations})
            continue
        for u, qt, rt in pair_times(row):
            qf, rf = f"{row.row}_{u}_q.jpg", f"{row.row}_{u}_r.jpg"
            past = _past_end(row, qt, rt, durations)
            candidates.append({"gt_row": row.row, "u": u, "query_id": row.query_id, "ref_id": row.ref_id, "query_time": qt, "ref_time": rt, "query_file": qf, "ref_file": rf, "error": past})
            if past is None:  # only frames that exist are decoded
                per_video.setdefault(layout.videos_dir("query") / f"{row.query_id}.mp4", []).append((qt, qf))
                per_video.setdefault(layout.videos_dir("reference") / f"{row.ref_id}.mp4", []).append((rt, rf))
    errors: dict[str, str | None] = {}
    tasks = sorted(per_video.items())
    for done, result in enumerate(run_tasks(stage_video_times, StageJob(out_dir), tasks, workers), start=1):
        errors.update(result)
        if progress:
            progress(done, len(tasks))
    for c in candidates:
        c["error"] = c["error"] or errors.get(c["query_file"]) or errors.get(c["ref_file"])
    manifest = layout.manifest_path(asset, partition_key)
    write_manifest(manifest, candidates, CANDIDATE_SCHEMA)
    return StageReport(
        partition_key=partition_key,
        candidates=len(candidates),
        staged=sum(1 for c in candidates if not c["error"]),
        skipped_rows=skipped,
        skipped_pairs=skipped_pairs_by_row(candidates),
        seconds=time.perf_counter() - started,
        manifest=manifest,
    )


@dataclass
class PairReport:
    pairs: int
    rows_used: int
    skipped_rows: list[dict]
    unreadable_pairs: int
    skipped_pairs: list[dict]  # per ground-truth row that lost pairs: how many, and why
    manifest: Path  # every skipped pair and row, with its reason
    seconds: float
    table: Path
    preview: bytes | None
    checks: dict[str, CheckOutcome]


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def build_positive_pairs(layout: Layout, staging_asset: str, partition_keys: list[str], base_seed: int) -> PairReport:
    started = time.perf_counter()
    rows, rejected = parse_ground_truth(layout.ground_truth)
    candidates, keys_by_row = [], {}
    for key in partition_keys:
        manifest = layout.manifest_path(staging_asset, key)
        if manifest.is_file():
            for c in read_manifest(manifest):
                candidates.append(c)
                keys_by_row[c["gt_row"]] = key
    skipped = list(rejected)
    cache: dict = {}
    for row in rows:
        if row.row in keys_by_row:
            continue
        reason = _durations(row, layout, cache)
        if not isinstance(reason, str):
            reason = "no pair fits inside the segment" if not pair_times(row) else "its query partition is not materialized"
        skipped.append({"row": row.row, "reason": reason})
    skipped.sort(key=lambda s: s["row"])
    readable = sorted((c for c in candidates if not c["error"]), key=lambda c: (c["gt_row"], c["u"]))
    lost = sorted((c for c in candidates if c["error"]), key=lambda c: (c["gt_row"], c["u"]))
    write_manifest(
        layout.manifest_path("positive_pairs", "all"),
        [{k: c[k] for k in PAIR_KEY_FIELDS} | {"reason": c["error"]} for c in lost]
        + [{"gt_row": s["row"], "u": None, "query_id": None, "ref_id": None, "query_time": None, "ref_time": None, "reason": s["reason"]} for s in skipped],
        SKIPPED_SCHEMA,
    )
    unreadable = len(candidates) - len(readable)
    shuffled = shuffled_numbers(len(readable), base_seed)

    final = layout.pairs_dir
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{final.name}-", dir=final.parent))
    try:
        table, q_map, r_map = [], {}, {}
        for n, c in enumerate(readable):
            folder = str(int(shuffled[n]))
            qname, rname = f"{c['query_id']}.jpg", f"{c['ref_id']}.jpg"
            for sub, src, name in (("gt_query", c["query_file"], qname), ("gt_ref", c["ref_file"], rname)):
                (work / sub / folder).mkdir(parents=True)
                _link_or_copy(layout.pair_frames_dir(keys_by_row[c["gt_row"]]) / src, work / sub / folder / name)
            q_map[folder], r_map[folder] = qname, rname
            table.append({
                "pair": n, "shuffled": int(folder), "query_id": c["query_id"], "ref_id": c["ref_id"],
                "query_time": c["query_time"], "ref_time": c["ref_time"], "gt_row": c["gt_row"], "u": c["u"],
                "query_path": f"gt_query/{folder}/{qname}", "ref_path": f"gt_ref/{folder}/{rname}",
            })  # fmt: skip
        (work / "gt_query").mkdir(exist_ok=True)
        (work / "gt_ref").mkdir(exist_ok=True)
        (work / QUERY_PICKLE).write_bytes(pickle.dumps(q_map))
        (work / REF_PICKLE).write_bytes(pickle.dumps(r_map))
        write_manifest(work / PAIR_TABLE, table, PAIR_SCHEMA)
        _swap_in(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    preview = _pair_preview(final, table[:8])
    if preview:
        write_bytes_atomic(layout.preview_path("positive_pairs", "all"), preview, make_parents=True)
    return PairReport(
        pairs=len(table),
        rows_used=len({c["gt_row"] for c in readable}),
        skipped_rows=skipped,
        unreadable_pairs=unreadable,
        skipped_pairs=skipped_pairs_by_row(candidates),
        manifest=layout.manifest_path("positive_pairs", "all"),
        seconds=time.perf_counter() - started,
        table=final / PAIR_TABLE,
        preview=preview,
        checks=check_pair_layout(final),
    )


def _swap_in(work: Path, final: Path) -> None:
    """Replace ``final`` by ``work``; a reader sees the old layout or the new one."""
    old = None
    if final.exists():
        old = final.with_name(f"{TEMP_PREFIX}{final.name}-old-{os.getpid()}")
        final.rename(old)
    work.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)



def _pair_preview(final: Path, table: list[dict]) -> bytes | None:
    paths = [final / p for row in table for p in (row["query_path"], row["ref_path"])]
    captions = [f"pair {row['shuffled']}: {vid} at {t:.2f} s" for row in table
                for vid, t in ((row["query_id"], row["query_time"]), (row["ref_id"], row["ref_time"]))]  # fmt: skip
    return contact_sheet(paths, captions, columns=2) if paths else None


def check_pair_layout(final: Path) -> dict[str, CheckOutcome]:
    table = read_manifest(final / PAIR_TABLE)
    missing = [p for row in table for p in (row["query_path"], row["ref_path"]) if not (final / p).is_file()]
    q_map = pickle.loads((final / QUERY_PICKLE).read_bytes())
    r_map = pickle.loads((final / REF_PICKLE).read_bytes())
    mismatched = []
    for sub, mapping in (("gt_query", q_map), ("gt_ref", r_map)):
        folders = {p.name: sorted(f.name for f in p.iterdir()) for p in (final / sub).iterdir()}
        if set(folders) != set(mapping):
            mismatched.append(f"{sub}: {len(folders)} folders, {len(mapping)} pickle entries")
        mismatched += [f"{sub}/{k}" for k, files in folders.items() if files != [mapping.get(k)]]
    return {
        "pair_files_exist": CheckOutcome(not missing, "both files of every pair exist", {"missing": missing[:20], "missing_count": len(missing)}),
        "pickles_match_folders": CheckOutcome(not mismatched, "each pickle maps every pair folder to its one file", {"mismatched": mismatched[:20]}),
    }
