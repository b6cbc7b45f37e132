"""Telling two sets of augmented images apart without aligning them.

Each output file is summarised by statistics that do not depend on where
things are in the image (detail at 1, 2 and 4 px, JPEG blocking, grain,
flatness, tone and colour). Two sets are compared statistic by statistic with
the two-sample Kolmogorov-Smirnov distance, against the critical value at a
Bonferroni-corrected level. Used by ``vsc-assets bench --fidelity`` to hold
the production path to the recipe as written.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageFilter

STATISTICS = (
    "png_bits_per_px",
    "hf_1px",
    "hf_2px",
    "hf_4px",
    "blockiness_2px",
    "blockiness_4px",
    "blockiness_8px",
    "noise_residual",
    "flat_fraction",
    "contrast",
    "brightness",
    "colourfulness",
)


def _shift_energy(grey: np.ndarray, d: int) -> float:
    return float((np.abs(grey[:, d:] - grey[:, :-d]).mean() + np.abs(grey[d:] - grey[:-d]).mean()) / 2)


def _blockiness(grey: np.ndarray, period: int) -> float:
    """Mean step across the lines of a ``period`` grid over the mean step elsewhere (1: none)."""
    ratios = []
    for diffs in (np.abs(np.diff(grey, axis=1)), np.abs(np.diff(grey, axis=0)).T):
        on_grid = (np.arange(diffs.shape[1]) + 1) % period == 0
        ratios.append((diffs[:, on_grid].mean() + 1e-3) / (diffs[:, ~on_grid].mean() + 1e-3))
    return float(np.mean(ratios))


def image_statistics(data: bytes) -> np.ndarray:
    """The statistics of one encoded output file, in the order of ``STATISTICS``."""
    with Image.open(io.BytesIO(data)) as im:
        rgb_image = im.convert("RGB")
    rgb = np.asarray(rgb_image, dtype=np.float32)
    grey_image = rgb_image.convert("L")
    grey = np.asarray(grey_image, dtype=np.float32)
    png = io.BytesIO()
    rgb_image.save(png, format="PNG", compress_level=1)
    residual = grey - np.asarray(grey_image.filter(ImageFilter.MedianFilter(3)), dtype=np.float32)
    h, w = grey.shape
    blocks = grey[: h - h % 8, : w - w % 8].reshape(h // 8, 8, w // 8, 8)
    rg = rgb[..., 0] - rgb[..., 1]
    yb = (rgb[..., 0] + rgb[..., 1]) / 2 - rgb[..., 2]
    return np.array(
        [
            len(png.getvalue()) * 8 / (w * h),
            _shift_energy(grey, 1),
            _shift_energy(grey, 2),
            _shift_energy(grey, 4),
            _blockiness(grey, 2),
            _blockiness(grey, 4),
            _blockiness(grey, 8),
            float(residual.std()),
            float((blocks.std(axis=(1, 3)) < 1.0).mean()),
            float(grey.std()),
            float(grey.mean()),
            float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())),
        ]
    )


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    a, b = np.sort(a), np.sort(b)
    values = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, values, side="right") / len(a)
    cdf_b = np.searchsorted(b, values, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_critical(n: int, m: int, alpha: float) -> float:
    """The distance above which two samples of sizes n and m differ at level ``alpha`` (asymptotic)."""
    return math.sqrt(-0.5 * math.log(alpha / 2)) * math.sqrt((n + m) / (n * m))


def compare(
    candidate: np.ndarray, reference: np.ndarray, floor_a: np.ndarray, floor_b: np.ndarray, alpha: float
) -> list[dict]:
    """Per statistic: KS(candidate, reference), its critical value, and KS(floor_a, floor_b).

    Rows are samples, columns follow ``STATISTICS``. ``floor_a``/``floor_b`` are
    two independent draws of the reference: how far apart the recipe is from itself.
    """
    critical = ks_critical(len(candidate), len(reference), alpha)
    return [
        {
            "statistic": name,
            "ks": round(ks_distance(candidate[:, i], reference[:, i]), 4),
            "critical": round(critical, 4),
            "floor": round(ks_distance(floor_a[:, i], floor_b[:, i]), 4),
        }
        for i, name in enumerate(STATISTICS)
    ]
