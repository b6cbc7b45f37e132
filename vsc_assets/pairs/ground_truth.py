"""Reading train_matching_ground_truth.csv; every row it can't use is named with a reason."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

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
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)}", f"the header must be {','.join(COLUMNS)}")
        rows, rejected = [], []
        for i, record in enumerate(reader):
            try:
                rows.append(_parse_row(i, record))
            except ValueError as exc:
                rejected.append({"row": i, "reason": str(exc)})
    return rows, rejected


def _parse_row(i: int, record: dict) -> GtRow:
    query_id = (record["query_id"] or "").strip()
    ref_id = (record["ref_id"] or "").strip()
    id_number(query_id, "query")
    id_number(ref_id, "reference")
    times = []
    for column in COLUMNS[2:]:
        text = (record[column] or "").strip()
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
