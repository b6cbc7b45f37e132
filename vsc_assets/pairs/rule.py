"""The pair rule of docs/recipe.md (artifact 6), and the seeded shuffle of pair numbers."""

from __future__ import annotations

import numpy as np

from vsc_assets.augment.seeding import file_rng, file_seed
from vsc_assets.pairs.ground_truth import GtRow


def pair_times(row: GtRow) -> list[tuple[int, float, float]]:
    """(u, query time, reference time) for u = 1, 2, ... while both stay inside their segment."""
    rate = row.rate
    out = []
    u = 1
    while row.query_start + u < row.query_end and row.ref_start + rate * u < row.ref_end:
        out.append((u, row.query_start + u, row.ref_start + rate * u))
        u += 1
    return out


def shuffled_numbers(count: int, base_seed: int, name: str) -> np.ndarray:
    """shuffled[n] is the folder number of pair n (query and reference permuted together);
    ``name``, the artifact's, keys the seed as a set's name keys its files'."""
    return file_rng(file_seed(name, base_seed, "permutation", count)).permutation(count)
