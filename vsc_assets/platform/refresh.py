"""What changed under the root since the last look: fingerprints per partition, without Dagster.

A partition's fingerprint covers exactly the inputs its outputs depend on, so
a new image, a replaced video or an edited ground-truth row changes only the
fingerprints of the partitions that read it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from vsc_assets.build.chunks import keys_to_add, parse_range_key
from vsc_assets.constants import DISC21_SETS, REFERENCE_SET, SOURCE_STRIDE
from vsc_assets.layout import Layout
from vsc_assets.pairs.ground_truth import GtRow, parse_ground_truth
from vsc_assets.platform.inputs import disc21_listing, source_count, videos
from vsc_assets.video.ids import id_number

# The assets each partitions definition refreshes, and the fingerprint each depends on.
GROUPS = {
    "disc21_sources": {"disc21": list(DISC21_SETS)},
    "reference_videos": {"reference": ["reference_frames", "training_images_ref1", REFERENCE_SET]},
    "query_videos": {"query": ["query_frames"], "pairs": ["pair_frames"]},
}


def _stat_digest(paths, extra: str = "") -> str:
    """Name, size and mtime of each file (one stat each): what changes when a file is replaced."""
    h = hashlib.blake2b(digest_size=16)
    for name, path in sorted((os.path.basename(p), p) for p in map(os.fspath, paths)):
        try:
            st = os.stat(path)
            h.update(f"{name}\x1f{st.st_size}\x1f{st.st_mtime_ns}\n".encode())
        except FileNotFoundError:
            h.update(f"{name}\x1fmissing\n".encode())
    h.update(extra.encode())
    return h.hexdigest()


@dataclass
class Snapshot:
    ids: dict[str, range | list[int]]  # partitions definition -> ids present
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

    ``registered`` and ``per_partition`` are keyed by partitions definition name. The
    names come from the input index; only each partition's own sources are stat'ed.
    """
    images = disc21_listing(layout)
    found = {kind: videos(layout, kind) for kind in ("query", "reference")}
    ids = {
        "disc21_sources": range(source_count(images)),
        "query_videos": found["query"].numbers,
        "reference_videos": found["reference"].numbers,
    }
    added = {pdef: keys_to_add(ids[pdef], registered.get(pdef, []), per_partition[pdef]) for pdef in ids}
    keys = {pdef: registered.get(pdef, []) + added[pdef] for pdef in ids}
    fps: dict[str, dict[str, str]] = {"disc21_sources/disc21": {}, "reference_videos/reference": {}, "query_videos/query": {}, "query_videos/pairs": {}}
    folder = os.fspath(images.folder)
    for key in keys["disc21_sources"]:
        first, last = parse_range_key(key)
        names = images.names(first * SOURCE_STRIDE, (last + 1) * SOURCE_STRIDE, SOURCE_STRIDE)
        fps["disc21_sources/disc21"][key] = _stat_digest(os.path.join(folder, n) for n in names)
    for key in keys["reference_videos"]:
        fps["reference_videos/reference"][key] = _stat_digest(list(found["reference"].in_key(key).values()))
    references = found["reference"].paths()
    rows = [(id_number(r.query_id, "query"), r) for r in _gt_rows(layout)]
    for key in keys["query_videos"]:
        first, last = parse_range_key(key)
        mine = list(found["query"].in_range(first, last).values())
        fps["query_videos/query"][key] = _stat_digest(mine)
        my_rows = [r for n, r in rows if first <= n <= last]
        refs = [references.get(r.ref_id, layout.videos_dir("reference") / f"{r.ref_id}.mp4") for r in my_rows]
        fps["query_videos/pairs"][key] = _stat_digest(mine + refs, repr(my_rows))
    fps = {name: digests for name, digests in fps.items() if digests}
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
