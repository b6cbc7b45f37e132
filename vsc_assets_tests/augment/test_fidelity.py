"""The fidelity benchmark: its statistics see what resolution does, and production passes it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vsc_assets.augment.families import FAMILIES, REGISTRY, ChainContext
from vsc_assets.augment.fidelity import STATISTICS, compare, image_statistics, ks_critical, ks_distance
from vsc_assets.bench.fidelity import ALPHA, run_fidelity
from vsc_assets.demo.images import demo_image
from vsc_assets.io.images import encode_jpeg

# Families measured in pixels (for change_channel, its shift mode): the ones a chain meets at full size.
# Families that must see the full resolution, and those the production path runs reduced with
# their pixel parameters scaled (perspective, blur, pixelization, meme_format).
RESOLUTION_DEPENDENT = tuple(
    f.name for f in REGISTRY if not f.commutes_with_downscale({"mode": "shift"}) or f.scaled_when_reduced
)


def test_ks_distance_and_critical_value_agree_with_scipy():
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(0.2, 1.0, size=250)
    assert ks_distance(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert ks_distance(a, a) == 0.0
    # Bonferroni over the 312 tests at alpha 0.01, n = m = 2280: 0.069
    assert ks_critical(2280, 2280, 0.01 / 312) == pytest.approx(0.0696, abs=5e-4)


def _outputs(family: str, params: list[dict], materials, shrink: int) -> np.ndarray:
    """[family] then the final resize, on 1024 px photos shrunk ``shrink`` times first."""
    rows = []
    for i, p in enumerate(params):
        img = demo_image(i).convert("RGB").resize((1024, 768))
        img = img.reduce(shrink) if shrink > 1 else img
        out = FAMILIES[family].apply(img, p, ChainContext(materials)).convert("RGB").resize((256, 256), Image.BILINEAR)
        rows.append(image_statistics(encode_jpeg(out)))
    return np.array(rows)


@pytest.mark.parametrize("family,statistic", [("noise", "hf_1px"), ("encoding_quality", "blockiness_8px")])
def test_statistics_tell_a_family_run_at_lower_resolution_apart(family, statistic, materials):
    # The working-resolution shortcut this benchmark exists to catch: the same parameters
    # at a quarter of the size show up coarser at the output.
    rng = np.random.default_rng(1)
    params = [FAMILIES[family].sample(rng, ChainContext(materials)) for _ in range(24)]
    full = _outputs(family, params, materials, shrink=1)
    again = _outputs(family, params[::-1], materials, shrink=1)
    small = _outputs(family, params, materials, shrink=4)
    rows = {r["statistic"]: r for r in compare(small, full, again, full, alpha=0.01)}
    assert rows[statistic]["ks"] > rows[statistic]["critical"], rows[statistic]
    assert rows[statistic]["floor"] < rows[statistic]["critical"], rows[statistic]


def _noise_at_256(materials, randomness: str, count: int) -> np.ndarray:
    """Noise where most of it lands in the recipe: on a photo a family has already resized to 256."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(count):
        img = demo_image(i % 16).convert("RGB")
        side = int(rng.integers(128, min(img.size) + 1))
        left, top = int(rng.integers(0, img.width - side + 1)), int(rng.integers(0, img.height - side + 1))
        img = img.crop((left, top, left + side, top + side)).resize((256, 256), Image.BICUBIC)
        ctx = ChainContext(materials, randomness=randomness)
        out = FAMILIES["noise"].apply(img, FAMILIES["noise"].sample(rng, ctx), ctx)
        rows.append(image_statistics(encode_jpeg(out)))
    return np.array(rows)


def test_statistics_tell_frozen_noise_from_noise_drawn_per_image(materials):
    """The benchmark can fail on the randomness mode: one noise field for every 256 px image leaves
    a grid the 4 px blockiness sees, beyond the benchmark's own Bonferroni-corrected critical value."""
    frozen = _noise_at_256(materials, "published", 60)
    fresh = _noise_at_256(materials, "per_image", 60)
    alpha = ALPHA / (26 * len(STATISTICS))  # 24 families and 2 recipes, as the benchmark judges them
    rows = {r["statistic"]: r for r in compare(fresh, frozen, frozen[::2], frozen[1::2], alpha)}
    assert rows["blockiness_4px"]["ks"] > rows["blockiness_4px"]["critical"], rows["blockiness_4px"]


@pytest.mark.slow
def test_production_matches_the_recipe_on_resolution_dependent_families():
    result = run_fidelity(sources=8, families=RESOLUTION_DEPENDENT, workers=2, echo=lambda line: None)
    groups = {row["group"] for row in result["fidelity_rows"]}
    assert {f"family:{f}" for f in RESOLUTION_DEPENDENT} <= groups
    assert {"recipe:train_v1_s27_all", "recipe:train_v1_s3_all"} <= groups
    assert result["fidelity_differing_groups"] == []
    assert all(row["worst"]["statistic"] in STATISTICS for row in result["fidelity_rows"])
