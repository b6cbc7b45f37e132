"""The demo dataset: DISC21-like JPEGs cut from the natural photographs scikit-image ships.

Deterministic (one seeded generator per file), made on the fly, nothing downloaded.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from PIL import Image

from vsc_assets.augment.seeding import file_rng, file_seed
from vsc_assets.parallel import run_tasks
from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.io.images import encode_jpeg

PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "ihc.png",
    "grass.png",
    "gravel.png",
    "brick.png",
    "camera.png",
    "moon.png",
    "coins.png",
    "cell.png",
)
DEMO_IMAGES = 1000
# One demo source is written truncated, so the demo shows how bad input is reported.
DEMO_TRUNCATED = ("T000500.jpg",)
# The long side of demo images, uniform in this range: DISC21's photos are of this order.
DEMO_LONG_SIDE = (400, 1400)


def photo_dir() -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-image is not installed; it carries the demo's photographs")
    return Path(spec.submodule_search_locations[0]) / "data"


@lru_cache(maxsize=None)
def load_photo(name: str) -> Image.Image:
    with Image.open(photo_dir() / name) as im:
        return im.convert("RGB")


def demo_image(index: int, seed: int = 0, long_side: tuple[int, int] = DEMO_LONG_SIDE) -> Image.Image:
    """A random crop of a random photo, rescaled to a random size, maybe mirrored."""
    rng = file_rng(file_seed("demo-disc21", seed, str(index), 0))
    photo = load_photo(PHOTOS[int(rng.integers(len(PHOTOS)))])
    w, h = photo.size
    frac_w, frac_h = rng.uniform(0.35, 1.0, size=2)
    cw, ch = max(16, int(w * frac_w)), max(16, int(h * frac_h))
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    img = photo.crop((left, top, left + cw, top + ch))
    scale = int(rng.integers(long_side[0], long_side[1] + 1)) / max(cw, ch)
    img = img.resize((max(8, round(cw * scale)), max(8, round(ch * scale))), Image.Resampling.BICUBIC)
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img


@dataclass(frozen=True)
class DemoJob:
    folder: Path
    seed: int
    long_side: tuple[int, int]


def write_demo_images(job: DemoJob, indices: list[int]) -> int:
    for index in indices:
        rng = file_rng(file_seed("demo-disc21-quality", job.seed, str(index), 0))
        data = encode_jpeg(demo_image(index, job.seed, job.long_side), quality=int(rng.integers(70, 96)))
        path = job.folder / f"T{index:06d}.jpg"
        if path.name in DEMO_TRUNCATED:
            data = data[: len(data) // 3]
        write_bytes_atomic(path, data)
    return len(indices)


def make_disc21_demo(
    folder: Path,
    count: int = DEMO_IMAGES,
    seed: int = 0,
    long_side: tuple[int, int] = DEMO_LONG_SIDE,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write T000000.jpg ... into ``folder`` unless present; returns how many were written."""
    folder.mkdir(parents=True, exist_ok=True)
    todo = [i for i in range(count) if not (folder / f"T{i:06d}.jpg").exists()]
    batches = [todo[i : i + 50] for i in range(0, len(todo), 50)]
    written = 0
    for done in run_tasks(write_demo_images, DemoJob(folder, seed, long_side), batches, workers):
        written += done
        if progress:
            progress(written, len(todo))
    return written
