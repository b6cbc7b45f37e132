"""Partition keys that follow the data: fixed-size, self-describing ranges of source ids.

A key such as ``000500-000999`` names the pids it covers, so its work never
depends on settings. New data only appends keys; existing keys keep their
meaning (the last one may grow until it is full).
"""

from __future__ import annotations

import re

KEY_RE = re.compile(r"^(\d{6})-(\d{6})$")


def range_key(first: int, last: int) -> str:
    return f"{first:06d}-{last:06d}"


def parse_range_key(key: str) -> tuple[int, int]:
    match = KEY_RE.match(key)
    if not match:
        raise ValueError(f"partition key {key!r} is not of the form 000000-000499")
    first, last = int(match.group(1)), int(match.group(2))
    if last < first:
        raise ValueError(f"partition key {key!r} ends before it starts")
    return first, last


def keys_to_add(count: int, existing: list[str], per_partition: int) -> list[str]:
    """Keys needed so that ids 0..count-1 are covered, continuing after the existing ones."""
    if per_partition < 1:
        raise ValueError("per_partition must be at least 1")
    covered = max((parse_range_key(k)[1] for k in existing), default=-1)
    keys = []
    first = covered + 1
    while first < count:
        keys.append(range_key(first, first + per_partition - 1))
        first += per_partition
    return keys
