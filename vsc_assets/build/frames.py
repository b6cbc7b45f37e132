"""One frame per second of each video, and the middle one of each reference video, without Dagster."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from PIL import Image

from vsc_assets.build.outputs import CheckOutcome, Progress, names_listed, prune_unlisted, release_staging, staging_for
from vsc_assets.build.parallel import run_tasks
from vsc_assets.constants import JPEG_QUALITY
from vsc_assets.errors import not_materialized
from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.io.contact_sheet import contact_sheet
from vsc_assets.io.images import encode_jpeg, jpeg_problems
from vsc_assets.io.manifest import read_manifest, write_manifest
from vsc_assets.layout import Layout
from vsc_assets.video.decode import frames_at
from vsc_assets.video.probe import BadVideoError, probe_video
from vsc_assets.video.timing import middle_second, on_screen_index, one_second_times

FRAMES_SCHEMA = pa.schema(
    [
        ("video_id", pa.string()),
        ("k", pa.int64()),
        ("name", pa.string()),
        ("frame_time", pa.float64()),
        ("duration", pa.float64()),
        ("error", pa.string()),
    ]
)


def frame_name(video_id: str, k: int) -> str:
    return f"{video_id}_{k}.jpg"


def adopt_old_frame_folders(layout: Layout) -> list[str]:
    """Move frames written under the earlier folder names to the published ones; say what moved.

    Nothing is decoded again: a folder is renamed whole, or, when both exist,
    each file missing from the new folder is moved in (a rename each).
    Safe to run from concurrent partition runs.
    """
    notes = []
    for kind in ("query", "reference"):
        old, new = layout.old_frames_dir(kind), layout.frames_dir(kind)
        if not old.is_dir():
            continue
        try:
            old.rename(new)  # atomic; fails if new exists and is not empty
            notes.append(f"adopted {old} as {new} (the published folder name); no frame recomputed")
            continue
        except OSError:
            pass
        moved = 0
        for entry in os.scandir(old):
            if not entry.name.endswith(".jpg"):
                continue
            target = new / entry.name
            try:
                if target.exists():  # the new folder has its own copy already
                    os.unlink(entry.path)
                else:
                    os.rename(entry.path, target)
                    moved += 1
            except FileNotFoundError:
                continue  # another run moved it first
        try:
            old.rmdir()
        except OSError:
            pass
        notes.append(f"moved {moved} frames from {old} into {new} (the published folder name); no frame recomputed")
    return notes


@dataclass(frozen=True)
class FrameJob:
    out_dir: Path
    temp_dir: Path | None = None


def extract_video_frames(job: FrameJob, path: Path) -> list[dict]:
    """Write {id}_{k}.jpg for every second k of one video; all of them or none."""
    video_id = path.stem
    base = {"video_id": video_id, "k": None, "name": None, "frame_time": None, "duration": None}
    try:
        info = probe_video(path)
        seconds = one_second_times(info.duration)
        if not seconds:
            raise BadVideoError(path, f"shorter than 1 s ({float(info.duration):.3f} s)")
        encoded: dict[int, bytes] = {}
        times: dict[int, float] = {}
        frame_times = list(info.frame_times)
        for positions, frame in frames_at(info, seconds):
            data = encode_jpeg(Image.fromarray(frame), JPEG_QUALITY)
            for p in positions:
                encoded[seconds[p]] = data
                times[seconds[p]] = float(frame_times[on_screen_index(frame_times, seconds[p])])
        if len(encoded) != len(seconds):
            raise BadVideoError(path, f"decoded {len(encoded)} of {len(seconds)} one-second frames")
    except BadVideoError as exc:
        return [{**base, "error": exc.reason}]
    rows = []
    for k in seconds:
        write_bytes_atomic(job.out_dir / frame_name(video_id, k), encoded[k], temp_dir=job.temp_dir)
        rows.append({**base, "k": k, "name": frame_name(video_id, k), "frame_time": times[k], "duration": float(info.duration), "error": None})
    return rows


@dataclass
class VideoReport:
    asset: str
    partition_key: str
    videos: int
    files: int
    seconds: float
    bad_inputs: list[dict]
    manifest: Path
    preview: bytes | None
    checks: dict[str, CheckOutcome]
    notes: list[str] = field(default_factory=list)  # e.g. an old-layout folder adopted

    @property
    def per_second(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0


def check_frame_counts(folder: Path, rows: list[dict]) -> CheckOutcome:
    """Each readable video has exactly its seconds 0..K-1 on disk, K from its duration.

    One stat per expected frame and one for second K: the shared frames folder is never listed.
    """
    wrong = []
    durations = {r["video_id"]: r["duration"] for r in rows if not r["error"]}
    for video_id, duration in durations.items():
        expected = one_second_times(duration)
        missing = [k for k in expected if not (folder / frame_name(video_id, k)).is_file()]
        beyond = (folder / frame_name(video_id, len(expected))).exists()
        if missing or beyond:
            wrong.append(f"{video_id}: {len(missing)} of {len(expected)} frames missing" + (f", second {len(expected)} present" if beyond else ""))
    return CheckOutcome(not wrong, "one frame per second k <= duration - 1 for each video", {"wrong": wrong[:20], "wrong_count": len(wrong)})


def check_decodable(folder: Path, names: list[str]) -> CheckOutcome:
    bad = jpeg_problems(folder, names)
    return CheckOutcome(not bad, "every file a decodable JPEG", {"bad": bad[:20], "bad_count": len(bad)})


def _save_preview(layout: Layout, asset: str, partition_key: str, folder: Path, names: list[str]) -> bytes | None:
    if not names:
        return None
    preview = contact_sheet([folder / n for n in names[:20]], [n.removesuffix(".jpg") for n in names[:20]])
    write_bytes_atomic(layout.preview_path(asset, partition_key), preview, make_parents=True)
    return preview


def build_frames_partition(
    layout: Layout,
    kind: str,
    asset: str,
    partition_key: str,
    workers: int,
    videos: dict[str, Path],
    progress: Progress | None = None,
) -> VideoReport:
    """``videos``: the partition's videos by id, from the platform's input index."""
    started = time.perf_counter()
    notes = adopt_old_frame_folders(layout)
    out_dir = layout.frames_dir(kind)
    out_dir.mkdir(parents=True, exist_ok=True)
    job = FrameJob(out_dir, staging_for(layout, asset, partition_key, out_dir))
    rows: list[dict] = []
    paths = list(videos.values())
    for done, video_rows in enumerate(run_tasks(extract_video_frames, job, paths, workers), start=1):
        rows.extend(video_rows)
        if progress:
            progress(done, len(paths))
    release_staging(job.temp_dir)
    manifest = layout.manifest_path(asset, partition_key)
    prune_unlisted(out_dir, names_listed(manifest), rows)
    write_manifest(manifest, rows, FRAMES_SCHEMA)
    names = [r["name"] for r in rows if r["name"]]
    preview = _save_preview(layout, asset, partition_key, out_dir, names)
    return VideoReport(
        asset=asset,
        partition_key=partition_key,
        videos=len(paths),
        files=len(names),
        seconds=time.perf_counter() - started,
        bad_inputs=[{"file": f"{r['video_id']}.mp4", "reason": r["error"]} for r in rows if r["error"]],
        manifest=manifest,
        preview=preview,
        checks={"frame_count_matches_duration": check_frame_counts(out_dir, rows), "frames_decodable": check_decodable(out_dir, names)},
        notes=notes,
    )


def build_selected_partition(layout: Layout, asset: str, frames_asset: str, partition_key: str) -> VideoReport:
    """Copy the middle second's frame of each reference video to training_images_ref1."""
    started = time.perf_counter()
    manifest_in = layout.manifest_path(frames_asset, partition_key)
    if not manifest_in.is_file():
        raise not_materialized(manifest_in, frames_asset, partition_key)
    frame_rows = read_manifest(manifest_in)
    notes = adopt_old_frame_folders(layout)
    src_dir, out_dir = layout.frames_dir("reference"), layout.selected_frames_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    temp_dir = staging_for(layout, asset, partition_key, out_dir)
    by_video: dict[str, list[dict]] = {}
    rows = [r for r in frame_rows if r["error"]]
    for r in frame_rows:
        if not r["error"]:
            by_video.setdefault(r["video_id"], []).append(r)
    for _, video_rows in sorted(by_video.items()):
        k = middle_second(sorted(r["k"] for r in video_rows))
        chosen = next(r for r in video_rows if r["k"] == k)
        write_bytes_atomic(out_dir / chosen["name"], (src_dir / chosen["name"]).read_bytes(), temp_dir=temp_dir)
        rows.append(chosen)
    release_staging(temp_dir)
    manifest = layout.manifest_path(asset, partition_key)
    prune_unlisted(out_dir, names_listed(manifest), rows)
    write_manifest(manifest, rows, FRAMES_SCHEMA)
    names = [r["name"] for r in rows if r["name"]]
    missing = [n for n in names if not (out_dir / n).is_file()]
    # Any other second of the video in the selected folder: one stat per frame the video has.
    chosen_names = set(names)
    extra = sorted({r["video_id"] for r in frame_rows if r["name"] and r["name"] not in chosen_names and (out_dir / r["name"]).exists()})
    preview = _save_preview(layout, asset, partition_key, out_dir, names)
    return VideoReport(
        asset=asset,
        partition_key=partition_key,
        videos=len(by_video) + len([r for r in rows if r["error"]]),
        files=len(names),
        seconds=time.perf_counter() - started,
        bad_inputs=[{"file": f"{r['video_id']}.mp4", "reason": r["error"]} for r in rows if r["error"]],
        manifest=manifest,
        preview=preview,
        checks={
            "selected_frame_exists": CheckOutcome(
                not missing and not extra,
                "exactly one selected frame per readable reference video",
                {"missing": missing[:20], "not_exactly_one": extra[:20]},
            )
        },
        notes=notes,
    )
