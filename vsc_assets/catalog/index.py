"""Input folders listed once and kept under the root, so no step lists a million names again.

An index is a Parquet file of (name, inode, size, mtime_ns), sorted by name.
It is listed again only when its folder's own mtime moved, which is what
adding, removing or renaming a file (a replacement written elsewhere and moved
in) does; then only new names and new inodes are stat'ed. A file rewritten in
place keeps its inode and the folder's mtime; the sensor's fingerprints, one
``stat`` per source, catch that.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vsc_assets.io.atomic import write_bytes_atomic

INDEX_SCHEMA = pa.schema([("name", pa.string()), ("inode", pa.uint64()), ("size", pa.int64()), ("mtime_ns", pa.int64())])
# A folder modified this shortly before it was listed may have changed while it
# was listed (and mtimes are coarser than a nanosecond): such an index is not
# trusted, and the next look lists the folder again.
QUIET_NS = 2_000_000_000
_DIR_MTIME, _LISTED_AT = b"vsc_assets.dir_mtime_ns", b"vsc_assets.listed_at_ns"


@dataclass(frozen=True)
class Listing:
    """One folder's files, sorted by name; ``relisted`` says whether this look read the folder."""

    folder: Path
    table: pa.Table
    relisted: bool

    def __len__(self) -> int:
        return self.table.num_rows

    def names(self, start: int = 0, stop: int | None = None, step: int = 1) -> list[str]:
        stop = len(self) if stop is None else min(stop, len(self))
        if start >= stop:
            return []
        return self.table.column("name").slice(start, stop - start).to_pylist()[::step]

    def paths(self, start: int = 0, stop: int | None = None, step: int = 1) -> list[Path]:
        return [self.folder / n for n in self.names(start, stop, step)]


def _scan(folder: Path, keep: Callable[[str], bool], before: pa.Table | None) -> pa.Table:
    """List the folder; stat only names that are new or whose inode changed since ``before``
    (a file replaced by a rename has a new inode; one rewritten in place is the fingerprints' job)."""
    names, inodes = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                if keep(entry.name) and entry.is_file():  # the entry's type: no stat for a plain file
                    names.append(entry.name)
                    inodes.append(entry.inode())
            except OSError:  # removed while listed, or a dangling link
                continue
    listed = pa.table({"name": names, "inode": pa.array(inodes, pa.uint64())})
    if before is not None and before.num_rows:
        previous = before.rename_columns(["name", "inode_before", "size", "mtime_ns"])
        joined = listed.join(previous, keys="name", join_type="left outer")
        same = pc.fill_null(pc.equal(joined["inode"], joined["inode_before"]), False)
        kept = joined.filter(same).select(list(INDEX_SCHEMA.names))
        to_stat = joined.filter(pc.invert(same)).column("name").to_pylist()
    else:
        kept, to_stat = INDEX_SCHEMA.empty_table(), names
    stat_rows: dict[str, list] = {"name": [], "inode": [], "size": [], "mtime_ns": []}
    fd = os.open(folder, os.O_RDONLY)
    try:
        for name in to_stat:
            try:
                st = os.stat(name, dir_fd=fd)  # relative to the open folder: nothing to resolve
            except OSError:
                continue
            for column, value in zip(stat_rows, (name, st.st_ino, st.st_size, st.st_mtime_ns)):
                stat_rows[column].append(value)
    finally:
        os.close(fd)
    stated = pa.table(stat_rows, schema=INDEX_SCHEMA)
    return pa.concat_tables([kept.cast(INDEX_SCHEMA), stated]).sort_by("name").combine_chunks()


def _read(index_file: Path) -> tuple[pa.Table, int, int] | None:
    try:
        table = pq.read_table(index_file)
    except (OSError, pa.ArrowException):
        return None  # absent or unreadable: list again
    meta = table.schema.metadata or {}
    if _DIR_MTIME not in meta or _LISTED_AT not in meta or table.schema.remove_metadata() != INDEX_SCHEMA:
        return None
    return table.replace_schema_metadata(None), int(meta[_DIR_MTIME]), int(meta[_LISTED_AT])


def _write(index_file: Path, table: pa.Table, dir_mtime_ns: int, listed_at_ns: int) -> None:
    meta = {_DIR_MTIME: str(dir_mtime_ns).encode(), _LISTED_AT: str(listed_at_ns).encode()}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buffer)
    write_bytes_atomic(index_file, buffer.getvalue(), make_parents=True)


# Indexes this process read or wrote, so that one command (plan, preflight, register) or a
# long-lived sensor process reads each once; trusted on the same terms as the file.
_MEMO: dict[Path, tuple[pa.Table, int, int]] = {}


def forget() -> None:
    """Drop what this process remembers (the scale benchmark measures cold looks)."""
    _MEMO.clear()


def refresh(folder: Path, index_file: Path, keep: Callable[[str], bool]) -> Listing:
    """The folder's files whose name ``keep`` accepts: from the index while the folder is unchanged."""
    try:
        dir_mtime = os.stat(folder).st_mtime_ns
    except FileNotFoundError:
        return Listing(folder, INDEX_SCHEMA.empty_table(), relisted=True)
    before = None
    for look in (_MEMO.get, _read):
        cached = look(index_file)
        if cached is not None:
            table, stored_mtime, listed_at = cached
            if stored_mtime == dir_mtime and listed_at - stored_mtime > QUIET_NS:
                _MEMO[index_file] = cached
                return Listing(folder, table, relisted=False)
            before = table
            break
    listed_at = time.time_ns()
    table = _scan(folder, keep, before)
    _MEMO[index_file] = (table, dir_mtime, listed_at)
    try:
        _write(index_file, table, dir_mtime, listed_at)
    except OSError:
        pass  # a read-only root still works; it lists every time
    return Listing(folder, table, relisted=True)
