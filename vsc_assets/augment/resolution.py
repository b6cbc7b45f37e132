"""Which image a chain may start from, without changing what it produces.

The recipe runs every chain on the full-resolution source (docs/recipe.md).
A chain's output is the same picture from a smaller start only while every
family before its first resize to 256 commutes with downscaling: flips,
colour and channel changes, and geometry or overlays measured in fractions of
the image. Families whose effect is measured in pixels (a blur radius, JPEG
blocks, noise grain, a caption height in px) must see the full resolution, so
a chain that meets one of them before the image is 256x256 starts at full size.

Starting smaller is also bounded by the first resize itself: the start image
is the source reduced by an integer factor (Pillow's box ``reduce``), chosen so
that the resize that follows still shrinks by at least ``MIN_GAP``. That is
Pillow's own ``reducing_gap`` optimisation of a resize, moved to before the
scale-free families. The fidelity benchmark measures that it cannot be told
apart from the recipe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PIL import Image

from vsc_assets.augment.families import FAMILIES
from vsc_assets.constants import OUTPUT_SIZE

# The smallest shrink the first resize to 256 must still make after the reduction.
MIN_GAP = 1.0


def first_resize_extent(ops: list[dict], size: tuple[int, int], pool_size) -> float | None:
    """Pixels of the start image per output pixel at the chain's first resize to 256.

    None when a family that depends on resolution comes before that resize:
    then the chain must start from the full-resolution source. ``pool_size``
    gives a pool image's (width, height) by name.
    """
    w, h = size
    for op in ops:
        family, params = FAMILIES[op["name"]], op["params"]
        if not family.commutes_with_downscale(params):
            return None
        if family.ends_at_256:
            return family.extent(params, w, h, pool_size)
        w, h = family.size_after(params, w, h)
    return min(w, h) / OUTPUT_SIZE  # the chain's own final resize


def start_reduction(ops: list[dict], size: tuple[int, int], pool_size) -> int:
    """The integer factor the source may be reduced by before this chain (1: full resolution)."""
    extent = first_resize_extent(ops, size, pool_size)
    if extent is None:
        return 1
    return max(1, math.floor(extent / MIN_GAP))


@dataclass
class SourceImage:
    """A decoded source and its reductions, made once and shared by the source's 19 chains."""

    full: Image.Image
    _reduced: dict = field(default_factory=dict, repr=False)

    def reduced(self, factor: int) -> Image.Image:
        if factor <= 1:
            return self.full
        if factor not in self._reduced:
            self._reduced[factor] = self.full.reduce(factor)
        return self._reduced[factor]
