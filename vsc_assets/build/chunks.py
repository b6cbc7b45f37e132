"""Partition keys that follow the data: fixed-size, self-describing ranges of source ids.

A key such as ``000500-000999`` names the pids it covers, so its work never
depends on settings. New data only appends keys; existing keys keep their
meaning (the last one may grow until it is full).
"""

from __future__ import annotations

import bisect
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


def keys_to_add(ids, existing: list[str], per_partition: int) -> list[str]:
    """New keys so that every id is covered; each new key is a chunk of ``per_partition``
    aligned ids, narrowed where existing keys already cover part of it.

    One binary search per id: registering a million ids against hundreds of keys stays fast.
    """
    if per_partition < 1:
        raise ValueError("per_partition must be at least 1")
    ranges = sorted(parse_range_key(k) for k in existing)
    starts = [a for a, _ in ranges]
    added: list[tuple[int, int]] = []
    for n in sorted(set(ids)):
        if added and n <= added[-1][1]:
            continue  # ids ascend: only the last key added can cover n
        i = bisect.bisect_right(starts, n) - 1  # the existing key starting at or before n
        if i >= 0 and n <= ranges[i][1]:
            continue
        first = (n // per_partition) * per_partition
        last = first + per_partition - 1
        if i >= 0:
            first = max(first, ranges[i][1] + 1)
        if added:
            first = max(first, added[-1][1] + 1)
        if i + 1 < len(ranges):
            last = min(last, ranges[i + 1][0] - 1)
        added.append((first, last))
    return [range_key(a, b) for a, b in added]
