"""Turning one source into its 20 output files: the unit of work a worker runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vsc_assets.augment.assets_pool import AugmentAssets
from vsc_assets.augment.recipes import make_variant, recipe_for_set
from vsc_assets.augment.record import make_record, record_json
from vsc_assets.augment.resolution import SourceImage
from vsc_assets.augment.seeding import file_rng, file_seed
from vsc_assets.constants import VARIANTS_PER_SOURCE
from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.io.images import BadImageError, encode_jpeg, load_rgb


@dataclass(frozen=True)
class SetJob:
    """What every source of one set shares; sent to each worker once."""

    set_name: str
    base_seed: int
    assets: AugmentAssets
    out_dir: Path
    temp_dir: Path | None = None  # the partition's own temp folder (same filesystem as out_dir)


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
        out = make_variant(image, variant, recipe, job.assets, file_rng(seed), reference)
        record = make_record(job.set_name, job.base_seed, source.source_id, variant, seed, out, info)
        yield output_name(source.pid, variant), encode_jpeg(out.image), record


def augment_source(job: SetJob, source: Source) -> list[dict]:
    """Write the 20 files of one source; return its manifest rows (one error row if unreadable)."""
    base = {"pid": source.pid, "source_file": source.path.name}
    try:
        image, info = load_rgb(source.path)
    except BadImageError as exc:
        return [{**base, "name": None, "variant": None, "record": None, "error": exc.reason}]
    rows = []
    for name, data, record in render_source(job, source, image, info):
        write_bytes_atomic(job.out_dir / name, data, temp_dir=job.temp_dir)
        rows.append({**base, "name": name, "variant": record["variant"], "record": record_json(record), "error": None})
    return rows
