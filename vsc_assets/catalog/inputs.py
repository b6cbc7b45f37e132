"""What each partition reads: a slice of the input index or an upstream manifest, never a folder listing."""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc

from vsc_assets.augment.generate import Source
from vsc_assets.augment.materials import FolderPool, Materials, list_materials
from vsc_assets.catalog.index import Listing, refresh
from vsc_assets.constants import REFERENCE_ID_BASE, SOURCE_STRIDE
from vsc_assets.errors import not_materialized
from vsc_assets.io.images import IMAGE_SUFFIXES, list_images
from vsc_assets.io.manifest import read_manifest
from vsc_assets.keys import IdRange
from vsc_assets.layout import Layout
from vsc_assets.pairs.ground_truth import GtRow, parse_ground_truth
from vsc_assets.video.ids import id_number


class Need(enum.Enum):
    """An input of the root that an artifact needs: what the default selection looks for and
    the preflight checks, and (for a partitioned artifact) what its partition's fingerprint covers."""

    DISC21_IMAGES = "DISC21 images"
    MATERIALS = "overlay pool, fonts and emoji"
    REFERENCE_VIDEOS = "reference videos"
    QUERY_VIDEOS = "query videos"
    GROUND_TRUTH = "ground truth"


def _is_image(name: str) -> bool:
    dot = name.rfind(".")  # as Path(name).suffix, without a path object per file of a million
    return dot > 0 and name[dot:].lower() in IMAGE_SUFFIXES


def _not_hidden(name: str) -> bool:
    return not name.startswith(".")


# ------------------------------------------------------------------ DISC21 images and the materials


def disc21_listing(layout: Layout) -> Listing:
    return refresh(layout.disc21_dir, layout.index_path("disc21_images"), _is_image)


def source_count(listing: Listing) -> int:
    """Every 10th image of the sorted list is a source."""
    return -(-len(listing) // SOURCE_STRIDE)


def disc21_sources_in(listing: Listing, ids: IdRange) -> list[Source]:
    """The sources of a range of pids: positions first*10, (first+1)*10, ... of the sorted names; pid = position // 10."""
    paths = listing.paths(ids.first * SOURCE_STRIDE, (ids.last + 1) * SOURCE_STRIDE, SOURCE_STRIDE)
    return [Source(path, ids.first + i) for i, path in enumerate(paths)]


def sources_in_folder(folder: Path) -> list[Source]:
    """Every 10th image of a folder, listed directly: for small folders (benchmarks, tests)."""
    images = list_images(folder)
    return [Source(path, i // SOURCE_STRIDE) for i, path in enumerate(images) if i % SOURCE_STRIDE == 0]


def overlay_pool(layout: Layout, listing: Listing | None = None) -> FolderPool:
    """The overlay pool: data/training_images_9/ if present, else the DISC21 images whose name ends in 9."""
    if layout.pool_dir.is_dir():
        pool = refresh(layout.pool_dir, layout.index_path("pool_images"), _is_image)
        return FolderPool(pool.folder, tuple(pool.names()))
    listing = listing or disc21_listing(layout)
    names = listing.table.column("name")
    ends_in_9 = pc.match_substring_regex(names, r"9\.[^.]*$")  # the stem's last character, for a million names at once
    return FolderPool(listing.folder, tuple(names.filter(ends_in_9).to_pylist()))


def disc21_materials(layout: Layout, listing: Listing | None = None) -> Materials:
    """The overlay pool, fonts and emoji every augmented set draws from."""
    return list_materials(
        layout.pool_dir, layout.disc21_dir, layout.fonts_dir, layout.emoji_dir,
        pool=overlay_pool(layout, listing), squared_pool_dir=layout.squared_pool_dir,
    )  # fmt: skip


# ------------------------------------------------------------------ videos


@dataclass(frozen=True)
class Videos:
    """The well-named videos of one kind, in id-number order, and the files skipped with the reason."""

    kind: str
    folder: Path
    ids: list[str]
    numbers: list[int]  # ascending, one per id
    names: list[str]  # the file of each id
    skipped: list[dict]

    def in_range(self, ids: IdRange) -> dict[str, Path]:
        lo, hi = bisect.bisect_left(self.numbers, ids.first), bisect.bisect_right(self.numbers, ids.last)
        return {v: self.folder / n for v, n in zip(self.ids[lo:hi], self.names[lo:hi])}

    def paths(self) -> dict[str, Path]:
        return self.in_range(IdRange(self.numbers[0], self.numbers[-1])) if self.numbers else {}


def videos(layout: Layout, kind: str) -> Videos:
    """One id check per file per look at the index (not per id per partition key)."""
    folder = layout.videos_dir(kind)
    listing = refresh(folder, layout.index_path(f"{kind}_videos"), _not_hidden)
    numbered, skipped = [], []
    for name in listing.names():
        if not name.lower().endswith(".mp4"):
            skipped.append({"file": name, "reason": "not an .mp4 file"})
            continue
        video_id = name[:-4]
        try:
            numbered.append((id_number(video_id, kind), video_id, name))
        except ValueError as exc:
            skipped.append({"file": name, "reason": str(exc)})
    numbered.sort()
    return Videos(kind, folder, [v for _, v, _ in numbered], [n for n, _, _ in numbered], [f for _, _, f in numbered], skipped)


def video_folders(layout: Layout) -> dict[str, Path]:
    return {kind: layout.videos_dir(kind) for kind in ("query", "reference")}


# ------------------------------------------------------------------ ground truth


def ground_truth(layout: Layout) -> tuple[list[GtRow], list[dict]]:
    return parse_ground_truth(layout.ground_truth)


def ground_truth_for_queries(layout: Layout, ids: IdRange) -> list[GtRow]:
    """The well-formed rows whose query id number is in ``ids``."""
    rows, _ = ground_truth(layout)
    return [r for r in rows if id_number(r.query_id, "query") in ids]


# ------------------------------------------------------------------ upstream partitions


def upstream_rows(layout: Layout, asset: str, partition_key: str) -> list[dict]:
    """The manifest of a partition this step reads; it must have been materialized."""
    manifest = layout.manifest_path(asset, partition_key)
    if not manifest.is_file():
        raise not_materialized(manifest, asset, partition_key)
    return read_manifest(manifest)


def reference_sources(rows: list[dict], folder: Path) -> list[Source]:
    """The selected frames of a reference partition as sources; pid = reference id number - 100000."""
    chosen = [r for r in rows if r["name"]]
    return [
        Source(folder / r["name"], id_number(r["video_id"], "reference") - REFERENCE_ID_BASE)
        for r in sorted(chosen, key=lambda r: r["video_id"])
    ]
