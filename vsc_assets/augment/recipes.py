"""The s27 and s3 chains and variant 0, as in docs/recipe.md.

``plan_chain`` draws everything (which families, in which order, their
parameters); ``run_plan`` applies a plan and is deterministic. A plan is the
JSON-safe ``ops`` list of the record, so any output can be replayed from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from vsc_assets.augment.families import FAMILIES, FAMILY_NAMES, PER_IMAGE, PUBLISHED, SQUARE, ChainContext
from vsc_assets.augment.materials import Materials
from vsc_assets.augment.resolution import Shrink, SourceImage, start_reduction

# Which kernels made a file: the recipe's own applies (the reference path, and every file
# made before the production kernels existed), or this version of the production kernels.
RECIPE_KERNELS = "recipe"
PRODUCTION_KERNELS = "production-3"


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


def run_plan(img: Image.Image, ops: list[dict], ctx: ChainContext, shrink: Shrink | None = None) -> Image.Image:
    """Apply the plan to ``img`` (the source, reduced by ``shrink.start`` where it says so).

    While the image is smaller than the recipe's, a family whose parameters are in pixels of
    its input gets them at that scale (``Family.at_scale``). A ``shrink.factor`` of 0 is chosen
    when the chain gets to ``shrink.after``, and written back for the record.
    """
    img = _rgb(img)
    scale = shrink.start if shrink else 1
    for i, op in enumerate(ops):
        family = FAMILIES[op["name"]]
        params = family.at_scale(op["params"], scale) if scale > 1 else op["params"]
        img = _rgb(family.run(img, params, ctx))
        if family.ends_at_256:
            scale = 1
        if shrink is not None and shrink.after == i:
            if not shrink.factor:
                shrink.factor = start_reduction(ops[i + 1 :], img.size, ctx.materials.pool_size)
            if shrink.factor > 1:
                img = img.reduce(shrink.factor)
                scale = shrink.factor
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
    shrink: Shrink = field(default_factory=Shrink)  # where the chain ran smaller than the recipe writes it
    randomness: str = PUBLISHED  # where noise, shuffle_pixels and perspective drew from
    kernels: str = RECIPE_KERNELS


def make_variant(
    source: Image.Image | SourceImage,
    variant: int,
    recipe: Recipe,
    materials: Materials,
    rng: np.random.Generator,
    reference: bool = False,
    randomness: str = PUBLISHED,
) -> Variant:
    """One output image with what was drawn for it.

    ``reference`` runs the recipe exactly as written, always on the full-size
    source; otherwise a chain starts from a reduced source where
    ``resolution.start_reduction`` shows that cannot change what it produces.
    ``randomness`` is where noise, shuffle_pixels and perspective draw from; the
    draws of the chain are the same in either mode.
    """
    if not isinstance(source, SourceImage):
        source = SourceImage(source)
    if variant == 0:
        return Variant(plain_resize(source.full), VARIANT0_OPS, [], randomness=randomness)
    ctx = ChainContext(materials, recipe.meme_random_font, randomness, reference)
    ops = plan_chain(rng, recipe, ctx)
    if reference:
        return Variant(run_plan(source.full, ops, ctx), ops, ctx.fallbacks, Shrink(), randomness, RECIPE_KERNELS)
    shrink = Shrink.plan(ops, source.full.size, materials.pool_size)
    image = run_plan(source.reduced(shrink.start), ops, ctx, shrink)
    return Variant(image, ops, ctx.fallbacks, shrink, randomness, PRODUCTION_KERNELS)


def replay(source: Image.Image | SourceImage, record: dict, materials: Materials) -> Image.Image:
    """The output a record describes, from its decoded source: what was drawn, applied again."""
    if not isinstance(source, SourceImage):
        source = SourceImage(source)
    if record["variant"] == 0:
        return plain_resize(source.full)
    meme_random_font = recipe_for_set(record["set"]).meme_random_font
    # Records from before the published mode existed were made with each chain's own seed,
    # and those from before the production kernels with the recipe's own applies.
    kernels = record.get("kernels", RECIPE_KERNELS)
    if kernels not in (RECIPE_KERNELS, PRODUCTION_KERNELS):
        raise ValueError(f"the record was made with kernels {kernels!r}; this code replays {RECIPE_KERNELS!r} and {PRODUCTION_KERNELS!r}")
    ctx = ChainContext(materials, meme_random_font, record.get("randomness", PER_IMAGE), kernels == RECIPE_KERNELS)
    shrink = Shrink.from_record(record)
    return run_plan(source.reduced(shrink.start), record["ops"], ctx, shrink)
