"""8,000 sampled chains over varied images and every bundled font: not one exception."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import pytest
from PIL import Image

from vsc_assets.augment.families import FAMILIES, ChainContext
from vsc_assets.augment.materials import Materials
from vsc_assets.augment.recipes import RECIPES, make_variant
from vsc_assets.augment.seeding import file_rng
from vsc_assets.demo.images import demo_image
from vsc_assets.parallel import run_tasks

CHAINS = 8_000
BATCH = 500


def stress_images() -> list[Image.Image]:
    """Tiny, skinny, square, greyscale-looking, flat, noisy and natural working images."""
    natural = [demo_image(i).convert("RGB") for i in range(4)]
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (97, 131, 3), dtype=np.uint8))
    return [
        Image.new("RGB", (32, 32), (0, 0, 0)),
        Image.new("RGB", (32, 32), (255, 255, 255)),
        natural[0].resize((32, 512)),
        natural[1].resize((512, 32)),
        natural[2].resize((33, 47)),
        natural[3].convert("L").convert("RGB").resize((200, 150)),
        noise,
        natural[0].resize((512, 384)),
        natural[1].resize((120, 90)),
        natural[2].resize((64, 64)),
        natural[3].resize((560, 512)),  # large enough for chains that start reduced
    ]


def stress_pool(folder) -> tuple:
    """Pool images of odd shapes, small so the 20,000 chains stay quick: tiny, skinny, flat, natural."""
    folder.mkdir(parents=True, exist_ok=True)
    shapes = [(1, 1), (3, 200), (200, 3), (64, 64), (120, 90), (90, 160), (300, 200)]
    pool = []
    for i, size in enumerate(shapes):
        path = folder / f"T{i:05d}9.jpg"
        demo_image(20 + i).convert("RGB").resize(size).save(path, quality=90)
        pool.append(path)
    return tuple(pool)


@dataclass(frozen=True)
class StressJob:
    materials: Materials


def run_batch(job: StressJob, start: int) -> dict:
    images = stress_images()
    failures, fallbacks, families = [], Counter(), Counter()
    for i in range(start, start + BATCH):
        recipe = RECIPES["s27" if i % 2 else "s3"]
        image = images[i % len(images)]
        try:
            made = make_variant(image, 1, recipe, job.materials, file_rng(i), reference=i % 3 == 0)
            assert made.image.size == (256, 256) and made.image.mode == "RGB"
            families.update(op["name"] for op in made.ops)
            fallbacks.update(n["family"] for n in made.fallbacks)
        except Exception as exc:  # noqa: BLE001 - the point is to catch anything
            failures.append(f"chain {i} on {image.size}: {type(exc).__name__}: {exc}")
    return {"failures": failures, "fallbacks": fallbacks, "families": families}


def test_every_font_renders_in_overlay_text_and_meme(materials):
    photo = demo_image(5).convert("RGB").resize((300, 200))
    for font in materials.fonts:
        ctx = ChainContext(materials)
        for text in ([*range(0, 20)], [*range(80, 100)], [0]):
            p = {"text": text, "font": font.name, "color": [9, 9, 9], "opacity": 1.0, "font_size": 0.9, "x_pos": 0.0, "y_pos": 0.0}
            FAMILIES["overlay_text"].apply(photo, p, ctx)
        m = {"text": "aBcDeFgHiJ", "font": font.name, "opacity": 1.0, "text_color": [0, 0, 0], "caption_height": 300, "meme_bg_color": [255, 255, 255]}
        FAMILIES["meme_format"].apply(photo, m, ctx)


@pytest.mark.slow
def test_stress_twenty_thousand_chains(materials, tmp_path):
    job = StressJob(replace(materials, pool=stress_pool(tmp_path / "pool")))
    results = list(run_tasks(run_batch, job, range(0, CHAINS, BATCH), workers=2))
    failures = [f for r in results for f in r["failures"]]
    families = sum((r["families"] for r in results), Counter())
    assert not failures, "\n".join(failures[:20])
    assert set(families) == set(FAMILIES)
    assert sum(len(r["failures"]) for r in results) == 0
    assert sum(sum(r["families"].values()) for r in results) > CHAINS * 2
