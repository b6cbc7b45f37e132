"""Parquet manifests: one row per output file (and per skipped input), written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vsc_assets.io.atomic import TEMP_PREFIX, TEMP_SUFFIX


def write_manifest(path: Path, rows: list[dict], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    tmp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{path.name}{TEMP_SUFFIX}")
    try:
        pq.write_table(table, tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_manifest(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def read_manifest_frame(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()


AUGMENTED_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("pid", pa.int64()),
        ("variant", pa.int64()),
        ("source_file", pa.string()),
        ("record", pa.string()),
        ("error", pa.string()),
    ]
)
