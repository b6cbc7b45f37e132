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

from vsc_assets.augment.materials import Materials, load_pool_image
from vsc_assets.constants import OUTPUT_SIZE

SQUARE = (OUTPUT_SIZE, OUTPUT_SIZE)
Size = tuple[float, float]
PoolSize = Callable[[str], tuple[int, int]]


@dataclass
class ChainContext:
    """What families may read (the materials, recipe choices) and where fallbacks go."""

    materials: Materials
    meme_random_font: bool = False  # s3 draws the meme font; s27 keeps AugLy's default
    fallbacks: list = field(default_factory=list)

    def fallback(self, family: str, reason: str, **detail) -> None:
        self.fallbacks.append({"family": family, "reason": reason, **detail})


def _always(_params) -> bool:
    return True


def _never(_params) -> bool:
    return False


def _same_size(_params, w: float, h: float) -> Size:
    return w, h


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
    # true of flips, colour and geometry measured in fractions, false of anything in pixels.
    commutes_with_downscale: Callable[[Any], bool] = _never
    # For a family that commutes: the size it leaves (rotate keeps an inscribed rectangle).
    size_after: Callable[[Any, float, float], Size] = _same_size
    # For a family that ends at 256: pixels of its input per output pixel at that resize.
    extent: Callable[[Any, float, float, PoolSize], float] = _shorter_side


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


def square(img: Image.Image, resample=Image.Resampling.BICUBIC) -> Image.Image:
    """A family's own resize to 256: bicubic, Pillow's default in the published environment."""
    return img.resize(SQUARE, resample)


def pool_image(name: str, family: str, ctx: ChainContext) -> Image.Image:
    """A pool image at its full resolution, as the recipe opens it."""
    img, problem = load_pool_image(ctx.materials.pool_path(name))
    if problem:
        ctx.fallback(family, "pool image unreadable, mid-grey used", pool_image=name, error=problem)
    return img
