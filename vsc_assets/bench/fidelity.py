"""`vsc-assets bench --fidelity`: the production path against the recipe as written.

On demo photos, every source's 19 chains are made three times: by the
production path with base seed A, and by the reference path with seeds A and
B. Production(A) is compared with reference(B); reference(A) against
reference(B) is the noise floor, the recipe against itself. Each of the 24
families is judged on the chains that contain it (both recipes), and each
recipe on all of its chains.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vsc_assets.augment.families import FAMILY_NAMES, PUBLISHED
from vsc_assets.augment.fidelity import STATISTICS, compare, image_statistics
from vsc_assets.augment.generate import SetJob, Source, render_source
from vsc_assets.augment.materials import Materials, list_materials
from vsc_assets.catalog.artifacts import S3, S27
from vsc_assets.catalog.inputs import sources_in_folder
from vsc_assets.demo.images import make_disc21_demo
from vsc_assets.io.images import BadImageError, load_rgb
from vsc_assets.parallel import default_workers, run_tasks

SEED_A, SEED_B = 1, 2
ALPHA = 0.01
RUNS = ("production_a", "reference_a", "reference_b")


@dataclass(frozen=True)
class FidelityJob:
    materials: Materials
    sets: tuple[str, ...]
    randomness: str = PUBLISHED  # both paths in the same mode: like against like


def _chains(job: FidelityJob, set_name: str, seed: int, source: Source, image, info, reference: bool):
    out = []
    for _, data, record in render_source(SetJob(set_name, seed, job.materials, job.randomness), source, image, info, reference):
        if record["variant"]:
            shrunk = record["start_reduction"] > 1 or "reduced_after" in record
            out.append((record["families"], image_statistics(data), shrunk))
    return out


def measure_source(job: FidelityJob, source: Source) -> dict:
    """The statistics of one source's chains, per set and run."""
    image, info = load_rgb(source.path)
    result = {}
    for set_name in job.sets:
        result[set_name] = {
            "production_a": _chains(job, set_name, SEED_A, source, image, info, reference=False),
            "reference_a": _chains(job, set_name, SEED_A, source, image, info, reference=True),
            "reference_b": _chains(job, set_name, SEED_B, source, image, info, reference=True),
        }
    return result


def _stack(chains: list, family: str | None) -> np.ndarray:
    rows = [stats for families, stats, _ in chains if family is None or family in families]
    return np.array(rows).reshape(-1, len(STATISTICS))


def judge(per_set: dict[str, dict[str, list]], families=FAMILY_NAMES) -> list[dict]:
    """One row per family and per recipe: each statistic's KS against its critical value."""
    groups = [(f"family:{f}", f, list(per_set)) for f in families]
    groups += [(f"recipe:{s}", None, [s]) for s in per_set]
    alpha = ALPHA / (len(groups) * len(STATISTICS))  # Bonferroni over every test made
    rows = []
    for label, family, sets in groups:
        runs = {r: np.concatenate([_stack(per_set[s][r], family) for s in sets]) for r in RUNS}
        if min(len(v) for v in runs.values()) < 2:
            continue
        stats = compare(runs["production_a"], runs["reference_b"], runs["reference_a"], runs["reference_b"], alpha)
        worst = max(stats, key=lambda s: s["ks"] / s["critical"])
        rows.append(
            {
                "group": label,
                "n": [len(runs["production_a"]), len(runs["reference_b"])],
                "differs": [s["statistic"] for s in stats if s["ks"] > s["critical"]],
                "worst": worst,
                "max_floor": max(s["floor"] for s in stats),
                "statistics": stats,
            }
        )
    return rows


def fidelity_sources(folder: Path, count: int) -> list[Source]:
    make_disc21_demo(folder, count=count * 10)
    sources = []
    for source in sources_in_folder(folder):
        try:
            load_rgb(source.path)
            sources.append(source)
        except BadImageError:
            continue  # the demo's one truncated file is no fair source for either path
    return sources


def run_fidelity(
    sources: int = 110,
    sets=(S27.name, S3.name),
    families=FAMILY_NAMES,
    workers: int | None = None,
    echo=print,
    randomness: str = PUBLISHED,
) -> dict:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vsc-fidelity-") as tmp:
        folder = Path(tmp) / "training_images"
        chosen = fidelity_sources(folder, sources)
        job = FidelityJob(list_materials(None, folder, squared_pool_dir=Path(tmp) / "pool-256"), tuple(sets), randomness)
        echo(f"fidelity: {len(chosen)} sources x 19 chains x {len(sets)} recipes, production vs reference, randomness {randomness}")
        per_set = {s: {r: [] for r in RUNS} for s in sets}
        done = 0
        for result in run_tasks(measure_source, job, chosen, workers or default_workers()):
            for s in sets:
                for r in RUNS:
                    per_set[s][r].extend(result[s][r])
            done += 1
            if done % 10 == 0 or done == len(chosen):
                echo(f"  {done}/{len(chosen)} sources measured ({time.perf_counter() - started:.0f} s)")
    rows = judge(per_set, families)
    for row in rows:
        w = row["worst"]
        flag = "DIFFERS " + ",".join(row["differs"]) if row["differs"] else "ok"
        echo(
            f"{row['group']:32s} n={row['n'][0]:5d} worst {w['statistic']:15s} KS {w['ks']:.3f}"
            f" crit {w['critical']:.3f} floor {w['floor']:.3f}  {flag}"
        )
    reduced = sum(1 for s in sets for *_, shrunk in per_set[s]["production_a"] if shrunk)
    chains = sum(len(per_set[s]["production_a"]) for s in sets)
    return {
        "fidelity_randomness": randomness,
        "fidelity_sources": len(chosen),
        "fidelity_chains_per_run": chains,
        "fidelity_shrunk_fraction": round(reduced / max(chains, 1), 3),  # chains that ran smaller than the recipe writes
        "fidelity_groups": len(rows),
        "fidelity_differing_groups": [r["group"] for r in rows if r["differs"]],
        "fidelity_worst_ks_over_critical": round(max(r["worst"]["ks"] / r["worst"]["critical"] for r in rows), 3),
        "fidelity_seconds": round(time.perf_counter() - started, 1),
        "fidelity_rows": [
            {"group": r["group"], "n": r["n"], "differs": r["differs"], "worst": r["worst"], "max_floor": r["max_floor"]}
            for r in rows
        ],
    }
