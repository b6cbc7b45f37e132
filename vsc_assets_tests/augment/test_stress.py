"""Eight thousand sampled chains over varied images and every bundled font: not one exception, every family
applied; and every bundled font draws its text."""

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
    """Pool images of odd shapes, small so the chains stay quick: tiny, skinny, flat, natural."""
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


TEXTS = ([*range(0, 20)], [*range(20, 40)], [*range(40, 60)], [*range(80, 100)], [10])  # indices into each font's characters
MOST = 0.8  # of its chains in which every bundled font must draw


def test_every_font_draws_text_in_most_of_its_chains(materials):
    """A font that fails becomes a recorded fallback and the chain goes on, so the test counts what
    was drawn: pixels that changed under overlay_text, dark pixels in meme_format's white band."""
    photo = Image.new("RGB", (300, 200), (200, 200, 200))
    drew: dict[str, int] = {}
    fallbacks: dict[str, list[str]] = {}
    for font in materials.fonts:
        ctx = ChainContext(materials)
        drawn = 0
        for text in TEXTS:
            p = {"text": text, "font": font.name, "color": [9, 9, 9], "opacity": 1.0, "font_size": 0.9, "x_pos": 0.0, "y_pos": 0.0}
            drawn += int(np.asarray(FAMILIES["overlay_text"].apply(photo, p, ctx)).min() < 100)
        m = {"text": "aBcDeFgHiJ", "font": font.name, "opacity": 1.0, "text_color": [0, 0, 0], "caption_height": 300, "meme_bg_color": [255, 255, 255]}
        meme = FAMILIES["meme_format"].apply(photo, m, ctx)
        meme = np.asarray(meme)  # the band of 300 px over the 200 px photo, resized to 256x256: the top 60%
        drawn += int(meme[: int(meme.shape[0] * 300 / 500) - 2].min() < 100)
        drew[font.name] = drawn
        fallbacks[font.name] = [f["reason"] for f in ctx.fallbacks]
    chains = len(TEXTS) + 1
    never = [f"{name}: {fallbacks[name]}" for name, n in drew.items() if n == 0]
    assert not never, "fonts that never draw:\n" + "\n".join(never)
    seldom = {name: f"{n}/{chains}" for name, n in drew.items() if n < MOST * chains}
    assert not seldom, f"fonts that draw in fewer than {MOST:.0%} of their chains: {seldom}"
    assert len(drew) == len(materials.fonts) > 0


@pytest.mark.slow
def test_stress_eight_thousand_chains(materials, tmp_path):
    job = StressJob(replace(materials, pool=stress_pool(tmp_path / "pool")))
    results = list(run_tasks(run_batch, job, range(0, CHAINS, BATCH), workers=2))
    failures = [f for r in results for f in r["failures"]]
    families = sum((r["families"] for r in results), Counter())
    assert len(results) * BATCH == CHAINS
    assert not failures, "\n".join(failures[:20])
    assert set(families) == set(FAMILIES)
    assert sum(families.values()) > CHAINS * 2
