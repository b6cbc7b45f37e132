"""How many ids a new partition key covers: chosen once, when a root's first keys are made, and kept with the root.

Without this, a root whose first keys were made with 50 sources each would get
its later keys at the platform default (500) as soon as new data arrived
through the sensor or a plain `register`: one key naming 400 sources that
holds 6. The size asked for on the command line still wins, for that call.
"""

from __future__ import annotations

import json
from typing import Mapping

from vsc_assets.catalog.artifacts import CATALOG, Catalog, Partitioning
from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.keys import IdRange, keys_to_add
from vsc_assets.layout import Layout

Asked = Mapping[str, int | None]  # a partitioning's unit ("sources", "videos") -> ids per new key; None or 0: the root's


def recorded_sizes(layout: Layout) -> dict[str, int]:
    """partitioning name -> the size its first keys were made with; {} for a root that has none yet."""
    path = layout.partition_sizes_path
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return {str(k): int(v) for k, v in data.items() if int(v) > 0}
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a JSON object of partition sizes ({exc}); fix or delete it") from None


def _inferred(keys: list[str]) -> int | None:
    """A root made before sizes were kept: its widest key is the size its keys were made with."""
    widths = [r.last - r.first + 1 for r in map(IdRange.parse, keys)]
    return max(widths) if widths else None


def new_keys(
    layout: Layout, registered: Mapping[str, list[str]], asked: Asked | None = None, catalog: Catalog = CATALOG
) -> dict[str, list[str]]:
    """partitioning name -> the keys that cover its ids not yet covered by ``registered``. Keys are sized by
    ``asked``, else the root's kept size, else its existing keys, else the partitioning's default; a
    partitioning's size is kept with the root when its first keys are made (or first seen)."""
    asked = asked or {}
    kept = recorded_sizes(layout)
    added: dict[str, list[str]] = {}
    for partitioning in catalog.partitionings:
        existing = list(registered.get(partitioning.name, []))
        size = _size(partitioning, kept, existing, asked.get(partitioning.unit))
        added[partitioning.name] = keys_to_add(partitioning.ids(layout), existing, size)
        if partitioning.name not in kept and (existing or added[partitioning.name]):
            kept[partitioning.name] = _inferred(existing) or size
            write_bytes_atomic(layout.partition_sizes_path, json.dumps(kept, indent=1, sort_keys=True).encode(), make_parents=True)
    return added


def _size(partitioning: Partitioning, kept: dict[str, int], existing: list[str], asked: int | None) -> int:
    if asked:
        return asked
    return kept.get(partitioning.name) or _inferred(existing) or partitioning.default_size
