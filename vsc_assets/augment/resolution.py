"""Which image a chain may start from, without changing what it produces.

The recipe runs every chain on the full-resolution source (docs/recipe.md).
A chain's output is the same picture from a smaller start only while every
family before its first resize to 256 commutes with downscaling: flips,
colour and channel changes, geometry or overlays measured in fractions of the
image, and blur and pixelization with their pixel parameter scaled (a low-pass
filter's cut-off moves with the image). Families whose effect is grain, blocks
or moves of single pixels (JPEG blocks, noise, sharpening, shuffled pixels, a
caption height in px) must see the full resolution, so a chain that meets one
of them before the image is 256x256 starts at full size.

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


def last_resolution_step(ops: list[dict]) -> int | None:
    """The last family before the chain's first resize to 256 whose effect is measured in pixels,
    when the chain goes on at full size after it; None when there is none (or it is that resize)."""
    last = None
    for i, op in enumerate(ops):
        family = FAMILIES[op["name"]]
        if not family.commutes_with_downscale(op["params"]):
            last = None if family.ends_at_256 else i
        if family.ends_at_256:
            break
    return last


@dataclass
class Shrink:
    """Where the production path runs a chain smaller than the recipe writes it, in the record.

    ``start``: the source reduced by this factor before the first family, when every family up
    to the first resize to 256 commutes with downscaling. Otherwise, ``after``: the image reduced
    by ``factor`` right after that step, the last one measured in pixels, when the families
    between it and the resize all commute; the factor is chosen from the image's size there.
    """

    start: int = 1
    after: int | None = None
    factor: int = 1

    @classmethod
    def plan(cls, ops: list[dict], size: tuple[int, int], pool_size) -> Shrink:
        start = start_reduction(ops, size, pool_size)
        return cls(start=start, after=None if start > 1 else last_resolution_step(ops), factor=0)

    def record(self) -> dict:
        after = {"reduced_after": [self.after, self.factor]} if self.after is not None and self.factor > 1 else {}
        return {"start_reduction": self.start, **after}

    @classmethod
    def from_record(cls, record: dict) -> Shrink:
        after, factor = record.get("reduced_after") or (None, 1)
        return cls(start=record.get("start_reduction", 1), after=after, factor=factor)


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
