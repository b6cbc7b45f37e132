"""Parquet manifests: one row per output file (and per skipped input), written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vsc_assets.io.atomic import TEMP_PREFIX, TEMP_SUFFIX


def write_manifest(path: Path, rows: list[dict] | pd.DataFrame, schema: pa.Schema) -> None:
    """``rows``: dicts, or a table already in pandas (its columns in the schema's order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(rows, pd.DataFrame):
        # Only the schema's own metadata: the file is the same whichever way its rows came.
        table = pa.Table.from_pandas(rows, schema=schema, preserve_index=False).replace_schema_metadata(schema.metadata)
    else:
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
