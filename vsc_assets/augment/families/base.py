"""What every family is made of: its record, the context a chain runs in, and the draws they share.

A family is one ``Family`` record: a sampler that draws every random number
(``sample(rng, ctx) -> params``, a JSON-safe TypedDict), an apply that is
deterministic given them (``apply(img, params, ctx) -> img``), and the
properties the production path reads (``resolution.py``): whether it ends at
256x256, and whether it commutes with downscaling.

Every apply is the recipe as written (docs/recipe.md): it works at the
resolution of the image it receives, and parameters given in pixels are pixels
of that image. A family never raises on anything its sampler can draw: where
an input makes the published call fail, a deterministic fallback applies and is
noted through ``ctx.fallback`` so it ends up in the file's record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
from PIL import Image

from vsc_assets.augment import kernels
from vsc_assets.augment.materials import Materials, load_pool_image
from vsc_assets.constants import OUTPUT_SIZE

SQUARE = (OUTPUT_SIZE, OUTPUT_SIZE)
# Where noise, shuffle_pixels and perspective draw their randomness (docs/recipe.md, "Frozen randomness"):
# AugLy's fixed default seeds, as the published data was made, or each chain's own seed.
PUBLISHED, PER_IMAGE = "published", "per_image"
RANDOMNESS = (PUBLISHED, PER_IMAGE)
Size = tuple[float, float]
PoolSize = Callable[[str], tuple[int, int]]


@dataclass
class ChainContext:
    """What families may read (the materials, recipe choices) and where fallbacks go."""

    materials: Materials
    meme_random_font: bool = False  # s3 draws the meme font; s27 keeps AugLy's default
    randomness: str = PUBLISHED
    reference: bool = False  # the recipe as written: every family's own ``apply``, never a production kernel
    fallbacks: list = field(default_factory=list)

    def fallback(self, family: str, reason: str, **detail) -> None:
        self.fallbacks.append({"family": family, "reason": reason, **detail})


def _always(_params) -> bool:
    return True


def _never(_params) -> bool:
    return False


def _same_size(_params, w: float, h: float) -> Size:
    return w, h


def _unscaled(params, _factor: int):
    return params


def _shorter_side(_params, w: float, h: float, _pool_size: PoolSize) -> float:
    return min(w, h) / OUTPUT_SIZE


@dataclass(frozen=True)
class Family:
    """One augmentation family of the recipe (docs/recipe.md, "The 24 families")."""

    name: str
    sample: Callable[[np.random.Generator, ChainContext], Mapping[str, Any]]
    apply: Callable[[Image.Image, Any, ChainContext], Image.Image]
    params: type  # the TypedDict its sampler returns and its apply reads
    ends_at_256: bool = False  # resizes its own result to 256x256 ("-> 256")
    # Whether its output, shrunk, is (in distribution) its output on the shrunk input:
    # true of flips, colour, geometry measured in fractions and low-pass filters whose cut-off
    # scales (``at_scale``); false of grain, blocks and anything else in pixels.
    commutes_with_downscale: Callable[[Any], bool] = _never
    # For a family that commutes: the size it leaves (rotate keeps an inscribed rectangle).
    size_after: Callable[[Any, float, float], Size] = _same_size
    # For a family that ends at 256: pixels of its input per output pixel at that resize.
    extent: Callable[[Any, float, float, PoolSize], float] = _shorter_side
    # For a family that commutes: its parameters for an image reduced by an integer factor
    # (the same for all but those given in pixels: perspective's sigma, blur's radius,
    # pixelization's ratio of the image it coarsens).
    at_scale: Callable[[Any, int], Any] = _unscaled
    # The production path's kernel where it has one: faster, and measured by the fidelity
    # benchmark to be indistinguishable from ``apply`` (docs/benchmarks.md); the reference
    # path, and replaying a reference file, always use ``apply``.
    fast: Callable[[Image.Image, Any, ChainContext], Image.Image] | None = None

    @property
    def scaled_when_reduced(self) -> bool:
        """Whether the production path gives it other parameters when it runs it reduced."""
        return self.at_scale is not _unscaled

    def run(self, img: Image.Image, params, ctx: ChainContext) -> Image.Image:
        kernel = self.fast if self.fast is not None and not ctx.reference else self.apply
        return kernel(img, params, ctx)


def scale_free(**kwargs) -> dict:
    """Keyword arguments of a ``Family`` that commutes with downscaling for every draw."""
    return {"commutes_with_downscale": _always, **kwargs}


# ---------------------------------------------------------------- draws shared by families


def uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def randint(rng: np.random.Generator, low: int, high: int) -> int:
    """Uniform integer with both ends included."""
    return int(rng.integers(low, high + 1))


def colour(rng: np.random.Generator) -> list[int]:
    return [int(c) for c in rng.integers(0, 256, size=3)]


def seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def pick(rng: np.random.Generator, items) -> int:
    return int(rng.integers(0, len(items)))


# ---------------------------------------------------------------- image steps shared by families


def square(img: Image.Image, ctx: ChainContext | None = None) -> Image.Image:
    """A family's own resize to 256: bicubic, Pillow's default in the published environment;
    on the production path (a ``ctx`` that is not the reference), by libvips where it shrinks."""
    if ctx is not None and not ctx.reference:
        return kernels.square(img)
    return img.resize(SQUARE, Image.Resampling.BICUBIC)


def _load_pool(name: str, family: str, ctx: ChainContext, at_least: int | None) -> tuple[Image.Image, bool]:
    img, problem = load_pool_image(ctx.materials.pool_path(name), at_least)
    if problem:
        ctx.fallback(family, "pool image unreadable, mid-grey used", pool_image=name, error=problem)
    return img, problem is None


def pool_image(name: str, family: str, ctx: ChainContext) -> Image.Image:
    """A pool image at its full resolution, as the recipe opens it."""
    return _load_pool(name, family, ctx, None)[0]


def pool_square(name: str, family: str, ctx: ChainContext) -> Image.Image:
    """A pool image resized to 256x256, for the families that only use it at that size. The
    production path decodes it no larger than that needs, and keeps the result for the next
    chain that draws it (squared_pool.py); the stand-in for an unreadable one is never kept."""
    if ctx.reference:
        return square(pool_image(name, family, ctx), ctx)
    store = ctx.materials.squared_pool
    file = store.file_for(ctx.materials.pool_path(name)) if store is not None else None
    if file is not None and (kept := store.read(file)) is not None:
        return kept
    img, readable = _load_pool(name, family, ctx, OUTPUT_SIZE)
    out = square(img, ctx)
    if file is not None and readable:
        store.keep(file, out)
    return out
