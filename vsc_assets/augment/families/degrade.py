"""Families that degrade pixels, measured in pixels of the image they receive: blur (8),
pixelization (9), noise (11), encoding_quality (14), sharpen (16), shuffle_pixels (18)."""

from __future__ import annotations

import math
from typing import TypedDict

import augly.image.functional as F
import numpy as np
from PIL import Image

from vsc_assets.augment.families.base import Family, seed, uniform

# ---------------------------------------------------------------- 8 blur


class BlurParams(TypedDict):
    radius: float  # px


def sample_blur(rng, ctx) -> BlurParams:
    return {"radius": uniform(rng, 2.0, 5.0)}


def apply_blur(img, p: BlurParams, ctx):
    return F.blur(img, radius=p["radius"])


BLUR = Family("blur", sample_blur, apply_blur, BlurParams)

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


PIXELIZATION = Family("pixelization", sample_pixelization, apply_pixelization, PixelizationParams)

# ---------------------------------------------------------------- 11 noise


class NoiseParams(TypedDict):
    mean: float
    var: float
    seed: int


def sample_noise(rng, ctx) -> NoiseParams:
    return {"mean": uniform(rng, 0.0, 0.5), "var": uniform(rng, 0.0, 0.5), "seed": seed(rng)}


def apply_noise(img, p: NoiseParams, ctx):
    # AugLy's random_noise (Gaussian on [0, 1], clipped), drawn from the chain's
    # own seeded generator: AugLy's version reseeds NumPy's global generator.
    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    arr = np.asarray(img, dtype=np.float32)
    noise = rng.standard_normal(arr.shape, dtype=np.float32)
    noise *= np.float32(255.0 * math.sqrt(p["var"]))
    noise += np.float32(255.0 * p["mean"])
    arr += noise
    np.clip(arr, 0.0, 255.0, out=arr)
    return Image.fromarray(arr.astype(np.uint8), img.mode)


NOISE = Family("noise", sample_noise, apply_noise, NoiseParams)

# ---------------------------------------------------------------- 14 encoding_quality


class EncodingQualityParams(TypedDict):
    quality: int


def sample_encoding_quality(rng, ctx) -> EncodingQualityParams:
    return {"quality": int(uniform(rng, 0.0, 50.0))}


def apply_encoding_quality(img, p: EncodingQualityParams, ctx):
    return F.encoding_quality(img, quality=p["quality"])


ENCODING_QUALITY = Family("encoding_quality", sample_encoding_quality, apply_encoding_quality, EncodingQualityParams)

# ---------------------------------------------------------------- 16 sharpen


class SharpenParams(TypedDict):
    factor: float


def sample_sharpen(rng, ctx) -> SharpenParams:
    return {"factor": uniform(rng, 2.0, 20.0)}


def apply_sharpen(img, p: SharpenParams, ctx):
    return F.sharpen(img, factor=p["factor"])


SHARPEN = Family("sharpen", sample_sharpen, apply_sharpen, SharpenParams)

# ---------------------------------------------------------------- 18 shuffle_pixels


class ShufflePixelsParams(TypedDict):
    factor: float
    seed: int


def sample_shuffle_pixels(rng, ctx) -> ShufflePixelsParams:
    return {"factor": uniform(rng, 0.1, 0.5), "seed": seed(rng)}


def apply_shuffle_pixels(img, p: ShufflePixelsParams, ctx):
    # AugLy's shuffle_pixels (a factor of the pixels, chosen without
    # replacement, permuted among themselves) from the chain's own generator:
    # AugLy's version reseeds NumPy's global generator.
    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    arr = np.array(img)
    pixels = arr.reshape(-1, arr.shape[2] if arr.ndim == 3 else 1)
    count = int(p["factor"] * pixels.shape[0])
    chosen = rng.permutation(pixels.shape[0])[:count]
    pixels[chosen] = pixels[rng.permutation(chosen)]
    return Image.fromarray(arr, img.mode)


SHUFFLE_PIXELS = Family("shuffle_pixels", sample_shuffle_pixels, apply_shuffle_pixels, ShufflePixelsParams)
