"""Reading train_matching_ground_truth.csv; every row it can't use is named with a reason."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vsc_assets.errors import InputError
from vsc_assets.video.ids import id_number

COLUMNS = ("query_id", "ref_id", "query_start", "query_end", "ref_start", "ref_end")


@dataclass(frozen=True)
class GtRow:
    row: int  # 0-based data row in the CSV
    query_id: str
    ref_id: str
    query_start: float
    query_end: float
    ref_start: float
    ref_end: float

    @property
    def rate(self) -> float:
        return (self.ref_end - self.ref_start) / (self.query_end - self.query_start)


def parse_ground_truth(path: Path) -> tuple[list[GtRow], list[dict]]:
    """Rows that are well-formed, and rejected rows as {row, reason}."""
    if not path.is_file():
        raise InputError(f"{path}: the ground-truth CSV is missing", "put the VSC training ground truth there: the pair assets read it")
    # Every cell as text, as written ("NA" is not a missing value here); a line with more cells
    # than the header keeps the first ones, a line with fewer reads its missing cells as empty.
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: the ground-truth CSV can't be read ({exc})", f"the header must be {','.join(COLUMNS)}") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}", f"the header must be {','.join(COLUMNS)}")
    frame = pd.read_csv(
        path, dtype=str, keep_default_na=False, usecols=list(COLUMNS), engine="python",
        on_bad_lines=lambda cells: cells[: len(header)],
    ).fillna("")  # fmt: skip
    rows, rejected = [], []
    for i, record in enumerate(frame.to_dict("records")):
        try:
            rows.append(_parse_row(i, record))
        except ValueError as exc:
            rejected.append({"row": i, "reason": str(exc)})
    return rows, rejected


def _parse_row(i: int, record: dict) -> GtRow:
    query_id = record["query_id"].strip()
    ref_id = record["ref_id"].strip()
    id_number(query_id, "query")
    id_number(ref_id, "reference")
    times = []
    for column in COLUMNS[2:]:
        text = record[column].strip()
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{column} {text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{column} {text!r} is not a finite number")
        times.append(value)
    qs, qe, rs, re_ = times
    if qe <= qs:
        raise ValueError(f"query_end {qe} <= query_start {qs}")
    if re_ <= rs:
        raise ValueError(f"ref_end {re_} <= ref_start {rs}")
    if qs < 0 or rs < 0:
        raise ValueError("negative start time")
    return GtRow(i, query_id, ref_id, qs, qe, rs, re_)
