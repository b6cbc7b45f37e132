"""Families that combine the image with something else: image_opaque (5), overlay_stripes (15),
overlay_emoji (20), overlay_onto_image (23), stack (24)."""

from __future__ import annotations

import math
from typing import TypedDict

import augly.image.functional as F
import numpy as np
from PIL import Image

from vsc_assets.augment import kernels
from vsc_assets.augment.bands import row_bands
from vsc_assets.augment.families.base import (
    SQUARE,
    Family,
    colour,
    pick,
    pool_image,
    pool_square,
    randint,
    scale_free,
    square,
    uniform,
)
from vsc_assets.augment.materials import load_emoji
from vsc_assets.constants import OUTPUT_SIZE

# ---------------------------------------------------------------- 5 image_opaque


class ImageOpaqueParams(TypedDict):
    opacity: float
    pool_image: str  # a pool file name


def sample_image_opaque(rng, ctx) -> ImageOpaqueParams:
    pool = ctx.materials.pool
    return {"opacity": uniform(rng, 0.2, 1.0), "pool_image": pool[pick(rng, pool)].name}


def apply_image_opaque(img, p: ImageOpaqueParams, ctx):
    background = pool_square(p["pool_image"], "image_opaque", ctx)
    return F.overlay_image(
        background, overlay=square(img, ctx), opacity=p["opacity"], overlay_size=1.0, x_pos=0.0, y_pos=0.0
    ).convert("RGB")


def fast_image_opaque(img, p: ImageOpaqueParams, ctx):
    """AugLy's overlay_image of a 256x256 RGB image over another, without its RGBA round trip:
    the same paste, with the same constant mask (255 times the opacity, truncated)."""
    out = pool_square(p["pool_image"], "image_opaque", ctx).copy()
    out.paste(square(img, ctx), (0, 0), Image.new("L", SQUARE, int(255 * p["opacity"])))
    return out


IMAGE_OPAQUE = Family(
    "image_opaque", sample_image_opaque, apply_image_opaque, ImageOpaqueParams, ends_at_256=True,
    fast=fast_image_opaque, **scale_free(),
)  # fmt: skip

# ---------------------------------------------------------------- 15 overlay_stripes


class OverlayStripesParams(TypedDict):
    line_width: float
    line_color: list[int]
    line_angle: int
    line_density: float
    line_opacity: float


def sample_overlay_stripes(rng, ctx) -> OverlayStripesParams:
    return {
        "line_width": uniform(rng, 0.0, 1.0),
        "line_color": colour(rng),
        "line_angle": randint(rng, 0, 360),
        "line_density": uniform(rng, 0.0, 1.0),
        "line_opacity": uniform(rng, 0.0, 1.0),
    }


def apply_overlay_stripes(img, p: OverlayStripesParams, ctx):
    return F.overlay_stripes(
        img,
        line_width=p["line_width"],
        line_color=tuple(p["line_color"]),
        line_angle=p["line_angle"],
        line_density=p["line_density"],
        line_opacity=p["line_opacity"],
    )


# Within this much of AugLy's threshold, a pixel of the stripe mask is decided by AugLy's own
# expression; farther, by where its phase lies (float64 errors there are below 1e-11).
STRIPE_EDGE = 1e-9


def _stripes_on(phase: np.ndarray, threshold: float) -> np.ndarray:
    """Where AugLy's ``(cos(2 pi phase) + 1) / 2 > threshold``, to the pixel, without a cosine per
    pixel: that holds where the phase is nearer an integer than the stripe's half-width, which is
    one arccos for the whole image. Phases near that edge get AugLy's expression itself."""
    if np.abs(phase).max(initial=0.0) > 1e5:  # float64 errors in 2 pi phase would approach the edge
        return (np.cos(2 * math.pi * phase) + 1) / 2 > threshold

    def half_width(level: float) -> float:
        return math.acos(min(1.0, max(-1.0, 2 * level - 1))) / (2 * math.pi)

    surely_on, surely_off = half_width(threshold + STRIPE_EDGE), half_width(threshold - STRIPE_EDGE)
    off_integer = np.abs(phase - np.rint(phase))  # exact
    on = off_integer < surely_on
    unsure = np.flatnonzero((off_integer >= surely_on) & (off_integer <= surely_off))
    if unsure.size:
        on.flat[unsure] = (np.cos(2 * math.pi * phase.flat[unsure]) + 1) / 2 > threshold
    return on


