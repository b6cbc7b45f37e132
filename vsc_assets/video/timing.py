"""Which frame is on screen when: pure arithmetic on presentation timestamps."""

from __future__ import annotations

import bisect
import math
from fractions import Fraction


def one_second_times(duration: Fraction | float) -> list[int]:
    """k = 0, 1, 2, ... while k <= duration - 1 (docs/recipe.md, artifact 3)."""
    if duration < 1:
        return []
    return list(range(math.floor(duration - 1) + 1))


def on_screen_index(frame_times: list[Fraction], t: Fraction | float) -> int:
    """Index of the frame on screen at time t: the last one shown at or before t."""
    t = Fraction(t)
    return max(0, bisect.bisect_right(frame_times, t) - 1)


def middle_second(seconds: list[int]) -> int:
    """The middle of the 1-fps seconds 0..K-1 (K // 2), by number, not by file-name sort."""
    if not seconds:
        raise ValueError("no second to choose from")
    return seconds[len(seconds) // 2]
