"""What each partition reads, taken from the input index: a slice, never a folder listing."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc

from vsc_assets.augment.assets_pool import AugmentAssets, FolderPool, list_assets
from vsc_assets.augment.generate import Source
from vsc_assets.build.chunks import parse_range_key
from vsc_assets.constants import SOURCE_STRIDE
from vsc_assets.io.images import IMAGE_SUFFIXES
from vsc_assets.layout import Layout
from vsc_assets.platform.index import Listing, refresh
from vsc_assets.video.ids import id_number


def _is_image(name: str) -> bool:
    dot = name.rfind(".")  # as Path(name).suffix, without a path object per file of a million
    return dot > 0 and name[dot:].lower() in IMAGE_SUFFIXES


def _not_hidden(name: str) -> bool:
    return not name.startswith(".")


def disc21_listing(layout: Layout) -> Listing:
    return refresh(layout.disc21_dir, layout.index_path("disc21_images"), _is_image)


def source_count(listing: Listing) -> int:
    """Every 10th image of the sorted list is a source."""
    return -(-len(listing) // SOURCE_STRIDE)


def disc21_sources_in(listing: Listing, key: str) -> list[Source]:
    """The sources of a partition key: positions first*10, (first+1)*10, ... of the sorted names; pid = position // 10."""
    first, last = parse_range_key(key)
    paths = listing.paths(first * SOURCE_STRIDE, (last + 1) * SOURCE_STRIDE, SOURCE_STRIDE)
    return [Source(path, first + i) for i, path in enumerate(paths)]


def overlay_pool(layout: Layout, listing: Listing | None = None) -> FolderPool:
    """The overlay pool: data/training_images_9/ if present, else the DISC21 images whose name ends in 9."""
    if layout.pool_dir.is_dir():
        pool = refresh(layout.pool_dir, layout.index_path("pool_images"), _is_image)
        return FolderPool(pool.folder, tuple(pool.names()))
    listing = listing or disc21_listing(layout)
    names = listing.table.column("name")
    ends_in_9 = pc.match_substring_regex(names, r"9\.[^.]*$")  # the stem's last character, for a million names at once
    return FolderPool(listing.folder, tuple(names.filter(ends_in_9).to_pylist()))


def disc21_assets(layout: Layout, listing: Listing | None = None) -> AugmentAssets:
    return list_assets(layout.pool_dir, layout.disc21_dir, layout.fonts_dir, layout.emoji_dir, pool=overlay_pool(layout, listing))


def disc21_inputs(layout: Layout, key: str) -> dict:
    """What a DISC21 partition run reads: its sources and the overlay pool, fonts and emoji."""
    listing = disc21_listing(layout)
    return {"sources": disc21_sources_in(listing, key), "assets": disc21_assets(layout, listing)}


@dataclass(frozen=True)
class Videos:
    """The well-named videos of one kind, in id-number order, and the files skipped with the reason."""

    kind: str
    folder: Path
    ids: list[str]
    numbers: list[int]  # ascending, one per id
    names: list[str]  # the file of each id
    skipped: list[dict]

    def in_range(self, first: int, last: int) -> dict[str, Path]:
        lo, hi = bisect.bisect_left(self.numbers, first), bisect.bisect_right(self.numbers, last)
        return {v: self.folder / n for v, n in zip(self.ids[lo:hi], self.names[lo:hi])}

    def paths(self) -> dict[str, Path]:
        return self.in_range(self.numbers[0], self.numbers[-1]) if self.numbers else {}

    def in_key(self, key: str) -> dict[str, Path]:
        return self.in_range(*parse_range_key(key))


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