def _stripe_mask(width: int, height: int, p: OverlayStripesParams) -> Image.Image:
    """AugLy's solid stripe mask and opacity to the byte, a band of rows at a time (its own
    function holds several float64 grids of the whole image at once)."""
    angle = p["line_angle"] * (math.pi / 180)
    distance = (1 - p["line_density"]) * min(width, height)
    y_period, x_period = math.cos(angle) / distance, math.sin(angle) / distance
    threshold = (math.cos(math.pi * p["line_width"]) + 1) / 2
    x = np.arange(0, width) - width / 2
    value = np.uint8(p["line_opacity"] * 255)
    mask = np.empty((height, width), np.uint8)
    for rows in row_bands(height, width, 2**20):
        y = (np.arange(rows.start, rows.stop) - height / 2)[:, None]
        # AugLy's special angles: stripes along one axis, one cosine per column or row.
        if abs(angle) == math.pi / 2 or abs(angle) == 3 * math.pi / 2:
            on = np.broadcast_to((np.cos(2 * math.pi * x_period * x) + 1) / 2 > threshold, (len(y), width))
        elif angle == 0 or abs(angle) == math.pi:
            on = np.broadcast_to((np.cos(2 * math.pi * y_period * y) + 1) / 2 > threshold, (len(y), width))
        else:
            on = _stripes_on(x_period * x + y_period * y, threshold)
        mask[rows] = np.where(on, value, np.uint8(0))
    return Image.fromarray(mask)


def fast_overlay_stripes(img, p: OverlayStripesParams, ctx):
    out = img.copy()
    out.paste(Image.new("RGB", img.size, tuple(p["line_color"])), (0, 0), mask=_stripe_mask(img.width, img.height, p))
    return out


OVERLAY_STRIPES = Family(
    "overlay_stripes", sample_overlay_stripes, apply_overlay_stripes, OverlayStripesParams, fast=fast_overlay_stripes,
    **scale_free(),
)  # fmt: skip

# ---------------------------------------------------------------- 20 overlay_emoji


class OverlayEmojiParams(TypedDict):
    emoji: str  # path relative to the emoji folder
    opacity: float
    emoji_size: float
    x_pos: float
    y_pos: float


def sample_overlay_emoji(rng, ctx) -> OverlayEmojiParams:
    emoji = ctx.materials.emoji
    return {
        "emoji": ctx.materials.emoji_name(emoji[pick(rng, emoji)]),
        "opacity": uniform(rng, 0.2, 1.0),
        "emoji_size": uniform(rng, 0.2, 1.0),
        "x_pos": uniform(rng, 0.0, 0.5),
        "y_pos": uniform(rng, 0.0, 0.5),
    }


def apply_overlay_emoji(img, p: OverlayEmojiParams, ctx):
    # AugLy's overlay_emoji is overlay_image with the emoji file; the emoji is
    # opened here (links resolved) because AugLy's own path check rejects symlinks.
    emoji, problem = load_emoji(ctx.materials.emoji_path(p["emoji"]))
    if problem:
        ctx.fallback("overlay_emoji", "emoji unreadable, not overlaid", emoji=p["emoji"], error=problem)
        return img
    return F.overlay_image(
        img,
        overlay=emoji,
        opacity=p["opacity"],
        overlay_size=p["emoji_size"],
        x_pos=p["x_pos"],
        y_pos=p["y_pos"],
    )


OVERLAY_EMOJI = Family("overlay_emoji", sample_overlay_emoji, apply_overlay_emoji, OverlayEmojiParams, **scale_free())

# ---------------------------------------------------------------- 23 overlay_onto_image


class OverlayOntoImageParams(TypedDict):
    pool_image: str
    opacity: float
    overlay_size: float  # the inset's height, as a fraction of the background's
    x_pos: float
    y_pos: float


