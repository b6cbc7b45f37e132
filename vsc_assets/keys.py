"""Partition keys that follow the data: fixed-size, self-describing ranges of ids.

A key such as ``000500-000999`` names the ids it covers, so its work never
depends on settings. New data only appends keys; existing keys keep their
meaning (the last one may grow until it is full). A key is parsed once, at the
asset boundary, into an ``IdRange``; everything below works with that.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

KEY_RE = re.compile(r"^(\d{6})-(\d{6})$")


@dataclass(frozen=True, order=True)
class IdRange:
    """The ids ``first`` to ``last``, both included."""

    first: int
    last: int

    @classmethod
    def parse(cls, key: str) -> IdRange:
        match = KEY_RE.match(key)
        if not match:
            raise ValueError(f"partition key {key!r} is not of the form 000000-000499")
        first, last = int(match.group(1)), int(match.group(2))
        if last < first:
            raise ValueError(f"partition key {key!r} ends before it starts")
        return cls(first, last)

    @property
    def key(self) -> str:
        return range_key(self.first, self.last)

    def __contains__(self, n: int) -> bool:
        return self.first <= n <= self.last

    def __iter__(self):
        return iter(range(self.first, self.last + 1))

    def shifted(self, offset: int) -> IdRange:
        return IdRange(self.first + offset, self.last + offset)


def range_key(first: int, last: int) -> str:
    return f"{first:06d}-{last:06d}"


def keys_to_add(ids, existing: list[str], per_partition: int) -> list[str]:
    """New keys so that every id is covered; each new key is a chunk of ``per_partition``
    aligned ids, narrowed where existing keys already cover part of it.

    One binary search per id: registering a million ids against hundreds of keys stays fast.
    """
    if per_partition < 1:
        raise ValueError("per_partition must be at least 1")
    ranges = sorted(IdRange.parse(k) for k in existing)
    starts = [r.first for r in ranges]
    added: list[tuple[int, int]] = []
    for n in sorted(set(ids)):
        if added and n <= added[-1][1]:
            continue  # ids ascend: only the last key added can cover n
        i = bisect.bisect_right(starts, n) - 1  # the existing key starting at or before n
        if i >= 0 and n <= ranges[i].last:
            continue
        first = (n // per_partition) * per_partition
        last = first + per_partition - 1
        if i >= 0:
            first = max(first, ranges[i].last + 1)
        if added:
            first = max(first, added[-1][1] + 1)
        if i + 1 < len(ranges):
            last = min(last, ranges[i + 1].first - 1)
        added.append((first, last))
    return [range_key(a, b) for a, b in added]
