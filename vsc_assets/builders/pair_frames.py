"""The frames of every candidate pair of one query partition, decoded by timestamp, without Dagster.

Each video is decoded once for all the times it is wanted at. The frames go
to a staging folder of the partition, numbered later, with every partition's,
by the pair table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from PIL import Image

from vsc_assets.builders.summary import Summary, skipped_rows
from vsc_assets.builders.writer import DIGESTS_SAMPLED, CheckOutcome, PartitionWriter, Progress, Target, outcomes
from vsc_assets.constants import JPEG_QUALITY
from vsc_assets.io.digests import digest_column
from vsc_assets.io.images import encode_jpeg
from vsc_assets.pairs.ground_truth import GtRow
from vsc_assets.pairs.rule import pair_times
from vsc_assets.parallel import run_tasks
from vsc_assets.video.decode import frames_at
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
CANDIDATE_FILES = ("query_file", "ref_file")  # the manifest columns that name its files
PAIR_FRAME_CHECKS = (DIGESTS_SAMPLED,)
PAST_END = "past the end of"  # how a pair whose frame lies after its video's end is reported


Outcome = tuple[str | None, str | None]  # (error, digest): one of them is None


def stage_video_times(target: Target, task: tuple[Path, list[tuple[float, str]]]) -> dict[str, Outcome]:
    """Decode the frames on screen at the given times of one video; file name -> (error, digest)."""
    path, wanted = task
    try:
        info = probe_video(path)
        times = [t for t, _ in wanted]
        done: dict[str, str] = {}
        for positions, frame in frames_at(info, times):
            data = encode_jpeg(Image.fromarray(frame), JPEG_QUALITY)
            for p in positions:
                done[wanted[p][1]] = target.write(wanted[p][1], data)
        return {name: (None, done[name]) if name in done else ("frame could not be decoded", None) for _, name in wanted}
    except BadVideoError as exc:
        return {name: (exc.reason, None) for _, name in wanted}


@dataclass
class StageReport:
    partition_key: str
    candidates: int
    staged: int
    skipped_rows: list[dict]
    seconds: float
    manifest: Path
    skipped_pairs: list[dict] = field(default_factory=list)  # per ground-truth row: how many, and why
    checks: dict[str, CheckOutcome] = field(default_factory=dict)

    @property
    def summary(self) -> Summary:
        total = len(self.skipped_rows) + sum(r["skipped"] for r in self.skipped_pairs)
        return Summary.of(self.staged, "staged_pairs", skipped_rows(self.skipped_rows, self.skipped_pairs), total, self.manifest, self.seconds)


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


def video_path(folders: dict[str, Path], kind: str, video_id: str) -> Path:
    """``folders``: the query and reference video folders, by kind."""
    return folders[kind] / f"{video_id}.mp4"


def row_durations(row: GtRow, folders: dict[str, Path], cache: dict) -> tuple[float, float] | str:
    """(query duration, reference duration) of a row's videos, or why the row can't be used at all."""
    found = []
    for kind, video_id in (("query", row.query_id), ("reference", row.ref_id)):
        path = video_path(folders, kind, video_id)
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
    writer: PartitionWriter,
    rows: list[GtRow],
    folders: dict[str, Path],
    workers: int,
    progress: Progress | None = None,
) -> StageReport:
    """``rows``: the ground-truth rows whose query is in this partition; ``folders``: the video folders by kind."""
    started = time.perf_counter()
    target = writer.open()
    cache: dict = {}
    skipped, candidates = [], []
    per_video: dict[Path, list[tuple[float, str]]] = {}
    for row in rows:
        durations = row_durations(row, folders, cache)
        if isinstance(durations, str):
            skipped.append({"row": row.row, "reason": durations})
            continue
        for u, qt, rt in pair_times(row):
            qf, rf = f"{row.row}_{u}_q.jpg", f"{row.row}_{u}_r.jpg"
            past = _past_end(row, qt, rt, durations)
            candidates.append({"gt_row": row.row, "u": u, "query_id": row.query_id, "ref_id": row.ref_id, "query_time": qt, "ref_time": rt, "query_file": qf, "ref_file": rf, "error": past})
            if past is None:  # only frames that exist are decoded
                per_video.setdefault(video_path(folders, "query", row.query_id), []).append((qt, qf))
                per_video.setdefault(video_path(folders, "reference", row.ref_id), []).append((rt, rf))
    staged_files: dict[str, Outcome] = {}
    tasks = sorted(per_video.items())
    for done, result in enumerate(run_tasks(stage_video_times, target, tasks, workers), start=1):
        staged_files.update(result)
        if progress:
            progress(done, len(tasks))
    for c in candidates:
        query, ref = staged_files.get(c["query_file"], (None, None)), staged_files.get(c["ref_file"], (None, None))
        c["error"] = c["error"] or query[0] or ref[0]
        c[digest_column("query_file")], c[digest_column("ref_file")] = (None, None) if c["error"] else (query[1], ref[1])
    staged = [c for c in candidates if not c["error"]]
    written = writer.finish(candidates, CANDIDATE_SCHEMA, (name for name, (error, _) in staged_files.items() if error is None))
    return StageReport(
        partition_key=writer.partition_key,
        candidates=len(candidates),
        staged=len(staged),
        skipped_rows=skipped,
        skipped_pairs=skipped_pairs_by_row(candidates),
        seconds=time.perf_counter() - started,
        manifest=written.manifest,
        checks=outcomes(written.digests),
    )
