"""Families that degrade pixels, measured in pixels of the image they receive: blur (8),
pixelization (9), noise (11), encoding_quality (14), sharpen (16), shuffle_pixels (18).

Blur and pixelization are low-pass filters whose cut-off is given in pixels, so on an image
reduced by a factor they are the same filter with the cut-off scaled (the radius divided, the
ratio multiplied); the others' grain, blocks and pixel moves have no such scaled form."""

from __future__ import annotations

import io
import math
from typing import TypedDict

import augly.image.functional as F
import numpy as np
from PIL import Image

from vsc_assets.augment import frozen, kernels
from vsc_assets.augment.bands import row_bands
from vsc_assets.augment.families.base import PUBLISHED, Family, scale_free, seed, uniform

# ---------------------------------------------------------------- 8 blur


class BlurParams(TypedDict):
    radius: float  # px


def sample_blur(rng, ctx) -> BlurParams:
    return {"radius": uniform(rng, 2.0, 5.0)}


def apply_blur(img, p: BlurParams, ctx):
    return F.blur(img, radius=p["radius"])


def fast_blur(img, p: BlurParams, ctx):
    return kernels.box_blur(img, p["radius"])


def _blur_at_scale(p: BlurParams, factor: int) -> BlurParams:
    return {**p, "radius": p["radius"] / factor}


BLUR = Family("blur", sample_blur, apply_blur, BlurParams, fast=fast_blur, **scale_free(at_scale=_blur_at_scale))

# ---------------------------------------------------------------- 9 pixelization


class PixelizationParams(TypedDict):
    ratio: float


def sample_pixelization(rng, ctx) -> PixelizationParams:
    return {"ratio": uniform(rng, 0.1, 1.0)}


def apply_pixelization(img, p: PixelizationParams, ctx):
    ratio = p["ratio"]
    smallest = min(img.size)
    if int(smallest * ratio) < 1:
        ratio = 1.0 / smallest
        ctx.fallback("pixelization", "ratio leaves no pixel, raised to one pixel", ratio=ratio)
    return F.pixelization(img, ratio=ratio)


def fast_pixelization(img, p: PixelizationParams, ctx):
    # AugLy's two bicubic resizes, down by the ratio and back up, by libvips and OpenCV.
    ratio = p["ratio"]
    if int(min(img.size) * ratio) < 1:
        return apply_pixelization(img, p, ctx)  # the fallback, as the recipe's
    return kernels.resize(kernels.resize(img, (int(img.width * ratio), int(img.height * ratio))), img.size)


def _pixelization_at_scale(p: PixelizationParams, factor: int) -> PixelizationParams:
    # The same coarse image (ratio x the full size), brought back to the reduced size; where that
    # is no coarser than the reduced image itself, nothing is lost that the reduction kept.
    return {**p, "ratio": min(1.0, p["ratio"] * factor)}


PIXELIZATION = Family(
    "pixelization", sample_pixelization, apply_pixelization, PixelizationParams, fast=fast_pixelization,
    **scale_free(at_scale=_pixelization_at_scale),
)  # fmt: skip

# ---------------------------------------------------------------- 11 noise


class NoiseParams(TypedDict):
    mean: float
    var: float
    seed: int  # drawn in both modes; the per_image mode's noise comes from it


def sample_noise(rng, ctx) -> NoiseParams:
    return {"mean": uniform(rng, 0.0, 0.5), "var": uniform(rng, 0.0, 0.5), "seed": seed(rng)}


