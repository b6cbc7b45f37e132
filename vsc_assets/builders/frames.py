"""One frame per second of each video, without Dagster."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from PIL import Image

from vsc_assets.builders.summary import Summary, skipped_files
from vsc_assets.builders.writer import DIGESTS_SAMPLED, CheckOutcome, CheckSpec, PartitionWriter, Progress, Target, outcomes
from vsc_assets.constants import JPEG_QUALITY
from vsc_assets.io.digests import digest_column
from vsc_assets.io.contact_sheet import Preview
from vsc_assets.io.images import encode_jpeg, jpeg_problems
from vsc_assets.layout import Layout
from vsc_assets.parallel import run_tasks
from vsc_assets.video.decode import frames_at
from vsc_assets.video.probe import BadVideoError, probe_video
from vsc_assets.video.timing import on_screen_index, one_second_times

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
NAME_DIGEST = digest_column("name")
FRAME_COUNT = CheckSpec("frame_count_matches_duration", "one frame per second k <= duration - 1 for every readable video")
FRAMES_DECODABLE = CheckSpec("frames_decodable", "every frame a decodable JPEG")
FRAME_CHECKS = (FRAME_COUNT, FRAMES_DECODABLE, DIGESTS_SAMPLED)


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


def extract_video_frames(target: Target, path: Path) -> list[dict]:
    """Write {id}_{k}.jpg for every second k of one video; all of them or none."""
    video_id = path.stem
    base = {"video_id": video_id, "k": None, "name": None, NAME_DIGEST: None, "frame_time": None, "duration": None}
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
        digest = target.write(frame_name(video_id, k), encoded[k])
        rows.append({**base, "k": k, "name": frame_name(video_id, k), NAME_DIGEST: digest, "frame_time": times[k], "duration": float(info.duration), "error": None})
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
    preview: Preview | None
    checks: dict[str, CheckOutcome]

    @property
    def summary(self) -> Summary:
        return Summary.of(self.files, "files", skipped_files(self.bad_inputs), None, self.manifest, self.seconds)

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
    return FRAME_COUNT.outcome(not wrong, wrong=wrong[:20], wrong_count=len(wrong))


def check_decodable(folder: Path, names: list[str]) -> CheckOutcome:
    bad = jpeg_problems(folder, names)
    return FRAMES_DECODABLE.outcome(not bad, bad=bad[:20], bad_count=len(bad))


def frame_preview(names: list[str]) -> list[tuple[str, str]]:
    """The first 20 frames, each captioned with its own name."""
    return [(n, n.removesuffix(".jpg")) for n in names[:20]]


def bad_videos(rows: list[dict]) -> list[dict]:
    return [{"file": f"{r['video_id']}.mp4", "reason": r["error"]} for r in rows if r["error"]]


def build_frames_partition(
    writer: PartitionWriter, videos: dict[str, Path], workers: int, progress: Progress | None = None
) -> VideoReport:
    """``videos``: the partition's videos by id."""
    started = time.perf_counter()
    target = writer.open()
    rows: list[dict] = []
    paths = list(videos.values())
    for done, video_rows in enumerate(run_tasks(extract_video_frames, target, paths, workers), start=1):
        rows.extend(video_rows)
        if progress:
            progress(done, len(paths))
    names = [r["name"] for r in rows if r["name"]]
    written = writer.finish(rows, FRAMES_SCHEMA, names, frame_preview(names))
    return VideoReport(
        asset=writer.asset,
        partition_key=writer.partition_key,
        videos=len(paths),
        files=len(names),
        seconds=time.perf_counter() - started,
        bad_inputs=bad_videos(rows),
        manifest=written.manifest,
        preview=written.preview,
        checks=outcomes(check_frame_counts(writer.folder, rows), check_decodable(writer.folder, names), written.digests),
    )
