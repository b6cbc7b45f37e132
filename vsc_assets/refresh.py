"""What changed under the root since the last look: fingerprints per partition, without Dagster.

A partition's fingerprint covers exactly the inputs its outputs depend on, so
a new image, a replaced video or an edited ground-truth row changes only the
fingerprints of the partitions that read it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from vsc_assets.chunks import keys_to_add, parse_range_key
from vsc_assets.constants import DISC21_SETS, REFERENCE_SET, SOURCE_STRIDE
from vsc_assets.io.images import list_images
from vsc_assets.layout import Layout
from vsc_assets.pairs.ground_truth import GtRow, parse_ground_truth
from vsc_assets.video.ids import id_number, list_videos

# The assets each partitions definition refreshes, and the fingerprint each depends on.
GROUPS = {
    "disc21_sources": {"disc21": list(DISC21_SETS)},
    "reference_videos": {"reference": ["reference_frames", "training_images_ref1", REFERENCE_SET]},
    "query_videos": {"query": ["query_frames"], "pairs": ["pair_frames"]},
}


def _stat_digest(paths: list[Path], extra: str = "") -> str:
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(paths):
        try:
            st = os.stat(path)
            h.update(f"{path.name}\x1f{st.st_size}\x1f{st.st_mtime_ns}\n".encode())
        except FileNotFoundError:
            h.update(f"{path.name}\x1fmissing\n".encode())
    h.update(extra.encode())
    return h.hexdigest()


@dataclass
class Snapshot:
    ids: dict[str, list[int]]  # partitions definition -> ids present
    fingerprints: dict[str, dict[str, str]]  # "<pdef>/<group>" -> key -> digest
    ground_truth: str


def _gt_rows(layout: Layout) -> list[GtRow]:
    if not layout.ground_truth.is_file():
        return []
    rows, _ = parse_ground_truth(layout.ground_truth)
    return rows


def take_snapshot(
    layout: Layout, registered: dict[str, list[str]], per_partition: dict[str, int]
) -> tuple[Snapshot, dict[str, list[str]]]:
    """Fingerprints of every key, registered or needed for new ids; and the new keys.

    ``registered`` and ``per_partition`` are keyed by partitions definition name.
    """
    images = list_images(layout.disc21_dir)
    videos = {kind: list_videos(layout.videos_dir(kind), kind)[0] for kind in ("query", "reference")}
    ids = {
        "disc21_sources": list(range(len(images[::SOURCE_STRIDE]))),
        "query_videos": [id_number(v, "query") for v in videos["query"]],
        "reference_videos": [id_number(v, "reference") for v in videos["reference"]],
    }
    added = {pdef: keys_to_add(ids[pdef], registered.get(pdef, []), per_partition[pdef]) for pdef in ids}
    keys = {pdef: registered.get(pdef, []) + added[pdef] for pdef in ids}
    rows = _gt_rows(layout)
    fps: dict[str, dict[str, str]] = {}
    for key in keys.get("disc21_sources", []):
        first, last = parse_range_key(key)
        fps.setdefault("disc21_sources/disc21", {})[key] = _stat_digest(
            images[first * SOURCE_STRIDE : (last + 1) * SOURCE_STRIDE : SOURCE_STRIDE]
        )
    for key in keys.get("reference_videos", []):
        first, last = parse_range_key(key)
        mine = [p for v, p in videos["reference"].items() if first <= id_number(v, "reference") <= last]
        fps.setdefault("reference_videos/reference", {})[key] = _stat_digest(mine)
    for key in keys.get("query_videos", []):
        first, last = parse_range_key(key)
        mine = {v: p for v, p in videos["query"].items() if first <= id_number(v, "query") <= last}
        fps.setdefault("query_videos/query", {})[key] = _stat_digest(list(mine.values()))
        my_rows = [r for r in rows if first <= id_number(r.query_id, "query") <= last]
        refs = [videos["reference"].get(r.ref_id, layout.videos_dir("reference") / f"{r.ref_id}.mp4") for r in my_rows]
        fps.setdefault("query_videos/pairs", {})[key] = _stat_digest(list(mine.values()) + refs, repr(my_rows))
    gt = hashlib.blake2b(layout.ground_truth.read_bytes(), digest_size=16).hexdigest() if layout.ground_truth.is_file() else ""
    return Snapshot(ids=ids, fingerprints=fps, ground_truth=gt), added


def changed(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> dict[tuple[str, str], list[str]]:
    """(partitions definition, key) -> the assets whose inputs changed since ``before``."""
    out: dict[tuple[str, str], list[str]] = {}
    for name, digests in after.items():
        pdef, group = name.split("/")
        for key, digest in digests.items():
            if before.get(name, {}).get(key) != digest:
                out.setdefault((pdef, key), []).extend(GROUPS[pdef][group])
    return out
