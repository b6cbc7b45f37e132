"""The middle second's frame of each reference video (docs/recipe.md, artifact 4), without Dagster."""

from __future__ import annotations

import time
from pathlib import Path

from vsc_assets.builders.frames import FRAMES_SCHEMA, NAME_DIGEST, VideoReport, bad_videos, frame_preview
from vsc_assets.builders.writer import DIGESTS_SAMPLED, CheckOutcome, CheckSpec, PartitionWriter, outcomes
from vsc_assets.video.timing import middle_second

SELECTED_FRAME = CheckSpec("selected_frame_exists", "exactly one selected frame per readable reference video")
SELECTED_CHECKS = (SELECTED_FRAME, DIGESTS_SAMPLED)


def build_selected_partition(writer: PartitionWriter, frame_rows: list[dict], frames_dir: Path) -> VideoReport:
    """Copy the middle second's frame of each video; ``frame_rows`` is the frames partition's manifest."""
    started = time.perf_counter()
    target = writer.open()
    by_video: dict[str, list[dict]] = {}
    rows = [r for r in frame_rows if r["error"]]
    for r in frame_rows:
        if not r["error"]:
            by_video.setdefault(r["video_id"], []).append(r)
    for _, video_rows in sorted(by_video.items()):
        k = middle_second(sorted(r["k"] for r in video_rows))
        chosen = next(r for r in video_rows if r["k"] == k)
        digest = target.write(chosen["name"], (frames_dir / chosen["name"]).read_bytes())
        rows.append({**chosen, NAME_DIGEST: digest})
    names = [r["name"] for r in rows if r["name"]]
    written = writer.finish(rows, FRAMES_SCHEMA, names, frame_preview(names))
    return VideoReport(
        asset=writer.asset,
        partition_key=writer.partition_key,
        videos=len(by_video) + len([r for r in rows if r["error"]]),
        files=len(names),
        seconds=time.perf_counter() - started,
        bad_inputs=bad_videos(rows),
        manifest=written.manifest,
        preview=written.preview,
        checks={**check_selected(writer.folder, rows, frame_rows), **outcomes(written.digests)},
    )


def check_selected(folder: Path, rows: list[dict], frame_rows: list[dict]) -> dict[str, CheckOutcome]:
    """Each readable video's chosen frame is there, and no other second of it is."""
    names = [r["name"] for r in rows if r["name"]]
    missing = [n for n in names if not (folder / n).is_file()]
    # Any other second of the video in the selected folder: one stat per frame the video has.
    chosen = set(names)
    extra = sorted({r["video_id"] for r in frame_rows if r["name"] and r["name"] not in chosen and (folder / r["name"]).exists()})
    return {SELECTED_FRAME.name: SELECTED_FRAME.outcome(not missing and not extra, missing=missing[:20], not_exactly_one=extra[:20])}
