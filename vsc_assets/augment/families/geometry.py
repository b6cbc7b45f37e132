"""Families that move pixels: pad_square (2), resized_crop (3), rotate (4), pad (10),
vflip (12), hflip (13), skew (17), perspective (22)."""

from __future__ import annotations

import math
from typing import TypedDict

import augly.image.functional as F
import numpy as np
from augly.image.utils import rotated_rect_with_max_area
from PIL import Image

from vsc_assets.augment import frozen
from vsc_assets.augment.families.base import PUBLISHED, SQUARE, Family, colour, scale_free, seed, square, uniform
from vsc_assets.constants import OUTPUT_SIZE

# ---------------------------------------------------------------- 2 pad_square


class PadSquareParams(TypedDict):
    color: list[int]


def sample_pad_square(rng, ctx) -> PadSquareParams:
    return {"color": colour(rng)}


def apply_pad_square(img, p: PadSquareParams, ctx):
    return square(F.pad_square(img, color=tuple(p["color"])), ctx)


def padded(img: Image.Image, w_factor: float, h_factor: float, color) -> Image.Image:
    """AugLy's pad on an RGB image, without the copy its functions close with (the production
    kernels of pad and pad_square: the same bytes)."""
    left, top = int(w_factor * img.width), int(h_factor * img.height)
    out = Image.new("RGB", (img.width + 2 * left, img.height + 2 * top), tuple(color))
    out.paste(img, (left, top))
    return out


def fast_pad_square(img, p: PadSquareParams, ctx):
    width, height = img.size
    if width < height:
        return square(padded(img, (height - width) / (2 * width), 0, p["color"]), ctx)
    return square(padded(img, 0, (width - height) / (2 * height), p["color"]), ctx)


PAD_SQUARE = Family(
    "pad_square", sample_pad_square, apply_pad_square, PadSquareParams, ends_at_256=True, fast=fast_pad_square,
    **scale_free(extent=lambda p, w, h, pool_size: max(w, h) / OUTPUT_SIZE),
)  # fmt: skip

# ---------------------------------------------------------------- 3 resized_crop

CROP_ATTEMPTS = 10  # torchvision's RandomResizedCrop draws at most this many boxes


class ResizedCropParams(TypedDict):
    attempts: list[list[float]]  # [scale, log ratio] per attempt
    x: float  # where the box sits in the room left, as a fraction
    y: float


def sample_resized_crop(rng, ctx) -> ResizedCropParams:
    # Drawn without the image size: every attempt up front, positions as fractions.
    return {
        "attempts": [
            [uniform(rng, 0.3, 1.0), uniform(rng, math.log(3 / 4), math.log(4 / 3))] for _ in range(CROP_ATTEMPTS)
        ],
        "x": uniform(rng, 0.0, 1.0),
        "y": uniform(rng, 0.0, 1.0),
    }