def apply_noise(img, p: NoiseParams, ctx):
    if ctx.randomness == PUBLISHED:
        return Image.fromarray(frozen.noise(np.asarray(img), p["mean"], p["var"]))
    # AugLy's random_noise (Gaussian on [0, 1], clipped), drawn from the chain's
    # own seeded generator: AugLy's version reseeds NumPy's global generator.
    # A band of rows at a time: the same draws, in order, a few MB of floats at once.
    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    arr = np.asarray(img)
    out = np.empty_like(arr)
    scale, shift = np.float32(255.0 * math.sqrt(p["var"])), np.float32(255.0 * p["mean"])
    for rows in row_bands(arr.shape[0], arr[0].size):
        band = arr[rows].astype(np.float32)
        noise = rng.standard_normal(band.shape, dtype=np.float32)
        noise *= scale
        noise += shift
        band += noise
        np.clip(band, 0.0, 255.0, out=band)
        out[rows] = band
    return Image.fromarray(out)


def fast_noise(img, p: NoiseParams, ctx):
    if ctx.randomness == PUBLISHED:
        return Image.fromarray(frozen.fast_noise(np.asarray(img), p["mean"], p["var"]))
    return apply_noise(img, p, ctx)


NOISE = Family("noise", sample_noise, apply_noise, NoiseParams, fast=fast_noise)

# ---------------------------------------------------------------- 14 encoding_quality


class EncodingQualityParams(TypedDict):
    quality: int


def sample_encoding_quality(rng, ctx) -> EncodingQualityParams:
    return {"quality": int(uniform(rng, 0.0, 50.0))}


def apply_encoding_quality(img, p: EncodingQualityParams, ctx):
    return F.encoding_quality(img, quality=p["quality"])


def fast_encoding_quality(img, p: EncodingQualityParams, ctx):
    # AugLy's JPEG round trip in memory, without the two copies around it.
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=p["quality"])
    out = Image.open(buffer)
    out.load()
    return out


ENCODING_QUALITY = Family(
    "encoding_quality", sample_encoding_quality, apply_encoding_quality, EncodingQualityParams,
    fast=fast_encoding_quality,
)  # fmt: skip

# ---------------------------------------------------------------- 16 sharpen


class SharpenParams(TypedDict):
    factor: float


def sample_sharpen(rng, ctx) -> SharpenParams:
    return {"factor": uniform(rng, 2.0, 20.0)}


def apply_sharpen(img, p: SharpenParams, ctx):
    return F.sharpen(img, factor=p["factor"])


def fast_sharpen(img, p: SharpenParams, ctx):
    return kernels.sharpen(img, p["factor"])


SHARPEN = Family("sharpen", sample_sharpen, apply_sharpen, SharpenParams, fast=fast_sharpen)

# ---------------------------------------------------------------- 18 shuffle_pixels


class ShufflePixelsParams(TypedDict):
    factor: float
    seed: int  # drawn in both modes; the per_image mode's shuffle comes from it


def sample_shuffle_pixels(rng, ctx) -> ShufflePixelsParams:
    return {"factor": uniform(rng, 0.1, 0.5), "seed": seed(rng)}


def apply_shuffle_pixels(img, p: ShufflePixelsParams, ctx):
    if ctx.randomness == PUBLISHED:
        return Image.fromarray(frozen.shuffle(np.asarray(img), p["factor"]))
    # AugLy's shuffle_pixels (a factor of the pixels, chosen without
    # replacement, permuted among themselves) from the chain's own generator:
    # AugLy's version reseeds NumPy's global generator.
    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    arr = np.asarray(img)
    count = int(p["factor"] * arr.shape[0] * arr.shape[1])
    chosen = rng.permutation(arr.shape[0] * arr.shape[1])[:count]
    return Image.fromarray(frozen.shuffle_rows(arr, chosen, rng.permutation(chosen)))


def fast_shuffle_pixels(img, p: ShufflePixelsParams, ctx):
    if ctx.randomness == PUBLISHED:
        return Image.fromarray(frozen.fast_shuffle(np.asarray(img), p["factor"]))
    return apply_shuffle_pixels(img, p, ctx)


SHUFFLE_PIXELS = Family(
    "shuffle_pixels", sample_shuffle_pixels, apply_shuffle_pixels, ShufflePixelsParams, fast=fast_shuffle_pixels
)
