"""Families that write text: meme_format (19) and overlay_text (21); drawn by ``typesetting``."""

from __future__ import annotations

import string
from typing import NotRequired, TypedDict

from vsc_assets.augment.families.base import Family, colour, pick, randint, scale_free, square, uniform
from vsc_assets.augment.typesetting import draw_meme, draw_overlay_text

LETTERS = string.ascii_lowercase + string.ascii_uppercase

# ---------------------------------------------------------------- 19 meme_format


class MemeFormatParams(TypedDict):
    text: str  # 1-10 distinct letters
    opacity: float
    text_color: list[int]
    caption_height: int  # px of the image it receives
    meme_bg_color: list[int]
    font: str  # a font file name
    scale: NotRequired[int]  # never drawn: set by at_scale when the image is the recipe's reduced


def sample_meme_format(rng, ctx) -> MemeFormatParams:
    letters = rng.choice(len(LETTERS), size=randint(rng, 1, 10), replace=False)
    fonts = ctx.materials.fonts
    font = fonts[pick(rng, fonts)].name if ctx.meme_random_font else ctx.materials.meme_default_font.name
    return {
        "text": "".join(LETTERS[i] for i in letters),
        "opacity": uniform(rng, 0.0, 1.0),
        "text_color": colour(rng),
        "caption_height": randint(rng, 100, 300),
        "meme_bg_color": colour(rng),
        "font": font,
    }


def apply_meme_format(img, p: MemeFormatParams, ctx):
    return square(draw_meme(img, p, ctx), ctx)


def _meme_at_scale(p: MemeFormatParams, factor: int) -> MemeFormatParams:
    # The band and the font are px of the image: drawn 1/factor as large on an image 1/factor as
    # large, they are the same caption after the resize to 256.
    return {**p, "scale": factor}


MEME_FORMAT = Family(
    "meme_format", sample_meme_format, apply_meme_format, MemeFormatParams, ends_at_256=True,
    **scale_free(at_scale=_meme_at_scale),
)  # fmt: skip

# ---------------------------------------------------------------- 21 overlay_text


class OverlayTextParams(TypedDict):
    text: list[int]  # indices into the font's character list
    font: str
    color: list[int]
    opacity: float
    font_size: float  # a fraction of the shorter side
    x_pos: float
    y_pos: float


def sample_overlay_text(rng, ctx) -> OverlayTextParams:
    fonts = ctx.materials.fonts
    return {
        "text": [int(i) for i in rng.integers(0, 100, size=randint(rng, 0, 20))],
        "font": fonts[pick(rng, fonts)].name,
        "color": colour(rng),
        "opacity": uniform(rng, 0.0, 1.0),
        "font_size": uniform(rng, 0.0, 1.0),
        "x_pos": uniform(rng, 0.0, 0.5),
        "y_pos": uniform(rng, 0.0, 0.5),
    }


def apply_overlay_text(img, p: OverlayTextParams, ctx):
    return draw_overlay_text(img, p, ctx)


OVERLAY_TEXT = Family("overlay_text", sample_overlay_text, apply_overlay_text, OverlayTextParams, **scale_free())