def crop_box(width: int, height: int, p: ResizedCropParams) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params: the first attempt that fits, else a centre crop."""
    area = width * height
    for scale, log_ratio in p["attempts"]:
        ratio = math.exp(log_ratio)
        w = round(math.sqrt(area * scale * ratio))
        h = round(math.sqrt(area * scale / ratio))
        if 0 < w <= width and 0 < h <= height:
            left = min(width - w, int(p["x"] * (width - w + 1)))
            top = min(height - h, int(p["y"] * (height - h + 1)))
            return left, top, left + w, top + h
    in_ratio = width / height
    if in_ratio < 3 / 4:
        w, h = width, round(width / (3 / 4))
    elif in_ratio > 4 / 3:
        w, h = round(height * (4 / 3)), height
    else:
        w, h = width, height
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def apply_resized_crop(img, p: ResizedCropParams, ctx):
    return img.crop(crop_box(img.width, img.height, p)).resize(SQUARE, Image.Resampling.BILINEAR)


def _crop_extent(p: ResizedCropParams, w: float, h: float, pool_size) -> float:
    left, top, right, bottom = crop_box(round(w), round(h), p)
    return min(right - left, bottom - top) / OUTPUT_SIZE


RESIZED_CROP = Family(
    "resized_crop", sample_resized_crop, apply_resized_crop, ResizedCropParams, ends_at_256=True,
    **scale_free(extent=_crop_extent),
)  # fmt: skip

# ---------------------------------------------------------------- 4 rotate


class RotateParams(TypedDict):
    degrees: float


def sample_rotate(rng, ctx) -> RotateParams:
    return {"degrees": uniform(rng, 0.0, 360.0)}


def _kept_rotated(img, out, ctx):
    if min(out.size) < 1:
        ctx.fallback("rotate", "inscribed rectangle empty, image kept unrotated")
        return img
    return out


def apply_rotate(img, p: RotateParams, ctx):
    return _kept_rotated(img, F.rotate(img, degrees=p["degrees"]), ctx)


def fast_rotate(img, p: RotateParams, ctx):
    # AugLy's rotate (expand, then the largest upright rectangle about the centre), without its closing copy.
    turned = img.rotate(p["degrees"], expand=True)
    w, h = rotated_rect_with_max_area(img.width, img.height, p["degrees"])
    cx, cy = turned.width / 2, turned.height / 2
    return _kept_rotated(img, turned.crop((int(cx - w / 2), int(cy - h / 2), int(cx + w / 2), int(cy + h / 2))), ctx)


def _rotated_size(p: RotateParams, w: float, h: float) -> tuple[float, float]:
    # The largest axis-aligned rectangle inside the rotated image (what AugLy's rotate keeps).
    return rotated_rect_with_max_area(round(w), round(h), p["degrees"])


ROTATE = Family(
    "rotate", sample_rotate, apply_rotate, RotateParams, fast=fast_rotate, **scale_free(size_after=_rotated_size)
)

# ---------------------------------------------------------------- 10 pad


class PadParams(TypedDict):
    w_factor: float
    h_factor: float
    color: list[int]


def sample_pad(rng, ctx) -> PadParams:
    return {"w_factor": uniform(rng, 0.0, 0.5), "h_factor": uniform(rng, 0.0, 0.5), "color": colour(rng)}


def apply_pad(img, p: PadParams, ctx):
    return square(F.pad(img, w_factor=p["w_factor"], h_factor=p["h_factor"], color=tuple(p["color"])), ctx)


def fast_pad(img, p: PadParams, ctx):
    return square(padded(img, p["w_factor"], p["h_factor"], p["color"]), ctx)


def _pad_extent(p: PadParams, w: float, h: float, pool_size) -> float:
    return min(w * (1 + 2 * p["w_factor"]), h * (1 + 2 * p["h_factor"])) / OUTPUT_SIZE


PAD = Family("pad", sample_pad, apply_pad, PadParams, ends_at_256=True, fast=fast_pad, **scale_free(extent=_pad_extent))

# ---------------------------------------------------------------- 12 vflip, 13 hflip


class NoParams(TypedDict):
    pass


def sample_nothing(rng, ctx) -> NoParams:
    return {}


def apply_vflip(img, p: NoParams, ctx):
    return F.vflip(img)


def apply_hflip(img, p: NoParams, ctx):
    return F.hflip(img)


def fast_vflip(img, p: NoParams, ctx):
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)  # AugLy's, without its closing copy


def fast_hflip(img, p: NoParams, ctx):
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


VFLIP = Family("vflip", sample_nothing, apply_vflip, NoParams, fast=fast_vflip, **scale_free())
HFLIP = Family("hflip", sample_nothing, apply_hflip, NoParams, fast=fast_hflip, **scale_free())

# ---------------------------------------------------------------- 17 skew


class SkewParams(TypedDict):
    skew_factor: float


def sample_skew(rng, ctx) -> SkewParams:
    return {"skew_factor": uniform(rng, -2.0, 2.0)}


def apply_skew(img, p: SkewParams, ctx):
    return F.skew(img, skew_factor=p["skew_factor"])


def fast_skew(img, p: SkewParams, ctx):
    # AugLy's skew along x (a bilinear affine warp about the middle row), without its closing copy.
    k, (w, h) = p["skew_factor"], img.size
    return img.transform((w, h), Image.Transform.AFFINE, (1, k, -k * h / 2, 0, 1, 0), resample=Image.Resampling.BILINEAR)


SKEW = Family("skew", sample_skew, apply_skew, SkewParams, fast=fast_skew, **scale_free())

# ---------------------------------------------------------------- 22 perspective


class PerspectiveParams(TypedDict):
    sigma: float  # px of the image it receives
    seed: int  # drawn in both modes; the per_image mode's corners come from it


def sample_perspective(rng, ctx) -> PerspectiveParams:
    return {"sigma": uniform(rng, 10.0, 50.0), "seed": seed(rng)}


def _perspective_coeffs(src, dst) -> list[float]:
    rows = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.asarray(rows, dtype=np.float64)
    b = np.asarray(src, dtype=np.float64).reshape(8)
    coeffs, *_ = np.linalg.lstsq(a, b, rcond=None)
    return [float(c) for c in coeffs]


def _perspective_map(size: tuple[int, int], p: PerspectiveParams, ctx) -> list[float]:
    """The warp's output-to-input coefficients: each corner moved by N(0, sigma)."""
    w, h = size
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    sigma = p["sigma"]
    if ctx.randomness == PUBLISHED:
        return frozen.perspective_coefficients(src, frozen.perspective_corners(w, h, sigma))
    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    dst = [(float(rng.normal(x, sigma)), float(rng.normal(y, sigma))) for x, y in src]
    return _perspective_coeffs(src, dst)


def apply_perspective(img, p: PerspectiveParams, ctx):
    # AugLy's perspective_transform: the corners moved, then a bicubic warp.
    coeffs = _perspective_map(img.size, p, ctx)
    return img.transform(img.size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)


def _perspective_at_scale(p: PerspectiveParams, factor: int) -> PerspectiveParams:
    # The corners move by sigma times draws that do not depend on the image: at 1/factor of
    # the size, sigma/factor makes the same warp.
    return {**p, "sigma": p["sigma"] / factor}


PERSPECTIVE = Family(
    "perspective", sample_perspective, apply_perspective, PerspectiveParams,
    **scale_free(at_scale=_perspective_at_scale),
)  # fmt: skip
