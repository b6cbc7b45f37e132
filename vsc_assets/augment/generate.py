"""Turning one decoded source into its 20 output images, each with the record of what was drawn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vsc_assets.augment.families import PUBLISHED
from vsc_assets.augment.materials import Materials
from vsc_assets.augment.recipes import make_variant, recipe_for_set
from vsc_assets.augment.record import make_record
from vsc_assets.augment.resolution import SourceImage
from vsc_assets.augment.seeding import file_rng, file_seed
from vsc_assets.constants import VARIANTS_PER_SOURCE
from vsc_assets.io.images import encode_jpeg


@dataclass(frozen=True)
class SetJob:
    """What every source of one set shares; sent to each worker once."""

    set_name: str
    base_seed: int
    materials: Materials
    randomness: str = PUBLISHED  # docs/recipe.md, "Frozen randomness"


@dataclass(frozen=True)
class Source:
    path: Path
    pid: int

    @property
    def source_id(self) -> str:
        return self.path.stem


def output_name(pid: int, variant: int) -> str:
    return f"{pid}_{variant}.jpg"


def render_source(job: SetJob, source: Source, image: Image.Image, info: dict, reference: bool = False):
    """Yield (file name, JPEG bytes, record) for the 20 variants of a decoded source.

    ``reference`` runs every chain exactly as the recipe is written (the fidelity
    benchmark's yardstick); the default is the production path.
    """
    recipe = recipe_for_set(job.set_name)
    image = SourceImage(image)
    for variant in range(VARIANTS_PER_SOURCE):
        seed = file_seed(job.set_name, job.base_seed, source.source_id, variant)
        out = make_variant(image, variant, recipe, job.materials, file_rng(seed), reference, job.randomness)
        record = make_record(job.set_name, job.base_seed, source.source_id, variant, seed, out, info)
        yield output_name(source.pid, variant), encode_jpeg(out.image), record
