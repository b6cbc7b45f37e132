"""The demo dataset: DISC21-like JPEGs cut from the natural photographs scikit-image ships.

Deterministic (one seeded generator per file), made on the fly, nothing downloaded.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from PIL import Image

from vsc_assets.augment.seeding import file_rng, file_seed
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


def photo_dir() -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-image is not installed; it carries the demo's photographs")
    return Path(spec.submodule_search_locations[0]) / "data"


@lru_cache(maxsize=None)
def load_photo(name: str) -> Image.Image:
    with Image.open(photo_dir() / name) as im:
        return im.convert("RGB")


def demo_image(index: int, seed: int = 0) -> Image.Image:
    """A random crop of a random photo, rescaled to a random size, maybe mirrored."""
    rng = file_rng(file_seed("demo-disc21", seed, str(index), 0))
    photo = load_photo(PHOTOS[int(rng.integers(len(PHOTOS)))])
    w, h = photo.size
    frac_w, frac_h = rng.uniform(0.35, 1.0, size=2)
    cw, ch = max(16, int(w * frac_w)), max(16, int(h * frac_h))
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    img = photo.crop((left, top, left + cw, top + ch))
    long_side = int(rng.integers(400, 1401))
    scale = long_side / max(cw, ch)
    img = img.resize((max(8, round(cw * scale)), max(8, round(ch * scale))), Image.Resampling.BICUBIC)
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img


def make_disc21_demo(folder: Path, count: int = DEMO_IMAGES, seed: int = 0) -> int:
    """Write T000000.jpg ... into ``folder`` unless present; returns how many were written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for index in range(count):
        path = folder / f"T{index:06d}.jpg"
        if path.exists():
            continue
        rng = file_rng(file_seed("demo-disc21-quality", seed, str(index), 0))
        data = encode_jpeg(demo_image(index, seed), quality=int(rng.integers(70, 96)))
        if path.name in DEMO_TRUNCATED:
            data = data[: len(data) // 3]
        write_bytes_atomic(path, data)
        written += 1
    return written
