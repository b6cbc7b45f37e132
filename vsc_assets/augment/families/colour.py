"""Families that change colour: change_channel (1), grayscale (6), color_jitter (7)."""

from __future__ import annotations

from typing import Literal, TypedDict

import augly.image.functional as F
import numpy as np
from PIL import Image, ImageEnhance, ImageStat

from vsc_assets.augment import kernels
from vsc_assets.augment.families.base import Family, randint, scale_free, square, uniform

# ---------------------------------------------------------------- 1 change_channel


class ChangeChannelParams(TypedDict, total=False):
    mode: Literal["shift", "swap", "invert"]
    shift: int  # shift: s px, R rolled by (s, -s), B by (-s, s), s px cropped off each border
    order: list[int]  # swap: a permutation of R, G, B
    invert: list[bool]  # invert: which channels


def sample_change_channel(rng, ctx) -> ChangeChannelParams:
    mode = ("shift", "swap", "invert")[randint(rng, 0, 2)]
    if mode == "shift":
        return {"mode": mode, "shift": int(uniform(rng, 0, 40))}
    if mode == "swap":
        return {"mode": mode, "order": [int(c) for c in rng.permutation(3)]}
    return {"mode": mode, "invert": [bool(b) for b in rng.random(3) < 0.5]}


def apply_change_channel(img, p: ChangeChannelParams, ctx):
    arr = np.asarray(img.convert("RGB"))
    if p["mode"] == "shift":
        s = p["shift"]
        h, w = arr.shape[:2]
        limit = (min(h, w) - 1) // 2
        if s > limit:
            ctx.fallback("change_channel", "shift larger than the image allows, clamped", shift=limit)
            s = limit
        out = arr.copy()
        out[..., 0] = np.roll(arr[..., 0], (s, -s), axis=(0, 1))
        out[..., 2] = np.roll(arr[..., 2], (-s, s), axis=(0, 1))
        out = out[s : h - s, s : w - s]
    elif p["mode"] == "swap":
        out = arr[..., p["order"]]
    else:
        out = arr.copy()
        for c, flip in enumerate(p["invert"]):
            if flip:
                out[..., c] = 255 - out[..., c]
    return square(Image.fromarray(np.ascontiguousarray(out), "RGB"), ctx)


CHANGE_CHANNEL = Family(
    "change_channel",
    sample_change_channel,
    apply_change_channel,
    ChangeChannelParams,
    ends_at_256=True,
    commutes_with_downscale=lambda p: p["mode"] != "shift",  # a shift is s pixels of the image it receives
)

# ---------------------------------------------------------------- 6 grayscale


class GrayscaleParams(TypedDict):
    pass


def sample_grayscale(rng, ctx) -> GrayscaleParams:
    return {}


def apply_grayscale(img, p: GrayscaleParams, ctx):
    return F.grayscale(img)


def fast_grayscale(img, p: GrayscaleParams, ctx):
    return img.convert("L").convert("RGB")  # AugLy's luminosity grey, without its closing copy


GRAYSCALE = Family("grayscale", sample_grayscale, apply_grayscale, GrayscaleParams, fast=fast_grayscale, **scale_free())

# ---------------------------------------------------------------- 7 color_jitter


class ColorJitterParams(TypedDict):
    brightness: float
    contrast: float
    saturation: float
    hue: float
    order: list[int]  # the four applied in this order (0 brightness ... 3 hue)


def sample_color_jitter(rng, ctx) -> ColorJitterParams:
    # torchvision ColorJitter(3, 4, 4, 0.5): factors drawn from [max(0, 1-x), 1+x].
    return {
        "brightness": uniform(rng, 0.0, 4.0),
        "contrast": uniform(rng, 0.0, 5.0),
        "saturation": uniform(rng, 0.0, 5.0),
        "hue": uniform(rng, -0.5, 0.5),
        "order": [int(i) for i in rng.permutation(4)],
    }


def _shift_hue(img: Image.Image, hue: float) -> Image.Image:
    h, s, v = img.convert("HSV").split()
    shifted = (np.asarray(h, dtype=np.int16) + int(round(hue * 255))) % 256
    h = Image.fromarray(shifted.astype(np.uint8), "L")
    return Image.merge("HSV", (h, s, v)).convert("RGB")


def _blend_table(base: int, alpha: float) -> list[int]:
    """What ``Image.blend`` of a constant ``base`` with each 8-bit value gives: a point table made
    by Pillow's own blend, so applying it is ``ImageEnhance``'s result to the byte, in one pass."""
    values = Image.frombytes("L", (256, 1), bytes(range(256)))
    return list(Image.blend(Image.new("L", (256, 1), base), values, alpha).tobytes())


def _brightness(img: Image.Image, factor: float) -> Image.Image:
    # ImageEnhance.Brightness: a blend with black.
    return img.point(_blend_table(0, factor) * 3)


def _contrast(img: Image.Image, factor: float) -> Image.Image:
    # ImageEnhance.Contrast: a blend with the grey of the image's mean luminance.
    mean = int(ImageStat.Stat(img.convert("L")).mean[0] + 0.5)
    return img.point(_blend_table(mean, factor) * 3)


def _jitter(img, p: ColorJitterParams, shift_hue) -> Image.Image:
    steps = (
        lambda im: _brightness(im, p["brightness"]),
        lambda im: _contrast(im, p["contrast"]),
        lambda im: ImageEnhance.Color(im).enhance(p["saturation"]),
        lambda im: shift_hue(im, p["hue"]),
    )
    for i in p["order"]:
        img = steps[i](img)
    return img


def apply_color_jitter(img, p: ColorJitterParams, ctx):
    return _jitter(img, p, _shift_hue)


def fast_color_jitter(img, p: ColorJitterParams, ctx):
    # The hue step's way back from HSV by OpenCV; the rest is Pillow's, as the recipe's.
    return _jitter(img, p, lambda im, hue: kernels.hue_shift(im, int(round(hue * 255))))


COLOR_JITTER = Family(
    "color_jitter", sample_color_jitter, apply_color_jitter, ColorJitterParams, fast=fast_color_jitter, **scale_free()
)
