"""The JSON-safe record carried by every output file (albumentations' ReplayCompose idea)."""

from __future__ import annotations

import json


def make_record(
    set_name: str,
    base_seed: int,
    source_id: str,
    variant: int,
    seed: int,
    ops: list[dict],
    fallbacks: list[dict],
    source_info: dict,
) -> dict:
    return {
        "set": set_name,
        "base_seed": int(base_seed),
        "source_id": source_id,
        "variant": int(variant),
        "seed": int(seed),
        "families": [op["name"] for op in ops],
        "ops": ops,
        "fallbacks": fallbacks,
        **source_info,
    }


def record_json(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))
