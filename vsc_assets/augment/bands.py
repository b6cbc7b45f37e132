"""Large images a band of rows at a time: a float copy of a whole 8 Mpx image would be hundreds of MB."""

from __future__ import annotations

from typing import Iterator

BAND_VALUES = 2**21  # values a band holds: a few MB of floats, whatever the image


def row_bands(height: int, values_per_row: int, budget: int | None = None) -> Iterator[slice]:
    """The rows of an image, in order, as slices of at most ``budget`` values (at least one row each)."""
    rows = max(1, (budget or BAND_VALUES) // max(1, values_per_row))
    for top in range(0, height, rows):
        yield slice(top, min(height, top + rows))
