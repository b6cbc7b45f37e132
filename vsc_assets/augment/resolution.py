"""Which image a chain may start from, without changing what it produces.

The recipe runs every chain on the full-resolution source (SPEC.md section 1).
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

from augly.image.utils import rotated_rect_with_max_area
from PIL import Image

from vsc_assets.augment.families import crop_box
from vsc_assets.constants import OUTPUT_SIZE

# Families that leave a 256x256 image ("-> 256" in SPEC.md).
TO_SQUARE = frozenset(
    {"change_channel", "pad_square", "resized_crop", "image_opaque", "pad", "meme_format", "overlay_onto_image", "stack"}
)
# Families whose output, shrunk, equals (in distribution) their output on the shrunk input.
SCALE_FREE = frozenset(
    {
        "pad_square", "resized_crop", "rotate", "image_opaque", "grayscale", "color_jitter", "pad",
        "vflip", "hflip", "overlay_stripes", "skew", "overlay_emoji", "overlay_text",
        "overlay_onto_image", "stack",
    }
)  # fmt: skip
# The smallest shrink the first resize to 256 must still make after the reduction.
MIN_GAP = 1.0


def is_scale_free(op: dict) -> bool:
    if op["name"] == "change_channel":
        return op["params"]["mode"] != "shift"  # a shift is s pixels of the image it receives
    return op["name"] in SCALE_FREE


def _rotated_size(w: float, h: float, degrees: float) -> tuple[float, float]:
    # The largest axis-aligned rectangle inside the rotated image (what AugLy's rotate keeps).
    return rotated_rect_with_max_area(round(w), round(h), degrees)


def first_resize_extent(ops: list[dict], size: tuple[int, int], pool_size) -> float | None:
    """Pixels of the start image per output pixel at the chain's first resize to 256.

    None when a family that depends on resolution comes before that resize:
    then the chain must start from the full-resolution source. ``pool_size``
    gives a pool image's (width, height) by name.
    """
    w, h = size
    for op in ops:
        if not is_scale_free(op):
            return None
        name, p = op["name"], op["params"]
        if name == "rotate":
            w, h = _rotated_size(w, h, p["degrees"])
        elif name == "resized_crop":
            left, top, right, bottom = crop_box(round(w), round(h), p)
            return min(right - left, bottom - top) / OUTPUT_SIZE
        elif name == "pad_square":
            return max(w, h) / OUTPUT_SIZE
        elif name == "pad":
            return min(w * (1 + 2 * p["w_factor"]), h * (1 + 2 * p["h_factor"])) / OUTPUT_SIZE
        elif name == "overlay_onto_image":
            # The image becomes an inset overlay_size of the background's height, then the
            # background goes to 256x256: per axis, h / inset height * background side / 256
            # (bounded with the background's longer side as its height: EXIF may turn it).
            bg_short, bg_long = sorted(pool_size(p["pool_image"]))
            inset_h = max(1, int(bg_long * p["overlay_size"]))
            return (h / inset_h) * bg_short / OUTPUT_SIZE
        elif name in TO_SQUARE:
            return min(w, h) / OUTPUT_SIZE
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