def sample_overlay_onto_image(rng, ctx) -> OverlayOntoImageParams:
    pool = ctx.materials.pool
    return {
        "pool_image": pool[pick(rng, pool)].name,
        "opacity": uniform(rng, 0.6, 1.0),
        "overlay_size": uniform(rng, 0.5, 1.0),
        "x_pos": uniform(rng, 0.0, 0.5),
        "y_pos": uniform(rng, 0.0, 0.5),
    }


def apply_overlay_onto_image(img, p: OverlayOntoImageParams, ctx):
    background = pool_image(p["pool_image"], "overlay_onto_image", ctx)
    inset_h = max(1, int(background.height * p["overlay_size"]))
    scale_bg = int(img.width * inset_h / img.height) < 1
    if scale_bg:
        ctx.fallback("overlay_onto_image", "inset would be 0 px wide, background scaled to the image")
    out = F.overlay_onto_background_image(
        img,
        background_image=background,
        opacity=p["opacity"],
        overlay_size=p["overlay_size"],
        x_pos=p["x_pos"],
        y_pos=p["y_pos"],
        scale_bg=scale_bg,
    )
    return square(out.convert("RGB"), ctx)


def fast_overlay_onto_image(img, p: OverlayOntoImageParams, ctx):
    """The inset laid onto the background at 256x256: the recipe's geometry (computed at the pool
    image's full size) scaled to the output, the background decoded no larger than it needs."""
    width, height = ctx.materials.pool_decoded_size(p["pool_image"])
    inset_h = max(1, int(height * p["overlay_size"]))
    inset_w = int(img.width * inset_h / img.height)
    if inset_w < 1:
        return apply_overlay_onto_image(img, p, ctx)  # the recipe's fallback
    x, y = int(width * p["x_pos"]), int(height * p["y_pos"])
    sx, sy = OUTPUT_SIZE / width, OUTPUT_SIZE / height
    left, top = round(x * sx), round(y * sy)
    right, bottom = max(left + 1, round((x + inset_w) * sx)), max(top + 1, round((y + inset_h) * sy))
    out = pool_square(p["pool_image"], "overlay_onto_image", ctx).copy()
    inset = kernels.resize(img, (right - left, bottom - top))
    out.paste(inset, (left, top), Image.new("L", inset.size, int(255 * p["opacity"])))
    return out


def _inset_extent(p: OverlayOntoImageParams, w: float, h: float, pool_size) -> float:
    # The image becomes an inset overlay_size of the background's height, then the
    # background goes to 256x256: per axis, h / inset height * background side / 256
    # (bounded with the background's longer side as its height: EXIF may turn it).
    bg_short, bg_long = sorted(pool_size(p["pool_image"]))
    inset_h = max(1, int(bg_long * p["overlay_size"]))
    return (h / inset_h) * bg_short / OUTPUT_SIZE


OVERLAY_ONTO_IMAGE = Family(
    "overlay_onto_image", sample_overlay_onto_image, apply_overlay_onto_image, OverlayOntoImageParams,
    ends_at_256=True, fast=fast_overlay_onto_image, **scale_free(extent=_inset_extent),
)  # fmt: skip

# ---------------------------------------------------------------- 24 stack


class StackParams(TypedDict):
    pool_image: str
    order: int  # 0: the image first
    direction: int  # 0: side by side, 1: one above the other


def sample_stack(rng, ctx) -> StackParams:
    pool = ctx.materials.pool
    return {"pool_image": pool[pick(rng, pool)].name, "order": randint(rng, 0, 1), "direction": randint(rng, 0, 1)}


def apply_stack(img, p: StackParams, ctx):
    other = pool_square(p["pool_image"], "stack", ctx)
    first, second = (square(img, ctx), other) if p["order"] == 0 else (other, square(img, ctx))
    horizontal = p["direction"] == 0
    canvas = Image.new("RGB", (OUTPUT_SIZE * 2, OUTPUT_SIZE) if horizontal else (OUTPUT_SIZE, OUTPUT_SIZE * 2))
    canvas.paste(first, (0, 0))
    canvas.paste(second, (OUTPUT_SIZE, 0) if horizontal else (0, OUTPUT_SIZE))
    return square(canvas, ctx)


STACK = Family("stack", sample_stack, apply_stack, StackParams, ends_at_256=True, **scale_free())
