"""Errors about the data root that no retry can fix."""

from __future__ import annotations


class InputError(ValueError):
    """A wrong or missing input (a folder, a file, an empty pool): the message names it, ``hint`` says what to do.

    Deterministic: running again changes nothing until the root is fixed, so
    the Dagster layer fails such a step without retrying it.
    """

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def not_materialized(manifest, asset: str, partition_key: str) -> InputError:
    """An upstream partition a step reads has no manifest yet."""
    return InputError(
        f"{manifest}: {asset} partition {partition_key} has not been materialized",
        f"materialize {asset} for {partition_key} first",
    )
