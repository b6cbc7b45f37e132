"""`vsc-assets bench --kernels`: each production kernel against the recipe as written, side by side.

For every family with a production kernel, on the same demo photos (at the
size they are decoded, and at 256x256) and the same drawn parameters, the
recipe's own ``apply`` and the kernel are timed in turn, and their outputs
compared pixel by pixel. Noise and shuffle_pixels in the published mode are
timed against AugLy's own functions, which they reproduce byte for byte. How
the production path's outputs compare in distribution is ``--fidelity``'s
question; this one asks how much faster, and how far apart, each kernel is.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import augly.image.functional as augly
import numpy as np
from PIL import Image

from vsc_assets.augment.families import REGISTRY, ChainContext
from vsc_assets.augment.materials import list_materials
from vsc_assets.catalog.inputs import sources_in_folder
from vsc_assets.constants import OUTPUT_SIZE
from vsc_assets.demo.images import make_disc21_demo
from vsc_assets.io.images import BadImageError, load_rgb


def _timed(fn: Callable[[], Image.Image]) -> tuple[float, Image.Image]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _compare(baseline: Callable, candidate: Callable, cases: list) -> dict:
    """Each case through both, in turn: the median per-case speed-up and how far the outputs are apart."""
    ratios, identical, diffs, worst = [], 0, [], 0
    for case in cases:
        slow, a = _timed(lambda: baseline(*case))
        fast, b = _timed(lambda: candidate(*case))
        ratios.append(slow / max(fast, 1e-9))
        x, y = np.asarray(a, dtype=np.int16), np.asarray(b, dtype=np.int16)
        if x.shape != y.shape:
            diffs.append(float("nan"))
            continue
        d = np.abs(x - y)
        identical += not d.any()
        diffs.append(float(d.mean()))
        worst = max(worst, int(d.max()))
    return {
        "cases": len(cases),
        "speedup": round(statistics.median(ratios), 2),
        "identical": identical,
        "max_level_difference": worst,
        "mean_level_difference": round(statistics.mean(diffs), 3) if diffs else 0.0,
    }


def run_kernels(photos: int = 24, echo=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="vsc-bench-kernels-") as tmp:
        folder = Path(tmp) / "training_images"
        make_disc21_demo(folder, count=photos * 10)
        materials = list_materials(None, folder)
        images = []
        for source in sources_in_folder(folder):
            try:
                images.append(load_rgb(source.path)[0])
            except BadImageError:
                continue  # the demo's one truncated file
        images += [im.resize((OUTPUT_SIZE, OUTPUT_SIZE), Image.Resampling.BICUBIC) for im in images]
        echo(f"kernels on {len(images)} images ({len(images) // 2} as decoded, as many at 256x256)")
        rng = np.random.default_rng(0)
        reference = ChainContext(materials, reference=True)
        production = ChainContext(materials)
        rows = {}
        for family in REGISTRY:
            if family.fast is None:
                continue
            cases = [(im, family.sample(rng, production)) for im in images]
            rows[family.name] = _compare(
                lambda im, p, f=family: f.apply(im, p, reference), lambda im, p, f=family: f.fast(im, p, production), cases
            )
        frozen = {
            "noise": lambda im, p: augly.random_noise(im, mean=p["mean"], var=p["var"]),
            "shuffle_pixels": lambda im, p: augly.shuffle_pixels(im, factor=p["factor"]),
        }
        families = {f.name: f for f in REGISTRY}
        for name, published in frozen.items():
            cases = [(im, families[name].sample(rng, production)) for im in images]
            rows[f"{name} (published, against AugLy's own)"] = _compare(
                published, lambda im, p, f=families[name]: f.apply(im, p, production), cases
            )
    for name, row in rows.items():
        echo(
            f"{name:48s} x{row['speedup']:5.2f}  identical {row['identical']:3d}/{row['cases']}"
            f"  max {row['max_level_difference']:3d}  mean {row['mean_level_difference']:.3f} levels"
        )
    return {"kernels": rows}
