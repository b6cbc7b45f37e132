"""The s27 and s3 chains and variant 0, as in docs/recipe.md.

``plan_chain`` draws everything (which families, in which order, their
parameters); ``run_plan`` applies a plan and is deterministic. A plan is the
JSON-safe ``ops`` list of the record, so any output can be replayed from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from vsc_assets.augment.materials import Materials
from vsc_assets.augment.families import FAMILIES, FAMILY_NAMES, SQUARE, ChainContext
from vsc_assets.augment.resolution import SourceImage, start_reduction


@dataclass(frozen=True)
class Recipe:
    name: str
    k_min: int
    k_max: int
    meme_random_font: bool


RECIPES = {
    "s27": Recipe("s27", 2, 7, meme_random_font=False),
    "s3": Recipe("s3", 3, 3, meme_random_font=True),
}


def recipe_for_set(set_name: str) -> Recipe:
    """The recipe a set's name carries: ``..._s27_...`` is s27, ``..._s3_...`` (and the reference set) s3."""
    for part in set_name.split("_"):
        if part in RECIPES:
            return RECIPES[part]
    raise ValueError(f"no recipe named in set {set_name!r} (expected s27 or s3)")


def plan_chain(rng: np.random.Generator, recipe: Recipe, ctx: ChainContext) -> list[dict]:
    k = int(rng.integers(recipe.k_min, recipe.k_max + 1))
    chosen = rng.choice(len(FAMILY_NAMES), size=k, replace=False)  # random order, no repeats
    ops = []
    for index in chosen:
        family = FAMILIES[FAMILY_NAMES[index]]
        ops.append({"name": family.name, "params": family.sample(rng, ctx)})
    return ops


def _rgb(img: Image.Image) -> Image.Image:
    return img if img.mode == "RGB" else img.convert("RGB")


def run_plan(img: Image.Image, ops: list[dict], ctx: ChainContext) -> Image.Image:
    img = _rgb(img)
    for op in ops:
        img = _rgb(FAMILIES[op["name"]].apply(img, op["params"], ctx))
    return img if img.size == SQUARE else img.resize(SQUARE, Image.Resampling.BILINEAR)


def plain_resize(img: Image.Image) -> Image.Image:
    """Variant 0: the source itself at 256x256."""
    return img.convert("RGB").resize(SQUARE, Image.Resampling.BICUBIC)


VARIANT0_OPS = [{"name": "resize", "params": {"size": SQUARE[0], "resample": "bicubic"}}]


@dataclass(frozen=True)
class Variant:
    image: Image.Image
    ops: list[dict]
    fallbacks: list[dict]
    start_reduction: int = 1  # the chain ran on the source reduced by this factor (1: full size)


def make_variant(
    source: Image.Image | SourceImage,
    variant: int,
    recipe: Recipe,
    materials: Materials,
    rng: np.random.Generator,
    reference: bool = False,
) -> Variant:
    """One output image with what was drawn for it.

    ``reference`` runs the recipe exactly as written, always on the full-size
    source; otherwise a chain starts from a reduced source where
    ``resolution.start_reduction`` shows that cannot change what it produces.
    """
    if not isinstance(source, SourceImage):
        source = SourceImage(source)
    if variant == 0:
        return Variant(plain_resize(source.full), VARIANT0_OPS, [])
    ctx = ChainContext(materials, recipe.meme_random_font)
    ops = plan_chain(rng, recipe, ctx)
    factor = 1 if reference else start_reduction(ops, source.full.size, materials.pool_size)
    return Variant(run_plan(source.reduced(factor), ops, ctx), ops, ctx.fallbacks, factor)


def replay(source: Image.Image | SourceImage, record: dict, materials: Materials) -> Image.Image:
    """The output a record describes, from its decoded source: what was drawn, applied again."""
    if not isinstance(source, SourceImage):
        source = SourceImage(source)
    if record["variant"] == 0:
        return plain_resize(source.full)
    meme_random_font = recipe_for_set(record["set"]).meme_random_font
    ctx = ChainContext(materials, meme_random_font)
    return run_plan(source.reduced(record["start_reduction"]), record["ops"], ctx)
