"""Temp-then-rename writes: a reader sees the old file or the whole new one, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".part"


def write_bytes_atomic(path: str | os.PathLike, data: bytes, make_parents: bool = False) -> None:
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden and not ending in the real suffix: no reader globbing *.jpg sees it.
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(folder: str | os.PathLike) -> int:
    """Delete temp files a killed writer left behind; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    count = 0
    for p in folder.iterdir():
        if p.name.startswith(TEMP_PREFIX):
            p.unlink(missing_ok=True)
            count += 1
    return count
