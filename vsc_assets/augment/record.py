"""The JSON-safe record carried by every output file (albumentations' ReplayCompose idea)."""

from __future__ import annotations

import json


def make_record(
    set_name: str,
    base_seed: int,
    source_id: str,
    variant: int,
    seed: int,
    variant_made,
    source_info: dict,
) -> dict:
    """``variant_made`` is a ``recipes.Variant``: what was drawn, what fell back, where it started."""
    return {
        "set": set_name,
        "base_seed": int(base_seed),
        "source_id": source_id,
        "variant": int(variant),
        "seed": int(seed),
        "families": [op["name"] for op in variant_made.ops],
        "ops": variant_made.ops,
        "fallbacks": variant_made.fallbacks,
        **variant_made.shrink.record(),
        "randomness": variant_made.randomness,
        "kernels": variant_made.kernels,
        **source_info,
    }


def record_json(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))
